"""The CSV/TSV reader: every file here is generated in tmp_path by the test itself."""

import codecs
import csv
import gc
import io
import tracemalloc
from collections.abc import Generator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loadbay.imports.readers import csv_reader
from loadbay.imports.readers.base import Batch, FileInfo, ReadError, ReadOptions, RowProblem
from loadbay.imports.readers.csv_reader import SAMPLE_BYTES, CsvReader

Row = tuple[int, list[str]]


def write(tmp_path: Path, content: str | bytes, name: str = "data.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def read(
    path: Path, options: ReadOptions | None = None, *, batch_size: int = 50_000
) -> tuple[FileInfo, list[Row], list[RowProblem]]:
    options = options or ReadOptions()
    reader = CsvReader()
    info = reader.inspect(path, options)
    rows: list[Row] = []
    problems: list[RowProblem] = []
    for batch in reader.batches(path, info, options, batch_size=batch_size):
        assert isinstance(batch, Batch)
        assert all(len(cells) == len(info.columns) for _, cells in batch.rows)
        rows.extend(batch.rows)
        problems.extend(batch.problems)
    return info, rows, problems


def lines_of(rows: list[Row]) -> list[int]:
    return [line for line, _ in rows]


# --- the basics ---------------------------------------------------------------------------------------


def test_reads_a_plain_csv(tmp_path: Path) -> None:
    path = write(tmp_path, "id,name,price\n1,Mug,3.50\n2,Plate,4\n3,Bowl,5\n")
    info, rows, problems = read(path)

    assert info.format == "csv"
    assert info.columns == ["id", "name", "price"]
    assert info.encoding == "utf-8"
    assert info.delimiter == ","
    assert info.quotechar == '"'
    assert info.header_row == 1
    assert info.warnings == []
    assert rows == [(2, ["1", "Mug", "3.50"]), (3, ["2", "Plate", "4"]), (4, ["3", "Bowl", "5"])]
    assert info.sample == rows
    assert problems == []


def test_tab_delimited_is_tsv(tmp_path: Path) -> None:
    path = write(tmp_path, "id\tname\tnote\n1\tMug\ta, b; c\n2\tPlate\t\n", name="export.txt")
    info, rows, _ = read(path)

    assert info.format == "tsv"
    assert info.delimiter == "\t"
    assert rows == [(2, ["1", "Mug", "a, b; c"]), (3, ["2", "Plate", ""])]


def test_cells_are_kept_verbatim(tmp_path: Path) -> None:
    content = (
        "formula,phone,number,handle,padded,empty,quoted_empty,quotes\n"
        '=1+2,+49 30 1234567,-5,@x,"  both sides  ",,"",'
        '"say ""hi"""\n'
        "0012,+1,1e5, leading,trailing ,,,x\n"
    )
    _, rows, problems = read(write(tmp_path, content))

    assert problems == []
    assert rows[0][1] == ["=1+2", "+49 30 1234567", "-5", "@x", "  both sides  ", "", "", 'say "hi"']
    assert rows[1][1] == ["0012", "+1", "1e5", " leading", "trailing ", "", "", "x"]


def test_sample_is_what_batches_yield(tmp_path: Path) -> None:
    lines = ["Quarterly export", "", "sku,name,qty"]
    lines += [f"S-{i},Item {i},{i}" if i % 7 else f'S-{i},"Item\n{i}",{i}' for i in range(1, 300)]
    path = write(tmp_path, "\n".join(lines) + "\n")
    reader = CsvReader()
    info = reader.inspect(path, ReadOptions(), sample_rows=40)
    batches = list(reader.batches(path, info, ReadOptions(), batch_size=25))

    assert info.sample == [row for batch in batches for row in batch.rows][:40]
    assert len(info.sample) == 40


def test_batches_split_by_batch_size(tmp_path: Path) -> None:
    path = write(tmp_path, "a,b\n" + "".join(f"{i},x\n" for i in range(10)))
    reader = CsvReader()
    info = reader.inspect(path, ReadOptions())
    sizes = [len(batch.rows) for batch in reader.batches(path, info, ReadOptions(), batch_size=3)]

    assert sizes == [3, 3, 3, 1]


