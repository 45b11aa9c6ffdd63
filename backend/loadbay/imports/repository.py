"""Queries for import sessions; who may see which session is decided here, in one place."""

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from loadbay.core.actor import Actor, Role
from loadbay.imports.models import ImportSession


def readable(actor: Actor) -> list[ColumnElement[bool]]:
    """Sessions belong to who made them; admins see every session of the workspace."""
    where: list[ColumnElement[bool]] = [ImportSession.workspace_id == actor.workspace_id]
    if actor.role != Role.admin:
        if actor.user_id is not None:
            where.append(ImportSession.user_id == actor.user_id)
        else:
            where.append(ImportSession.api_key_id == actor.principal.api_key_id)
    return where


async def readable_one(
    session: AsyncSession, actor: Actor, import_id: int, *, lock: bool = False
) -> ImportSession | None:
    stmt = select(ImportSession).where(ImportSession.id == import_id, *readable(actor))
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def readable_page(
    session: AsyncSession, actor: Actor, *, limit: int, before_id: int | None, status: str | None
) -> list[ImportSession]:
    stmt = select(ImportSession).where(*readable(actor))
    if before_id is not None:
        stmt = stmt.where(ImportSession.id < before_id)
    if status:
        stmt = stmt.where(ImportSession.status == status)
    return list((await session.execute(stmt.order_by(ImportSession.id.desc()).limit(limit))).scalars())
