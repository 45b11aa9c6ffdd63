"""The commit jobs: plan the chunks once, commit each chunk in its own transaction, finish.

Every job takes ids only, re-reads its rows, and is safe to run twice: the chunk ledger says what
is left to do, never the queue.
"""

import asyncio
from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from loadbay.db import utcnow
from loadbay.imports import commit as commit_mod
from loadbay.imports import recovery
from loadbay.imports import stage as stage_mod
from loadbay.imports.models import ChunkStatus, ImportChunk, ImportSession, ImportStatus
from loadbay.imports.pipeline import entity_and_fields
from loadbay.records import writer
from loadbay.records.writer import Who
from loadbay.worker.backend import job_session

log = structlog.get_logger()

CHUNK_ATTEMPTS = 5


async def commit_import(ctx: dict[str, Any], session_id: int) -> str:
    """Plan the chunks (once) and send one job per chunk not yet done."""
    async with job_session(ctx) as session:
        imp = await session.get(ImportSession, session_id, with_for_update=True)
        if imp is None or imp.status != ImportStatus.committing:
            return "nothing to do"
        have = (
            await session.execute(
                select(func.count()).select_from(ImportChunk).where(ImportChunk.session_id == session_id)
            )
        ).scalar_one()
        if not have:
            plan = await commit_mod.plan_chunks(
                session, session_id, recovery.settings_of(ctx).import_chunk_rows
            )
            for no, (lo, hi, rows) in enumerate(plan):
                session.add(ImportChunk(session_id=session_id, chunk_no=no, row_lo=lo, row_hi=hi, rows=rows))
            await session.flush()
        now = utcnow()
        imp.heartbeat_at = now
        # Chunks not sent since they were planned or set to run again (a retry); the sweeper looks
        # after the ones sent and lost.
        pending = list(
            (
                await session.execute(
                    select(ImportChunk)
                    .where(
                        ImportChunk.session_id == session_id,
                        ImportChunk.status == ChunkStatus.pending,
                        ImportChunk.heartbeat_at.is_(None),
                    )
                    .order_by(ImportChunk.chunk_no)
                )
            ).scalars()
        )
        for chunk in pending:
            recovery.send_chunk(session, imp.file_id, chunk, now)
        if not await _open_chunks(session, session_id):
            await finish(session, imp)
    return f"{len(pending)} chunks sent"


async def commit_chunk(ctx: dict[str, Any], session_id: int, chunk_no: int) -> str:
    for attempt in range(CHUNK_ATTEMPTS):
        try:
            return await _commit_chunk_once(ctx, session_id, chunk_no)
        except DBAPIError as e:
            if not commit_mod.is_transient(e) or attempt == CHUNK_ATTEMPTS - 1:
                await _chunk_failed(ctx, session_id, chunk_no, commit_mod.db_message(e))
                return "failed"
            log.warning("chunk_retry", session_id=session_id, chunk_no=chunk_no, error=str(e.orig)[:200])
            await asyncio.sleep(min(0.5 * 2**attempt, 10))
    return "failed"


async def _commit_chunk_once(ctx: dict[str, Any], session_id: int, chunk_no: int) -> str:
    async with job_session(ctx) as session:
        # Taking the chunk: locked, so that a run applying it now is waited for and then seen done.
        chunk = await session.get(ImportChunk, (session_id, chunk_no), with_for_update=True)
        if chunk is None or chunk.status not in (ChunkStatus.pending, ChunkStatus.running):
            return "nothing to do"
        chunk.attempts += 1
        chunk.started_at = chunk.heartbeat_at = utcnow()
        chunk.status = ChunkStatus.running
    async with job_session(ctx) as session:
        # The ledger row is locked for the whole transaction: a second run of this chunk waits,
        # then sees it done.
        chunk = await session.get(
            ImportChunk, (session_id, chunk_no), with_for_update=True, populate_existing=True
        )
        imp = await session.get(ImportSession, session_id)
        if chunk is None or imp is None or chunk.status != ChunkStatus.running:
            return "nothing to do"
        if imp.status != ImportStatus.committing:
            chunk.status = ChunkStatus.cancelled
            chunk.finished_at = utcnow()
            await session.flush()
            # A cancel waits for the chunks that were running: this may have been the last of them.
            await _maybe_finish(session, session_id)
            return "cancelled"
        assert imp.entity_id is not None
        entity, fields = await entity_and_fields(session, imp.entity_id)
        defaults = {f.key: f.default for f in fields if f.default is not None}
        plan = commit_mod.plan_of(imp, defaults)
        out = await commit_mod.run_chunk(session, plan, chunk)
        writer.chunk_event(session, Who(imp.user_id, imp.api_key_id), entity, imp.id, chunk_no, out.write())
        chunk.created, chunk.updated, chunk.unchanged = out.created, out.updated, out.unchanged
        chunk.skipped, chunk.failed = out.skipped, out.failed
        chunk.status = ChunkStatus.done
        chunk.finished_at = utcnow()
        chunk.error = None
        await session.flush()
        await _maybe_finish(session, session_id)
    return "done"


