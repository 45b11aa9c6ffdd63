"""Records of an entity: list, read, create, update, delete, bulk actions."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnClause

from loadbay.core.actor import Actor
from loadbay.errors import Conflict, FieldError, Invalid, NotFound, PreconditionFailed
from loadbay.records import keys, query, repository, writer
from loadbay.records import sql as rsql
from loadbay.records.models import Record
from loadbay.records.schemas import BulkAction, BulkActionType
from loadbay.schema import repository as schema_repo
from loadbay.schema import service as schema_service
from loadbay.schema.models import Entity, FieldDef
from loadbay.schema.service import EntityView
from loadbay.schema.types import FieldType, ValueError_, coerce, is_blank


@dataclass
class RecordView:
    id: int
    key: str
    data: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass
class PageView:
    items: list[RecordView]
    next_cursor: str | None


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _view(entity: Entity, r: Any) -> RecordView:
    return RecordView(
        id=r.id,
        key=keys.display(entity, r.data),
        data=r.data,
        version=r.version,
        created_at=r.created_at,
        updated_at=r.updated_at,
    )


async def _entity(session: AsyncSession, actor: Actor, entity_key: str) -> EntityView:
    return await schema_service.get_entity(session, actor=actor, key=entity_key)


async def _entity_light(
    session: AsyncSession, actor: Actor, entity_key: str
) -> tuple[Entity, list[FieldDef]]:
    # Listing does not need record counts, which cost a scan on large entities.
    entity = await schema_service.get_entity_row(session, workspace_id=actor.workspace_id, key=entity_key)
    fields = (await schema_repo.fields_of(session, [entity.id]))[entity.id]
    return entity, fields


def _where(
    session: AsyncSession, entity: Entity, fields: list[FieldDef], filters: list[str] | None, q: str | None
) -> list[ColumnElement[bool]]:
    where = query.parse_filters(_dialect(session), fields, filters or [])
    if q:
        where += query.key_prefix(entity, q)
    return where


async def list_records(
    session: AsyncSession,
    *,
    actor: Actor,
    entity_key: str,
    limit: int,
    cursor: str | None,
    sort: str,
    descending: bool,
    filters: list[str] | None,
    q: str | None,
) -> PageView:
    entity, fields = await _entity_light(session, actor, entity_key)
    s = query.sort_of(_dialect(session), fields, sort, descending)
    cur = query.decode_cursor(s, cursor) if cursor else None
    rows = await repository.page(
        session,
        entity_id=entity.id,
        where=_where(session, entity, fields, filters, q),
        sort=s,
        cursor=cur,
        limit=limit,
    )
    items = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last, in_nulls = items[-1]
        next_cursor = query.encode_cursor(s, last._s, last.id, in_nulls)
    return PageView(items=[_view(entity, r) for r, _ in items], next_cursor=next_cursor)


async def count_records(
    session: AsyncSession,
    *,
    actor: Actor,
    entity_key: str,
    filters: list[str] | None,
    q: str | None,
    cap: int | None = None,
) -> tuple[int, bool]:
    """Count matches; with a cap, stop after cap rows and say the count is a lower bound."""
    entity, fields = await _entity_light(session, actor, entity_key)
    where = _where(session, entity, fields, filters, q)
    if cap is None:
        return await repository.count(session, entity_id=entity.id, where=where), True
    n = await repository.count(session, entity_id=entity.id, where=where, limit=cap + 1)
    return (cap, False) if n > cap else (n, True)


async def _get(session: AsyncSession, entity: Entity, record_id: int) -> Record:
    rec = await repository.by_id(session, entity_id=entity.id, record_id=record_id)
    if rec is None:
        raise NotFound(f"Record {record_id} not found in {entity.key!r}.", code="record_not_found")
    return rec


async def get_record(session: AsyncSession, *, actor: Actor, entity_key: str, record_id: int) -> RecordView:
    entity, _ = await _entity_light(session, actor, entity_key)
    return _view(entity, await _get(session, entity, record_id))


# --- validation ----------------------------------------------------------------------------------


async def _check_references(
    session: AsyncSession, view: EntityView, values: dict[str, Any], errors: list[FieldError]
) -> None:
    for key, value in values.items():
        f = view.field(key)
        if f is None or f.type != FieldType.reference or value is None or f.reference_entity_id is None:
            continue
        target = await session.get(Entity, f.reference_entity_id)
        if target is None:
            continue
        if target.id == view.entity.id and keys.normalize(target, [value]) == keys.normalize(
            view.entity, [values.get(k) for k in view.entity.key_fields]
        ):
            continue  # a record may point at itself
        if (
            await repository.id_by_key(session, entity_id=target.id, key_norm=keys.normalize(target, [value]))
            is None
        ):
            errors.append(
                FieldError(
                    field=f"data.{key}",
                    code="reference_not_found",
                    message=f"no {target.key} record with key {value!r}",
                )
            )


def _coerce_values(view: EntityView, incoming: dict[str, Any], errors: list[FieldError]) -> dict[str, Any]:
    """Stored forms of incoming values; None marks a value being cleared."""
    coerced: dict[str, Any] = {}
    for key, value in incoming.items():
        f = view.field(key)
        if f is None:
            errors.append(
                FieldError(
                    field=f"data.{key}",
                    code="unknown_field",
                    message=f"{view.entity.key!r} has no field {key!r}",
                )
            )
            continue
        if value is None or (is_blank(value) and f.type != FieldType.json):
            coerced[key] = None
            continue
        try:
            coerced[key] = coerce(schema_service.rules_of(f), value)
        except ValueError_ as e:
            errors.append(FieldError(field=f"data.{key}", code=e.code, message=e.message))
    return coerced


def _raise_invalid(errors: list[FieldError]) -> None:
    if errors:
        raise Invalid(
            "The record is not valid: " + "; ".join(f"{e.field}: {e.message}" for e in errors),
            code="invalid_record",
            fields=errors,
        )


async def _validated(
    session: AsyncSession, view: EntityView, incoming: dict[str, Any], base: dict[str, Any] | None
) -> dict[str, Any]:
    """The record's new data: incoming values checked and merged over ``base`` (None: a new record)."""
    errors: list[FieldError] = []
    coerced = _coerce_values(view, incoming, errors)
    data = dict(base or {})
    for key, value in coerced.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    if base is None:
        for f in view.fields:
            if f.key not in data and f.default is not None and f.key not in coerced:
                data[f.key] = f.default
    for f in view.fields:
        if f.required and f.key not in data and not any(e.field == f"data.{f.key}" for e in errors):
            errors.append(
                FieldError(field=f"data.{f.key}", code="required", message=f"{f.label} is required")
            )
    if not errors:
        await _check_references(session, view, {k: v for k, v in coerced.items() if v is not None}, errors)
    _raise_invalid(errors)
    return data


