"""Staging: read the whole file in batches, validate every row, bulk-load the staged rows.

Parsing and checking run in a worker thread (they are CPU work); the bulk load is COPY on
PostgreSQL and batched inserts on SQLite. Each batch is its own transaction, so a long import never
holds one open for minutes; a staging that dies half-way is started again from the top, after
deleting what it had written.
"""

import asyncio
from dataclasses import dataclass, field
from typing import Any, cast

import orjson
from sqlalchemy import Table, bindparam, delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from loadbay.imports.models import RowStatus, StagedRow
from loadbay.imports.readers.base import RowProblem
from loadbay.imports.validate import StagedBatch, mark_missing_references
from loadbay.records.models import Record
from loadbay.schema.models import Entity, FieldDef

# Distinct keys a staging keeps in memory (a million: about 100 MB) before it leaves the search for
# repeated keys to the database.
KEY_BUDGET = 1_000_000
COLUMNS = ("session_id", "row_no", "key_norm", "status", "data", "errors", "source")


@dataclass
class StageCounts:
    rows: int = 0  # data rows in the file
    rejected: int = 0  # rows that could not be parsed
    valid: int = 0
    invalid: int = 0
    duplicates: int = 0
    # The first row of each key, and every row of the keys seen more than once; past KEY_BUDGET
    # keys (about 100 bytes each) they are dropped and the database finds the repeated keys instead.
    first_row: dict[str, int] = field(default_factory=dict)
    duplicate_rows: dict[str, list[int]] = field(default_factory=dict)
    keys_overflowed: bool = False

    def note_keys(self, batch: StagedBatch) -> None:
        self.note_key_list(batch.key_norm, batch.row_no)

    def note_key_list(self, keys: list[str | None], rows: list[int]) -> None:
        if self.keys_overflowed:
            return
        first, dups = self.first_row, self.duplicate_rows
        for key, row_no in zip(keys, rows, strict=True):
            if key is None:
                continue
            seen = first.setdefault(key, row_no)
            if seen != row_no:
                group = dups.get(key)
                if group is None:
                    dups[key] = [seen, row_no]
                else:
                    group.append(row_no)
        if len(first) > KEY_BUDGET:
            self.keys_overflowed = True
            first.clear()
            dups.clear()

    # Where the time went: reading, checking (in a thread), writing, and the final pass.
    seconds: dict[str, float] = field(default_factory=lambda: {"read": 0.0, "check": 0.0, "write": 0.0})


def rejected_batch(problems: list[RowProblem]) -> StagedBatch:
    out = StagedBatch()
    for p in problems:
        out.row_no.append(p.row)
        out.key_norm.append(None)
        out.status.append(RowStatus.rejected)
        out.data.append({"_cells": [None if c is None else str(c) for c in (p.cells or [])]})
        out.errors.append({"_row": [p.code, p.message]})
    return out


def kept_cells(batch: StagedBatch, i: int) -> list[Any] | None:
    """The cells as read, kept for the rows that are not valid (the error report's source)."""
    return batch.cells[i] if batch.errors[i] is not None and batch.cells else None


def _json_cells(cells: list[Any]) -> str:
    raw = orjson.dumps(cells, default=str)
    if b"\\u0000" in raw:
        # JSONB cannot hold NUL: shown as a symbol, as in the row's values.
        cells = [c.replace("\x00", "\u2400") if isinstance(c, str) else c for c in cells]
        raw = orjson.dumps(cells, default=str)
    return raw.replace(b"\\", b"\\\\").decode()


def _copy_escape(s: str) -> str:
    # COPY's text format: backslash, tab, newline and carriage return are escaped.
    if "\\" in s or "\t" in s or "\n" in s or "\r" in s:
        s = s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return s


def copy_text(session_id: int, batch: StagedBatch) -> bytes:
    """The batch as COPY text-format rows, built in one go (a per-row write costs an await each)."""
    dumps = orjson.dumps
    sid = str(session_id)
    lines = []
    for i in range(len(batch)):
        key = batch.key_norm[i]
        errs = batch.errors[i]
        cells = kept_cells(batch, i)
        data = dumps(batch.data[i]).replace(b"\\", b"\\\\").decode()
        lines.append(
            "\t".join(
                (
                    sid,
                    str(batch.row_no[i]),
                    "\\N" if key is None else _copy_escape(key),
                    batch.status[i],
                    data,
                    "\\N" if errs is None else dumps(errs).replace(b"\\", b"\\\\").decode(),
                    "\\N" if cells is None else _json_cells(cells),
                )
            )
        )
    lines.append("")
    return "\n".join(lines).encode("utf-8", "surrogatepass")


