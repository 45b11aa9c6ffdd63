"""Committing staged rows into records, one chunk (a range of row numbers) per transaction.

The rows are written by the records writer (``records.writer.apply_staged``); here: the chunks'
plan, the isolation of rows the database refuses, and the ledger. The chunk's ledger row is marked
done, with its counts, in the same transaction as its rows and its event, so a chunk that runs
twice applies once.
"""

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from loadbay.imports.models import ImportChunk, ImportSession, RowStatus, StagedRow
from loadbay.records import writer
from loadbay.records.changes import ChangeSet
from loadbay.records.upsert import UpsertPlan

ISOLATE_BATCH = 500


Plan = UpsertPlan


@dataclass
class Outcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0
    changes: ChangeSet = field(default_factory=ChangeSet)

    def add(self, o: "Outcome") -> None:
        self.created += o.created
        self.updated += o.updated
        self.unchanged += o.unchanged
        self.skipped += o.skipped
        self.failed += o.failed
        self.changes.created += o.changes.created
        self.changes.updated += o.changes.updated
        self.changes.fields = sorted({*self.changes.fields, *o.changes.fields})

    def write(self) -> writer.ChunkWrite:
        return writer.ChunkWrite(self.changes, self.unchanged, self.skipped)


async def plan_chunks(session: AsyncSession, session_id: int, chunk_rows: int) -> list[tuple[int, int, int]]:
    """Split the valid rows into chunks of chunk_rows rows: (first row_no, last row_no + 1, rows).

    One pass over the session's rows in primary-key order; the chunks hold disjoint rows, and (the
    duplicates set aside while staging) disjoint keys.
    """
    firsts = (
        await session.execute(
            text(
                "SELECT row_no, rn, total, last_row FROM (SELECT row_no, "
                "row_number() OVER (ORDER BY row_no) AS rn, count(*) OVER () AS total, "
                "max(row_no) OVER () AS last_row FROM staged_rows "
                "WHERE session_id = :s AND status = 'valid') numbered "
                "WHERE (rn - 1) % :n = 0 ORDER BY row_no"
            ),
            {"s": session_id, "n": chunk_rows},
        )
    ).all()
    chunks: list[tuple[int, int, int]] = []
    for i, (lo, rn, total, last) in enumerate(firsts):
        hi, next_rn = (firsts[i + 1][0], firsts[i + 1][1]) if i + 1 < len(firsts) else (last + 1, total + 1)
        chunks.append((int(lo), int(hi), int(next_rn) - int(rn)))
    return chunks


def is_transient(e: DBAPIError) -> bool:
    """Faults worth retrying the whole chunk for: lost connections, deadlocks, serialization."""
    if e.connection_invalidated:
        return True
    code = getattr(e.orig, "sqlstate", None) or ""
    # 08: connection exceptions; 40: rollbacks (deadlock, serialization); 57P: admin shutdown.
    return code.startswith(("08", "40", "57P", "53")) or "database is locked" in str(e.orig)


async def _apply(session: AsyncSession, plan: Plan, lo: int, hi: int, rows: list[int] | None) -> Outcome:
    write = await writer.apply_staged(session, plan, lo, hi, rows)
    return Outcome(
        created=len(write.changes.created),
        updated=len(write.changes.updated),
        unchanged=write.unchanged,
        skipped=write.skipped,
        changes=write.changes,
    )


async def _isolate(session: AsyncSession, plan: Plan, chunk: ImportChunk) -> Outcome:
    """The chunk failed on some row: commit it in small batches, then row by row, to find the bad ones."""
    row_nos = list(
        (
            await session.execute(
                select(StagedRow.row_no)
                .where(
                    StagedRow.session_id == plan.session_id,
                    StagedRow.row_no >= chunk.row_lo,
                    StagedRow.row_no < chunk.row_hi,
                    StagedRow.status == RowStatus.valid,
                )
                .order_by(StagedRow.row_no)
            )
        ).scalars()
    )
    out = Outcome()
    for start in range(0, len(row_nos), ISOLATE_BATCH):
        part = row_nos[start : start + ISOLATE_BATCH]
        try:
            async with session.begin_nested():
                out.add(await _apply(session, plan, chunk.row_lo, chunk.row_hi, part))
            continue
        except (IntegrityError, DBAPIError) as e:
            if isinstance(e, DBAPIError) and is_transient(e):
                raise
        for row_no in part:
            try:
                async with session.begin_nested():
                    out.add(await _apply(session, plan, chunk.row_lo, chunk.row_hi, [row_no]))
            except (IntegrityError, DBAPIError) as e:
                if isinstance(e, DBAPIError) and is_transient(e):
                    raise
                out.failed += 1
                await session.execute(
                    update(StagedRow)
                    .where(StagedRow.session_id == plan.session_id, StagedRow.row_no == row_no)
                    .values(status=RowStatus.failed, errors={"_row": ["database", db_message(e)]})
                )
    return out


def db_message(e: DBAPIError) -> str:
    orig = e.orig
    diag = getattr(orig, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    detail = getattr(diag, "message_detail", None) if diag is not None else None
    msg = primary or str(orig).splitlines()[0]
    return f"the database refused the row: {msg}" + (f" ({detail})" if detail else "")


async def run_chunk(session: AsyncSession, plan: Plan, chunk: ImportChunk) -> Outcome:
    """Apply one chunk; rows the database refuses are isolated and marked failed, the rest commit."""
    try:
        async with session.begin_nested():
            return await _apply(session, plan, chunk.row_lo, chunk.row_hi, None)
    except (IntegrityError, DBAPIError) as e:
        if isinstance(e, DBAPIError) and not isinstance(e, IntegrityError) and is_transient(e):
            raise
    return await _isolate(session, plan, chunk)


async def chunks_by_status(session: AsyncSession, session_id: int) -> dict[str, tuple[int, int]]:
    """Chunk ledger by status: (chunks, rows)."""
    rows = (
        await session.execute(
            select(ImportChunk.status, func.count(), func.coalesce(func.sum(ImportChunk.rows), 0))
            .where(ImportChunk.session_id == session_id)
            .group_by(ImportChunk.status)
        )
    ).all()
    return {str(s): (int(n), int(r)) for s, n, r in rows}


async def chunk_totals(session: AsyncSession, session_id: int) -> dict[str, int]:
    row = (
        await session.execute(
            select(
                func.coalesce(func.sum(ImportChunk.rows), 0),
                func.coalesce(func.sum(ImportChunk.created), 0),
                func.coalesce(func.sum(ImportChunk.updated), 0),
                func.coalesce(func.sum(ImportChunk.unchanged), 0),
                func.coalesce(func.sum(ImportChunk.skipped), 0),
                func.coalesce(func.sum(ImportChunk.failed), 0),
            ).where(ImportChunk.session_id == session_id, ImportChunk.status == "done")
        )
    ).one()
    keys = ("rows_done", "created", "updated", "unchanged", "skipped_existing", "failed")
    return {k: int(v) for k, v in zip(keys, row, strict=True)}


def plan_of(imp: ImportSession, defaults: dict[str, Any]) -> Plan:
    opts = imp.commit_options or {}
    assert imp.entity_id is not None
    return Plan(
        workspace_id=imp.workspace_id,
        entity_id=imp.entity_id,
        session_id=imp.id,
        on_existing=opts.get("on_existing", "overwrite"),
        mapped_fields=sorted({v for v in (imp.mapping or {}).values() if v}),
        defaults=defaults,
    )