async def _check_unique(
    session: AsyncSession, view: EntityView, data: dict[str, Any], key_norm: str, record_id: int | None
) -> None:
    other = await repository.id_by_key(session, entity_id=view.entity.id, key_norm=key_norm)
    if other is not None and other != record_id:
        shown = keys.display(view.entity, data)
        raise Conflict(
            f"A {view.entity.key} record with key {shown!r} already exists (id {other}).",
            code="duplicate_key",
            fields=[
                FieldError(field=f"data.{k}", code="duplicate_key", message="key already used")
                for k in view.entity.key_fields
            ],
        )
    dialect = _dialect(session)
    for f in view.fields:
        if not f.unique or f.key not in data:
            continue
        expr: ColumnClause[Any] = literal_column(rsql.value_expr(dialect, f.key, FieldType(f.type)))
        value: Any = data[f.key]
        if f.type == FieldType.decimal:
            value = query._filter_value(dialect, f, str(value), f.key)
        stmt = select(Record.id).where(Record.entity_id == view.entity.id, expr == value).limit(1)
        if record_id is not None:
            stmt = stmt.where(Record.id != record_id)
        hit = (await session.execute(stmt)).scalar_one_or_none()
        if hit is not None:
            raise Conflict(
                f"{f.label} {data[f.key]!r} is already used by record {hit}.",
                code="duplicate_value",
                fields=[FieldError(field=f"data.{f.key}", code="unique", message="value already used")],
            )


def _key_norm(view: EntityView, data: dict[str, Any]) -> str:
    return keys.normalize(view.entity, [data[k] for k in view.entity.key_fields])


