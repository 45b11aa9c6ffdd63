"""XLSX, XLS and ODS workbooks, read with calamine in a child process under a memory cap.

A spreadsheet is a compressed archive of XML (or, for .xls, a binary format): a few kilobytes can
unpack to gigabytes, and calamine loads a whole sheet into memory. So every byte of the workbook is
looked at in a child process (``python -m loadbay.imports.readers.sheet_reader``) whose address
space is capped with ``RLIMIT_AS``: a decompression bomb kills the child, and the parent turns the
dead child into ``ReadError("file_too_complex")`` and carries on. Before calamine opens a ZIP-based
workbook the child refuses, from the ZIP directory alone, archives that would unpack to too much
or at an absurd ratio (``zip_bomb``), encrypted workbooks (``encrypted``) and XML parts that declare
a DOCTYPE (``unsafe_xml``: entity expansion and external entities have no place in a workbook).

The child sends the non-blank rows of the chosen sheet down a pipe as pickled lists, a few thousand
rows per message; the pipe's back-pressure keeps the parent's memory bounded whatever the size of
the sheet. The parent decides the header, the columns and the row problems, so that ``inspect()``
and ``batches()`` share one code path.

Cells keep their spreadsheet type: str, int, float, bool, ``datetime.date``, ``datetime.datetime``,
``datetime.time`` or ``datetime.timedelta``; empty cells are None. Integral floats below 2**53
become int (spreadsheets store every number as a float, and "3" typed into a cell should not
arrive as 3.0). Error cells (#DIV/0!, #N/A …) keep their error text as a string in XLSX files;
XLS and ODS error cells arrive empty because calamine does not report them. Row numbers are the
ones the spreadsheet program shows.
"""

import html
import json
import logging
import os
import pickle
import re
import resource
import signal
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from itertools import chain, islice
from pathlib import Path
from typing import IO, Any

from loadbay.imports.readers import detect
from loadbay.imports.readers.base import (
    Batch,
    Cell,
    FileInfo,
    ReadError,
    ReadOptions,
    RowProblem,
    unique_columns,
)
from loadbay.imports.readers.limits import BOMB_MIN_BYTES, BOMB_RATIO, MAX_UNCOMPRESSED_BYTES, MAX_ZIP_MEMBERS

log = logging.getLogger(__name__)

MEMORY_LIMIT_BYTES = 1 << 30  # address space of the child; calamine holds a whole sheet in memory
CPU_LIMIT_SECONDS = 900  # CPU time of the child: parsing a legitimate million-row sheet takes far less
HEADER_SCAN_ROWS = 20  # non-blank rows looked at to find a header below title rows
LAYOUT_ROWS = 100  # data rows after the header that decide the table's first and last column
CHILD_BATCH_ROWS = 2_000  # rows per message from the child
MAX_ERROR_CELLS = 100_000  # error cells (#N/A …) remembered per sheet; beyond that they arrive empty
MAX_XML_PROLOG = 64 * 1024  # bytes of an XML part read to find its root element (and any DOCTYPE)
_FLOAT_INT_LIMIT = 2**53  # every integer below this is exactly representable as a float

_CHILD_MODULE = "loadbay.imports.readers.sheet_reader"
_MESSAGE_TOO_COMPLEX = (
    "The spreadsheet needs more than {limit} of memory to open, so it was not read. It may be a "
    "decompression bomb, or just very large: save the sheet as CSV and upload that instead."
)
_MESSAGE_TOO_SLOW = (
    "Reading the spreadsheet took too long, so it was stopped. Save the sheet as CSV and upload that instead."
)

RawRow = tuple[int, list[Cell]]  # spreadsheet row number, cells from the sheet's first used column


