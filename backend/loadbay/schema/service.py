"""Entities and their field definitions; adding a field is data, not a migration."""

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, delete, exists, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnClause

from loadbay.core.actor import Actor
from loadbay.db import utcnow
from loadbay.errors import Conflict, FieldError, Invalid, NotFound
from loadbay.events import log as events
from loadbay.records import sql as rsql
from loadbay.records import writer
from loadbay.records.models import Record
from loadbay.schema import repository
from loadbay.schema.models import Entity, FieldDef
from loadbay.schema.schemas import (
    ChangeAction,
    EntityCreate,
    EntityUpdate,
    FieldCreate,
    FieldUpdate,
    SchemaApplyResult,
    SchemaChange,
    SchemaDocument,
)
from loadbay.schema.types import (
    KEY_TYPES,
    ORDERED_TYPES,
    STRING_TYPES,
    FieldType,
    Rules,
    ValueError_,
    coerce,
    is_blank,
)

# Attributes a field definition is compared on when a schema is applied.
FIELD_ATTRS = (
    "label",
    "description",
    "type",
    "required",
    "unique",
    "indexed",
    "default",
    "enum_values",
    "pattern",
    "min_value",
    "max_value",
    "max_length",
    "aliases",
    "reference_entity",
)


@dataclass
class EntityView:
    entity: Entity
    fields: list[FieldDef]
    record_count: int
    ref_keys: dict[int, str] = field(default_factory=dict)

    def field(self, key: str) -> FieldDef | None:
        return next((f for f in self.fields if f.key == key), None)

    def as_read(self) -> dict[str, Any]:
        e = self.entity
        return {
            "id": e.id,
            "key": e.key,
            "label": e.label,
            "description": e.description,
            "key_fields": list(e.key_fields),
            "key_trim": e.key_trim,
            "key_case_insensitive": e.key_case_insensitive,
            "record_count": self.record_count,
            "created_at": e.created_at,
            "updated_at": e.updated_at,
            "fields": [field_read(f, self.ref_keys) for f in self.fields],
        }


def field_read(f: FieldDef, ref_keys: dict[int, str]) -> dict[str, Any]:
    d = {a: getattr(f, a) for a in FIELD_ATTRS if a != "reference_entity"}
    d.update(
        id=f.id,
        key=f.key,
        position=f.position,
        reference_entity=ref_keys.get(f.reference_entity_id) if f.reference_entity_id else None,
    )
    return d


def rules_of(f: FieldDef) -> Rules:
    return Rules(
        type=FieldType(f.type),
        required=f.required,
        enum_values=tuple(f.enum_values) if f.enum_values else None,
        pattern=re.compile(f.pattern) if f.pattern else None,
        min_value=f.min_value,
        max_value=f.max_value,
        max_length=f.max_length,
    )


def _label(key: str) -> str:
    return key.replace("_", " ").capitalize()


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


# --- reading -------------------------------------------------------------------------------------


async def _views(session: AsyncSession, workspace_id: int, ents: list[Entity]) -> list[EntityView]:
    ids = [e.id for e in ents]
    fields = await repository.fields_of(session, ids)
    counts = await repository.record_counts(session, ids)
    ref_keys = await repository.entity_keys(session, workspace_id)
    return [EntityView(e, fields[e.id], counts.get(e.id, 0), ref_keys) for e in ents]


async def list_entities(session: AsyncSession, *, actor: Actor) -> list[EntityView]:
    return await _views(session, actor.workspace_id, await repository.entities(session, actor.workspace_id))


async def get_entity_row(session: AsyncSession, *, workspace_id: int, key: str) -> Entity:
    entity = await repository.entity_by_key(session, workspace_id, key)
    if entity is None:
        raise NotFound(f"Entity {key!r} not found.", code="entity_not_found")
    return entity


