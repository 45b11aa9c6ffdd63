"""The error report: the original rows that did not make it, plus a column that says why.

The rows are read again from the stored file (so they are exactly what was uploaded), and written
safe to open in a spreadsheet by ``core.tabular`` (no cell runs as a formula; numbers stay numbers).
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

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

ROW_COLUMN = "row"
ERROR_COLUMN = "error"


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
