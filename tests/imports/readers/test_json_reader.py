"""JsonReader: JSON arrays, records at a path inside a document, and NDJSON."""

import json
from pathlib import Path
from typing import Any

import pytest

from loadbay.imports.readers import json_reader
from loadbay.imports.readers.base import Batch, FileInfo, ReadError, ReadOptions, RowProblem
from loadbay.imports.readers.json_reader import JsonReader

BOOKMARKS = {
    "@context": ["https://www.w3.org/ns/activitystreams", {"toot": "http://joinmastodon.org/ns#"}],
    "id": "https://social.example/users/ada/bookmarks",
    "type": "OrderedCollection",
    "totalItems": 3,
    "orderedItems": [
        {
            "type": "Bookmark",
            "url": "https://example.com/one",
            "name": "One",
            "published": "2024-01-05T10:00:00Z",
            "attributedTo": {"name": "Ada", "url": "https://social.example/@ada"},
        },
        {
            "type": "Note",
            "url": "https://example.com/two",
            "name": "Two",
            "published": "2024-02-06T11:30:00Z",
            "tag": [{"type": "Hashtag", "name": "#python"}],
        },
        {"type": "Bookmark", "url": "https://example.com/three", "name": "Three", "published": "2024-03-07"},
    ],
}


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def read_all(path: Path, options: ReadOptions | None = None, **kw: Any) -> tuple[FileInfo, list[Batch]]:
    options = options or ReadOptions()
    reader = JsonReader()
    info = reader.inspect(path, options)
    return info, list(reader.batches(path, info, options, **kw))


def rows_of(batches: list[Batch]) -> list[tuple[int, list[Any]]]:
    return [row for batch in batches for row in batch.rows]


def problems_of(batches: list[Batch]) -> list[RowProblem]:
    return [problem for batch in batches for problem in batch.problems]


@pytest.mark.parametrize("records_path", [None, "orderedItems", "$.orderedItems"])
def test_activitystreams_bookmarks(tmp_path: Path, records_path: str | None) -> None:
    path = write(tmp_path, "bookmarks.json", json.dumps(BOOKMARKS, indent=2))
    info, batches = read_all(path, ReadOptions(records_path=records_path))
    assert info.format == "json"
    assert info.records_path == "orderedItems"
    assert info.encoding == "utf-8"
    # Nested objects are flattened one level; arrays arrive as JSON text.
    assert info.columns == [
        "type",
        "url",
        "name",
        "published",
        "attributedTo.name",
        "attributedTo.url",
        "tag",
    ]
    rows = rows_of(batches)
    assert rows == info.sample
    assert [n for n, _ in rows] == [1, 2, 3]
    assert rows[0][1] == [
        "Bookmark",
        "https://example.com/one",
        "One",
        "2024-01-05T10:00:00Z",
        "Ada",
        "https://social.example/@ada",
        None,
    ]
    assert rows[1][1][6] == '[{"type":"Hashtag","name":"#python"}]'
    assert rows[2][1][:4] == ["Bookmark", "https://example.com/three", "Three", "2024-03-07"]
    assert problems_of(batches) == []


def test_records_path_detected_below_the_top_level(tmp_path: Path) -> None:
    doc = {"meta": {"count": 2}, "data": {"empty": [], "ids": [1, 2], "items": [{"a": 1}, {"a": 2}]}}
    path = write(tmp_path, "nested.json", json.dumps(doc))
    info, batches = read_all(path)
    assert info.records_path == "data.items"
    assert rows_of(batches) == [(1, [1]), (2, [2])]


def test_unknown_records_path_lists_the_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "bookmarks.json", json.dumps(BOOKMARKS))
    with pytest.raises(ReadError) as err:
        JsonReader().inspect(path, ReadOptions(records_path="items"))
    assert err.value.code == "records_path_not_found"
    assert "'orderedItems'" in err.value.message
    assert "'totalItems'" in err.value.message


