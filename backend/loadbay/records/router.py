from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response, status

from loadbay.core.clients import etag, merged
from loadbay.core.links import record_links
from loadbay.core.versions import if_match_version, set_etag
from loadbay.deps import DbSession, EditorActor, SettingsDep, ViewerActor
from loadbay.errors import COMMON_ERRORS, ERR_409, ERR_412
from loadbay.records import service
from loadbay.records.schemas import (
    BulkAction,
    BulkResult,
    RecordCount,
    RecordCreate,
    RecordPage,
    RecordRead,
    RecordUpdate,
    SortOrder,
)

router = APIRouter(
    prefix="/workspaces/{workspace_id}/entities/{entity_key}/records",
    tags=["records"],
    responses=COMMON_ERRORS,
)
EntityKey = Annotated[str, Path(description="Entity key, e.g. `products`.", max_length=63)]
RecordId = Annotated[int, Path(description="Record id.", ge=1, le=2**63 - 1)]
Filters = Annotated[
    list[str] | None,
    Query(
        description="Repeatable `field:op:value`; op is eq, ne, contains, gt, gte, lt, lte, empty or "
        "not_empty (no value).",
        max_length=50,
    ),
]
KeyQuery = Annotated[
    str | None, Query(description="Records whose natural key starts with this.", max_length=1000)
]
IfMatch = Annotated[
    str | None,
    Header(
        description="The version you last read (ETag); 412 if it changed.",
        pattern=r'^\s*(\*|(W/)?"?[0-9]{1,18}"?)\s*$',
    ),
]

RECORD_ETAG = etag(what="The record's version")
RECORD_ETAG_201 = etag(201, "The record's version")


@router.get("", operation_id="records-list")
async def list_records(
    entity_key: EntityKey,
    session: DbSession,
    actor: ViewerActor,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="Page size.")] = 100,
    cursor: Annotated[
        str | None, Query(max_length=4000, description="`next_cursor` of the previous page.")
    ] = None,
    sort: Annotated[
        str, Query(max_length=63, description="`id`, `key`, `created_at`, `updated_at` or a field.")
    ] = "id",
    order: Annotated[SortOrder, Query(description="Sort direction; empty values come last.")] = SortOrder.asc,
    filter: Filters = None,
    q: KeyQuery = None,
) -> RecordPage:
    """A page of records, sorted and filtered, with a cursor to the next page."""
    page = await service.list_records(
        session,
        actor=actor,
        entity_key=entity_key,
        limit=min(limit, settings.page_max),
        cursor=cursor,
        sort=sort,
        descending=order == SortOrder.desc,
        filters=filter,
        q=q,
    )
    return RecordPage.model_validate(page)


@router.get("/count", operation_id="records-count")
async def count_records(
    entity_key: EntityKey,
    session: DbSession,
    actor: ViewerActor,
    settings: SettingsDep,
    filter: Filters = None,
    q: KeyQuery = None,
    exact: Annotated[
        bool,
        Query(description="Count every match instead of stopping at the cap (slower on large entities)."),
    ] = False,
) -> RecordCount:
    """How many records match the filters, counted up to a cap unless `exact` is set."""
    n, is_exact = await service.count_records(
        session,
        actor=actor,
        entity_key=entity_key,
        filters=filter,
        q=q,
        cap=None if exact else settings.count_cap,
    )
    return RecordCount(count=n, exact=is_exact)


@router.post(
    "",
    operation_id="records-create",
    status_code=status.HTTP_201_CREATED,
    responses=merged(ERR_409, record_links(), RECORD_ETAG_201),
)
async def create_record(
    entity_key: EntityKey, body: RecordCreate, response: Response, session: DbSession, actor: EditorActor
) -> RecordRead:
    """Create a record; values are checked against the entity's fields."""
    rec = await service.create_record(session, actor=actor, entity_key=entity_key, data=body.data)
    set_etag(response, rec.version)
    return RecordRead.model_validate(rec)


@router.post("/bulk", operation_id="records-bulk", responses=ERR_409)
async def bulk_records(
    entity_key: EntityKey, body: BulkAction, session: DbSession, actor: EditorActor
) -> BulkResult:
    """Set a field on, or delete, the records given by ids or matching a filter."""
    matched, updated, deleted = await service.bulk(session, actor=actor, entity_key=entity_key, action=body)
    return BulkResult(matched=matched, updated=updated, deleted=deleted)


@router.delete("", operation_id="records-delete-all")
async def delete_all_records(entity_key: EntityKey, session: DbSession, actor: EditorActor) -> BulkResult:
    """Delete every record of the entity."""
    n = await service.delete_all(session, actor=actor, entity_key=entity_key)
    return BulkResult(matched=n, deleted=n)


@router.get("/{record_id:int}", operation_id="records-get", responses=RECORD_ETAG)
async def get_record(
    entity_key: EntityKey, record_id: RecordId, response: Response, session: DbSession, actor: ViewerActor
) -> RecordRead:
    """One record; its version is also the ETag."""
    rec = await service.get_record(session, actor=actor, entity_key=entity_key, record_id=record_id)
    set_etag(response, rec.version)
    return RecordRead.model_validate(rec)


@router.patch(
    "/{record_id:int}", operation_id="records-update", responses={**ERR_409, **ERR_412, **RECORD_ETAG}
)
async def update_record(
    entity_key: EntityKey,
    record_id: RecordId,
    body: RecordUpdate,
    response: Response,
    session: DbSession,
    actor: EditorActor,
    if_match: IfMatch = None,
) -> RecordRead:
    """Change some values of a record; with If-Match, only if it is still at that version."""
    rec = await service.update_record(
        session,
        actor=actor,
        entity_key=entity_key,
        record_id=record_id,
        data=body.data,
        if_match=if_match_version(if_match, "the record's version"),
    )
    set_etag(response, rec.version)
    return RecordRead.model_validate(rec)


@router.delete(
    "/{record_id:int}",
    operation_id="records-delete",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=ERR_412,
)
async def delete_record(
    entity_key: EntityKey,
    record_id: RecordId,
    session: DbSession,
    actor: EditorActor,
    if_match: IfMatch = None,
) -> None:
    """Delete a record; with If-Match, only if it is still at that version."""
    await service.delete_record(
        session,
        actor=actor,
        entity_key=entity_key,
        record_id=record_id,
        if_match=if_match_version(if_match, "the record's version"),
    )
