"""Import jobs: stage a file, plan a commit and commit its chunks (the sweeper is in recovery.py).

Every job takes ids only, re-reads its rows, and is safe to run twice: the database says what is
left to do (session status, chunk ledger), never the queue.
"""

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from loadbay.db import utcnow
from loadbay.imports import commit as commit_mod
from loadbay.imports import parallel, recovery, storage
from loadbay.imports import stage as stage_mod
from loadbay.imports.models import ChunkStatus, ImportChunk, ImportSession, ImportStatus, RowStatus
from loadbay.imports.readers import reader_for
from loadbay.imports.readers.base import Batch, FileInfo, ReadError, ReadOptions
from loadbay.imports.readers.csv_reader import SplitMismatch
from loadbay.imports.validate import StagedBatch, Validator
from loadbay.schema.models import Entity, FieldDef
from loadbay.worker.backend import job_session

log = structlog.get_logger()

STAGE_BATCH = 20_000
CHUNK_ATTEMPTS = 5


_settings = recovery.settings_of


async def _entity_and_fields(session: AsyncSession, entity_id: int) -> tuple[Entity, list[FieldDef]]:
    entity = await session.get(Entity, entity_id)
    if entity is None:
        raise ReadError("entity_gone", "The entity of this import was deleted.")
    fields = list(
        (
            await session.execute(
                select(FieldDef)
                .where(FieldDef.entity_id == entity_id)
                .order_by(FieldDef.position, FieldDef.id)
            )
        ).scalars()
    )
    return entity, fields


def file_info(imp: ImportSession) -> tuple[FileInfo, ReadOptions]:
    profile = imp.profile or {}
    ro = imp.read_options or {}
    options = ReadOptions(**{k: v for k, v in ro.items() if k in ReadOptions.__dataclass_fields__})
    info = FileInfo(
        format=imp.format or "csv",
        columns=[c["name"] for c in profile.get("columns", [])],
        sample=[],
        encoding=profile.get("encoding"),
        delimiter=profile.get("delimiter"),
        quotechar=profile.get("quotechar"),
        header_row=profile.get("header_row"),
        sheets=profile.get("sheets", []),
        sheet=profile.get("sheet"),
        records_path=profile.get("records_path"),
    )
    return info, options


# --- staging -------------------------------------------------------------------------------------


async def stage_import(ctx: dict[str, Any], session_id: int) -> str:
    settings = _settings(ctx)
    async with job_session(ctx) as session:
        imp = await session.get(ImportSession, session_id, with_for_update=True)
        if imp is None or imp.status != ImportStatus.staging:
            return "nothing to do"
        await stage_mod.clear(session, session_id)
        imp.heartbeat_at = utcnow()
        imp.counts = {}
        entity_id = imp.entity_id
        info, options = file_info(imp)
        mapping = dict(imp.mapping or {})
        policy = imp.duplicate_policy
        fmt = imp.format or "csv"
        path = storage.path_of(settings.data_dir, imp.file_id)
        decimal_comma = bool((imp.profile or {}).get("decimal_comma"))
    try:
        counts = await _stage_rows(
            ctx, session_id, entity_id, path, fmt, info, options, mapping, decimal_comma
        )
        t0 = time.perf_counter()
        if not await _finish_staging(ctx, session_id, counts, policy):
            return "superseded"
    except ReadError as e:
        await _fail(ctx, session_id, f"{e.message}" + (f" (row {e.row})" if e.row else ""))
        return "failed"
    except parallel.StagingInterrupted:
        raise  # the sweeper starts the staging again
    except DBAPIError as e:
        if commit_mod.is_transient(e):
            raise  # the sweeper starts the staging again
        log.exception("staging_failed", session_id=session_id)
        await _fail(ctx, session_id, f"Staging stopped: {commit_mod.db_message(e)}")
        return "failed"
    except Exception as e:
        log.exception("staging_failed", session_id=session_id)
        await _fail(
            ctx, session_id, f"Staging stopped on an internal error ({type(e).__name__}); it is logged."
        )
        return "failed"
    counts.seconds["finish"] = time.perf_counter() - t0
    log.info("staging_timings", session_id=session_id, **{k: round(v, 2) for k, v in counts.seconds.items()})
    return "staged"


