"""Parts of a delimited file read side by side give exactly what one pass over the file gives."""

import itertools
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loadbay.imports.readers.base import ReadOptions, RowProblem
from loadbay.imports.readers.csv_reader import CsvReader, Part, SplitMismatch

Outcome = tuple[list[tuple[int, list[str]]], list[tuple[int, str]]]


def one_pass(path: Path) -> Outcome:
    reader = CsvReader()
    info = reader.inspect(path, ReadOptions(), sample_rows=0)
    rows: list[tuple[int, list[str]]] = []
    problems: list[tuple[int, str]] = []
    for batch in reader.batches(path, info, ReadOptions(), batch_size=7):
        rows += [(n, list(cells)) for n, cells in batch.rows]
        problems += [(p.row, p.code) for p in batch.problems]
    return rows, problems


def by_parts(path: Path, parts: int) -> tuple[list[Part], Outcome]:
    reader = CsvReader()
    info = reader.inspect(path, ReadOptions(), sample_rows=0)
    cut = reader.split(path, info, ReadOptions(), parts=parts, min_bytes=1)
    rows: list[tuple[int, list[str]]] = []
    problems: list[RowProblem] = []
    for part in cut:
        for batch in reader.batches(path, info, ReadOptions(), batch_size=5, part=part):
            rows += [(n, list(cells)) for n, cells in batch.rows]
            problems += batch.problems
    return cut, (rows, sorted((p.row, p.code) for p in problems))


def products(n: int, seed: int, *, stray_quotes: bool = False) -> bytes:
    rnd = random.Random(seed)
    out = ["sku,name,description\r\n"]
    for i in range(n):
        desc = rnd.choice(
            ["plain", '"two\nlines"', '"with ""quotes"", and commas"', "", '"three\r\nline\nfield"']
        )
        name = rnd.choice(["Lamp", "Desk", '5" screen' if stray_quotes else "Chair", "Sofa"])
        line = f"S-{i},{name},{desc}"
        if rnd.random() < 0.05:
            line += ",extra"  # too many fields
        if rnd.random() < 0.03:
            out.append("\r\n")  # a blank line
        out.append(line + rnd.choice(["\r\n", "\n"]))
    return "".join(out).encode()


@pytest.mark.parametrize("parts", [2, 3, 8])
def test_parts_read_as_one_pass(tmp_path: Path, parts: int) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(products(400, parts))
    cut, got = by_parts(path, parts)
    assert len(cut) == parts
    assert cut[0].start is None
    assert all(a.stop == b.first_line for a, b in itertools.pairwise(cut))
    assert got == one_pass(path)


def test_a_cut_fooled_by_a_stray_quote_is_caught(tmp_path: Path) -> None:
    """A quote inside an unquoted field makes the count odd: the part before a wrong cut says so."""
    path = tmp_path / "stray.csv"
    path.write_bytes(
        b'sku,name,description\n1,5" screen,"a\nb"\n' + b"".join(b'%d,x,"c\nd"\n' % i for i in range(2, 200))
    )
    reader = CsvReader()
    info = reader.inspect(path, ReadOptions(), sample_rows=0)
    cut = reader.split(path, info, ReadOptions(), parts=2, min_bytes=1)
    assert len(cut) == 2
    with pytest.raises(SplitMismatch):
        for _ in reader.batches(path, info, ReadOptions(), part=cut[0]):
            pass


def test_no_cut_in_a_small_file_or_an_encoding_that_is_not_cut_at_bytes(tmp_path: Path) -> None:
    reader = CsvReader()
    small = tmp_path / "small.csv"
    small.write_bytes(products(50, 1))
    info = reader.inspect(small, ReadOptions(), sample_rows=0)
    assert reader.split(small, info, ReadOptions(), parts=2, min_bytes=1 << 20) == [Part(None, 1, None)]
    wide = tmp_path / "utf16.csv"
    wide.write_bytes(products(200, 2).decode().encode("utf-16"))
    info = reader.inspect(wide, ReadOptions(), sample_rows=0)
    assert reader.split(wide, info, ReadOptions(), parts=2, min_bytes=1) == [Part(None, 1, None)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.text(alphabet='ab,"\n\r', max_size=12),
        min_size=1,
        max_size=60,
    ),
    st.integers(min_value=2, max_value=6),
)
def test_any_text_reads_the_same_in_parts_or_says_the_cut_was_wrong(
    tmp_path: Path, lines: list[str], parts: int
) -> None:
    path = tmp_path / "any.csv"
    path.write_bytes(("h1,h2\n" + "\n".join(lines) + "\n").encode())
    try:
        _, got = by_parts(path, parts)
    except SplitMismatch:
        return
    assert got == one_pass(path)
