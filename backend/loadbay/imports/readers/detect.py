"""Which reader a file needs, from what it contains first and its name second.

Uploads arrive with whatever name the user's computer gave them: a PNG called ``data.xlsx``, an
HTML table called ``export.xls``, a TSV called ``report.xls``. The magic bytes decide; the
extension only breaks ties for content that carries no signature. Everything here reads a few
kilobytes (plus, for ZIP archives, the central directory, whose size is checked before it is read)
so it is safe to run in the web process on untrusted files.
"""

import json
import struct
import zipfile
from pathlib import Path

from loadbay.imports.readers.base import ReadError
from loadbay.imports.readers.limits import MAX_ZIP_DIRECTORY_BYTES, MAX_ZIP_MEMBERS

HEAD_BYTES = 64 * 1024
# A first NDJSON line longer than this is not looked at as a whole; the file is then taken for a
# single JSON document, which is what such a file almost always is.
FIRST_LINE_LIMIT = 1024 * 1024

ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ODS_MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"

# Signatures of files people upload by mistake, and what to call them in the error message.
_MAGIC_NAMES: list[tuple[bytes, str]] = [
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"BZh", "a bzip2-compressed file"),
    (b"\xfd7zXZ\x00", "an xz-compressed file"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x28\xb5\x2f\xfd", "a zstd-compressed file"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"PAR1", "a Parquet file"),
    (b"\x7fELF", "a program (ELF executable)"),
    (b"MZ", "a Windows program"),
]

_EXTENSIONS = {
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xls",
    ".ods": "ods",
    ".json": "json",
    ".geojson": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
}

_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def detect_format(path: Path, filename: str) -> str:
    """One of csv, xlsx, xls, ods, json, ndjson; ReadError when it is none of them or is encrypted.

    "csv" covers every delimited text (TSV, semicolons, pipes): the CSV reader sniffs the delimiter.
    """
    with path.open("rb") as f:
        head = f.read(HEAD_BYTES)
    if not head:
        raise ReadError("empty", "The file is empty.")
    suffix = Path(filename).suffix.lower()

    if head.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC)):
        return _zip_format(path, head)
    if head.startswith(OLE_MAGIC):
        return _ole_format(path, suffix)
    looks_like = magic_name(head)
    if looks_like:
        raise ReadError("not_supported", f"The file looks like {looks_like}, not a table of data.")

    json_kind = sniff_json(path, head)
    if json_kind:
        # One record on one line is a complete JSON document too; the name says which was meant.
        return "ndjson" if _EXTENSIONS.get(suffix) == "ndjson" else json_kind
    if is_text(head):
        _refuse_markup(head)
        # Text named .xls is common: web applications export TSV or CSV under that name. The CSV
        # reader reads it; the spreadsheet reader could not.
        ext_format = _EXTENSIONS.get(suffix)
        return ext_format if ext_format in ("json", "ndjson") else "csv"
    return _EXTENSIONS.get(suffix, "csv")


def magic_name(head: bytes) -> str | None:
    """What a known non-table signature says the file is ("a PNG image"), or None."""
    for magic, name in _MAGIC_NAMES:
        if head.startswith(magic):
            return name
    return None


def is_text(head: bytes) -> bool:
    """No NUL bytes (UTF-16 text with a BOM excepted) and hardly any other control characters."""
    if head.startswith(_UTF16_BOMS):
        return True
    if b"\x00" in head:
        return False
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return controls <= len(head) // 100


def _strip_bom_and_space(head: bytes) -> bytes:
    if head.startswith(_UTF8_BOM):
        head = head[len(_UTF8_BOM) :]
    return head.lstrip(b" \t\r\n")


def sniff_json(path: Path, head: bytes) -> str | None:
    """ "json" or "ndjson" when the text starts like JSON, else None.

    NDJSON is a first line that is a complete JSON object followed by a line starting with ``{``;
    a single object on one line is an ordinary JSON document.
    """
    body = _strip_bom_and_space(head)
    if body.startswith(b"["):
        return "json"
    if not body.startswith(b"{"):
        return None
    offset = len(head) - len(body)
    with path.open("rb") as f:
        f.seek(offset)
        first = f.readline(FIRST_LINE_LIMIT)
        if not first.endswith(b"\n"):
            return "json"
        try:
            value = json.loads(first)
        except (ValueError, RecursionError):
            return "json"
        if not isinstance(value, dict):
            return "json"
        for line in f:
            stripped = line.strip()
            if stripped:
                return "ndjson" if stripped.startswith(b"{") else "json"
            # Blank lines between records are tolerated; only a few are looked at.
            if f.tell() > offset + len(first) + HEAD_BYTES:
                break
    return "json"