async def _chunk_failed(ctx: dict[str, Any], session_id: int, chunk_no: int, message: str) -> None:
    async with job_session(ctx) as session:
        chunk = await session.get(ImportChunk, (session_id, chunk_no), with_for_update=True)
        if chunk is None or chunk.status == ChunkStatus.done:
            return
        chunk.status = ChunkStatus.failed
        chunk.error = message
        chunk.finished_at = utcnow()
        await session.flush()
        await _maybe_finish(session, session_id)


async def _maybe_finish(session: AsyncSession, session_id: int) -> None:
    # Lock the session row so that two chunks finishing together do not both finish it.
    imp = await session.get(ImportSession, session_id, with_for_update=True, populate_existing=True)
    if imp is None:
        return
    if imp.status in (ImportStatus.committing, ImportStatus.cancelled) and not await _open_chunks(
        session, session_id
    ):
        await finish(session, imp)


async def _open_chunks(session: AsyncSession, session_id: int) -> int:
    return int(
        (
            await session.execute(
                select(func.count())
                .select_from(ImportChunk)
                .where(ImportChunk.session_id == session_id, ImportChunk.status.in_(recovery.OPEN))
            )
        ).scalar_one()
    )


async def finish(session: AsyncSession, imp: ImportSession) -> None:
    totals = await commit_mod.chunk_totals(session, imp.id)
    by_status = await stage_mod.status_counts(session, imp.id)
    by_chunk = await commit_mod.chunks_by_status(session, imp.id)
    counts = stage_mod.summary_counts(by_status)
    failed_chunk_rows = by_chunk.get(ChunkStatus.failed, (0, 0))[1]
    cancelled_rows = by_chunk.get(ChunkStatus.cancelled, (0, 0))[1]
    counts.update(
        created=totals["created"],
        updated=totals["updated"],
        unchanged=totals["unchanged"],
        skipped=totals["skipped_existing"] + counts["duplicates"] + counts["discarded"] + counts["invalid"],
        failed=totals["failed"] + failed_chunk_rows,
        not_committed=cancelled_rows,
        chunks_done=by_chunk.get(ChunkStatus.done, (0, 0))[0],
        chunks_failed=by_chunk.get(ChunkStatus.failed, (0, 0))[0],
        chunks_cancelled=by_chunk.get(ChunkStatus.cancelled, (0, 0))[0],
    )
    imp.counts = counts
    imp.finished_at = utcnow()
    n_chunks = sum(n for n, _ in by_chunk.values())
    if imp.status == ImportStatus.cancelled:
        return
    if n_chunks and counts["chunks_failed"] == n_chunks:
        imp.status = ImportStatus.failed
        errors = (
            await session.execute(
                select(ImportChunk.error)
                .where(ImportChunk.session_id == imp.id, ImportChunk.error.is_not(None))
                .limit(1)
            )
        ).scalar_one_or_none()
        imp.error = f"Every chunk failed: {errors}"
    elif counts["failed"] or counts["invalid"] or counts["rejected"] or counts["chunks_failed"]:
        imp.status = ImportStatus.completed_with_errors
    else:
        imp.status = ImportStatus.completed
