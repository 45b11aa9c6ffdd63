"""Import sessions through their life: upload, profile, map, stage, review, dry run, commit."""

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

import orjson
from sqlalchemy import (
    delete,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from loadbay.config import Settings
from loadbay.core.actor import Actor, Role
from loadbay.db import utcnow
from loadbay.errors import (
    AppError,
    Conflict,
    FieldError,
    Invalid,
    NotFound,
)
from loadbay.imports import infer, repository, storage
from loadbay.imports import mapping as mapping_mod
from loadbay.imports.commit import chunks_by_status
from loadbay.imports.committing import finish
from loadbay.imports.models import (
    FINISHED,
    ChunkStatus,
    ImportChunk,
    ImportSession,
    ImportStatus,
    RowStatus,
    SavedMapping,
    StagedRow,
)
from loadbay.imports.schemas import (
    CommitOptions,
    ImportCreate,
    MappingSave,
    OnInvalid,
)
from loadbay.imports.stage import status_counts
from loadbay.schema import service as schema_service
from loadbay.schema.models import Entity, FieldDef
from loadbay.schema.types import FieldType
from loadbay.worker.backend import defer

PROFILE_ROWS = 1000  # rows read to profile a file (backend/loadbay/imports/upload.py)
SAMPLES_SHOWN = 5
EDITABLE = {ImportStatus.staged}


class UnreadableFile(AppError):
    status_code = 422
    code = "unreadable_file"


# --- access --------------------------------------------------------------------------------------


async def get_session(
    session: AsyncSession, *, actor: Actor, import_id: int, lock: bool = False
) -> ImportSession:
    imp = await repository.readable_one(session, actor, import_id, lock=lock)
    if imp is None:
        raise NotFound(f"Import {import_id} not found.", code="import_not_found")
    return imp


async def _entity_by_key(session: AsyncSession, actor: Actor, key: str) -> Entity:
    return await schema_service.get_entity_row(session, workspace_id=actor.workspace_id, key=key)


async def entity_fields(session: AsyncSession, entity_id: int) -> list[FieldDef]:
    stmt = select(FieldDef).where(FieldDef.entity_id == entity_id).order_by(FieldDef.position, FieldDef.id)
    return list((await session.execute(stmt)).scalars())


async def list_sessions(
    session: AsyncSession, *, actor: Actor, limit: int, cursor: int | None, status: str | None
) -> tuple[list[ImportSession], int | None]:
    items = await repository.readable_page(session, actor, limit=limit + 1, before_id=cursor, status=status)
    nxt = items[limit - 1].id if len(items) > limit else None
    return items[:limit], nxt


# --- create, upload, profile ---------------------------------------------------------------------


async def create_session(session: AsyncSession, *, actor: Actor, body: ImportCreate) -> ImportSession:
    entity_id = None
    if body.entity:
        entity_id = (await _entity_by_key(session, actor, body.entity)).id
    imp = ImportSession(
        workspace_id=actor.workspace_id,
        user_id=actor.user_id,
        api_key_id=actor.principal.api_key_id,
        entity_id=entity_id,
        status=ImportStatus.created,
        file_id=storage.new_file_id(),
        file_name=storage.clean_name(body.file_name),
        duplicate_policy=body.duplicate_policy,
        read_options=body.options.model_dump(exclude_none=True),
        counts={},
    )
    session.add(imp)
    await session.flush()
    return imp


# --- mapping -------------------------------------------------------------------------------------


def _field_infos(fields: list[FieldDef], key_fields: list[str]) -> list[mapping_mod.FieldInfo]:
    return [
        mapping_mod.FieldInfo(
            key=f.key,
            label=f.label,
            type=FieldType(f.type),
            aliases=tuple(f.aliases or ()),
            required=f.required,
            enum_values=tuple(f.enum_values) if f.enum_values else None,
            is_key=f.key in key_fields,
        )
        for f in fields
    ]


def _inferred(column: dict[str, Any]) -> infer.InferredType:
    d = dict(column["_inferred"])
    d["type"] = FieldType(d["type"])
    d["enum_values"] = tuple(d["enum_values"]) if d.get("enum_values") else None
    return infer.InferredType(**d)


def _columns_in(profile: dict[str, Any]) -> list[mapping_mod.ColumnInfo]:
    return [
        mapping_mod.ColumnInfo(name=c["name"], samples=tuple(c.get("_values") or ()), inferred=_inferred(c))
        for c in profile.get("columns", [])
    ]


async def _remembered(session: AsyncSession, entity_id: int, columns: list[str]) -> dict[str, str | None]:
    """The mapping saved for these exact headers, else what earlier imports did with each column."""
    signature = mapping_mod.headers_signature(columns)
    rows = (
        await session.execute(
            select(SavedMapping).where(SavedMapping.entity_id == entity_id).order_by(SavedMapping.updated_at)
        )
    ).scalars()
    per_column: dict[str, str | None] = {}
    exact: dict[str, str | None] | None = None
    for m in rows:
        if m.headers_signature == signature:
            exact = m.mapping
        for col, fkey in m.mapping.items():
            if col in columns:
                per_column[col] = fkey
    return exact if exact is not None else per_column


async def suggestions(session: AsyncSession, imp: ImportSession) -> dict[str, Any]:
    """The mapping buckets for each column, the ranking of entities, and any disagreement."""
    if not imp.profile:
        return {"suggestions": [], "entity_matches": [], "entity_warning": None}
    cols = _columns_in(imp.profile)
    names = [c.name for c in cols]
    entities = list(
        (await session.execute(select(Entity).where(Entity.workspace_id == imp.workspace_id))).scalars()
    )
    fields_by_entity: dict[str, list[mapping_mod.FieldInfo]] = {}
    ids = {e.id: e for e in entities}
    all_fields = (
        await session.execute(select(FieldDef).where(FieldDef.workspace_id == imp.workspace_id))
    ).scalars()
    grouped: dict[int, list[FieldDef]] = {}
    for f in all_fields:
        grouped.setdefault(f.entity_id, []).append(f)
    for eid, e in ids.items():
        ordered = sorted(grouped.get(eid, []), key=lambda f: (f.position, f.id))
        fields_by_entity[e.key] = _field_infos(ordered, list(e.key_fields))
    ranking = mapping_mod.best_entity(cols, fields_by_entity) if fields_by_entity else []
    matches = [{"entity": k, "score": round(s, 3), "reason": r} for k, s, r in ranking[:5]]
    entity = ids.get(imp.entity_id) if imp.entity_id else None
    warning = None
    if entity is None and ranking:
        entity = next((e for e in entities if e.key == ranking[0][0]), None)
    elif entity is not None:
        warning = mapping_mod.disagreement(entity.key, ranking)
    if entity is None:
        return {"suggestions": [], "entity_matches": matches, "entity_warning": warning}
    remembered = await _remembered(session, entity.id, names)
    result = mapping_mod.suggest_mapping(
        cols, fields_by_entity[entity.key], remembered=remembered or None, entity_key=entity.key
    )
    return {
        "suggestions": [asdict(m) for m in result],
        "entity_matches": matches,
        "entity_warning": warning,
        "proposed_entity": entity.key,
    }


async def save_mapping(
    session: AsyncSession, *, actor: Actor, import_id: int, body: MappingSave
) -> ImportSession:
    imp = await get_session(session, actor=actor, import_id=import_id, lock=True)
    if imp.status not in (ImportStatus.uploaded, ImportStatus.mapped, ImportStatus.staged):
        raise Conflict(
            f"Import {import_id} is {imp.status}; its mapping cannot change now.", code="wrong_status"
        )
    if body.entity:
        imp.entity_id = (await _entity_by_key(session, actor, body.entity)).id
    if imp.entity_id is None:
        raise Invalid(
            "Say which entity to import into.",
            code="entity_required",
            fields=[FieldError(field="entity", code="required", message="choose an entity")],
        )
    entity = await session.get(Entity, imp.entity_id)
    assert entity is not None
    fields = {f.key: f for f in await entity_fields(session, entity.id)}
    columns = [c["name"] for c in (imp.profile or {}).get("columns", [])]
    errors: list[FieldError] = []
    used: dict[str, str] = {}
    clean: dict[str, str | None] = {c: None for c in columns}
    for col, fkey in body.columns.items():
        if col not in clean:
            errors.append(
                FieldError(
                    field=f"columns.{col}", code="unknown_column", message="the file has no such column"
                )
            )
            continue
        if fkey is None:
            continue
        if fkey not in fields:
            errors.append(
                FieldError(
                    field=f"columns.{col}",
                    code="unknown_field",
                    message=f"{entity.key!r} has no field {fkey!r}",
                )
            )
            continue
        if fkey in used:
            errors.append(
                FieldError(
                    field=f"columns.{col}",
                    code="field_mapped_twice",
                    message=f"{fkey!r} is already filled by column {used[fkey]!r}",
                )
            )
            continue
        used[fkey] = col
        clean[col] = fkey
    for k in entity.key_fields:
        if k not in used:
            errors.append(
                FieldError(
                    field=f"fields.{k}", code="key_not_mapped", message=f"the key field {k!r} needs a column"
                )
            )
    for f in fields.values():
        if f.required and f.default is None and f.key not in used and f.key not in entity.key_fields:
            errors.append(
                FieldError(
                    field=f"fields.{f.key}",
                    code="required_not_mapped",
                    message=f"{f.label} is required and needs a column",
                )
            )
    if errors:
        raise Invalid(
            "The mapping is not complete: " + "; ".join(e.message for e in errors),
            code="invalid_mapping",
            fields=errors,
        )
    imp.mapping = clean
    if body.duplicate_policy:
        imp.duplicate_policy = body.duplicate_policy
    imp.status = ImportStatus.mapped
    await _remember(session, imp, entity, columns, clean)
    return imp


async def _remember(
    session: AsyncSession,
    imp: ImportSession,
    entity: Entity,
    columns: list[str],
    mapping: dict[str, str | None],
) -> None:
    signature = mapping_mod.headers_signature(columns)
    saved = (
        await session.execute(
            select(SavedMapping).where(
                SavedMapping.entity_id == entity.id, SavedMapping.headers_signature == signature
            )
        )
    ).scalar_one_or_none()
    if saved is None:
        session.add(
            SavedMapping(
                workspace_id=imp.workspace_id,
                entity_id=entity.id,
                headers_signature=signature,
                mapping=mapping,
            )
        )
    else:
        saved.mapping = mapping
        saved.updated_at = utcnow()
    await session.flush()


# --- staging -------------------------------------------------------------------------------------


async def start_staging(session: AsyncSession, *, actor: Actor, import_id: int) -> ImportSession:
    imp = await get_session(session, actor=actor, import_id=import_id, lock=True)
    if imp.status not in (ImportStatus.mapped, ImportStatus.staged, ImportStatus.staging):
        raise Conflict(f"Import {import_id} is {imp.status}; save a mapping first.", code="wrong_status")
    if imp.status != ImportStatus.staging:
        imp.status = ImportStatus.staging
        imp.counts = {}
        imp.heartbeat_at = utcnow()
        imp.rows_version += 1
        defer(session, "stage_import", job_id=f"stage:{imp.file_id}:{imp.rows_version}", session_id=imp.id)
    return imp


# --- review --------------------------------------------------------------------------------------


# --- commit --------------------------------------------------------------------------


def _fingerprint(options: CommitOptions) -> str:
    return hashlib.sha256(
        orjson.dumps(options.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    ).hexdigest()


async def commit(
    session: AsyncSession,
    *,
    actor: Actor,
    import_id: int,
    options: CommitOptions,
    idempotency_key: str | None,
    answer: Callable[[ImportSession], Awaitable[dict[str, Any]]],
) -> tuple[dict[str, Any], bool]:
    """Start the commit; returns its answer (made by `answer`) and whether this call was a replay.

    A replay (the same Idempotency-Key and options) gets the first answer again, kept with the
    session, whatever the commit has done since.
    """
    imp = await get_session(session, actor=actor, import_id=import_id, lock=True)
    fp = _fingerprint(options)
    if imp.idempotency_key is not None and idempotency_key == imp.idempotency_key:
        if imp.commit_fingerprint != fp:
            raise Conflict(
                "This Idempotency-Key was used for a commit with other options.",
                code="idempotency_key_reused",
            )
        # (A commit started before first answers were kept answers with the session as it is.)
        return imp.commit_answer or await answer(imp), True
    if imp.status != ImportStatus.staged:
        raise Conflict(
            f"Import {import_id} is {imp.status}; only a staged import can be committed.", code="wrong_status"
        )
    by_status = await status_counts(session, imp.id)
    if not by_status.get(RowStatus.valid, 0):
        raise Invalid("There is nothing to import: no valid rows.", code="nothing_to_import")
    bad = by_status.get(RowStatus.invalid, 0) + by_status.get(RowStatus.rejected, 0)
    if options.on_invalid == OnInvalid.abort and bad:
        raise Invalid(
            f"{bad:,} rows are invalid and on_invalid is abort: fix or discard them, or skip them.",
            code="invalid_rows",
        )
    imp.commit_options = options.model_dump(mode="json")
    imp.idempotency_key = idempotency_key
    imp.commit_fingerprint = fp
    imp.status = ImportStatus.committing
    imp.commit_started_at = utcnow()
    imp.heartbeat_at = utcnow()
    defer(session, "commit_import", job_id=f"commit:{imp.file_id}", session_id=imp.id)
    first = await answer(imp)
    if idempotency_key is not None:
        imp.commit_answer = first
    return first, False


async def cancel(session: AsyncSession, *, actor: Actor, import_id: int) -> ImportSession:
    imp = await get_session(session, actor=actor, import_id=import_id, lock=True)
    if imp.status in FINISHED:
        raise Conflict(f"Import {import_id} is already {imp.status}.", code="wrong_status")
    was = imp.status
    imp.status = ImportStatus.cancelled
    imp.finished_at = utcnow()
    if was == ImportStatus.committing:
        await session.execute(
            update(ImportChunk)
            .where(ImportChunk.session_id == imp.id, ImportChunk.status == ChunkStatus.pending)
            .values(status=ChunkStatus.cancelled)
        )
        running = (
            await session.execute(
                select(func.count())
                .select_from(ImportChunk)
                .where(ImportChunk.session_id == imp.id, ImportChunk.status == ChunkStatus.running)
            )
        ).scalar_one()
        await finish(session, imp)
        if running:
            imp.finished_at = None  # the running chunks finish, then the counts are final
    return imp


async def retry(session: AsyncSession, *, actor: Actor, import_id: int) -> ImportSession:
    imp = await get_session(session, actor=actor, import_id=import_id, lock=True)
    if imp.status not in (ImportStatus.completed_with_errors, ImportStatus.failed):
        raise Conflict(f"Import {import_id} is {imp.status}; there is nothing to retry.", code="wrong_status")
    res = await session.execute(
        update(ImportChunk)
        .where(ImportChunk.session_id == imp.id, ImportChunk.status == ChunkStatus.failed)
        .values(status=ChunkStatus.pending, error=None, heartbeat_at=None)
    )
    if not res.rowcount:  # type: ignore[attr-defined]
        if imp.status == ImportStatus.failed and imp.staged_at is None:
            imp.status = ImportStatus.staging
            imp.heartbeat_at = utcnow()
            imp.rows_version += 1
            defer(
                session, "stage_import", job_id=f"stage:{imp.file_id}:{imp.rows_version}", session_id=imp.id
            )
            return imp
        raise Conflict("No chunk failed; there is nothing to retry.", code="nothing_to_retry")
    imp.status = ImportStatus.committing
    imp.finished_at = None
    imp.error = None
    imp.heartbeat_at = utcnow()
    defer(
        session,
        "commit_import",
        job_id=f"commit:{imp.file_id}:retry:{utcnow().timestamp()}",
        session_id=imp.id,
    )
    return imp


async def progress(session: AsyncSession, *, actor: Actor, import_id: int) -> dict[str, Any]:
    imp = await get_session(session, actor=actor, import_id=import_id)
    by = await chunks_by_status(session, imp.id)
    total_rows = sum(r for _, r in by.values())
    done_rows = by.get(ChunkStatus.done, (0, 0))[1]
    rate = eta = None
    if imp.commit_started_at and done_rows:
        end = imp.finished_at or utcnow()
        elapsed = max((end - imp.commit_started_at).total_seconds(), 1e-3)
        rate = done_rows / elapsed
        eta = max(total_rows - done_rows, 0) / rate if imp.status == ImportStatus.committing else 0.0
    if imp.status == ImportStatus.staging:
        total_rows = int((imp.counts or {}).get("rows_read", 0))
    return {
        "status": imp.status,
        "rows_total": total_rows,
        "rows_done": done_rows,
        "chunks_total": sum(n for n, _ in by.values()),
        "chunks_done": by.get(ChunkStatus.done, (0, 0))[0],
        "chunks_failed": by.get(ChunkStatus.failed, (0, 0))[0],
        "rows_per_second": round(rate, 1) if rate else None,
        "eta_seconds": round(eta, 1) if eta is not None else None,
        "counts": {k: int(v) for k, v in (imp.counts or {}).items()},
        "error": imp.error,
    }


async def delete_session(session: AsyncSession, *, actor: Actor, import_id: int, settings: Settings) -> None:
    imp = await get_session(session, actor=actor, import_id=import_id, lock=True)
    if imp.status in (ImportStatus.staging, ImportStatus.committing):
        raise Conflict(f"Import {import_id} is {imp.status}; cancel it first.", code="wrong_status")
    await session.execute(delete(StagedRow).where(StagedRow.session_id == imp.id))
    await session.delete(imp)
    await session.flush()
    storage.remove(settings.data_dir, imp.file_id)


def can_see_all(actor: Actor) -> bool:
    return actor.role == Role.admin
