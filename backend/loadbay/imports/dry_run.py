"""The dry run: what a commit would do, counted with the commit's own merge rule, written nowhere.

PostgreSQL counts with the commit's SQL expressions (``records.upsert.pg_new_data``) in one pass;
SQLite compares in Python with the same rule (``records.upsert.merged``).
"""

from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from loadbay.core.actor import Actor
from loadbay.errors import Conflict
from loadbay.imports.models import ImportSession, ImportStatus, RowStatus, StagedRow
from loadbay.imports.schemas import CommitOptions
from loadbay.imports.service import get_session
from loadbay.imports.stage import status_counts
from loadbay.records.models import Record
from loadbay.records.upsert import ENTITY_OF_SESSION, merged, pg_new_data


async def dry_run(
    session: AsyncSession, *, actor: Actor, import_id: int, options: CommitOptions, sample: int = 10
) -> dict[str, Any]:
    imp = await get_session(session, actor=actor, import_id=import_id)
    if imp.status not in (ImportStatus.staged,):
        raise Conflict(
            f"Import {import_id} is {imp.status}; a dry run needs staged rows.", code="wrong_status"
        )
    assert imp.entity_id is not None
    mapped = sorted({v for v in (imp.mapping or {}).values() if v})
    by_status = await status_counts(session, imp.id)
    if session.get_bind().dialect.name == "postgresql":
        created, updated, unchanged, skipped_existing, samples = await _pg_dry_run(
            session, imp, options, mapped, sample
        )
    else:
        created, updated, unchanged, skipped_existing, samples = await _py_dry_run(
            session, imp, options, mapped, sample
        )
    return {
        "created": created,
        "updated": updated,
        "unchanged": unchanged,
        "skipped": skipped_existing
        + by_status.get(RowStatus.duplicate, 0)
        + by_status.get(RowStatus.discarded, 0),
        "invalid": by_status.get(RowStatus.invalid, 0),
        "rejected": by_status.get(RowStatus.rejected, 0),
        "sample_updates": samples,
    }


def _sample(row_no: int, key_norm: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    changed_keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    return {
        "row": row_no,
        "key": key_norm.replace("\x1f", " / "),
        "before": {k: old.get(k) for k in changed_keys},
        "after": {k: new.get(k) for k in changed_keys},
    }


async def _pg_dry_run(
    session: AsyncSession, imp: ImportSession, options: CommitOptions, mapped: list[str], sample: int
) -> tuple[int, int, int, int, list[dict[str, Any]]]:
    """The commit's own expressions, counted in one pass instead of written."""
    new = pg_new_data(options.on_existing)
    source = (
        "FROM staged_rows st LEFT JOIN records r "
        f"ON r.entity_id = {ENTITY_OF_SESSION} AND r.key_norm = st.key_norm "
        "WHERE st.session_id = :session_id AND st.status = 'valid'"
    )
    params = {"session_id": imp.id, "mapped": mapped}
    await session.execute(text("SET LOCAL enable_seqscan = off"))
    row = (
        await session.execute(
            text(
                "SELECT count(*) FILTER (WHERE r.id IS NULL), "
                f"count(*) FILTER (WHERE r.id IS NOT NULL AND r.data IS DISTINCT FROM {new}), "
                f"count(*) FILTER (WHERE r.id IS NOT NULL AND r.data IS NOT DISTINCT FROM {new}) {source}"
            ),
            params,
        )
    ).one()
    created, updated, unchanged = int(row[0]), int(row[1]), int(row[2])
    if options.on_existing == "skip":
        return created, 0, 0, updated + unchanged, []
    rows = (
        await session.execute(
            text(
                f"SELECT st.row_no, st.key_norm, r.data, {new} {source} AND r.id IS NOT NULL "
                f"AND r.data IS DISTINCT FROM {new} ORDER BY st.row_no LIMIT :n"
            ),
            {**params, "n": sample},
        )
    ).all()
    return created, updated, unchanged, 0, [_sample(n, k, old, nd) for n, k, old, nd in rows]


async def _py_dry_run(
    session: AsyncSession, imp: ImportSession, options: CommitOptions, mapped: list[str], sample: int
) -> tuple[int, int, int, int, list[dict[str, Any]]]:
    created = updated = unchanged = skipped_existing = 0
    samples: list[dict[str, Any]] = []
    after = -1
    while True:
        part = (
            await session.execute(
                select(StagedRow.row_no, StagedRow.key_norm, StagedRow.data)
                .where(
                    StagedRow.session_id == imp.id,
                    StagedRow.status == RowStatus.valid,
                    StagedRow.row_no > after,
                )
                .order_by(StagedRow.row_no)
                .limit(2000)
            )
        ).all()
        if not part:
            break
        after = part[-1].row_no
        existing = {
            r.key_norm: r.data
            for r in (
                await session.execute(
                    select(Record.key_norm, Record.data).where(
                        Record.entity_id == imp.entity_id, Record.key_norm.in_([p.key_norm for p in part])
                    )
                )
            ).all()
        }
        for p in part:
            old = existing.get(p.key_norm)
            if old is None:
                created += 1
                continue
            if options.on_existing == "skip":
                skipped_existing += 1
                continue
            new = merged(options.on_existing, mapped, old, p.data)
            if new == old:
                unchanged += 1
            else:
                updated += 1
                if len(samples) < sample:
                    samples.append(_sample(p.row_no, p.key_norm, old, new))
    return created, updated, unchanged, skipped_existing, samples
