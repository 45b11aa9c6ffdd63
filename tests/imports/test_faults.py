"""Faults during an import: the work survives and nothing is applied twice (PostgreSQL + Redis).

Each test has a database of its own, real `loadbay worker` processes, short leases and sweeps.
"""

import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.fixtures import database as test_database
from tests.fixtures.server import free_port
from tests.imports.conftest import generate, map_as_suggested, upload, wait_for
from tests.imports.faults import WORKER_APP, Stack, stack, until

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        test_database.test_db_kind() != "postgres", reason="runs in the PostgreSQL + Redis pass"
    ),
]


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
