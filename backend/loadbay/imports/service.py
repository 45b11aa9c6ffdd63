"""Import sessions through their life: upload, profile, map, stage, review, dry run, commit."""

import hashlib
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any, cast

import orjson
from sqlalchemy import (
    ColumnElement,
    String,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy import cast as sa_cast
from sqlalchemy.dialects.postgresql import JSONB
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
    PreconditionFailed,
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
    BulkEdit,
    BulkEditAction,
    CommitOptions,
    ImportCreate,
    MappingSave,
    OnInvalid,
    RowSelection,
)
from loadbay.imports.stage import RefChecker, mark_duplicates, status_counts, summary_counts
from loadbay.imports.validate import Validator
from loadbay.records.models import Record
from loadbay.records.upsert import ENTITY_OF_SESSION, merged, pg_new_data
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


async def _fields(session: AsyncSession, entity_id: int) -> list[FieldDef]:
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
    fields = {f.key: f for f in await _fields(session, entity.id)}
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


def _selection(session_id: int, sel: RowSelection | None, dialect: str) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [StagedRow.session_id == session_id]
    if sel is None:
        return where
    if sel.rows is not None:
        where.append(StagedRow.row_no.in_(sel.rows))
    if sel.status:
        if sel.status == "problems":
            where.append(StagedRow.status != RowStatus.valid)
        else:
            where.append(StagedRow.status == sel.status)
    if sel.field or sel.code:
        if dialect == "postgresql":
            if sel.field and sel.code:
                cond = text("staged_rows.errors -> :ef ->> 0 = :ec").bindparams(ef=sel.field, ec=sel.code)
            elif sel.field:
                cond = text("staged_rows.errors ? :ef").bindparams(ef=sel.field)
            else:
                cond = text(
                    "EXISTS (SELECT 1 FROM jsonb_each(staged_rows.errors) e WHERE e.value ->> 0 = :ec)"
                ).bindparams(ec=sel.code)
        else:
            if sel.field and sel.code:
                cond = text("json_extract(staged_rows.errors, '$.\"' || :ef || '\"[0]') = :ec").bindparams(
                    ef=sel.field, ec=sel.code
                )
            elif sel.field:
                cond = text("json_extract(staged_rows.errors, '$.\"' || :ef || '\"') IS NOT NULL").bindparams(
                    ef=sel.field
                )
            else:
                cond = text(
                    "EXISTS (SELECT 1 FROM json_each(staged_rows.errors) e "
                    "WHERE json_extract(e.value, '$[0]') = :ec)"
                ).bindparams(ec=sel.code)
        where.append(StagedRow.status != RowStatus.valid)
        where.append(cond)  # type: ignore[arg-type]
    return where


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def rows(
    session: AsyncSession,
    *,
    actor: Actor,
    import_id: int,
    limit: int,
    after: int | None,
    selection: RowSelection,
) -> tuple[list[StagedRow], int | None]:
    imp = await get_session(session, actor=actor, import_id=import_id)
    where = _selection(imp.id, selection, _dialect(session))
    if after is not None:
        where.append(StagedRow.row_no > after)
    stmt = select(StagedRow).where(and_(*where)).order_by(StagedRow.row_no).limit(limit + 1)
    items = list((await session.execute(stmt)).scalars())
    nxt = items[limit - 1].row_no if len(items) > limit else None
    return items[:limit], nxt


async def get_row(
    session: AsyncSession, *, actor: Actor, import_id: int, row_no: int
) -> tuple[StagedRow, int]:
    """One staged row (a rejected one too, as the list shows it) and the rows' version."""
    imp = await get_session(session, actor=actor, import_id=import_id)
    return _found(
        await session.get(StagedRow, (imp.id, row_no)), imp, row_no, rejected=True
    ), imp.rows_version


def _found(row: StagedRow | None, imp: ImportSession, row_no: int, *, rejected: bool = False) -> StagedRow:
    if row is None or (row.status == RowStatus.rejected and not rejected):
        raise NotFound(f"Row {row_no} is not among the staged rows of import {imp.id}.", code="row_not_found")
    return row


