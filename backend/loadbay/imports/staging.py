"""The staging job: read the whole file into staged rows, in one pass or in parts side by side.

Safe to run twice: it starts from a clean slate for the session, and only a session still
``staging`` is staged.
"""

import time
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from loadbay.db import utcnow
from loadbay.imports import commit as commit_mod
from loadbay.imports import parallel, recovery, storage
from loadbay.imports import stage as stage_mod
from loadbay.imports.models import ImportSession, ImportStatus
from loadbay.imports.pipeline import STAGE_BATCH, StagingSpec, checking_tools, file_info, write_batches
from loadbay.imports.readers import reader_for
from loadbay.imports.readers.base import FileInfo, ReadError, ReadOptions
from loadbay.imports.readers.csv_reader import SplitMismatch
from loadbay.worker.backend import job_session

log = structlog.get_logger()


async def stage_import(ctx: dict[str, Any], session_id: int) -> str:
    settings = recovery.settings_of(ctx)
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
        await fail(ctx, session_id, f"{e.message}" + (f" (row {e.row})" if e.row else ""))
        return "failed"
    except parallel.StagingInterrupted:
        raise  # the sweeper starts the staging again
    except DBAPIError as e:
        if commit_mod.is_transient(e):
            raise  # the sweeper starts the staging again
        log.exception("staging_failed", session_id=session_id)
        await fail(ctx, session_id, f"Staging stopped: {commit_mod.db_message(e)}")
        return "failed"
    except Exception as e:
        log.exception("staging_failed", session_id=session_id)
        await fail(
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
        imp.counts = stage_mod.summary_counts(by_status)
        imp.status = ImportStatus.staged
        imp.staged_at = utcnow()
        imp.rows_version += 1
        imp.error = None
    log.info("import_staged", session_id=session_id, **imp.counts)
    return True


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
    settings = recovery.settings_of(ctx)
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


async def fail(ctx: dict[str, Any], session_id: int, message: str) -> None:
    async with job_session(ctx) as session:
        imp = await session.get(ImportSession, session_id, with_for_update=True)
        if imp is None or imp.status not in (ImportStatus.staging, ImportStatus.committing):
            return
        imp.status = ImportStatus.failed
        imp.error = message
        imp.finished_at = utcnow()
    log.warning("import_failed", session_id=session_id, error=message)


# --- commit --------------------------------------------------------------------------------------
