"""Guess the field type of a column from sample values, and which columns could be a record key.

The verdict follows :func:`loadbay.schema.types.coerce`: a column gets the narrowest type that at least
95% of its non-blank samples would be stored as, so a suggested type never rejects what the import would
accept. Calling ``coerce`` on every cell is too slow for profiling (about 3 µs a value, and 45 µs for an
email), so each value is first put in a "shape" by one regular expression that mirrors what ``coerce``
accepts, and ``coerce`` then checks a handful of the values of the chosen type; when it disagrees with
the shapes, its failure rate scales the estimate down.
"""

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from itertools import chain, compress
from operator import attrgetter, is_
from typing import Any

from loadbay.schema.types import INT64, KEY_TYPES, FieldType, Rules, ValueError_, coerce

THRESHOLD = 0.95  # share of non-blank values a type must fit; the rest are left to the row checks
TEXT_LENGTH = 255  # longer than a one-line name: such values make a column `text`
ENUM_MAX_VALUES = 20
ENUM_MIN_SAMPLES = 30  # fewer samples say too little about how many values there are
ENUM_MAX_VALUE_LENGTH = 100  # choices are short labels, not sentences
CONFIRM_SAMPLES = 16  # text cells of the chosen type that coerce itself checks
CONFIRM_EMAILS = 6  # an email check costs some 45 µs, as much as classifying a hundred cells

# Shapes of a single value. A value can fit several types (``1`` is a boolean, an integer and a
# decimal), so shapes are finer than types and each type adds up the shapes it accepts.
_BLANK = "blank"
_BIT = "bit"  # 0 or 1: boolean only next to real yes/no words, otherwise integer
_BOOL = "bool"  # true/false/yes/no words, or a typed boolean
_INT = "int"
_DEC = "dec"  # dot decimal or exponent
_DECC = "decc"  # decimal comma, e.g. 3,50
_DATE = "date"
_DATETIME = "datetime"
_EMAIL = "email"
_URL = "url"
_JSON = "json"
_OTHER = "other"

# One pattern sorts a stripped string into its shape: the name of the (empty) group that closes last.
# Every alternative mirrors what coerce accepts, a little stricter where exactness would cost a parse
# per value: integers of more than 18 digits count as decimals and day 31 of a 30-day month as a date
# (the coerce check of a sample catches such rare misfits). Numbers with "_" get a second look.
_SHAPE_RE = re.compile(
    r"""
    (?P<blank>)
    |(?P<bit>[01])
    |(?=[\d+.-])(?:
        \d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])
            (?:[T\ ](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:[.,]\d{1,6})?)?
                (?:[zZ]|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?)?(?P<datetime>)
            |(?P<date>))
        |[+-]?\d{1,18}(?:\.0*)?(?P<int>)
        |[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,2})?(?P<dec>)
        |[+-]?\d+,\d+(?P<decc>)
    )
    |(?i:t(?:rue)?|f(?:alse)?|y(?:es)?|no?|o(?:n|ff))(?P<bool>)
    |(?=[hHfF])(?i:https?|ftps?)://[^\s/?\#]+\S*(?P<url>)
    |[^@\s]++@[^@\s.]++(?:\.[^@\s.]++)+(?P<email>)
    |.+(?P<other>)
    """,
    re.VERBOSE | re.DOTALL,
)
_lastgroup = attrgetter("lastgroup")

_RULES = {t: Rules(type=t) for t in FieldType}


@dataclass(frozen=True)
class InferredType:
    type: FieldType
    confidence: float  # 0 to 1: share of values that fit, lowered for tiny samples or near-misses
    blank_count: int
    sample_size: int  # all values looked at, blanks included
    max_length: int = 0  # longest non-blank text cell, trimmed
    enum_values: tuple[str, ...] | None = None  # suggestion for a low-cardinality string column
    decimal_comma: bool = False  # decimals are written 3,50: replace the comma before coercing

    @property
    def non_blank(self) -> int:
        return self.sample_size - self.blank_count