def test_records_path_that_is_not_an_array(tmp_path: Path) -> None:
    path = write(tmp_path, "bookmarks.json", json.dumps(BOOKMARKS))
    with pytest.raises(ReadError) as err:
        JsonReader().inspect(path, ReadOptions(records_path="totalItems"))
    assert err.value.code == "records_path_not_array"


def test_top_level_array_with_items_that_are_not_objects(tmp_path: Path) -> None:
    path = write(tmp_path, "mixed.json", '[{"a": 1}, [1, 2], "x", 3, null, {"a": 2, "b": true}]')
    info, batches = read_all(path)
    assert info.records_path is None
    assert info.columns == ["a", "b"]
    assert rows_of(batches) == [(1, [1, None]), (6, [2, True])]
    problems = problems_of(batches)
    assert [(p.row, p.code, p.message) for p in problems] == [
        (2, "not_an_object", "expected an object, got a list"),
        (3, "not_an_object", "expected an object, got a string"),
        (4, "not_an_object", "expected an object, got a number"),
        (5, "not_an_object", "expected an object, got null"),
    ]


def test_numbers_stay_exact(tmp_path: Path) -> None:
    record = (
        '{"small": 3, "int64": 9223372036854775807, "big": 9223372036854775808, '
        f'"huge": {10**400}, "price": 19.99, "whole": 1.0, "sci": 1e3, "pi": 3.14159265358979323846264, '
        '"tiny": 1e-400, "vast": 1e400, "neg": -0.5}'
    )
    for name, content in (("n.json", f"[{record}]"), ("n.ndjson", f"{record}\n{record}\n")):
        _, batches = read_all(write(tmp_path, name, content))
        cells = dict(
            zip(json.loads(record.replace(str(10**400), "0")).keys(), rows_of(batches)[0][1], strict=True)
        )
        assert cells == {
            "small": 3,
            "int64": 2**63 - 1,
            "big": "9223372036854775808",
            "huge": str(10**400),
            "price": 19.99,
            "whole": 1,
            "sci": 1000,
            "pi": "3.14159265358979323846264",
            "tiny": "1E-400",
            "vast": "1E+400",
            "neg": -0.5,
        }, name
        assert type(cells["price"]) is float


def test_integers_longer_than_python_converts_are_refused(tmp_path: Path) -> None:
    # ijson's C backend crashes the interpreter on them; the reader stops before the parser sees one.
    path = write(tmp_path, "long.json", '[{"a": 1}, {"a": ' + "9" * 5000 + "}]")
    with pytest.raises(ReadError) as err:
        read_all(path)
    assert err.value.code == "number_too_long"
    assert "line 1" in err.value.message
    # The process is still here, and NDJSON gets a problem for just that line.
    nd = write(tmp_path, "long.ndjson", '{"a": 1}\n{"a": ' + "9" * 5000 + "}\n")
    _, batches = read_all(nd)
    assert rows_of(batches) == [(1, [1])]
    assert [(p.row, p.code) for p in problems_of(batches)] == [(2, "invalid_json")]


def test_ndjson_broken_line_is_a_problem_for_that_line_only(tmp_path: Path) -> None:
    content = (
        '\ufeff{"id": 1, "name": "Ada"}\n'
        '{"id": 2, "name": "Grace"\n'
        "\n"
        '{"id": 3, "name": NaN}\n'
        '{"id": 4, "name": "Linus", "extra": {"x": [1]}}\r\n'
        "[1, 2]\n"
        '{"id": 5, "name": "\\u00e9"}'
    )
    info, batches = read_all(write(tmp_path, "people.ndjson", content), batch_size=2)
    assert info.format == "ndjson"
    assert info.columns == ["id", "name", "extra.x"]
    assert rows_of(batches) == [(1, [1, "Ada", None]), (5, [4, "Linus", "[1]"]), (7, [5, "é", None])]
    problems = problems_of(batches)
    assert [(p.row, p.code) for p in problems] == [
        (2, "invalid_json"),
        (4, "invalid_json"),
        (6, "not_an_object"),
    ]
    assert "column" in problems[0].message
    assert "NaN" in problems[1].message
    assert all(len(b.rows) + len(b.problems) <= 2 for b in batches)


