"""Staging a large delimited file on every core: the file cut into parts, one process per part.

Parsing and checking rows is Python work, bound to one core per process. A file of many megabytes
is cut at line breaks outside quoted fields (see :meth:`CsvReader.split`); each part is read,
checked and bulk-loaded by a process of its own, with its own database connection, exactly as one
process would do it for the whole file. The parent gathers the keys (for the duplicate policy,
which spans parts) and the counts, keeps the session's heartbeat and progress, and stops every part
as soon as one fails.

A part that ends inside a record (a quote character outside quotes fooled the cut) raises
:class:`SplitMismatch`; the caller then stages the file in one pass. A part process dies with the
process that started it, so a killed worker leaves nothing writing behind it.
"""

import asyncio
import contextlib
import ctypes
import multiprocessing
import os
import signal
import time
from multiprocessing.connection import Connection, wait
from typing import Any

import structlog
from sqlalchemy.exc import DBAPIError

import loadbay.models  # noqa: F401 - every mapped class, for the ORM's relationships in a part
from loadbay.config import Settings
from loadbay.core.logging import configure_logging
from loadbay.db import make_engine, make_sessionmaker, utcnow
from loadbay.imports import pipeline
from loadbay.imports.commit import db_message, is_transient
from loadbay.imports.models import ImportSession, ImportStatus
from loadbay.imports.pipeline import StagingSpec
from loadbay.imports.readers.base import ReadError
from loadbay.imports.readers.csv_reader import CsvReader, Part, SplitMismatch
from loadbay.imports.stage import StageCounts
from loadbay.imports.validate import StagedBatch
from loadbay.worker.backend import job_session

log = structlog.get_logger()

# Parts at most: more processes than this contend for the database more than they gain.
MAX_PARTS = 8
PROGRESS_SECONDS = 1.0


class StagingInterrupted(Exception):
    """A part lost its database connection (or the database went away): staging starts again later."""


def parts_of(settings: Settings, spec: StagingSpec) -> list[Part]:
    """The parts to stage side by side; one part when the file, the format or the setup gain nothing."""
    whole = [Part(None, 1, None)]
    wanted = settings.staging_processes or min(os.cpu_count() or 1, 4)
    if wanted < 2 or settings.is_sqlite or spec.fmt not in ("csv", "tsv"):
        # SQLite takes one writer at a time: its staging is one pass.
        return whole
    return CsvReader().split(
        spec.path,
        spec.info,
        spec.options,
        parts=min(wanted, MAX_PARTS),
        min_bytes=settings.staging_split_bytes,
    )


def _mp() -> Any:
    # A fork server, not fork: the worker's event loop, threads and connections stay out of the
    # children, and the server has the modules imported already, so a part starts in milliseconds.
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["loadbay.models", "loadbay.imports.pipeline"])
    return ctx


async def stage_in_parts(
    ctx: dict[str, Any], settings: Settings, spec: StagingSpec, parts: list[Part]
) -> StageCounts:
    mp = _mp()
    counts = StageCounts()
    started: list[tuple[Any, Connection]] = []
    try:
        for part in parts:
            receive, send = mp.Pipe(duplex=False)
            proc = mp.Process(target=_part_process, args=(send, settings, spec, part), daemon=True)
            proc.start()
            send.close()
            started.append((proc, receive))
        failure = await _gather(ctx, spec.session_id, counts, {r: i for i, (_, r) in enumerate(started)})
    finally:
        for proc, _ in started:
            if proc.is_alive():
                proc.kill()
        for proc, receive in started:
            await asyncio.to_thread(proc.join)
            receive.close()
    if failure is not None:
        kind, *rest = failure
        if kind == "mismatch":
            raise SplitMismatch(rest[0])
        if kind == "read_error":
            raise ReadError(rest[0], rest[1], row=rest[2])
        if kind == "db_error" and rest[0]:
            raise StagingInterrupted(rest[1])
        raise RuntimeError(f"a part of the staging failed: {rest[-1]}")
    counts.first_row.clear()
    log.info("staged_in_parts", session_id=spec.session_id, parts=len(parts))
    return counts


async def _gather(
    ctx: dict[str, Any], session_id: int, counts: StageCounts, open_parts: dict[Connection, int]
) -> tuple[Any, ...] | None:
    """Take in the parts' messages until all are done or one fails; returns the first failure."""
    last_progress = time.monotonic()
    while open_parts:
        ready = await asyncio.to_thread(wait, list(open_parts), PROGRESS_SECONDS)
        for conn in ready:
            assert isinstance(conn, Connection)
            try:
                msg = conn.recv()
            except EOFError:
                # Killed from outside (out of memory, a signal) without a word.
                return ("error", f"the process of part {open_parts[conn]} stopped")
            kind = msg[0]
            if kind == "keys":
                _, keys, rows, n = msg
                counts.note_key_list(keys, rows)
                counts.rows += n
            elif kind == "done":
                for k, v in msg[1].items():
                    counts.seconds[k] = max(counts.seconds.get(k, 0.0), v)
                del open_parts[conn]
            else:
                return tuple(msg)
        if time.monotonic() - last_progress >= PROGRESS_SECONDS:
            last_progress = time.monotonic()
            async with job_session(ctx) as session:
                imp = await session.get(ImportSession, session_id)
                if imp is None or imp.status != ImportStatus.staging:
                    return ("read_error", "cancelled", "The import was cancelled while staging.", None)
                imp.counts = {"rows_read": counts.rows}
                imp.heartbeat_at = utcnow()
    return None


def _die_with_parent() -> None:
    # Linux: a SIGKILL when the process that started this one (the fork server, which itself ends
    # with the worker) goes away. Elsewhere the part only outlives a killed worker by its last batch.
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


def _part_process(conn: Connection, settings: Settings, spec: StagingSpec, part: Part) -> None:
    _die_with_parent()
    try:
        configure_logging(settings.log_level, settings.log_format)
        seconds = asyncio.run(_stage_part(conn, settings, spec, part))
        conn.send(("done", seconds))
    except SplitMismatch as e:
        conn.send(("mismatch", str(e)))
    except ReadError as e:
        conn.send(("read_error", e.code, e.message, e.row))
    except DBAPIError as e:
        conn.send(("db_error", is_transient(e), db_message(e)))
    except Exception as e:
        log.exception("staging_part_failed", session_id=spec.session_id, part=part.first_line)
        conn.send(("error", f"{type(e).__name__}: {e}"))
    finally:
        conn.close()


async def _stage_part(
    conn: Connection, settings: Settings, spec: StagingSpec, part: Part
) -> dict[str, float]:
    engine = make_engine(settings.model_copy(update={"db_pool_size": 2}))
    try:
        ctx: dict[str, Any] = {
            "sessionmaker": make_sessionmaker(engine),
            "settings": settings,
            "backend": None,
        }
        validator, refs = await pipeline.checking_tools(ctx, spec)
        counts = StageCounts()
        batches = CsvReader().batches(
            spec.path, spec.info, spec.options, batch_size=pipeline.STAGE_BATCH, part=part
        )

        def on_checked(staged: StagedBatch, rows_read: int) -> None:
            conn.send(("keys", staged.key_norm, staged.row_no, rows_read))

        await pipeline.write_batches(
            ctx, spec.session_id, batches, validator, refs, counts, on_checked, report_rows=False
        )
        return counts.seconds
    finally:
        await engine.dispose()
