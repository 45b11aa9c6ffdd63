from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from loadbay.auth.models import User
from loadbay.core.actor import Principal
from loadbay.workspaces.models import Membership, Workspace


async def readable(session: AsyncSession, principal: Principal) -> list[tuple[Workspace, str]]:
    """The one place deciding which workspaces a caller sees, and with which role."""
    if principal.api_key_workspace_id is not None:
        ws = await session.get(Workspace, principal.api_key_workspace_id)
        return [(ws, str(principal.api_key_role))] if ws else []
    stmt = (
        select(Workspace, Membership.role)
        .join(Membership, Membership.workspace_id == Workspace.id)
        .where(Membership.user_id == principal.user_id)
        .order_by(Workspace.id)
    )
    return [(w, r) for w, r in (await session.execute(stmt)).all()]


async def membership(session: AsyncSession, workspace_id: int, user_id: int) -> Membership | None:
    stmt = select(Membership).where(Membership.workspace_id == workspace_id, Membership.user_id == user_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def members(session: AsyncSession, workspace_id: int) -> list[tuple[Membership, User]]:
    stmt = (
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.workspace_id == workspace_id)
        .order_by(User.email)
    )
    return [(m, u) for m, u in (await session.execute(stmt)).all()]


async def admin_count(session: AsyncSession, workspace_id: int) -> int:
    stmt = select(func.count()).where(Membership.workspace_id == workspace_id, Membership.role == "admin")
    return int((await session.execute(stmt)).scalar_one())