async def get_entity(session: AsyncSession, *, actor: Actor, key: str) -> EntityView:
    entity = await get_entity_row(session, workspace_id=actor.workspace_id, key=key)
    return (await _views(session, actor.workspace_id, [entity]))[0]


# --- checking definitions ------------------------------------------------------------------------


def _check_field(spec: dict[str, Any], where: str, errors: list[FieldError]) -> None:
    """Check one definition on its own (types, constraints, default); references are checked later."""
    t = FieldType(spec["type"])

    def err(attr: str, code: str, message: str) -> None:
        errors.append(FieldError(field=f"{where}.{attr}", code=code, message=message))

    enum_values = spec.get("enum_values")
    if t == FieldType.enum:
        if not enum_values:
            err("enum_values", "required", "an enum field needs at least one value")
        elif len(set(enum_values)) != len(enum_values):
            err("enum_values", "duplicate", "enum values must be distinct")
        elif any(is_blank(v) for v in enum_values):
            err("enum_values", "blank", "enum values cannot be blank")
    elif enum_values:
        err("enum_values", "not_allowed", "only enum fields have enum values")
    pattern = spec.get("pattern")
    if pattern is not None:
        if t not in STRING_TYPES:
            err("pattern", "not_allowed", f"a pattern applies to text types, not {t.value}")
        else:
            try:
                re.compile(pattern)
            except re.error as e:
                err("pattern", "invalid_pattern", f"the pattern does not compile: {e}")
    if spec.get("max_length") is not None and t not in STRING_TYPES:
        err("max_length", "not_allowed", f"max_length applies to text types, not {t.value}")
    if t == FieldType.reference and not spec.get("reference_entity"):
        err("reference_entity", "required", "a reference field names the entity it points to")
    if t != FieldType.reference and spec.get("reference_entity"):
        err("reference_entity", "not_allowed", "only reference fields point to an entity")
    if t == FieldType.json and (spec.get("unique") or spec.get("indexed")):
        err("type", "not_indexable", "json fields cannot be unique or indexed")
    bounds: dict[str, Any] = {}
    for attr in ("min_value", "max_value"):
        v = spec.get(attr)
        if v is None:
            continue
        if t not in ORDERED_TYPES:
            err(attr, "not_allowed", f"{attr} applies to numbers and dates, not {t.value}")
            continue
        try:
            bounds[attr] = coerce(Rules(type=t), v)
        except ValueError_ as e:
            err(attr, e.code, e.message)
    if len(bounds) == 2:
        try:
            coerce(Rules(type=t, max_value=bounds["max_value"]), bounds["min_value"])
        except ValueError_:
            err("min_value", "min_above_max", "min_value is above max_value")
    if errors:
        return
    if spec.get("default") is not None:
        try:
            rules = Rules(
                type=t,
                enum_values=tuple(enum_values) if enum_values else None,
                pattern=re.compile(pattern) if pattern else None,
                min_value=bounds.get("min_value"),
                max_value=bounds.get("max_value"),
                max_length=spec.get("max_length"),
            )
            spec["default"] = coerce(rules, spec["default"])
        except ValueError_ as e:
            err("default", e.code, f"the default is not a valid {t.value}: {e.message}")
    spec.update(bounds)


def _raise_if(errors: list[FieldError], what: str) -> None:
    if errors:
        raise Invalid(
            f"The {what} is not valid: " + "; ".join(f"{e.field}: {e.message}" for e in errors),
            code="invalid_definition",
            fields=errors,
        )


async def _reference_id(
    session: AsyncSession,
    workspace_id: int,
    key: str | None,
    where: str,
    errors: list[FieldError],
    pending: set[str] | None = None,
) -> int | None:
    if not key:
        return None
    target = await repository.entity_by_key(session, workspace_id, key)
    if target is None:
        if pending and key in pending:
            return None
        errors.append(
            FieldError(
                field=f"{where}.reference_entity",
                code="unknown_entity",
                message=f"no entity {key!r} in this workspace",
            )
        )
        return None
    return target.id


