"""Committing staged rows into records, one chunk (a range of row numbers) per transaction.

PostgreSQL: set-based statements straight from the staging table (an UPDATE of the rows whose
values differ, then an INSERT of the keys not there yet). SQLite: the chunk's rows are compared in
Python and written in batches. Either way the chunk's ledger row is marked done, with its counts, in
the same transaction, so a chunk that runs twice applies once.
"""

import json
from dataclasses import dataclass
from typing import Any, cast

import orjson
from sqlalchemy import Table, func, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from loadbay.db import utcnow
from loadbay.imports.models import ImportChunk, ImportSession, RowStatus, StagedRow
from loadbay.records.models import Record

ISOLATE_BATCH = 500


@dataclass
class Plan:
    """What a chunk writes: the target entity and how existing records are treated."""

    workspace_id: int
    entity_id: int
    session_id: int
    on_existing: str  # overwrite | skip | merge
    mapped_fields: list[str]
    defaults: dict[str, Any]


@dataclass
class Outcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0

    def add(self, o: "Outcome") -> None:
        self.created += o.created
        self.updated += o.updated
        self.unchanged += o.unchanged
        self.skipped += o.skipped
        self.failed += o.failed


async def plan_chunks(session: AsyncSession, session_id: int, chunk_rows: int) -> list[tuple[int, int, int]]:
    """Split the valid rows into chunks of chunk_rows rows: (first row_no, last row_no + 1, rows).

    One pass over the session's rows in primary-key order; the chunks hold disjoint rows, and (the
    duplicates set aside while staging) disjoint keys.
    """
    firsts = (
        await session.execute(
            text(
                "SELECT row_no, rn, total, last_row FROM (SELECT row_no, "
                "row_number() OVER (ORDER BY row_no) AS rn, count(*) OVER () AS total, "
                "max(row_no) OVER () AS last_row FROM staged_rows "
                "WHERE session_id = :s AND status = 'valid') numbered "
                "WHERE (rn - 1) % :n = 0 ORDER BY row_no"
            ),
            {"s": session_id, "n": chunk_rows},
        )
    ).all()
    chunks: list[tuple[int, int, int]] = []
    for i, (lo, rn, total, last) in enumerate(firsts):
        hi, next_rn = (firsts[i + 1][0], firsts[i + 1][1]) if i + 1 < len(firsts) else (last + 1, total + 1)
        chunks.append((int(lo), int(hi), int(next_rn) - int(rn)))
    return chunks


def is_transient(e: DBAPIError) -> bool:
    """Faults worth retrying the whole chunk for: lost connections, deadlocks, serialization."""
    if e.connection_invalidated:
        return True
    code = getattr(e.orig, "sqlstate", None) or ""
    # 08: connection exceptions; 40: rollbacks (deadlock, serialization); 57P: admin shutdown.
    return code.startswith(("08", "40", "57P", "53")) or "database is locked" in str(e.orig)


# --- PostgreSQL ----------------------------------------------------------------------------------

_PG_SOURCE = """
    FROM staged_rows st
    WHERE st.session_id = :session_id AND st.row_no >= :lo AND st.row_no < :hi
      AND st.status = 'valid' {rows_filter}
"""


def _pg_new_data(on_existing: str) -> str:
    if on_existing == "merge":
        return "r.data || st.data"
    # Overwrite: the file's columns replace what they map to (a blank cell clears it); fields the
    # file does not map keep their values.
    return "(r.data - CAST(:mapped AS text[])) || st.data"


# The entity id comes from a sub-select, not a constant: with a constant, the planner may reach the
# entity's records through one of its partial field indexes (`WHERE entity_id = …`) and filter by
# key, once per staged row, whenever statistics lag behind a table that grows by a million rows
# during one import. A parameter rules the partial indexes out and leaves the key index.
_ENTITY = "(SELECT s.entity_id FROM import_sessions s WHERE s.id = :session_id)"


