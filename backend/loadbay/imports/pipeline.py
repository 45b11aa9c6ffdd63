"""The path of rows through staging: read a batch, check it, bulk-load it (one process or a part).

Shared by the one-pass staging (``staging``) and the parts staged side by side (``parallel``).
"""

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loadbay.db import utcnow
from loadbay.imports import stage as stage_mod
from loadbay.imports.models import ImportSession, ImportStatus
from loadbay.imports.readers.base import Batch, FileInfo, ReadError, ReadOptions
from loadbay.imports.validate import StagedBatch, Validator
from loadbay.schema.models import Entity, FieldDef
from loadbay.worker.backend import job_session

STAGE_BATCH = 20_000


async def entity_and_fields(session: AsyncSession, entity_id: int) -> tuple[Entity, list[FieldDef]]:
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
        entity, fields = await entity_and_fields(session, spec.entity_id)
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
