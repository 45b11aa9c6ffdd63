"""SheetReader: XLSX and ODS workbooks, read in a memory-capped child process."""

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter

from loadbay.imports.readers import detect, limits
from loadbay.imports.readers.base import Batch, FileInfo, ReadError, ReadOptions
from loadbay.imports.readers.sheet_reader import SheetReader, column_letter
from tests.imports.readers.test_detect import make_ods, make_ole

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
PACKAGE_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)
SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def handmade_xlsx(path: Path, sheet_data: str, *, prolog: str = "", shared: list[str] | None = None) -> Path:
    """An .xlsx written part by part, for what XlsxWriter would never write."""
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<worksheet xmlns="{SHEET_NS}"><sheetData>{sheet_data}'
    )
    sheet += "</sheetData></worksheet>"
    strings = "".join(f"<si><t>{s}</t></si>" for s in shared or [])
    sst = f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{SHEET_NS}">{strings}</sst>'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", PACKAGE_RELS)
        zf.writestr("xl/workbook.xml", WORKBOOK)
        zf.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        zf.writestr("xl/worksheets/sheet1.xml", sheet)
        zf.writestr("xl/sharedStrings.xml", sst)
    return path


def sales_workbook(path: Path) -> Path:
    """A hidden first sheet, then a report with title rows above its header (row 3), then a plain sheet."""
    wb = xlsxwriter.Workbook(str(path))
    date = wb.add_format({"num_format": "yyyy-mm-dd"})
    stamp = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    secret = wb.add_worksheet("Secret")
    report = wb.add_worksheet("Report")
    other = wb.add_worksheet("Other")
    secret.write_row(0, 0, ["user", "password"])
    secret.write_row(1, 0, ["ada", "hunter2"])
    report.merge_range("A1:C1", "Sales report 2024")
    report.write(1, 0, "Exported by the shop")
    # A duplicate header and a blank one (column G).
    report.write_row(2, 0, ["name", "qty", "price", "sold on", "paid", "name"])
    report.write(2, 7, "at")
    report.write_row(3, 0, ["Ada", 3, 2.5])
    report.write_datetime(3, 3, dt.date(2024, 1, 2), date)
    report.write_row(3, 4, [True, "x", "note"])
    report.write_datetime(3, 7, dt.datetime(2024, 1, 2, 13, 45), stamp)
    # Row 5 is blank.
    report.write_row(5, 0, ["Grace", 10])
    report.write_formula(5, 2, "=1/0", None, "#DIV/0!")
    report.write_datetime(5, 3, dt.date(2024, 2, 29), date)
    report.write(5, 4, False)
    # A formula saved without its result, as libraries that do not calculate write them.
    report.write(6, 0, "Linus")
    report.write_formula(6, 1, "=B4*2", None, "")
    report.write(6, 2, 4.0)
    other.write_row(0, 0, ["id", "label"])
    for i, label in enumerate(["one", "two", "three"], start=1):
        other.write_row(i, 0, [i, label])
    report.activate()
    secret.hide()
    wb.close()
    return path


def read_all(
    path: Path, options: ReadOptions | None = None, reader: SheetReader | None = None, **kw: Any
) -> tuple[FileInfo, list[Batch]]:
    options = options or ReadOptions()
    reader = reader or SheetReader()
    info = reader.inspect(path, options)
    return info, list(reader.batches(path, info, options, **kw))


def rows_of(batches: list[Batch]) -> list[tuple[int, list[Any]]]:
    return [row for batch in batches for row in batch.rows]


def inspect_error(
    path: Path, options: ReadOptions | None = None, reader: SheetReader | None = None
) -> ReadError:
    with pytest.raises(ReadError) as err:
        (reader or SheetReader()).inspect(path, options or ReadOptions())
    return err.value


REPORT_ROWS = [
    (4, ["Ada", 3, 2.5, dt.date(2024, 1, 2), True, "x", "note", dt.datetime(2024, 1, 2, 13, 45)]),
    (6, ["Grace", 10, "#DIV/0!", dt.date(2024, 2, 29), False, None, None, None]),
    (7, ["Linus", None, 4, None, None, None, None, None]),
]


