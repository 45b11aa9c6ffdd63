from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from loadbay.records.models import Record
from loadbay.records.query import Cursor, Sort, after

COLUMNS = (Record.id, Record.key_norm, Record.data, Record.version, Record.created_at, Record.updated_at)


async def page(
    session: AsyncSession,
    *,
    entity_id: int,
    where: Sequence[ColumnElement[bool]],
    sort: Sort,
    cursor: Cursor | None,
    limit: int,
) -> list[tuple[Row[Any], bool]]:
    """Up to ``limit + 1`` rows after the cursor, each with whether it is in the nulls phase."""
    base = [Record.entity_id == entity_id, *where]
    out: list[tuple[Row[Any], bool]] = []
    order_id = Record.id.desc() if sort.descending else Record.id.asc()
    if sort.expr is None or not (cursor and cursor.in_nulls):
        stmt = select(*COLUMNS, (sort.expr if sort.expr is not None else Record.id).label("_s"))
        conds = [*base, *after(sort, cursor, phase_nulls=False)]
        if sort.expr is not None:
            if sort.nullable:
                conds.append(sort.expr.isnot(None))
            stmt = stmt.order_by(sort.expr.desc() if sort.descending else sort.expr.asc(), order_id)
        else:
            stmt = stmt.order_by(order_id)
        rows = (await session.execute(stmt.where(*conds).limit(limit + 1))).all()
        out.extend((r, False) for r in rows)
    if sort.expr is not None and sort.nullable and len(out) <= limit:
        # Records without a value come last, in id order.
        stmt = (
            select(*COLUMNS, sort.expr.label("_s"))
            .where(*base, sort.expr.is_(None), *after(sort, cursor, phase_nulls=True))
            .order_by(order_id)
            .limit(limit + 1 - len(out))
        )
        out.extend((r, True) for r in (await session.execute(stmt)).all())
    return out


async def count(
    session: AsyncSession, *, entity_id: int, where: Sequence[ColumnElement[bool]], limit: int | None = None
) -> int:
    """Count matching records; with a limit, count at most that many (stops scanning early)."""
    if limit is None:
        stmt = select(func.count()).select_from(Record).where(Record.entity_id == entity_id, *where)
    else:
        sub = select(Record.id).where(Record.entity_id == entity_id, *where).limit(limit).subquery()
        stmt = select(func.count()).select_from(sub)
    return int((await session.execute(stmt)).scalar_one())


async def by_id(session: AsyncSession, *, entity_id: int, record_id: int) -> Record | None:
    stmt = select(Record).where(Record.entity_id == entity_id, Record.id == record_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def id_by_key(session: AsyncSession, *, entity_id: int, key_norm: str) -> int | None:
    stmt = select(Record.id).where(Record.entity_id == entity_id, Record.key_norm == key_norm)
    return (await session.execute(stmt)).scalar_one_or_none()


async def existing_keys(session: AsyncSession, *, entity_id: int, key_norms: Sequence[str]) -> set[str]:
    if not key_norms:
        return set()
    stmt = select(Record.key_norm).where(Record.entity_id == entity_id, Record.key_norm.in_(list(key_norms)))
    return set((await session.execute(stmt)).scalars())
