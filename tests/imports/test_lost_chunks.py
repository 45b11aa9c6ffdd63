"""A chunk lost at any moment is sent again within about a lease (PostgreSQL + Redis + workers).

The moments are hit exactly, without a hook in the product: a trigger in the test's own database
stalls the worker inside the statement that marks the moment, the test sees that backend asleep in
`pg_stat_activity`, and kills the worker there. The kernel closes a dead process's sockets and
PostgreSQL ends its sessions; a backend asleep in the trigger would not notice for minutes, so the
test ends the dead worker's sessions as PostgreSQL would.
"""

import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.fixtures import database as test_database
from tests.imports.faults import REDIS_URL, Stack, stack, until

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        test_database.test_db_kind() != "postgres", reason="runs in the PostgreSQL + Redis pass"
    ),
]

# The first chunk a worker takes stalls in the statement that takes it (`pending` → `running`),
# before that transaction commits: arq has taken the job, the chunk has not started.
STALL_WHEN_TAKEN = """
CREATE SEQUENCE fault_taken;
CREATE SEQUENCE fault_chunk;  -- the stalled chunk's number + 1 (a sequence is not rolled back)
CREATE FUNCTION fault_taken() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'pending' AND NEW.status = 'running' AND nextval('fault_taken') = 1 THEN
        PERFORM setval('fault_chunk', NEW.chunk_no + 1);
        PERFORM pg_sleep(600);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER fault_taken BEFORE UPDATE ON import_chunks FOR EACH ROW EXECUTE FUNCTION fault_taken();
"""

# Worker `w-a`: the first chunk it marks done stalls there, its records written, its transaction
# open. Worker `w-b`: the first other chunk it marks done waits there until the test releases it.
STALL_WHEN_DONE = """
CREATE SEQUENCE fault_a;
CREATE SEQUENCE fault_b;
CREATE SEQUENCE fault_chunk;
CREATE TABLE fault_release (at timestamptz);
CREATE FUNCTION fault_done() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'running' AND NEW.status = 'done' THEN
        IF current_setting('application_name') = 'w-a' AND nextval('fault_a') = 1 THEN
            PERFORM setval('fault_chunk', NEW.chunk_no + 1);
            PERFORM pg_sleep(600);
        ELSIF current_setting('application_name') = 'w-b'
              AND NEW.chunk_no <> (SELECT last_value - 1 FROM fault_chunk)
              AND nextval('fault_b') = 1 THEN
            WHILE NOT EXISTS (SELECT 1 FROM fault_release) LOOP
                PERFORM pg_sleep(0.05);
            END LOOP;
        END IF;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER fault_done BEFORE UPDATE ON import_chunks FOR EACH ROW EXECUTE FUNCTION fault_done();
"""


async def _stalled(st: Stack, app: str, query: str) -> int:
    """Wait for a backend of worker `app` asleep in the trigger during `query`; its chunk's number."""

    def asleep() -> list[tuple[Any, ...]]:
        return st.admin_sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            f"AND application_name = '{app}' AND wait_event = 'PgSleep' AND query ILIKE '%{query}%'"
        )

    await until(f"worker {app} stalled in {query}", asleep)
    [(chunk_plus_one,)] = st.admin_sql("SELECT last_value FROM fault_chunk")
    return int(chunk_plus_one) - 1


def _kill(st: Stack, worker: subprocess.Popen[bytes], app: str) -> None:
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    st.admin_sql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = current_database() AND application_name = '{app}'"
    )


async def _file_id(st: Stack, import_id: int) -> str:
    [(file_id,)] = st.admin_sql(f"SELECT file_id FROM import_sessions WHERE id = {import_id}")
    return str(file_id)


async def test_a_worker_killed_after_taking_a_chunk_job_and_before_its_transaction(tmp_path: Path) -> None:
    async with stack(tmp_path, lease=2) as st:
        first = st.start_worker("w-a")
        st.admin_sql(STALL_WHEN_TAKEN)
        imp, stats = await st.commit_products(tmp_path, "taken-1")
        lost = await _stalled(st, "w-a", "UPDATE import_chunks")
        # The moment of the fault: arq has marked the job in progress; nothing of it is committed.
        queue = redis.Redis.from_url(REDIS_URL)
        try:
            assert queue.keys(f"arq:in-progress:chunk:{await _file_id(st, imp['id'])}:{lost}:*")
        finally:
            queue.close()
        _kill(st, first, "w-a")
        ledger = await st.chunks(imp["id"])
        assert ledger[lost][:2] == ("pending", 0), ledger[lost]

        # arq keeps the dead job marked in progress for an hour; the chunk's lease is two seconds.
        st.start_worker("w-b")
        await st.finishes_as_predicted(imp["id"], stats, limit=60)
        [(status, attempts, sends)] = st.admin_sql(
            f"SELECT status, attempts, sends FROM import_chunks WHERE session_id = {imp['id']} "
            f"AND chunk_no = {lost}"
        )
        # Taken once for real (the dead run's claim never committed), under a job sent again.
        assert (status, attempts) == ("done", 1)
        assert sends >= 2
        r = await st.post(f"/imports/{imp['id']}/commit", key="taken-1")
        assert r.headers["Idempotent-Replayed"] == "true"


async def test_one_chunk_lost_while_others_run_is_sent_again_within_a_lease(tmp_path: Path) -> None:
    async with stack(tmp_path, lease=2) as st:
        st.admin_sql(STALL_WHEN_DONE)
        first = st.start_worker("w-a")
        imp, stats = await st.commit_products(tmp_path, "lease-1")
        lost = await _stalled(st, "w-a", "UPDATE import_chunks")
        _kill(st, first, "w-a")  # the chunk's records go with its transaction
        assert (await st.chunks(imp["id"]))[lost][0] == "running"

        st.start_worker("w-b")

        async def lost_chunk_done() -> dict[int, tuple[str, int, Any]] | None:
            # Done, and every other chunk but one: chunks that were merely running when the lost
            # one finished get to finish too.
            ledger = await st.chunks(imp["id"])
            open_ = [n for n, (s, _, _) in ledger.items() if s != "done"]
            return ledger if ledger[lost][0] == "done" and len(open_) == 1 else None

        # Another chunk is held open in w-b all along: the lost one does not wait for it.
        ledger = await until("the lost chunk and all but the held one done", lost_chunk_done, limit=60)
        held = [n for n, (s, _, _) in ledger.items() if s == "running"]
        assert len(held) == 1, ledger
        [(waiting,)] = st.admin_sql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = 'w-b' "
            "AND query ILIKE '%UPDATE import_chunks%' AND wait_event = 'PgSleep'"
        )
        assert waiting == 1
        st.admin_sql("INSERT INTO fault_release VALUES (now())")
        await st.finishes_as_predicted(imp["id"], stats)
        after = await st.chunks(imp["id"])
        assert after[lost][1] == 2  # taken by the killed worker, then once more
        assert after[held[0]][1] == 1  # held, never given up for lost