def test_report_sheet_with_title_rows(tmp_path: Path) -> None:
    info, batches = read_all(sales_workbook(tmp_path / "sales.xlsx"))
    assert info.format == "xlsx"
    # Hidden sheets are listed (they can be chosen) but never the default.
    assert info.sheets == ["Secret", "Report", "Other"]
    assert info.sheet == "Report"
    assert info.header_row == 3
    assert info.columns == ["name", "qty", "price", "sold on", "paid", "name (2)", "column 7", "at"]
    rows = rows_of(batches)
    assert rows == REPORT_ROWS
    assert info.sample == REPORT_ROWS
    assert type(rows[0][1][1]) is int  # 3, not 3.0
    assert [p for b in batches for p in b.problems] == []
    warnings = "\n".join(info.warnings)
    assert "Hidden sheets ('Secret')" in warnings
    assert "Column 6 repeats the header 'name'" in warnings
    assert "Column 7 has no header" in warnings
    assert "1 formula cells have no saved result" in warnings
    assert "1 merged cell ranges" in warnings


def test_explicit_header_row_and_no_header(tmp_path: Path) -> None:
    path = sales_workbook(tmp_path / "sales.xlsx")
    info, batches = read_all(path, ReadOptions(header_row=3))
    assert info.header_row == 3
    assert rows_of(batches) == REPORT_ROWS

    info, batches = read_all(path, ReadOptions(header_row=0))
    assert info.header_row == 0
    assert info.columns == [f"column {i}" for i in range(1, 9)]
    rows = rows_of(batches)
    assert [n for n, _ in rows] == [1, 2, 3, 4, 6, 7]
    assert rows[0][1] == ["Sales report 2024", *[None] * 7]


def test_choosing_a_sheet(tmp_path: Path) -> None:
    path = sales_workbook(tmp_path / "sales.xlsx")
    info, batches = read_all(path, ReadOptions(sheet="Other"), batch_size=2)
    assert (info.sheet, info.header_row, info.columns) == ("Other", 1, ["id", "label"])
    assert [len(b.rows) for b in batches] == [2, 1]
    assert rows_of(batches) == [(2, [1, "one"]), (3, [2, "two"]), (4, [3, "three"])]
    # A hidden sheet is read when asked for; names match regardless of case.
    info = SheetReader().inspect(path, ReadOptions(sheet="secret"))
    assert (info.sheet, info.sample) == ("Secret", [(2, ["ada", "hunter2"])])

    err = inspect_error(path, ReadOptions(sheet="Summary"))
    assert err.code == "sheet_not_found"
    assert "'Secret', 'Report', 'Other'" in err.message


def test_empty_first_sheet_is_passed_over(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("Cover")
    wb.add_worksheet("Data").write_row(0, 0, ["a", "b"])
    wb.worksheets()[1].write_row(1, 0, [1, 2])
    wb.close()
    info = SheetReader().inspect(path, ReadOptions())
    assert info.sheet == "Data"
    assert "The first sheet 'Cover' is empty; reading 'Data' instead." in info.warnings
    err = inspect_error(path, ReadOptions(sheet="Cover"))
    assert err.code == "empty"


def test_row_numbers_count_empty_leading_rows_and_columns(tmp_path: Path) -> None:
    path = tmp_path / "offset.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("S")
    ws.write(0, 0, "Title in A1")
    ws.write_row(4, 2, ["code", "amount"])  # C5
    ws.write_row(5, 2, ["x", 1])
    ws.write_row(7, 2, ["y", 2])
    wb.close()
    info, batches = read_all(path)
    # The title left of the table adds no empty column.
    assert (info.header_row, info.columns) == (5, ["code", "amount"])
    assert rows_of(batches) == [(6, ["x", 1]), (8, ["y", 2])]


def test_value_outside_the_columns_is_a_row_problem(tmp_path: Path) -> None:
    path = tmp_path / "stray.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("S")
    ws.write_row(0, 0, ["id", "label"])
    for i in range(1, 151):
        ws.write_row(i, 0, [i, f"item {i}"])
    ws.write(140, 4, "note in E141")  # below the rows that decide the columns
    wb.close()
    info, batches = read_all(path, batch_size=1000)
    assert info.columns == ["id", "label"]
    problems = [p for b in batches for p in b.problems]
    assert [(p.row, p.code) for p in problems] == [(141, "too_many_fields")]
    assert "columns A to B only, got one in column E" in problems[0].message
    assert len(rows_of(batches)) == 149


def test_dates_in_the_1904_date_system(tmp_path: Path) -> None:
    path = tmp_path / "mac.xlsx"
    wb = xlsxwriter.Workbook(str(path), {"date_1904": True})
    fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws = wb.add_worksheet("S")
    ws.write_row(0, 0, ["when", "n"])
    for row, day in enumerate([dt.date(1904, 1, 2), dt.date(2024, 3, 1), dt.date(1999, 12, 31)], start=1):
        ws.write_datetime(row, 0, day, fmt)
        ws.write(row, 1, row)
    wb.close()
    _, batches = read_all(path)
    assert rows_of(batches) == [
        (2, [dt.date(1904, 1, 2), 1]),
        (3, [dt.date(2024, 3, 1), 2]),
        (4, [dt.date(1999, 12, 31), 3]),
    ]


def test_error_cells_keep_their_text(tmp_path: Path) -> None:
    data = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>b</t></is></c></row>'
        '<row r="2"><c r="A2" t="e"><f>VLOOKUP(1,C:D,2)</f><v>#N/A</v></c><c r="B2"><v>7</v></c></row>'
        '<row r="3"><c r="A3"><v>1.5</v></c><c r="B3" t="e"><v>#REF!</v></c></row>'
    )
    _, batches = read_all(handmade_xlsx(tmp_path / "errors.xlsx", data))
    assert rows_of(batches) == [(2, ["#N/A", 7]), (3, [1.5, "#REF!"])]


