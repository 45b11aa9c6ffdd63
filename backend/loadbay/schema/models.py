from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from loadbay.db import Base, JsonDoc, UTCDateTime, utcnow


class Entity(Base):
    __tablename__ = "entities"
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(63))
    label: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    key_fields: Mapped[list[str]] = mapped_column(JsonDoc)
    key_trim: Mapped[bool] = mapped_column(default=True)
    key_case_insensitive: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class FieldDef(Base):
    __tablename__ = "fields"
    __table_args__ = (UniqueConstraint("entity_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(63))
    label: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[str] = mapped_column(String(16))
    required: Mapped[bool] = mapped_column(default=False)
    unique: Mapped[bool] = mapped_column(default=False)
    indexed: Mapped[bool] = mapped_column(default=False)
    default: Mapped[Any] = mapped_column(JsonDoc, nullable=True)
    enum_values: Mapped[list[str] | None] = mapped_column(JsonDoc, nullable=True)
    pattern: Mapped[str | None] = mapped_column(String(500))
    min_value: Mapped[Any] = mapped_column(JsonDoc, nullable=True)
    max_value: Mapped[Any] = mapped_column(JsonDoc, nullable=True)
    max_length: Mapped[int | None] = mapped_column()
    aliases: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    reference_entity_id: Mapped[int | None] = mapped_column(ForeignKey("entities.id", ondelete="RESTRICT"))
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
