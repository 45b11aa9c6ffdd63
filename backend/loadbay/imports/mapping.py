"""Suggest how the columns of a file map onto the fields of an entity.

Every column lands in one bucket:

* ``mapped``: its name is a field's key, label or alias once both are normalised (case, accents,
  separators), or an earlier import of the entity mapped it so;
* ``suggested``: its name resembles a field's (spelling, synonyms, extra or missing words) and its
  values fit that field's type, together scoring at least :data:`SUGGEST_THRESHOLD`;
* ``new``: nothing fits, so a custom field is proposed with the type the values suggest;
* ``ignored``: an earlier import of the entity left it out.

A field takes at most one column: remembered and exact matches first, then the likeliest suggestions.
Everything here is pure (no database, no I/O) so the same engine serves the API, the CLI and tests.
"""

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from rapidfuzz import fuzz

from loadbay.imports.infer import InferredType, infer_type
from loadbay.schema.types import FieldType

Bucket = Literal["mapped", "suggested", "new", "ignored"]

SUGGEST_THRESHOLD = 0.6
DISAGREEMENT_MARGIN = 0.25  # how much better another entity must fit before a declared one is doubted
MAX_DISTINCT = 200  # distinct sample values kept per column to compare with enum choices
KEY_MAX = 63  # field keys: ^[a-z][a-z0-9_]{0,62}$
LABEL_MAX = 200


@dataclass(frozen=True)
class FieldInfo:
    """What matching needs of a field definition; callers convert their FieldDef rows."""

    key: str
    label: str
    type: FieldType
    aliases: tuple[str, ...] = ()
    required: bool = False
    enum_values: tuple[str, ...] | None = None
    is_key: bool = False  # one of the entity's key fields (weighs in :func:`best_entity`)


@dataclass(frozen=True)
class ColumnInfo:
    """A column of the file: its header and sample values; ``inferred`` is computed when not given."""

    name: str
    samples: Sequence[Any] = ()
    inferred: InferredType | None = None


@dataclass(frozen=True)
class ColumnMapping:
    column: str
    bucket: Bucket
    field: str | None  # the field key (mapped, suggested), else None
    confidence: float
    reason: str
    proposed_field: dict[str, Any] | None = None  # for `new`: key, label, type, optional enum_values


# --- names ---------------------------------------------------------------------------------------

_CAMEL_RE = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])")
_WORD_RE = re.compile(r"[^\W_]+")


def normalize_name(name: str) -> str:
    """Lower-case words without accents, separated by single spaces.

    Any run of characters other than letters and digits separates words (spaces, ``_``, ``-``, ``.``,
    brackets …), and so do camelCase and letter-digit boundaries, so ``Base clock (GHz)``,
    ``base_clock_ghz`` and ``BaseClockGHz`` all read ``base clock ghz``. ``#`` reads as "number".
    """
    s = _CAMEL_RE.sub(" ", name.replace("#", " number "))
    s = "".join(ch for ch in unicodedata.normalize("NFKD", s) if not unicodedata.combining(ch))
    return " ".join(_WORD_RE.findall(s.casefold()))


# Words (and phrases) that mean the same in column headers, each mapped to one canonical word.
# Multi-word phrases are replaced before single words, so "item number" is a SKU, not an id.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "sku": (
        "sku",
        "article number",
        "article no",
        "art no",
        "art nr",
        "item number",
        "item no",
        "item nr",
        "part number",
        "part no",
        "part nr",
        "product number",
        "product code",
        "product no",
        "stock keeping unit",
    ),
    "quantity": ("qty", "quantity", "quantities", "quant", "pcs", "pieces"),
    "description": ("desc", "descr", "description", "descriptions"),
    "category": ("cat", "categ", "category", "categories"),
    "price": ("price", "prices", "cost", "costs", "amount"),
    "email": ("email", "e mail", "mail", "email address", "e mail address", "mail address"),
    "url": ("url", "uri", "link", "href", "web address"),
    "id": ("id", "code", "key", "identifier", "ident"),
    "number": ("number", "no", "nr", "num"),
    "name": ("name", "names", "title"),
    "manufacturer": ("manufacturer", "brand", "make", "maker", "mfr", "mfg"),
}
_PHRASES: dict[tuple[str, ...], str] = {
    tuple(variant.split()): canonical for canonical, variants in _SYNONYMS.items() for variant in variants
}
_LONGEST_PHRASE = max(map(len, _PHRASES))

