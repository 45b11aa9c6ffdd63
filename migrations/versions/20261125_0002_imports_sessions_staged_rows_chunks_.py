"""imports: sessions, staged rows, chunks, mappings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 13:51:43.801264
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import loadbay.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staged_rows",
        sa.Column("session_id", sa.BigInteger(), nullable=False),
        sa.Column("row_no", sa.BigInteger(), nullable=False),
        sa.Column(
            "key_norm", sa.String().with_variant(sa.String(collation="C"), "postgresql"), nullable=True
        ),
        sa.Column("bucket", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "errors",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("session_id", "row_no", name=op.f("pk_staged_rows")),
    )
    with op.batch_alter_table("staged_rows", schema=None) as batch_op:
        batch_op.create_index("ix_staged_rows_session_id_bucket", ["session_id", "bucket"], unique=False)
        batch_op.create_index(
            "ix_staged_rows_session_id_row_no_problems",
            ["session_id", "row_no"],
            unique=False,
            postgresql_where=sa.text("status <> 'valid'"),
            sqlite_where=sa.text("status <> 'valid'"),
        )

    op.create_table(
        "import_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("headers_signature", sa.String(length=64), nullable=False),
        sa.Column(
            "mapping",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", loadbay.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["entities.id"],
            name=op.f("fk_import_mappings_entity_id_entities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_import_mappings_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_mappings")),
        sa.UniqueConstraint(
            "entity_id", "headers_signature", name=op.f("uq_import_mappings_entity_id_headers_signature")
        ),
    )
    with op.batch_alter_table("import_mappings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_import_mappings_workspace_id"), ["workspace_id"], unique=False)

    op.create_table(
        "import_sessions",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("file_id", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_size", sa.BigInteger(), nullable=True),
        sa.Column("file_sha256", sa.String(length=64), nullable=True),
        sa.Column("format", sa.String(length=16), nullable=True),
        sa.Column(
            "read_options",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "profile",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "mapping",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("duplicate_policy", sa.String(length=16), nullable=False),
        sa.Column(
            "commit_options",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("commit_fingerprint", sa.String(length=64), nullable=True),
        sa.Column(
            "counts",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("rows_version", sa.Integer(), nullable=False),
        sa.Column("created_at", loadbay.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", loadbay.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("staged_at", loadbay.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("commit_started_at", loadbay.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", loadbay.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", loadbay.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["entities.id"],
            name=op.f("fk_import_sessions_entity_id_entities"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_import_sessions_user_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_import_sessions_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_sessions")),
    )
    with op.batch_alter_table("import_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_import_sessions_status", ["status"], unique=False)
        batch_op.create_index("ix_import_sessions_workspace_id_id", ["workspace_id", "id"], unique=False)

    op.create_table(
        "import_chunks",
        sa.Column("session_id", sa.BigInteger(), nullable=False),
        sa.Column("chunk_no", sa.Integer(), nullable=False),
        sa.Column("bucket_lo", sa.Integer(), nullable=False),
        sa.Column("bucket_hi", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("started_at", loadbay.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", loadbay.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["import_sessions.id"],
            name=op.f("fk_import_chunks_session_id_import_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "chunk_no", name=op.f("pk_import_chunks")),
    )


def downgrade() -> None:
    op.drop_table("import_chunks")
    with op.batch_alter_table("import_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_import_sessions_workspace_id_id")
        batch_op.drop_index("ix_import_sessions_status")

    op.drop_table("import_sessions")
    with op.batch_alter_table("import_mappings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_mappings_workspace_id"))

    op.drop_table("import_mappings")
    with op.batch_alter_table("staged_rows", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_staged_rows_session_id_row_no_problems",
            postgresql_where=sa.text("status <> 'valid'"),
            sqlite_where=sa.text("status <> 'valid'"),
        )
        batch_op.drop_index("ix_staged_rows_session_id_bucket")

    op.drop_table("staged_rows")