def _refuse_markup(head: bytes) -> None:
    start = _strip_bom_and_space(head)[:512].lower()
    if b"urn:schemas-microsoft-com:office:spreadsheet" in head[:4096]:
        raise ReadError(
            "not_supported",
            "The file is an Excel 2003 XML spreadsheet; save it as .xlsx or CSV and upload that.",
        )
    if b"<html" in start or start.startswith((b"<!doctype html", b"<table")):
        raise ReadError(
            "not_supported",
            "The file is an HTML page (some programs save HTML tables under an .xls name); open it "
            "in a spreadsheet program, save it as .xlsx or CSV and upload that.",
        )
    if start.startswith(b"<?xml"):
        raise ReadError("not_supported", "The file is an XML document, not a table of data.")


# --- ZIP ---------------------------------------------------------------------------------------


def zip_directory_size(path: Path) -> tuple[int, int] | None:
    """(members, central directory bytes) from the end-of-central-directory record, or None."""
    size = path.stat().st_size
    # The record is 22 bytes plus a comment of at most 64 KiB at the very end of the file.
    tail_len = min(size, 22 + 65_535)
    with path.open("rb") as f:
        f.seek(size - tail_len)
        tail = f.read(tail_len)
    pos = tail.rfind(b"PK\x05\x06")
    if pos < 0 or pos + 22 > len(tail):
        return None
    members, directory_bytes = struct.unpack("<H4xI", tail[pos + 10 : pos + 20])
    if members == 0xFFFF or directory_bytes == 0xFFFFFFFF:
        # ZIP64: the real numbers are elsewhere; a spreadsheet never needs ZIP64 directories.
        return (MAX_ZIP_MEMBERS + 1, MAX_ZIP_DIRECTORY_BYTES + 1)
    return members, directory_bytes


def _first_member(head: bytes) -> tuple[str, bytes] | None:
    """Name and (if stored uncompressed) contents of the first local file entry."""
    if len(head) < 30 or not head.startswith(ZIP_MAGIC):
        return None
    method, compressed, name_len, extra_len = struct.unpack("<8xH8xI4xHH", head[:30])
    name = head[30 : 30 + name_len].decode("utf-8", "replace")
    data_start = 30 + name_len + extra_len
    data = head[data_start : data_start + compressed] if method == 0 else b""
    return name, data


def _zip_format(path: Path, head: bytes) -> str:
    # ODF puts an uncompressed "mimetype" member first so that it can be recognised this way.
    first = _first_member(head)
    if first and first[0] == "mimetype" and first[1]:
        return _odf_format(first[1].decode("ascii", "replace").strip())
    sizes = zip_directory_size(path)
    if sizes is None:
        raise ReadError("corrupt", "The file starts like a ZIP archive (as .xlsx files do) but is damaged.")
    members, directory_bytes = sizes
    if members > MAX_ZIP_MEMBERS or directory_bytes > MAX_ZIP_DIRECTORY_BYTES:
        raise ReadError(
            "not_supported", f"The file is a ZIP archive with {members} members, not a spreadsheet."
        )
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "mimetype" in names:
                with zf.open("mimetype") as member:
                    return _odf_format(member.read(200).decode("ascii", "replace").strip())
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        raise ReadError(
            "corrupt", "The file starts like a ZIP archive (as .xlsx files do) but is damaged."
        ) from exc
    if "EncryptedPackage" in names:
        raise ReadError("encrypted", ENCRYPTED_MESSAGE)
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "xl/workbook.bin" in names:
        raise ReadError(
            "not_supported", "The file is an Excel binary workbook (.xlsb); save it as .xlsx and upload that."
        )
    if "word/document.xml" in names:
        raise ReadError("not_supported", "The file is a Word document, not a table of data.")
    if any(name.startswith("ppt/") for name in names):
        raise ReadError("not_supported", "The file is a PowerPoint presentation, not a table of data.")
    raise ReadError(
        "not_supported",
        "The file is a ZIP archive, not a spreadsheet; unpack it and upload the file inside.",
    )


def _odf_format(mimetype: str) -> str:
    if mimetype == ODS_MIMETYPE:
        return "ods"
    kind = {
        "application/vnd.oasis.opendocument.text": "an OpenDocument text document (.odt)",
        "application/vnd.oasis.opendocument.presentation": "an OpenDocument presentation (.odp)",
    }.get(mimetype, f"an OpenDocument file of type {mimetype!r}")
    raise ReadError("not_supported", f"The file is {kind}, not a spreadsheet.")


