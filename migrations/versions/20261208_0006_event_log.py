"""events: the append-only log of changes, written in the transaction of each change

One row per request or per commit chunk (record ids in arrays), the source of the audit trail and
of record history, and later of webhooks and search, read in order by id.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import loadbay.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("at", loadbay.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("api_key_id", sa.BigInteger(), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("subject_type", sa.String(length=24), nullable=False),
        sa.Column("subject_id", sa.BigInteger(), nullable=True),
        sa.Column("entity_id", sa.BigInteger(), nullable=True),
        sa.Column("import_id", sa.BigInteger(), nullable=True),
        sa.Column("payload", _json(), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_events_workspace_id_id", "events", ["workspace_id", "id"])
    op.create_index("ix_events_entity_id_id", "events", ["entity_id", "id"])
    op.create_index("ix_events_import_id", "events", ["import_id"])


def downgrade() -> None:
    op.drop_index("ix_events_import_id", table_name="events")
    op.drop_index("ix_events_entity_id_id", table_name="events")
    op.drop_index("ix_events_workspace_id_id", table_name="events")
    op.drop_table("events")