async def _count_missing(session: AsyncSession, entity_id: int, key: str) -> int:
    expr: ColumnClause[Any] = literal_column(rsql.text_expr(_dialect(session), key))
    stmt = (
        select(func.count())
        .select_from(Record)
        .where(Record.entity_id == entity_id, (expr.is_(None)) | (expr == ""))
    )
    return int((await session.execute(stmt)).scalar_one())


def _field_row(entity: Entity, spec: dict[str, Any], ref_id: int | None, position: int) -> FieldDef:
    return FieldDef(
        workspace_id=entity.workspace_id,
        entity_id=entity.id,
        key=spec["key"],
        label=spec.get("label") or _label(spec["key"]),
        description=spec.get("description") or "",
        type=FieldType(spec["type"]).value,
        required=bool(spec.get("required")),
        unique=bool(spec.get("unique")),
        indexed=bool(spec.get("indexed")),
        default=spec.get("default"),
        enum_values=spec.get("enum_values"),
        pattern=spec.get("pattern"),
        min_value=spec.get("min_value"),
        max_value=spec.get("max_value"),
        max_length=spec.get("max_length"),
        aliases=list(spec.get("aliases") or []),
        reference_entity_id=ref_id,
        position=position,
    )


def _check_key_fields(
    key_fields: list[str], specs: dict[str, dict[str, Any]], errors: list[FieldError]
) -> None:
    if len(set(key_fields)) != len(key_fields):
        errors.append(FieldError(field="key_fields", code="duplicate", message="key fields must be distinct"))
    for k in key_fields:
        spec = specs.get(k)
        if spec is None:
            errors.append(FieldError(field="key_fields", code="unknown_field", message=f"no field {k!r}"))
        elif FieldType(spec["type"]) not in KEY_TYPES:
            errors.append(
                FieldError(
                    field="key_fields",
                    code="not_a_key_type",
                    message=f"{k!r} is {spec['type']}; a key field is text, a number or a date",
                )
            )


# --- writing -------------------------------------------------------------------------------------


async def create_entity(
    session: AsyncSession, *, actor: Actor, body: EntityCreate, pending: set[str] | None = None
) -> EntityView:
    ws = actor.workspace_id
    if await repository.entity_by_key(session, ws, body.key):
        raise Conflict(f"Entity {body.key!r} already exists.", code="entity_exists")
    errors: list[FieldError] = []
    specs: dict[str, dict[str, Any]] = {}
    for i, fc in enumerate(body.fields):
        spec = fc.model_dump()
        if spec["key"] in specs:
            errors.append(
                FieldError(field=f"fields.{i}.key", code="duplicate", message=f"{spec['key']!r} twice")
            )
            continue
        if spec["key"] in body.key_fields:
            spec["required"] = True
        _check_field(spec, f"fields.{i}", errors)
        specs[spec["key"]] = spec
    _check_key_fields(body.key_fields, specs, errors)
    ref_ids: dict[str, int | None] = {}
    for i, spec in enumerate(specs.values()):
        if spec.get("reference_entity") == body.key:
            ref_ids[spec["key"]] = -1  # self-reference, resolved once the entity exists
        else:
            ref_ids[spec["key"]] = await _reference_id(
                session, ws, spec.get("reference_entity"), f"fields.{i}", errors, pending
            )
    _raise_if(errors, "entity definition")
    entity = Entity(
        workspace_id=ws,
        key=body.key,
        label=body.label or _label(body.key),
        description=body.description,
        key_fields=list(body.key_fields),
        key_trim=body.key_trim,
        key_case_insensitive=body.key_case_insensitive,
    )
    session.add(entity)
    await session.flush()
    rows = []
    for pos, spec in enumerate(specs.values()):
        if pending and spec.get("reference_entity") in pending and ref_ids[spec["key"]] is None:
            continue  # created by the schema apply once its target exists
        rid = ref_ids[spec["key"]]
        rows.append(_field_row(entity, spec, entity.id if rid == -1 else rid, pos))
    session.add_all(rows)
    await session.flush()
    for f in rows:
        await writer.sync_field_indexes(session, entity, f)
    events.append(
        session,
        workspace_id=ws,
        who=actor,
        action="entity.created",
        subject_type="entity",
        subject_id=entity.id,
        entity_id=entity.id,
        payload={"key": entity.key, "key_fields": list(entity.key_fields), "fields": [f.key for f in rows]},
    )
    return await get_entity(session, actor=actor, key=entity.key)