def test_ndjson_detected_from_content(tmp_path: Path) -> None:
    info = JsonReader().inspect(write(tmp_path, "upload", '{"a": 1}\n{"a": 2}\n'), ReadOptions())
    assert info.format == "ndjson"
    assert info.sample == [(1, [1]), (2, [2])]


def _the_break(batches: list[Batch]) -> RowProblem:
    [problem] = [p for b in batches for p in b.problems]
    return problem


def test_broken_array_yields_the_good_records_then_the_break_as_a_row_problem(tmp_path: Path) -> None:
    content = '[{"a": 1},\n {"a": 2},\n {"a" 3},\n {"a": 4}]'
    path = write(tmp_path, "broken.json", content)
    reader = JsonReader()
    info = reader.inspect(path, ReadOptions())
    # inspect() shows what can be read, and says where it stops.
    assert info.sample == [(1, [1]), (2, [2])]
    assert any("line 3, column 8" in w and "Only the records before it" in w for w in info.warnings)
    seen = list(reader.batches(path, info, ReadOptions()))
    assert rows_of(seen) == [(1, [1]), (2, [2])]
    problem = _the_break(seen)
    assert (problem.row, problem.code) == (3, "invalid_json")
    # The parser notices the missing colon once it has read the number: it points just past the 3.
    assert f"byte {content.index(' 3}') + 2}" in problem.message
    assert "line 3, column 8" in problem.message


def test_error_position_far_into_a_large_document(tmp_path: Path) -> None:
    good = ",\n".join(json.dumps({"id": i, "text": "lorem ipsum " * 5}) for i in range(5000))
    content = f'[{good},\n{{"id": 5000, "text": "x" "y"}}]'
    path = write(tmp_path, "large.json", content)
    reader = JsonReader()
    info = reader.inspect(path, ReadOptions())
    seen = list(reader.batches(path, info, ReadOptions(), batch_size=1000))
    assert len(rows_of(seen)) == 5000
    problem = _the_break(seen)
    assert problem.row == 5001
    # yajl stops on the closing quote of the unexpected string (and just past an unexpected number).
    offset = content.index('"x" "y"') + 6
    assert f"at byte {offset} (line 5001, column 28)" in problem.message


def test_cut_short_document(tmp_path: Path) -> None:
    path = write(tmp_path, "cut.json", '[{"a": 1},\n{"a": 2},\n{"a": ')
    reader = JsonReader()
    info = reader.inspect(path, ReadOptions())
    seen = list(reader.batches(path, info, ReadOptions()))
    assert rows_of(seen) == [(1, [1]), (2, [2])]
    problem = _the_break(seen)
    assert problem.row == 3
    assert "cut short" in problem.message


def test_broken_document_before_any_record(tmp_path: Path) -> None:
    with pytest.raises(ReadError) as err:
        JsonReader().inspect(write(tmp_path, "bad.json", '[{"a": NaN}]'), ReadOptions())
    assert err.value.code == "invalid_json"
    assert "line 1" in err.value.message


