"""A cancelled import finishes even when a chunk it was running is lost or ends after the cancel.

Cancel marks the pending chunks cancelled and waits for the running ones: the import's counts are
final (`finished_at`) when the last of them ends. A chunk that sees the cancel on its way in ends
cancelled, and one whose worker died is found by the sweeper; either way the import finishes.
Real app and database (SQLite, then PostgreSQL), jobs running in the app.
"""

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update

from loadbay.db import make_sessionmaker, session_scope, utcnow
from loadbay.imports import committing, recovery
from loadbay.imports.models import ChunkStatus, ImportChunk, ImportSession, ImportStatus
from tests.imports.conftest import Live, generate, map_as_suggested, stage, upload


async def _cancelled_with_a_running_chunk(live: Live, tmp_path: Path, *, lease_gone: bool) -> int:
    """A staged import, cancelled while its one chunk was running (the chunk's row as a worker left it)."""
    path = tmp_path / "p.csv"
    generate(path, 20, dup_rate=0, bad_rate=0)
    imp = await stage(live, (await map_as_suggested(live, await upload(live, path)))["id"])
    session_id = int(imp["id"])
    now = utcnow()
    async with session_scope(make_sessionmaker(live.engine)) as s:
        s.add(
            ImportChunk(
                session_id=session_id,
                chunk_no=0,
                row_lo=0,
                row_hi=10**9,
                rows=20,
                status=ChunkStatus.running,
                attempts=1,
                sends=1,
                started_at=now,
                heartbeat_at=now - timedelta(hours=1) if lease_gone else now,
            )
        )
        await s.execute(
            update(ImportSession)
            .where(ImportSession.id == session_id)
            .values(status=ImportStatus.cancelled, commit_started_at=now, finished_at=None)
        )
    return session_id


async def _finished(live: Live, session_id: int) -> dict[str, Any]:
    for _ in range(200):
        got = (await live.client.get(live.url(f"/imports/{session_id}"), headers=live.editor)).json()
        if got["finished_at"] is not None:
            return got
        await asyncio.sleep(0.05)
    raise AssertionError(f"import {session_id} never finished: {got}")


async def test_a_chunk_that_sees_the_cancel_ends_cancelled_and_the_import_finishes(
    catalog: Live, tmp_path: Path
):
    live = catalog
    session_id = await _cancelled_with_a_running_chunk(live, tmp_path, lease_gone=False)
    assert await committing.commit_chunk(live.app.state.jobs.ctx, session_id, 0) == "cancelled"
    got = await _finished(live, session_id)
    assert got["status"] == "cancelled"
    assert got["counts"]["chunks_cancelled"] == 1
    assert got["counts"]["not_committed"] == 20


async def test_the_sweeper_ends_a_lost_chunk_of_a_cancelled_import(catalog: Live, tmp_path: Path):
    live = catalog
    session_id = await _cancelled_with_a_running_chunk(live, tmp_path, lease_gone=True)
    swept = await recovery.sweep_imports(live.app.state.jobs.ctx)
    assert swept["chunks"] == 1
    got = await _finished(live, session_id)
    assert got["status"] == "cancelled"
    assert got["counts"]["chunks_cancelled"] == 1
    # Nothing of it was written.
    records = await live.client.get(live.url("/entities/products/records"), headers=live.editor)
    assert records.json()["items"] == []