async def update_entity(session: AsyncSession, *, actor: Actor, key: str, body: EntityUpdate) -> EntityView:
    view = await get_entity(session, actor=actor, key=key)
    entity = view.entity
    changes = body.model_dump(exclude_unset=True)
    key_changes = {
        k: v
        for k, v in changes.items()
        if k in ("key_fields", "key_trim", "key_case_insensitive")
        and v is not None
        and v != getattr(entity, k)
    }
    if key_changes and view.record_count:
        raise Conflict(
            f"The natural key of {key!r} cannot change while it has records "
            f"({view.record_count}); delete them first.",
            code="entity_has_records",
        )
    if "key_fields" in key_changes:
        errors: list[FieldError] = []
        _check_key_fields(key_changes["key_fields"], {f.key: {"type": f.type} for f in view.fields}, errors)
        _raise_if(errors, "entity definition")
        for f in view.fields:
            if f.key in key_changes["key_fields"]:
                f.required = True
    for k, v in changes.items():
        if v is not None:
            setattr(entity, k, v)
    entity.updated_at = utcnow()
    await session.flush()
    return await get_entity(session, actor=actor, key=key)


async def delete_entity(session: AsyncSession, *, actor: Actor, key: str) -> None:
    view = await get_entity(session, actor=actor, key=key)
    refs = [
        f
        for f in await repository.referencing_fields(session, view.entity.id)
        if f.entity_id != view.entity.id
    ]
    if refs:
        keys = await repository.entity_keys(session, actor.workspace_id)
        names = ", ".join(sorted(f"{keys[f.entity_id]}.{f.key}" for f in refs))
        raise Conflict(
            f"Entity {key!r} is referenced by {names}; remove those fields first.", code="entity_referenced"
        )
    await writer.delete_entity_records(session, actor, view.entity, view.fields)
    await session.execute(delete(FieldDef).where(FieldDef.entity_id == view.entity.id))
    await session.delete(view.entity)
    await session.flush()


async def create_field(
    session: AsyncSession, *, actor: Actor, entity_key: str, body: FieldCreate
) -> EntityView:
    view = await get_entity(session, actor=actor, key=entity_key)
    if view.field(body.key):
        raise Conflict(f"Field {body.key!r} already exists on {entity_key!r}.", code="field_exists")
    spec = body.model_dump()
    errors: list[FieldError] = []
    _check_field(spec, "field", errors)
    ref_id = await _reference_id(session, actor.workspace_id, spec.get("reference_entity"), "field", errors)
    _raise_if(errors, "field definition")
    if spec["required"] and spec.get("default") is None and view.record_count:
        missing = await _count_missing(session, view.entity.id, spec["key"])
        if missing:
            raise Conflict(
                f"{missing} existing records have no {spec['key']!r}; give the field a default "
                "or make it optional.",
                code="existing_records_invalid",
            )
    pos = max((f.position for f in view.fields), default=-1) + 1
    f = _field_row(view.entity, spec, ref_id, pos)
    session.add(f)
    await session.flush()
    await writer.sync_field_indexes(session, view.entity, f)
    events.append(
        session,
        workspace_id=actor.workspace_id,
        who=actor,
        action="field.created",
        subject_type="field",
        subject_id=f.id,
        entity_id=view.entity.id,
        payload={"entity": view.entity.key, "field": f.key, "type": f.type},
    )
    return await get_entity(session, actor=actor, key=entity_key)


