"""The `decimal` read option: when detection cannot decide, the user says which mark is the decimal one."""

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from loadbay.imports.validate import number_text
from tests.imports.conftest import Live, commit, map_as_suggested, stage, upload


@pytest.mark.parametrize(
    ("text", "decimal", "plain"),
    [
        ("3,50", ",", "3.50"),
        ("1.234,56", ",", "1234.56"),
        ("1.234", ",", "1234"),
        ("1 234 567,5", ",", "1234567.5"),
        ("-1\u00a0234,5", ",", "-1234.5"),
        ("1,234.56", ".", "1234.56"),
        ("1,234", ".", "1234"),
        ("3,50", ".", "3,50"),  # not a grouping: left for coerce() to refuse, never 350
        ("1.234,56", ".", "1.234,56"),
        ("12.34.56", ",", "12.34.56"),
        ("3,50", None, "3,50"),
    ],
)
def test_number_text_with_a_chosen_mark(text: str, decimal: str | None, plain: str) -> None:
    assert number_text(text, decimal_comma=False, decimal=decimal) == plain


def test_detected_decimal_comma_reads_only_forms_no_other_reading_fits() -> None:
    assert number_text("3,50", decimal_comma=True, decimal=None) == "3.50"
    assert number_text("1.234,56", decimal_comma=True, decimal=None) == "1234.56"
    # A lone dot group stays as it is without the option: it could be 1.234.
    assert number_text("1.234", decimal_comma=True, decimal=None) == "1.234"


async def _staged_prices(live: Live, imp: dict[str, Any]) -> dict[str, Any]:
    r = await live.client.get(live.url(f"/imports/{imp['id']}/rows"), headers=live.editor)
    assert r.status_code == 200, r.text
    return {row["data"]["sku"]: (row["data"].get("price"), row["status"]) for row in r.json()["items"]}


async def test_a_decimal_comma_chosen_for_a_column_detection_could_not_decide(
    catalog: Live, tmp_path: Path
) -> None:
    live = catalog
    path = tmp_path / "prices.csv"
    path.write_text(
        "sku;name;price\nD-1;One;3,50\nD-2;Two;1.234,56\nD-3;Three;2.000\nD-4;Four;1 234,5\n",
        encoding="utf-8",
    )
    imp = await upload(live, path)
    assert imp["profile"]["decimal"] is None
    r = await live.client.put(
        live.url(f"/imports/{imp['id']}/options"), json={"decimal": ","}, headers=live.editor
    )
    assert r.status_code == 200, r.text
    assert (r.json()["profile"]["decimal"], r.json()["profile"]["decimal_comma"]) == (",", True)
    imp = await stage(live, (await map_as_suggested(live, r.json()))["id"])
    assert imp["counts"]["valid"] == 4, imp
    got = await _staged_prices(live, imp)
    assert {k: Decimal(v) for k, (v, _) in got.items()} == {
        "D-1": Decimal("3.50"),
        "D-2": Decimal("1234.56"),
        "D-3": Decimal("2000"),
        "D-4": Decimal("1234.5"),
    }
    done = await commit(live, imp["id"])
    assert done["counts"]["created"] == 4


async def test_a_decimal_point_chosen_reads_comma_thousands_and_refuses_a_decimal_comma(
    catalog: Live, tmp_path: Path
) -> None:
    live = catalog
    path = tmp_path / "prices.csv"
    path.write_text('sku,name,price\nP-1,One,"1,234.56"\nP-2,Two,"3,50"\nP-3,Three,2.5\n', encoding="utf-8")
    r = await live.client.post(
        live.url("/imports"),
        json={"entity": "products", "file_name": path.name, "options": {"decimal": "."}},
        headers=live.editor,
    )
    assert r.status_code == 201, r.text
    r = await live.client.put(
        live.url(f"/imports/{r.json()['id']}/file"),
        content=path.read_bytes(),
        headers={**live.editor, "Content-Type": "application/octet-stream"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["profile"]["decimal"] == "."
    imp = await stage(live, (await map_as_suggested(live, r.json()))["id"])
    got = await _staged_prices(live, imp)
    assert Decimal(got["P-1"][0]) == Decimal("1234.56")
    assert Decimal(got["P-3"][0]) == Decimal("2.5")
    assert got["P-2"][1] == "invalid"  # "3,50" is never 350


async def test_the_decimal_option_takes_only_a_point_or_a_comma(catalog: Live, tmp_path: Path) -> None:
    live = catalog
    r = await live.client.post(
        live.url("/imports"), json={"entity": "products", "options": {"decimal": ";"}}, headers=live.editor
    )
    assert r.status_code == 422, r.text
    assert r.json()["fields"][0]["field"] == "options.decimal"
