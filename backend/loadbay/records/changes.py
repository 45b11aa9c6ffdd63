"""What a write did to records, as the statement that made it said."""

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ChangeSet:
    """Ids created, updated (with the fields written) and deleted by one write.

    ``values`` keeps before/after per field where a write knows them cheaply: a single-record edit
    (before and after) and a bulk set (the value set). An import chunk names the fields it wrote.
    """

    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def ids(self) -> list[int]:
        return [*self.created, *self.updated, *self.deleted]

    def __bool__(self) -> bool:
        return bool(self.created or self.updated or self.deleted)

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "created": sorted(self.created),
            "updated": sorted(self.updated),
            "deleted": sorted(self.deleted),
        }
        if self.fields:
            out["fields"] = sorted(self.fields)
        if self.values:
            out["values"] = self.values
        return out
