"""The import commit's upsert of staged rows into records, per dialect (called by ``writer`` only).

PostgreSQL: set-based statements straight from the staging table, whose ``RETURNING`` gives the
ids written. SQLite: the chunk's rows are compared in Python and written in batches; the inserts
return their ids, the updates are by id.
"""

import json
from dataclasses import dataclass
from typing import Any, cast

import orjson
from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncSession

from loadbay.db import utcnow
from loadbay.records.models import Record

# (created ids, updated ids, unchanged, skipped)
Applied = tuple[list[int], list[int], int, int]


@dataclass
class UpsertPlan:
    """What a chunk writes: the target entity and how existing records are treated."""

    workspace_id: int
    entity_id: int
    session_id: int
    on_existing: str  # overwrite | skip | merge
    mapped_fields: list[str]
    defaults: dict[str, Any]


# --- PostgreSQL ----------------------------------------------------------------------------------

_PG_SOURCE = """
    FROM staged_rows st
    WHERE st.session_id = :session_id AND st.row_no >= :lo AND st.row_no < :hi
      AND st.status = 'valid' {rows_filter}
"""


def pg_new_data(on_existing: str) -> str:
    """The merge rule, as SQL over an existing record ``r`` and a staged row ``st`` (the dry run
    counts with it too)."""
    if on_existing == "merge":
        return "r.data || st.data"
    # Overwrite: the file's columns replace what they map to (a blank cell clears it); fields the
    # file does not map keep their values.
    return "(r.data - CAST(:mapped AS text[])) || st.data"


def merged(
    on_existing: str, mapped_fields: list[str], old: dict[str, Any], new: dict[str, Any]
) -> dict[str, Any]:
    """The merge rule in Python (SQLite's commit and dry run)."""
    if on_existing == "merge":
        return {**old, **new}
    kept = {k: v for k, v in old.items() if k not in mapped_fields}
    return {**kept, **new}


# The entity id comes from a sub-select, not a constant: with a constant, the planner may reach the
# entity's records through one of its partial field indexes (`WHERE entity_id = …`) and filter by
# key, once per staged row, whenever statistics lag behind a table that grows by a million rows
# during one import. A parameter rules the partial indexes out and leaves the key index.
ENTITY_OF_SESSION = "(SELECT s.entity_id FROM import_sessions s WHERE s.id = :session_id)"


def _ids(value: Any) -> list[int]:
    return [int(v) for v in value] if value else []


async def pg_apply(
    session: AsyncSession, plan: UpsertPlan, lo: int, hi: int, rows: list[int] | None
) -> Applied:
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
    insert = (
        "INSERT INTO records AS r (workspace_id, entity_id, key_norm, data, version, created_at, updated_at, "
        "import_id) SELECT :workspace_id, :entity_id, st.key_norm, CAST(:defaults AS jsonb) || st.data, "
        f"1, :now, :now, :session_id {source} ORDER BY st.key_norm "
    )
    insert_new = f"WITH w AS ({insert} ON CONFLICT (entity_id, key_norm) DO NOTHING RETURNING r.id) "
    insert_new += "SELECT array_agg(id) FROM w"
    if plan.on_existing == "skip":
        created = _ids((await session.execute(text(insert_new), params)).scalar_one())
        return created, [], 0, total - len(created)
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
                "RETURNING r.id, (r.xmax = 0) AS created) "
                "SELECT array_agg(id) FILTER (WHERE created), array_agg(id) FILTER (WHERE NOT created) "
                "FROM written"
            ),
            {**params, "mapped": plan.mapped_fields, "default_keys": sorted(plan.defaults)},
        )
        c, u = res.one()
        created, updated = _ids(c), _ids(u)
        return created, updated, total - len(created) - len(updated), 0
    # A default on a mapped field: whether a proposed value came from the file or from the default
    # cannot be told apart after the fact; update first, from the staged data, then insert the rest.
    new = pg_new_data(plan.on_existing)
    res = await session.execute(
        text(
            f"WITH w AS (UPDATE records r SET data = {new}, version = r.version + 1, updated_at = :now, "
            f"import_id = :session_id {source} AND r.entity_id = {ENTITY_OF_SESSION} "
            f"AND r.key_norm = st.key_norm AND r.data IS DISTINCT FROM {new} RETURNING r.id) "
            "SELECT array_agg(id) FROM w"
        ),
        {**params, "mapped": plan.mapped_fields},
    )
    updated = _ids(res.scalar_one())
    # Keys that exist were updated (or left alone) above; the key index skips them here.
    created = _ids((await session.execute(text(insert_new), params)).scalar_one())
    return created, updated, total - len(created) - len(updated), 0


# --- SQLite --------------------------------------------------------------------------------------


@dataclass
class _Staged:
    key_norm: str
    data: dict[str, Any]


@dataclass
class _Existing:
    id: int
    data: dict[str, Any]


def loads(text: str | bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        # Integers past 64 bits, which orjson refuses.
        return json.loads(text)


INSERT_BATCH = 500  # rows per multi-row INSERT ... RETURNING (7 parameters a row)


async def sqlite_apply(
    session: AsyncSession, plan: UpsertPlan, lo: int, hi: int, rows: list[int] | None
) -> Applied:
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
    staged = [_Staged(str(r[0]), loads(r[1])) for r in cast(list[tuple[Any, ...]], result.all())]
    unchanged = skipped = 0
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
            str(r[1]): _Existing(int(r[0]), loads(r[2])) for r in cast(list[tuple[Any, ...]], found.all())
        }
        for p in part:
            old = existing.get(p.key_norm)
            if old is None:
                data = orjson.dumps({**plan.defaults, **p.data}).decode()
                inserts.append(
                    (plan.workspace_id, plan.entity_id, p.key_norm, data, stamp, stamp, plan.session_id)
                )
            elif plan.on_existing == "skip":
                skipped += 1
            else:
                new = merged(plan.on_existing, plan.mapped_fields, old.data, p.data)
                if new == old.data:
                    unchanged += 1
                else:
                    updates.append((orjson.dumps(new).decode(), stamp, plan.session_id, old.id))
    created: list[int] = []
    for start in range(0, len(inserts), INSERT_BATCH):
        batch = inserts[start : start + INSERT_BATCH]
        values = ", ".join(["(?, ?, ?, ?, 1, ?, ?, ?)"] * len(batch))
        res = await conn.exec_driver_sql(
            "INSERT INTO records (workspace_id, entity_id, key_norm, data, version, created_at, updated_at, "
            f"import_id) VALUES {values} RETURNING id",
            tuple(v for row in batch for v in row),
        )
        created += [int(r[0]) for r in cast(list[tuple[Any, ...]], res.all())]
    if updates:
        await conn.exec_driver_sql(
            "UPDATE records SET data = ?, version = version + 1, updated_at = ?, import_id = ? WHERE id = ?",
            updates,
        )
    return created, [u[3] for u in updates], unchanged, skipped


def _sqlite_datetime(dialect: Any, value: Any) -> Any:
    """A datetime as the Record model stores it on this database."""
    # The type decorator's processor: its own check (UTC) and then the dialect's format.
    process = cast(Table, Record.__table__).c.updated_at.type.dialect_impl(dialect).bind_processor(dialect)
    return process(value) if process else value