def _typed_shape(v: Any) -> str:
    """Shape of a cell a spreadsheet or JSON reader already typed; it counts as it is."""
    if isinstance(v, bool):
        return _BOOL
    if isinstance(v, int):
        if v in (0, 1):
            return _BIT
        return _INT if abs(v) <= INT64 else _DEC
    if isinstance(v, float):
        if not math.isfinite(v):
            return _OTHER
        return _INT if v.is_integer() and abs(v) <= INT64 else _DEC
    if isinstance(v, Decimal):
        # coerce reads a Decimal as a decimal only, even a whole one (JSON readers give 3.0 so).
        return _DEC if v.is_finite() else _OTHER
    if isinstance(v, datetime):
        # Spreadsheets store plain dates as midnight date-times.
        if v.tzinfo is None and v.hour == v.minute == v.second == v.microsecond == 0:
            return _DATE
        return _DATETIME
    if isinstance(v, date):
        return _DATE
    if isinstance(v, dict | list):
        return _JSON
    return _OTHER


# Which shapes each candidate type accepts, narrowest type first.
_ACCEPTS: tuple[tuple[FieldType, frozenset[str]], ...] = (
    (FieldType.boolean, frozenset({_BOOL, _BIT})),
    (FieldType.integer, frozenset({_BIT, _INT})),
    (FieldType.decimal, frozenset({_BIT, _INT, _DEC})),
    (FieldType.date, frozenset({_DATE})),
    (FieldType.datetime, frozenset({_DATE, _DATETIME})),
    (FieldType.email, frozenset({_EMAIL})),
    (FieldType.url, frozenset({_URL})),
    (FieldType.json, frozenset({_JSON})),
)


@dataclass
class _Tally:
    """What one pass over a column found."""

    counts: Counter[str]  # values per shape, blanks included
    texts: list[str]  # the stripped text cells, one per distinct value when values repeat a lot
    shapes: list[str]  # the shape of each of ``texts``
    freq: Counter[str]  # raw text cells and how often each occurs
    others: list[Any]  # typed cells (numbers, dates … from spreadsheets and JSON)


def _tally(values: Sequence[Any]) -> _Tally:
    # Profiling reads 50,000 cells at a time, so every per-cell step below is a C-level loop (map,
    # filter, compress, Counter); Python loops run per kind of value or per distinct value only.
    kinds = set(map(type, values))
    counts: Counter[str] = Counter()
    typed: list[Any] = []
    if kinds <= {str, type(None)}:
        # The common case, a CSV column: filter(None) drops both None and "" blanks.
        blanks_possible = type(None) in kinds or "" in values
        cells: list[str] = list(filter(None, values)) if blanks_possible else list(values)
        counts[_BLANK] = len(values) - len(cells)
    else:
        cells = []
        for kind in kinds:
            same = list(compress(values, map(partial(is_, kind), map(type, values))))
            if issubclass(kind, str):
                cells.extend(same)
            elif kind is type(None):
                counts[_BLANK] += len(same)
            else:
                typed.extend(same)
                _tally_typed(kind, same, counts)
    freq = Counter(cells)
    # Columns of repeated values (flags, categories) are classified once per distinct value.
    repeated = len(freq) * 2 <= len(cells)
    texts = list(map(str.strip, freq if repeated else cells))
    shapes: list[str] = list(map(_lastgroup, map(_SHAPE_RE.fullmatch, texts)))
    if "_" in "".join(texts):
        _reshape_underscored(texts, shapes)
    if repeated:
        for shape, n in zip(shapes, freq.values(), strict=True):
            counts[shape] += n
    else:
        counts.update(shapes)
    return _Tally(counts, texts, shapes, freq, typed)