async def bulk_load(session: AsyncSession, session_id: int, batch: StagedBatch) -> None:
    """Write staged rows: COPY on PostgreSQL, executemany on SQLite."""
    if not len(batch):
        return
    if session.get_bind().dialect.name == "postgresql":
        payload = await asyncio.to_thread(copy_text, session_id, batch)
        conn = await session.connection()
        raw = await conn.get_raw_connection()
        pg: Any = raw.driver_connection
        sql = f"COPY staged_rows ({', '.join(COLUMNS)}) FROM STDIN"
        async with pg.cursor() as cur, cur.copy(sql) as copy:
            for start in range(0, len(payload), 1 << 20):
                await copy.write(payload[start : start + (1 << 20)])
        return
    # SQLite: the driver's executemany over rows serialised here (the ORM's per-row JSON handling
    # is most of the cost otherwise).
    dumps = orjson.dumps
    params = [
        (
            session_id,
            batch.row_no[i],
            batch.key_norm[i],
            batch.status[i],
            dumps(batch.data[i]).decode(),
            None if batch.errors[i] is None else dumps(batch.errors[i]).decode(),
            None if (cells := kept_cells(batch, i)) is None else dumps(cells, default=str).decode(),
        )
        for i in range(len(batch))
    ]
    conn = await session.connection()
    await conn.exec_driver_sql(
        f"INSERT INTO staged_rows ({', '.join(COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?)", params
    )


class RefChecker:
    """Knows which referenced keys exist, asking the database once per distinct value."""

    def __init__(self, fields: list[FieldDef], ref_entities: dict[int, Entity]) -> None:
        self.fields = {f.key: f for f in fields if f.reference_entity_id is not None}
        self.ref_entities = ref_entities
        self.known: dict[str, set[str]] = {}
        self.missing: dict[str, set[str]] = {}

    async def check(self, session: AsyncSession, batch: StagedBatch) -> None:
        for fkey, seen in batch.references.items():
            f = self.fields[fkey]
            target = self.ref_entities[f.reference_entity_id]  # type: ignore[index]
            known = self.known.setdefault(fkey, set())
            missing = self.missing.setdefault(fkey, set())
            unknown = [v for v in seen if v not in known and v not in missing]
            for start in range(0, len(unknown), 1000):
                part = unknown[start : start + 1000]
                found = set(
                    (
                        await session.execute(
                            select(Record.key_norm).where(
                                Record.entity_id == target.id, Record.key_norm.in_(part)
                            )
                        )
                    ).scalars()
                )
                known.update(found)
                missing.update(v for v in part if v not in found)
            if missing:
                mark_missing_references(batch, fkey, missing, target, f.label)


async def clear(session: AsyncSession, session_id: int) -> None:
    await session.execute(delete(StagedRow).where(StagedRow.session_id == session_id))


def _without_duplicate(errors: dict[str, Any] | None) -> dict[str, Any] | None:
    if not errors:
        return None
    rest = {k: v for k, v in errors.items() if not (k == "_row" and v and v[0] == "duplicate_key")}
    return rest or None


async def repeated_key_rows(session: AsyncSession, session_id: int) -> list[int]:
    """The rows of every key that is on more than one row of this session, found by the database."""
    if session.get_bind().dialect.name == "postgresql":
        # Room to hash a few million keys without spilling to disk.
        await session.execute(text("SET LOCAL work_mem = '256MB'"))
    rows = await session.execute(
        text(
            "SELECT row_no FROM staged_rows WHERE session_id = :s AND key_norm IN ("
            "SELECT key_norm FROM staged_rows WHERE session_id = :s AND key_norm IS NOT NULL "
            "AND status IN ('valid', 'invalid', 'duplicate') GROUP BY key_norm HAVING count(*) > 1)"
        ),
        {"s": session_id},
    )
    return [int(n) for (n,) in rows.all()]