def test_batches_use_the_settings_in_info(tmp_path: Path) -> None:
    path = write(tmp_path, "a;b,c\n1;2,3\n4;5,6\n")
    reader = CsvReader()
    info = reader.inspect(path, ReadOptions())
    assert info.delimiter == ","  # both split evenly into two fields; ties go to the comma
    info.delimiter = ";"
    info.columns = ["a", "b,c"]
    rows = [row for batch in reader.batches(path, info, ReadOptions()) for row in batch.rows]

    assert rows == [(2, ["1", "2,3"]), (3, ["4", "5,6"])]


def test_batches_use_the_header_row_in_info(tmp_path: Path) -> None:
    path = write(tmp_path, "note\nid,name\n1,a\n2,b\n")
    reader = CsvReader()
    info = reader.inspect(path, ReadOptions(header_row=2))
    assert info.header_row == 2
    assert info.columns == ["id", "name"]
    rows = [row for batch in reader.batches(path, info, ReadOptions()) for row in batch.rows]

    assert rows == [(3, ["1", "a"]), (4, ["2", "b"])]


# --- line numbers and line endings -------------------------------------------------------------------


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
def test_line_endings(tmp_path: Path, newline: str) -> None:
    text = newline.join(["id,text", "1,plain", f'2,"first{newline}second"', "3,after", ""])
    _, rows, problems = read(write(tmp_path, text))

    assert problems == []
    assert rows == [(2, ["1", "plain"]), (3, ["2", f"first{newline}second"]), (5, ["3", "after"])]


def test_row_numbers_are_physical_lines_with_quoted_newlines(tmp_path: Path) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "text"])
    expected: list[Row] = []
    line = 2
    for i in range(500):
        text = "\n".join(f"part {j}" for j in range(i % 4 + 1))
        writer.writerow([str(i), text])
        expected.append((line, [str(i), text]))
        line += text.count("\n") + 1
    _, rows, problems = read(write(tmp_path, buffer.getvalue()), batch_size=64)

    assert problems == []
    assert rows == expected


def test_a_last_line_without_line_break(tmp_path: Path) -> None:
    _, rows, _ = read(write(tmp_path, "a,b\n1,2\n3,4"))

    assert rows == [(2, ["1", "2"]), (3, ["3", "4"])]


def test_blank_lines_and_empty_rows_are_skipped(tmp_path: Path) -> None:
    path = write(tmp_path, "a,b,c\n\n1,2,3\n   \n,,\n\n4,5,6\n,,,,\n\n")
    _, rows, problems = read(path)

    assert rows == [(3, ["1", "2", "3"]), (7, ["4", "5", "6"])]
    assert problems == []


def test_unicode_line_separators_inside_fields_are_not_line_breaks(tmp_path: Path) -> None:
    # str.splitlines() would break at these; a CSV line ends only at LF, CRLF or CR.
    _, rows, _ = read(write(tmp_path, "a,b\n1,x\u2028y\x85z\x0bw\x1cv\n2,ok\n"))

    assert rows == [(2, ["1", "x\u2028y\x85z\x0bw\x1cv"]), (3, ["2", "ok"])]


# --- encodings ---------------------------------------------------------------------------------------


def test_utf8_bom_is_not_part_of_the_header(tmp_path: Path) -> None:
    path = write(tmp_path, codecs.BOM_UTF8 + "id,naïve\n1,café\n".encode())
    info, rows, _ = read(path)

    assert info.encoding == "utf-8-sig"
    assert info.columns == ["id", "naïve"]
    assert rows == [(2, ["1", "café"])]


