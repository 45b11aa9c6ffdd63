"""Property tests: the parsers of client input (records cursors, If-Match versions, id lists) turn any
input into a parsed value or the 4xx error of the error model, never another exception."""

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from loadbay.core.versions import if_match_version
from loadbay.errors import Invalid
from loadbay.imports.schemas import RowSelection
from loadbay.records import query
from loadbay.records.schemas import BulkAction
from loadbay.schema.models import FieldDef

FIELDS = [
    FieldDef(key="name", type="string"),
    FieldDef(key="price", type="decimal"),
    FieldDef(key="stock", type="integer"),
    FieldDef(key="active", type="boolean"),
    FieldDef(key="launched", type="date"),
]
SORTS = [
    query.sort_of(dialect, FIELDS, name, descending)
    for dialect in ("postgresql", "sqlite")
    for name in ("id", "key", "created_at", "name", "price", "stock", "active")
    for descending in (False, True)
]
PYTHON_TYPES = {"s": str, "i": int, "f": float, "b": bool}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=4),
    max_leaves=12,
)
tagged = st.dictionaries(
    st.sampled_from(["s", "i", "f", "b", "d", "t", "x"]), json_values, min_size=1, max_size=2
)
payloads = st.fixed_dictionaries(
    {},
    optional={
        "s": st.sampled_from(["id", "key", "created_at", "name", "price", "stock", "active"]) | json_values,
        "d": st.booleans() | json_values,
        "v": st.none() | tagged | json_values,
        "i": st.integers() | json_values,
        "n": st.booleans() | json_values,
    },
)


def _encode(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def _decoded_or_4xx(sort: query.Sort, raw: str) -> query.Cursor | None:
    try:
        cur = query.decode_cursor(sort, raw)
    except query.BadCursor:  # 400 invalid_cursor, in the error model
        return None
    # Whatever is accepted is a value SQL can compare with this sort's column.
    assert type(cur.id) is int
    assert 0 <= cur.id < 2**63
    if cur.value is not None:
        assert sort.tags, sort
        assert any(isinstance(cur.value, PYTHON_TYPES.get(t, object)) for t in sort.tags) or sort.name in (
            "created_at",
            "price",
            "stock",
        )
    return cur


@settings(max_examples=400, deadline=None, derandomize=True)
@given(sort=st.sampled_from(SORTS), raw=st.text(max_size=200))
def test_any_text_is_a_cursor_or_invalid_cursor(sort: query.Sort, raw: str) -> None:
    _decoded_or_4xx(sort, raw)


@settings(max_examples=600, deadline=None, derandomize=True)
@given(sort=st.sampled_from(SORTS), payload=payloads | json_values)
def test_any_json_in_a_cursor_is_a_cursor_or_invalid_cursor(sort: query.Sort, payload: Any) -> None:
    _decoded_or_4xx(sort, _encode(payload))


@pytest.mark.parametrize(
    "value",
    [{"s": ["a"]}, {"s": {"a": 1}}, {"i": 5}, {"s": 5}, {"f": 1.5}, {"i": 2**70}, {"d": "NaN"}, ["s", "a"]],
)
def test_a_cursor_value_of_the_wrong_type_for_a_text_sort_is_refused(value: Any) -> None:
    sort = query.sort_of("postgresql", FIELDS, "name", False)
    raw = _encode({"s": "name", "d": False, "v": value, "i": 1, "n": False})
    with pytest.raises(query.BadCursor):
        query.decode_cursor(sort, raw)


def test_cursors_the_app_makes_are_read_back() -> None:
    for sort, value in [
        (query.sort_of("postgresql", FIELDS, "name", False), "Widget"),
        (query.sort_of("postgresql", FIELDS, "price", True), query.Decimal("3.50")),
        (query.sort_of("sqlite", FIELDS, "stock", False), 7),
        (query.sort_of("sqlite", FIELDS, "price", False), 3.5),
        (query.sort_of("sqlite", FIELDS, "active", False), True),
        (query.sort_of("sqlite", FIELDS, "id", False), 12),
    ]:
        cur = query.decode_cursor(sort, query.encode_cursor(sort, value, 42, False))
        assert (cur.value, cur.id) == (value, 42)


@settings(max_examples=500, deadline=None, derandomize=True)
@given(header=st.text(max_size=40) | st.from_regex(r'\A\s*(W/)?"?[0-9]{1,25}"?\s*\Z'))
def test_any_if_match_is_a_version_or_invalid_if_match(header: str) -> None:
    try:
        version = if_match_version(header, "the version")
    except Invalid:  # 422 invalid_if_match, in the error model
        return
    assert version is None or 0 <= version < 2**63


@pytest.mark.parametrize("header", ["\u00b2", '"\u0661\u0662"', "\U0001d7d9", "9" * 19, '"12 "x', "W/"])
def test_if_match_takes_ascii_digits_of_a_64_bit_version_only(header: str) -> None:
    with pytest.raises(Invalid) as err:
        if_match_version(header, "the version")
    assert (err.value.status_code, err.value.code) == (422, "invalid_if_match")


def test_a_bad_cursor_is_a_400_in_the_error_model() -> None:
    assert (query.BadCursor.status_code, query.BadCursor.code) == (400, "invalid_cursor")


@settings(max_examples=300, deadline=None, derandomize=True)
@given(ids=json_values | st.lists(st.integers(min_value=-(2**80), max_value=2**80), max_size=5))
def test_any_id_list_is_ids_that_fit_a_64_bit_column_or_a_422(ids: Any) -> None:
    for model, field, top in ((BulkAction, "ids", 2**63 - 1), (RowSelection, "rows", 2**62)):
        body = {"action": "delete", field: ids} if model is BulkAction else {field: ids}
        try:
            parsed = model.model_validate(body)
        except ValidationError:
            continue
        got = getattr(parsed, field)
        assert got is None or all(type(i) is int and 1 <= i <= top for i in got)
