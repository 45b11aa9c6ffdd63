from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from loadbay.db import Base, BigId, JsonDoc, KeyText, UTCDateTime, utcnow


class Record(Base):
    __tablename__ = "records"
    __table_args__ = (
        UniqueConstraint("entity_id", "key_norm"),
        Index("ix_records_entity_id_id", "entity_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"))
    key_norm: Mapped[str] = mapped_column(KeyText)
    data: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    import_id: Mapped[int | None] = mapped_column(BigInteger)