# Words that qualify a header without changing what it holds: "Item Name" is the name, "Unit Price"
# the price, "Is Active" the active flag. The entity's own name qualifies too ("CPU Name" in cpus).
_QUALIFIERS = frozenset(
    {"item", "product", "products", "prod", "article", "unit", "the", "of", "per", "is", "has"}
)
# Canonical words that name a kind of value. An extra one changes what a header holds: "Supplier Email"
# is an email, not the supplier, so it must not pass for the `supplier` field.
_KIND_WORDS = frozenset(
    {
        "name",
        "email",
        "url",
        "date",
        "time",
        "price",
        "id",
        "number",
        "sku",
        "quantity",
        "description",
        "category",
        "type",
        "status",
        "phone",
        "address",
        "count",
        "year",
    }
)
# Words that say which record a value identifies. A header that puts an owner before one ("Country
# Code", "Seller Name") is about another record, so it is no lookalike of a field named "code" or
# "name"; words after it ("Name EN") or that describe it ("Full Name") only pick a variant.
_IDENTITY_WORDS = frozenset({"id", "name", "number", "sku", "email", "url", "phone", "address"})
_VARIANT_WORDS = frozenset(
    {"full", "display", "short", "long", "official", "legal", "common", "primary", "main", "internal"}
)
# A reference holds the key of another record, so "Category Code" or "Supplier ID" are the reference.
_REFERENCE_QUALIFIERS = frozenset({"id", "number", "slug", "ref", "reference", "sku"})


def _canonical(words: Sequence[str]) -> tuple[str, ...]:
    out: list[str] = []
    i = 0
    while i < len(words):
        for size in range(min(_LONGEST_PHRASE, len(words) - i), 0, -1):
            canonical = _PHRASES.get(tuple(words[i : i + size]))
            if canonical is not None:
                out.append(canonical)
                i += size
                break
        else:
            out.append(words[i])
            i += 1
    return tuple(out)


def _entity_words(entity: str | None) -> frozenset[str]:
    words = normalize_name(entity or "").split()
    # Entity keys are mostly plurals; headers name one record ("products" -> "Product SKU").
    return frozenset(words) | {w[:-1] for w in words if len(w) > 3 and w.endswith("s")}


@dataclass(frozen=True)
class _Name:
    """A name in the forms matching compares."""

    text: str  # as written
    norm: str  # normalize_name(text)
    canon: tuple[str, ...]  # words with synonyms replaced

    @classmethod
    def of(cls, text: str) -> "_Name":
        norm = normalize_name(text)
        return cls(text, norm, _canonical(norm.split()))

    def core(self, qualifiers: frozenset[str]) -> tuple[str, ...]:
        """The words that say what the name holds; all of them if it is nothing but qualifiers."""
        return _core(self.canon, qualifiers)


@lru_cache(maxsize=4096)  # every column meets every field name of every entity
def _core(canon: tuple[str, ...], qualifiers: frozenset[str]) -> tuple[str, ...]:
    return tuple(w for w in canon if w not in qualifiers) or canon


@dataclass(frozen=True)
class _FieldName:
    field: FieldInfo
    kind: Literal["key", "label", "alias"]
    name: _Name

    def describe(self) -> str:
        if self.kind == "key":
            return f"the field key '{self.field.key}'"
        if self.kind == "label":
            return f"the field label '{self.field.label}'"
        return f"the alias '{self.name.text}' of '{self.field.label}'"


_KIND_RANK = {"label": 0, "key": 0, "alias": 1}  # an exact key or label beats another field's alias


def _field_names(f: FieldInfo) -> list[_FieldName]:
    # The label comes first: when key and label match alike, reasons quote what people see.
    names = [_FieldName(f, "label", _Name.of(f.label)), _FieldName(f, "key", _Name.of(f.key))]
    names += [_FieldName(f, "alias", _Name.of(a)) for a in f.aliases]
    return names


