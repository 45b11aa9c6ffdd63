import asyncio
import re
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
import structlog
from fastapi import APIRouter, Header, Path, Query, Request, Response, status
from fastapi.responses import FileResponse, StreamingResponse
from starlette.background import BackgroundTask
from starlette.requests import ClientDisconnect

from loadbay.core import tabular
from loadbay.core.versions import if_match_version, set_etag
from loadbay.deps import DbSession, EditorActor, SettingsDep, ViewerActor
from loadbay.errors import (
    COMMON_ERRORS,
    ERR_409,
    ERR_413,
    ERR_429,
    ERR_507,
    ErrorBody,
    Responses,
    TooLarge,
    UploadCut,
)
from loadbay.imports import answers, review, service, upload
from loadbay.imports import dry_run as dry_run_mod
from loadbay.imports import report as report_mod
from loadbay.imports.models import ImportSession, ImportStatus
from loadbay.imports.schemas import (
    BulkEdit,
    BulkEditResult,
    CommitOptions,
    DryRun,
    ErrorSummary,
    ImportCreate,
    ImportPage,
    ImportRead,
    MappingSave,
    Progress,
    ReadOptionsIn,
    ReportFormat,
    RowCount,
    RowEdit,
    RowFilter,
    RowSelection,
    StagedRowPage,
    StagedRowRead,
)
from loadbay.schema.models import Entity

router = APIRouter(prefix="/workspaces/{workspace_id}/imports", tags=["imports"], responses=COMMON_ERRORS)
ImportId = Annotated[int, Path(description="Import session id.", ge=1, le=2**63 - 1)]
RowStatusQ = Annotated[
    RowFilter | None,
    Query(description="Rows with this status, or `problems` for every row that is not valid."),
]
RowNo = Annotated[int, Path(ge=1, le=2**62, description="Row number in the file.")]
FieldQ = Annotated[str | None, Query(description="Rows with an error on this field.", max_length=63)]
CodeQ = Annotated[str | None, Query(description="Rows with an error of this rule.", max_length=63)]
ERR_ROWS_412: Responses = {
    412: {"model": ErrorBody, "description": "The staged rows changed since the given version"}
}
IfMatch = Annotated[
    str | None,
    Header(
        max_length=64,
        description="The version of the staged rows you last read (the ETag); 412 if they changed since.",
    ),
]


async def _read(session: DbSession, imp: ImportSession, *, suggest: bool = True) -> ImportRead:
    entity = await session.get(Entity, imp.entity_id) if imp.entity_id else None
    extra: dict[str, Any] = {}
    if suggest and imp.profile and imp.status in ("uploaded", "mapped", "staged"):
        extra = await service.suggestions(session, imp)
    profile = None
    if imp.profile:
        profile = {
            **imp.profile,
            "columns": [
                {k: v for k, v in c.items() if k in PROFILE_COLUMN_KEYS} for c in imp.profile["columns"]
            ],
        }
    return ImportRead.model_validate(
        {
            "id": imp.id,
            "status": imp.status,
            "entity": entity.key if entity else None,
            "file_name": imp.file_name,
            "file_size": imp.file_size,
            "file_sha256": imp.file_sha256,
            "format": imp.format,
            "duplicate_policy": imp.duplicate_policy,
            "profile": profile,
            "suggestions": extra.get("suggestions", []),
            "entity_matches": extra.get("entity_matches", []),
            "entity_warning": extra.get("entity_warning"),
            "mapping": imp.mapping,
            "commit_options": imp.commit_options,
            "counts": {k: int(v) for k, v in (imp.counts or {}).items()},
            "error": imp.error,
            "created_by": imp.user_id,
            "created_at": imp.created_at,
            "updated_at": imp.updated_at,
            "staged_at": imp.staged_at,
            "commit_started_at": imp.commit_started_at,
            "finished_at": imp.finished_at,
        }
    )


async def _answer(session: DbSession, imp: ImportSession) -> dict[str, Any]:
    return (await _read(session, imp, suggest=False)).model_dump(mode="json")


RUNNING = {ImportStatus.staging, ImportStatus.committing}
PROFILE_COLUMN_KEYS = {"name", "index", "samples", "blank_count", "inferred_type", "confidence"}


@router.post("", operation_id="imports-create", status_code=status.HTTP_201_CREATED)
async def create_import(body: ImportCreate, session: DbSession, actor: EditorActor) -> ImportRead:
    """Start an import session; upload its file next."""
    imp = await service.create_session(session, actor=actor, body=body)
    return await _read(session, imp)


