import asyncio
import functools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from loadbay.auth import service as auth_service
from loadbay.config import Settings
from loadbay.core.actor import Role
from loadbay.db import make_engine, make_sessionmaker
from loadbay.main import create_app
from tests.fixtures.database import TestDatabase, create_database
from tests.fixtures.factories import Workspace, make_workspace

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestDatabase]:
    yield from create_database(tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
def settings(database: TestDatabase) -> Settings:
    return database.settings


@pytest.fixture(scope="session")
async def engine(database: TestDatabase) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(database.settings)
    yield eng
    await eng.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """Each test runs inside one transaction that is rolled back at the end."""
    async with engine.connect() as conn:
        trans = await conn.begin()
        yield conn
        if trans.is_active:
            await trans.rollback()


@pytest.fixture
def sessionmaker(connection: AsyncConnection) -> Any:
    # Commits inside the app only release savepoints of the outer, rolled-back transaction.
    return make_sessionmaker(connection, join_transaction_mode="create_savepoint")


@pytest.fixture
async def session(sessionmaker: Any) -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as s:
        yield s
        await s.commit()


@pytest.fixture
def app(settings: Settings, sessionmaker: Any) -> Any:
    return create_app(settings, sessionmaker=sessionmaker)


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def ws(session: AsyncSession) -> Workspace:
    w = await make_workspace(session, "Acme")
    await session.commit()
    return w


@pytest.fixture
async def other_ws(session: AsyncSession) -> Workspace:
    w = await make_workspace(session, "Other")
    await session.commit()
    return w


def bearer(w: Workspace, role: Role = Role.admin) -> dict[str, str]:
    return {"Authorization": f"Bearer {w.keys[role]}"}


@pytest.fixture
def admin(ws: Workspace) -> dict[str, str]:
    return bearer(ws, Role.admin)


@pytest.fixture
def is_postgres(database: TestDatabase) -> bool:
    return database.kind == "postgres"


@pytest.fixture(autouse=True, scope="session")
def _hash_each_password_once() -> Iterator[None]:
    """Argon2 is slow on purpose; tests make hundreds of users with the same few passwords.

    Hashes stay real argon2 (and verify for real at login); only repeats of a password reuse its hash.
    """
    original = auth_service.hash_password
    auth_service.hash_password = functools.cache(original)  # type: ignore[assignment]
    yield
    auth_service.hash_password = original  # type: ignore[assignment]


@pytest.fixture(autouse=True)
async def _no_idle_in_transaction(database: TestDatabase, engine: AsyncEngine) -> AsyncIterator[None]:
    """After each test, no other connection may be left idle inside a transaction (PostgreSQL)."""
    yield
    if database.kind != "postgres":
        return
    await asyncio.sleep(0)
    async with engine.connect() as conn:
        n = (
            await conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state = 'idle in transaction' AND pid <> pg_backend_pid()"
                )
            )
        ).scalar_one()
    # The test's own rolled-back connection is closed by now.
    assert n == 0, f"{n} connection(s) left idle in transaction"
