"""A stack for fault tests: the app in this process, `loadbay worker` processes, a database and a
queue of their own (PostgreSQL + Redis)."""

import asyncio
import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import text

from loadbay.config import Settings
from loadbay.db import make_engine, make_sessionmaker, session_scope
from loadbay.imports.models import FINISHED
from loadbay.main import create_app
from tests.conftest import bearer
from tests.fixtures.database import empty_database
from tests.fixtures.factories import make_workspace
from tests.helpers import apply_catalog
from tests.imports.conftest import Live, check_invariants, generate, map_as_suggested, stage, upload, wait_for

REDIS_URL = os.environ.get("LOADBAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
WORKER_APP = "loadbay-test-worker"


@dataclass
class Stack:
    """The app in this process, workers as processes, one database and one queue of their own."""

    live: Live
    env: dict[str, str]
    log: Path
    db_url: str
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start_worker(self, name: str = WORKER_APP) -> subprocess.Popen[bytes]:
        """A worker whose database connections carry `name` (the test can find and cut them)."""
        env = {**self.env, "LOADBAY_DATABASE_URL": f"{self.db_url}?application_name={name}"}
        with self.log.open("ab") as out:
            w = subprocess.Popen(
                [sys.executable, "-m", "loadbay.cli", "worker"], env=env, stdout=out, stderr=out
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

    async def finishes_as_predicted(
        self, import_id: int, stats: dict[str, Any], limit: float = 180
    ) -> dict[str, Any]:
        """Wait for the import's end; every row applied once, the invariants hold."""
        done = await wait_for(self.live, import_id, set(FINISHED), limit=limit)
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
async def stack(
    tmp_path: Path, *, redis_url: str = REDIS_URL, lease: int = 2, chunk_rows: int = 1500
) -> AsyncIterator[Stack]:
    queue = f"loadbay-test:{uuid.uuid4().hex[:8]}"
    with empty_database() as url:
        assert url
        knobs = {"import_chunk_rows": chunk_rows, "import_lease_seconds": lease, "sweep_seconds": 1}
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
            "LOADBAY_DATABASE_URL": url,
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
