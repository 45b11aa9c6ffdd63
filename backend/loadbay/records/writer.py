"""The one writer of the ``records`` table. Every write returns a change set, taken from the
statement that made it (``RETURNING``), and leaves its event in the same transaction.

Callers check and validate; this module writes. Nothing else in the code writes ``records``
(a test reads the source to hold that). The import commit's upsert, per dialect, is in
:mod:`loadbay.records.upsert`, which this module's :func:`apply_staged` calls.
"""

from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import ColumnElement, delete, literal_column, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from loadbay.core.actor import Actor
from loadbay.db import utcnow
from loadbay.errors import Conflict, FieldError, PreconditionFailed
from loadbay.events import log as events
from loadbay.events.log import Who
from loadbay.records import sql as rsql
from loadbay.records import upsert
from loadbay.records.changes import ChangeSet
from loadbay.records.models import Record
from loadbay.records.upsert import UpsertPlan
from loadbay.schema.models import Entity, FieldDef
from loadbay.schema.types import FieldType

__all__ = ["ChangeSet", "UpsertPlan", "Who"]


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _event(
    session: AsyncSession,
    who: Who | Actor | None,
    entity: Entity,
    action: str,
    changes: ChangeSet,
    *,
    subject: tuple[str, int | None] | None = None,
    import_id: int | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    subject_type, subject_id = subject or ("entity", entity.id)
    events.append(
        session,
        workspace_id=entity.workspace_id,
        who=who,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        entity_id=entity.id,
        import_id=import_id,
        payload={"entity": entity.key, **changes.payload(), **(extra or {})},
    )


# --- one record ----------------------------------------------------------------------------------


async def create(
    session: AsyncSession, who: Who | Actor | None, entity: Entity, *, key_norm: str, data: dict[str, Any]
) -> tuple[Record, ChangeSet]:
    now = utcnow()
    rec = Record(
        workspace_id=entity.workspace_id,
        entity_id=entity.id,
        key_norm=key_norm,
        data=data,
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(rec)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict(
            "The record conflicts with another one (key or unique field).", code="duplicate_key"
        ) from None
    changes = ChangeSet(created=[rec.id], fields=sorted(data))
    _event(session, who, entity, "record.created", changes, subject=("record", rec.id), extra={"after": data})
    return rec, changes


async def update_one(
    session: AsyncSession,
    who: Who | Actor | None,
    entity: Entity,
    rec: Record,
    *,
    key_norm: str,
    data: dict[str, Any],
) -> ChangeSet:
    """Compare-and-set on the record's version: a concurrent writer makes this a 412."""
    before = dict(rec.data)
    result = await session.execute(
        update(Record)
        .where(Record.id == rec.id, Record.version == rec.version)
        .values(data=data, key_norm=key_norm, version=rec.version + 1, updated_at=utcnow())
        .returning(Record.id)
        .execution_options(synchronize_session=False)
    )
    ids = list(result.scalars())
    if len(ids) != 1:
        raise PreconditionFailed(
            f"Record {rec.id} changed meanwhile; reload it and try again.", code="version_mismatch"
        )
    changed = sorted(k for k in {*before, *data} if before.get(k) != data.get(k))
    changes = ChangeSet(
        updated=ids,
        fields=changed,
        values={k: {"before": before.get(k), "after": data.get(k)} for k in changed},
    )
    _event(session, who, entity, "record.updated", changes, subject=("record", rec.id))
    await session.refresh(rec)
    return changes


async def delete_one(
    session: AsyncSession, who: Who | Actor | None, entity: Entity, rec: Record
) -> ChangeSet:
    before = dict(rec.data)
    result = await session.execute(
        delete(Record).where(Record.id == rec.id, Record.version == rec.version).returning(Record.id)
    )
    ids = list(result.scalars())
    if len(ids) != 1:
        raise PreconditionFailed(
            f"Record {rec.id} changed meanwhile; reload it and try again.", code="version_mismatch"
        )
    changes = ChangeSet(deleted=ids)
    _event(
        session, who, entity, "record.deleted", changes, subject=("record", rec.id), extra={"before": before}
    )
    return changes


# --- many records --------------------------------------------------------------------------------


async def bulk_delete(
    session: AsyncSession, who: Who | Actor | None, entity: Entity, where: list[ColumnElement[bool]]
) -> ChangeSet:
    result = await session.execute(
        delete(Record)
        .where(Record.entity_id == entity.id, *where)
        .returning(Record.id)
        .execution_options(synchronize_session=False)
    )
    changes = ChangeSet(deleted=list(result.scalars()))
    if changes.deleted:
        _event(session, who, entity, "record.deleted", changes)
    return changes


async def bulk_set(
    session: AsyncSession,
    who: Who | Actor | None,
    entity: Entity,
    where: list[ColumnElement[bool]],
    f: FieldDef,
    value: Any,
) -> ChangeSet:
    """Set (or clear, with None) one field on every matching record; 409 when a unique field would
    repeat. The event keeps the value set."""
    dialect = _dialect(session)
    if value is None:
        new_data: Any = text(rsql.remove_key_sql(dialect, f.key))
    else:
        patch = orjson.dumps({f.key: value}).decode()
        new_data = (
            text("data || CAST(:patch AS jsonb)")
            if dialect == "postgresql"
            else text("json_patch(data, :patch)")
        ).bindparams(patch=patch)
    stmt = (
        update(Record)
        .where(Record.entity_id == entity.id, *where)
        .values(data=new_data, version=Record.version + 1, updated_at=utcnow())
        .returning(Record.id)
        .execution_options(synchronize_session=False)
    )
    try:
        async with session.begin_nested():
            ids = list((await session.execute(stmt)).scalars())
    except IntegrityError:
        raise Conflict(
            f"{f.label} must be unique; setting it on these records would repeat it.", code="duplicate_value"
        ) from None
    changes = ChangeSet(updated=ids, fields=[f.key], values={f.key: {"after": value}})
    if ids:
        _event(session, who, entity, "record.updated", changes, extra={"bulk": True})
    return changes


async def delete_all(session: AsyncSession, who: Who | Actor | None, entity: Entity) -> ChangeSet:
    result = await session.execute(delete(Record).where(Record.entity_id == entity.id).returning(Record.id))
    changes = ChangeSet(deleted=list(result.scalars()))
    _event(session, who, entity, "records.deleted_all", changes)
    return changes


# --- the schema's changes to records ------------------------------------------------------------


async def drop_field_values(
    session: AsyncSession, who: Who | Actor | None, entity: Entity, f: FieldDef
) -> ChangeSet:
    """A field is deleted: its values go with it (nothing keeps data that no field describes)."""
    dialect = _dialect(session)
    await drop_field_indexes(session, f)
    result = await session.execute(
        update(Record)
        .where(Record.entity_id == entity.id, literal_column(rsql.text_expr(dialect, f.key)).isnot(None))
        .values(
            data=text(rsql.remove_key_sql(dialect, f.key)), version=Record.version + 1, updated_at=utcnow()
        )
        .returning(Record.id)
        .execution_options(synchronize_session=False)
    )
    changes = ChangeSet(updated=list(result.scalars()), fields=[f.key])
    _event(session, who, entity, "field.deleted", changes, subject=("field", f.id), extra={"field": f.key})
    return changes


async def delete_entity_records(
    session: AsyncSession, who: Who | Actor | None, entity: Entity, fields: list[FieldDef]
) -> ChangeSet:
    """An entity is deleted: its field indexes and its records go first."""
    for f in fields:
        await drop_field_indexes(session, f)
    result = await session.execute(delete(Record).where(Record.entity_id == entity.id).returning(Record.id))
    changes = ChangeSet(deleted=list(result.scalars()))
    _event(session, who, entity, "entity.deleted", changes, extra={"key": entity.key})
    return changes


async def drop_field_indexes(session: AsyncSession, f: FieldDef) -> None:
    for stmt in rsql.drop_index_ddl(_dialect(session), f.id):
        await session.execute(text(stmt))


async def sync_field_indexes(session: AsyncSession, entity: Entity, f: FieldDef) -> None:
    """The indexes a field wants (sorting, unique, reference lookups), built afresh; 409 when a
    unique index cannot be built because existing records share values."""
    t = FieldType(f.type)
    await drop_field_indexes(session, f)
    if not (f.indexed or f.unique or t == FieldType.reference):
        return
    try:
        async with session.begin_nested():
            for stmt in rsql.create_index_ddl(_dialect(session), entity.id, f.id, f.key, t, f.unique):
                await session.execute(text(stmt))
    except IntegrityError:
        raise Conflict(
            f"Field {f.key!r} cannot be unique: existing records of {entity.key!r} share values.",
            code="duplicate_values",
            fields=[
                FieldError(field="unique", code="duplicate_values", message="existing records share values")
            ],
        ) from None


# --- an import's chunk -------------------------------------------------------------------------


@dataclass
class ChunkWrite:
    """What a chunk of staged rows did: the change set, and the rows it counted but did not write."""

    changes: ChangeSet = field(default_factory=ChangeSet)
    unchanged: int = 0
    skipped: int = 0


async def apply_staged(
    session: AsyncSession, plan: UpsertPlan, lo: int, hi: int, rows: list[int] | None
) -> ChunkWrite:
    """Upsert staged rows [lo, hi) (or these rows of it) into records; no event (see :func:`chunk_event`)."""
    if _dialect(session) == "postgresql":
        created, updated, unchanged, skipped = await upsert.pg_apply(session, plan, lo, hi, rows)
    else:
        created, updated, unchanged, skipped = await upsert.sqlite_apply(session, plan, lo, hi, rows)
    return ChunkWrite(
        ChangeSet(created=created, updated=updated, fields=plan.mapped_fields if updated else []),
        unchanged,
        skipped,
    )


def chunk_event(
    session: AsyncSession, who: Who, entity: Entity, import_id: int, chunk_no: int, write: ChunkWrite
) -> None:
    """One event per committed chunk, in the chunk's transaction: the ids it created and updated."""
    _event(
        session,
        who,
        entity,
        "import.committed",
        write.changes,
        subject=("import", import_id),
        import_id=import_id,
        extra={"chunk": chunk_no, "unchanged": write.unchanged, "skipped": write.skipped},
    )
