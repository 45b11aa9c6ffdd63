"""Leases and the sweeper: work whose job went missing is sent again, whenever it was lost.

Staging and the planning of a commit hold the session's lease (`ImportSession.heartbeat_at`); each
chunk holds a lease of its own (`ImportChunk.heartbeat_at`), so one lost chunk is sent again within
about a lease while the others run on. A chunk is alive while its row is locked (a worker is applying
it, on PostgreSQL), while the queue still holds its job waiting, or while its lease runs. Past that it
is sent again under a new job id: arq drops a job whose id it still has, and keeps a dead worker's
job marked in progress for `job_timeout`. The chunk's own transaction keeps a chunk that runs twice
from applying twice.
"""

from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from loadbay.config import Settings, get_settings
from loadbay.db import utcnow
from loadbay.imports.models import ChunkStatus, ImportChunk, ImportSession, ImportStatus
from loadbay.worker.backend import defer, job_session

log = structlog.get_logger()

OPEN = (ChunkStatus.pending, ChunkStatus.running)


def settings_of(ctx: dict[str, Any]) -> Settings:
    s: Settings | None = ctx.get("settings")
    return s or get_settings()


def chunk_job_id(file_id: str, chunk_no: int, sends: int) -> str:
    return f"chunk:{file_id}:{chunk_no}:{sends}"


def send_chunk(session: AsyncSession, file_id: str, chunk: ImportChunk, now: datetime) -> None:
    """Send a job for this chunk once the transaction commits; its lease starts now."""
    chunk.sends += 1
    chunk.heartbeat_at = now
    defer(
        session,
        "commit_chunk",
        job_id=chunk_job_id(file_id, chunk.chunk_no, chunk.sends),
        session_id=chunk.session_id,
        chunk_no=chunk.chunk_no,
    )


async def sweep_imports(ctx: dict[str, Any]) -> dict[str, int]:
    """Re-send work whose job vanished (worker killed, queue restarted): the database knows what is left."""
    now = utcnow()
    cutoff = now - timedelta(seconds=settings_of(ctx).import_lease_seconds)
    backend = ctx["backend"]
    out = {"staging": 0, "commits": 0, "chunks": 0}
    forgotten: list[str] = []
    async with job_session(ctx) as session:
        expired = (ImportSession.heartbeat_at.is_(None)) | (ImportSession.heartbeat_at < cutoff)
        # A session locked by a job at work is not lost: skip it rather than wait for it.
        for imp in (
            await session.execute(
                select(ImportSession)
                .where(ImportSession.status == ImportStatus.staging, expired)
                .with_for_update(skip_locked=True)
            )
        ).scalars():
            imp.heartbeat_at = now
            defer(
                session,
                "stage_import",
                job_id=f"stage:{imp.file_id}:sweep:{now.timestamp()}",
                session_id=imp.id,
            )
            out["staging"] += 1
        # A commit with no chunk open: its planning was lost (or the end of its last chunk).
        any_open = exists().where(ImportChunk.session_id == ImportSession.id, ImportChunk.status.in_(OPEN))
        for imp in (
            await session.execute(
                select(ImportSession)
                .where(ImportSession.status == ImportStatus.committing, expired, ~any_open)
                .with_for_update(skip_locked=True)
            )
        ).scalars():
            imp.heartbeat_at = now
            defer(
                session,
                "commit_import",
                job_id=f"commit:{imp.file_id}:sweep:{now.timestamp()}",
                session_id=imp.id,
            )
            out["commits"] += 1
        # Chunks past their lease. A locked row is a chunk being applied right now: skipped. Those of
        # a cancelled import are sent too: the run sees the cancel, ends the chunk cancelled, and the
        # import's counts become final (it waits for its running chunks).
        rows = (
            await session.execute(
                select(ImportChunk, ImportSession.file_id)
                .join(ImportSession, ImportSession.id == ImportChunk.session_id)
                .where(
                    ImportSession.status.in_([ImportStatus.committing, ImportStatus.cancelled]),
                    ImportChunk.status.in_(OPEN),
                    (ImportChunk.heartbeat_at.is_(None)) | (ImportChunk.heartbeat_at < cutoff),
                )
                .order_by(ImportChunk.session_id, ImportChunk.chunk_no)
                .with_for_update(of=ImportChunk, skip_locked=True)
            )
        ).all()
        for chunk, file_id in rows:
            last = chunk_job_id(file_id, chunk.chunk_no, chunk.sends)
            if chunk.sends and await backend.holds(last):
                chunk.heartbeat_at = now  # still waiting its turn in the queue
                continue
            if chunk.sends:
                forgotten.append(last)
            chunk.status = ChunkStatus.pending
            send_chunk(session, file_id, chunk, now)
            out["chunks"] += 1
    for job_id in forgotten:
        try:
            await backend.forget(job_id)
        except Exception as e:  # the queue may be down; the job is only clutter there
            log.warning("forget_failed", job_id=job_id, error=repr(e))
    if any(out.values()):
        log.info("imports_swept", **out)
    return out
