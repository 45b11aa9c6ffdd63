from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field, StrictBool

from loadbay.core.schemas import Id64, Schema


class RecordRead(Schema):
    id: int
    key: str = Field(description="The natural key as stored (key fields joined by ` / `).")
    data: dict[str, Any] = Field(
        description="Values by field key; decimals are strings, keeping every digit."
    )
    version: int = Field(description="Increments on every change; send it back as `If-Match`.")
    created_at: datetime
    updated_at: datetime


class RecordPage(Schema):
    items: list[RecordRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class RecordCount(Schema):
    count: int = Field(description="Matching records; a lower bound when `exact` is false.")
    exact: bool = Field(description="False when counting stopped at the cap (shown as e.g. 10,000+).")


class RecordCreate(Schema):
    data: dict[str, Any] = Field(description="Values by field key.")


class RecordUpdate(Schema):
    data: dict[str, Any] = Field(description='Values to change; null or "" clears a value.')


class SortOrder(StrEnum):
    asc = "asc"
    desc = "desc"


class BulkActionType(StrEnum):
    set = "set"
    delete = "delete"


class BulkAction(Schema):
    action: BulkActionType
    ids: list[Id64] | None = Field(None, max_length=100_000, description="Act on these record ids.")
    filter: list[str] | None = Field(
        None, max_length=50, description="Act on every record matching these filters (`field:op:value`)."
    )
    q: str | None = Field(None, max_length=1000, description="…and whose key starts with this.")
    all: StrictBool = Field(
        False, description="Act on every record of the entity (when no ids, filter or q)."
    )
    field: str | None = Field(None, max_length=63, description="Field to set (action `set`).")
    value: Any = Field(None, description="Value to set; null clears it.")


class BulkResult(Schema):
    matched: int = Field(description="Records the selection matched.")
    updated: int = 0
    deleted: int = 0