def _abbreviates(short: tuple[str, ...], full: tuple[str, ...]) -> bool:
    """Each word starts the matching full word ("manuf" for "manufacturer"), one shortened to ≥ 3 letters.

    Shorter cuts than three letters ("de" for "description") match too many words to mean anything.
    """
    if len(short) != len(full) or not all(y.startswith(x) for x, y in zip(short, full, strict=True)):
        return False
    return any(len(x) >= 3 and x != y for x, y in zip(short, full, strict=True))


def _owners(words: tuple[str, ...], shared: set[str]) -> set[str]:
    """Words before the first shared one that could name whose identifier it is."""
    first = min(i for i, w in enumerate(words) if w in shared)
    return set(words[:first]) - _VARIANT_WORDS


def _name_similarity(col: _Name, target: _FieldName, qualifiers: frozenset[str]) -> tuple[float, str]:
    """How alike a header and one name of a field are (0 to 1), and why, in words."""
    name = target.name
    what = target.describe()
    if not col.canon or not name.canon:
        return 0.0, ""
    if col.canon == name.canon:
        return 0.9, f"'{col.text}' means the same as {what}"
    a, b = col.core(qualifiers), name.core(qualifiers)
    if a == b:
        return 0.85, f"'{col.text}' reads as {what}"
    best = (0.0, "")
    if _abbreviates(a, b):
        best = (0.8, f"'{col.text}' abbreviates {what}")
    shared = set(a) & set(b)
    if shared and (set(a) <= set(b) or set(b) <= set(a)):
        longer = max(len(" ".join(a)), len(" ".join(b)))
        share = len(" ".join(w for w in a if w in shared)) / longer
        extra = set(a) - set(b)
        allowed = _REFERENCE_QUALIFIERS if target.field.type == FieldType.reference else frozenset()
        if extra:
            # The header adds words ("Price EUR", "Stock Level"): likely the same thing, qualified.
            score = 0.65 + 0.25 * share
            if extra & _KIND_WORDS - allowed:
                score *= 0.7
        else:
            # The header leaves words out ("Boost" for "Boost clock GHz"): a weaker hint.
            score = 0.6 + 0.25 * share
        if shared <= _IDENTITY_WORDS and (_owners(a, shared) | _owners(b, shared)) - allowed:
            score *= 0.6
        # Word overlap explains such names better than spelling similarity, which would ignore
        # the penalties above ("Supplier Name" is 76% similar to "Supplier").
        return max(best, (score, f"name overlaps {what}"), key=lambda r: r[0])
    ratio = fuzz.token_sort_ratio(" ".join(col.canon), " ".join(name.canon)) / 100
    # Close spellings (typos, plurals) count nearly fully; middling similarity of short names is
    # mostly chance ("id" and "paid"), so it is discounted.
    score = min(0.88, ratio) if ratio >= 0.85 else ratio * 0.85
    if score > best[0]:
        best = (score, f"name is {round(ratio * 100)}% similar to {what}")
    return best


# --- values --------------------------------------------------------------------------------------

_TYPE_WORDS = {
    FieldType.string: "short text",
    FieldType.text: "long text",
    FieldType.integer: "whole numbers",
    FieldType.decimal: "numbers",
    FieldType.boolean: "yes/no values",
    FieldType.date: "dates",
    FieldType.datetime: "date-times",
    FieldType.enum: "choices",
    FieldType.email: "email addresses",
    FieldType.url: "links",
    FieldType.reference: "references",
    FieldType.json: "JSON values",
}

