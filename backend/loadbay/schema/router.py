from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from loadbay.core.links import entity_links, field_links
from loadbay.deps import AdminActor, DbSession, ViewerActor
from loadbay.errors import COMMON_ERRORS, ERR_409
from loadbay.schema import service
from loadbay.schema.schemas import (
    EntityCreate,
    EntityRead,
    EntityUpdate,
    FieldCreate,
    FieldUpdate,
    SchemaApplyResult,
    SchemaDocument,
)

router = APIRouter(prefix="/workspaces/{workspace_id}", tags=["schema"], responses=COMMON_ERRORS)
EntityKey = Annotated[str, Path(description="Entity key, e.g. `products`.", max_length=63)]
FieldKey = Annotated[str, Path(description="Field key, e.g. `sku`.", max_length=63)]


@router.get("/entities", operation_id="entities-list")
async def list_entities(session: DbSession, actor: ViewerActor) -> list[EntityRead]:
    """Entities of the workspace with their fields and record counts."""
    return [EntityRead.model_validate(v.as_read()) for v in await service.list_entities(session, actor=actor)]


@router.post(
    "/entities",
    operation_id="entities-create",
    status_code=status.HTTP_201_CREATED,
    responses={**ERR_409, **entity_links()},
)
async def create_entity(body: EntityCreate, session: DbSession, actor: AdminActor) -> EntityRead:
    """Declare an entity with its natural key and fields."""
    return EntityRead.model_validate((await service.create_entity(session, actor=actor, body=body)).as_read())


@router.get("/entities/{entity_key}", operation_id="entities-get")
async def get_entity(entity_key: EntityKey, session: DbSession, actor: ViewerActor) -> EntityRead:
    """One entity with its fields."""
    return EntityRead.model_validate(
        (await service.get_entity(session, actor=actor, key=entity_key)).as_read()
    )


@router.patch("/entities/{entity_key}", operation_id="entities-update", responses=ERR_409)
async def update_entity(
    entity_key: EntityKey, body: EntityUpdate, session: DbSession, actor: AdminActor
) -> EntityRead:
    """Change an entity's label, description or (while it has no records) its natural key."""
    view = await service.update_entity(session, actor=actor, key=entity_key, body=body)
    return EntityRead.model_validate(view.as_read())


@router.delete(
    "/entities/{entity_key}",
    operation_id="entities-delete",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=ERR_409,
)
async def delete_entity(entity_key: EntityKey, session: DbSession, actor: AdminActor) -> None:
    """Delete an entity, its fields and all its records."""
    await service.delete_entity(session, actor=actor, key=entity_key)


@router.post(
    "/entities/{entity_key}/fields",
    operation_id="fields-create",
    status_code=status.HTTP_201_CREATED,
    responses={**ERR_409, **field_links()},
)
async def create_field(
    entity_key: EntityKey, body: FieldCreate, session: DbSession, actor: AdminActor
) -> EntityRead:
    """Add a custom field to an entity (no migration needed); returns the entity."""
    view = await service.create_field(session, actor=actor, entity_key=entity_key, body=body)
    return EntityRead.model_validate(view.as_read())


@router.patch("/entities/{entity_key}/fields/{field_key}", operation_id="fields-update", responses=ERR_409)
async def update_field(
    entity_key: EntityKey, field_key: FieldKey, body: FieldUpdate, session: DbSession, actor: AdminActor
) -> EntityRead:
    """Change a field definition; returns the entity."""
    view = await service.update_field(
        session, actor=actor, entity_key=entity_key, field_key=field_key, body=body
    )
    return EntityRead.model_validate(view.as_read())


@router.delete(
    "/entities/{entity_key}/fields/{field_key}",
    operation_id="fields-delete",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=ERR_409,
)
async def delete_field(
    entity_key: EntityKey, field_key: FieldKey, session: DbSession, actor: AdminActor
) -> None:
    """Delete a field and its values from every record."""
    await service.delete_field(session, actor=actor, entity_key=entity_key, field_key=field_key)


@router.post("/schema/apply", operation_id="schema-apply", responses=ERR_409)
async def apply_schema(
    body: SchemaDocument,
    session: DbSession,
    actor: AdminActor,
    dry_run: Annotated[bool, Query(description="Report what would change, change nothing.")] = False,
) -> SchemaApplyResult:
    """Apply a whole schema idempotently and report what changed."""
    return await service.apply_schema(session, actor=actor, doc=body, dry_run=dry_run)
