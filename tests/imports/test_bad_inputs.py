"""Malformed input to the staged-rows API, on both databases: a 4xx in the error model, never a 500."""

import json
from pathlib import Path
from typing import Any

import pytest

from tests.imports.conftest import Live, map_as_suggested, stage, upload


@pytest.fixture
async def staged(catalog: Live, tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "products.csv"
    path.write_text("sku,name,price\nB-1,One,1.50\nB-2,Two,2.50\n", encoding="utf-8")
    return await stage(catalog, (await map_as_suggested(catalog, await upload(catalog, path)))["id"])


def _is_error(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error", "detail", "fields"}, body
    return dict(body)


# Header bytes are read as Latin-1, where 0xB2 and 0xB9 are the digits "²" and "¹" to str.isdigit()
# (int() refuses them); also UTF-8 Arabic-Indic and fullwidth digits, and a version past 64 bits.
@pytest.mark.parametrize(
    "if_match",
    [b"\xb2", b'"1\xb9"', b'W/"\xb3"', '"\u0661"'.encode(), 'W/"\uff11"'.encode(), b"9" * 25, b'"1" "2"'],
)
async def test_if_match_that_is_not_an_ascii_version_is_a_422(
    catalog: Live, staged: dict[str, Any], if_match: bytes
) -> None:
    live = catalog
    headers: dict[str, Any] = {**live.editor, "If-Match": if_match}
    r = await live.client.patch(
        live.url(f"/imports/{staged['id']}/rows/1"), json={"name": "x"}, headers=headers
    )
    assert _is_error(r, 422)["error"] in ("invalid_if_match", "invalid"), r.text
    r = await live.client.post(
        live.url(f"/imports/{staged['id']}/rows/bulk"),
        json={"action": "discard", "selection": {"rows": [1]}},
        headers=headers,
    )
    assert _is_error(r, 422)["error"] in ("invalid_if_match", "invalid"), r.text


@pytest.mark.parametrize("bad", [2**62 + 1, 2**63, 2**64, 10**30, 0, -(2**64)])
async def test_row_numbers_past_the_column_in_a_bulk_body_are_a_422(
    catalog: Live, staged: dict[str, Any], bad: int
) -> None:
    live = catalog
    body = json.dumps({"action": "discard", "selection": {"rows": [1, bad]}})
    r = await live.client.post(
        live.url(f"/imports/{staged['id']}/rows/bulk"),
        content=body,
        headers={**live.editor, "Content-Type": "application/json"},
    )
    got = _is_error(r, 422)
    assert any(f["field"].startswith("selection.rows") for f in got["fields"]), got
    counts = (await live.client.get(live.url(f"/imports/{staged['id']}"), headers=live.editor)).json()[
        "counts"
    ]
    assert counts["valid"] == 2
