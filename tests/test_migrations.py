"""The migrations build exactly the tables the models describe, on SQLite and PostgreSQL."""

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection

from loadbay.models import Base
from loadbay.records.sql import DYNAMIC_INDEX_PREFIXES
from tests.fixtures.database import empty_database

ROOT = Path(__file__).resolve().parents[1]


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


def _alembic(url: str) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.cmd_opts = type("Opts", (), {"x": [f"url={url}"]})()  # type: ignore[assignment]
    return cfg


def test_upgrading_an_existing_install_keeps_members_sessions_and_key_creators(tmp_path: Path) -> None:
    """0004 adds columns to `users`; a copy of that table on SQLite would cascade to every child."""
    with empty_database() as pg_url:
        url = pg_url or f"sqlite+aiosqlite:///{tmp_path / 'upgrade.db'}"
        cfg = _alembic(url)
        command.upgrade(cfg, "0003")
        engine = create_engine(url.replace("+aiosqlite", ""))
        try:
            with engine.begin() as conn:
                for stmt in (
                    "INSERT INTO workspaces (id, name, created_at) VALUES (1, 'First', '2026-01-01'), "
                    "(2, 'Second', '2026-01-01')",
                    "INSERT INTO users (id, email, name, password_hash, is_active, created_at) VALUES "
                    "(1, 'first@example.test', '', 'h', true, '2026-01-01'), "
                    "(2, 'editor@example.test', '', 'h', true, '2026-01-01'), "
                    "(3, 'second@example.test', '', 'h', true, '2026-01-01')",
                    "INSERT INTO memberships (workspace_id, user_id, role, created_at) VALUES "
                    "(1, 1, 'admin', '2026-01-01'), (1, 2, 'editor', '2026-01-01'), "
                    "(2, 3, 'admin', '2026-01-01')",
                    "INSERT INTO auth_sessions (token_hash, user_id, created_at, expires_at) VALUES "
                    "('s', 2, '2026-01-01', '2099-01-01')",
                    "INSERT INTO api_keys (workspace_id, name, role, prefix, token_hash, created_by_id, "
                    "created_at) VALUES (1, 'k', 'editor', 'p', 'h', 2, '2026-01-01')",
                    "INSERT INTO login_failures (email, at) VALUES ('first@example.test', '2026-01-01')",
                ):
                    conn.execute(text(stmt))
            command.upgrade(cfg, "head")
            with engine.connect() as conn:
                assert conn.execute(text("SELECT count(*) FROM memberships")).scalar_one() == 3
                assert conn.execute(text("SELECT count(*) FROM auth_sessions")).scalar_one() == 1
                assert conn.execute(text("SELECT created_by_id FROM api_keys")).scalar_one() == 2
                admins = conn.execute(text("SELECT id FROM users WHERE is_instance_admin ORDER BY id"))
                assert [r[0] for r in admins] == [1]  # the first workspace's admin, as a first start makes
                assert conn.execute(text("SELECT client FROM login_failures")).scalar_one() == ""
            command.downgrade(cfg, "0003")
            command.upgrade(cfg, "head")
            with engine.connect() as conn:
                assert conn.execute(text("SELECT count(*) FROM memberships")).scalar_one() == 3
        finally:
            engine.dispose()