def test_utf8_bom_is_skipped_when_utf8_is_chosen(tmp_path: Path) -> None:
    path = write(tmp_path, codecs.BOM_UTF8 + b"id,name\n1,a\n")
    info, _, _ = read(path, ReadOptions(encoding="utf-8"))

    assert info.columns == ["id", "name"]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_bom(tmp_path: Path, codec: str) -> None:
    bom = codecs.BOM_UTF16_LE if codec.endswith("le") else codecs.BOM_UTF16_BE
    text = 'id;name;note\r\n1;Zoë;"two\r\nlines"\r\n2;Łódź;€\r\n'
    info, rows, problems = read(write(tmp_path, bom + text.encode(codec)))

    assert info.encoding == "utf-16"
    assert info.delimiter == ";"
    assert info.columns == ["id", "name", "note"]
    assert rows == [(2, ["1", "Zoë", "two\r\nlines"]), (4, ["2", "Łódź", "€"])]
    assert problems == []


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom(tmp_path: Path, codec: str) -> None:
    info, rows, problems = read(write(tmp_path, "id,name\n1,Zoë\n2,b\n", encoding=codec))

    assert info.encoding == codec
    assert rows == [(2, ["1", "Zoë"]), (3, ["2", "b"])]
    assert problems == []


def test_utf16_that_does_not_decode_is_a_read_error(tmp_path: Path) -> None:
    # An odd number of bytes cannot be UTF-16.
    path = write(tmp_path, codecs.BOM_UTF16_LE + "id,name\n1,a\n".encode("utf-16-le") + b"x")

    with pytest.raises(ReadError) as caught:
        read(path)
    assert caught.value.code == "encoding"


def test_cp1252_is_detected(tmp_path: Path) -> None:
    text = "id,name,city,price\n" + "".join(
        f"{i},Crème brûlée {i},Zürich,{i} €\n" if i % 3 else f"{i},Müller,Köln,{i}\n" for i in range(40)
    )
    info, rows, problems = read(write(tmp_path, text, encoding="cp1252"))

    assert info.encoding == "cp1252"
    assert rows[1] == (3, ["1", "Crème brûlée 1", "Zürich", "1 €"])
    assert rows[0] == (2, ["0", "Müller", "Köln", "0"])
    assert problems == []


def test_short_western_text_is_read_as_cp1252(tmp_path: Path) -> None:
    info, rows, _ = read(write(tmp_path, "id,name\n1,Café\n", encoding="cp1252"))

    assert info.encoding == "cp1252"
    assert rows == [(2, ["1", "Café"])]


def test_cyrillic_code_page_is_detected(tmp_path: Path) -> None:
    text = "id,name,city\n" + "".join(f"{i},Иван Петров,Москва улица Ленина {i}\n" for i in range(60))
    info, rows, _ = read(write(tmp_path, text, encoding="cp1251"))

    assert info.encoding == "cp1251"
    assert rows[0] == (2, ["0", "Иван Петров", "Москва улица Ленина 0"])


def test_encoding_option_wins(tmp_path: Path) -> None:
    path = write(tmp_path, "id,name\n1,Café\n", encoding="latin-1")
    info, rows, _ = read(path, ReadOptions(encoding="ISO-8859-1"))

    assert info.encoding == "iso8859-1"
    assert rows == [(2, ["1", "Café"])]


def test_unknown_encoding_option_is_a_read_error(tmp_path: Path) -> None:
    with pytest.raises(ReadError) as caught:
        read(write(tmp_path, "a\n1\n"), ReadOptions(encoding="no-such-codec"))
    assert caught.value.code == "encoding"


def test_a_bad_line_in_a_utf8_file_is_a_row_problem(tmp_path: Path) -> None:
    content = "id,name\n1,Zoë\n2,ok\n3,ok\n".encode() + b"4,caf\xe9\n" + b"5,\xe2\x82\xac\n6,last\n"
    info, rows, problems = read(write(tmp_path, content))

    # More lines are valid UTF-8 than not: UTF-8, with the odd line reported rather than garbled.
    assert info.encoding == "utf-8"
    assert lines_of(rows) == [2, 3, 4, 6, 7]
    assert rows[-2] == (6, ["5", "€"])
    assert len(problems) == 1
    problem = problems[0]
    assert (problem.row, problem.code) == (5, "encoding")
    assert problem.message == "line 5 is not valid utf-8 (byte 0xe9); choose the file's encoding"
    assert problem.cells == ["4", "caf\\xe9"]
    assert all("\ufffd" not in cell for _, cells in rows for cell in cells)


