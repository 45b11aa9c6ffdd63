from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from loadbay.db import Base, BigId, JsonDoc, UTCDateTime, utcnow


class Event(Base):
    """One change: written in the same transaction as the change, never updated, read by sequence.

    Record ids go in arrays (one event per request or per commit chunk, never a row per record):
    ``payload`` holds ``created``, ``updated`` and ``deleted`` ids, the fields that changed, and
    before/after values for single-record edits and the value of bulk sets.
    """

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_workspace_id_id", "workspace_id", "id"),
        Index("ix_events_entity_id_id", "entity_id", "id"),
        Index("ix_events_import_id", "import_id"),
    )

    # The sequence: readers (audit, webhooks, search) go through the log in this order.
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    # Who: a user, an API key (with the user it answers to), or nobody (the command line, a job).
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    api_key_id: Mapped[int | None] = mapped_column(BigInteger)
    request_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(48))
    # What it is about: ("record", id), ("import", id), ("field", id), ("entity", id), ...
    subject_type: Mapped[str] = mapped_column(String(24))
    subject_id: Mapped[int | None] = mapped_column(BigInteger)
    # Plain ids, no foreign keys: the log outlives what it describes.
    entity_id: Mapped[int | None] = mapped_column(BigInteger)
    import_id: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
