"""Column type inference: the narrowest type that coerce accepts for ≥ 95% of the non-blank samples."""

import csv
import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from loadbay.imports.infer import infer_key_candidates, infer_type
from loadbay.schema.types import FieldType, Rules, ValueError_, coerce
from tests.helpers import ROOT

GENERATOR = ROOT / "bench" / "gen_products.py"


def products_csv(tmp_path: Path, rows: int, *extra: str) -> tuple[list[str], list[list[str]]]:
    out = tmp_path / "products.csv"
    args = [sys.executable, str(GENERATOR), "--rows", str(rows), "--out", str(out), *extra]
    subprocess.run(args, check=True, capture_output=True)
    with out.open(newline="", encoding="utf-8") as f:
        header, *data = list(csv.reader(f))
    return header, data


def test_blanks_are_ignored_but_counted() -> None:
    t = infer_type(["1", "", None, "  ", "2", "3"])
    assert t.type == FieldType.integer
    assert t.blank_count == 3
    assert t.sample_size == 6
    assert t.non_blank == 3


def test_an_all_blank_column_is_string_with_no_confidence() -> None:
    t = infer_type(["", None, " "])
    assert (t.type, t.confidence, t.blank_count) == (FieldType.string, 0.0, 3)
    assert infer_type([None, None]).blank_count == 2
    assert infer_type([]).type == FieldType.string


def test_whole_numbers_are_integers() -> None:
    assert infer_type(["12", "-3", "+7", "1_000", "42.0"] * 4).type == FieldType.integer


def test_zero_one_columns_stay_numbers_but_words_make_flags() -> None:
    assert infer_type(["0", "1", "1", "0"] * 5).type == FieldType.integer
    assert infer_type(["yes", "no", "Yes", "NO"] * 5).type == FieldType.boolean
    assert infer_type(["true", "false", "1", "0"] * 5).type == FieldType.boolean
    assert infer_type([True, False, None] * 5).type == FieldType.boolean


def test_decimals_with_a_dot() -> None:
    t = infer_type(["3.50", "12", "0.99", "1e3"] * 5)
    assert (t.type, t.decimal_comma) == (FieldType.decimal, False)


def test_a_consistent_decimal_comma_is_accepted_and_reported() -> None:
    t = infer_type(["3,50", "12", "0,99", "1250,5"] * 5)
    assert (t.type, t.decimal_comma) == (FieldType.decimal, True)


def test_commas_that_look_like_thousands_separators_are_not_decimals() -> None:
    t = infer_type(["1,250", "12,000", "3,500"] * 5)
    assert t.type == FieldType.string
    assert not t.decimal_comma


def test_a_comma_beside_dot_decimals_is_not_a_decimal_comma() -> None:
    t = infer_type(["3,50", "2.25", "1.234,50", "7"] * 5)
    assert t.type == FieldType.string
    assert not t.decimal_comma


def test_dates_and_date_times() -> None:
    assert infer_type(["2024-01-31", "1999-12-01"] * 5).type == FieldType.date
    stamps = ["2024-01-31T10:00:00Z", "2024-02-01 08:30", "2024-03-01T23:59:59.5+02:00"]
    assert infer_type(stamps * 5).type == FieldType.datetime
    # A date is a date-time at midnight, so a mix of both is a date-time column.
    assert infer_type(["2024-01-31", "2024-02-01T08:30:00Z"] * 5).type == FieldType.datetime
    assert infer_type(["2024-13-01", "2024-00-10"] * 5).type == FieldType.string
    assert infer_type(["31/01/2024", "01/02/2024"] * 5).type == FieldType.string


def test_emails_and_links() -> None:
    emails = [f"user{i}@example.com" for i in range(20)]
    assert infer_type(emails).type == FieldType.email
    links = [f"https://example.com/p/{i}?x=1" for i in range(20)]
    assert infer_type(links).type == FieldType.url
    # Shaped like addresses but refused by the email check: coerce has the last word.
    assert infer_type([f"user{i}@example.invalid" for i in range(20)]).type == FieldType.string


