"""Natural keys: how key values are normalised and compared (imports use the same rules)."""

from collections.abc import Sequence
from typing import Any

from loadbay.schema.models import Entity

KEY_SEPARATOR = "\x1f"  # unit separator: cannot be typed into a cell by accident
DISPLAY_SEPARATOR = " / "


def _part(value: Any, trim: bool, fold: bool) -> str:
    s = value if isinstance(value, str) else str(value)
    if trim:
        s = s.strip()
    if fold:
        s = s.lower()
    return s


def normalize(entity: Entity, values: Sequence[Any]) -> str:
    return KEY_SEPARATOR.join(_part(v, entity.key_trim, entity.key_case_insensitive) for v in values)


def normalize_query(entity: Entity, q: str) -> str:
    return _part(q, entity.key_trim, entity.key_case_insensitive)


def display(entity: Entity, data: dict[str, Any]) -> str:
    return DISPLAY_SEPARATOR.join(str(data.get(k, "")) for k in entity.key_fields)