# How well values of an inferred type (first) suit a field type (second), 0 to 1. Pairs not listed
# score _MISFIT: their values would mostly be rejected. Identical types score 1.
_MISFIT = 0.1
_COMPAT: dict[tuple[FieldType, FieldType], float] = {
    (FieldType.integer, FieldType.decimal): 0.95,
    (FieldType.date, FieldType.datetime): 0.9,
    (FieldType.datetime, FieldType.date): 0.3,
    (FieldType.decimal, FieldType.integer): 0.2,
    # String fields take anything written, but numbers or dates are a weaker sign of one, and long
    # text may not fit one.
    (FieldType.text, FieldType.string): 0.5,
    (FieldType.email, FieldType.string): 0.85,
    (FieldType.url, FieldType.string): 0.85,
    (FieldType.integer, FieldType.string): 0.6,
    (FieldType.decimal, FieldType.string): 0.5,
    (FieldType.date, FieldType.string): 0.5,
    (FieldType.datetime, FieldType.string): 0.5,
    (FieldType.boolean, FieldType.string): 0.4,
    (FieldType.string, FieldType.text): 0.9,
    (FieldType.email, FieldType.text): 0.6,
    (FieldType.url, FieldType.text): 0.6,
    (FieldType.integer, FieldType.text): 0.4,
    (FieldType.decimal, FieldType.text): 0.4,
    (FieldType.date, FieldType.text): 0.4,
    (FieldType.datetime, FieldType.text): 0.4,
    # References hold short codes of other records: slugs, numbers, sometimes emails.
    (FieldType.string, FieldType.reference): 0.85,
    (FieldType.integer, FieldType.reference): 0.7,
    (FieldType.email, FieldType.reference): 0.6,
    (FieldType.url, FieldType.reference): 0.4,
    (FieldType.decimal, FieldType.reference): 0.3,
    (FieldType.text, FieldType.reference): 0.2,
    # Email and URL fields check the format, so plain text may hold some that fail.
    (FieldType.string, FieldType.email): 0.3,
    (FieldType.string, FieldType.url): 0.3,
}
_JSON_FIT = 0.6  # a json field stores any value
_UNKNOWN_FIT = 0.7  # no sample values: neither for nor against


@dataclass(frozen=True)
class _Column:
    index: int
    name: _Name
    inferred: InferredType
    distinct: frozenset[str]  # trimmed, case-folded sample values (at most MAX_DISTINCT)


def _prepare(index: int, column: ColumnInfo) -> _Column:
    inferred = column.inferred if column.inferred is not None else infer_type(column.samples)
    distinct: set[str] = set()
    for v in column.samples:
        if v is None or isinstance(v, dict | list):
            continue
        s = str(v).strip().casefold()
        if s:
            distinct.add(s)
            if len(distinct) >= MAX_DISTINCT:
                break
    return _Column(index, _Name.of(column.name), inferred, frozenset(distinct))


def _value_fit(col: _Column, f: FieldInfo) -> tuple[float, str]:
    """How well the column's sample values suit the field (0 to 1), and why, in words."""
    inferred = col.inferred
    if inferred.non_blank == 0 or not col.distinct:
        return _UNKNOWN_FIT, "no sample values to compare"
    if f.type == FieldType.enum:
        choices = {c.casefold() for c in f.enum_values or ()}
        hits = len(col.distinct & choices)
        n = len(col.distinct)
        return hits / n, f"{hits} of {n} distinct values are choices of '{f.label}'"
    if f.type == FieldType.boolean and inferred.type == FieldType.integer and col.distinct <= {"0", "1"}:
        return 0.9, "values are 0 and 1"
    if f.type == FieldType.json:
        fit = 1.0 if inferred.type == FieldType.json else _JSON_FIT
    elif inferred.type == f.type:
        fit = 1.0
    else:
        fit = _COMPAT.get((inferred.type, f.type), _MISFIT)
    if fit >= 0.8:
        return fit, f"values look like {_TYPE_WORDS[f.type]}"
    return fit, f"values look like {_TYPE_WORDS[inferred.type]}, not {_TYPE_WORDS[f.type]}"


def _score(col: _Column, names: list[_FieldName], qualifiers: frozenset[str]) -> tuple[float, str]:
    """Confidence that the column holds this field (all names of one field), with the reason."""
    name_score, name_reason = max(
        (_name_similarity(col.name, n, qualifiers) for n in names), key=lambda r: r[0]
    )
    f = names[0].field
    fit, fit_reason = _value_fit(col, f)
    # Values can only lower a name's score: unfitting values make a lookalike name a coincidence.
    score = name_score * (0.6 + 0.4 * fit)
    reason = f"{name_reason}; {fit_reason}" if name_reason else fit_reason
    if f.type == FieldType.enum and fit >= 0.8 and len(col.distinct) >= 2:
        # Values that are all choices of an enum point at it even under an unrelated header.
        by_values = 0.5 + 0.2 * fit
        if by_values > score:
            score, reason = by_values, fit_reason
    return round(score, 3), reason


# --- the engine ----------------------------------------------------------------------------------


