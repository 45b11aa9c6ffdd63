"""Auth's housekeeping: expired web sessions and old failed-login marks go."""

from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import delete

from loadbay.auth.models import AuthSession, LoginFailure
from loadbay.config import Settings
from loadbay.db import session_scope, utcnow
from loadbay.worker.backend import JobFn

log = structlog.get_logger()


async def housekeeping(ctx: dict[str, Any]) -> dict[str, int]:
    """Drop expired web sessions and old failed-login marks (safe to run any number of times)."""
    async with session_scope(ctx["sessionmaker"]) as session:
        now = utcnow()
        s = await session.execute(delete(AuthSession).where(AuthSession.expires_at < now))
        f = await session.execute(delete(LoginFailure).where(LoginFailure.at < now - timedelta(days=1)))
    out = {"sessions": int(s.rowcount), "login_failures": int(f.rowcount)}  # type: ignore[attr-defined]
    log.info("housekeeping", **out)
    return out


JOBS: dict[str, JobFn] = {"housekeeping": housekeeping}


def periodic(settings: Settings) -> dict[str, int]:
    return {"housekeeping": 3600}