def test_a_bad_line_after_the_sample_is_a_row_problem(tmp_path: Path) -> None:
    head = "id,name,note\n" + "".join(f"{i},Zoë,filler text for the sample\n" for i in range(40_000))
    assert len(head.encode()) > SAMPLE_BYTES
    content = head.encode() + b"bad,Fran\xe7ois,cp1252\n" + "tail,Zoë,ok\n".encode()
    info, rows, problems = read(write(tmp_path, content))

    assert info.encoding == "utf-8"
    assert [(p.row, p.code) for p in problems] == [(40_002, "encoding")]
    assert "line 40002 is not valid utf-8 (byte 0xe7)" in problems[0].message
    assert len(rows) == 40_001
    assert rows[-1] == (40_003, ["tail", "Zoë", "ok"])


def test_a_bad_line_inside_a_quoted_field_fails_its_record(tmp_path: Path) -> None:
    content = b'id,text\n1,"first\nsec\xe9ond\nthird"\n2,ok\n'
    _, rows, problems = read(write(tmp_path, content), ReadOptions(encoding="utf-8"))

    assert rows == [(5, ["2", "ok"])]
    assert [(p.row, p.code) for p in problems] == [(2, "encoding")]
    assert "line 3 is not valid utf-8" in problems[0].message


def test_a_character_cut_by_the_end_of_the_sample_is_still_utf8(tmp_path: Path) -> None:
    header = b"id,note\n"
    filler = b"".join(b"%d,plain ascii filler\n" % i for i in range(50_000))
    lines = header + filler
    assert len(lines) > SAMPLE_BYTES
    lines = lines[: lines.rfind(b"\n", 0, SAMPLE_BYTES - 100) + 1]
    # "é" is two bytes; the first one is the last byte of the sample.
    padding = b"x" * (SAMPLE_BYTES - 1 - len(lines) - len(b"cut,"))
    content = lines + b"cut," + padding + "é end\n".encode() + b"after,ok\n"
    assert content[SAMPLE_BYTES - 1 : SAMPLE_BYTES + 1] == "é".encode()
    info, rows, problems = read(write(tmp_path, content))

    assert info.encoding == "utf-8"
    assert problems == []
    assert rows[-2][1] == ["cut", padding.decode() + "é end"]
    assert rows[-1][1] == ["after", "ok"]


def test_nul_bytes_make_a_row_problem(tmp_path: Path) -> None:
    _, rows, problems = read(write(tmp_path, b"id,name\n1,a\x00b\n2,ok\n"))

    assert rows == [(3, ["2", "ok"])]
    assert [(p.row, p.code) for p in problems] == [(2, "nul_byte")]
    assert problems[0].cells == ["1", "a\\x00b"]  # visible in the report, never a raw NUL


# --- delimiter and quote -----------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed(tmp_path: Path, delimiter: str) -> None:
    others = "".join(d for d in ",;\t|" if d != delimiter)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(["id", "name", "note"])
    for i in range(20):
        writer.writerow([str(i), f"name {i}", f"has {others[: i % 4]} in it"])
    info, rows, problems = read(write(tmp_path, buffer.getvalue()))

    assert info.delimiter == delimiter
    assert info.columns == ["id", "name", "note"]
    assert len(rows) == 20
    assert problems == []


def test_semicolons_with_decimal_commas(tmp_path: Path) -> None:
    text = "Artikel;Preis;Menge\nTasse;3,50;2\nTeller;4,20;1\nSchale;10;5\nKanne;12,99;1\n"
    info, rows, _ = read(write(tmp_path, text))

    assert info.delimiter == ";"
    assert rows[0] == (2, ["Tasse", "3,50", "2"])


def test_delimiter_inside_quotes_does_not_count(tmp_path: Path) -> None:
    text = 'name;note\n"a, b, c";"x, y"\n"d, e";"z, w, v"\n"f";"g, h, i, j"\n'
    info, _, _ = read(write(tmp_path, text))

    assert info.delimiter == ";"


def test_delimiter_option_wins(tmp_path: Path) -> None:
    info, rows, _ = read(write(tmp_path, "a,b|c\n1,2|3\n"), ReadOptions(delimiter="|"))

    assert info.delimiter == "|"
    assert info.columns == ["a,b", "c"]
    assert rows == [(2, ["1,2", "3"])]


