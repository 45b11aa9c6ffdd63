"""Faults during an import: the work survives and nothing is applied twice (PostgreSQL + Redis).

Each test has a database of its own, real `loadbay worker` processes, short leases and sweeps.
"""

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import redis
from sqlalchemy import text

from loadbay.config import Settings
from loadbay.db import make_engine, make_sessionmaker, session_scope
from loadbay.imports.models import FINISHED
from loadbay.main import create_app
from tests.conftest import bearer
from tests.fixtures import database as test_database
from tests.fixtures.database import empty_database
from tests.fixtures.factories import make_workspace
from tests.fixtures.server import free_port
from tests.helpers import apply_catalog
from tests.imports.conftest import Live, check_invariants, generate, map_as_suggested, stage, upload, wait_for

REDIS_URL = os.environ.get("LOADBAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
WORKER_APP = "loadbay-test-worker"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        test_database.test_db_kind() != "postgres", reason="runs in the PostgreSQL + Redis pass"
    ),
]


@dataclass
class Stack:
    """The app in this process, workers as processes, one database and one queue of their own."""

    live: Live
    env: dict[str, str]
    log: Path
    db_url: str
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start_worker(self) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as out:
            w = subprocess.Popen(
                [sys.executable, "-m", "loadbay.cli", "worker"], env=self.env, stdout=out, stderr=out
            )
        self.workers.append(w)
        return w

    def admin_sql(self, sql: str) -> list[tuple[Any, ...]]:
        """Run SQL in the test's database as the test, outside the app (autocommit)."""
        with psycopg.connect(self.db_url.replace("+psycopg", ""), autocommit=True) as conn:
            cur = conn.execute(sql)
            return cur.fetchall() if cur.description else []

    async def post(self, path: str, key: str | None = None, **body: Any) -> httpx.Response:
        headers = {**self.live.editor, **({"Idempotency-Key": key} if key else {})}
        return await self.live.client.post(self.live.url(path), json=body, headers=headers)

    async def progress(self, import_id: int) -> dict[str, Any]:
        r = await self.live.client.get(
            self.live.url(f"/imports/{import_id}/progress"), headers=self.live.editor
        )
        return dict(r.json())

    async def staged(self, path: Path) -> dict[str, Any]:
        imp = await stage(self.live, (await map_as_suggested(self.live, await upload(self.live, path)))["id"])
        assert imp["status"] == "staged", imp
        return imp

    async def commit_products(self, tmp: Path, key: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Stage 30,000 products (a few duplicates and bad rows) and send their commit."""
        path = tmp / "products.csv"
        stats = generate(path, 30_000, dup_rate=0.01, bad_rate=0.001)
        imp = await self.staged(path)
        r = await self.post(f"/imports/{imp['id']}/commit", key=key)
        assert r.status_code == 202, r.text
        return imp, stats

    async def finishes_as_predicted(self, import_id: int, stats: dict[str, Any]) -> dict[str, Any]:
        """Wait for the import's end; every row applied once, the invariants hold."""
        done = await wait_for(self.live, import_id, set(FINISHED), limit=180)
        assert done["status"] == "completed_with_errors", done
        assert done["counts"]["created"] == stats["expected_products"]
        await check_invariants(self.live, done, stats["rows"])
        assert await self.products() == stats["expected_products"]
        return done

    async def chunks(self, import_id: int) -> dict[int, tuple[str, int, Any]]:
        async with self.live.engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT chunk_no, status, attempts, finished_at FROM import_chunks WHERE session_id = :s"
                ),
                {"s": import_id},
            )
            return {int(n): (str(s), int(a), f) for n, s, a, f in rows}

    async def products(self) -> int:
        async with self.live.engine.connect() as conn:
            return int(
                (
                    await conn.execute(
                        text(
                            "SELECT count(*) FROM records r JOIN entities e ON e.id = r.entity_id "
                            "WHERE e.workspace_id = :w AND e.key = 'products'"
                        ),
                        {"w": self.live.ws.id},
                    )
                ).scalar_one()
            )