@dataclass
class _Assignment:
    entity: str | None
    results: dict[int, ColumnMapping] = field(default_factory=dict)
    used: dict[str, str] = field(default_factory=dict)  # field key -> column name

    def assign(self, col: _Column, mapping: ColumnMapping) -> None:
        self.results[col.index] = mapping
        if mapping.field is not None:
            self.used[mapping.field] = col.name.text


def suggest_mapping(
    columns: Sequence[ColumnInfo],
    fields: Sequence[FieldInfo],
    remembered: Mapping[str, str | None] | None = None,
    *,
    entity_key: str | None = None,
) -> list[ColumnMapping]:
    """One :class:`ColumnMapping` per column, in the file's order.

    ``remembered`` is the mapping saved by an earlier import of the entity (column name → field key,
    or None for a column the user ignored). ``entity_key`` names the entity in reasons, and its words
    qualify headers ("Product SKU" is the SKU of a product).
    """
    return _suggest([_prepare(i, c) for i, c in enumerate(columns)], fields, remembered, entity_key)


def _suggest(
    cols: list[_Column],
    fields: Sequence[FieldInfo],
    remembered: Mapping[str, str | None] | None,
    entity: str | None,
) -> list[ColumnMapping]:
    state = _Assignment(entity)
    by_key = {f.key: f for f in fields}
    if remembered:
        _apply_remembered(state, cols, by_key, remembered)

    names = {f.key: _field_names(f) for f in fields}
    exact: list[tuple[int, int, _Column, _FieldName]] = []
    for col in cols:
        if col.index in state.results:
            continue
        for f in fields:
            for n in names[f.key]:
                if col.name.norm and n.name.norm == col.name.norm:
                    exact.append((_KIND_RANK[n.kind], col.index, col, n))
    exact.sort(key=lambda e: (e[0], e[1]))
    for _, _, col, n in exact:
        if col.index in state.results or n.field.key in state.used:
            continue
        reason = f"matches {n.describe()}"
        fit, fit_reason = _value_fit(col, n.field)
        if fit < 0.5:
            reason += f", but {fit_reason}"
        state.assign(col, ColumnMapping(col.name.text, "mapped", n.field.key, 1.0, reason))

    # Score every remaining column against every field, then hand out fields best-first.
    qualifiers = _QUALIFIERS | _entity_words(entity)
    scored: dict[int, list[tuple[float, str, FieldInfo]]] = {}
    for col in cols:
        if col.index not in state.results:
            scored[col.index] = [(*_score(col, names[f.key], qualifiers), f) for f in fields]
    candidates = [
        (score, col.index, f.key, reason, f)
        for col in cols
        for score, reason, f in scored.get(col.index, ())
        if score >= SUGGEST_THRESHOLD and f.key not in state.used
    ]
    candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
    for score, index, key, reason, _ in candidates:
        col = cols[index]
        if index in state.results or key in state.used:
            continue
        state.assign(col, ColumnMapping(col.name.text, "suggested", key, score, reason))

    taken = {f.key for f in fields}
    for col in cols:
        if col.index not in state.results:
            state.assign(col, _new_field(col, scored.get(col.index, []), state.used, taken))
    return [state.results[col.index] for col in cols]


def _apply_remembered(
    state: _Assignment,
    cols: list[_Column],
    by_key: Mapping[str, FieldInfo],
    remembered: Mapping[str, str | None],
) -> None:
    # Headers may differ in case or spacing from the file the mapping was saved for.
    by_norm = {normalize_name(k): v for k, v in remembered.items()}
    where = f" of {state.entity}" if state.entity else ""
    for col in cols:
        if col.name.text in remembered:
            target = remembered[col.name.text]
        elif col.name.norm in by_norm:
            target = by_norm[col.name.norm]
        else:
            continue
        if target is None:
            reason = f"ignored in an earlier import{where}"
            state.assign(col, ColumnMapping(col.name.text, "ignored", None, 1.0, reason))
        elif target in by_key and target not in state.used:
            # A field deleted since, or claimed twice, leaves the column to ordinary matching.
            reason = f"remembered from an earlier import{where}"
            state.assign(col, ColumnMapping(col.name.text, "mapped", target, 1.0, reason))


