"""Workspaces (tenants), memberships and the caller's role in each."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from loadbay.auth.models import ApiKey, User
from loadbay.core.actor import Actor, Principal, Role
from loadbay.db import utcnow
from loadbay.errors import Conflict, Forbidden, NotFound
from loadbay.events import log as events
from loadbay.workspaces import repository
from loadbay.workspaces.models import Membership, Workspace


@dataclass
class WorkspaceView:
    id: int
    name: str
    role: Role
    created_at: datetime


@dataclass
class MemberView:
    user_id: int
    email: str
    name: str
    role: Role
    created_at: datetime


def _view(ws: Workspace, role: str) -> WorkspaceView:
    return WorkspaceView(id=ws.id, name=ws.name, role=Role(role), created_at=ws.created_at)


def _member(m: Membership, u: User) -> MemberView:
    return MemberView(user_id=u.id, email=u.email, name=u.name, role=Role(m.role), created_at=m.created_at)


async def list_for(session: AsyncSession, *, principal: Principal) -> list[WorkspaceView]:
    return [_view(ws, role) for ws, role in await repository.readable(session, principal)]


async def resolve_actor(session: AsyncSession, *, principal: Principal, workspace_id: int) -> Actor:
    """The caller's role in a workspace; a workspace it cannot see does not exist (404)."""
    for ws, role in await repository.readable(session, principal):
        if ws.id == workspace_id:
            return Actor(principal=principal, workspace_id=ws.id, role=Role(role))
    raise NotFound(f"Workspace {workspace_id} not found.")


async def create_by_user(session: AsyncSession, *, user_id: int, name: str, creators: str) -> WorkspaceView:
    """A signed-in user creates a workspace and becomes its admin, if the instance lets them."""
    user = await session.get(User, user_id)
    if user is None or (creators != "anyone" and not user.is_instance_admin):
        raise Forbidden(
            "Only instance administrators may create workspaces here; ask one to create it "
            "(`loadbay users instance-admin`).",
            code="instance_admin_required",
        )
    return await create(session, name=name, owner_id=user_id)


async def create(session: AsyncSession, *, name: str, owner_id: int) -> WorkspaceView:
    ws = Workspace(name=name)
    session.add(ws)
    await session.flush()
    session.add(Membership(workspace_id=ws.id, user_id=owner_id, role=Role.admin.value))
    await session.flush()
    return _view(ws, Role.admin.value)


async def get(session: AsyncSession, *, actor: Actor) -> WorkspaceView:
    ws = await session.get(Workspace, actor.workspace_id)
    if ws is None:
        raise NotFound(f"Workspace {actor.workspace_id} not found.")
    return _view(ws, actor.role.value)


async def rename(session: AsyncSession, *, actor: Actor, name: str) -> WorkspaceView:
    ws = await session.get(Workspace, actor.workspace_id)
    if ws is None:
        raise NotFound(f"Workspace {actor.workspace_id} not found.")
    ws.name = name
    await session.flush()
    return _view(ws, actor.role.value)


async def list_members(session: AsyncSession, *, actor: Actor) -> list[MemberView]:
    return [_member(m, u) for m, u in await repository.members(session, actor.workspace_id)]


async def is_member(session: AsyncSession, *, workspace_id: int, user_id: int) -> bool:
    return await repository.membership(session, workspace_id, user_id) is not None


async def add_membership(session: AsyncSession, *, workspace_id: int, user: User, role: Role) -> MemberView:
    """Make an account a member: for an accepted invitation, or the operator's command line. Never
    an admin's call on someone else's account (that is what invitations are for)."""
    if await repository.membership(session, workspace_id, user.id):
        raise Conflict(f"{user.email} is already a member of this workspace.", code="already_member")
    m = Membership(workspace_id=workspace_id, user_id=user.id, role=role.value)
    session.add(m)
    await session.flush()
    return _member(m, user)


async def _guard_last_admin(session: AsyncSession, m: Membership) -> None:
    if m.role == Role.admin.value and await repository.admin_count(session, m.workspace_id) <= 1:
        raise Conflict("A workspace keeps at least one admin.", code="last_admin")


async def update_member(session: AsyncSession, *, actor: Actor, user_id: int, role: Role) -> MemberView:
    m = await repository.membership(session, actor.workspace_id, user_id)
    user = await session.get(User, user_id)
    if m is None or user is None:
        raise NotFound(f"User {user_id} is not a member of this workspace.")
    if role != Role.admin:
        await _guard_last_admin(session, m)
    before, m.role = m.role, role.value
    if before != m.role:
        events.append(
            session,
            workspace_id=actor.workspace_id,
            who=actor,
            action="member.role_changed",
            subject_type="member",
            subject_id=user_id,
            payload={"email": user.email, "values": {"role": {"before": before, "after": m.role}}},
        )
    await session.flush()
    return _member(m, user)


async def remove_member(session: AsyncSession, *, actor: Actor, user_id: int) -> None:
    m = await repository.membership(session, actor.workspace_id, user_id)
    if m is None:
        raise NotFound(f"User {user_id} is not a member of this workspace.")
    await _guard_last_admin(session, m)
    await session.delete(m)
    # Their keys stop at once (they would anyway, creator gone) and stay stopped if they come back.
    revoked = await session.execute(
        update(ApiKey)
        .where(ApiKey.workspace_id == actor.workspace_id, ApiKey.created_by_id == user_id)
        .where(ApiKey.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .returning(ApiKey.id)
    )
    events.append(
        session,
        workspace_id=actor.workspace_id,
        who=actor,
        action="member.removed",
        subject_type="member",
        subject_id=user_id,
        payload={"role": m.role, "api_keys_revoked": sorted(revoked.scalars())},
    )
    await session.flush()