def _reshape_underscored(texts: list[str], shapes: list[str]) -> None:
    """coerce drops "_" from numbers ("1_000"); the pattern leaves them out, so they get a second look."""
    for i, s in enumerate(texts):
        if shapes[i] == _OTHER and "_" in s:
            shape = _lastgroup(_SHAPE_RE.fullmatch(s.replace("_", "")))
            if shape in (_BIT, _INT, _DEC):
                shapes[i] = _INT if shape == _BIT else shape


def _tally_typed(kind: type, cells: list[Any], counts: Counter[str]) -> None:
    """Count the shapes of cells of one Python type, whole numbers and floats without a Python loop."""
    n = len(cells)
    if kind is bool:
        counts[_BOOL] += n
    elif kind is int and min(cells) >= -INT64 and max(cells) <= INT64:
        bits = cells.count(0) + cells.count(1)
        counts[_BIT] += bits
        counts[_INT] += n - bits
    elif kind is float and all(map(math.isfinite, cells)) and min(cells) >= -INT64 and max(cells) <= INT64:
        whole = sum(map(float.is_integer, cells))
        counts[_INT] += whole
        counts[_DEC] += n - whole
    else:
        counts.update(map(_typed_shape, cells))


def _confirmed_share(
    t: FieldType, tally: _Tally, shapes: frozenset[str], *, decimal_comma: bool = False
) -> float:
    """Share of an evenly spread handful of the text cells of ``shapes`` that coerce really accepts."""
    candidates = list(compress(tally.texts, map(shapes.__contains__, tally.shapes)))
    if not candidates:
        return 1.0
    size = CONFIRM_EMAILS if t == FieldType.email else CONFIRM_SAMPLES
    picked = candidates[:: max(1, len(candidates) // size)][:size]
    ok = 0
    for s in picked:
        try:
            coerce(_RULES[t], s.replace(",", ".") if decimal_comma else s)
        except ValueError_:
            continue
        ok += 1
    return ok / len(picked)


def _support(n: int) -> float:
    # A handful of agreeing values is weaker evidence than a full sample; ten are enough.
    return min(1.0, 0.5 + n / 20)


def infer_type(values: Sequence[Any]) -> InferredType:
    """The narrowest field type that ≥ 95% of the non-blank ``values`` coerce to."""
    tally = _tally(values)
    counts = tally.counts
    sample_size = len(values)
    blanks = counts[_BLANK]
    non_blank = sample_size - blanks
    max_length = max(map(len, tally.texts), default=0)
    if non_blank == 0:
        return InferredType(FieldType.string, 0.0, blanks, sample_size, max_length)

    best_miss = 0.0  # the best share among typed candidates that fell short
    for t, shapes in _ACCEPTS:
        if t == FieldType.boolean and not counts[_BOOL]:
            continue  # a 0/1 column is a number unless words show it is a flag
        share = sum(counts[s] for s in shapes) / non_blank
        if share >= THRESHOLD:
            share *= _confirmed_share(t, tally, shapes)
            if share >= THRESHOLD:
                return InferredType(t, _confidence(share, non_blank), blanks, sample_size, max_length)
        best_miss = max(best_miss, share)
        if t == FieldType.decimal:
            comma = _decimal_comma(tally, non_blank)
            if comma is not None:
                return InferredType(
                    t, _confidence(comma, non_blank), blanks, sample_size, max_length, decimal_comma=True
                )

    # Everything is text; how close the column came to a narrower type makes that less certain.
    confidence = _confidence(1.0 - best_miss / 2, non_blank)
    joined = "".join(tally.texts)
    long_cells = sum(1 for s in tally.texts if len(s) > TEXT_LENGTH) if max_length > TEXT_LENGTH else 0
    # One long outlier (a bad row) leaves a name column a string; any line break makes it prose.
    if "\n" in joined or "\r" in joined or long_cells > (1.0 - THRESHOLD) * len(tally.texts):
        return InferredType(FieldType.text, confidence, blanks, sample_size, max_length)
    enum_values = _choices(tally) if non_blank >= ENUM_MIN_SAMPLES else None
    return InferredType(FieldType.string, confidence, blanks, sample_size, max_length, enum_values)


def _confidence(share: float, non_blank: int) -> float:
    return round(share * _support(non_blank), 3)


def _decimal_comma(tally: _Tally, non_blank: int) -> float | None:
    """The share of a decimal-comma column ("3,50") that fits, or None if the column is not one.

    The comma must be used consistently: no dot decimals beside it. A comma followed by exactly three
    digits everywhere ("1,250") reads as a thousands separator, so that is not taken as a decimal comma.
    """
    counts = tally.counts
    if not counts[_DECC] or counts[_DEC]:
        return None
    comma = [s for s, shape in zip(tally.texts, tally.shapes, strict=True) if shape == _DECC]
    if all(len(s) - s.index(",") - 1 == 3 for s in comma):
        return None
    fit = (counts[_BIT] + counts[_INT] + counts[_DECC]) / non_blank
    if fit < THRESHOLD:
        return None
    fit *= _confirmed_share(FieldType.decimal, tally, frozenset({_DECC}), decimal_comma=True)
    return fit if fit >= THRESHOLD else None


def _choices(tally: _Tally) -> tuple[str, ...] | None:
    """The distinct values of an enum-like column, spelled as the file spells each most often."""
    spellings: dict[str, Counter[str]] = {}
    typed = Counter(map(str, tally.others))
    for raw, n in chain(tally.freq.items(), typed.items()):
        s = raw.strip()
        if not s:
            continue
        if len(s) > ENUM_MAX_VALUE_LENGTH:
            return None  # choices are short labels, not sentences
        spellings.setdefault(s.casefold(), Counter())[s] += n
        if len(spellings) > ENUM_MAX_VALUES:
            return None
    return tuple(sorted((c.most_common(1)[0][0] for c in spellings.values()), key=str.casefold))


# --- key candidates ------------------------------------------------------------------------------

# Name words that make a column a likely record key, most key-like first.
_KEY_WORDS: tuple[frozenset[str], ...] = (
    frozenset({"sku"}),
    frozenset({"id", "uuid", "guid"}),
    frozenset({"code", "number", "no", "nr"}),
    frozenset({"key"}),
    frozenset({"email", "mail"}),
    frozenset({"url", "link"}),
    frozenset({"name", "title"}),
)
_WORD_RE = re.compile(r"[^\W_]+")
_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _name_words(name: str) -> list[str]:
    plain = unicodedata.normalize("NFKD", _CAMEL_RE.sub(" ", name))
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return _WORD_RE.findall(plain.casefold())


def _key_rank(name: str) -> tuple[int, int]:
    """(which key word the name holds, 0 if that word is the whole name else 1); lower is more key-like."""
    words = _name_words(name)
    for rank, group in enumerate(_KEY_WORDS):
        if any(w in group for w in words):
            return rank, 0 if len(words) == 1 else 1
    return len(_KEY_WORDS), 1


def _all_unique(values: Iterable[Any]) -> bool:
    seen: set[str] = set()
    for v in values:
        if v is None or isinstance(v, dict | list | bool):
            return False
        s = str(v).strip().casefold()
        if not s or s in seen:
            return False
        seen.add(s)
    return bool(seen)


def infer_key_candidates(columns: Mapping[str, Sequence[Any]]) -> list[str]:
    """Columns that could identify a record: no blank and no repeated sample value.

    Uniqueness is judged trimmed and case-insensitively, as entity keys are by default. Long or
    multi-line text is left out (descriptions are often unique, yet no key). The most key-like names
    (sku, id, code, key, email, url, name) come first, then the file's order.
    """
    found: list[tuple[tuple[int, int], int, str]] = []
    for position, (name, values) in enumerate(columns.items()):
        if not _all_unique(values):
            continue
        if infer_type(values).type not in KEY_TYPES:
            continue
        found.append((_key_rank(name), position, name))
    found.sort()
    return [name for _, _, name in found]