class SheetReader:
    """The :class:`~loadbay.imports.readers.base.Reader` for .xlsx, .xls and .ods workbooks.

    The limits are parameters so that tests (and operators) can tighten them; the defaults are the
    module constants.
    """

    def __init__(
        self,
        *,
        memory_limit: int = MEMORY_LIMIT_BYTES,
        cpu_seconds: int = CPU_LIMIT_SECONDS,
        max_uncompressed: int = MAX_UNCOMPRESSED_BYTES,
        bomb_ratio: int = BOMB_RATIO,
        bomb_min_bytes: int = BOMB_MIN_BYTES,
    ) -> None:
        self.memory_limit = memory_limit
        self.cpu_seconds = cpu_seconds
        self.max_uncompressed = max_uncompressed
        self.bomb_ratio = bomb_ratio
        self.bomb_min_bytes = bomb_min_bytes

    def inspect(self, path: Path, options: ReadOptions, *, sample_rows: int = 100) -> FileInfo:
        with _Child(self._job(path, options.sheet), self.memory_limit) as child:
            book, sheet = child.start()
            rows = child.rows()
            header_num, header, pending = _split_header(rows, options.header_row)
            pending.extend(islice(rows, max(LAYOUT_ROWS, sample_rows) - len(pending)))
        start_col = int(sheet["start_col"])
        offset, width = _layout(header, pending[:LAYOUT_ROWS])
        if width == 0:
            below = f" below row {header_num}" if header_num else ""
            raise ReadError("empty", f"The sheet {sheet['name']!r} has no data{below}.")
        if width > options.max_columns:
            raise ReadError(
                "too_many_columns",
                f"The sheet has {width} columns; at most {options.max_columns} are supported.",
            )
        if header is None:
            columns, column_warnings = unique_columns([f"column {i}" for i in range(1, width + 1)])
        else:
            names = header[offset : offset + width]
            columns, column_warnings = unique_columns(names + [None] * (width - len(names)))
        sample: list[tuple[int, list[Cell]]] = []
        for rownum, cells in pending:
            if len(sample) >= sample_rows:
                break
            aligned = _align(rownum, cells, offset, width, start_col, columns, options)
            if not isinstance(aligned, RowProblem):
                sample.append((rownum, aligned))
        warnings = [*book["warnings"], *sheet["warnings"], *column_warnings]
        return FileInfo(
            format=book["format"],
            columns=columns,
            sample=sample,
            header_row=header_num,
            sheets=[name for name, _ in book["sheets"]],
            sheet=sheet["name"],
            warnings=warnings,
        )

    def batches(
        self, path: Path, info: FileInfo, options: ReadOptions, *, batch_size: int = 50_000
    ) -> Iterator[Batch]:
        sheet_name = info.sheet or options.sheet
        with _Child(self._job(path, sheet_name), self.memory_limit) as child:
            _, sheet = child.start()
            rows = child.rows()
            _, header, pending = _split_header(rows, info.header_row)
            pending.extend(islice(rows, LAYOUT_ROWS - len(pending)))
            offset, width = _layout(header, pending[:LAYOUT_ROWS])
            if width != len(info.columns):
                raise ReadError(
                    "file_changed",
                    f"The sheet now has {width} columns instead of {len(info.columns)}; "
                    "the file changed since it was inspected. Upload it again.",
                )
            start_col = int(sheet["start_col"])
            batch = Batch(rows=[])
            for rownum, cells in chain(pending, rows):
                aligned = _align(rownum, cells, offset, width, start_col, info.columns, options)
                if isinstance(aligned, RowProblem):
                    batch.problems.append(aligned)
                else:
                    batch.rows.append((rownum, aligned))
                if len(batch.rows) + len(batch.problems) >= batch_size:
                    yield batch
                    batch = Batch(rows=[])
            if batch.rows or batch.problems:
                yield batch

    def _job(self, path: Path, sheet: str | None) -> dict[str, Any]:
        return {
            "path": str(path),
            "sheet": sheet,
            "memory_limit": self.memory_limit,
            "cpu_seconds": self.cpu_seconds,
            "max_uncompressed": self.max_uncompressed,
            "bomb_ratio": self.bomb_ratio,
            "bomb_min_bytes": self.bomb_min_bytes,
        }


