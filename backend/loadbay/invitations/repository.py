from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from loadbay.auth.models import User
from loadbay.invitations.models import Invitation
from loadbay.workspaces.models import Membership


async def by_token_hash(session: AsyncSession, token_hash: str) -> Invitation | None:
    stmt = select(Invitation).where(Invitation.token_hash == token_hash)
    return (await session.execute(stmt)).scalar_one_or_none()


def _pending(workspace_id: int, now: datetime):  # type: ignore[no-untyped-def]
    return (
        Invitation.workspace_id == workspace_id,
        Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None),
        Invitation.expires_at > now,
    )


async def pending(
    session: AsyncSession, workspace_id: int, now: datetime
) -> list[tuple[Invitation, str | None]]:
    """Pending invitations of a workspace with their inviter's email, newest first."""
    stmt = (
        select(Invitation, User.email)
        .outerjoin(User, User.id == Invitation.invited_by_id)
        .where(*_pending(workspace_id, now))
        .order_by(Invitation.id.desc())
    )
    return [(i, e) for i, e in (await session.execute(stmt)).all()]


async def revoke_pending_for(session: AsyncSession, workspace_id: int, email: str, now: datetime) -> None:
    """An earlier link for the same email stops working when a new one is made."""
    await session.execute(
        update(Invitation)
        .where(*_pending(workspace_id, now), Invitation.email == email)
        .values(revoked_at=now)
    )


async def claim(session: AsyncSession, invitation_id: int, user_id: int, now: datetime) -> bool:
    """Mark it accepted unless someone else did first (or it was revoked meanwhile): one use only."""
    result = await session.execute(
        update(Invitation)
        .where(
            Invitation.id == invitation_id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
        .values(accepted_at=now, accepted_by_id=user_id)
    )
    assert isinstance(result, CursorResult)
    return int(result.rowcount) == 1


async def is_member_by_email(session: AsyncSession, workspace_id: int, email: str) -> bool:
    stmt = (
        select(Membership.id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.workspace_id == workspace_id, User.email == email)
    )
    return (await session.execute(stmt)).first() is not None