def _new_field(
    col: _Column, scored: list[tuple[float, str, FieldInfo]], used: Mapping[str, str], taken: set[str]
) -> ColumnMapping:
    inferred = col.inferred
    key = _unique_key(_slug(col.name.text), taken)
    taken.add(key)
    label = col.name.text.strip()[:LABEL_MAX] or key
    proposed: dict[str, Any] = {"key": key, "label": label, "type": inferred.type.value}
    if inferred.enum_values:
        # The schema only takes enum values on an enum field.
        proposed["type"] = FieldType.enum.value
        proposed["enum_values"] = list(inferred.enum_values)
    kind = proposed["type"]
    reason = f"no field matches; a new {kind} field"
    if scored:
        score, _, f = max(scored, key=lambda s: s[0])
        if score >= SUGGEST_THRESHOLD and f.key in used:
            reason = f"'{f.label}' already takes column '{used[f.key]}'; a new {kind} field"
        elif score >= 0.3:
            # Rounded down, so a near miss never shows the threshold itself.
            reason = f"no field matches (closest: '{f.label}', {int(score * 100)}%); a new {kind} field"
    return ColumnMapping(col.name.text, "new", None, inferred.confidence, reason, proposed)


def _slug(name: str) -> str:
    words = (re.sub(r"[^a-z0-9]", "", w) for w in normalize_name(name).split())
    key = "_".join(w for w in words if w) or "field"
    if not key[0].isalpha():
        key = f"field_{key}"
    return key[:KEY_MAX].rstrip("_")


def _unique_key(key: str, taken: set[str]) -> str:
    n = 2
    candidate = key
    while candidate in taken:
        suffix = f"_{n}"
        candidate = key[: KEY_MAX - len(suffix)].rstrip("_") + suffix
        n += 1
    return candidate


# --- choosing the entity -------------------------------------------------------------------------


def best_entity(
    columns: Sequence[ColumnInfo], entities: Mapping[str, Sequence[FieldInfo]]
) -> list[tuple[str, float, str]]:
    """Entities ranked by how well the columns map onto them: (entity key, score 0 to 1, reason).

    The score is mostly the share of columns that map (each counted by its confidence) and partly
    whether the entity's key fields (or, if none is marked, its required fields) are all present,
    since without them an import can neither create nor update records.
    """
    cols = [_prepare(i, c) for i, c in enumerate(columns)]
    ranking: list[tuple[str, float, str]] = []
    for key, fields in entities.items():
        results = _suggest(cols, fields, None, key)
        fitting = [m for m in results if m.bucket in ("mapped", "suggested")]
        coverage = sum(m.confidence for m in fitting) / len(cols) if cols else 0.0
        present = {m.field for m in fitting}
        needed = [f for f in fields if f.is_key] or [f for f in fields if f.required]
        missing = [f.key for f in needed if f.key not in present]
        key_share = (len(needed) - len(missing)) / len(needed) if needed else coverage
        score = round(0.75 * coverage + 0.25 * key_share, 3) if fitting else 0.0
        exact = sum(m.bucket == "mapped" for m in fitting)
        reason = f"{len(fitting)} of {len(cols)} columns fit ({exact} exactly)"
        if needed:
            if missing:
                reason += "; missing key field " + ", ".join(f"'{k}'" for k in missing)
            else:
                reason += "; key field " + ", ".join(f"'{f.key}'" for f in needed) + " present"
        ranking.append((key, score, reason))
    ranking.sort(key=lambda r: (-r[1], r[0]))
    return ranking


def disagreement(
    declared: str, ranking: Sequence[tuple[str, float, str]], *, margin: float = DISAGREEMENT_MARGIN
) -> str | None:
    """A warning when the columns fit another entity clearly better than the declared one."""
    if not ranking:
        return None
    best, best_score, best_reason = ranking[0]
    if best == declared:
        return None
    declared_score = next((score for key, score, _ in ranking if key == declared), 0.0)
    if best_score - declared_score < margin:
        return None
    return (
        f"The columns fit '{best}' better than '{declared}' "
        f"({round(best_score * 100)}% against {round(declared_score * 100)}%: {best_reason})."
    )


def headers_signature(columns: Sequence[str]) -> str:
    """A stable hash of the header row, to find the mapping saved for a file with the same headers.

    Headers are normalised (so "Product Name" and "product_name" agree) but keep their order.
    """
    normalised = [normalize_name(c) for c in columns]
    return hashlib.sha256(json.dumps(normalised, ensure_ascii=False).encode()).hexdigest()