async def count_rows(session: AsyncSession, *, actor: Actor, import_id: int, selection: RowSelection) -> int:
    imp = await get_session(session, actor=actor, import_id=import_id)
    where = _selection(imp.id, selection, _dialect(session))
    return int(
        (await session.execute(select(func.count()).select_from(StagedRow).where(and_(*where)))).scalar_one()
    )


async def error_summary(session: AsyncSession, *, actor: Actor, import_id: int) -> dict[str, Any]:
    imp = await get_session(session, actor=actor, import_id=import_id)
    if _dialect(session) == "postgresql":
        sql = (
            "SELECT e.key, e.value ->> 0, count(*), min(e.value ->> 1) FROM staged_rows, "
            "jsonb_each(staged_rows.errors) e WHERE session_id = :s AND status <> 'valid' "
            "AND errors IS NOT NULL AND jsonb_typeof(errors) = 'object' GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2"
        )
    else:
        sql = (
            "SELECT e.key, json_extract(e.value, '$[0]'), count(*), min(json_extract(e.value, '$[1]')) "
            "FROM staged_rows, json_each(staged_rows.errors) e WHERE session_id = :s AND status <> 'valid' "
            "AND errors IS NOT NULL GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2"
        )
    by_field = [
        {"field": str(f), "code": str(c), "count": int(n), "example": str(m or "")}
        for f, c, n, m in (await session.execute(text(sql), {"s": imp.id})).all()
    ]
    with_errors = (
        await session.execute(
            select(func.count())
            .select_from(StagedRow)
            .where(StagedRow.session_id == imp.id, StagedRow.status != RowStatus.valid)
        )
    ).scalar_one()
    return {"rows_with_errors": int(with_errors), "by_field": by_field}


async def _revalidator(
    session: AsyncSession, imp: ImportSession
) -> tuple[Validator, RefChecker, list[FieldDef]]:
    assert imp.entity_id is not None
    entity = await session.get(Entity, imp.entity_id)
    assert entity is not None
    fields = await _fields(session, entity.id)
    ref_ids = {f.reference_entity_id for f in fields if f.reference_entity_id is not None}
    ref_entities = {
        e.id: e for e in (await session.execute(select(Entity).where(Entity.id.in_(ref_ids)))).scalars()
    }
    keys = [f.key for f in fields]
    mapped = {v for v in (imp.mapping or {}).values() if v}
    validator = Validator(
        entity,
        fields,
        keys,
        {k: k for k in keys if k in mapped},
        ref_entities=ref_entities,
        decimal_comma=bool((imp.profile or {}).get("decimal_comma")),
        decimal=(imp.read_options or {}).get("decimal"),
    )
    return validator, RefChecker(fields, ref_entities), fields


def _editable(imp: ImportSession, if_match: int | None = None) -> None:
    if imp.status not in EDITABLE:
        raise Conflict(
            f"Import {imp.id} is {imp.status}; its rows can be changed only while it is staged.",
            code="rows_locked",
        )
    if if_match is not None and if_match != imp.rows_version:
        raise PreconditionFailed(
            f"The rows of import {imp.id} changed since version {if_match} (now {imp.rows_version}); "
            "read them again before editing.",
            code="rows_changed",
        )


