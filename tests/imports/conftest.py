"""Import tests run the real pipeline: committed data, jobs running in the app (or in a worker)."""

import asyncio
import contextlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from loadbay.config import Settings
from loadbay.db import make_sessionmaker, session_scope
from loadbay.imports.models import FINISHED
from loadbay.main import create_app
from tests.conftest import bearer
from tests.fixtures.database import TestDatabase
from tests.fixtures.factories import Workspace, make_workspace
from tests.helpers import ROOT, apply_catalog, url

GENERATOR = ROOT / "bench" / "gen_products.py"


@dataclass
class Live:
    client: httpx.AsyncClient
    ws: Workspace
    settings: Settings
    engine: AsyncEngine
    app: Any

    @property
    def admin(self) -> dict[str, str]:
        return bearer(self.ws)

    @property
    def editor(self) -> dict[str, str]:
        return bearer(self.ws, "editor")  # type: ignore[arg-type]

    def url(self, path: str = "") -> str:
        return url(self.ws.id, path)


@contextlib.asynccontextmanager
async def open_live(settings: Settings, engine: AsyncEngine) -> AsyncIterator[Live]:
    """The app on these settings, in this process, with a new workspace."""
    async with session_scope(make_sessionmaker(engine)) as s:
        ws = await make_workspace(s, "Imports")
    app = create_app(settings, engine=engine)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60) as client:
            yield Live(client, ws, settings, engine, app)


@pytest.fixture
async def live(database: TestDatabase, engine: AsyncEngine, tmp_path: Path) -> AsyncIterator[Live]:
    async with open_live(database.settings.model_copy(update={"data_dir": tmp_path}), engine) as lv:
        yield lv


@pytest.fixture
async def catalog(live: Live) -> Live:
    await apply_catalog(live.client, live.ws.id, live.admin)
    return live


def generate(path: Path, rows: int, **opts: Any) -> dict[str, Any]:
    stats = path.with_suffix(".json")
    args = [sys.executable, str(GENERATOR), "--rows", str(rows), "--out", str(path), "--stats", str(stats)]
    for k, v in opts.items():
        args += [f"--{k.replace('_', '-')}", str(v)]
    subprocess.run(args, check=True, capture_output=True)
    return dict(json.loads(stats.read_text()))


async def send_file(
    live: Live, path: Path, *, entity: str | None = "products", **create: Any
) -> httpx.Response:
    """A new import session, then the file's upload: the upload's response, whatever it is."""
    r = await live.client.post(
        live.url("/imports"), json={"entity": entity, "file_name": path.name, **create}, headers=live.editor
    )
    assert r.status_code == 201, r.text
    return await live.client.put(
        live.url(f"/imports/{r.json()['id']}/file"),
        content=path.read_bytes(),  # noqa: ASYNC240 - a small test file
        headers={**live.editor, "Content-Type": "application/octet-stream"},
    )


async def upload(live: Live, path: Path, *, entity: str | None = "products", **create: Any) -> dict[str, Any]:
    r = await send_file(live, path, entity=entity, **create)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def wait_for(live: Live, import_id: int, statuses: set[str], limit: float = 120) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while True:
        r = await live.client.get(live.url(f"/imports/{import_id}"), headers=live.editor)
        assert r.status_code == 200, r.text
        body = dict(r.json())
        if body["status"] in statuses:
            return body
        assert loop.time() < end, f"import {import_id} stuck in {body['status']}: {body}"
        await asyncio.sleep(0.05)


async def map_as_suggested(live: Live, imp: dict[str, Any], **extra: Any) -> dict[str, Any]:
    columns = {
        s["column"]: s["field"] if s["bucket"] in ("mapped", "suggested") else None
        for s in imp["suggestions"]
    }
    r = await live.client.put(
        live.url(f"/imports/{imp['id']}/mapping"), json={"columns": columns, **extra}, headers=live.editor
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


async def stage(live: Live, import_id: int) -> dict[str, Any]:
    r = await live.client.post(live.url(f"/imports/{import_id}/stage"), headers=live.editor)
    assert r.status_code == 202, r.text
    return await wait_for(live, import_id, {"staged", "failed"})


async def commit(live: Live, import_id: int, key: str | None = None, **options: Any) -> dict[str, Any]:
    headers = {**live.editor, **({"Idempotency-Key": key} if key else {})}
    r = await live.client.post(live.url(f"/imports/{import_id}/commit"), json=options, headers=headers)
    assert r.status_code == 202, r.text
    return await wait_for(live, import_id, set(FINISHED))


async def check_invariants(live: Live, imp: dict[str, Any], file_rows: int) -> None:
    """The promises that hold after every import (RELIABILITY.md)."""
    c = imp["counts"]
    assert c["rows"] == file_rows, c
    assert c["rows"] == c["staged"] + c["rejected"], c
    assert c["staged"] == c["valid"] + c["invalid"] + c["duplicates"] + c["discarded"] + c["failed"], c
    if imp["status"] in ("completed", "completed_with_errors"):
        outcomes = (
            c["created"] + c["updated"] + c["unchanged"] + c["skipped"] + c["failed"] + c["not_committed"]
        )
        # Every staged row has one outcome: rows skipped include duplicates, discarded and invalid.
        assert outcomes == c["staged"], c
    async with live.engine.connect() as conn:
        dup = (
            await conn.execute(
                text(
                    "SELECT count(*) FROM (SELECT entity_id, key_norm FROM records "
                    "GROUP BY 1, 2 HAVING count(*) > 1) d"
                )
            )
        ).scalar_one()
        assert dup == 0
        ledger = (
            await conn.execute(
                text(
                    "SELECT coalesce(sum(created + updated + unchanged + skipped + failed), 0), "
                    "coalesce(sum(rows), 0) FROM import_chunks WHERE session_id = :s AND status = 'done'"
                ),
                {"s": imp["id"]},
            )
        ).one()
        assert ledger[0] == ledger[1], ledger
        await check_commit_events(conn, imp)


async def check_commit_events(conn: Any, imp: dict[str, Any]) -> None:
    """The event log agrees with the ledger: one event per chunk done, the ids it created and updated
    are the import's counts, none twice."""
    if imp["status"] not in ("completed", "completed_with_errors", "cancelled", "failed"):
        return
    rows = (
        await conn.execute(
            text("SELECT payload FROM events WHERE import_id = :s AND action = 'import.committed'"),
            {"s": imp["id"]},
        )
    ).all()
    done = (
        await conn.execute(
            text("SELECT count(*) FROM import_chunks WHERE session_id = :s AND status = 'done'"),
            {"s": imp["id"]},
        )
    ).scalar_one()
    payloads = [json.loads(p) if isinstance(p, str) else p for (p,) in rows]
    assert len(payloads) == done, (len(payloads), done)
    created = [i for p in payloads for i in p["created"]]
    updated = [i for p in payloads for i in p["updated"]]
    c = imp["counts"]
    if "created" in c:
        assert (len(created), len(updated)) == (c["created"], c["updated"]), c
    assert len(set(created)) == len(created)
    assert len(set(updated)) == len(updated)
    assert not set(created) & set(updated)


async def record_count(live: Live, entity: str = "products") -> int:
    r = await live.client.get(
        live.url(f"/entities/{entity}/records/count"), params={"exact": "true"}, headers=live.admin
    )
    assert r.status_code == 200, r.text
    return int(r.json()["count"])
