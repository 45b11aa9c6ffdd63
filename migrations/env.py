"""Alembic environment: the URL comes from Loadbay's settings (or ``-x url=…``)."""

import asyncio
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from loadbay.config import get_settings
from loadbay.db import make_engine
from loadbay.models import Base
from loadbay.records.sql import DYNAMIC_INDEX_PREFIXES

config = context.config
target_metadata = Base.metadata


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    # Per-field expression indexes are made at run time by the schema service, not by migrations.
    return not (type_ == "index" and name is not None and name.startswith(DYNAMIC_INDEX_PREFIXES))


def _url() -> str:
    return context.get_x_argument(as_dictionary=True).get("url") or get_settings().resolved_database_url


def do_run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        await connectable.run_sync(do_run_migrations)
        return
    engine = make_engine(get_settings(), _url())
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=_url(), target_metadata=target_metadata, literal_binds=True, include_object=include_object
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(run_async())