def test_single_column_file(tmp_path: Path) -> None:
    info, rows, _ = read(write(tmp_path, "email\na@example.com\nb@example.com\n"))

    assert info.delimiter == ","
    assert info.columns == ["email"]
    assert rows == [(2, ["a@example.com"]), (3, ["b@example.com"])]


def test_single_column_tsv_by_name(tmp_path: Path) -> None:
    info, _, _ = read(write(tmp_path, "email\na@example.com\n", name="list.tsv"))

    assert info.delimiter == "\t"
    assert info.format == "tsv"


def test_single_quotes_are_sniffed_when_clearly_used(tmp_path: Path) -> None:
    text = "id,name,note\n1,'Smith, John','a'\n2,'Doe, Jane','b, c'\n3,'Roe, R','d'\n"
    info, rows, _ = read(write(tmp_path, text))

    assert info.quotechar == "'"
    assert rows[0] == (2, ["1", "Smith, John", "a"])


def test_apostrophes_are_not_quotes(tmp_path: Path) -> None:
    text = "id,name,note\n1,O'Brien,it's fine\n2,D'Arcy,rock 'n' roll\n"
    info, rows, _ = read(write(tmp_path, text))

    assert info.quotechar == '"'
    assert rows[1] == (3, ["2", "D'Arcy", "rock 'n' roll"])


def test_quotechar_option_wins(tmp_path: Path) -> None:
    info, rows, _ = read(write(tmp_path, "a,b\n1,|x,y|\n"), ReadOptions(quotechar="|"))

    assert info.quotechar == "|"
    assert rows == [(2, ["1", "x,y"])]


def test_invalid_delimiter_option(tmp_path: Path) -> None:
    with pytest.raises(ReadError) as caught:
        read(write(tmp_path, "a,b\n1,2\n"), ReadOptions(delimiter=",,"))
    assert caught.value.code == "invalid_option"


# --- header ------------------------------------------------------------------------------------------


def test_header_below_a_title_and_a_blank_line(tmp_path: Path) -> None:
    text = "Inventory export 2024-05-01\n\nsku,name,qty\nA-1,Mug,3\nA-2,Plate,4\n"
    info, rows, problems = read(write(tmp_path, text))

    assert info.header_row == 3
    assert info.columns == ["sku", "name", "qty"]
    assert rows == [(4, ["A-1", "Mug", "3"]), (5, ["A-2", "Plate", "4"])]
    assert problems == []  # the title is skipped, not reported
    assert "The header is on line 3; the lines above it are skipped." in info.warnings


def test_header_below_a_title_with_trailing_delimiters(tmp_path: Path) -> None:
    text = "Sales report,,,\nGenerated by ERP,,,\nregion,product,units,revenue\nNorth,Mug,3,9.5\n"
    info, rows, _ = read(write(tmp_path, text))

    assert info.header_row == 3
    assert info.columns == ["region", "product", "units", "revenue"]
    assert rows == [(4, ["North", "Mug", "3", "9.5"])]


def test_first_row_is_the_header_even_when_it_looks_numeric(tmp_path: Path) -> None:
    text = "region,2022,2023\nNorth,10,12\nSouth,7,9\n"
    info, rows, _ = read(write(tmp_path, text))

    assert info.header_row == 1
    assert info.columns == ["region", "2022", "2023"]
    assert len(rows) == 2


def test_header_row_option(tmp_path: Path) -> None:
    text = "id,name\nx,y\nsku,title\n1,a\n"
    info, rows, _ = read(write(tmp_path, text), ReadOptions(header_row=3))

    assert info.header_row == 3
    assert info.columns == ["sku", "title"]
    assert rows == [(4, ["1", "a"])]


def test_header_row_option_past_the_end(tmp_path: Path) -> None:
    with pytest.raises(ReadError) as caught:
        read(write(tmp_path, "a,b\n1,2\n"), ReadOptions(header_row=9))
    assert caught.value.code == "header_not_found"


def test_no_header(tmp_path: Path) -> None:
    info, rows, _ = read(write(tmp_path, "1,a,x\n2,b,y\n"), ReadOptions(header_row=0))

    assert info.header_row == 0
    assert info.columns == ["column 1", "column 2", "column 3"]
    assert rows == [(1, ["1", "a", "x"]), (2, ["2", "b", "y"])]