async def update_field(
    session: AsyncSession, *, actor: Actor, entity_key: str, field_key: str, body: FieldUpdate
) -> EntityView:
    view = await get_entity(session, actor=actor, key=entity_key)
    f = view.field(field_key)
    if f is None:
        raise NotFound(f"Field {field_key!r} not found on {entity_key!r}.", code="field_not_found")
    changes = body.model_dump(exclude_unset=True)
    current = field_read(f, view.ref_keys)
    spec = {**current, **changes}
    if spec.get("type") is None:
        spec["type"] = f.type
    if "label" in changes and not changes["label"]:
        spec["label"] = _label(f.key)
    errors: list[FieldError] = []
    _check_field(spec, "field", errors)
    ref_id = await _reference_id(session, actor.workspace_id, spec.get("reference_entity"), "field", errors)
    if f.key in view.entity.key_fields:
        if not spec.get("required"):
            errors.append(
                FieldError(field="field.required", code="key_field", message="key fields are required")
            )
        if FieldType(spec["type"]) not in KEY_TYPES:
            errors.append(FieldError(field="field.type", code="not_a_key_type", message="not a key type"))
    _raise_if(errors, "field definition")
    if spec["type"] != f.type and view.record_count:
        has_values = await session.scalar(
            select(
                exists().where(
                    and_(
                        Record.entity_id == view.entity.id,
                        literal_column(rsql.text_expr(_dialect(session), f.key)).isnot(None),
                    )
                )
            )
        )
        if has_values:
            raise Conflict(
                f"The type of {field_key!r} cannot change while records hold values for it.",
                code="field_has_values",
            )
    if spec.get("required") and not f.required and spec.get("default") is None and view.record_count:
        missing = await _count_missing(session, view.entity.id, f.key)
        if missing:
            raise Conflict(
                f"{missing} existing records have no {field_key!r}; it cannot become required.",
                code="existing_records_invalid",
            )
    index_changed = any(spec.get(a) != current.get(a) for a in ("type", "unique", "indexed"))
    for attr in FIELD_ATTRS:
        if attr == "reference_entity":
            f.reference_entity_id = ref_id
        elif attr == "aliases":
            f.aliases = list(spec.get("aliases") or [])
        else:
            setattr(
                f,
                attr,
                spec.get(attr) if attr not in ("required", "unique", "indexed") else bool(spec.get(attr)),
            )
    await session.flush()
    if index_changed:
        await writer.sync_field_indexes(session, view.entity, f)
    after = field_read(f, view.ref_keys)
    changed = {
        k: {"before": current.get(k), "after": after.get(k)} for k in after if after.get(k) != current.get(k)
    }
    if changed:
        events.append(
            session,
            workspace_id=actor.workspace_id,
            who=actor,
            action="field.updated",
            subject_type="field",
            subject_id=f.id,
            entity_id=view.entity.id,
            payload={"entity": view.entity.key, "field": f.key, "values": changed},
        )
    return await get_entity(session, actor=actor, key=entity_key)


async def delete_field(session: AsyncSession, *, actor: Actor, entity_key: str, field_key: str) -> None:
    view = await get_entity(session, actor=actor, key=entity_key)
    f = view.field(field_key)
    if f is None:
        raise NotFound(f"Field {field_key!r} not found on {entity_key!r}.", code="field_not_found")
    if f.key in view.entity.key_fields:
        raise Conflict(f"{field_key!r} is part of the natural key of {entity_key!r}.", code="key_field")
    # The values go with the definition: nothing keeps data that no field describes.
    await writer.drop_field_values(session, actor, view.entity, f)
    await session.delete(f)
    await session.flush()


# --- whole-schema apply --------------------------------------------------------------------------