# --- writing -------------------------------------------------------------------------------------


async def create_record(
    session: AsyncSession, *, actor: Actor, entity_key: str, data: dict[str, Any]
) -> RecordView:
    view = await _entity(session, actor, entity_key)
    clean = await _validated(session, view, data, None)
    key_norm = _key_norm(view, clean)
    await _check_unique(session, view, clean, key_norm, None)
    rec, _ = await writer.create(session, actor, view.entity, key_norm=key_norm, data=clean)
    return _view(view.entity, rec)


def _check_version(rec: Record, if_match: int | None) -> None:
    if if_match is not None and if_match != rec.version:
        raise PreconditionFailed(
            f"Record {rec.id} is at version {rec.version}, not {if_match}; reload it and try again.",
            code="version_mismatch",
        )


async def update_record(
    session: AsyncSession,
    *,
    actor: Actor,
    entity_key: str,
    record_id: int,
    data: dict[str, Any],
    if_match: int | None,
) -> RecordView:
    view = await _entity(session, actor, entity_key)
    rec = await _get(session, view.entity, record_id)
    _check_version(rec, if_match)
    clean = await _validated(session, view, data, rec.data)
    if clean == rec.data:
        return _view(view.entity, rec)
    key_norm = _key_norm(view, clean)
    await _check_unique(session, view, clean, key_norm, rec.id)
    await writer.update_one(session, actor, view.entity, rec, key_norm=key_norm, data=clean)
    return _view(view.entity, rec)


async def delete_record(
    session: AsyncSession, *, actor: Actor, entity_key: str, record_id: int, if_match: int | None
) -> None:
    entity, _ = await _entity_light(session, actor, entity_key)
    rec = await _get(session, entity, record_id)
    _check_version(rec, if_match)
    await writer.delete_one(session, actor, entity, rec)


async def bulk(
    session: AsyncSession, *, actor: Actor, entity_key: str, action: BulkAction
) -> tuple[int, int, int]:
    """Apply one action to a selection; returns (matched, updated, deleted)."""
    view = await _entity(session, actor, entity_key)
    entity = view.entity
    where: list[ColumnElement[bool]] = []
    if action.ids is not None:
        where.append(Record.id.in_(action.ids))
    if action.filter or action.q:
        where += _where(session, entity, view.fields, action.filter, action.q)
    if not where and not action.all:
        raise Invalid(
            "Say which records: ids, filter, q, or all=true.",
            code="empty_selection",
            fields=[FieldError(field="ids", code="required", message="no selection given")],
        )
    matched = await repository.count(session, entity_id=entity.id, where=where)
    if action.action == BulkActionType.delete:
        changes = await writer.bulk_delete(session, actor, entity, where)
        return matched, 0, len(changes.deleted)
    if not action.field:
        raise Invalid(
            "A `set` action names the field to set.",
            code="invalid_bulk",
            fields=[FieldError(field="field", code="required", message="field is required")],
        )
    f = view.field(action.field)
    if f is None:
        raise Invalid(
            f"{entity.key!r} has no field {action.field!r}.",
            code="invalid_bulk",
            fields=[FieldError(field="field", code="unknown_field", message="no such field")],
        )
    if f.key in entity.key_fields:
        raise Invalid(
            f"{f.key!r} is part of the natural key; change keys one record at a time.",
            code="invalid_bulk",
            fields=[FieldError(field="field", code="key_field", message="key fields cannot be bulk-set")],
        )
    errors: list[FieldError] = []
    value = _coerce_values(view, {f.key: action.value}, errors).get(f.key)
    if value is not None and not errors:
        await _check_references(session, view, {f.key: value}, errors)
    _raise_invalid(errors)
    if value is None and f.required:
        raise Invalid(
            f"{f.label} is required; it cannot be cleared.",
            code="invalid_record",
            fields=[FieldError(field=f"data.{f.key}", code="required", message="required")],
        )
    changes = await writer.bulk_set(session, actor, entity, where, f, value)
    return matched, len(changes.updated), 0


async def delete_all(session: AsyncSession, *, actor: Actor, entity_key: str) -> int:
    entity, _ = await _entity_light(session, actor, entity_key)
    return len((await writer.delete_all(session, actor, entity)).deleted)