def test_duplicate_and_blank_headers(tmp_path: Path) -> None:
    info, rows, _ = read(write(tmp_path, "email,,Email,name\na@x,1,b@x,n\n"))

    assert info.columns == ["email", "column 2", "Email (2)", "name"]
    assert len(info.warnings) == 2
    assert rows == [(2, ["a@x", "1", "b@x", "n"])]


def test_trailing_empty_header_cells_beyond_the_data_are_dropped(tmp_path: Path) -> None:
    info, rows, problems = read(write(tmp_path, "id,name,,\n1,a\n2,b\n"))

    assert info.columns == ["id", "name"]
    assert rows == [(2, ["1", "a"]), (3, ["2", "b"])]
    assert problems == []


def test_too_many_columns(tmp_path: Path) -> None:
    header = ",".join(f"c{i}" for i in range(1001))
    with pytest.raises(ReadError) as caught:
        read(write(tmp_path, header + "\n" + ",".join("1" * 1001) + "\n"))
    assert caught.value.code == "too_many_columns"

    with pytest.raises(ReadError) as caught:
        read(write(tmp_path, "a,b,c\n1,2,3\n"), ReadOptions(max_columns=2))
    assert caught.value.code == "too_many_columns"


def test_header_only(tmp_path: Path) -> None:
    path = write(tmp_path, "id,name,price\n")
    reader = CsvReader()
    info = reader.inspect(path, ReadOptions())

    assert info.columns == ["id", "name", "price"]
    assert info.sample == []
    assert list(reader.batches(path, info, ReadOptions())) == []


@pytest.mark.parametrize(
    "content", [b"", codecs.BOM_UTF8, b"\n\n\r\n", b"  \n"], ids=["empty", "bom", "blank", "spaces"]
)
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(ReadError) as caught:
        CsvReader().inspect(write(tmp_path, content), ReadOptions())
    assert caught.value.code == "file_empty"


# --- problems ----------------------------------------------------------------------------------------


def test_too_few_and_too_many_fields(tmp_path: Path) -> None:
    text = "a,b,c\n1,2,3\n1,2\n1,2,3,4\n4,5,6\n"
    _, rows, problems = read(write(tmp_path, text))

    assert rows == [(2, ["1", "2", "3"]), (5, ["4", "5", "6"])]
    assert problems == [
        RowProblem(3, "too_few_fields", "expected 3 fields, got 2", ["1", "2"]),
        RowProblem(4, "too_many_fields", "expected 3 fields, got 4", ["1", "2", "3", "4"]),
    ]


def test_trailing_empty_fields_are_dropped_silently(tmp_path: Path) -> None:
    text = "a,b,c\n1,2,3,,\n4,5,6,\n7,8,9,x\n"
    _, rows, problems = read(write(tmp_path, text))

    assert rows == [(2, ["1", "2", "3"]), (3, ["4", "5", "6"])]
    assert [(p.row, p.code) for p in problems] == [(4, "too_many_fields")]


def test_stray_quote_does_not_swallow_the_file(tmp_path: Path) -> None:
    lines = ["id,name,note", "1,a,ok", '2,"b,broken'] + [f"{i},{chr(96 + i)},ok" for i in range(3, 10)]
    _, rows, problems = read(write(tmp_path, "\n".join(lines) + "\n"))

    assert lines_of(rows) == [2, 4, 5, 6, 7, 8, 9, 10]
    assert rows[1] == (4, ["3", "c", "ok"])
    assert [(p.row, p.code) for p in problems] == [(3, "unterminated_quote")]
    assert "line 3" in problems[0].message
    assert all(len(cells) == 3 and "\n" not in cells[2] for _, cells in rows)


def test_stray_quote_on_the_last_line(tmp_path: Path) -> None:
    _, rows, problems = read(write(tmp_path, 'a,b\n1,2\n3,"4'))

    assert rows == [(2, ["1", "2"])]
    assert [(p.row, p.code) for p in problems] == [(3, "unterminated_quote")]


