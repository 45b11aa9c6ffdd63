"""Field types: how a value of each type is read, checked and stored.

Values arrive either as JSON (API) or as text (files); both go through :func:`coerce`, so a record
means the same thing however it got in. Stored forms are JSON-native and sort correctly as stored:
integers as numbers, decimals as canonical strings (no digit is lost), dates as ``YYYY-MM-DD``,
datetimes as UTC ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``.
"""

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email


class FieldType(StrEnum):
    string = "string"
    text = "text"
    integer = "integer"
    decimal = "decimal"
    boolean = "boolean"
    date = "date"
    datetime = "datetime"
    enum = "enum"
    email = "email"
    url = "url"
    reference = "reference"
    json = "json"


STRING_TYPES = {
    FieldType.string,
    FieldType.text,
    FieldType.email,
    FieldType.url,
    FieldType.enum,
    FieldType.reference,
}
NUMERIC_TYPES = {FieldType.integer, FieldType.decimal}
ORDERED_TYPES = NUMERIC_TYPES | {FieldType.date, FieldType.datetime}
KEY_TYPES = {
    FieldType.string,
    FieldType.integer,
    FieldType.decimal,
    FieldType.email,
    FieldType.url,
    FieldType.enum,
    FieldType.date,
    FieldType.datetime,
    FieldType.reference,
}
INT64 = 2**63 - 1
TRUE_WORDS = {"true", "t", "yes", "y", "1", "on"}
FALSE_WORDS = {"false", "f", "no", "n", "0", "off"}


@dataclass(frozen=True)
class Rules:
    """The checks of one field definition, decoupled from the ORM row."""

    type: FieldType
    required: bool = False
    enum_values: tuple[str, ...] | None = None
    pattern: re.Pattern[str] | None = None
    min_value: Any = None
    max_value: Any = None
    max_length: int | None = None


class ValueError_(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError_("type", "expected a whole number, got a boolean")
    if isinstance(value, int):
        v = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise ValueError_("type", f"expected a whole number, got {value!r}")
        v = int(value)
    elif isinstance(value, str):
        s = value.strip().replace("_", "")
        if not re.fullmatch(r"[+-]?\d+(\.0*)?", s):
            raise ValueError_("type", f"expected a whole number, got {value!r}")
        v = int(s.split(".")[0])
    else:
        raise ValueError_("type", f"expected a whole number, got {type(value).__name__}")
    if abs(v) > INT64:
        raise ValueError_("range", "whole number out of the 64-bit range")
    return v


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError_("type", "expected a number, got a boolean")
    try:
        if isinstance(value, int):
            d = Decimal(value)
        elif isinstance(value, float):
            d = Decimal(repr(value))
        elif isinstance(value, str):
            d = Decimal(value.strip().replace("_", ""))
        elif isinstance(value, Decimal):
            d = value
        else:
            raise ValueError_("type", f"expected a number, got {type(value).__name__}")
    except InvalidOperation:
        raise ValueError_("type", f"expected a number, got {value!r}") from None
    if not d.is_finite():
        raise ValueError_("type", f"expected a finite number, got {value!r}")
    if abs(d.adjusted()) > 100:
        raise ValueError_("range", "number too large or too small")
    return d


def _decimal_str(d: Decimal) -> str:
    s = format(d, "f")
    return "0" if s in ("-0", "+0") else s


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        s = value.strip().lower()
        if s in TRUE_WORDS:
            return True
        if s in FALSE_WORDS:
            return False
    raise ValueError_("type", f"expected true or false, got {value!r}")


def _date(value: Any) -> str:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise ValueError_("type", f"expected a date as YYYY-MM-DD, got {value!r}")


def parse_datetime(value: Any) -> datetime:
    if isinstance(value, str):
        s = value.strip()
        if s.endswith(("z", "Z")):
            s = s[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(s)
        except ValueError:
            pass
        else:
            # A datetime without an offset is taken as UTC.
            return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    raise ValueError_("type", f"expected an ISO 8601 date-time, got {value!r}")


def format_datetime(dt: datetime) -> str:
    return dt.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | dict | list) or value is None:
        raise ValueError_("type", f"expected text, got {type(value).__name__}")
    if isinstance(value, int | float | Decimal):
        return str(value)
    raise ValueError_("type", f"expected text, got {type(value).__name__}")


def _email(value: Any) -> str:
    s = _text(value).strip()
    try:
        return validate_email(s, check_deliverability=False).normalized
    except EmailNotValidError as e:
        raise ValueError_("format", f"not a valid email address: {e}") from None


def _url(value: Any) -> str:
    s = _text(value).strip()
    parts = urlsplit(s)
    if parts.scheme.lower() not in ("http", "https", "ftp", "ftps") or not parts.netloc or " " in s:
        raise ValueError_("format", f"not a valid http(s) URL: {s[:80]!r}")
    return s


def _check_json(value: Any, depth: int = 0) -> None:
    if depth > 64:
        raise ValueError_("too_deep", "JSON nested deeper than 64 levels")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError_("type", "NaN and infinity are not JSON")
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValueError_("type", "JSON object keys must be strings")
            _check_json(v, depth + 1)
    elif isinstance(value, list):
        for v in value:
            _check_json(v, depth + 1)


def _comparable(rules: Rules, stored: Any) -> Any:
    if rules.type == FieldType.decimal:
        return Decimal(stored)
    if rules.type == FieldType.datetime:
        return parse_datetime(stored)
    return stored


def coerce(rules: Rules, value: Any) -> Any:
    """Return the stored form of a non-blank value, or raise :class:`ValueError_`."""
    t = rules.type
    out: Any
    if t == FieldType.integer:
        out = _int(value)
    elif t == FieldType.decimal:
        out = _decimal_str(_decimal(value))
    elif t == FieldType.boolean:
        out = _bool(value)
    elif t == FieldType.date:
        out = _date(value)
    elif t == FieldType.datetime:
        out = format_datetime(parse_datetime(value))
    elif t == FieldType.email:
        out = _email(value)
    elif t == FieldType.url:
        out = _url(value)
    elif t == FieldType.json:
        _check_json(value)
        out = value
    elif t == FieldType.enum:
        s = _text(value).strip()
        allowed = rules.enum_values or ()
        if s not in allowed:
            folded = {a.casefold(): a for a in allowed}
            if s.casefold() not in folded:
                shown = ", ".join(allowed[:10]) + (" …" if len(allowed) > 10 else "")
                raise ValueError_("enum", f"expected one of: {shown}; got {s[:80]!r}")
            s = folded[s.casefold()]
        out = s
    elif t == FieldType.reference:
        out = _text(value).strip()
    else:
        out = _text(value)
    if rules.max_length is not None and isinstance(out, str) and len(out) > rules.max_length:
        raise ValueError_("max_length", f"at most {rules.max_length} characters, got {len(out)}")
    if rules.pattern is not None and isinstance(out, str) and not rules.pattern.fullmatch(out):
        raise ValueError_("pattern", f"does not match the pattern {rules.pattern.pattern!r}")
    if t in ORDERED_TYPES:
        cmp = _comparable(rules, out)
        if rules.min_value is not None and cmp < _comparable(rules, rules.min_value):
            raise ValueError_("min", f"must be at least {rules.min_value}")
        if rules.max_value is not None and cmp > _comparable(rules, rules.max_value):
            raise ValueError_("max", f"must be at most {rules.max_value}")
    return out
