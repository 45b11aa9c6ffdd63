"""Turn parsed rows into staged rows: apply the mapping, coerce and check every cell, key each row.

Work is column by column: one pass per mapped column with the field's checks bound once, so the
per-cell cost is a few operations for values already in their stored form; anything else goes
through :func:`loadbay.schema.types.coerce`, which gives the exact rule and message.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from loadbay.imports.models import RowStatus
from loadbay.records import keys
from loadbay.schema.models import Entity, FieldDef
from loadbay.schema.service import rules_of
from loadbay.schema.types import FALSE_WORDS, INT64, TRUE_WORDS, FieldType, Rules, ValueError_, coerce

_DECIMAL_COMMA = re.compile(r"^\s*[+-]?\d+,\d+\s*$")
_PLAIN_DECIMAL = re.compile(r"^-?(?:0|[1-9]\d*)(?:\.\d+)?$")
_PLAIN_INT = re.compile(r"^\s*[+-]?\d{1,19}\s*$")
_BLANK = object()
_FAILED = object()

# With a decimal mark chosen (the `decimal` read option), the other mark and spaces (also no-break
# and narrow no-break) may group thousands: "1.234,56" and "1 234,56" with ",", "1,234.56" with ".".
_SPACES = " \u00a0\u202f"
_GROUPED = {
    ",": re.compile(rf"^[+-]?\d{{1,3}}([.{_SPACES}])\d{{3}}(?:\1\d{{3}})*(?:,\d+)?$"),
    ".": re.compile(rf"^[+-]?\d{{1,3}}([,{_SPACES}])\d{{3}}(?:\1\d{{3}})*(?:\.\d+)?$"),
}
_SEPARATORS = {",": re.compile(rf"[.{_SPACES}]"), ".": re.compile(rf"[,{_SPACES}]")}
# Detected decimal commas (no option): the form no other reading fits, dots grouping thousands.
_DOTS_AND_COMMA = re.compile(r"^[+-]?\d{1,3}(?:\.\d{3})+,\d+$")


def number_text(v: str, *, decimal_comma: bool, decimal: str | None) -> str:
    """A number as the file writes it, in the plain form coerce() reads: "1.234,56" → "1234.56".

    ``decimal`` is the mark the user chose ("." or ","), which makes the other one a thousands
    separator; without it, ``decimal_comma`` (detected) reads "3,50" and "1.234,56" only. Text
    that fits none of these is returned as it is, for coerce() to accept or refuse: "3,50" with
    the decimal mark "." is an error, never 350.
    """
    s = v.strip()
    if decimal in _GROUPED:
        if _GROUPED[decimal].match(s):
            s = _SEPARATORS[decimal].sub("", s)
        elif not (decimal == "," and _DECIMAL_COMMA.match(s)):
            return v
        return s.replace(",", ".") if decimal == "," else s
    if decimal_comma and (_DECIMAL_COMMA.match(s) or _DOTS_AND_COMMA.match(s)):
        return s.replace(".", "").replace(",", ".")
    return v


Row = tuple[int, list[Any]]


@dataclass
class Target:
    """A mapped column: where it is in the file and the field it fills."""

    index: int
    column: str
    field: FieldDef
    rules: Rules


@dataclass
class StagedBatch:
    row_no: list[int] = field(default_factory=list)
    key_norm: list[str | None] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    data: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, list[str]] | None] = field(default_factory=list)
    # The cells as read, by position: kept with the rows that are not valid, for the error report.
    cells: list[list[Any] | None] = field(default_factory=list)
    # Reference values seen, normalised as the target entity's keys: {field key: {norm: rows}}.
    references: dict[str, dict[str, list[int]]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.row_no)


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and (not v or v.isspace()))


def _fast(rules: Rules, decimal_comma: bool, decimal: str | None) -> Callable[[Any], Any]:
    """A converter for the common case; returns _FAILED to send the cell through coerce()."""
    t = rules.type
    if t in (FieldType.string, FieldType.text) and rules.pattern is None:
        limit = rules.max_length

        def text(v: Any) -> Any:
            if type(v) is str and (limit is None or len(v) <= limit) and "\x00" not in v:
                return v
            return _FAILED

        return text
    if t == FieldType.integer and rules.min_value is None and rules.max_value is None:

        def integer(v: Any) -> Any:
            if type(v) is int:
                return v if -INT64 <= v <= INT64 else _FAILED
            if type(v) is str and _PLAIN_INT.match(v):
                n = int(v)
                return n if -INT64 <= n <= INT64 else _FAILED
            return _FAILED

        return integer
    if t == FieldType.decimal and rules.min_value is None and rules.max_value is None:

        def decimal_(v: Any) -> Any:
            if type(v) is str:
                s = number_text(v, decimal_comma=decimal_comma, decimal=decimal).strip()
                if _PLAIN_DECIMAL.match(s) and len(s) < 60 and s != "-0":
                    return s
            return _FAILED

        return decimal_
    if t == FieldType.boolean:

        def boolean(v: Any) -> Any:
            if type(v) is bool:
                return v
            if type(v) is str:
                s = v.strip().lower()
                if s in TRUE_WORDS:
                    return True
                if s in FALSE_WORDS:
                    return False
            return _FAILED

        return boolean
    if t == FieldType.enum and rules.enum_values:
        allowed = frozenset(rules.enum_values)

        def enum(v: Any) -> Any:
            if type(v) is str:
                s = v.strip()
                if s in allowed:
                    return s
            return _FAILED

        return enum
    if t == FieldType.reference and rules.pattern is None and rules.max_length is None:

        def reference(v: Any) -> Any:
            return v.strip() if type(v) is str else _FAILED

        return reference
    return lambda v: _FAILED


class Validator:
    """Checks rows of one file against one entity's fields, through one mapping."""

    def __init__(
        self,
        entity: Entity,
        fields: list[FieldDef],
        columns: list[str],
        mapping: dict[str, str | None],
        *,
        ref_entities: dict[int, Entity],
        decimal_comma: bool = False,
        decimal: str | None = None,
    ) -> None:
        by_key = {f.key: f for f in fields}
        self.entity = entity
        self.targets: list[Target] = []
        for i, col in enumerate(columns):
            fkey = mapping.get(col)
            if fkey and fkey in by_key:
                f = by_key[fkey]
                self.targets.append(Target(i, col, f, rules_of(f)))
        self.key_fields = list(entity.key_fields)
        self.ref_entities = ref_entities
        self.decimal_comma = decimal_comma
        self.decimal = decimal
        self._fast = [_fast(t.rules, decimal_comma, decimal) for t in self.targets]

    def _cell(self, t: Target, v: Any) -> Any:
        if isinstance(v, str) and "\x00" in v:
            raise ValueError_("nul_character", "holds a NUL character, which cannot be stored")
        if isinstance(v, str) and (
            t.rules.type == FieldType.decimal or (t.rules.type == FieldType.integer and self.decimal)
        ):
            v = number_text(v, decimal_comma=self.decimal_comma, decimal=self.decimal)
        return coerce(t.rules, v)

    def run(self, rows: list[Row]) -> StagedBatch:
        out = StagedBatch()
        n = len(rows)
        out.row_no = [r[0] for r in rows]
        out.cells = [r[1] for r in rows]
        datas: list[dict[str, Any]] = [{} for _ in range(n)]
        errors: list[dict[str, list[str]] | None] = [None] * n
        for t, fast in zip(self.targets, self._fast, strict=True):
            key = t.field.key
            idx = t.index
            required = t.field.required and t.field.default is None
            for i, (_, cells) in enumerate(rows):
                v = cells[idx]
                value = fast(v)
                if value is _FAILED:
                    if _blank(v):
                        if required:
                            errs = errors[i] or {}
                            errs[key] = ["required", f"{t.field.label} is required"]
                            errors[i] = errs
                        continue
                    try:
                        value = self._cell(t, v)
                    except ValueError_ as e:
                        errs = errors[i] or {}
                        errs[key] = [e.code, e.message]
                        errors[i] = errs
                        # Kept as read, so the grid shows what to fix (NUL shown as a symbol).
                        datas[i][key] = (v if isinstance(v, str) else str(v)).replace("\x00", "\u2400")
                        continue
                elif value == "" or (type(value) is str and value.isspace()):
                    # A blank text cell clears nothing and fills nothing.
                    if required:
                        errs = errors[i] or {}
                        errs[key] = ["required", f"{t.field.label} is required"]
                        errors[i] = errs
                    continue
                datas[i][key] = value
        self._finish(out, datas, errors)
        return out

    def _finish(
        self, out: StagedBatch, datas: list[dict[str, Any]], errors: list[dict[str, list[str]] | None]
    ) -> None:
        key_fields = self.key_fields
        normalize = keys.normalizer(self.entity)
        refs = [
            (t.field.key, keys.normalizer(self.ref_entities[t.field.reference_entity_id]))
            for t in self.targets
            if t.field.type == FieldType.reference and t.field.reference_entity_id in self.ref_entities
        ]
        valid, invalid = RowStatus.valid.value, RowStatus.invalid.value
        for i, data in enumerate(datas):
            errs = errors[i]
            parts = [data.get(k) for k in key_fields]
            key_norm: str | None = None
            if all(p is not None for p in parts) and not (errs and any(k in errs for k in key_fields)):
                key_norm = normalize(parts)
            elif not errs or not any(k in errs for k in key_fields):
                errs = errs or {}
                missing = next(k for k, p in zip(key_fields, parts, strict=True) if p is None)
                errs[missing] = ["required", f"{missing} is part of the key and cannot be blank"]
            out.key_norm.append(key_norm)
            out.status.append(invalid if errs else valid)
            out.data.append(data)
            out.errors.append(errs)
            for fkey, ref_norm in refs:
                v = data.get(fkey)
                if v is not None and not (errs and fkey in errs):
                    out.references.setdefault(fkey, {}).setdefault(ref_norm([v]), []).append(i)


def mark_missing_references(
    batch: StagedBatch, field_key: str, missing: set[str], target: Entity, label: str
) -> None:
    """Turn rows whose reference points at nothing into invalid rows that say so."""
    for norm, positions in batch.references.get(field_key, {}).items():
        if norm not in missing:
            continue
        for i in positions:
            errs = batch.errors[i] or {}
            value = batch.data[i].get(field_key)
            errs[field_key] = ["reference_not_found", f"{label}: no {target.key} record with key {value!r}"]
            batch.errors[i] = errs
            batch.status[i] = RowStatus.invalid
