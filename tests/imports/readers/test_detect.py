"""detect_format: magic bytes first, the file name second, CSV by default."""

import struct
import zipfile
from pathlib import Path

import pytest
import xlsxwriter

from loadbay.imports.readers.base import ReadError
from loadbay.imports.readers.detect import OLE_MAGIC, detect_format, ole_stream_names

ODS_CONTENT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">
<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body></office:document-content>"""


def make_ods(
    path: Path, tables: str, *, mimetype: str = "application/vnd.oasis.opendocument.spreadsheet"
) -> Path:
    """A minimal OpenDocument file: what LibreOffice writes, less the styles and metadata."""
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{mimetype}"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), mimetype, compress_type=zipfile.ZIP_STORED)
        zf.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("content.xml", ODS_CONTENT.format(tables=tables), compress_type=zipfile.ZIP_DEFLATED)
    return path


def make_ole(path: Path, streams: list[str]) -> Path:
    """A minimal OLE compound file ([MS-CFB], version 3) whose directory lists ``streams`` (at most 3).

    The streams are empty: enough to tell an .xls from an encrypted .xlsx or a .doc.
    """
    end, free, fat_sector = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    header = bytearray(512)
    header[:8] = OLE_MAGIC
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<II", header, 0x2C, 1, 1)  # one FAT sector; the directory starts at sector 1
    struct.pack_into("<III", header, 0x38, 4096, end, 0)  # mini stream cutoff, no mini FAT
    struct.pack_into("<II", header, 0x44, end, 0)  # no DIFAT sectors
    struct.pack_into("<109I", header, 0x4C, 0, *[free] * 108)
    fat = struct.pack("<128I", fat_sector, end, *[free] * 126)
    directory = b""
    for name, kind in [("Root Entry", 5), *((s, 2) for s in streams)]:
        entry = bytearray(128)
        raw = name.encode("utf-16-le") + b"\0\0"
        entry[: len(raw)] = raw
        struct.pack_into("<HBB", entry, 0x40, len(raw), kind, 1)
        struct.pack_into("<III", entry, 0x44, free, free, free)
        struct.pack_into("<I", entry, 0x74, end)
        directory += bytes(entry)
    path.write_bytes(bytes(header) + fat + directory.ljust(512, b"\0"))
    return path


def make_xlsx(path: Path) -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    workbook.add_worksheet().write_row(0, 0, ["a", "b"])
    workbook.close()
    return path


def write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("people.csv", b"name,email\nAda,ada@example.com\n", "csv"),
        ("people.tsv", b"name\temail\nAda\tada@example.com\n", "csv"),
        ("upload", b"name;email\nAda;ada@example.com\n", "csv"),
        # Web applications export TSV under an .xls name; the CSV reader reads it.
        ("bank-export.xls", b"date\tamount\n2024-01-02\t3.50\n", "csv"),
        ("items.json", b'[{"a": 1}, {"a": 2}]', "json"),
        ("items.txt", b'\xef\xbb\xbf \n  [{"a": 1}]', "json"),
        ("export.json", b'{\n  "orderedItems": [{"a": 1}]\n}\n', "json"),
        ("one.json", b'{"a": 1}\n', "json"),
        ("events", b'{"a": 1}\n{"a": 2}\n', "ndjson"),
        ("events.json", b'{"a": 1}\n\n{"a": 2}', "ndjson"),
        ("one.jsonl", b'{"a": 1}\n', "ndjson"),
        ("weird.bin", b"\x01\x02\x03\x04" * 10, "csv"),
        ("old.xls", b"\x09\x08\x10\x00\x00\x06\x05\x00" * 10, "xls"),
    ],
)
def test_text_and_extension(tmp_path: Path, name: str, content: bytes, expected: str) -> None:
    assert detect_format(write(tmp_path, name, content), name) == expected


def test_xlsx_by_content_whatever_the_name(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "upload.bin")
    assert detect_format(path, "report.csv") == "xlsx"


def test_ods_by_its_mimetype_member(tmp_path: Path) -> None:
    path = make_ods(tmp_path / "sheet.ods", "")
    assert detect_format(path, "sheet.xlsx") == "ods"


def test_ods_whose_mimetype_is_not_first(tmp_path: Path) -> None:
    path = tmp_path / "sheet"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("content.xml", "<x/>")
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
    assert detect_format(path, "sheet") == "ods"


def test_odt_is_refused(tmp_path: Path) -> None:
    path = make_ods(tmp_path / "letter.ods", "", mimetype="application/vnd.oasis.opendocument.text")
    with pytest.raises(ReadError) as err:
        detect_format(path, "letter.ods")
    assert err.value.code == "not_supported"
    assert "text document" in err.value.message


@pytest.mark.parametrize(
    ("members", "says"),
    [
        (["word/document.xml", "[Content_Types].xml"], "Word"),
        (["ppt/presentation.xml"], "PowerPoint"),
        (["xl/workbook.bin"], ".xlsb"),
        (["data.csv"], "ZIP archive"),
    ],
)
def test_other_zip_files_are_refused(tmp_path: Path, members: list[str], says: str) -> None:
    path = tmp_path / "file.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        for member in members:
            zf.writestr(member, "x")
    with pytest.raises(ReadError) as err:
        detect_format(path, "file.xlsx")
    assert err.value.code == "not_supported"
    assert says in err.value.message


def test_damaged_zip(tmp_path: Path) -> None:
    path = write(tmp_path, "book.xlsx", b"PK\x03\x04" + b"\x00" * 200)
    with pytest.raises(ReadError) as err:
        detect_format(path, "book.xlsx")
    assert err.value.code == "corrupt"


def test_ole_workbook_is_xls(tmp_path: Path) -> None:
    path = make_ole(tmp_path / "old", ["Workbook", "\x05SummaryInformation"])
    assert ole_stream_names(path) == {"Root Entry", "Workbook", "\x05SummaryInformation"}
    assert detect_format(path, "old") == "xls"


def test_encrypted_xlsx_is_refused(tmp_path: Path) -> None:
    # Excel saves a password-protected .xlsx as an OLE file holding EncryptionInfo and EncryptedPackage.
    path = make_ole(tmp_path / "secret.xlsx", ["EncryptionInfo", "EncryptedPackage"])
    with pytest.raises(ReadError) as err:
        detect_format(path, "secret.xlsx")
    assert err.value.code == "encrypted"
    assert "password" in err.value.message


def test_word_97_document_is_refused(tmp_path: Path) -> None:
    path = make_ole(tmp_path / "letter.xls", ["WordDocument"])
    with pytest.raises(ReadError) as err:
        detect_format(path, "letter.xls")
    assert err.value.code == "not_supported"
    assert "Word" in err.value.message


def test_damaged_ole_named_xls_goes_to_the_spreadsheet_reader(tmp_path: Path) -> None:
    path = write(tmp_path, "old.xls", OLE_MAGIC + b"\x00" * 100)
    assert detect_format(path, "old.xls") == "xls"
    with pytest.raises(ReadError) as err:
        detect_format(path, "old.doc")
    assert err.value.code == "corrupt"


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "PNG image"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 50, "JPEG image"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF document"),
        (b"\x1f\x8b\x08\x00" + b"\x00" * 50, "gzip"),
    ],
)
def test_non_tables_are_named(tmp_path: Path, content: bytes, says: str) -> None:
    path = write(tmp_path, "data.xlsx", content)
    with pytest.raises(ReadError) as err:
        detect_format(path, "data.xlsx")
    assert err.value.code == "not_supported"
    assert says in err.value.message


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"<!DOCTYPE html><html><body><table><tr><td>1</td></tr></table>", "HTML"),
        (b"<html><table><tr><td>1</td></tr></table></html>", "HTML"),
        (
            b'<?xml version="1.0"?>\n<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">'
            b"</Workbook>",
            "Excel 2003 XML",
        ),
    ],
)
def test_markup_named_xls_is_refused(tmp_path: Path, content: bytes, says: str) -> None:
    path = write(tmp_path, "report.xls", content)
    with pytest.raises(ReadError) as err:
        detect_format(path, "report.xls")
    assert err.value.code == "not_supported"
    assert says in err.value.message


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ReadError) as err:
        detect_format(write(tmp_path, "empty.csv", b""), "empty.csv")
    assert err.value.code == "empty"
