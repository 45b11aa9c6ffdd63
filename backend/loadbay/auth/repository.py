from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from loadbay.auth.models import ApiKey, AuthSession, LoginFailure, User


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


async def recent_failures(session: AsyncSession, email: str, since: datetime) -> tuple[int, datetime | None]:
    stmt = select(func.count(), func.min(LoginFailure.at)).where(
        LoginFailure.email == email, LoginFailure.at > since
    )
    count, oldest = (await session.execute(stmt)).one()
    return int(count), oldest


async def api_keys_of(session: AsyncSession, workspace_id: int) -> list[ApiKey]:
    stmt = select(ApiKey).where(ApiKey.workspace_id == workspace_id).order_by(ApiKey.id)
    return list((await session.execute(stmt)).scalars())