def test_stray_quote_stops_at_the_field_limit(tmp_path: Path) -> None:
    lines = ["id,name,note", '1,"open,x'] + [f"{i},name {i},some text" for i in range(2, 3000)]
    options = ReadOptions(max_field_chars=1000)
    _, rows, problems = read(write(tmp_path, "\n".join(lines) + "\n"), options, batch_size=100)

    assert [(p.row, p.code) for p in problems] == [(2, "unterminated_quote")]
    assert lines_of(rows) == list(range(3, 3001))


def test_stray_quote_stops_after_many_lines(tmp_path: Path) -> None:
    # Short lines: the field stays under the character limit but spans too many lines.
    lines = ["id,v", '0,"open'] + [f"{i},x" for i in range(1, 15_001)]
    _, rows, problems = read(write(tmp_path, "\n".join(lines) + "\n"), batch_size=1000)

    assert [(p.row, p.code) for p in problems] == [(2, "unterminated_quote")]
    assert "10000 lines" in problems[0].message
    assert lines_of(rows) == list(range(3, 15_003))


def test_a_field_over_the_limit_is_a_row_problem(tmp_path: Path) -> None:
    text = f'a,b\n1,{"x" * 50}\n2,{"y" * 51}\n3,"{"z" * 51}"\n4,ok\n'
    _, rows, problems = read(write(tmp_path, text), ReadOptions(max_field_chars=50))

    assert rows == [(2, ["1", "x" * 50]), (5, ["4", "ok"])]
    assert [(p.row, p.code) for p in problems] == [(3, "field_too_large"), (4, "field_too_large")]
    assert "50 characters" in problems[0].message


def test_a_line_without_end_is_skipped_without_filling_memory(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    with path.open("wb") as f:
        f.write(b"a,b\n1,ok\n2,")
        for _ in range(20):
            f.write(b"x" * (1 << 20))
        f.write(b"\n3,ok\n")
    tracemalloc.start()
    try:
        _, rows, problems = read(path, ReadOptions(max_field_chars=1000))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert rows == [(2, ["1", "ok"]), (4, ["3", "ok"])]
    assert [(p.row, p.code) for p in problems] == [(3, "field_too_large")]
    assert peak < 8 * (1 << 20)


def peak_memory_reading(path: Path) -> tuple[int, int]:
    """Rows read, and the most memory Python held meanwhile."""
    reader = CsvReader()
    info = reader.inspect(path, ReadOptions())
    count = 0
    tracemalloc.start()
    try:
        for batch in reader.batches(path, info, ReadOptions(), batch_size=1000):
            count += len(batch.rows)
        return count, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    peaks = []
    for rows in (10_000, 40_000):
        path = tmp_path / f"{rows}.csv"
        with path.open("w", encoding="utf-8", newline="") as f:
            f.write("id,name,description\n")
            for i in range(rows):
                f.write(f'{i},Product {i},"A description of product {i},\nwith text"\n')
        count, peak = peak_memory_reading(path)
        assert count == rows
        peaks.append(peak)

    # Four times the file, the same few blocks and one batch in memory.
    assert peaks[1] < peaks[0] * 1.3


def test_garbage_collector_is_on_whenever_a_batch_is_handed_over(tmp_path: Path) -> None:
    path = write(tmp_path, "a,b\n" + "".join(f"{i},x\n" for i in range(10)))
    reader = CsvReader()
    info = reader.inspect(path, ReadOptions())
    assert gc.isenabled()

    batches = reader.batches(path, info, ReadOptions(), batch_size=3)
    assert isinstance(batches, Generator)
    next(batches)
    assert gc.isenabled()
    batches.close()  # abandoned half-way
    assert gc.isenabled()

    gc.disable()
    try:
        list(reader.batches(path, info, ReadOptions()))
        assert not gc.isenabled()  # the caller's choice is left alone
    finally:
        gc.enable()


def test_garbage_collector_is_back_on_after_a_read_error(tmp_path: Path) -> None:
    path = write(tmp_path, codecs.BOM_UTF16_LE + ("a,b\n" * 10).encode("utf-16-le") + b"x")
    reader = CsvReader()
    info = FileInfo(
        format="csv",
        columns=["a", "b"],
        sample=[],
        encoding="utf-16",
        delimiter=",",
        quotechar='"',
        header_row=1,
    )

    with pytest.raises(ReadError):
        list(reader.batches(path, info, ReadOptions()))
    assert gc.isenabled()


# --- round trip --------------------------------------------------------------------------------------

_cell = st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    table=st.lists(st.lists(_cell, min_size=3, max_size=3), min_size=1, max_size=30),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    newline=st.sampled_from(["\n", "\r\n"]),
    quote_all=st.booleans(),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
    block_size=st.sampled_from([1, 5, csv_reader.BLOCK_SIZE]),
)
def test_round_trip(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    table: list[list[str]],
    delimiter: str,
    newline: str,
    quote_all: bool,
    encoding: str,
    block_size: int,
) -> None:
    # Tiny blocks put block boundaries everywhere: inside CRLF, characters, quoted fields.
    monkeypatch.setattr(csv_reader, "BLOCK_SIZE", block_size)
    buffer = io.StringIO(newline="")
    # csv.writer quotes a field only for the characters of its own line terminator, so with LF it
    # would write a bare CR, which ends a line for every reader.
    if quote_all or newline == "\n":
        writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline, quoting=csv.QUOTE_ALL)
    else:
        writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline)
    writer.writerow(["a", "b", "c"])
    expected: list[Row] = []
    for cells in table:
        written = buffer.getvalue()
        line = written.count("\n") + written.count("\r") - written.count("\r\n") + 1
        writer.writerow(cells)
        if any(cells):
            expected.append((line, cells))
    path = write(tmp_path, buffer.getvalue(), encoding=encoding)
    info, rows, problems = read(path, ReadOptions(delimiter=delimiter, header_row=1), batch_size=7)

    assert info.encoding == encoding
    assert info.columns == ["a", "b", "c"]
    assert problems == []
    assert rows == expected


