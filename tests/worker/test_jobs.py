"""Jobs: the in-process runner (embedded default) and real arq workers over Redis."""

import asyncio
import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from loadbay.auth.jobs import housekeeping
from loadbay.auth.models import AuthSession, LoginFailure
from loadbay.config import Settings, get_settings
from loadbay.db import make_engine, make_sessionmaker, session_scope, utcnow
from loadbay.imports.models import ImportSession, ImportStatus
from loadbay.jobs import registry
from loadbay.worker.arq_worker import worker_settings
from loadbay.worker.backend import InProcessBackend
from tests.fixtures.database import empty_database
from tests.fixtures.factories import make_user, make_workspace

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
    backend = InProcessBackend(sessionmaker, registry(get_settings()))
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


async def _lost_commit(sm: Any) -> int:
    """An import committing whose commit job never reached the queue; its lease runs out in 3 s."""
    async with session_scope(sm) as session:
        ws = await make_workspace(session, "Lost")
        imp = ImportSession(
            workspace_id=ws.id,
            file_id=uuid.uuid4().hex,
            status=ImportStatus.committing,
            heartbeat_at=utcnow(),
        )
        session.add(imp)
        await session.flush()
        return imp.id


async def _status(sm: Any, import_id: int) -> str:
    async with session_scope(sm) as session:
        imp = await session.get(ImportSession, import_id)
        assert imp is not None
        return imp.status


@pytest.mark.slow
async def test_deployments_sharing_one_redis_each_run_their_own_sweeps(tmp_path: Path) -> None:
    if os.environ.get("LOADBAY_TEST_DB") != "postgres":
        pytest.skip("runs in the PostgreSQL + Redis pass of the test command")
    from arq import create_pool
    from arq.connections import RedisSettings
    from arq.worker import Worker

    from loadbay.cli import migrate_db

    knobs = {"sweep_seconds": 1, "import_lease_seconds": 3}
    tag = uuid.uuid4().hex[:8]
    with empty_database() as url_a, empty_database() as url_b:
        assert url_a
        assert url_b
        deployments = [
            Settings(  # type: ignore[call-arg]
                data_dir=tmp_path / name,
                database_url=url,
                redis_url=REDIS_URL,
                queue_name=f"loadbay-test:{tag}:{name}",
                _env_file=None,
                **knobs,
            )
            for name, url in (("a", url_a), ("b", url_b))
        ]
        engines = [make_engine(s) for s in deployments]
        sms = [make_sessionmaker(e) for e in engines]
        pools = []
        workers: list[subprocess.Popen[bytes]] = []
        try:
            for s in deployments:
                await asyncio.to_thread(migrate_db, s)
            # Deployment a's sweeps for the next minute and a half, queued ahead by arq's own cron code
            # from a's worker settings, as a's workers queue each one a moment before it is due.
            pool = await create_pool(
                RedisSettings.from_dsn(REDIS_URL), default_queue_name=deployments[0].queue_name
            )
            pools.append(pool)
            ahead = Worker(
                **worker_settings(deployments[0], registry(deployments[0])),
                redis_pool=pool,
                handle_signals=False,
            )
            now = datetime.now(tz=ahead.timezone)
            for _ in range(90):
                await ahead.run_cron(now, 60)
            for s in deployments:
                env = {
                    **os.environ,
                    "LOADBAY_DATABASE_URL": s.resolved_database_url,
                    "LOADBAY_REDIS_URL": REDIS_URL,
                    "LOADBAY_QUEUE_NAME": s.queue_name,
                    "LOADBAY_DATA_DIR": str(s.data_dir),
                    **{f"LOADBAY_{k.upper()}": str(v) for k, v in knobs.items()},
                }
                workers.append(
                    subprocess.Popen(  # noqa: ASYNC220 - long-lived children, not awaited
                        [sys.executable, "-m", "loadbay.cli", "worker"],
                        env=env,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
            # Once both workers are up (and past the sweep they run at startup), each deployment loses
            # a commit; each one's sweeper finds its own once the lease has run out (the commit, with
            # nothing staged, then ends at once).
            for s in deployments:
                for _ in range(600):
                    if await pool.exists(f"{s.queue_name}:health-check"):
                        break
                    await asyncio.sleep(0.05)
            await asyncio.sleep(1)
            lost = [await _lost_commit(sm) for sm in sms]
            for sm, import_id in zip(sms, lost, strict=True):
                for _ in range(600):
                    if await _status(sm, import_id) != ImportStatus.committing:
                        break
                    await asyncio.sleep(0.05)
                assert await _status(sm, import_id) == ImportStatus.completed
        finally:
            for w in workers:
                w.terminate()
                w.wait(20)
            for s, pool in zip(deployments, pools, strict=False):
                await pool.delete(s.queue_name)
                await pool.aclose()
            for e in engines:
                await e.dispose()
