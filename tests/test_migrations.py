"""The migrations build exactly the tables the models describe, on SQLite and PostgreSQL."""

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from loadbay.models import Base
from loadbay.records.sql import DYNAMIC_INDEX_PREFIXES


def _include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return not (type_ == "index" and name is not None and name.startswith(DYNAMIC_INDEX_PREFIXES))


def _diff(conn: Connection) -> list[Any]:
    ctx = MigrationContext.configure(
        conn, opts={"include_object": _include, "compare_type": True, "compare_server_default": False}
    )
    return [
        d
        for d in compare_metadata(ctx, Base.metadata)
        if not (d[0] == "remove_table" and d[1].name == "alembic_version")
    ]


async def test_models_and_migrations_agree(engine):
    async with engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == [], "models and migrations differ; add a migration:\n" + "\n".join(map(str, diff))