def test_ods(tmp_path: Path) -> None:
    tables = (
        '<table:table table:name="People"><table:table-row>'
        '<table:table-cell office:value-type="string"><text:p>name</text:p></table:table-cell>'
        '<table:table-cell office:value-type="string"><text:p>born</text:p></table:table-cell>'
        '<table:table-cell office:value-type="string"><text:p>children</text:p></table:table-cell>'
        "</table:table-row>"
        '<table:table-row table:number-rows-repeated="2">'
        '<table:table-cell table:number-columns-repeated="3"/></table:table-row><table:table-row>'
        '<table:table-cell office:value-type="string"><text:p>Ada</text:p></table:table-cell>'
        '<table:table-cell office:value-type="date" office:date-value="1815-12-10"><text:p>x</text:p>'
        "</table:table-cell>"
        '<table:table-cell office:value-type="float" office:value="3"><text:p>3</text:p></table:table-cell>'
        "</table:table-row></table:table>"
        '<table:table table:name="Empty"/>'
    )
    info, batches = read_all(make_ods(tmp_path / "people.ods", tables))
    assert (info.format, info.sheets, info.sheet) == ("ods", ["People", "Empty"], "People")
    assert info.columns == ["name", "born", "children"]
    assert rows_of(batches) == [(4, ["Ada", dt.date(1815, 12, 10), 3])]