def test_deep_nesting_is_a_row_problem_not_a_crash(tmp_path: Path) -> None:
    deep = "[" * 10_000 + "]" * 10_000
    deeper = '{"a":' * 100_000 + "1" + "}" * 100_000
    path = write(tmp_path, "deep.json", f'[{{"a": 1}}, {deep}, {deeper}, {{"a": 2}}]')
    _, batches = read_all(path)
    assert rows_of(batches) == [(1, [1]), (4, [2])]
    assert [(p.row, p.code) for p in problems_of(batches)] == [(2, "too_deep"), (3, "too_deep")]

    nd = write(tmp_path, "deep.ndjson", f'{{"a": 1}}\n{{"a": {deep}}}\n{{"a": {"[" * 100 + "]" * 100}}}\n')
    _, batches = read_all(nd)
    assert rows_of(batches) == [(1, [1])]
    assert [(p.row, p.code) for p in problems_of(batches)] == [(2, "too_deep"), (3, "too_deep")]


def test_columns_from_the_first_records_and_a_warning_for_later_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(json_reader, "COLUMN_SCAN_RECORDS", 2)
    records = [
        {"id": 1, "actor": None},
        {"id": 2, "actor": {"name": "Ada"}, "Name": "x", "name": "y"},
        {"id": 3, "late": 1, "actor": {"name": "Bob", "url": "u"}},
        {"id": 4, "later": 2},
    ]
    path = write(tmp_path, "r.json", json.dumps(records))
    info, batches = read_all(path)
    # "actor" is null or an object: only its flattened column. Names differing in case are made unique.
    assert info.columns == ["id", "actor.name", "Name", "name (2)"]
    assert info.warnings[0] == "Column 4 repeats the header 'name'; it is called 'name (2)'."
    assert rows_of(batches) == [
        (1, [1, None, None, None]),
        (2, [2, "Ada", "x", "y"]),
        (3, [3, "Bob", None, None]),
        (4, [4, None, None, None]),
    ]
    assert problems_of(batches) == []
    late = [w for w in info.warnings if "no column" in w]
    assert len(late) == 1
    assert "row 3" in late[0]
    assert "'late', 'actor.url', 'later'" in late[0]


def test_single_object_is_one_record(tmp_path: Path) -> None:
    info, batches = read_all(write(tmp_path, "one.json", '{"name": "Ada", "address": {"city": "London"}}'))
    assert info.records_path is None
    assert info.columns == ["name", "address.city"]
    assert rows_of(batches) == [(1, ["Ada", "London"])]
    assert any("single object" in w for w in info.warnings)


def test_field_too_large(tmp_path: Path) -> None:
    path = write(tmp_path, "big.json", json.dumps([{"a": "x" * 50}, {"a": "ok"}]))
    _, batches = read_all(path, ReadOptions(max_field_chars=10))
    assert rows_of(batches) == [(2, ["ok"])]
    assert [(p.row, p.code) for p in problems_of(batches)] == [(1, "field_too_large")]


def test_too_many_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "wide.json", json.dumps([{f"k{i}": i for i in range(20)}]))
    with pytest.raises(ReadError) as err:
        JsonReader().inspect(path, ReadOptions(max_columns=10))
    assert err.value.code == "too_many_columns"


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "empty"),
        (b"  \n", "empty"),
        (b"name,email\n", "not_json"),
        (b"[]", "no_records"),
        (b"[1, 2, 3]", "no_records"),
        (b'"just a string"', "not_json"),
        ('[{"a": 1}]'.encode("utf-16"), "encoding"),
    ],
)
def test_files_without_records(tmp_path: Path, content: bytes, code: str) -> None:
    with pytest.raises(ReadError) as err:
        JsonReader().inspect(write(tmp_path, "x.json", content), ReadOptions())
    assert err.value.code == code


def test_batches_are_bounded_and_match_the_sample(tmp_path: Path) -> None:
    path = write(tmp_path, "many.json", json.dumps([{"i": i} for i in range(250)]))
    reader = JsonReader()
    info = reader.inspect(path, ReadOptions(), sample_rows=10)
    batches = list(reader.batches(path, info, ReadOptions(), batch_size=100))
    assert [len(b.rows) for b in batches] == [100, 100, 50]
    assert rows_of(batches)[:10] == info.sample
    assert rows_of(batches)[-1] == (250, [249])
