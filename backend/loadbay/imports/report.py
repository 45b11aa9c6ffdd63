"""The error report: the original rows that did not make it, plus a column that says why.

The rows are read again from the stored file (so they are exactly what was uploaded), and written
safe to open in a spreadsheet: a text cell that a spreadsheet would run as a formula is prefixed
with an apostrophe in CSV and written as a plain string in XLSX; numbers stay numbers.
"""

import csv
import io
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import xlsxwriter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loadbay.config import Settings
from loadbay.core.actor import Actor
from loadbay.errors import Conflict
from loadbay.imports import service, storage
from loadbay.imports.models import ImportStatus, RowStatus, StagedRow
from loadbay.imports.pipeline import file_info
from loadbay.imports.readers import reader_for
from loadbay.imports.readers.base import FileInfo, ReadOptions

_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ROW_COLUMN = "row"
ERROR_COLUMN = "error"


def neutralise(value: Any) -> str:
    """Text for a CSV cell that no spreadsheet will evaluate."""
    if value is None:
        return ""
    s = str(value)
    if s.startswith(_FORMULA_START) and not _NUMBER.match(s.strip()):
        return "'" + s
    return s


def describe(errors: dict[str, Any] | None) -> str:
    if not errors:
        return ""
    parts = []
    for key, value in errors.items():
        message = value[1] if isinstance(value, list) and len(value) > 1 else str(value)
        parts.append(message if key == "_row" else f"{key}: {message}")
    return "; ".join(parts)


def report_rows(
    path: Path,
    fmt: str,
    info: FileInfo,
    options: ReadOptions,
    problems: dict[int, tuple[str, list[Any] | None]],
) -> Iterator[list[Any]]:
    """Original cells of each problem row, in file order, with its row number and error text."""
    width = len(info.columns)
    for batch in reader_for(fmt).batches(path, info, options, batch_size=20_000):
        merged: list[tuple[int, list[Any]]] = [(n, cells) for n, cells in batch.rows if n in problems]
        merged += [(p.row, list(p.cells or [])) for p in batch.problems if p.row in problems]
        for row_no, cells in sorted(merged, key=lambda x: x[0]):
            message, fallback = problems[row_no]
            yield _line(row_no, cells or fallback, width, message)


def stored_rows(info: FileInfo, problems: dict[int, tuple[str, list[Any] | None]]) -> Iterator[list[Any]]:
    """The same rows from the cells kept at staging, in row order."""
    width = len(info.columns)
    for row_no in sorted(problems):
        message, cells = problems[row_no]
        yield _line(row_no, cells, width, message)


def _line(row_no: int, cells: list[Any] | None, width: int, message: str) -> list[Any]:
    """A report line: the row number, the cells padded to the header's width (or all of them, if the
    row had more), the error text."""
    out = list(cells or [])
    out = (out + [None] * width)[:width] if len(out) <= width else out
    return [row_no, *out, message]


def write_csv(header: list[str], rows: Iterator[list[Any]]) -> Iterator[bytes]:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    buf.write("\ufeff")  # spreadsheets then read the file as UTF-8
    w.writerow([neutralise(h) for h in header])
    for i, row in enumerate(rows, start=1):
        w.writerow([neutralise(c) for c in row])
        if i % 1000 == 0:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode("utf-8")


def write_xlsx(header: list[str], rows: Iterator[list[Any]]) -> Path:
    """Write to a temporary file (XlsxWriter's constant-memory mode) and return its path."""
    tmp = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)  # noqa: SIM115 - handed to the response
    tmp.close()
    wb = xlsxwriter.Workbook(
        tmp.name,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    ws = wb.add_worksheet("errors")
    bold = wb.add_format({"bold": True})
    for c, h in enumerate(header):
        ws.write_string(0, c, str(h), bold)
    for r, row in enumerate(rows, start=1):
        for c, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, bool):
                ws.write_boolean(r, c, v)
            elif isinstance(v, int | float):
                ws.write_number(r, c, v)
            else:
                ws.write_string(r, c, str(v))
    wb.close()
    return Path(tmp.name)


async def report_source(
    session: AsyncSession, *, actor: Actor, import_id: int, settings: Settings
) -> tuple[list[str], Any]:
    """The report's header and a function that yields its rows (it reads the stored file again)."""
    imp = await service.get_session(session, actor=actor, import_id=import_id)
    if imp.status in (ImportStatus.created, ImportStatus.uploaded, ImportStatus.mapped, ImportStatus.staging):
        raise Conflict(
            f"Import {import_id} is {imp.status}; the report exists once rows are staged.",
            code="wrong_status",
        )
    problems: dict[int, tuple[str, list[Any] | None]] = {}
    stmt = select(StagedRow.row_no, StagedRow.errors, StagedRow.data, StagedRow.source).where(
        StagedRow.session_id == imp.id,
        StagedRow.status.in_([RowStatus.invalid, RowStatus.rejected, RowStatus.failed]),
    )
    for row_no, errors, data, source in (await session.execute(stmt)).all():
        problems[int(row_no)] = (describe(errors), source or (data or {}).get("_cells"))
    info, options = file_info(imp)
    path = storage.path_of(settings.data_dir, imp.file_id)
    header = [ROW_COLUMN, *info.columns, ERROR_COLUMN]
    fmt = imp.format or "csv"

    def rows() -> Any:
        if not problems:
            return iter(())
        if all(cells is not None for _, cells in problems.values()):
            # Every row kept its cells when staged: no need to read the file again.
            return stored_rows(info, problems)
        return report_rows(path, fmt, info, options, problems)

    return header, rows