MESSY = (
    b"Export of 2024-05-01\r\n\r\n"
    b"id,name,note\r\n"
    b'1,Zo\xc3\xab,"two\r\nlines"\r\n'
    b"2,caf\xe9,bad byte\r\n"
    b"3,a\x00b,nul\r"
    b"4,cr only,x\r"
    b'5,"quoted ""q""",\xe2\x82\xac\n'
    b"6,too,many,fields\n"
    b"7,few\n"
    b"8,trailing,empties,,\n"
    b'9,"stray,quote\n'
    b"10,after,stray"
)


@pytest.mark.parametrize("block_size", [1, 2, 3, 7, 64])
@pytest.mark.parametrize("codec", ["utf-8", "utf-16"])
def test_block_boundaries_do_not_change_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block_size: int, codec: str
) -> None:
    content = MESSY if codec == "utf-8" else codecs.BOM_UTF16_LE + MESSY.decode("cp1252").encode("utf-16-le")
    path = write(tmp_path, content)
    options = ReadOptions(encoding="utf-8") if codec == "utf-8" else ReadOptions()
    expected = read(path, options)
    monkeypatch.setattr(csv_reader, "BLOCK_SIZE", block_size)

    assert read(path, options) == expected


def test_messy_file(tmp_path: Path) -> None:
    info, rows, problems = read(write(tmp_path, MESSY), ReadOptions(encoding="utf-8"))

    assert info.header_row == 3
    assert rows == [
        (4, ["1", "Zoë", "two\r\nlines"]),
        (8, ["4", "cr only", "x"]),
        (9, ["5", 'quoted "q"', "€"]),
        (12, ["8", "trailing", "empties"]),
        (14, ["10", "after", "stray"]),
    ]
    assert [(p.row, p.code) for p in problems] == [
        (6, "encoding"),
        (7, "nul_byte"),
        (10, "too_many_fields"),
        (11, "too_few_fields"),
        (13, "unterminated_quote"),
    ]


def test_unreadable_line_above_the_header_is_a_warning(tmp_path: Path) -> None:
    info, rows, problems = read(write(tmp_path, '"Report 2024\n\nid,name\n1,a\n'))

    assert info.header_row == 3
    assert rows == [(4, ["1", "a"])]
    assert problems == []
    assert any(w.startswith("Line 1, above the header, cannot be read") for w in info.warnings)