# --- OLE compound files (.xls, and Office files encrypted with a password) ---------------------

ENCRYPTED_MESSAGE = (
    "The workbook is protected with a password (encrypted). Open it, remove the password "
    "(File > Info > Protect Workbook in Excel), save it and upload it again."
)

_FREESECT = 0xFFFFFFFF
_ENDOFCHAIN = 0xFFFFFFFE
_MAX_SECTOR = 0xFFFFFFFA


def ole_stream_names(path: Path) -> set[str]:
    """Names of every storage and stream in an OLE compound file (the [MS-CFB] format).

    Only the header, the allocation table and the directory are read. Raises ValueError when the
    structure is inconsistent.
    """
    size = path.stat().st_size
    with path.open("rb") as f:
        header = f.read(512)
        if len(header) < 512 or not header.startswith(OLE_MAGIC):
            raise ValueError("not an OLE compound file")
        (sector_shift,) = struct.unpack_from("<H", header, 0x1E)
        if sector_shift not in (9, 12):
            raise ValueError(f"unexpected sector size 2**{sector_shift}")
        sector_size = 1 << sector_shift
        max_sectors = size // sector_size + 1
        fat_count, first_dir, _, _, _, _, first_difat, difat_count = struct.unpack_from("<8I", header, 0x2C)
        if fat_count > max_sectors or difat_count > max_sectors:
            raise ValueError("allocation table larger than the file")

        def read_sector(index: int) -> bytes:
            if index > _MAX_SECTOR or index >= max_sectors:
                raise ValueError(f"sector {index} outside the file")
            f.seek((index + 1) * sector_size)
            data = f.read(sector_size)
            if len(data) < sector_size:
                raise ValueError(f"sector {index} cut short")
            return data

        # Where the FAT sectors are: 109 entries in the header, the rest in a chain of DIFAT sectors.
        fat_sectors = [s for s in struct.unpack_from("<109I", header, 0x4C) if s <= _MAX_SECTOR]
        per_difat = sector_size // 4 - 1
        difat = first_difat
        for _ in range(difat_count):
            if difat > _MAX_SECTOR:
                break
            entries = struct.unpack(f"<{per_difat + 1}I", read_sector(difat))
            fat_sectors.extend(s for s in entries[:per_difat] if s <= _MAX_SECTOR)
            difat = entries[per_difat]
        fat_sectors = fat_sectors[:fat_count]
        fat: list[int] = []
        for sector in fat_sectors:
            fat.extend(struct.unpack(f"<{sector_size // 4}I", read_sector(sector)))

        names: set[str] = set()
        seen: set[int] = set()
        sector = first_dir
        while sector != _ENDOFCHAIN:
            if sector in seen or sector >= len(fat):
                raise ValueError("broken directory chain")
            seen.add(sector)
            data = read_sector(sector)
            for start in range(0, sector_size, 128):
                entry = data[start : start + 128]
                name_len, kind = struct.unpack_from("<HB", entry, 0x40)
                if kind in (1, 2, 5) and 2 <= name_len <= 64:
                    names.add(entry[: name_len - 2].decode("utf-16-le", "replace"))
            sector = fat[sector]
    return names


def ole_format(names: set[str]) -> str:
    """ "xls" for an Excel 97-2003 workbook; ReadError for encrypted or other OLE documents."""
    if "EncryptedPackage" in names or "EncryptionInfo" in names:
        raise ReadError("encrypted", ENCRYPTED_MESSAGE)
    if "Workbook" in names or "Book" in names:
        return "xls"
    if "WordDocument" in names:
        raise ReadError("not_supported", "The file is a Word 97-2003 document, not a table of data.")
    if "PowerPoint Document" in names:
        raise ReadError(
            "not_supported", "The file is a PowerPoint 97-2003 presentation, not a table of data."
        )
    raise ReadError(
        "not_supported",
        "The file is an OLE compound document (an old Office format) without a workbook in it.",
    )


def _ole_format(path: Path, suffix: str) -> str:
    try:
        names = ole_stream_names(path)
    except (ValueError, struct.error, OSError) as exc:
        if suffix == ".xls":
            # Let the spreadsheet reader try: it says precisely what is wrong with the workbook.
            return "xls"
        raise ReadError("corrupt", "The file looks like an old Office document but is damaged.") from exc
    return ole_format(names)