async def _finish_staging(
    ctx: dict[str, Any], session_id: int, counts: stage_mod.StageCounts, policy: str
) -> bool:
    async with job_session(ctx) as session:
        imp = await session.get(ImportSession, session_id, with_for_update=True)
        if imp is None or imp.status != ImportStatus.staging:
            return False
        t0 = time.perf_counter()
        if session.get_bind().dialect.name == "postgresql":
            # Fresh statistics for the rows just loaded: without them the planner takes this
            # session for a few rows and scans them all where it should read a handful by key.
            await session.execute(text("ANALYZE staged_rows"))
        if counts.keys_overflowed:
            rows = await stage_mod.repeated_key_rows(session, session_id)
        else:
            rows = [n for group in counts.duplicate_rows.values() for n in group]
        await stage_mod.mark_duplicates(session, session_id, policy, rows=rows)
        t1 = time.perf_counter()
        by_status = await stage_mod.status_counts(session, session_id)
        counts.seconds["duplicates"] = t1 - t0
        counts.seconds["count"] = time.perf_counter() - t1
        imp.counts = summary_counts(by_status)
        imp.status = ImportStatus.staged
        imp.staged_at = utcnow()
        imp.rows_version += 1
        imp.error = None
    log.info("import_staged", session_id=session_id, **imp.counts)
    return True


def summary_counts(by_status: dict[str, int]) -> dict[str, int]:
    staged = sum(n for s, n in by_status.items() if s != RowStatus.rejected)
    return {
        "rows": staged + by_status.get(RowStatus.rejected, 0),
        "rejected": by_status.get(RowStatus.rejected, 0),
        "staged": staged,
        "valid": by_status.get(RowStatus.valid, 0),
        "invalid": by_status.get(RowStatus.invalid, 0),
        "duplicates": by_status.get(RowStatus.duplicate, 0),
        "discarded": by_status.get(RowStatus.discarded, 0),
        "failed": by_status.get(RowStatus.failed, 0),
    }


@dataclass(frozen=True)
class StagingSpec:
    """What a staging reads and how: everything a process needs to stage a part of the file."""

    session_id: int
    entity_id: int
    path: Path
    fmt: str
    info: FileInfo
    options: ReadOptions
    mapping: dict[str, str | None]
    decimal_comma: bool


async def checking_tools(ctx: dict[str, Any], spec: StagingSpec) -> tuple[Validator, stage_mod.RefChecker]:
    async with job_session(ctx) as session:
        entity, fields = await _entity_and_fields(session, spec.entity_id)
        ref_ids = {f.reference_entity_id for f in fields if f.reference_entity_id is not None}
        ref_entities = {
            e.id: e for e in (await session.execute(select(Entity).where(Entity.id.in_(ref_ids)))).scalars()
        }
    validator = Validator(
        entity,
        fields,
        spec.info.columns,
        spec.mapping,
        ref_entities=ref_entities,
        decimal_comma=spec.decimal_comma,
        decimal=spec.options.decimal,
    )
    return validator, stage_mod.RefChecker(fields, ref_entities)