async def _pg_apply(session: AsyncSession, plan: Plan, lo: int, hi: int, rows: list[int] | None) -> Outcome:
    # Every statement here reads by index: the chunk's rows by primary key, then each key in the key
    # index. Left to itself the planner joins a chunk to the entity's records with a merge join, a
    # walk through the whole key index for every chunk (0.8 s per 50,000 rows at a million records).
    for setting in ("enable_seqscan", "enable_mergejoin", "enable_hashjoin", "jit"):
        await session.execute(text(f"SET LOCAL {setting} = off"))
    # Room to sort a chunk by key in memory.
    await session.execute(text("SET LOCAL work_mem = '64MB'"))
    rows_filter = "AND st.row_no = ANY(:rows)" if rows is not None else ""
    source = _PG_SOURCE.format(rows_filter=rows_filter)
    params: dict[str, Any] = {
        "session_id": plan.session_id,
        "lo": lo,
        "hi": hi,
        "workspace_id": plan.workspace_id,
        "entity_id": plan.entity_id,
        "defaults": orjson.dumps(plan.defaults).decode(),
        "now": utcnow(),
    }
    if rows is not None:
        params["rows"] = rows
    total = int((await session.execute(text(f"SELECT count(*) {source}"), params)).scalar_one())
    out = Outcome()
    insert = (
        "INSERT INTO records AS r (workspace_id, entity_id, key_norm, data, version, created_at, updated_at, "
        "import_id) SELECT :workspace_id, :entity_id, st.key_norm, CAST(:defaults AS jsonb) || st.data, "
        f"1, :now, :now, :session_id {source} ORDER BY st.key_norm "
    )
    if plan.on_existing == "skip":
        res = await session.execute(text(insert + "ON CONFLICT (entity_id, key_norm) DO NOTHING"), params)
        out.created = int(res.rowcount)  # type: ignore[attr-defined]
        out.skipped = total - out.created
        return out
    if not set(plan.defaults) & set(plan.mapped_fields):
        # One statement: the proposed row's data minus the defaults is exactly the staged data (no
        # default is on a mapped field), so an existing record is updated from it, if it differs.
        base = "r.data" if plan.on_existing == "merge" else "(r.data - CAST(:mapped AS text[]))"
        new = f"{base} || (EXCLUDED.data - CAST(:default_keys AS text[]))"
        res = await session.execute(
            text(
                f"WITH written AS ({insert} ON CONFLICT (entity_id, key_norm) DO UPDATE SET data = {new}, "
                "version = r.version + 1, updated_at = :now, import_id = :session_id "
                f"WHERE r.data IS DISTINCT FROM {new} "
                # A row inserted by this statement has no xmax; an updated one has this transaction's.
                "RETURNING (r.xmax = 0) AS created) "
                "SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created) FROM written"
            ),
            {**params, "mapped": plan.mapped_fields, "default_keys": sorted(plan.defaults)},
        )
        created, updated = res.one()
        out.created, out.updated = int(created), int(updated)
        out.unchanged = total - out.created - out.updated
        return out
    # A default on a mapped field: whether a proposed value came from the file or from the default
    # cannot be told apart after the fact; update first, from the staged data, then insert the rest.
    new = _pg_new_data(plan.on_existing)
    res = await session.execute(
        text(
            f"UPDATE records r SET data = {new}, version = r.version + 1, updated_at = :now, "
            f"import_id = :session_id {source} AND r.entity_id = {_ENTITY} "
            f"AND r.key_norm = st.key_norm AND r.data IS DISTINCT FROM {new}"
        ),
        {**params, "mapped": plan.mapped_fields},
    )
    out.updated = int(res.rowcount)  # type: ignore[attr-defined]
    # Keys that exist were updated (or left alone) above; the key index skips them here.
    res = await session.execute(text(insert + "ON CONFLICT (entity_id, key_norm) DO NOTHING"), params)
    out.created = int(res.rowcount)  # type: ignore[attr-defined]
    out.unchanged = total - out.created - out.updated
    return out


# --- SQLite --------------------------------------------------------------------------------------


@dataclass
class _Staged:
    key_norm: str
    data: dict[str, Any]


