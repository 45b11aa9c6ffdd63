"""accounts: invitations, instance administrators, sign-in throttling by client address

Members join a workspace by accepting an invitation (a one-time link of which only the hash is
kept) instead of an admin setting their password. Users gain `is_instance_admin` (who may create
workspaces); on an existing installation the admins of the first workspace get it, as the first
start would have made them. Failed sign-ins record the client address, so throttling counts per
address and per address+email. An API key now goes with its creator's account (CASCADE, not SET
NULL): a key without a creator is the operator's, and a deleted user's key must not become one.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import loadbay.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", loadbay.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", loadbay.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", loadbay.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("accepted_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", loadbay.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["accepted_by_id"],
            ["users.id"],
            name=op.f("fk_invitations_accepted_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["users.id"],
            name=op.f("fk_invitations_invited_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_invitations_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitations_token_hash")),
    )
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invitations_email"), ["email"], unique=False)
        batch_op.create_index(batch_op.f("ix_invitations_workspace_id"), ["workspace_id"], unique=False)

    # Plain ADD COLUMN, not a batch copy: on SQLite, recreating `users` would drop the old table
    # with foreign keys on, cascading to memberships and sessions and nulling API keys' creators.
    op.add_column(
        "users", sa.Column("is_instance_admin", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.execute(
        "UPDATE users SET is_instance_admin = true WHERE id IN (SELECT user_id FROM memberships "
        "WHERE role = 'admin' AND workspace_id = (SELECT min(id) FROM workspaces))"
    )

    op.add_column(
        "login_failures", sa.Column("client", sa.String(length=64), server_default="", nullable=False)
    )
    op.create_index(op.f("ix_login_failures_client"), "login_failures", ["client"], unique=False)

    # Nothing refers to api_keys, so copying it (SQLite's way of changing a foreign key) is safe.
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_constraint("fk_api_keys_created_by_id_users", type_="foreignkey")
        batch_op.create_foreign_key(
            batch_op.f("fk_api_keys_created_by_id_users"),
            "users",
            ["created_by_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_constraint("fk_api_keys_created_by_id_users", type_="foreignkey")
        batch_op.create_foreign_key(
            batch_op.f("fk_api_keys_created_by_id_users"),
            "users",
            ["created_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.drop_index(op.f("ix_login_failures_client"), table_name="login_failures")
    # Native DROP COLUMN (SQLite 3.35+): a batch copy of `users` would cascade, see upgrade().
    op.drop_column("login_failures", "client")
    op.drop_column("users", "is_instance_admin")
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitations_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_invitations_email"))
    op.drop_table("invitations")