@contextlib.asynccontextmanager
async def stack(tmp_path: Path, *, redis_url: str = REDIS_URL, lease: int = 2) -> AsyncIterator[Stack]:
    queue = f"loadbay-test:{uuid.uuid4().hex[:8]}"
    with empty_database() as url:
        assert url
        knobs = {"import_chunk_rows": 1500, "import_lease_seconds": lease, "sweep_seconds": 1}
        settings = Settings(  # type: ignore[call-arg]
            data_dir=tmp_path,
            database_url=url,
            redis_url=redis_url,
            queue_name=queue,
            _env_file=None,
            **knobs,
        )
        from loadbay.cli import migrate_db

        await asyncio.to_thread(migrate_db, settings)
        env = {
            **os.environ,
            # The workers' connections carry a name, so that a test can find and cut them.
            "LOADBAY_DATABASE_URL": f"{url}?application_name={WORKER_APP}",
            "LOADBAY_REDIS_URL": redis_url,
            "LOADBAY_QUEUE_NAME": queue,
            "LOADBAY_DATA_DIR": str(tmp_path),
            **{f"LOADBAY_{k.upper()}": str(v) for k, v in knobs.items()},
        }
        engine = make_engine(settings)
        async with session_scope(make_sessionmaker(engine)) as s:
            ws = await make_workspace(s, "Faults")
        app = create_app(settings, engine=engine)
        st: Stack | None = None
        try:
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=60) as client:
                    await apply_catalog(client, ws.id, bearer(ws))
                    st = Stack(Live(client, ws, settings, engine, app), env, tmp_path / "worker.log", url)
                    yield st
        finally:
            for w in st.workers if st else []:
                if w.poll() is None:
                    w.terminate()
                    try:
                        w.wait(20)
                    except subprocess.TimeoutExpired:
                        w.kill()
                        w.wait()
            await engine.dispose()


async def until(what: str, check: Any, limit: float = 120) -> Any:
    """Poll `check()` (sync or async) until it returns something true; fail with `what` at the limit."""
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while True:
        got = check()
        if asyncio.iscoroutine(got):
            got = await got
        if got:
            return got
        assert loop.time() < end, f"gave up waiting for {what}"
        await asyncio.sleep(0.02)


async def test_worker_killed_mid_commit_the_import_resumes_and_applies_once(tmp_path: Path) -> None:
    async with stack(tmp_path) as st:
        first = st.start_worker()
        imp, stats = await st.commit_products(tmp_path, "faults-1")
        # Kill the worker as soon as some chunks are done and others are not.
        await until("two chunks done", lambda: _done_at_least(st, imp["id"], 2))
        first.send_signal(signal.SIGKILL)
        first.wait()
        p = await st.progress(imp["id"])
        assert p["chunks_done"] < p["chunks_total"], "the commit ended before the worker was killed"
        st.start_worker()
        await st.finishes_as_predicted(imp["id"], stats)
        # The same commit again is a replay, not a second commit.
        r = await st.post(f"/imports/{imp['id']}/commit", key="faults-1")
        assert r.status_code == 202
        assert r.headers["Idempotent-Replayed"] == "true"


async def _done_at_least(st: Stack, import_id: int, n: int) -> bool:
    return bool((await st.progress(import_id))["chunks_done"] >= n)


async def test_sigterm_during_a_commit_requeues_at_once_and_resumes_at_the_next_chunk(tmp_path: Path) -> None:
    # A lease far longer than the test: only the worker's own re-queue can bring the chunks back.
    async with stack(tmp_path, lease=3600) as st:
        first = st.start_worker()
        imp, stats = await st.commit_products(tmp_path, "term-1")

        async def mid_commit() -> dict[int, tuple[str, int, Any]] | None:
            ledger = await st.chunks(imp["id"])
            done = [n for n, (s, _, _) in ledger.items() if s == "done"]
            running = [n for n, (s, _, _) in ledger.items() if s == "running"]
            return ledger if len(done) >= 2 and running else None

        before = await until("a chunk running after two done", mid_commit)
        first.send_signal(signal.SIGTERM)
        assert first.wait(60) == 0  # it stops on its own, promptly, and cleanly
        after = await st.chunks(imp["id"])
        assert any(s != "done" for s, _, _ in after.values()), "the commit ended before SIGTERM"

        st.start_worker()
        await st.finishes_as_predicted(imp["id"], stats)
        ledger = await st.chunks(imp["id"])
        assert {s for s, _, _ in ledger.values()} == {"done"}
        # Chunks finished before the signal were not run again.
        for n, (status, attempts, finished) in after.items():
            if status == "done":
                assert ledger[n] == (status, attempts, finished)
        assert all(ledger[n][1] == 1 for n, (s, _, _) in before.items() if s == "done")


FAULT_SQL = """
CREATE SEQUENCE fault_{name};
CREATE FUNCTION fault_{name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A sequence is not rolled back: the stall happens once, whatever becomes of the transaction.
    IF nextval('fault_{name}') = {at} THEN PERFORM pg_sleep(600); END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER fault_{name} BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION fault_{name}();
"""