async def mark_duplicates(
    session: AsyncSession,
    session_id: int,
    policy: str,
    *,
    keys: set[str] | None = None,
    rows: list[int] | None = None,
) -> int:
    """Apply the in-file duplicate policy to the rows of these keys, or to these rows (all the rows of
    their keys); returns the rows set aside.

    A row's own problems are kept beside the duplicate note, so a row that stops being a duplicate
    (its key was edited) goes back to valid or invalid on its own merits.
    """
    cols = (StagedRow.row_no, StagedRow.key_norm, StagedRow.status, StagedRow.errors)
    in_play = StagedRow.status.in_([RowStatus.valid, RowStatus.invalid, RowStatus.duplicate])
    found: list[Any] = []
    # By primary key when the staging job knows the row numbers of every repeated key; by key for
    # the few keys an edit touched.
    for column, values in ((StagedRow.row_no, sorted(rows or ())), (StagedRow.key_norm, sorted(keys or ()))):
        for start in range(0, len(values), 5000):
            part = values[start : start + 5000]
            where = (StagedRow.session_id == session_id, column.in_(part), in_play)
            found += (await session.execute(select(*cols).where(*where))).all()
    groups: dict[str, dict[int, Any]] = {}
    for r in found:
        groups.setdefault(r.key_norm, {})[r.row_no] = r
    set_aside = 0
    changes: list[dict[str, Any]] = []
    which = "last" if policy == "last_wins" else "first"
    for by_row in groups.values():
        group = [by_row[n] for n in sorted(by_row)]
        winner = group[-1] if policy == "last_wins" else group[0]
        for r in group:
            base = _without_duplicate(r.errors)
            status: str = RowStatus.invalid if base else RowStatus.valid
            errors = base
            if len(group) > 1 and policy == "error":
                others = ", ".join(str(x.row_no) for x in group if x is not r)
                errors = {**(base or {}), "_row": ["duplicate_key", f"the same key is on row {others}"]}
                status = RowStatus.invalid
            elif len(group) > 1 and r is not winner:
                note = f"row {winner.row_no} has the same key and the {which} row wins"
                errors = {**(base or {}), "_row": ["duplicate_key", note]}
                status = RowStatus.duplicate
                set_aside += 1
            if status != r.status or errors != r.errors:
                changes.append({"b_row": r.row_no, "b_status": status, "b_errors": errors})
    await write_statuses(session, session_id, changes)
    return set_aside


async def write_statuses(session: AsyncSession, session_id: int, changes: list[dict[str, Any]]) -> None:
    """New status and errors for many rows: one statement per 20,000 rows on PostgreSQL."""
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        for start in range(0, len(changes), 20_000):
            part = changes[start : start + 20_000]
            await conn.execute(
                text(
                    "UPDATE staged_rows s SET status = v.status, errors = CAST(v.errors AS jsonb) "
                    "FROM unnest(CAST(:rows AS bigint[]), CAST(:statuses AS text[]), "
                    "CAST(:errors AS text[])) AS v(row_no, status, errors) "
                    "WHERE s.session_id = :s AND s.row_no = v.row_no"
                ),
                {
                    "s": session_id,
                    "rows": [c["b_row"] for c in part],
                    "statuses": [c["b_status"] for c in part],
                    "errors": [
                        None if c["b_errors"] is None else orjson.dumps(c["b_errors"]).decode() for c in part
                    ],
                },
            )
        return
    t = cast(Table, StagedRow.__table__)
    stmt = (
        update(t)
        .where(t.c.session_id == session_id, t.c.row_no == bindparam("b_row"))
        .values(status=bindparam("b_status"), errors=bindparam("b_errors"))
    )
    for start in range(0, len(changes), 5000):
        await conn.execute(stmt, changes[start : start + 5000])


async def status_counts(session: AsyncSession, session_id: int) -> dict[str, int]:
    rows = await session.execute(
        text("SELECT status, count(*) FROM staged_rows WHERE session_id = :s GROUP BY status"),
        {"s": session_id},
    )
    return {str(s): int(n) for s, n in rows.all()}


def summary_counts(by_status: dict[str, int]) -> dict[str, int]:
    staged = sum(n for s, n in by_status.items() if s != RowStatus.rejected)
    return {
        "rows": staged + by_status.get(RowStatus.rejected, 0),
        "rejected": by_status.get(RowStatus.rejected, 0),
        "staged": staged,
        "valid": by_status.get(RowStatus.valid, 0),
        "invalid": by_status.get(RowStatus.invalid, 0),
        "duplicates": by_status.get(RowStatus.duplicate, 0),
        "discarded": by_status.get(RowStatus.discarded, 0),
        "failed": by_status.get(RowStatus.failed, 0),
    }
