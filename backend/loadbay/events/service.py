"""Reading the event log for people: the audit trail of a workspace and the history of a record."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from loadbay.auth.models import ApiKey, User
from loadbay.errors import FieldError, Invalid, NotFound
from loadbay.events.models import Event
from loadbay.events.schemas import (
    ActorKind,
    EventActor,
    EventPage,
    EventRead,
    HistoryEntry,
    HistoryPage,
    RecordChange,
)
from loadbay.records.models import Record
from loadbay.schema.models import Entity

SHOWN_IDS = 100
_CHANGES = ("created", "updated", "deleted")


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None  # user:<id> | api_key:<id> | system
    action: str | None = None  # exact, or a prefix ending in "." (record.)
    entity_id: int | None = None
    record_id: int | None = None
    import_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


def _touches(session: AsyncSession, record_id: int) -> ColumnElement[bool]:
    """The event created, updated or deleted this record (its id is in one of the payload's arrays)."""
    if session.get_bind().dialect.name == "postgresql":
        arrays = [f"(payload -> '{k}') @> CAST(:rid_json AS jsonb)" for k in _CHANGES]
        clause = text("(" + " OR ".join(arrays) + ")").bindparams(rid_json=f"[{int(record_id)}]")
        return cast(ColumnElement[bool], clause)
    arrays = [
        f"EXISTS (SELECT 1 FROM json_each(events.payload, '$.{k}') WHERE value = :rid)" for k in _CHANGES
    ]
    return cast(ColumnElement[bool], text("(" + " OR ".join(arrays) + ")").bindparams(rid=int(record_id)))


def _actor_clause(actor: str) -> ColumnElement[bool]:
    kind, _, ident = actor.partition(":")
    if kind == "system" and not ident:
        return (Event.user_id.is_(None)) & (Event.api_key_id.is_(None))
    if kind in ("user", "api_key") and ident.isascii() and ident.isdigit() and len(ident) <= 18:
        column = Event.user_id if kind == "user" else Event.api_key_id
        clause: ColumnElement[bool] = column == int(ident)
        if kind == "user":
            clause = clause & Event.api_key_id.is_(None)
        return clause
    raise Invalid(
        "actor is `user:<id>`, `api_key:<id>` or `system`.",
        code="invalid_filter",
        fields=[FieldError(field="actor", code="invalid", message="user:<id>, api_key:<id> or system")],
    )


def _filtered(session: AsyncSession, workspace_id: int, f: AuditFilter) -> Select[Any]:
    stmt = select(Event).where(Event.workspace_id == workspace_id)
    if f.actor:
        stmt = stmt.where(_actor_clause(f.actor))
    if f.action:
        stmt = stmt.where(
            Event.action.startswith(f.action, autoescape=True)
            if f.action.endswith(".")
            else Event.action == f.action
        )
    if f.entity_id is not None:
        stmt = stmt.where(Event.entity_id == f.entity_id)
    if f.record_id is not None:
        stmt = stmt.where(
            or_(
                (Event.subject_type == "record") & (Event.subject_id == f.record_id),
                _touches(session, f.record_id),
            )
        )
    if f.import_id is not None:
        stmt = stmt.where(Event.import_id == f.import_id)
    if f.since is not None:
        stmt = stmt.where(Event.at >= f.since)
    if f.until is not None:
        stmt = stmt.where(Event.at < f.until)
    return stmt


async def _names(session: AsyncSession, events: list[Event]) -> tuple[dict[int, str], dict[int, str]]:
    user_ids = {e.user_id for e in events if e.user_id is not None}
    key_ids = {e.api_key_id for e in events if e.api_key_id is not None}
    users = {i: n for i, n in await session.execute(select(User.id, User.email).where(User.id.in_(user_ids)))}
    keys = {
        i: n for i, n in await session.execute(select(ApiKey.id, ApiKey.name).where(ApiKey.id.in_(key_ids)))
    }
    return users, keys


def _actor(e: Event, users: dict[int, str], keys: dict[int, str]) -> EventActor:
    if e.api_key_id is not None:
        return EventActor(
            kind=ActorKind.api_key, user_id=e.user_id, api_key_id=e.api_key_id, name=keys.get(e.api_key_id)
        )
    if e.user_id is not None:
        return EventActor(kind=ActorKind.user, user_id=e.user_id, name=users.get(e.user_id))
    return EventActor(kind=ActorKind.system)


def _shown(payload: dict[str, Any]) -> tuple[dict[str, int], dict[str, Any]]:
    counts = {k: len(payload.get(k) or []) for k in _CHANGES}
    shown = {k: (v[:SHOWN_IDS] if k in _CHANGES and isinstance(v, list) else v) for k, v in payload.items()}
    return counts, shown


async def _page(
    session: AsyncSession, stmt: Select[Any], cursor: int | None, limit: int
) -> tuple[list[Event], int | None]:
    if cursor is not None:
        stmt = stmt.where(Event.id < cursor)
    rows: list[Event] = list(
        (await session.execute(stmt.order_by(Event.id.desc()).limit(limit + 1))).scalars()
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


async def audit(
    session: AsyncSession, *, workspace_id: int, filters: AuditFilter, cursor: int | None, limit: int
) -> EventPage:
    """The workspace's events, newest first, filtered, in cursor pages."""
    rows, next_cursor = await _page(session, _filtered(session, workspace_id, filters), cursor, limit)
    users, keys = await _names(session, rows)
    entity_ids = {e.entity_id for e in rows if e.entity_id is not None}
    entity_keys = {
        i: k for i, k in await session.execute(select(Entity.id, Entity.key).where(Entity.id.in_(entity_ids)))
    }
    items = []
    for e in rows:
        counts, shown = _shown(e.payload)
        items.append(
            EventRead(
                id=e.id,
                at=e.at,
                action=e.action,
                actor=_actor(e, users, keys),
                request_id=e.request_id,
                subject_type=e.subject_type,
                subject_id=e.subject_id,
                entity=entity_keys.get(e.entity_id) if e.entity_id else None,
                entity_id=e.entity_id,
                import_id=e.import_id,
                counts=counts,
                payload=shown,
            )
        )
    return EventPage(items=items, next_cursor=next_cursor)


async def history(
    session: AsyncSession,
    *,
    workspace_id: int,
    entity_id: int,
    record_id: int,
    cursor: int | None,
    limit: int,
) -> HistoryPage:
    """Every change to one record, newest first: who, when, which fields, before and after where kept."""
    stmt = _filtered(session, workspace_id, AuditFilter(entity_id=entity_id, record_id=record_id))
    rows, next_cursor = await _page(session, stmt, cursor, limit)
    # Kept after the record is deleted; a record with neither a row nor a past is not found.
    if not rows and cursor is None:
        here = select(Record.id).where(Record.id == record_id, Record.entity_id == entity_id)
        if (await session.execute(here)).first() is None:
            raise NotFound(f"Record {record_id} not found.", code="record_not_found")
    users, keys = await _names(session, rows)
    items = []
    for e in rows:
        p = e.payload
        change = next(
            (RecordChange(k) for k in _CHANGES if record_id in (p.get(k) or [])), RecordChange.updated
        )
        single = e.subject_type == "record" and e.subject_id == record_id
        values = p.get("values") or {}
        if change == RecordChange.created and single:
            values = {k: {"after": v} for k, v in (p.get("after") or {}).items()}
        if change == RecordChange.deleted and single:
            values = {k: {"before": v} for k, v in (p.get("before") or {}).items()}
        items.append(
            HistoryEntry(
                event_id=e.id,
                at=e.at,
                action=e.action,
                change=change,
                actor=_actor(e, users, keys),
                request_id=e.request_id,
                import_id=e.import_id,
                bulk=not single and e.import_id is None,
                fields=sorted(p.get("fields") or values.keys()),
                values=values,
            )
        )
    return HistoryPage(items=items, next_cursor=next_cursor)
