from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from loadbay.records.models import Record
from loadbay.schema.models import Entity, FieldDef


async def entities(session: AsyncSession, workspace_id: int) -> list[Entity]:
    stmt = select(Entity).where(Entity.workspace_id == workspace_id).order_by(Entity.key)
    return list((await session.execute(stmt)).scalars())


async def entity_by_key(session: AsyncSession, workspace_id: int, key: str) -> Entity | None:
    stmt = select(Entity).where(Entity.workspace_id == workspace_id, Entity.key == key)
    return (await session.execute(stmt)).scalar_one_or_none()


async def fields_of(session: AsyncSession, entity_ids: list[int]) -> dict[int, list[FieldDef]]:
    out: dict[int, list[FieldDef]] = {i: [] for i in entity_ids}
    if not entity_ids:
        return out
    stmt = select(FieldDef).where(FieldDef.entity_id.in_(entity_ids)).order_by(FieldDef.position, FieldDef.id)
    for f in (await session.execute(stmt)).scalars():
        out[f.entity_id].append(f)
    return out


async def entity_keys(session: AsyncSession, workspace_id: int) -> dict[int, str]:
    stmt = select(Entity.id, Entity.key).where(Entity.workspace_id == workspace_id)
    return {i: k for i, k in (await session.execute(stmt)).all()}


async def record_counts(session: AsyncSession, entity_ids: list[int]) -> dict[int, int]:
    if not entity_ids:
        return {}
    stmt = (
        select(Record.entity_id, func.count())
        .where(Record.entity_id.in_(entity_ids))
        .group_by(Record.entity_id)
    )
    return {i: int(n) for i, n in (await session.execute(stmt)).all()}


async def referencing_fields(session: AsyncSession, entity_id: int) -> list[FieldDef]:
    stmt = select(FieldDef).where(FieldDef.reference_entity_id == entity_id)
    return list((await session.execute(stmt)).scalars())
