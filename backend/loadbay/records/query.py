"""Turning list parameters (sort, filters, key search, cursor) into SQL, the same on both databases."""

import base64
import binascii
import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import ColumnElement, and_, false, literal, literal_column, or_, tuple_
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnClause

from loadbay.errors import AppError, FieldError, Invalid
from loadbay.records import keys
from loadbay.records import sql as rsql
from loadbay.records.models import Record
from loadbay.schema.models import Entity, FieldDef
from loadbay.schema.types import FieldType, Rules, ValueError_, coerce

FILTER_OPS = ("eq", "ne", "contains", "gt", "gte", "lt", "lte", "empty", "not_empty")
BUILTIN_SORTS = ("id", "key", "created_at", "updated_at")
KEY_PREFIX_END = "\U0010ffff"


class BadCursor(AppError):
    status_code = 400
    code = "invalid_cursor"


@dataclass(frozen=True)
class Sort:
    name: str
    expr: ColumnElement[Any] | InstrumentedAttribute[Any] | None  # None: by id alone
    nullable: bool
    descending: bool
    # The cursor value tags (see _enc_value) this sort's values can take, so that a cursor holding
    # another type (a number for a text sort) is refused rather than compared in SQL.
    tags: frozenset[str] = frozenset()


_TEXT = frozenset({"s"})
# What rsql.value_expr gives for a field (a field's type cannot change while it has records):
# PostgreSQL reads numbers as numeric and everything else as text; SQLite's json_extract gives
# what the JSON holds (booleans as 0 or 1), and its driver cannot bind a Decimal.
_PG_NUMBER = frozenset({"i", "f", "d"})
_SQLITE_NUMBER = frozenset({"i", "f"})
_SQLITE_BOOLEAN = frozenset({"i", "b"})


def _field_map(fields: list[FieldDef]) -> dict[str, FieldDef]:
    return {f.key: f for f in fields}


def sort_of(dialect: str, fields: list[FieldDef], name: str, descending: bool) -> Sort:
    if name == "id":
        return Sort(name, None, False, descending, frozenset({"i"}))
    if name == "key":
        return Sort(name, Record.key_norm, False, descending, _TEXT)
    if name == "created_at":
        return Sort(name, Record.created_at, False, descending, frozenset({"t"}))
    if name == "updated_at":
        return Sort(name, Record.updated_at, False, descending, frozenset({"t"}))
    f = _field_map(fields).get(name)
    if f is None or f.type == FieldType.json:
        allowed = ", ".join([*BUILTIN_SORTS, *(x.key for x in fields if x.type != FieldType.json)])
        raise Invalid(
            f"Cannot sort by {name!r}; sort by one of: {allowed}.",
            code="invalid_sort",
            fields=[FieldError(field="sort", code="unknown_field", message=f"no sortable field {name!r}")],
        )
    ftype = FieldType(f.type)
    expr: ColumnClause[Any] = literal_column(rsql.value_expr(dialect, f.key, ftype))
    number = ftype in (FieldType.integer, FieldType.decimal)
    if dialect == "postgresql":
        tags = _PG_NUMBER if number else _TEXT
    else:
        tags = _SQLITE_NUMBER if number else _SQLITE_BOOLEAN if ftype == FieldType.boolean else _TEXT
    return Sort(name, expr, True, descending, tags)


def _filter_value(dialect: str, f: FieldDef, raw: str, where: str) -> Any:
    t = FieldType(f.type)
    try:
        v = coerce(Rules(type=t, enum_values=tuple(f.enum_values) if f.enum_values else None), raw)
    except ValueError_ as e:
        raise Invalid(
            f"Filter {where}: {e.message}.",
            code="invalid_filter",
            fields=[FieldError(field="filter", code=e.code, message=e.message)],
        ) from None
    if t == FieldType.decimal:
        return Decimal(v) if dialect == "postgresql" else float(v)
    if t == FieldType.boolean and dialect == "postgresql":
        return "true" if v else "false"
    if t == FieldType.boolean:
        return 1 if v else 0
    return v


