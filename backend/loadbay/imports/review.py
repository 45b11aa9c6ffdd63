"""Review: reading staged rows (filters, one row, counts, the error summary) and changing them —
one row with its version, or a selection in bulk — each change re-checked by the entity's rules.
"""

from collections import Counter
from typing import Any, cast

import orjson
from sqlalchemy import (
    ColumnElement,
    String,
    Table,
    and_,
    bindparam,
    case,
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

from loadbay.core.actor import Actor
from loadbay.errors import (
    Conflict,
    FieldError,
    Invalid,
    NotFound,
    PreconditionFailed,
)
from loadbay.imports.models import (
    ImportSession,
    RowStatus,
    StagedRow,
)
from loadbay.imports.schemas import (
    BulkEdit,
    BulkEditAction,
    RowSelection,
)
from loadbay.imports.service import EDITABLE, entity_fields, get_session
from loadbay.imports.stage import RefChecker, mark_duplicates, status_counts, summary_counts
from loadbay.imports.validate import Validator
from loadbay.schema.models import Entity, FieldDef


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
    fields = await entity_fields(session, entity.id)
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
