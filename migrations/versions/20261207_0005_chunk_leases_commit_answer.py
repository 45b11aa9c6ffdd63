"""imports: every chunk has a lease of its own; a commit keeps its first answer

A chunk records when it last showed life (sent, seen waiting in the queue, or taken by a worker)
and how many jobs were sent for it, which names the next one: a chunk lost at any moment is sent
again under a new job id, whatever the queue still holds of the lost job. The commit's first
answer is kept, so a replay with the same Idempotency-Key gets it again.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import loadbay.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("import_chunks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sends", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("heartbeat_at", loadbay.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("import_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "commit_answer",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("import_sessions", schema=None) as batch_op:
        batch_op.drop_column("commit_answer")
    with op.batch_alter_table("import_chunks", schema=None) as batch_op:
        batch_op.drop_column("heartbeat_at")
        batch_op.drop_column("sends")
