from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, StrictBool, StrictInt, StringConstraints

from loadbay.core.schemas import Schema
from loadbay.schema.types import FieldType

Ident = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$"),
    Field(description="Lower-case identifier: a letter, then letters, digits or `_` (at most 63)."),
]


class FieldBase(Schema):
    label: str | None = Field(None, max_length=200, description="Shown in the UI; defaults from the key.")
    description: str = Field("", max_length=2000)
    required: StrictBool = Field(False, description="A record must have a value.")
    unique: StrictBool = Field(False, description="No two records of the entity share a value.")
    indexed: StrictBool = Field(False, description="Index the field, for fast sorting and filtering.")
    default: Any = Field(None, description="Value given to new records that lack one.")
    enum_values: list[str] | None = Field(None, description="Allowed values (type `enum`).", max_length=10000)
    pattern: str | None = Field(
        None, max_length=500, description="Regular expression the whole value matches."
    )
    min_value: Any = Field(None, description="Smallest allowed value (numbers, dates).")
    max_value: Any = Field(None, description="Largest allowed value (numbers, dates).")
    max_length: StrictInt | None = Field(
        None, ge=1, le=1_000_000, description="Most characters (text types)."
    )
    aliases: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=100, description="Other column names that map to this field."
    )
    reference_entity: str | None = Field(None, description="Entity key a `reference` field points to.")


class FieldCreate(FieldBase):
    key: Ident
    type: FieldType = Field(description="Value type.")


class FieldUpdate(Schema):
    label: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=2000)
    type: FieldType | None = None
    required: StrictBool | None = None
    unique: StrictBool | None = None
    indexed: StrictBool | None = None
    default: Any = None
    enum_values: list[str] | None = Field(None, max_length=10000)
    pattern: str | None = Field(None, max_length=500)
    min_value: Any = None
    max_value: Any = None
    max_length: StrictInt | None = Field(None, ge=1, le=1_000_000)
    aliases: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] | None = Field(
        None, max_length=100
    )
    reference_entity: str | None = None


class FieldRead(Schema):
    id: int
    key: str
    label: str
    description: str
    type: FieldType
    required: bool
    unique: bool
    indexed: bool
    default: Any
    enum_values: list[str] | None
    pattern: str | None
    min_value: Any
    max_value: Any
    max_length: int | None
    aliases: list[str]
    reference_entity: str | None = Field(description="Entity key of a `reference` field's target.")
    position: int


class EntityCreate(Schema):
    key: Ident
    label: str | None = Field(None, max_length=200, description="Shown in the UI; defaults from the key.")
    description: str = Field("", max_length=2000)
    key_fields: list[Ident] = Field(
        min_length=1, max_length=8, description="Fields forming the natural key; re-imports upsert on it."
    )
    key_trim: StrictBool = Field(True, description="Trim spaces around key values before comparing.")
    key_case_insensitive: StrictBool = Field(True, description="Compare key values ignoring letter case.")
    fields: list[FieldCreate] = Field(min_length=1, max_length=500, description="Field definitions.")


class EntityUpdate(Schema):
    label: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=2000)
    key_fields: list[Ident] | None = Field(None, min_length=1, max_length=8)
    key_trim: StrictBool | None = None
    key_case_insensitive: StrictBool | None = None


class EntityRead(Schema):
    id: int
    key: str
    label: str
    description: str
    key_fields: list[str]
    key_trim: bool
    key_case_insensitive: bool
    fields: list[FieldRead]
    record_count: int = Field(description="Records of this entity.")
    created_at: datetime
    updated_at: datetime


class SchemaDocument(Schema):
    """A whole schema, as in `schema.yaml`; applying it twice changes nothing the second time."""

    entities: list[EntityCreate] = Field(max_length=500)


class ChangeAction(StrEnum):
    created = "created"
    updated = "updated"
    unchanged = "unchanged"


class SchemaChange(Schema):
    entity: str
    field: str | None = Field(None, description="Null for a change to the entity itself.")
    action: ChangeAction
    changed: list[str] = Field(default_factory=list, description="Attributes that changed.")


class SchemaApplyResult(Schema):
    dry_run: bool
    created: int
    updated: int
    unchanged: int
    changes: list[SchemaChange]
