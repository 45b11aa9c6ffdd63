"""imports: chunks cover row ranges; staged rows lose the key-hash bucket, keep their source cells

Duplicates are set aside while staging, so the valid rows of a session have distinct keys and any
split of them commits side by side. A range of row numbers reads by the primary key; the bucket
index it replaces cost a third of the staging bulk load. Rows that were not valid when staged keep
the cells as read, so the error report does not read the whole file again.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 20:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("staged_rows", schema=None) as batch_op:
        batch_op.drop_index("ix_staged_rows_session_id_bucket")
        batch_op.drop_column("bucket")
        batch_op.add_column(
            sa.Column(
                "source",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
    # A plan in bucket ranges cannot be read as row ranges: a commit caught unfinished by the upgrade
    # plans all its chunks again when the sweeper resumes it (rows it had applied compare unchanged).
    op.execute(
        "DELETE FROM import_chunks WHERE session_id IN "
        "(SELECT session_id FROM import_chunks WHERE status IN ('pending', 'running'))"
    )
    with op.batch_alter_table("import_chunks", schema=None) as batch_op:
        batch_op.alter_column("bucket_lo", new_column_name="row_lo", type_=sa.BigInteger())
        batch_op.alter_column("bucket_hi", new_column_name="row_hi", type_=sa.BigInteger())


def downgrade() -> None:
    with op.batch_alter_table("import_chunks", schema=None) as batch_op:
        batch_op.alter_column("row_lo", new_column_name="bucket_lo", type_=sa.Integer())
        batch_op.alter_column("row_hi", new_column_name="bucket_hi", type_=sa.Integer())
    with op.batch_alter_table("staged_rows", schema=None) as batch_op:
        batch_op.drop_column("source")
        batch_op.add_column(sa.Column("bucket", sa.SmallInteger(), nullable=False, server_default="0"))
        batch_op.create_index("ix_staged_rows_session_id_bucket", ["session_id", "bucket"], unique=False)
