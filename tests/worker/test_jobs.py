"""Jobs: the in-process runner (embedded default) and real arq workers over Redis."""

import asyncio
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from loadbay.auth.models import AuthSession, LoginFailure
from loadbay.config import Settings
from loadbay.db import make_engine, make_sessionmaker, session_scope, utcnow
from loadbay.worker.backend import InProcessBackend
from loadbay.worker.jobs import housekeeping
from tests.fixtures.database import empty_database
from tests.fixtures.factories import make_user

REDIS_URL = os.environ.get("LOADBAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def _seed_stale(session: Any) -> None:
    user = await make_user(session)
    now = utcnow()
    session.add_all(
        [
            AuthSession(user_id=user.id, token_hash=uuid.uuid4().hex, expires_at=now - timedelta(hours=1)),
            AuthSession(user_id=user.id, token_hash=uuid.uuid4().hex, expires_at=now + timedelta(hours=1)),
            LoginFailure(email=user.email, at=now - timedelta(days=2)),
            LoginFailure(email=user.email, at=now),
        ]
    )
    await session.flush()


async def _counts(session: Any) -> tuple[int, int]:
    s = await session.scalar(select(func.count()).select_from(AuthSession))
    f = await session.scalar(select(func.count()).select_from(LoginFailure))
    return int(s), int(f)


async def test_housekeeping_drops_only_what_expired_and_is_idempotent(session, sessionmaker):
    await _seed_stale(session)
    await session.commit()
    before = await _counts(session)
    assert await housekeeping({"sessionmaker": sessionmaker}) == {"sessions": 1, "login_failures": 1}
    assert await _counts(session) == (before[0] - 1, before[1] - 1)
    assert await housekeeping({"sessionmaker": sessionmaker}) == {"sessions": 0, "login_failures": 0}


async def test_in_process_backend_runs_enqueued_jobs(session, sessionmaker):
    await _seed_stale(session)
    await session.commit()
    backend = InProcessBackend(sessionmaker)
    await backend.enqueue("housekeeping", job_id="hk")
    await backend.enqueue("housekeeping", job_id="hk")  # same id while running: not run twice at once
    for _ in range(100):
        if not backend.tasks:
            break
        await asyncio.sleep(0.05)
    await backend.close()
    expired = await session.scalar(
        select(func.count()).select_from(AuthSession).where(AuthSession.expires_at < utcnow())
    )
    assert expired == 0


@pytest.mark.slow
async def test_a_real_arq_worker_runs_jobs_from_redis(tmp_path: Path) -> None:
    if os.environ.get("LOADBAY_TEST_DB") != "postgres":
        pytest.skip("runs in the PostgreSQL + Redis pass of the test command")
    from arq import create_pool
    from arq.connections import RedisSettings

    queue = f"loadbay-test:{uuid.uuid4().hex[:8]}"
    with empty_database() as url:
        assert url
        settings = Settings(
            data_dir=tmp_path, database_url=url, redis_url=REDIS_URL, queue_name=queue, _env_file=None
        )  # type: ignore[call-arg]
        from loadbay.cli import migrate_db

        await asyncio.to_thread(migrate_db, settings)
        engine = make_engine(settings)
        sm = make_sessionmaker(engine)
        async with session_scope(sm) as session:
            await _seed_stale(session)
        env = {
            **os.environ,
            "LOADBAY_DATABASE_URL": url,
            "LOADBAY_REDIS_URL": REDIS_URL,
            "LOADBAY_QUEUE_NAME": queue,
            "LOADBAY_DATA_DIR": str(tmp_path),
        }
        worker = subprocess.Popen(  # noqa: ASYNC220 - a long-lived child, not awaited
            [sys.executable, "-m", "loadbay.cli", "worker"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        pool = await create_pool(RedisSettings.from_dsn(REDIS_URL), default_queue_name=queue)
        try:
            job = await pool.enqueue_job("housekeeping", _job_id=f"hk-{uuid.uuid4().hex}")
            assert job is not None
            result = await job.result(timeout=60)
            # The worker's startup cron may have got there first; either way nothing expired is left.
            assert set(result) == {"sessions", "login_failures"}
            async with session_scope(sm) as session:
                expired = await session.scalar(
                    select(func.count()).select_from(AuthSession).where(AuthSession.expires_at < utcnow())
                )
                assert expired == 0
                assert await _counts(session) == (1, 1)
        finally:
            worker.terminate()
            out = (await asyncio.to_thread(worker.communicate, timeout=20))[0].decode()
            await pool.delete(queue)
            await pool.aclose()
            await engine.dispose()
        assert "housekeeping" in out