def zip_bomb(path: Path) -> Path:
    """An .xlsx whose sheet unpacks to 300 MiB of zeros from about 1.3 MB."""
    zeros = b"\0" * (4 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("xl/workbook.xml", WORKBOOK)
        with zf.open("xl/worksheets/sheet1.xml", "w") as member:
            for _ in range(75):
                member.write(zeros)
    assert path.stat().st_size < 2 << 20
    return path


def test_zip_bomb_is_refused_before_unpacking(tmp_path: Path) -> None:
    path = zip_bomb(tmp_path / "bomb.xlsx")
    err = inspect_error(path)
    assert err.code == "zip_bomb"
    assert "300 MiB" in err.message


def test_total_unpacked_size_limit(tmp_path: Path) -> None:
    err = inspect_error(sales_workbook(tmp_path / "sales.xlsx"), reader=SheetReader(max_uncompressed=10_000))
    assert err.code == "zip_bomb"
    assert "more than the 9.77 KiB allowed" in err.message


def test_memory_cap_kills_only_the_child(tmp_path: Path) -> None:
    # Small on disk and within every ZIP limit (10 MiB unpacked), but calamine copies the 10 MiB
    # shared string into each of the 24 cells that use it: a quarter of a gigabyte.
    cells = "".join(f'<c r="{c}{r}" t="s"><v>0</v></c>' for r in range(1, 7) for c in "ABCD")
    path = handmade_xlsx(tmp_path / "heavy.xlsx", f'<row r="1">{cells}</row>', shared=["x" * (10 << 20)])
    assert path.stat().st_size < 100_000
    tight = SheetReader(memory_limit=64 << 20)
    err = inspect_error(path, reader=tight)
    assert err.code == "file_too_complex"
    assert "64 MiB" in err.message
    # The parent lives on, and the same limit is plenty for an ordinary workbook.
    info = tight.inspect(sales_workbook(tmp_path / "sales.xlsx"), ReadOptions())
    assert info.sample == REPORT_ROWS


def test_xml_entities_are_never_expanded(tmp_path: Path) -> None:
    laughs = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    prolog = f'<!DOCTYPE worksheet [<!ENTITY lol0 "lol">{laughs}<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    data = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
        '<row r="3"><c r="A3" t="inlineStr"><is><t>&xxe;</t></is></c></row>'
    )
    err = inspect_error(handmade_xlsx(tmp_path / "laughs.xlsx", data, prolog=prolog))
    assert err.code == "unsafe_xml"
    assert "DOCTYPE" in err.message
    # Without a DOCTYPE an entity reference is simply invalid: calamine refuses it, nothing expands.
    err = inspect_error(handmade_xlsx(tmp_path / "undefined.xlsx", data))
    assert err.code == "corrupt"
    assert "entity" in err.message


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "PNG image"),
        (b"name,email\nAda,ada@example.com\n", "text"),
        (b"\x00\x01\x02\x03" * 100, "spreadsheet"),
    ],
)
def test_not_a_spreadsheet(tmp_path: Path, content: bytes, says: str) -> None:
    path = tmp_path / "data.xlsx"
    path.write_bytes(content)
    err = inspect_error(path)
    assert err.code == "not_a_spreadsheet"
    assert says in err.message


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "data.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("data.csv", "a,b\n")
    assert inspect_error(path).code == "not_a_spreadsheet"


def test_encrypted_workbooks(tmp_path: Path) -> None:
    err = inspect_error(make_ole(tmp_path / "secret.xlsx", ["EncryptionInfo", "EncryptedPackage"]))
    assert err.code == "encrypted"
    assert "password" in err.message
    path = tmp_path / "zipped.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("EncryptedPackage", b"\x00" * 64)
    assert inspect_error(path).code == "encrypted"


def test_damaged_xls(tmp_path: Path) -> None:
    # An OLE file with an empty Workbook stream: calamine finds no sheet in it.
    err = inspect_error(make_ole(tmp_path / "old.xls", ["Workbook"]))
    assert (err.code, err.message) == ("empty", "The workbook has no worksheets.")
    assert inspect_error(make_ole(tmp_path / "letter.xls", ["WordDocument"])).code == "not_a_spreadsheet"


def test_field_too_large_and_too_many_columns(tmp_path: Path) -> None:
    path = tmp_path / "wide.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("S")
    ws.write_row(0, 0, [f"c{i}" for i in range(12)])
    ws.write_row(1, 0, ["x" * 50, *range(11)])
    ws.write_row(2, 0, ["ok", *range(11)])
    wb.close()
    info, batches = read_all(path, ReadOptions(max_field_chars=10))
    assert info.sample == [(3, ["ok", *range(11)])]
    problems = [p for b in batches for p in b.problems]
    assert [(p.row, p.code) for p in problems] == [(2, "field_too_large")]
    assert inspect_error(path, ReadOptions(max_columns=10)).code == "too_many_columns"


def test_column_letters() -> None:
    assert [column_letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]


def test_the_detector_and_the_sheet_reader_share_one_member_limit(tmp_path: Path) -> None:
    """A workbook with one member too many is refused at upload already, not only when read."""
    path = tmp_path / "many.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        for i in range(limits.MAX_ZIP_MEMBERS):
            zf.writestr(f"x/{i}", b"")
    with pytest.raises(ReadError) as detected:
        detect.detect_format(path, "many.xlsx")
    assert f"{limits.MAX_ZIP_MEMBERS + 1} members" in detected.value.message
    err = inspect_error(path)
    assert err.code == "file_too_complex"
    assert f"{limits.MAX_ZIP_MEMBERS + 1} members" in err.message