async def _rewrite(
    session: AsyncSession,
    imp: ImportSession,
    validator: Validator,
    refs: RefChecker,
    fields: list[FieldDef],
    changed: list[tuple[StagedRow, dict[str, Any], str | None]],
) -> tuple[int, int]:
    """Re-validate edited rows (new data, new status) and write them back; returns (valid, invalid)."""
    keys = [f.key for f in fields]
    batch = validator.run([(r.row_no, [d.get(k) for k in keys]) for r, d, _ in changed])
    await refs.check(session, batch)
    touched_keys: set[str] = set()
    now_valid = now_invalid = 0
    writes: list[dict[str, Any]] = []
    for i, (r, _, status) in enumerate(changed):
        new_status = status or batch.status[i]
        if new_status == RowStatus.valid:
            now_valid += 1
        elif new_status == RowStatus.invalid:
            now_invalid += 1
        # Duplicates only move when a key changes or a row was part of a duplicate group.
        was_duplicate = r.status == RowStatus.duplicate or "duplicate_key" in str(
            (r.errors or {}).get("_row")
        )
        if r.key_norm != batch.key_norm[i] or was_duplicate:
            touched_keys.update(k for k in (r.key_norm, batch.key_norm[i]) if k is not None)
        writes.append(
            {
                "b_row": r.row_no,
                "b_data": batch.data[i],
                "b_errors": batch.errors[i],
                "b_status": new_status,
                "b_key": batch.key_norm[i],
            }
        )
    t = cast(Table, StagedRow.__table__)
    conn = await session.connection()
    await conn.execute(
        update(t)
        .where(t.c.session_id == imp.id, t.c.row_no == bindparam("b_row"))
        .values(
            data=bindparam("b_data"),
            errors=bindparam("b_errors"),
            status=bindparam("b_status"),
            key_norm=bindparam("b_key"),
        ),
        writes,
    )
    await mark_duplicates(session, imp.id, imp.duplicate_policy, keys=touched_keys)
    return now_valid, now_invalid


async def _recount(session: AsyncSession, imp: ImportSession) -> None:
    imp.rows_version += 1
    imp.counts = summary_counts(await status_counts(session, imp.id))