def _escape_like(s: str) -> str:
    return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def parse_filters(dialect: str, fields: list[FieldDef], raw_filters: list[str]) -> list[ColumnElement[bool]]:
    fmap = _field_map(fields)
    out: list[ColumnElement[bool]] = []
    for raw in raw_filters:
        parts = raw.split(":", 2)
        if len(parts) < 2 or parts[1] not in FILTER_OPS:
            raise Invalid(
                f"Filter {raw[:100]!r} is not `field:op:value` with op one of {', '.join(FILTER_OPS)}.",
                code="invalid_filter",
                fields=[FieldError(field="filter", code="syntax", message="expected field:op:value")],
            )
        key, op = parts[0], parts[1]
        value = parts[2] if len(parts) == 3 else ""
        f = fmap.get(key)
        if f is None:
            raise Invalid(
                f"Filter on unknown field {key!r}.",
                code="invalid_filter",
                fields=[FieldError(field="filter", code="unknown_field", message=f"no field {key!r}")],
            )
        txt: ColumnClause[Any] = literal_column(rsql.text_expr(dialect, f.key))
        val: ColumnClause[Any] = literal_column(rsql.value_expr(dialect, f.key, FieldType(f.type)))
        if op == "empty":
            out.append(or_(txt.is_(None), txt == ""))
        elif op == "not_empty":
            out.append(and_(txt.isnot(None), txt != ""))
        elif op == "contains":
            if value == "":
                continue
            pattern = f"%{_escape_like(value)}%"
            out.append(
                txt.ilike(pattern, escape="\\") if dialect == "postgresql" else txt.like(pattern, escape="\\")
            )
        else:
            if f.type == FieldType.json:
                raise Invalid(
                    f"Filter {raw[:100]!r}: json fields only support empty, not_empty, contains.",
                    code="invalid_filter",
                    fields=[FieldError(field="filter", code="unsupported", message="json field")],
                )
            v = _filter_value(dialect, f, value, repr(raw[:100]))
            target = txt if f.type == FieldType.boolean else val
            if op == "eq":
                out.append(target == v)
            elif op == "ne":
                out.append(or_(target != v, txt.is_(None)))
            elif op == "gt":
                out.append(target > v)
            elif op == "gte":
                out.append(target >= v)
            elif op == "lt":
                out.append(target < v)
            else:
                out.append(target <= v)
    return out


def key_prefix(entity: Entity, q: str) -> list[ColumnElement[bool]]:
    p = keys.normalize_query(entity, q)
    if not p:
        return []
    return [Record.key_norm >= p, Record.key_norm < p + KEY_PREFIX_END]


# --- cursors -------------------------------------------------------------------------------------


def _enc_value(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, bool):
        return {"b": v}
    if isinstance(v, Decimal):
        return {"d": str(v)}
    if isinstance(v, datetime):
        return {"t": v.isoformat()}
    if isinstance(v, int):
        return {"i": v}
    if isinstance(v, float):
        return {"f": v}
    return {"s": str(v)}


_INT64 = (-(2**63), 2**63 - 1)
_DAMAGED = "The cursor is damaged; start from the first page."


def _dec_value(v: Any, tags: frozenset[str]) -> Any:
    """The cursor's sort value, checked against the types this sort's values can have."""
    if v is None:
        return None
    if not isinstance(v, dict) or len(v) != 1:
        raise BadCursor(_DAMAGED)
    ((tag, x),) = v.items()
    if tag not in tags:
        raise BadCursor(
            "The cursor holds a value of another type than this sort's; start from the first page."
        )
    if tag == "s" and isinstance(x, str) and "\x00" not in x:
        return x
    if tag == "b" and isinstance(x, bool):
        return x
    if tag == "i" and type(x) is int and _INT64[0] <= x <= _INT64[1]:
        return x
    if tag == "f" and type(x) in (int, float) and math.isfinite(x):
        return float(x)
    try:
        if tag == "d" and isinstance(x, str) and len(x) <= 100 and (d := Decimal(x)).is_finite():
            return d
        if tag == "t" and isinstance(x, str) and len(x) <= 40:
            return datetime.fromisoformat(x)
    except (ValueError, ArithmeticError):
        pass
    raise BadCursor(_DAMAGED)


def encode_cursor(sort: Sort, value: Any, record_id: int, in_nulls: bool) -> str:
    payload = {"s": sort.name, "d": sort.descending, "v": _enc_value(value), "i": record_id, "n": in_nulls}
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


@dataclass(frozen=True)
class Cursor:
    value: Any
    id: int
    in_nulls: bool


def decode_cursor(sort: Sort, raw: str) -> Cursor:
    try:
        payload = orjson.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if not isinstance(payload, dict):
            raise ValueError
        ok = payload.get("s") == sort.name and payload.get("d") == sort.descending
        rid = payload["i"]
        if type(rid) is not int or not 0 <= rid <= _INT64[1]:
            raise ValueError
    except (ValueError, KeyError, binascii.Error, orjson.JSONDecodeError):
        raise BadCursor(_DAMAGED) from None
    if not ok:
        raise BadCursor("The cursor belongs to another sort order; start from the first page.")
    return Cursor(_dec_value(payload.get("v"), sort.tags), rid, payload.get("n") is True)


def after(sort: Sort, cur: Cursor | None, phase_nulls: bool) -> list[ColumnElement[bool]]:
    """Keyset condition: rows strictly after the cursor in this phase (values first, then nulls)."""
    if cur is None:
        return []
    if phase_nulls and not cur.in_nulls:
        return []
    if sort.expr is None or phase_nulls:
        return [Record.id < cur.id] if sort.descending else [Record.id > cur.id]
    if cur.in_nulls:
        return [false()]
    left = tuple_(sort.expr, Record.id)
    right = tuple_(literal(cur.value, sort.expr.type), literal(cur.id, Record.id.type))
    return [left < right] if sort.descending else [left > right]
