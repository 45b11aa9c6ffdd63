from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loadbay.auth.models import ApiKey, AuthSession, LoginFailure, User
from loadbay.workspaces.models import Membership


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return (await session.execute(select(User).where(User.email == email.lower()))).scalar_one_or_none()


async def user_by_session_token(session: AsyncSession, token_hash: str, now: datetime) -> User | None:
    stmt = (
        select(User)
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(AuthSession.token_hash == token_hash, AuthSession.expires_at > now, User.is_active)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def api_key_by_prefix(session: AsyncSession, prefix: str) -> ApiKey | None:
    return (await session.execute(select(ApiKey).where(ApiKey.prefix == prefix))).scalar_one_or_none()


async def nth_recent_failure(
    session: AsyncSession, since: datetime, *, client: str, email: str | None, n: int
) -> datetime | None:
    """When the n-th newest failure since `since` happened (for this address, and email if given);
    None when there are fewer than n."""
    stmt = select(LoginFailure.at).where(LoginFailure.client == client, LoginFailure.at > since)
    if email is not None:
        stmt = stmt.where(LoginFailure.email == email)
    stmt = stmt.order_by(LoginFailure.at.desc()).offset(max(n - 1, 0)).limit(1)
    return (await session.execute(stmt)).scalar_one_or_none()


async def creator_role(session: AsyncSession, user_id: int, workspace_id: int) -> str | None:
    """An API key creator's current role in the key's workspace; None when removed or deactivated."""
    stmt = (
        select(Membership.role)
        .join(User, User.id == Membership.user_id)
        .where(Membership.user_id == user_id, Membership.workspace_id == workspace_id, User.is_active)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def api_keys_of(session: AsyncSession, workspace_id: int) -> list[ApiKey]:
    stmt = select(ApiKey).where(ApiKey.workspace_id == workspace_id).order_by(ApiKey.id)
    return list((await session.execute(stmt)).scalars())