def test_five_percent_of_misfits_are_tolerated() -> None:
    t = infer_type([str(i) for i in range(97)] + ["n/a", "unknown", "?"])
    assert t.type == FieldType.integer
    assert t.confidence == 0.97
    t = infer_type([str(i) for i in range(90)] + ["n/a"] * 10)
    assert t.type == FieldType.string
    assert t.confidence < 0.6, "a column that almost was numeric is an unsure string"


def test_few_samples_give_less_confidence() -> None:
    assert infer_type(["1"]).confidence < infer_type(["1"] * 5).confidence < infer_type(["1"] * 10).confidence
    assert infer_type(["1"] * 10).confidence == 1.0


def test_long_or_multi_line_values_are_text() -> None:
    assert infer_type(["short", "two\nlines", "plain"]).type == FieldType.text
    assert infer_type(["x" * 300] * 3 + ["short"]).type == FieldType.text
    # One overlong value (a bad row) does not turn a name column into text.
    names = [f"Name {i}" for i in range(50)] + ["y" * 300]
    t = infer_type(names)
    assert (t.type, t.max_length) == (FieldType.string, 300)


def test_max_length_is_of_trimmed_values() -> None:
    assert infer_type(["  abc  ", "de"]).max_length == 3


def test_low_cardinality_string_columns_suggest_enum_values() -> None:
    colours = ["red", "Green", "blue", "green", "RED", "green "] * 5
    t = infer_type(colours)
    assert t.type == FieldType.string
    assert t.enum_values == ("blue", "green", "red"), "one spelling each, the most frequent"
    assert infer_type(colours[:29]).enum_values is None, "29 samples are too few"
    assert infer_type([" red"] * 30).enum_values == ("red",)
    many = [f"v{i % 21}" for i in range(60)]
    assert infer_type(many).enum_values is None, "21 distinct values are too many"
    assert infer_type(["0", "1"] * 20).enum_values is None, "numbers are no enum"


def test_typed_cells_count_as_they_are() -> None:
    assert infer_type([1, 2, 3, None]).type == FieldType.integer
    assert infer_type([1.0, 2.0, 30.0]).type == FieldType.integer
    assert infer_type([1.5, 2, 3.25]).type == FieldType.decimal
    assert infer_type([Decimal("1.5"), Decimal("2")]).type == FieldType.decimal
    assert infer_type([date(2024, 1, 1), date(2024, 2, 1)]).type == FieldType.date
    # Spreadsheets keep plain dates as midnight date-times.
    assert infer_type([datetime(2024, 1, 1), datetime(2024, 2, 1)]).type == FieldType.date
    assert infer_type([datetime(2024, 1, 1, 9, 30), datetime(2024, 2, 1, tzinfo=UTC)]).type == (
        FieldType.datetime
    )
    assert infer_type([{"a": 1}, [1, 2]]).type == FieldType.json
    assert infer_type([float("nan"), 1.5, "x"]).type == FieldType.string
    assert infer_type([2**70, 3]).type == FieldType.decimal, "beyond 64 bits only a decimal fits"


def test_typed_and_text_cells_mix() -> None:
    assert infer_type([1, "2", 3.0, " 4 "]).type == FieldType.integer
    assert infer_type([True, "no", 1]).type == FieldType.boolean


def test_the_generated_product_file(tmp_path: Path) -> None:
    header, data = products_csv(tmp_path, 200)
    types = {h: infer_type([row[i] for row in data]).type for i, h in enumerate(header)}
    assert types == {"name": FieldType.string, "sku": FieldType.string, "description": FieldType.text}


def test_a_thousand_rows_of_each_kind_of_column() -> None:
    expected = {
        "int": FieldType.integer,
        "dec": FieldType.decimal,
        "comma": FieldType.decimal,
        "flag": FieldType.boolean,
        "date": FieldType.date,
        "stamp": FieldType.datetime,
        "email": FieldType.email,
        "url": FieldType.url,
        "name": FieldType.string,
        "typed": FieldType.decimal,
    }
    assert {kind: infer_type(_column(kind, 1000)).type for kind in _KINDS} == expected
    assert infer_type(_column("comma", 1000)).decimal_comma


_KINDS = ["int", "dec", "comma", "flag", "date", "stamp", "email", "url", "name", "typed"]