def _diff(current: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    out = []
    for attr in FIELD_ATTRS:
        want = spec.get(attr)
        have = current.get(attr)
        if attr == "label" and not want:
            continue
        if attr == "aliases":
            want, have = list(want or []), list(have or [])
        if want != have:
            out.append(attr)
    return out


async def apply_schema(
    session: AsyncSession, *, actor: Actor, doc: SchemaDocument, dry_run: bool = False
) -> SchemaApplyResult:
    """Create or update every entity and field of the document; what is not named is left alone."""
    changes: list[SchemaChange] = []
    keys = [e.key for e in doc.entities]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:
        raise Invalid(f"Entities named twice: {', '.join(dupes)}.", code="invalid_definition")
    savepoint = await session.begin_nested()
    try:
        pending = {e.key for e in doc.entities}
        existing = {e.key for e in await repository.entities(session, actor.workspace_id)}
        # Pass 1: entities (fields that reference a not-yet-created entity wait for pass 2).
        for ent in doc.entities:
            if ent.key not in existing:
                await create_entity(session, actor=actor, body=ent, pending=pending - existing)
                existing.add(ent.key)
                changes.append(SchemaChange(entity=ent.key, action=ChangeAction.created))
                continue
            view = await get_entity(session, actor=actor, key=ent.key)
            upd = EntityUpdate(
                label=ent.label,
                description=ent.description,
                key_fields=ent.key_fields,
                key_trim=ent.key_trim,
                key_case_insensitive=ent.key_case_insensitive,
            )
            delta = [k for k, v in upd.model_dump().items() if v is not None and v != getattr(view.entity, k)]
            if delta:
                await update_entity(
                    session,
                    actor=actor,
                    key=ent.key,
                    body=EntityUpdate(**{k: getattr(upd, k) for k in delta}),
                )
            changes.append(
                SchemaChange(
                    entity=ent.key,
                    action=ChangeAction.updated if delta else ChangeAction.unchanged,
                    changed=delta,
                )
            )
        # Pass 2: every field, now that every entity exists.
        for ent in doc.entities:
            view = await get_entity(session, actor=actor, key=ent.key)
            created_now = any(
                c.entity == ent.key and c.action == ChangeAction.created and c.field is None for c in changes
            )
            for fc in ent.fields:
                cur = view.field(fc.key)
                spec = fc.model_dump()
                if fc.key in ent.key_fields:
                    spec["required"] = True
                if cur is None:
                    await create_field(session, actor=actor, entity_key=ent.key, body=FieldCreate(**spec))
                    if not created_now:
                        changes.append(
                            SchemaChange(entity=ent.key, field=fc.key, action=ChangeAction.created)
                        )
                    continue
                current = field_read(cur, view.ref_keys)
                errors: list[FieldError] = []
                normalised = dict(spec)
                _check_field(normalised, f"{ent.key}.{fc.key}", errors)
                _raise_if(errors, "field definition")
                delta = _diff(current, normalised)
                if delta:
                    await update_field(
                        session,
                        actor=actor,
                        entity_key=ent.key,
                        field_key=fc.key,
                        body=FieldUpdate(**{a: spec.get(a) for a in delta}),
                    )
                if not created_now:
                    changes.append(
                        SchemaChange(
                            entity=ent.key,
                            field=fc.key,
                            action=ChangeAction.updated if delta else ChangeAction.unchanged,
                            changed=delta,
                        )
                    )
        if dry_run:
            await savepoint.rollback()
        else:
            await savepoint.commit()
    except BaseException:
        if savepoint.is_active:
            await savepoint.rollback()
        raise
    counts = {a: sum(1 for c in changes if c.action == a) for a in ChangeAction}
    return SchemaApplyResult(
        dry_run=dry_run,
        created=counts[ChangeAction.created],
        updated=counts[ChangeAction.updated],
        unchanged=counts[ChangeAction.unchanged],
        changes=changes,
    )
