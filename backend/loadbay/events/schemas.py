from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class ActorKind(StrEnum):
    user = "user"
    api_key = "api_key"
    system = "system"


class EventActor(BaseModel):
    kind: ActorKind = Field(
        description="`user`, `api_key` or `system` (the command line, a job of nobody's)."
    )
    user_id: int | None = None
    api_key_id: int | None = None
    name: str | None = Field(None, description="The user's email or the key's name, when they still exist.")


class EventRead(BaseModel):
    id: int = Field(description="The event's place in the log (ascending).")
    at: datetime
    action: str = Field(examples=["record.updated", "import.committed", "field.deleted"])
    actor: EventActor
    request_id: str | None = Field(None, description="The `X-Request-Id` of the request that made it.")
    subject_type: str = Field(examples=["record", "import", "entity", "field"])
    subject_id: int | None = None
    entity: str | None = Field(None, description="The entity's key, when the event is about one.")
    entity_id: int | None = None
    import_id: int | None = None
    counts: dict[str, int] = Field(description="Records created, updated and deleted.")
    payload: dict[str, Any] = Field(
        description="`created`, `updated`, `deleted` (ids; the first 100 of each here, `counts` has "
        "the totals), `fields` written, `values` (before/after of single-record edits, the value of "
        "bulk sets), and what else the action keeps."
    )


class EventPage(BaseModel):
    items: list[EventRead]
    next_cursor: int | None = Field(None, description="Pass as `cursor` for the next (older) page.")


class RecordChange(StrEnum):
    created = "created"
    updated = "updated"
    deleted = "deleted"


class HistoryEntry(BaseModel):
    event_id: int
    at: datetime
    action: str
    change: RecordChange
    actor: EventActor
    request_id: str | None = None
    import_id: int | None = Field(None, description="The import that made the change, if one did.")
    bulk: bool = Field(False, description="Part of a change to many records at once.")
    fields: list[str] = Field(default_factory=list, description="The fields written.")
    values: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Per field: `before` and `after`, where they were kept."
    )


class HistoryPage(BaseModel):
    items: list[HistoryEntry]
    next_cursor: int | None = None
