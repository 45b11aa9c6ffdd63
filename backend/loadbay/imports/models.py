"""Import sessions, their staged rows, the chunk ledger of a commit, and remembered mappings."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from loadbay.db import Base, BigId, JsonDoc, KeyText, NullableJsonDoc, UTCDateTime, utcnow


class ImportStatus(StrEnum):
    created = "created"  # waiting for its file
    uploaded = "uploaded"  # file stored and profiled
    mapped = "mapped"  # mapping saved
    staging = "staging"
    staged = "staged"
    committing = "committing"
    completed = "completed"
    completed_with_errors = "completed_with_errors"
    failed = "failed"
    cancelled = "cancelled"


FINISHED = {
    ImportStatus.completed,
    ImportStatus.completed_with_errors,
    ImportStatus.failed,
    ImportStatus.cancelled,
}


class RowStatus(StrEnum):
    valid = "valid"
    invalid = "invalid"  # a cell or the row broke a rule; `errors` says which
    duplicate = "duplicate"  # its key appears again in the file and the policy dropped this one
    discarded = "discarded"  # the user discarded it during review
    rejected = "rejected"  # could not be parsed at all (too many fields, bad encoding …)
    failed = "failed"  # valid, but the database refused it during commit


class ChunkStatus(StrEnum):
    pending = "pending"
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"


class ImportSession(Base):
    __tablename__ = "import_sessions"
    __table_args__ = (
        Index("ix_import_sessions_workspace_id_id", "workspace_id", "id"),
        Index("ix_import_sessions_status", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    api_key_id: Mapped[int | None] = mapped_column()
    entity_id: Mapped[int | None] = mapped_column(ForeignKey("entities.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(24), default=ImportStatus.created)
    # The file: stored under an id; the original name is kept, cleaned, for display only. The id is
    # also what job ids are made of: unique across databases that share one Redis.
    file_id: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(255), default="")
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    format: Mapped[str | None] = mapped_column(String(16))
    read_options: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    profile: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc, nullable=True)
    mapping: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc, nullable=True)
    duplicate_policy: Mapped[str] = mapped_column(String(16), default="last_wins")
    commit_options: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc, nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    commit_fingerprint: Mapped[str | None] = mapped_column(String(64))
    # The first answer to the commit: what a replay with the same Idempotency-Key gets again.
    commit_answer: Mapped[dict[str, Any] | None] = mapped_column(NullableJsonDoc, nullable=True)
    counts: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    # Bumped by every change to staged rows; a commit records the one it read.
    rows_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    staged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    commit_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The lease of the work that is not a chunk's: staging (refreshed by every batch) and the planning
    # of a commit. Chunks have leases of their own.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StagedRow(Base):
    """One parsed, mapped, validated row; the review grid's source and the commit's input.

    No foreign key to the session: the bulk load would check it for every row. Rows go with their
    session (the service deletes them).
    """

    __tablename__ = "staged_rows"
    __table_args__ = (
        Index(
            "ix_staged_rows_session_id_row_no_problems",
            "session_id",
            "row_no",
            postgresql_where=text("status <> 'valid'"),
            sqlite_where=text("status <> 'valid'"),
        ),
    )

    session_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    row_no: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    key_norm: Mapped[str | None] = mapped_column(KeyText)
    status: Mapped[str] = mapped_column(String(12))
    # Stored values by field key; a cell that failed its rule keeps the text as read.
    data: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    # {field key or "_row": [code, message]}; SQL NULL (never a JSON null) when valid.
    errors: Mapped[dict[str, Any] | None] = mapped_column(NullableJsonDoc, nullable=True)
    # The cells as read, for rows that were not valid when staged: the error report needs no second
    # pass over the file for them.
    source: Mapped[list[Any] | None] = mapped_column(NullableJsonDoc, nullable=True)


class ImportChunk(Base):
    """The ledger of a commit: one row per chunk, written in the same transaction as its upsert."""

    __tablename__ = "import_chunks"

    session_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("import_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    chunk_no: Mapped[int] = mapped_column(primary_key=True)
    # The chunk's rows: the valid staged rows numbered row_lo ≤ row_no < row_hi. Duplicates are set
    # aside while staging, so no two valid rows share a key and chunks can commit side by side.
    row_lo: Mapped[int] = mapped_column(BigInteger)
    row_hi: Mapped[int] = mapped_column(BigInteger)  # exclusive
    rows: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(12), default=ChunkStatus.pending)
    # Runs that took the chunk (raised in its own transaction, so a run that died before it is not
    # counted); and jobs sent for it, which names the next job: `chunk:{file_id}:{chunk_no}:{sends}`.
    attempts: Mapped[int] = mapped_column(default=0)
    sends: Mapped[int] = mapped_column(default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The chunk's lease: its last sign of life (sent, seen waiting in the queue, taken by a worker).
    # While a worker applies it, its row is locked, which on PostgreSQL is the sign of life itself.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SavedMapping(Base):
    """A mapping remembered for the next file with the same headers (and, per column, any file)."""

    __tablename__ = "import_mappings"
    __table_args__ = (UniqueConstraint("entity_id", "headers_signature"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"))
    headers_signature: Mapped[str] = mapped_column(String(64))
    mapping: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
