"""The registry of job functions (same code for arq workers and the in-process runner)."""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import delete

from loadbay.auth.models import AuthSession, LoginFailure
from loadbay.config import Settings
from loadbay.db import session_scope, utcnow

log = structlog.get_logger()

JobFn = Callable[..., Awaitable[Any]]


async def housekeeping(ctx: dict[str, Any]) -> dict[str, int]:
    """Drop expired web sessions and old failed-login marks (safe to run any number of times)."""
    async with session_scope(ctx["sessionmaker"]) as session:
        now = utcnow()
        s = await session.execute(delete(AuthSession).where(AuthSession.expires_at < now))
        f = await session.execute(delete(LoginFailure).where(LoginFailure.at < now - timedelta(days=1)))
    out = {"sessions": int(s.rowcount), "login_failures": int(f.rowcount)}  # type: ignore[attr-defined]
    log.info("housekeeping", **out)
    return out


def _registry() -> dict[str, JobFn]:
    from loadbay.imports import jobs as imports
    from loadbay.imports import recovery

    jobs: dict[str, JobFn] = {
        "housekeeping": housekeeping,
        "stage_import": imports.stage_import,
        "commit_import": imports.commit_import,
        "commit_chunk": imports.commit_chunk,
        "sweep_imports": recovery.sweep_imports,
    }
    return jobs


JOBS = _registry()


def periodic(settings: Settings) -> dict[str, int]:
    """Jobs that run on their own: job name -> every N seconds."""
    return {"housekeeping": 3600, "sweep_imports": settings.sweep_seconds}