# --- the parent's view of the rows ---------------------------------------------------------------


def _filled(cells: list[Cell]) -> int:
    return sum(1 for c in cells if c is not None)


def _find_header(rows: list[RawRow]) -> int:
    """Index of the header among the first non-blank rows.

    Title rows ("Sales 2024", "Exported on …") sit above the table and fill one or two cells; the
    header is the first row that is mostly text and about as wide as the rows below it.
    """
    for i, (_, cells) in enumerate(rows[:10]):
        filled = _filled(cells)
        texts = sum(1 for c in cells if isinstance(c, str))
        if texts == 0 or texts * 2 < filled:
            continue
        below = sorted(_filled(c) for _, c in rows[i + 1 : i + 11])
        if not below or filled >= 0.75 * below[len(below) // 2]:
            return i
    return 0


def _split_header(
    rows: Iterator[RawRow], header_row: int | None
) -> tuple[int, list[Cell] | None, list[RawRow]]:
    """(header row number or 0, header cells or None, data rows already taken from ``rows``)."""
    if header_row == 0:
        return 0, None, []
    if header_row is None:
        scan = list(islice(rows, HEADER_SCAN_ROWS))
        if not scan:
            return 0, None, []
        i = _find_header(scan)
        return scan[i][0], scan[i][1], scan[i + 1 :]
    for rownum, cells in rows:
        if rownum == header_row:
            return header_row, cells, []
        if rownum > header_row:
            # The chosen header row is blank: every column gets a generated name.
            return header_row, [], [(rownum, cells)]
    return header_row, [], []


def _layout(header: list[Cell] | None, rows: list[RawRow]) -> tuple[int, int]:
    """(offset of the table's first column in the row lists, number of columns).

    The table spans the columns used by the header and the first data rows; a title sitting in a
    column left of the table does not add an empty column.
    """
    first, end = None, 0
    for cells in [header or [], *(c for _, c in rows)]:
        used = [i for i, c in enumerate(cells) if c is not None]
        if used:
            first = used[0] if first is None else min(first, used[0])
            end = max(end, used[-1] + 1)
    if first is None:
        return 0, 0
    return first, end - first


def column_letter(index: int) -> str:
    """Spreadsheet column name of a 0-based index: 0 → A, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _align(
    rownum: int,
    cells: list[Cell],
    offset: int,
    width: int,
    start_col: int,
    columns: list[str],
    options: ReadOptions,
) -> list[Cell] | RowProblem:
    row = cells[offset : offset + width]
    outside = [i for i, c in enumerate(cells) if c is not None and not offset <= i < offset + width]
    if outside:
        first, last = column_letter(start_col + offset), column_letter(start_col + offset + width - 1)
        return RowProblem(
            row=rownum,
            code="too_many_fields",
            message=(
                f"expected values in columns {first} to {last} only, got one in column "
                f"{column_letter(start_col + outside[0])}"
            ),
            cells=list(cells),
        )
    row.extend([None] * (width - len(row)))
    for i, value in enumerate(row):
        if isinstance(value, str) and len(value) > options.max_field_chars:
            return RowProblem(
                row=rownum,
                code="field_too_large",
                message=(
                    f"column {columns[i]!r} holds {len(value)} characters; "
                    f"at most {options.max_field_chars} are allowed"
                ),
                cells=[v[:200] + "…" if isinstance(v, str) and len(v) > 200 else v for v in row],
            )
    return row


# --- the child process, seen from the parent -------------------------------------------------------


class _RowUnpickler(pickle.Unpickler):
    """Only the types a cell can hold: a misbehaving child cannot make the parent run code."""

    _ALLOWED = frozenset(
        {("datetime", "date"), ("datetime", "datetime"), ("datetime", "time"), ("datetime", "timedelta")}
    )

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"unexpected type {module}.{name} from the spreadsheet reader")


def _format_bytes(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    size = n / 1024
    for unit in ("KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{size:.3g} {unit}"
        size /= 1024
    return f"{size:.3g} TiB"


class _Child:
    """One run of the child process; a context manager that always reaps it."""

    def __init__(self, job: dict[str, Any], memory_limit: int) -> None:
        self.memory_limit = memory_limit
        # The child may link the workbook here under a name calamine recognises. The parent owns
        # the directory so that it is removed even when the child is killed.
        self.tmp = tempfile.TemporaryDirectory(prefix="loadbay-sheet-")
        self.job = {**job, "tmp": self.tmp.name}
        # stderr goes to a file, not a pipe: a child that writes much to it cannot block on a pipe
        # that the parent is not reading.
        self.stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self.proc = subprocess.Popen(  # noqa: S603 - fixed argv: this interpreter and this module
            [sys.executable, "-m", _CHILD_MODULE, json.dumps(self.job)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
        )
        assert self.proc.stdout is not None
        self.stdout: IO[bytes] = self.proc.stdout

    def __enter__(self) -> "_Child":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.stdout.close()
        self.stderr.close()
        self.tmp.cleanup()

    def _receive(self) -> tuple[Any, ...]:
        try:
            # The child is our own code reading untrusted input; _RowUnpickler refuses every class
            # that a row cannot contain, so even a subverted child cannot reach beyond data.
            message = _RowUnpickler(self.stdout).load()
        except (EOFError, pickle.UnpicklingError, ValueError) as exc:
            raise self._death() from exc
        if not isinstance(message, tuple) or not message:
            raise ReadError("reader_failed", "The spreadsheet reader sent something unexpected.")
        if message[0] == "error":
            raise ReadError(str(message[1]), str(message[2]))
        return message

    def _death(self) -> ReadError:
        """The ReadError for a child that stopped without finishing."""
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.stderr.seek(0)
        err = self.stderr.read()[-4000:].decode("utf-8", "replace")
        limit = _format_bytes(self.memory_limit)
        if code in (-signal.SIGXCPU, -signal.SIGKILL) and "memory" not in err:
            return ReadError("file_too_complex", _MESSAGE_TOO_SLOW)
        if code < 0 or "memory allocation" in err or "MemoryError" in err:
            # RLIMIT_AS makes allocations fail: Rust aborts (SIGABRT), Python raises MemoryError, and
            # either can also happen while the interpreter itself needs memory.
            log.info("spreadsheet reader child died (exit %s): %s", code, err.strip()[-500:])
            return ReadError("file_too_complex", _MESSAGE_TOO_COMPLEX.format(limit=limit))
        log.warning("spreadsheet reader child failed (exit %s): %s", code, err.strip()[-2000:])
        return ReadError(
            "reader_failed", f"The spreadsheet could not be read (the reader stopped with status {code})."
        )

    def start(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The workbook's and the chosen sheet's description."""
        book = self._receive()
        sheet = self._receive()
        if book[0] != "book" or sheet[0] != "sheet":
            raise ReadError("reader_failed", "The spreadsheet reader sent something unexpected.")
        return book[1], sheet[1]

    def rows(self) -> Iterator[RawRow]:
        while True:
            message = self._receive()
            if message[0] == "end":
                return
            yield from message[1]


# --- the child process itself ----------------------------------------------------------------------


def _set_limits(memory_limit: int, cpu_seconds: int) -> None:
    for kind, value in (
        (resource.RLIMIT_AS, memory_limit),
        (resource.RLIMIT_CPU, cpu_seconds),
        (resource.RLIMIT_CORE, 0),  # a crash on a hostile file should not leave a core dump behind
    ):
        _, hard = resource.getrlimit(kind)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(kind, (value, value if kind != resource.RLIMIT_CPU else hard))


def _precheck(path: Path, job: dict[str, Any]) -> str:
    """The workbook format, after refusing what calamine should never be given."""
    with path.open("rb") as f:
        head = f.read(4096)
    if not head:
        raise ReadError("empty", "The file is empty.")
    if head.startswith((detect.ZIP_MAGIC, detect.EMPTY_ZIP_MAGIC)):
        return _check_zip(path, job)
    if head.startswith(detect.OLE_MAGIC):
        try:
            names = detect.ole_stream_names(path)
        except (ValueError, OSError) as exc:
            raise ReadError(
                "corrupt", "The file looks like an Excel 97-2003 workbook but is damaged."
            ) from exc
        try:
            return detect.ole_format(names)
        except ReadError as exc:
            if exc.code == "encrypted":
                raise
            raise ReadError("not_a_spreadsheet", exc.message) from exc
    looks_like = detect.magic_name(head) or ("text" if detect.is_text(head) else None)
    described = f" (it looks like {looks_like})" if looks_like else ""
    raise ReadError("not_a_spreadsheet", f"The file is not an Excel or OpenDocument spreadsheet{described}.")


def _check_zip(path: Path, job: dict[str, Any]) -> str:
    sizes = detect.zip_directory_size(path)
    if sizes is None:
        raise ReadError("corrupt", "The file starts like a ZIP archive (as .xlsx files do) but is damaged.")
    if sizes[0] > MAX_ZIP_MEMBERS:
        raise ReadError(
            "file_too_complex", f"The file is a ZIP archive with {sizes[0]} members, too many for a workbook."
        )
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ReadError(
            "corrupt", "The file starts like a ZIP archive (as .xlsx files do) but is damaged."
        ) from exc
    with zf:
        infos = zf.infolist()
        names = {info.filename for info in infos}
        total = sum(info.file_size for info in infos)
        if total > job["max_uncompressed"]:
            raise ReadError(
                "zip_bomb",
                f"The workbook would unpack to {_format_bytes(total)}, more than the "
                f"{_format_bytes(job['max_uncompressed'])} allowed.",
            )
        for info in infos:
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > job["bomb_min_bytes"] and ratio > job["bomb_ratio"]:
                raise ReadError(
                    "zip_bomb",
                    f"The workbook part {info.filename!r} unpacks {ratio:.0f} times its size "
                    f"(to {_format_bytes(info.file_size)}); that is a decompression bomb, not a spreadsheet.",
                )
            if info.flag_bits & 0x1:
                raise ReadError("encrypted", "The workbook is inside an encrypted ZIP archive.")
        if "EncryptedPackage" in names:
            raise ReadError("encrypted", detect.ENCRYPTED_MESSAGE)
        if "mimetype" in names:
            with zf.open("mimetype") as member:
                mimetype = member.read(200).decode("ascii", "replace").strip()
            if mimetype != detect.ODS_MIMETYPE:
                raise ReadError(
                    "not_a_spreadsheet",
                    f"The file is an OpenDocument file of type {mimetype!r}, not a spreadsheet.",
                )
            fmt = "ods"
            if "META-INF/manifest.xml" in names:
                with zf.open("META-INF/manifest.xml") as member:
                    if b"encryption-data" in member.read(1 << 20):
                        raise ReadError("encrypted", detect.ENCRYPTED_MESSAGE)
        elif "xl/workbook.xml" in names:
            fmt = "xlsx"
        elif "xl/workbook.bin" in names:
            raise ReadError(
                "not_supported",
                "The file is an Excel binary workbook (.xlsb); save it as .xlsx and upload that.",
            )
        else:
            raise ReadError(
                "not_a_spreadsheet", "The file is a ZIP archive, not an Excel or OpenDocument spreadsheet."
            )
        for info in infos:
            if info.filename.endswith((".xml", ".rels")):
                _check_prolog(zf, info)
    return fmt


_ROOT_ELEMENT = re.compile(rb"<[A-Za-z_]")


def _check_prolog(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Refuse an XML part whose prolog declares a DOCTYPE (where entities are defined)."""
    buf = b""
    try:
        with zf.open(info) as member:
            while len(buf) < MAX_XML_PROLOG:
                chunk = member.read(4096)
                if not chunk:
                    break
                buf += chunk
                text = (
                    buf.decode("utf-16", "replace").encode()
                    if buf.startswith((b"\xff\xfe", b"\xfe\xff"))
                    else buf
                )
                root = _ROOT_ELEMENT.search(text)
                if root:
                    buf = text[: root.start()]
                    break
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ReadError("corrupt", f"The workbook part {info.filename!r} is damaged.") from exc
    if b"<!DOCTYPE" in buf.upper() or b"<!ENTITY" in buf.upper():
        raise ReadError(
            "unsafe_xml",
            f"The workbook part {info.filename!r} declares an XML document type (DOCTYPE). "
            "Spreadsheets never need one, and it is how entity-expansion and external-entity "
            "attacks work, so the file was not read.",
        )


def _open_path(path: Path, fmt: str, tmp: Path) -> Path:
    """A path calamine will open as ``fmt``: it picks its parser from the file name's extension."""
    if path.suffix.lower() == f".{fmt}":
        return path
    link = tmp / f"workbook.{fmt}"
    link.symlink_to(path.resolve())
    return link


_SHEET_TAG = re.compile(rb"<(?:\w+:)?sheet\b([^>]*)>")
_REL_TAG = re.compile(rb"<(?:\w+:)?Relationship\b([^>]*)>")
_ATTR = re.compile(rb'([\w:]+)\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')


def _attrs(raw: bytes) -> dict[str, str]:
    return {
        m[1].decode(): html.unescape((m[2] if m[2] is not None else m[3]).decode("utf-8", "replace"))
        for m in _ATTR.finditer(raw)
    }


def _xlsx_sheet_part(zf: zipfile.ZipFile, sheet_name: str) -> str | None:
    """The ZIP member holding the named worksheet, from workbook.xml and its relationships."""
    try:
        workbook = zf.read("xl/workbook.xml")
        rels = zf.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return None
    rel_id = None
    for m in _SHEET_TAG.finditer(workbook):
        attrs = _attrs(m[1])
        if attrs.get("name") == sheet_name:
            rel_id = next((v for k, v in attrs.items() if k == "id" or k.endswith(":id")), None)
            break
    for m in _REL_TAG.finditer(rels):
        attrs = _attrs(m[1])
        if rel_id is not None and attrs.get("Id") == rel_id:
            target = attrs.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else os.path.normpath(f"xl/{target}")
    return None


_CELL_REF = re.compile(rb'\br\s*=\s*["\']([A-Z]+)(\d+)["\']')
# An error cell's attributes (t="e", and no "/" of a self-closing tag) and its body up to its end.
_ERROR_CELL = re.compile(rb'<(?:\w+:)?c\b([^>]*?\bt\s*=\s*["\']e["\'][^>/]*)>(.*?)</(?:\w+:)?c>', re.DOTALL)
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
# A formula followed by no value (or an empty one) and the end of its cell: never calculated.
_UNCALCULATED = re.compile(
    rb"<(?:\w+:)?f\b[^>]*(?:/>|>[^<]*</(?:\w+:)?f>)\s*(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)?\s*</(?:\w+:)?c>"
)
_CELL_END = re.compile(rb"</(?:\w+:)?c>")


def _last_cell_end(buf: bytes) -> int:
    """End of the last complete cell in ``buf``, 0 when there is none (the chunk is carried over)."""
    last = 0
    for m in _CELL_END.finditer(buf):
        last = m.end()
    return last


def _column_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n - 1


def _scan_xlsx_sheet(zf: zipfile.ZipFile, part: str) -> tuple[dict[int, dict[int, str]], int, bool]:
    """Error cells by row number and column index, formulas without a result, whether errors overflowed.

    calamine reports error cells and never-calculated formulas as empty; the sheet XML says which
    they are. It is streamed in chunks cut after a cell's end, so a cell never straddles two chunks.
    """
    errors: dict[int, dict[int, str]] = {}
    count = uncalculated = 0
    overflow = False
    carry = b""
    with zf.open(part) as member:
        while True:
            chunk = member.read(1 << 20)
            buf = carry + chunk
            if chunk:
                ends = [m.end() for m in _CELL_END.finditer(buf, max(0, len(buf) - (1 << 16)))]
                cut = ends[-1] if ends else _last_cell_end(buf)
                buf, carry = buf[:cut], buf[cut:]
            else:
                carry = b""
            if b"<f" in buf or b"<x:f" in buf:
                uncalculated += len(_UNCALCULATED.findall(buf))
            if re.search(rb't\s*=\s*["\']e["\']', buf):
                for m in _ERROR_CELL.finditer(buf):
                    ref = _CELL_REF.search(m[1])
                    value = _VALUE.search(m[2])
                    if ref is None or value is None:
                        continue
                    if count >= MAX_ERROR_CELLS:
                        overflow = True
                        break
                    row, col = int(ref[2]), _column_index(ref[1])
                    errors.setdefault(row, {})[col] = html.unescape(value[1].decode("utf-8", "replace"))
                    count += 1
            if not chunk:
                break
            if len(carry) > 64 << 20:
                # One cell longer than 64 MiB: not worth remembering for a warning.
                carry = carry[-1024:]
    return errors, uncalculated, overflow


def _to_cell(value: Any) -> Cell:
    kind = type(value)
    if kind is str:
        return value or None
    if kind is float and value.is_integer() and -_FLOAT_INT_LIMIT < value < _FLOAT_INT_LIMIT:
        return int(value)
    return value


def _choose_sheet(
    workbook: Any, sheets: list[tuple[str, bool]], wanted: str | None
) -> tuple[str, Any, list[str]]:
    """(name, calamine sheet, warnings); the default is the first visible sheet that has data."""
    names = [name for name, _ in sheets]
    if wanted is not None:
        if wanted not in names:
            folded = [n for n in names if n.casefold() == wanted.strip().casefold()]
            if len(folded) != 1:
                listed = ", ".join(repr(n) for n in names)
                raise ReadError(
                    "sheet_not_found", f"The workbook has no sheet named {wanted!r}; its sheets are {listed}."
                )
            wanted = folded[0]
        return wanted, workbook.get_sheet_by_name(wanted), []
    visible = [name for name, shown in sheets if shown] or names
    if not visible:
        raise ReadError("empty", "The workbook has no worksheets.")
    for name in visible:
        sheet = workbook.get_sheet_by_name(name)
        if sheet.start is not None:
            warnings = (
                []
                if name == visible[0]
                else [f"The first sheet {visible[0]!r} is empty; reading {name!r} instead."]
            )
            return name, sheet, warnings
    raise ReadError("empty", "Every sheet of the workbook is empty.")


def _xlsx_extras(path: Path, sheet_name: str, warnings: list[str]) -> dict[int, dict[int, str]]:
    """The sheet's error cells by row and column; warns about formulas that were never calculated."""
    with zipfile.ZipFile(path) as zf:
        part = _xlsx_sheet_part(zf, sheet_name)
        if part is None or part not in zf.namelist():
            return {}
        errors, uncalculated, overflow = _scan_xlsx_sheet(zf, part)
    if uncalculated:
        warnings.append(
            f"{uncalculated} formula cells have no saved result (the program that wrote the file "
            "does not calculate formulas); they are read as empty. Open and save the file in Excel "
            "or LibreOffice to calculate them."
        )
    if overflow:
        warnings.append(
            f"More than {MAX_ERROR_CELLS} cells hold errors (#N/A, #DIV/0! …); "
            "the ones after that are read as empty."
        )
    return errors


def _child_run(job: dict[str, Any], send: Callable[[tuple[Any, ...]], None]) -> None:
    # Imported here: only the child needs calamine, the web process never loads it.
    import python_calamine as calamine

    path = Path(job["path"])
    fmt = _precheck(path, job)
    try:
        workbook = calamine.CalamineWorkbook.from_path(str(_open_path(path, fmt, Path(job["tmp"]))))
    except calamine.PasswordError as exc:
        raise ReadError("encrypted", detect.ENCRYPTED_MESSAGE) from exc
    with workbook:
        sheets = [
            (m.name, m.visible == calamine.SheetVisibleEnum.Visible)
            for m in workbook.sheets_metadata
            if m.typ == calamine.SheetTypeEnum.WorkSheet
        ]
        hidden = ", ".join(repr(name) for name, shown in sheets if not shown)
        book_warnings = [f"Hidden sheets ({hidden}) are listed but only read when chosen."] if hidden else []
        send(("book", {"format": fmt, "sheets": sheets, "warnings": book_warnings}))
        name, sheet, warnings = _choose_sheet(workbook, sheets, job["sheet"])
        start = sheet.start or (0, 0)
        errors: dict[int, dict[int, str]] = {}
        if fmt == "xlsx":
            errors = _xlsx_extras(path, name, warnings)
        merged = sheet.merged_cell_ranges or []
        if merged:
            warnings.append(
                f"The sheet has {len(merged)} merged cell ranges; each one's value is in its top-left "
                "cell only, the other cells of the range are empty."
            )
        send(("sheet", {"name": name, "start_col": start[1], "warnings": warnings}))
        _send_rows(sheet, start[1], errors, send)


def _send_rows(
    sheet: Any, start_col: int, errors: dict[int, dict[int, str]], send: Callable[[tuple[Any, ...]], None]
) -> None:
    batch: list[RawRow] = []
    if sheet.start is None:
        # An empty sheet: calamine's row iterator cannot even start on it.
        send(("end",))
        return
    # iter_rows() starts at the sheet's first row (padding the rows above the first used one with
    # blanks) and at its first used column: the n-th row it yields is spreadsheet row n.
    for rownum, raw in enumerate(sheet.iter_rows(), start=1):
        cells = [_to_cell(v) for v in raw]
        patch = errors.get(rownum)
        if patch:
            for col, text in patch.items():
                if 0 <= col - start_col < len(cells):
                    cells[col - start_col] = text
        if all(c is None for c in cells):
            continue
        while cells and cells[-1] is None:
            cells.pop()
        batch.append((rownum, cells))
        if len(batch) >= CHILD_BATCH_ROWS:
            send(("rows", batch))
            batch = []
    if batch:
        send(("rows", batch))
    send(("end",))


def _child_main(argv: list[str]) -> int:
    job = json.loads(argv[1])
    _set_limits(int(job["memory_limit"]), int(job["cpu_seconds"]))
    out = sys.stdout.buffer

    def send(message: tuple[Any, ...]) -> None:
        pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()

    try:
        try:
            _child_run(job, send)
        except ReadError as exc:
            send(("error", exc.code, exc.message))
        except MemoryError:
            send(
                (
                    "error",
                    "file_too_complex",
                    _MESSAGE_TOO_COMPLEX.format(limit=_format_bytes(job["memory_limit"])),
                )
            )
        except Exception as exc:
            send(("error", *_calamine_error(exc)))
        except BaseException as exc:
            # pyo3 turns a panic inside calamine into PanicException, which derives from BaseException.
            if type(exc).__name__ != "PanicException":
                raise
            send(("error", "corrupt", "The spreadsheet is damaged: the reader could not make sense of it."))
    except BrokenPipeError:
        # The parent stopped reading (it had the sample it wanted): nothing more to do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
        return 0
    return 0


def _calamine_error(exc: Exception) -> tuple[str, str]:
    name = type(exc).__name__
    detail = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else name
    if name == "PasswordError":
        return "encrypted", detect.ENCRYPTED_MESSAGE
    if name in ("XmlError", "ZipError", "CalamineError"):
        return "corrupt", f"The spreadsheet is damaged and cannot be read ({detail})."
    if isinstance(exc, (UnicodeError, ValueError, OSError)):
        return "corrupt", f"The spreadsheet cannot be read ({detail})."
    raise exc


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv))
