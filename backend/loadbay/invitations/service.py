"""Invitations: how a person joins a workspace.

An admin invites an email with a role and gets a one-time link (we keep only its hash). Whoever
opens it either creates the account for that email with their own name and password, when there
is none, or accepts by signing in to the existing one. Nobody sets a password for an account that
may already exist, and inviting answers the same whether or not the email has an account.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from loadbay.auth import repository as auth_repo
from loadbay.auth import service as auth_service
from loadbay.auth.models import User
from loadbay.config import Settings
from loadbay.core.actor import Actor, Role
from loadbay.core.security import new_token, token_hash
from loadbay.db import utcnow
from loadbay.errors import Conflict, Forbidden, Gone, NotFound
from loadbay.events import log as events
from loadbay.events.log import Who
from loadbay.invitations import repository
from loadbay.invitations.models import Invitation
from loadbay.workspaces import service as workspace_service
from loadbay.workspaces.models import Workspace


@dataclass
class InvitationView:
    id: int
    email: str
    role: Role
    invited_by: str | None
    created_at: datetime
    expires_at: datetime


@dataclass
class InvitationPreview:
    workspace_id: int
    workspace_name: str
    email: str
    role: Role
    invited_by: str | None
    expires_at: datetime
    signed_in_as: str | None


def _view(inv: Invitation, invited_by: str | None) -> InvitationView:
    return InvitationView(
        id=inv.id,
        email=inv.email,
        role=Role(inv.role),
        invited_by=invited_by,
        created_at=inv.created_at,
        expires_at=inv.expires_at,
    )


def link_path(token: str) -> str:
    return f"/invite/{token}"


async def invite(
    session: AsyncSession, *, actor: Actor, email: str, role: Role, settings: Settings
) -> tuple[InvitationView, str]:
    """A new invitation and its token (shown once). A pending one for the same email is replaced."""
    email = email.strip().lower()
    now = utcnow()
    # Who is a member here is this admin's to know; nothing about accounts elsewhere is looked at.
    if await repository.is_member_by_email(session, actor.workspace_id, email):
        raise Conflict(f"{email} is already a member of this workspace.", code="already_member")
    await repository.revoke_pending_for(session, actor.workspace_id, email, now)
    token = new_token(32)
    inviter_id = actor.user_id if actor.user_id is not None else actor.principal.api_key_creator_id
    inv = Invitation(
        workspace_id=actor.workspace_id,
        email=email,
        role=role.value,
        token_hash=token_hash(token),
        invited_by_id=inviter_id,
        created_at=now,
        expires_at=now + timedelta(hours=settings.invitation_ttl_hours),
    )
    session.add(inv)
    await session.flush()
    events.append(
        session,
        workspace_id=actor.workspace_id,
        who=actor,
        action="member.invited",
        subject_type="invitation",
        subject_id=inv.id,
        payload={"email": email, "role": role.value},
    )
    inviter = await session.get(User, inviter_id) if inviter_id is not None else None
    return _view(inv, inviter.email if inviter else None), token


async def list_pending(session: AsyncSession, *, actor: Actor) -> list[InvitationView]:
    return [_view(i, by) for i, by in await repository.pending(session, actor.workspace_id, utcnow())]


async def revoke(session: AsyncSession, *, actor: Actor, invitation_id: int) -> None:
    inv = await session.get(Invitation, invitation_id)
    if inv is None or inv.workspace_id != actor.workspace_id:
        raise NotFound(f"Invitation {invitation_id} not found.")
    if inv.accepted_at is not None:
        raise Conflict(
            "This invitation was accepted already; remove the member instead.", code="invitation_used"
        )
    if inv.revoked_at is None:
        inv.revoked_at = utcnow()
        events.append(
            session,
            workspace_id=actor.workspace_id,
            who=actor,
            action="invitation.revoked",
            subject_type="invitation",
            subject_id=inv.id,
            payload={"email": inv.email, "role": inv.role},
        )
    await session.flush()


async def _usable(session: AsyncSession, token: str) -> Invitation:
    """The invitation of a link, or a clear refusal saying why it no longer works."""
    inv = await repository.by_token_hash(session, token_hash(token))
    if inv is None:
        raise NotFound("This invitation link is not valid; ask for a new one.", code="invitation_not_found")
    if inv.revoked_at is not None:
        raise Gone("This invitation was revoked; ask for a new one.", code="invitation_revoked")
    if inv.accepted_at is not None:
        raise Gone("This invitation was accepted already; sign in instead.", code="invitation_used")
    if inv.expires_at <= utcnow():
        raise Gone("This invitation has expired; ask for a new one.", code="invitation_expired")
    return inv


async def preview(session: AsyncSession, *, token: str, session_user_id: int | None) -> InvitationPreview:
    """What the link is for. It does not say whether the email has an account: the inviting admin
    holds the link too."""
    inv = await _usable(session, token)
    ws = await session.get(Workspace, inv.workspace_id)
    inviter = await session.get(User, inv.invited_by_id) if inv.invited_by_id is not None else None
    viewer = await session.get(User, session_user_id) if session_user_id is not None else None
    return InvitationPreview(
        workspace_id=inv.workspace_id,
        workspace_name=ws.name if ws else "",
        email=inv.email,
        role=Role(inv.role),
        invited_by=(inviter.name or inviter.email) if inviter else None,
        expires_at=inv.expires_at,
        signed_in_as=viewer.email if viewer else None,
    )


async def _join(session: AsyncSession, inv: Invitation, user: User) -> None:
    if await workspace_service.is_member(session, workspace_id=inv.workspace_id, user_id=user.id):
        raise Conflict(f"{user.email} is already a member of this workspace.", code="already_member")
    if not await repository.claim(session, inv.id, user.id, utcnow()):
        raise Gone("This invitation was accepted or revoked meanwhile.", code="invitation_used")
    await workspace_service.add_membership(
        session, workspace_id=inv.workspace_id, user=user, role=Role(inv.role)
    )
    events.append(
        session,
        workspace_id=inv.workspace_id,
        who=Who(user_id=user.id),
        action="member.joined",
        subject_type="member",
        subject_id=user.id,
        payload={"email": user.email, "role": inv.role, "invitation": inv.id},
    )


async def register(
    session: AsyncSession, *, token: str, name: str, password: str, settings: Settings
) -> tuple[User, str]:
    """Accept by creating the account for the invited email; returns the user and a session token."""
    inv = await _usable(session, token)
    if await auth_repo.user_by_email(session, inv.email) is not None:
        raise Conflict(
            f"An account with the email {inv.email} exists already; sign in to it to accept.",
            code="account_exists",
        )
    user = await auth_service.create_user(session, email=inv.email, password=password, name=name.strip())
    await _join(session, inv, user)
    return user, await auth_service.start_session(session, user=user, settings=settings)


async def accept(
    session: AsyncSession,
    *,
    token: str,
    password: str | None,
    session_user_id: int | None,
    client: str,
    settings: Settings,
) -> tuple[User, str | None]:
    """Accept with the existing account of the invited email: its password (throttled like signing
    in), or a session already signed in to it. Returns the user and a new session token, if any."""
    inv = await _usable(session, token)
    if password is None:
        user = await session.get(User, session_user_id) if session_user_id is not None else None
        if user is None:
            raise Forbidden("Sign in to the invited account, or give its password.", code="sign_in_required")
        if user.email != inv.email:
            raise Forbidden(
                f"This invitation is for {inv.email}; you are signed in as {user.email}.",
                code="wrong_account",
            )
        await _join(session, inv, user)
        return user, None
    user = await auth_service.verify_credentials(
        session, email=inv.email, password=password, client=client, settings=settings
    )
    await _join(session, inv, user)
    return user, await auth_service.start_session(session, user=user, settings=settings)