@dataclass
class _Existing:
    id: int
    data: dict[str, Any]


def _loads(text: str | bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        # Integers past 64 bits, which orjson refuses.
        return json.loads(text)


def _merged(plan: Plan, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    if plan.on_existing == "merge":
        return {**old, **new}
    kept = {k: v for k, v in old.items() if k not in plan.mapped_fields}
    return {**kept, **new}


async def _sqlite_apply(
    session: AsyncSession, plan: Plan, lo: int, hi: int, rows: list[int] | None
) -> Outcome:
    # The driver directly, JSON parsed here: the ORM's per-row handling is most of the cost otherwise.
    conn = await session.connection()
    sql = (
        "SELECT key_norm, data FROM staged_rows WHERE session_id = ? AND row_no >= ? AND row_no < ? "
        "AND status = 'valid'"
    )
    args: list[Any] = [plan.session_id, lo, hi]
    if rows is not None:
        sql += f" AND row_no IN ({', '.join('?' * len(rows))})"
        args += rows
    result = await conn.exec_driver_sql(sql + " ORDER BY key_norm", tuple(args))
    staged = [_Staged(str(r[0]), _loads(r[1])) for r in cast(list[tuple[Any, ...]], result.all())]
    out = Outcome()
    # Parameters for the driver's executemany, serialised here: the ORM's per-row handling of JSON
    # and dates is most of the cost otherwise.
    stamp = _sqlite_datetime(conn.dialect, utcnow())
    inserts: list[tuple[Any, ...]] = []
    updates: list[tuple[Any, ...]] = []
    for start in range(0, len(staged), 500):
        part = staged[start : start + 500]
        marks = ", ".join("?" * len(part))
        found = await conn.exec_driver_sql(
            f"SELECT id, key_norm, data FROM records WHERE entity_id = ? AND key_norm IN ({marks})",
            (plan.entity_id, *(p.key_norm for p in part)),
        )
        existing = {
            str(r[1]): _Existing(int(r[0]), _loads(r[2])) for r in cast(list[tuple[Any, ...]], found.all())
        }
        for p in part:
            old = existing.get(p.key_norm)
            if old is None:
                data = orjson.dumps({**plan.defaults, **p.data}).decode()
                inserts.append(
                    (plan.workspace_id, plan.entity_id, p.key_norm, data, stamp, stamp, plan.session_id)
                )
            elif plan.on_existing == "skip":
                out.skipped += 1
            else:
                new = _merged(plan, old.data, p.data)
                if new == old.data:
                    out.unchanged += 1
                else:
                    updates.append((orjson.dumps(new).decode(), stamp, plan.session_id, old.id))
    if inserts:
        await conn.exec_driver_sql(
            "INSERT INTO records (workspace_id, entity_id, key_norm, data, version, created_at, updated_at, "
            "import_id) VALUES (?, ?, ?, ?, 1, ?, ?, ?)",
            inserts,
        )
        out.created = len(inserts)
    if updates:
        await conn.exec_driver_sql(
            "UPDATE records SET data = ?, version = version + 1, updated_at = ?, import_id = ? WHERE id = ?",
            updates,
        )
        out.updated = len(updates)
    return out


def _sqlite_datetime(dialect: Any, value: Any) -> Any:
    """A datetime as the Record model stores it on this database."""
    # The type decorator's processor: its own check (UTC) and then the dialect's format.
    process = cast(Table, Record.__table__).c.updated_at.type.dialect_impl(dialect).bind_processor(dialect)
    return process(value) if process else value


async def _apply(session: AsyncSession, plan: Plan, lo: int, hi: int, rows: list[int] | None) -> Outcome:
    if session.get_bind().dialect.name == "postgresql":
        return await _pg_apply(session, plan, lo, hi, rows)
    return await _sqlite_apply(session, plan, lo, hi, rows)


async def _isolate(session: AsyncSession, plan: Plan, chunk: ImportChunk) -> Outcome:
    """The chunk failed on some row: commit it in small batches, then row by row, to find the bad ones."""
    row_nos = list(
        (
            await session.execute(
                select(StagedRow.row_no)
                .where(
                    StagedRow.session_id == plan.session_id,
                    StagedRow.row_no >= chunk.row_lo,
                    StagedRow.row_no < chunk.row_hi,
                    StagedRow.status == RowStatus.valid,
                )
                .order_by(StagedRow.row_no)
            )
        ).scalars()
    )
    out = Outcome()
    for start in range(0, len(row_nos), ISOLATE_BATCH):
        part = row_nos[start : start + ISOLATE_BATCH]
        try:
            async with session.begin_nested():
                out.add(await _apply(session, plan, chunk.row_lo, chunk.row_hi, part))
            continue
        except (IntegrityError, DBAPIError) as e:
            if isinstance(e, DBAPIError) and is_transient(e):
                raise
        for row_no in part:
            try:
                async with session.begin_nested():
                    out.add(await _apply(session, plan, chunk.row_lo, chunk.row_hi, [row_no]))
            except (IntegrityError, DBAPIError) as e:
                if isinstance(e, DBAPIError) and is_transient(e):
                    raise
                out.failed += 1
                await session.execute(
                    update(StagedRow)
                    .where(StagedRow.session_id == plan.session_id, StagedRow.row_no == row_no)
                    .values(status=RowStatus.failed, errors={"_row": ["database", db_message(e)]})
                )
    return out


def db_message(e: DBAPIError) -> str:
    orig = e.orig
    diag = getattr(orig, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    detail = getattr(diag, "message_detail", None) if diag is not None else None
    msg = primary or str(orig).splitlines()[0]
    return f"the database refused the row: {msg}" + (f" ({detail})" if detail else "")


async def run_chunk(session: AsyncSession, plan: Plan, chunk: ImportChunk) -> Outcome:
    """Apply one chunk; rows the database refuses are isolated and marked failed, the rest commit."""
    try:
        async with session.begin_nested():
            return await _apply(session, plan, chunk.row_lo, chunk.row_hi, None)
    except (IntegrityError, DBAPIError) as e:
        if isinstance(e, DBAPIError) and not isinstance(e, IntegrityError) and is_transient(e):
            raise
    return await _isolate(session, plan, chunk)


async def chunks_by_status(session: AsyncSession, session_id: int) -> dict[str, tuple[int, int]]:
    """Chunk ledger by status: (chunks, rows)."""
    rows = (
        await session.execute(
            select(ImportChunk.status, func.count(), func.coalesce(func.sum(ImportChunk.rows), 0))
            .where(ImportChunk.session_id == session_id)
            .group_by(ImportChunk.status)
        )
    ).all()
    return {str(s): (int(n), int(r)) for s, n, r in rows}


async def chunk_totals(session: AsyncSession, session_id: int) -> dict[str, int]:
    row = (
        await session.execute(
            select(
                func.coalesce(func.sum(ImportChunk.rows), 0),
                func.coalesce(func.sum(ImportChunk.created), 0),
                func.coalesce(func.sum(ImportChunk.updated), 0),
                func.coalesce(func.sum(ImportChunk.unchanged), 0),
                func.coalesce(func.sum(ImportChunk.skipped), 0),
                func.coalesce(func.sum(ImportChunk.failed), 0),
            ).where(ImportChunk.session_id == session_id, ImportChunk.status == "done")
        )
    ).one()
    keys = ("rows_done", "created", "updated", "unchanged", "skipped_existing", "failed")
    return {k: int(v) for k, v in zip(keys, row, strict=True)}


def plan_of(imp: ImportSession, defaults: dict[str, Any]) -> Plan:
    opts = imp.commit_options or {}
    assert imp.entity_id is not None
    return Plan(
        workspace_id=imp.workspace_id,
        entity_id=imp.entity_id,
        session_id=imp.id,
        on_existing=opts.get("on_existing", "overwrite"),
        mapped_fields=sorted({v for v in (imp.mapping or {}).values() if v}),
        defaults=defaults,
    )