@router.get("", operation_id="imports-list")
async def list_imports(
    session: DbSession,
    actor: ViewerActor,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="`next_cursor` of the last page.")
    ] = None,
    status_: Annotated[ImportStatus | None, Query(alias="status", description="Only this status.")] = None,
) -> ImportPage:
    """Import sessions, newest first: yours, or everyone's for admins."""
    items, nxt = await service.list_sessions(session, actor=actor, limit=limit, cursor=cursor, status=status_)
    # Listing leaves out the mapping suggestions: they are worked out per session, on request.
    page = [await _read(session, i, suggest=False) for i in items]
    return ImportPage(items=page, next_cursor=nxt or None)


@router.get("/{import_id}", operation_id="imports-get", responses=answers.ROWS_ETAG)
async def get_import(
    import_id: ImportId, session: DbSession, actor: ViewerActor, response: Response
) -> ImportRead:
    """One import session: its profile, mapping suggestions, status and counts; ETag: the rows' version."""
    imp = await service.get_session(session, actor=actor, import_id=import_id)
    set_etag(response, imp.rows_version)
    return await _read(session, imp)


log = structlog.get_logger()
_UPLOAD_PATH = re.compile(r"^/api/v1/workspaces/[^/]+/imports/[^/]+/file$")


def is_upload(method: str, path: str) -> bool:
    """The request streams a file (`imports-upload`): its body has the upload limit, not the JSON one."""
    return method == "PUT" and _UPLOAD_PATH.match(path) is not None


async def _body(request: Request, import_id: int) -> AsyncIterator[bytes]:
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            yield chunk
    except ClientDisconnect:
        # Not a fault of the server: the client closed the connection (or lost it) mid-body.
        log.info("upload_disconnected", import_id=import_id, received=received)
        raise UploadCut(f"The client went away after {received:,} bytes; nothing was kept.") from None