def _column(kind: str, n: int) -> list[Any]:
    if kind == "int":
        return [str(i * 37 - 500) if i % 40 else "" for i in range(n)]
    if kind == "dec":
        return [f"{i / 7:.2f}" for i in range(n)]
    if kind == "comma":
        return [f"{i / 7:.2f}".replace(".", ",") for i in range(n)]
    if kind == "flag":
        return ["yes" if i % 3 else "no" for i in range(n)]
    if kind == "date":
        return [date.fromordinal(730000 + i).isoformat() for i in range(n)]
    if kind == "stamp":
        return [f"{date.fromordinal(730000 + i).isoformat()}T{i % 24:02d}:15:00Z" for i in range(n)]
    if kind == "email":
        return [f"person.{i}@example.com" for i in range(n)]
    if kind == "url":
        return [f"https://example.com/items/{i}" for i in range(n)]
    if kind == "name":
        return [f"Portable Steel Kettle {i} Pro" for i in range(n)]
    return [i * 1.5 for i in range(n)]


# --- the fast shapes agree with coerce -----------------------------------------------------------

_CELLS = st.one_of(
    st.integers(-(10**17), 10**17).map(str),
    st.floats(-1e6, 1e6, allow_nan=False).map(lambda x: f"{x:.3f}"),
    st.dates().map(date.isoformat),
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
    st.sampled_from(["", " ", "yes", "no", "0", "1", "N/A", "widget", "1,5", "12-3", "+", "1e5", ".5"]),
)
_ORDER = [FieldType.integer, FieldType.decimal, FieldType.date, FieldType.datetime]


def _share(t: FieldType, values: list[str]) -> float:
    ok = 0
    for v in values:
        try:
            coerce(Rules(type=t), v)
        except ValueError_:
            continue
        ok += 1
    return ok / len(values)


@settings(max_examples=300, deadline=None)
@given(st.lists(_CELLS, min_size=1, max_size=60))
def test_the_inferred_type_is_what_coerce_accepts(cells: list[str]) -> None:
    """The chosen type takes ≥ 95% of the values, and no narrower type would."""
    t = infer_type(cells)
    values = [c for c in cells if c.strip()]
    if not values:
        assert t.type == FieldType.string
        return
    if t.type in _ORDER and not t.decimal_comma:
        assert _share(t.type, values) >= 0.95
    narrower = _ORDER[: _ORDER.index(t.type)] if t.type in _ORDER else _ORDER
    for other in narrower:
        assert _share(other, values) < 0.95, f"{other} fits better than {t.type}"


# --- key candidates ------------------------------------------------------------------------------


def test_key_candidates_of_the_generated_product_file(tmp_path: Path) -> None:
    header, data = products_csv(tmp_path, 50, "--dup-rate", "0", "--bad-rate", "0")
    columns = {h: [row[i] for row in data] for i, h in enumerate(header)}
    # Descriptions are unique too, but long text is no key; two products share a name.
    assert infer_key_candidates(columns) == ["sku"]
    del columns["description"]
    columns["name"] = [f"{name} {i}" for i, name in enumerate(columns["name"])]
    assert infer_key_candidates(columns) == ["sku", "name"]


def test_duplicate_skus_in_another_case_rule_a_column_out(tmp_path: Path) -> None:
    header, data = products_csv(tmp_path, 300, "--dup-rate", "0.05")
    columns = {h: [row[i] for row in data] for i, h in enumerate(header)}
    assert "sku" not in infer_key_candidates(columns)


def test_key_candidates_are_unique_non_blank_and_ordered_by_name() -> None:
    columns: dict[str, list[Any]] = {
        "Title": ["a", "b", "c"],
        "Colour": ["red", "red", "blue"],
        "Email": ["a@example.com", "b@example.com", "c@example.com"],
        "Code": ["X1", "x1 ", "X2"],
        "Notes": ["one", "", "three"],
        "productId": [1, 2, 3],
        "Price": ["1.50", "2.50", "3.50"],
        "In stock": [True, False, None],
    }
    assert infer_key_candidates(columns) == ["productId", "Email", "Title", "Price"]
    assert infer_key_candidates({"empty": []}) == []