async def _stage_rows(
    ctx: dict[str, Any],
    session_id: int,
    entity_id: int | None,
    path: Path,
    fmt: str,
    info: FileInfo,
    options: ReadOptions,
    mapping: dict[str, str | None],
    decimal_comma: bool,
) -> stage_mod.StageCounts:
    if entity_id is None:
        raise ReadError("no_entity", "Choose the entity to import into before staging.")
    spec = StagingSpec(session_id, entity_id, path, fmt, info, options, mapping, decimal_comma)
    settings = _settings(ctx)
    parts = parallel.parts_of(settings, spec)
    if len(parts) > 1:
        try:
            return await parallel.stage_in_parts(ctx, settings, spec, parts)
        except SplitMismatch as e:
            # A quote character outside quoted fields fooled the cut: read the file in one pass.
            log.info("staging_in_one_pass", session_id=session_id, reason=str(e))
            async with job_session(ctx) as session:
                await stage_mod.clear(session, session_id)
    validator, refs = await checking_tools(ctx, spec)
    counts = stage_mod.StageCounts()
    batches = reader_for(fmt).batches(path, info, options, batch_size=STAGE_BATCH)
    await write_batches(ctx, session_id, batches, validator, refs, counts, lambda b, _: counts.note_keys(b))
    counts.first_row.clear()
    return counts


async def write_batches(
    ctx: dict[str, Any],
    session_id: int,
    batches: Iterator[Batch],
    validator: Validator,
    refs: stage_mod.RefChecker,
    counts: stage_mod.StageCounts,
    on_checked: Callable[[StagedBatch, int], None],
    *,
    report_rows: bool = True,
) -> None:
    """Read, check and bulk-load every batch; ``on_checked`` sees each checked batch and the rows read
    with it, rejected ones included (in a thread)."""

    def step() -> tuple[StagedBatch, StagedBatch] | None:
        t0 = time.perf_counter()
        b = next(batches, None)
        t1 = time.perf_counter()
        counts.seconds["read"] += t1 - t0
        if b is None:
            return None
        staged = validator.run(b.rows)
        rejected = stage_mod.rejected_batch(b.problems)
        on_checked(staged, len(staged) + len(rejected))
        counts.rows += len(staged) + len(rejected)
        counts.seconds["check"] += time.perf_counter() - t1
        return staged, rejected

    # The next batch is read and checked in a thread while this one is written: the database
    # works on the other core meanwhile.
    pending = asyncio.ensure_future(asyncio.to_thread(step))
    try:
        while True:
            got = await pending
            if got is None:
                break
            pending = asyncio.ensure_future(asyncio.to_thread(step))
            staged, rejected = got
            t0 = time.perf_counter()
            async with job_session(ctx) as session:
                imp = await session.get(ImportSession, session_id)
                if imp is None or imp.status != ImportStatus.staging:
                    raise ReadError("cancelled", "The import was cancelled while staging.")
                await refs.check(session, staged)
                await stage_mod.bulk_load(session, session_id, staged)
                await stage_mod.bulk_load(session, session_id, rejected)
                if report_rows:
                    # (Parts staged side by side leave this to their parent: one writer of the row.)
                    imp.counts = {"rows_read": counts.rows}
                    imp.heartbeat_at = utcnow()
            counts.seconds["write"] += time.perf_counter() - t0
    finally:
        if not pending.done():
            # Let the thread finish its batch before the file is closed under it.
            with contextlib.suppress(Exception):
                await pending


async def _fail(ctx: dict[str, Any], session_id: int, message: str) -> None:
    async with job_session(ctx) as session:
        imp = await session.get(ImportSession, session_id, with_for_update=True)
        if imp is None or imp.status not in (ImportStatus.staging, ImportStatus.committing):
            return
        imp.status = ImportStatus.failed
        imp.error = message
        imp.finished_at = utcnow()
    log.warning("import_failed", session_id=session_id, error=message)


# --- commit --------------------------------------------------------------------------------------


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
            plan = await commit_mod.plan_chunks(session, session_id, _settings(ctx).import_chunk_rows)
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
        _, fields = await _entity_and_fields(session, imp.entity_id)
        defaults = {f.key: f.default for f in fields if f.default is not None}
        plan = commit_mod.plan_of(imp, defaults)
        out = await commit_mod.run_chunk(session, plan, chunk)
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
    counts = summary_counts(by_status)
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