def _apply_edit(data: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = dict(data)
    for k, v in changes.items():
        if v is None or (isinstance(v, str) and not v.strip()):
            out.pop(k, None)
        else:
            out[k] = v
    return out


async def edit_row(
    session: AsyncSession,
    *,
    actor: Actor,
    import_id: int,
    row_no: int,
    changes: dict[str, Any],
    if_match: int | None = None,
) -> StagedRow:
    imp = await get_session(session, actor=actor, import_id=import_id, lock=True)
    _editable(imp, if_match)
    row = _found(await session.get(StagedRow, (imp.id, row_no)), imp, row_no)
    validator, refs, fields = await _revalidator(session, imp)
    known = {f.key for f in fields}
    unknown = [k for k in changes if k not in known]
    if unknown:
        raise Invalid(
            f"Unknown fields: {', '.join(unknown)}.",
            code="unknown_field",
            fields=[
                FieldError(field=f"data.{k}", code="unknown_field", message="no such field") for k in unknown
            ],
        )
    _only_mapped(imp, list(changes), "data.")
    status = RowStatus.discarded if row.status == RowStatus.discarded else None
    await _rewrite(session, imp, validator, refs, fields, [(row, _apply_edit(row.data, changes), status)])
    await _recount(session, imp)
    await session.refresh(row)
    return row


BULK_BATCH = 5000


def _only_mapped(imp: ImportSession, keys: list[str], prefix: str) -> None:
    """Staged rows hold the mapped fields only: a change to another would be checked by nothing."""
    mapped = {v for v in (imp.mapping or {}).values() if v}
    unmapped = [k for k in keys if k not in mapped]
    if unmapped:
        raise Invalid(
            f"No column of this file is mapped to {', '.join(unmapped)}; map one to it and stage again "
            "to set its values here.",
            code="field_not_mapped",
            fields=[
                FieldError(
                    field=f"{prefix}{k}" if prefix else "field", code="field_not_mapped", message="not mapped"
                )
                for k in unmapped
            ],
        )


async def bulk_edit(
    session: AsyncSession, *, actor: Actor, import_id: int, body: BulkEdit, if_match: int | None = None
) -> dict[str, int]:
    imp = await get_session(session, actor=actor, import_id=import_id, lock=True)
    _editable(imp, if_match)
    validator, refs, fields = await _revalidator(session, imp)
    known = {f.key for f in fields}
    if body.action in (BulkEditAction.set, BulkEditAction.find_replace):
        if not body.field or body.field not in known:
            raise Invalid(
                f"Say which field to change; {body.field!r} is not a field of this entity.",
                code="unknown_field",
                fields=[FieldError(field="field", code="unknown_field", message="not a field of the entity")],
            )
        _only_mapped(imp, [body.field], "")
        if body.action == BulkEditAction.find_replace and not body.find:
            raise Invalid(
                "Say what text to find.",
                code="find_required",
                fields=[FieldError(field="find", code="required", message="text to find")],
            )
    where = _selection(imp.id, body.selection, _dialect(session))
    where.append(StagedRow.status != RowStatus.rejected)
    matched = changed = now_valid = now_invalid = 0
    if body.action == BulkEditAction.discard:
        # One statement, however many rows: discarding changes the status and nothing else.
        matched = int(
            (
                await session.execute(select(func.count()).select_from(StagedRow).where(and_(*where)))
            ).scalar_one()
        )
        res = await session.execute(
            update(StagedRow)
            .where(and_(*where), StagedRow.status != RowStatus.discarded)
            .values(status=RowStatus.discarded)
            .execution_options(synchronize_session=False)
        )
        await _recount(session, imp)
        changed = int(res.rowcount)  # type: ignore[attr-defined]
        return {"matched": matched, "changed": changed, "now_valid": 0, "now_invalid": 0}
    if body.action == BulkEditAction.set and body.field not in validator.key_fields:
        assert body.field
        return await _bulk_set(session, imp, where, validator, refs, fields, body.field, body.value)
    after = -1
    while True:
        batch_rows = list(
            (
                await session.execute(
                    select(StagedRow)
                    .where(and_(*where), StagedRow.row_no > after)
                    .order_by(StagedRow.row_no)
                    .limit(BULK_BATCH)
                )
            ).scalars()
        )
        if not batch_rows:
            break
        after = batch_rows[-1].row_no
        matched += len(batch_rows)
        edits: list[tuple[StagedRow, dict[str, Any], str | None]] = []
        for r in batch_rows:
            if body.action == BulkEditAction.restore:
                if r.status == RowStatus.discarded:
                    edits.append((r, r.data, None))
                continue
            if body.action == BulkEditAction.set:
                assert body.field
                new = _apply_edit(r.data, {body.field: body.value})
            else:
                assert body.field
                assert body.find is not None
                cur = r.data.get(body.field)
                if cur is None or body.find not in str(cur):
                    continue
                new = _apply_edit(r.data, {body.field: str(cur).replace(body.find, body.replace or "")})
            if new != r.data or r.status not in (RowStatus.valid, RowStatus.discarded):
                edits.append((r, new, RowStatus.discarded if r.status == RowStatus.discarded else None))
        if edits:
            v, i = await _rewrite(session, imp, validator, refs, fields, edits)
            now_valid += v
            now_invalid += i
            changed += len(edits)
    await _recount(session, imp)
    return {"matched": matched, "changed": changed, "now_valid": now_valid, "now_invalid": now_invalid}


async def _bulk_set(
    session: AsyncSession,
    imp: ImportSession,
    where: list[ColumnElement[bool]],
    validator: Validator,
    refs: RefChecker,
    fields: list[FieldDef],
    field_key: str,
    value: Any,
) -> dict[str, int]:
    """Set a field that is not part of the key on every selected row, in one statement.

    The value is checked once (type, rules, reference) and its outcome written to every row: the
    stored value or the text as given with its error. The rows' other values and problems are left
    as they are, and duplicates stay set aside, since the key does not move. Only rows that change
    are written.
    """
    keys = [f.key for f in fields]
    probe = validator.run([(0, [value if k == field_key else None for k in keys])])
    await refs.check(session, probe)
    stored = probe.data[0].get(field_key)
    error = (probe.errors[0] or {}).get(field_key)
    pg = _dialect(session) == "postgresql"
    data, errors, status = StagedRow.data, StagedRow.errors, StagedRow.status
    json_type = data.type
    new_data: ColumnElement[Any]
    base: ColumnElement[Any]
    new_errors: ColumnElement[Any]
    old_data: ColumnElement[Any]
    old_errors: ColumnElement[Any]
    if pg:
        stored_sql = cast_jsonb(stored)
        new_data = (
            data.op("-", return_type=json_type)(literal(field_key, String()))
            if stored is None
            else data.op("||", return_type=json_type)(func.jsonb_build_object(field_key, stored_sql))
        )
        base = func.coalesce(errors, cast_jsonb({})).op("-", return_type=json_type)(
            literal(field_key, String())
        )
        if error is not None:
            base = base.op("||", return_type=json_type)(func.jsonb_build_object(field_key, cast_jsonb(error)))
        new_errors = func.nullif(base, cast_jsonb({}), type_=json_type)
        old_data, old_errors = data.expression, errors.expression
    else:
        path = '$."' + field_key.replace('"', '""') + '"'
        new_data = (
            func.json_remove(data, path, type_=json_type)
            if stored is None
            else func.json_set(data, path, func.json(orjson.dumps(stored).decode()), type_=json_type)
        )
        # A typed literal: a plain "{}" would be bound through the JSON type, as a JSON string.
        empty = literal("{}", String())
        base = func.json_remove(func.coalesce(errors, empty), path)
        if error is not None:
            base = func.json_set(base, path, func.json(orjson.dumps(error).decode()))
        new_errors = func.nullif(base, empty, type_=json_type)
        old_data, old_errors = func.json(data), func.json(errors)
    new_status = case(
        (status.in_([RowStatus.discarded, RowStatus.duplicate]), status),
        (new_errors.is_(None), RowStatus.valid.value),
        else_=RowStatus.invalid.value,
    )
    matched = int(
        (await session.execute(select(func.count()).select_from(StagedRow).where(and_(*where)))).scalar_one()
    )
    stmt = (
        update(StagedRow)
        .where(
            and_(*where),
            or_(
                new_data.is_distinct_from(old_data),
                new_errors.is_distinct_from(old_errors),
                new_status != status,
            ),
        )
        .values(data=new_data, errors=new_errors, status=new_status)
        .returning(StagedRow.status)
        .execution_options(synchronize_session=False)
    )
    by_status: Counter[str] = Counter()
    if pg:
        # Counted in the database: a million statuses need not travel.
        written = stmt.cte("written")
        counted = select(written.c.status, func.count()).group_by(written.c.status)
        by_status.update({str(k): int(n) for k, n in (await session.execute(counted)).all()})
    else:
        async for part in (await session.stream(stmt)).scalars().partitions(10_000):
            by_status.update(part)
    await _recount(session, imp)
    return {
        "matched": matched,
        "changed": sum(by_status.values()),
        "now_valid": by_status.get(RowStatus.valid, 0),
        "now_invalid": by_status.get(RowStatus.invalid, 0),
    }


def cast_jsonb(value: Any) -> ColumnElement[Any]:
    # The text bound as text: a bare literal would go through the JSONB type and be encoded twice.
    return sa_cast(literal(orjson.dumps(value).decode(), String()), JSONB)


# --- dry run and commit --------------------------------------------------------------------------


async def dry_run(
    session: AsyncSession, *, actor: Actor, import_id: int, options: CommitOptions, sample: int = 10
) -> dict[str, Any]:
    imp = await get_session(session, actor=actor, import_id=import_id)
    if imp.status not in (ImportStatus.staged,):
        raise Conflict(
            f"Import {import_id} is {imp.status}; a dry run needs staged rows.", code="wrong_status"
        )
    assert imp.entity_id is not None
    mapped = sorted({v for v in (imp.mapping or {}).values() if v})
    by_status = await status_counts(session, imp.id)
    if _dialect(session) == "postgresql":
        created, updated, unchanged, skipped_existing, samples = await _pg_dry_run(
            session, imp, options, mapped, sample
        )
    else:
        created, updated, unchanged, skipped_existing, samples = await _py_dry_run(
            session, imp, options, mapped, sample
        )
    return {
        "created": created,
        "updated": updated,
        "unchanged": unchanged,
        "skipped": skipped_existing
        + by_status.get(RowStatus.duplicate, 0)
        + by_status.get(RowStatus.discarded, 0),
        "invalid": by_status.get(RowStatus.invalid, 0),
        "rejected": by_status.get(RowStatus.rejected, 0),
        "sample_updates": samples,
    }


def _sample(row_no: int, key_norm: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    changed_keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    return {
        "row": row_no,
        "key": key_norm.replace("\x1f", " / "),
        "before": {k: old.get(k) for k in changed_keys},
        "after": {k: new.get(k) for k in changed_keys},
    }


async def _pg_dry_run(
    session: AsyncSession, imp: ImportSession, options: CommitOptions, mapped: list[str], sample: int
) -> tuple[int, int, int, int, list[dict[str, Any]]]:
    """The commit's own expressions, counted in one pass instead of written."""
    new = pg_new_data(options.on_existing)
    source = (
        "FROM staged_rows st LEFT JOIN records r "
        f"ON r.entity_id = {ENTITY_OF_SESSION} AND r.key_norm = st.key_norm "
        "WHERE st.session_id = :session_id AND st.status = 'valid'"
    )
    params = {"session_id": imp.id, "mapped": mapped}
    await session.execute(text("SET LOCAL enable_seqscan = off"))
    row = (
        await session.execute(
            text(
                "SELECT count(*) FILTER (WHERE r.id IS NULL), "
                f"count(*) FILTER (WHERE r.id IS NOT NULL AND r.data IS DISTINCT FROM {new}), "
                f"count(*) FILTER (WHERE r.id IS NOT NULL AND r.data IS NOT DISTINCT FROM {new}) {source}"
            ),
            params,
        )
    ).one()
    created, updated, unchanged = int(row[0]), int(row[1]), int(row[2])
    if options.on_existing == "skip":
        return created, 0, 0, updated + unchanged, []
    rows = (
        await session.execute(
            text(
                f"SELECT st.row_no, st.key_norm, r.data, {new} {source} AND r.id IS NOT NULL "
                f"AND r.data IS DISTINCT FROM {new} ORDER BY st.row_no LIMIT :n"
            ),
            {**params, "n": sample},
        )
    ).all()
    return created, updated, unchanged, 0, [_sample(n, k, old, nd) for n, k, old, nd in rows]


async def _py_dry_run(
    session: AsyncSession, imp: ImportSession, options: CommitOptions, mapped: list[str], sample: int
) -> tuple[int, int, int, int, list[dict[str, Any]]]:
    created = updated = unchanged = skipped_existing = 0
    samples: list[dict[str, Any]] = []
    after = -1
    while True:
        part = (
            await session.execute(
                select(StagedRow.row_no, StagedRow.key_norm, StagedRow.data)
                .where(
                    StagedRow.session_id == imp.id,
                    StagedRow.status == RowStatus.valid,
                    StagedRow.row_no > after,
                )
                .order_by(StagedRow.row_no)
                .limit(2000)
            )
        ).all()
        if not part:
            break
        after = part[-1].row_no
        existing = {
            r.key_norm: r.data
            for r in (
                await session.execute(
                    select(Record.key_norm, Record.data).where(
                        Record.entity_id == imp.entity_id, Record.key_norm.in_([p.key_norm for p in part])
                    )
                )
            ).all()
        }
        for p in part:
            old = existing.get(p.key_norm)
            if old is None:
                created += 1
                continue
            if options.on_existing == "skip":
                skipped_existing += 1
                continue
            new = merged(options.on_existing, mapped, old, p.data)
            if new == old:
                unchanged += 1
            else:
                updated += 1
                if len(samples) < sample:
                    samples.append(_sample(p.row_no, p.key_norm, old, new))
    return created, updated, unchanged, skipped_existing, samples


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
