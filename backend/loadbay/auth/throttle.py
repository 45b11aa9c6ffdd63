"""Sign-in throttling: failures are counted per client address and per address+email.

Counting per email alone let anyone lock an account out for everyone; counting per address+email
limits guessing one account's password from one place while its owner signs in from another, and
the per-address count limits one place trying many emails.
"""

import math
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from loadbay.auth import repository
from loadbay.auth.models import LoginFailure
from loadbay.config import Settings
from loadbay.errors import TooManyRequests


async def check(session: AsyncSession, *, client: str, email: str, settings: Settings, now: datetime) -> None:
    """Refuse (429 with Retry-After) while this address, or this address for this email, is over its limit."""
    since = now - timedelta(seconds=settings.login_window_seconds)
    limits = (
        (settings.login_max_failures, email, "Too many failed sign-ins for this account from your address"),
        (settings.login_client_max_failures, None, "Too many failed sign-ins from your address"),
    )
    for limit, for_email, message in limits:
        # The failure whose expiry brings the count back under the limit says when to retry.
        at = await repository.nth_recent_failure(session, since, client=client, email=for_email, n=limit)
        if at is not None:
            retry = math.ceil((at - since).total_seconds())
            raise TooManyRequests(f"{message}; try again later.", headers={"Retry-After": str(max(retry, 1))})


async def record_failure(session: AsyncSession, *, client: str, email: str, now: datetime) -> None:
    session.add(LoginFailure(client=client, email=email, at=now))
    await session.flush()


async def clear(session: AsyncSession, *, client: str, email: str) -> None:
    """A successful sign-in forgets this address's failures for this email (not those for others)."""
    await session.execute(
        delete(LoginFailure).where(LoginFailure.client == client, LoginFailure.email == email)
    )