async def _cut_worker_connection(st: Stack, query_start: str) -> str:
    """Wait for a worker's backend stalled in a statement that holds this text; terminate it."""

    def stalled() -> list[tuple[Any, ...]]:
        return st.admin_sql(
            "SELECT pid, query FROM pg_stat_activity WHERE datname = current_database() "
            f"AND application_name = '{WORKER_APP}' AND wait_event = 'PgSleep' "
            f"AND query ILIKE '%{query_start}%'"
        )

    [(pid, query)] = await until(f"a worker stalled in {query_start}", stalled)
    [(ok,)] = st.admin_sql(f"SELECT pg_terminate_backend({pid})")
    assert ok
    return str(query)


async def test_postgres_connections_cut_mid_copy_and_mid_chunk(tmp_path: Path) -> None:
    async with stack(tmp_path) as st:
        st.start_worker()
        # Stall the staging's COPY in its second batch, and the first chunk after 700 inserted rows.
        st.admin_sql(FAULT_SQL.format(name="copy", table="staged_rows", at=25_000))
        st.admin_sql(FAULT_SQL.format(name="chunk", table="records", at=700))
        path = tmp_path / "products.csv"
        stats = generate(path, 30_000, dup_rate=0.01, bad_rate=0.001)
        imp = await map_as_suggested(st.live, await upload(st.live, path))
        r = await st.post(f"/imports/{imp['id']}/stage")
        assert r.status_code == 202, r.text
        assert "COPY staged_rows" in await _cut_worker_connection(st, "COPY staged_rows")
        imp = await wait_for(st.live, imp["id"], {"staged", "failed"})
        assert imp["status"] == "staged", imp  # started again by the sweeper, from a clean slate
        assert (imp["counts"]["rows"], imp["counts"]["valid"]) == (stats["rows"], stats["expected_products"])
        [(staged,)] = st.admin_sql(f"SELECT count(*) FROM staged_rows WHERE session_id = {imp['id']}")
        assert staged == stats["rows"]

        r = await st.post(f"/imports/{imp['id']}/commit", key="cut-1")
        assert r.status_code == 202, r.text
        assert "INSERT INTO records" in await _cut_worker_connection(st, "INSERT INTO records")
        # The cut chunk's rows went with its transaction: each row is applied once, none is missing.
        done = await st.finishes_as_predicted(imp["id"], stats)
        assert done["counts"]["chunks_failed"] == 0
        retried = [a for _, a, _ in (await st.chunks(imp["id"])).values() if a > 1]
        assert retried == [2]  # the cut chunk ran twice, every other chunk once
        assert "chunk_retry" in st.log.read_text()


class ThrowawayRedis:
    """A Redis of the test's own on a free port, without persistence: stopping it loses the queue."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        exe = shutil.which("redis-server")
        assert exe, "redis-server is not installed"
        args = [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(  # noqa: ASYNC220 - returns at once; the test waits below
            [*args, "--dir", str(self.workdir)], stdout=subprocess.DEVNULL
        )

        def up() -> bool:
            try:
                return bool(redis.Redis(port=self.port, socket_timeout=1).ping())
            except redis.ConnectionError:
                return False

        await until("redis-server to answer", up, limit=20)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


async def test_redis_down_at_enqueue_and_restarted_mid_commit(tmp_path: Path) -> None:
    redis_dir = tmp_path / "redis"
    redis_dir.mkdir()
    own = ThrowawayRedis(redis_dir)
    await own.start()
    try:
        async with stack(tmp_path, redis_url=own.url) as st:
            st.start_worker()
            path = tmp_path / "products.csv"
            stats = generate(path, 30_000, dup_rate=0.01, bad_rate=0.001)
            imp = await map_as_suggested(st.live, await upload(st.live, path))

            # Redis is down when the staging is sent: the request still succeeds, the session waits.
            own.stop()
            r = await st.post(f"/imports/{imp['id']}/stage")
            assert r.status_code == 202, r.text
            assert r.json()["status"] == "staging"
            await own.start()  # empty: the job was never queued; the sweeper sends it
            imp = await wait_for(st.live, imp["id"], {"staged", "failed"})
            assert imp["status"] == "staged", imp
            assert imp["counts"]["rows"] == stats["rows"]

            # Redis restarts, empty, in the middle of the commit: queued chunks are lost with it.
            r = await st.post(f"/imports/{imp['id']}/commit", key="redis-1")
            assert r.status_code == 202, r.text
            await until("two chunks done", lambda: _done_at_least(st, imp["id"], 2))
            own.stop()
            p = await st.progress(imp["id"])
            assert p["chunks_done"] < p["chunks_total"], "the commit ended before Redis went down"
            await own.start()
            await st.finishes_as_predicted(imp["id"], stats)
    finally:
        own.stop()
