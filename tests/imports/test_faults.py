"""Faults during an import: the work survives and nothing is applied twice (PostgreSQL + Redis)."""

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from loadbay.config import Settings
from loadbay.db import make_engine, make_sessionmaker, session_scope
from loadbay.main import create_app
from tests.conftest import bearer
from tests.fixtures import database as test_database
from tests.fixtures.database import empty_database
from tests.fixtures.factories import make_workspace
from tests.helpers import apply_catalog
from tests.imports.conftest import Live, check_invariants, generate, map_as_suggested, stage, upload, wait_for

REDIS_URL = os.environ.get("LOADBAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        test_database.test_db_kind() != "postgres", reason="runs in the PostgreSQL + Redis pass"
    ),
]


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "loadbay.cli", "worker"], env=env, stdout=out, stderr=out
        )


async def test_worker_killed_mid_commit_the_import_resumes_and_applies_once(tmp_path: Path) -> None:
    queue = f"loadbay-test:{uuid.uuid4().hex[:8]}"
    with empty_database() as url:
        assert url
        settings = Settings(  # type: ignore[call-arg]
            data_dir=tmp_path,
            database_url=url,
            redis_url=REDIS_URL,
            queue_name=queue,
            import_chunk_rows=1500,
            import_lease_seconds=2,
            sweep_seconds=1,
            _env_file=None,
        )
        from loadbay.cli import migrate_db

        await asyncio.to_thread(migrate_db, settings)
        env = {
            **os.environ,
            "LOADBAY_DATABASE_URL": url,
            "LOADBAY_REDIS_URL": REDIS_URL,
            "LOADBAY_QUEUE_NAME": queue,
            "LOADBAY_DATA_DIR": str(tmp_path),
            "LOADBAY_IMPORT_CHUNK_ROWS": "1500",
            "LOADBAY_IMPORT_LEASE_SECONDS": "2",
            "LOADBAY_SWEEP_SECONDS": "1",
        }
        engine = make_engine(settings)
        async with session_scope(make_sessionmaker(engine)) as s:
            ws = await make_workspace(s, "Faults")
        app = create_app(settings, engine=engine)
        first = _worker(env, tmp_path / "worker.log")
        second = None
        try:
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=60) as client:
                    live = Live(client, ws, settings, engine, app)
                    await apply_catalog(client, ws.id, bearer(ws))
                    path = tmp_path / "products.csv"
                    stats = generate(path, 30_000, dup_rate=0.01, bad_rate=0.001)
                    imp = await map_as_suggested(live, await upload(live, path))
                    imp = await stage(live, imp["id"])
                    assert imp["status"] == "staged", imp
                    r = await client.post(
                        live.url(f"/imports/{imp['id']}/commit"),
                        json={},
                        headers={**live.editor, "Idempotency-Key": "faults-1"},
                    )
                    assert r.status_code == 202, r.text
                    # Kill the worker as soon as some chunks are done and others are not.
                    for _ in range(2000):
                        p = (
                            await client.get(live.url(f"/imports/{imp['id']}/progress"), headers=live.editor)
                        ).json()
                        if p["chunks_done"] >= 2:
                            break
                        await asyncio.sleep(0.01)
                    first.send_signal(signal.SIGKILL)
                    first.wait()
                    p = (
                        await client.get(live.url(f"/imports/{imp['id']}/progress"), headers=live.editor)
                    ).json()
                    assert p["chunks_done"] < p["chunks_total"], (
                        "the commit ended before the worker was killed"
                    )
                    second = _worker(env, tmp_path / "worker.log")
                    done = await wait_for(
                        live, imp["id"], {"completed", "completed_with_errors", "failed"}, limit=180
                    )
                    assert done["status"] == "completed_with_errors", done
                    assert done["counts"]["created"] == stats["expected_products"]
                    await check_invariants(live, done, stats["rows"])
                    async with engine.connect() as conn:
                        n = (
                            await conn.execute(
                                text(
                                    "SELECT count(*) FROM records r JOIN entities e ON e.id = r.entity_id "
                                    "WHERE e.workspace_id = :w AND e.key = 'products'"
                                ),
                                {"w": ws.id},
                            )
                        ).scalar_one()
                    assert n == stats["expected_products"]
                    # The same commit again is a replay, not a second commit.
                    r = await client.post(
                        live.url(f"/imports/{imp['id']}/commit"),
                        json={},
                        headers={**live.editor, "Idempotency-Key": "faults-1"},
                    )
                    assert r.status_code == 202
                    assert r.headers["Idempotent-Replayed"] == "true"
        finally:
            for w in (first, second):
                if w is not None and w.poll() is None:
                    w.terminate()
                    w.wait(20)
            await engine.dispose()
