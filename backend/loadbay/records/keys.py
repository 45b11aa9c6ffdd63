"""Natural keys: how key values are normalised and compared (imports use the same rules)."""

from collections.abc import Callable, Sequence
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


def normalizer(entity: Entity) -> Callable[[Sequence[Any]], str]:
    """:func:`normalize` for one entity, with its rules read once (for loops over many rows)."""
    trim, fold = entity.key_trim, entity.key_case_insensitive

    def one(values: Sequence[Any]) -> str:
        return KEY_SEPARATOR.join(_part(v, trim, fold) for v in values)

    if len(entity.key_fields) != 1:
        return one

    def single(values: Sequence[Any]) -> str:
        v = values[0]
        s = v if isinstance(v, str) else str(v)
        if trim:
            s = s.strip()
        return s.lower() if fold else s

    return single


def normalize_query(entity: Entity, q: str) -> str:
    return _part(q, entity.key_trim, entity.key_case_insensitive)


def display(entity: Entity, data: dict[str, Any]) -> str:
    return DISPLAY_SEPARATOR.join(str(data.get(k, "")) for k in entity.key_fields)