@router.put(
    "/{import_id}/file",
    operation_id="imports-upload",
    responses={**ERR_409, **ERR_413, **ERR_429, **ERR_507},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def upload_file(
    import_id: ImportId,
    request: Request,
    session: DbSession,
    actor: EditorActor,
    settings: SettingsDep,
    file_name: Annotated[str | None, Query(max_length=1000, description="Original file name.")] = None,
) -> ImportRead:
    """Upload the file as the raw request body (streamed to disk, hashed), then profile it."""
    length = request.headers.get("content-length")
    expected = int(length) if length and length.isascii() and length.isdigit() else None
    if expected is not None and expected > settings.max_upload_bytes:
        raise TooLarge(
            f"The file is {expected:,} bytes; the limit is {settings.max_upload_bytes:,} bytes.",
            code="file_too_large",
        )
    pending = await upload.check_upload(session, actor=actor, import_id=import_id, file_name=file_name)
    # Streaming and profiling a large file take a while: the transaction of the check ends here, so
    # no lock (on SQLite, the database's write lock) is held while the body arrives and is read.
    await session.commit()
    with upload.upload_slot(actor=actor):
        received, stored = await upload.receive_file(
            settings=settings, body=_body(request, import_id), content_length=expected
        )
        imp = await upload.attach_file(
            session, actor=actor, pending=pending, settings=settings, received=received, stored=stored
        )
    return await _read(session, imp)


@router.put("/{import_id}/options", operation_id="imports-set-options", responses=ERR_409)
async def set_options(
    import_id: ImportId, body: ReadOptionsIn, session: DbSession, actor: EditorActor, settings: SettingsDep
) -> ImportRead:
    """Read the file again with other options (encoding, delimiter, header row, sheet, records path)."""
    pending = await upload.check_options(session, actor=actor, import_id=import_id, options=body)
    await session.commit()  # no lock is held while the file is read again (see upload.Pending)
    imp = await upload.set_options(session, actor=actor, pending=pending, settings=settings)
    return await _read(session, imp)


@router.put("/{import_id}/mapping", operation_id="imports-save-mapping", responses=ERR_409)
async def save_mapping(
    import_id: ImportId, body: MappingSave, session: DbSession, actor: EditorActor
) -> ImportRead:
    """Save which column fills which field; remembered for the next file with the same headers."""
    imp = await service.save_mapping(session, actor=actor, import_id=import_id, body=body)
    return await _read(session, imp)


@router.post("/{import_id}/stage", operation_id="imports-stage", status_code=202, responses=ERR_409)
async def stage(import_id: ImportId, session: DbSession, actor: EditorActor) -> ImportRead:
    """Parse, map and validate every row in the background; poll the session or its progress."""
    imp = await service.start_staging(session, actor=actor, import_id=import_id)
    return await _read(session, imp)


@router.get("/{import_id}/rows", operation_id="imports-rows", responses=answers.ROWS_ETAG)
async def list_rows(
    import_id: ImportId,
    session: DbSession,
    actor: ViewerActor,
    response: Response,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[
        int | None, Query(ge=0, le=2**62, description="`next_cursor` of the last page.")
    ] = None,
    status_: Annotated[RowStatusQ, Query(alias="status")] = None,
    field: FieldQ = None,
    code: CodeQ = None,
) -> StagedRowPage:
    """Staged rows in file order, optionally only those with a status or an error on a field or rule."""
    sel = RowSelection(status=status_, field=field, code=code)
    # The version is read before the rows: a change in between makes an edit sent with it a 412.
    set_etag(response, (await service.get_session(session, actor=actor, import_id=import_id)).rows_version)
    items, nxt = await review.rows(
        session, actor=actor, import_id=import_id, limit=limit, after=cursor, selection=sel
    )
    return StagedRowPage(
        items=[StagedRowRead(row=r.row_no, status=r.status, data=r.data, errors=r.errors) for r in items],
        next_cursor=nxt,
    )


@router.get("/{import_id}/rows/count", operation_id="imports-rows-count")
async def count_rows(
    import_id: ImportId,
    session: DbSession,
    actor: ViewerActor,
    status_: Annotated[RowStatusQ, Query(alias="status")] = None,
    field: FieldQ = None,
    code: CodeQ = None,
) -> RowCount:
    """How many staged rows match the filters."""
    sel = RowSelection(status=status_, field=field, code=code)
    return RowCount(count=await review.count_rows(session, actor=actor, import_id=import_id, selection=sel))


@router.get("/{import_id}/rows/{row_no:int}", operation_id="imports-get-row", responses=answers.ROWS_ETAG)
async def get_row(
    import_id: ImportId, row_no: RowNo, session: DbSession, actor: ViewerActor, response: Response
) -> StagedRowRead:
    """One staged row; the ETag is the rows' version, to send back as If-Match with an edit."""
    r, version = await review.get_row(session, actor=actor, import_id=import_id, row_no=row_no)
    set_etag(response, version)
    return StagedRowRead(row=r.row_no, status=r.status, data=r.data, errors=r.errors)


@router.patch(
    "/{import_id}/rows/{row_no:int}",
    operation_id="imports-edit-row",
    responses={**ERR_409, **ERR_ROWS_412, **answers.ROWS_ETAG},
)
async def edit_row(
    import_id: ImportId,
    row_no: RowNo,
    body: RowEdit,
    session: DbSession,
    actor: EditorActor,
    response: Response,
    if_match: IfMatch = None,
) -> StagedRowRead:
    """Fix cells of one staged row; the row is checked again. The ETag is the rows' new version."""
    r = await review.edit_row(
        session,
        actor=actor,
        import_id=import_id,
        row_no=row_no,
        changes=body.data,
        if_match=if_match_version(if_match, "the version of the staged rows"),
    )
    set_etag(response, (await service.get_session(session, actor=actor, import_id=import_id)).rows_version)
    return StagedRowRead(row=r.row_no, status=r.status, data=r.data, errors=r.errors)


@router.post(
    "/{import_id}/rows/bulk",
    operation_id="imports-bulk-edit",
    responses={**ERR_409, **ERR_ROWS_412, **answers.ROWS_ETAG},
)
async def bulk_edit(
    import_id: ImportId,
    body: BulkEdit,
    session: DbSession,
    actor: EditorActor,
    response: Response,
    if_match: IfMatch = None,
) -> BulkEditResult:
    """Set a value, find and replace, discard or restore, on chosen rows or on every row matching a filter."""
    out = await review.bulk_edit(
        session,
        actor=actor,
        import_id=import_id,
        body=body,
        if_match=if_match_version(if_match, "the version of the staged rows"),
    )
    set_etag(response, (await service.get_session(session, actor=actor, import_id=import_id)).rows_version)
    return BulkEditResult(**out)


@router.get("/{import_id}/errors", operation_id="imports-error-summary")
async def error_summary(import_id: ImportId, session: DbSession, actor: ViewerActor) -> ErrorSummary:
    """Problems of the staged rows, counted by field and rule."""
    return ErrorSummary(**await review.error_summary(session, actor=actor, import_id=import_id))


@router.post("/{import_id}/dry-run", operation_id="imports-dry-run", responses=ERR_409)
async def dry_run(import_id: ImportId, body: CommitOptions, session: DbSession, actor: ViewerActor) -> DryRun:
    """What a commit with these options would do, without doing it."""
    return DryRun(**await dry_run_mod.dry_run(session, actor=actor, import_id=import_id, options=body))


COMMIT_REPLAY = (
    "Commit the valid rows in chunks, in the background; follow it with progress or events. "
    "The same `Idempotency-Key` with the same body is a replay: it starts nothing and answers with the "
    "first answer (the import as it was when its commit started), the same on every replay whatever the "
    "commit has done since, with `Idempotent-Replayed: true`. The same key with another body is 409 "
    "`idempotency_key_reused`."
)


@router.post(
    "/{import_id}/commit",
    operation_id="imports-commit",
    status_code=202,
    responses={**ERR_409, **answers.COMMIT},
    description=COMMIT_REPLAY,
)
async def commit(
    import_id: ImportId,
    body: CommitOptions,
    session: DbSession,
    actor: EditorActor,
    response: Response,
    idempotency_key: Annotated[
        str | None,
        Header(
            max_length=255,
            description="Send the same key again to get the first answer, not a second commit.",
        ),
    ] = None,
) -> ImportRead:
    """Commit the valid rows in chunks, in the background; follow it with progress or events."""
    answer, replayed = await service.commit(
        session,
        actor=actor,
        import_id=import_id,
        options=body,
        idempotency_key=idempotency_key,
        answer=lambda imp: _answer(session, imp),
    )
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return ImportRead.model_validate(answer)


@router.post("/{import_id}/cancel", operation_id="imports-cancel", responses=ERR_409)
async def cancel(import_id: ImportId, session: DbSession, actor: EditorActor) -> ImportRead:
    """Stop the import: chunks not started are not committed; what was committed stays."""
    return await _read(session, await service.cancel(session, actor=actor, import_id=import_id))


@router.post("/{import_id}/retry", operation_id="imports-retry", status_code=202, responses=ERR_409)
async def retry(import_id: ImportId, session: DbSession, actor: EditorActor) -> ImportRead:
    """Run the failed chunks (or a failed staging) again."""
    return await _read(session, await service.retry(session, actor=actor, import_id=import_id))


@router.get("/{import_id}/progress", operation_id="imports-progress")
async def progress(import_id: ImportId, session: DbSession, actor: ViewerActor) -> Progress:
    """Rows done, rate and time left, from the chunk ledger."""
    return Progress(**await service.progress(session, actor=actor, import_id=import_id))


@router.get(
    "/{import_id}/events",
    operation_id="imports-events",
    response_class=StreamingResponse,
    responses=answers.EVENTS,
)
async def events(
    import_id: ImportId, request: Request, session: DbSession, actor: ViewerActor
) -> StreamingResponse:
    """Server-sent `progress` events (the Progress schema as JSON) while the import stages or commits."""
    await service.get_session(session, actor=actor, import_id=import_id)
    maker = request.app.state.sessionmaker

    async def stream() -> AsyncIterator[bytes]:
        last = None
        while True:
            async with maker() as s:
                p = await service.progress(s, actor=actor, import_id=import_id)
            body = orjson.dumps(Progress(**p).model_dump(mode="json"))
            if body != last:
                yield b"event: progress\ndata: " + body + b"\n\n"
                last = body
            else:
                yield b": keep-alive\n\n"
            # Events while work runs (staging, committing); otherwise the state as it is, then the end.
            if p["status"] not in RUNNING or await request.is_disconnected():
                return
            await asyncio.sleep(0.5)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


@router.get(
    "/{import_id}/report",
    operation_id="imports-report",
    response_class=StreamingResponse,
    responses={**answers.REPORT, **ERR_409},
)
async def report(
    import_id: ImportId,
    request: Request,
    session: DbSession,
    actor: ViewerActor,
    settings: SettingsDep,
    format: Annotated[ReportFormat, Query(description="`csv` or `xlsx`.")] = ReportFormat.csv,
) -> Response:
    """The error report: the rows that did not make it, as uploaded, plus why; safe for spreadsheets."""
    header, rows = await report_mod.report_source(
        session, actor=actor, import_id=import_id, settings=settings
    )
    name = f"import-{import_id}-errors.{format}"
    media_type = answers.report_media_type(format, request.headers.get("accept"))
    if format == "xlsx":
        path = await asyncio.to_thread(tabular.write_xlsx, header, rows())
        return FileResponse(
            path,
            media_type=media_type,
            filename=name,
            background=BackgroundTask(path.unlink, missing_ok=True),
        )
    return StreamingResponse(
        tabular.write_csv(header, rows()),
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.delete("/{import_id}", operation_id="imports-delete", status_code=204, responses=ERR_409)
async def delete_import(
    import_id: ImportId, session: DbSession, actor: EditorActor, settings: SettingsDep
) -> Response:
    """Delete an import session, its staged rows and its file (committed records stay)."""
    await service.delete_session(session, actor=actor, import_id=import_id, settings=settings)
    return Response(status_code=204)
