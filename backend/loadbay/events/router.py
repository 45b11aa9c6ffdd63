import re
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime, BeforeValidator

from loadbay.deps import AdminActor, DbSession, ViewerActor
from loadbay.errors import COMMON_ERRORS, NotFound
from loadbay.events import service
from loadbay.events.schemas import EventPage, HistoryPage
from loadbay.schema import repository as schema_repo

router = APIRouter(prefix="/workspaces/{workspace_id}", tags=["audit"], responses=COMMON_ERRORS)

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")


def rfc3339(value: Any) -> Any:
    """A time as RFC 3339 writes it (`2026-12-08T10:00:00Z`); a bare number is not a time here."""
    if isinstance(value, str) and not _RFC3339.match(value):
        raise ValueError("an RFC 3339 date-time with an offset, e.g. 2026-12-08T10:00:00Z")
    return value


Cursor = Annotated[int | None, Query(ge=1, le=2**63 - 1, description="`next_cursor` of the previous page.")]
Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]


async def _entity_id(session: DbSession, workspace_id: int, key: str) -> int:
    entity = await schema_repo.entity_by_key(session, workspace_id, key)
    if entity is None:
        raise NotFound(f"Entity {key!r} not found.", code="entity_not_found")
    return entity.id


@router.get("/audit", operation_id="audit-list")
async def audit(
    session: DbSession,
    actor: AdminActor,
    cursor: Cursor = None,
    limit: Limit = 100,
    by: Annotated[
        str | None,
        Query(alias="actor", max_length=40, description="`user:<id>`, `api_key:<id>` or `system`."),
    ] = None,
    action: Annotated[
        str | None,
        Query(
            max_length=48, description="An action (`record.updated`), or a prefix ending in `.` (`record.`)."
        ),
    ] = None,
    entity: Annotated[str | None, Query(max_length=63, description="An entity's key.")] = None,
    record: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="A record id.")] = None,
    import_id: Annotated[
        int | None, Query(alias="import", ge=1, le=2**63 - 1, description="An import id.")
    ] = None,
    since: Annotated[
        AwareDatetime | None,
        BeforeValidator(rfc3339),
        Query(description="From this time on (RFC 3339, with an offset)."),
    ] = None,
    until: Annotated[
        AwareDatetime | None,
        BeforeValidator(rfc3339),
        Query(description="Before this time (RFC 3339, with an offset)."),
    ] = None,
) -> EventPage:
    """The audit trail (admins): every change in the workspace, newest first, from the event log."""
    filters = service.AuditFilter(
        actor=by,
        action=action,
        entity_id=await _entity_id(session, actor.workspace_id, entity) if entity else None,
        record_id=record,
        import_id=import_id,
        since=since,
        until=until,
    )
    return await service.audit(
        session, workspace_id=actor.workspace_id, filters=filters, cursor=cursor, limit=limit
    )


@router.get("/entities/{entity_key}/records/{record_id}/history", operation_id="records-history")
async def history(
    session: DbSession,
    actor: ViewerActor,
    entity_key: Annotated[str, Path(max_length=63, description="Entity key.")],
    record_id: Annotated[int, Path(ge=1, le=2**63 - 1, description="Record id.")],
    cursor: Cursor = None,
    limit: Limit = 100,
) -> HistoryPage:
    """A record's changes, newest first: who, when, which fields, before → after, which import."""
    entity_id = await _entity_id(session, actor.workspace_id, entity_key)
    return await service.history(
        session,
        workspace_id=actor.workspace_id,
        entity_id=entity_id,
        record_id=record_id,
        cursor=cursor,
        limit=limit,
    )
