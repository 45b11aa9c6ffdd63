"""What every reader (CSV/TSV, spreadsheets, JSON) gives the import pipeline.

A reader never loads the whole file: :func:`Reader.inspect` reads the beginning (format details,
columns, a sample) and :func:`Reader.batches` streams every data row in batches. Row numbers are the
ones a person would look up in the file: the physical line where a CSV/TSV record or an NDJSON line
starts, the spreadsheet row, or the 1-based position of an item in a JSON array.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

Cell = Any  # text from CSV/TSV; str, int, float, bool, date/datetime or None from spreadsheets and JSON


class ReadError(Exception):
    """The file cannot be read at all (empty, encrypted, not what it claims to be …)."""

    def __init__(self, code: str, message: str, *, row: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.row = row


@dataclass
class ReadOptions:
    """What the user chose; None means "detect it"."""

    encoding: str | None = None
    delimiter: str | None = None
    quotechar: str | None = None
    header_row: int | None = None  # 1-based row number of the header; 0 means "no header row"
    sheet: str | None = None
    records_path: str | None = None  # dotted path to the array of records in a JSON document
    decimal: str | None = None  # "." or ",": read by the validator, not the readers
    max_columns: int = 1000
    max_field_chars: int = 131_072


@dataclass
class RowProblem:
    """A row rejected while parsing; it is never staged, but it is counted and reported."""

    row: int
    code: str  # e.g. too_many_fields, too_few_fields, encoding, unterminated_quote, field_too_large
    message: str  # names what was expected, e.g. "expected 8 fields, got 9"
    cells: list[Cell] | None = None  # what could be read of it, for the error report


@dataclass
class Batch:
    rows: list[tuple[int, list[Cell]]]  # (row number, one cell per column, aligned to FileInfo.columns)
    problems: list[RowProblem] = field(default_factory=list)


@dataclass
class FileInfo:
    """What inspect() found; passed back to batches() so both agree on every detail."""

    format: str  # csv, tsv, xlsx, xls, ods, json, ndjson
    columns: list[str]  # unique, never blank: "email", "email (2)", "column 3"
    sample: list[tuple[int, list[Cell]]]  # the first data rows, as batches() would yield them
    encoding: str | None = None
    delimiter: str | None = None
    quotechar: str | None = None
    header_row: int | None = None
    sheets: list[str] = field(default_factory=list)
    sheet: str | None = None
    records_path: str | None = None
    warnings: list[str] = field(default_factory=list)


class Reader(Protocol):
    def inspect(self, path: Path, options: ReadOptions, *, sample_rows: int = 100) -> FileInfo: ...

    def batches(
        self, path: Path, info: FileInfo, options: ReadOptions, *, batch_size: int = 50_000
    ) -> Iterator[Batch]: ...


def unique_columns(raw: list[Any]) -> tuple[list[str], list[str]]:
    """Deterministic, unique, non-blank column names, and a warning for each one that was changed."""
    out: list[str] = []
    warnings: list[str] = []
    seen: set[str] = set()
    for i, value in enumerate(raw, start=1):
        name = "" if value is None else str(value).strip()
        base = name or f"column {i}"
        if not name:
            warnings.append(f"Column {i} has no header; it is called {base!r}.")
        candidate, n = base, 1
        while candidate.casefold() in seen:
            n += 1
            candidate = f"{base} ({n})"
        if candidate != base:
            warnings.append(f"Column {i} repeats the header {base!r}; it is called {candidate!r}.")
        seen.add(candidate.casefold())
        out.append(candidate)
    return out, warnings
