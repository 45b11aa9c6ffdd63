"""JSON documents (an array of records, or records at a path inside an object) and NDJSON.

Both are streamed: a JSON document through ijson's event parser, NDJSON one line at a time, so
memory stays bounded by the size of one record whatever the size of the file.

Decisions a caller can rely on:

* Records are JSON objects. Anything else in the records array (or on an NDJSON line) is a
  RowProblem ``not_an_object`` ("expected an object, got a list").
* Columns are the keys of the first :data:`COLUMN_SCAN_RECORDS` records in first-seen order.
  A key whose value is an object is flattened one level: ``{"actor": {"name": …}}`` gives the
  column ``actor.name``. Anything nested deeper, and every array, arrives as compact JSON text
  (``'["a", "b"]'``). Keys first seen in later records have no column; ``batches()`` says so once,
  in ``info.warnings``, and drops their values (the row itself is kept).
* Numbers stay exact. Integers are int when they fit in 64 bits and their decimal text otherwise
  (10**400 arrives as a 401-digit str). Numbers with a fraction or exponent become int when
  integral (``1.0`` → 1), float when the float prints back as the same number (``19.99``), and
  their exact decimal text otherwise (``"3.14159265358979323846264"``).
* A record nested deeper than :data:`MAX_DEPTH` levels is a RowProblem ``too_deep``; it is skipped
  without being built, so a file of ten thousand ``[`` costs nothing and never recurses.
* NDJSON: a broken line is a RowProblem (``invalid_json``, with the column); the other lines are
  read. Row numbers are line numbers. NaN and Infinity are not JSON: a RowProblem for that line.
* JSON documents: row numbers are 1-based positions in the records array. A syntax error cannot
  be stepped over. ``inspect()`` raises ``ReadError("invalid_json")`` naming the byte, line and
  column when no record comes before it, and warns otherwise; ``batches()`` yields the records
  before it and then a RowProblem ``invalid_json`` with that message for the record where it
  broke, and stops. NaN or Infinity in a document is such a syntax error.
* In a JSON document, integers of more than 4,300 digits (Python's int conversion limit) are
  refused with ``ReadError("number_too_long")`` before the parser sees them: ijson 3.6's C backend
  crashes the process on them. Any run of that many digits counts, even inside a string. On an
  NDJSON line such a number is a RowProblem ``invalid_json`` for that line.
"""

import json
import math
import re
import sys
from collections.abc import Iterable, Iterator
from decimal import Decimal
from itertools import chain, islice
from pathlib import Path
from typing import Any, BinaryIO

import ijson

from loadbay.imports.readers import detect
from loadbay.imports.readers.base import (
    Batch,
    Cell,
    FileInfo,
    ReadError,
    ReadOptions,
    RowProblem,
    unique_columns,
)

COLUMN_SCAN_RECORDS = 1_000  # records whose keys make the columns
MAX_DEPTH = 64  # levels of nesting in one record, the record itself being level 1
MAX_LINE_BYTES = 16 << 20  # longest NDJSON line read; a longer one is a RowProblem
DETECT_DEPTH = 3  # how many objects deep the records array is looked for
BUF_SIZE = 64 * 1024
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

_SCALARS = frozenset({"string", "number", "boolean", "null"})
_STARTS = frozenset({"start_map", "start_array"})
_ENDS = frozenset({"end_map", "end_array"})
_JSON_TYPE_NAMES = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}

Item = tuple[int, Any]  # (row number, parsed record or a RowProblem for that row)


class JsonReader:
    """The :class:`~loadbay.imports.readers.base.Reader` for .json and .ndjson/.jsonl files."""

    def inspect(self, path: Path, options: ReadOptions, *, sample_rows: int = 100) -> FileInfo:
        fmt = _json_format(path)
        warnings: list[str] = []
        if fmt == "ndjson":
            records_path = None
            items: Iterator[Item] = _ndjson_items(path)
        else:
            wanted = _split_path(options.records_path)
            records_path, items, note = _open_document(path, wanted, auto=wanted is None)
            warnings.extend(note)
        try:
            scanned, error = _take(items, max(COLUMN_SCAN_RECORDS, sample_rows))
        finally:
            _close(items)
        if error is not None:
            if not any(isinstance(value, dict) for _, value in scanned):
                raise error
            warnings.append(f"{error.message} Only the records before it can be imported.")
        layout = _Layout(value for _, value in scanned[:COLUMN_SCAN_RECORDS] if isinstance(value, dict))
        if not layout.keys:
            raise ReadError("no_records", _no_records_message(scanned))
        if len(layout.keys) > options.max_columns:
            raise ReadError(
                "too_many_columns",
                f"The records have {len(layout.keys)} different fields; at most {options.max_columns} "
                "columns are supported.",
            )
        columns, column_warnings = unique_columns(layout.names)
        # Sample rows past the scanned records may have keys without a column; batches() reports
        # those, once, for the whole file.
        extras = _ExtraKeys([])
        sample: list[tuple[int, list[Cell]]] = []
        for row, value in scanned:
            if len(sample) >= sample_rows:
                break
            cells = layout.cells(row, value, columns, options, extras)
            if not isinstance(cells, RowProblem):
                sample.append((row, cells))
        return FileInfo(
            format=fmt,
            columns=columns,
            sample=sample,
            encoding="utf-8",
            records_path=records_path,
            warnings=[*warnings, *column_warnings],
        )

    def batches(
        self, path: Path, info: FileInfo, options: ReadOptions, *, batch_size: int = 50_000
    ) -> Iterator[Batch]:
        if info.format == "ndjson":
            items: Iterator[Item] = _ndjson_items(path)
        else:
            _, items, _ = _open_document(path, _split_path(info.records_path), auto=False)
        try:
            # The columns come from the same first records as in inspect(): re-reading them is the
            # only way to map each column back to its key (names were made unique and readable).
            head, error = _take(items, COLUMN_SCAN_RECORDS)
            layout = _Layout(value for _, value in head if isinstance(value, dict))
            if len(layout.keys) != len(info.columns):
                raise ReadError(
                    "file_changed",
                    f"The records now have {len(layout.keys)} fields instead of {len(info.columns)}; "
                    "the file changed since it was inspected. Upload it again.",
                )
            extras = _ExtraKeys(info.warnings)
            batch = Batch(rows=[])
            try:
                for row, value in chain(head, items) if error is None else head:
                    cells = layout.cells(row, value, info.columns, options, extras)
                    if isinstance(cells, RowProblem):
                        batch.problems.append(cells)
                    else:
                        batch.rows.append((row, cells))
                    if len(batch.rows) + len(batch.problems) >= batch_size:
                        yield batch
                        batch = Batch(rows=[])
            except ReadError as exc:
                error = exc
            # A syntax error cannot be stepped over: the records before it are staged, as the
            # profile said, and the break is reported as the problem of the record where it is.
            if error is not None:
                last = max(
                    (r for r, _ in chain(batch.rows, ((p.row, None) for p in batch.problems))), default=0
                )
                batch.problems.append(RowProblem(error.row or last + 1, error.code, error.message))
            if batch.rows or batch.problems:
                yield batch
        finally:
            _close(items)


def _take(items: Iterator[Item], n: int) -> tuple[list[Item], ReadError | None]:
    """Up to n items, and the ReadError that stopped the reading early, if one did."""
    taken: list[Item] = []
    try:
        for item in islice(items, n):
            taken.append(item)
    except ReadError as exc:
        return taken, exc
    return taken, None


def _close(items: Iterator[Item]) -> None:
    close = getattr(items, "close", None)
    if close is not None:
        close()


def _split_path(records_path: str | None) -> list[str] | None:
    """``"data.items"`` → ``["data", "items"]``; None, "", "$" and "." mean the top level."""
    if records_path is None:
        return None
    cleaned = records_path.strip()
    cleaned = cleaned.removeprefix("$").removeprefix(".")
    return cleaned.split(".") if cleaned else None


def _no_records_message(scanned: list[Item]) -> str:
    if not scanned:
        return "The file holds no records."
    kinds = {type(value) for _, value in scanned if not isinstance(value, RowProblem)}
    if not kinds:
        return "None of the first records could be read; see the problems for each row."
    names = ", ".join(sorted(_JSON_TYPE_NAMES.get(kind, "a number") for kind in kinds))
    return f"The records are not objects (found {names}); each record must be a JSON object."


def _json_format(path: Path) -> str:
    with path.open("rb") as f:
        head = f.read(detect.HEAD_BYTES)
    if not head.strip():
        raise ReadError("empty", "The file is empty.")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ReadError(
            "encoding", "The file is UTF-16; JSON must be UTF-8. Save it as UTF-8 and upload it again."
        )
    if path.suffix.lower() in (".ndjson", ".jsonl"):
        return "ndjson"
    kind = detect.sniff_json(path, head)
    if kind is None:
        raise ReadError("not_json", "The file does not start with [ or {, so it is not JSON.")
    return kind


# --- values ------------------------------------------------------------------------------------


class _TooDeep(Exception):
    pass


def _decimal(value: Decimal) -> Cell:
    if not value.is_finite():
        return None
    if value == value.to_integral_value():
        # adjusted() is the power of ten of the first digit: below 18 the value fits in 64 bits.
        return int(value) if value.adjusted() < 18 else str(value)
    as_float = float(value)
    if math.isfinite(as_float) and Decimal(repr(as_float)) == value:
        return as_float
    return str(value)


def _scalar(value: Any, depth: int) -> Cell:
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return value
    if kind is int:
        return value if _INT64_MIN <= value <= _INT64_MAX else str(value)
    if kind is Decimal:
        return _decimal(value)
    if kind is float:
        return value if math.isfinite(value) else None
    parts: list[str] = []
    _write_json(value, depth, parts)
    return "".join(parts)


def _write_json(value: Any, depth: int, out: list[str]) -> None:
    """Compact JSON text of a nested value, numbers exactly as read; _TooDeep past MAX_DEPTH."""
    if depth > MAX_DEPTH:
        raise _TooDeep
    if isinstance(value, dict):
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            out.append(("," if i else "") + json.dumps(str(key), ensure_ascii=False) + ":")
            _write_json(item, depth + 1, out)
        out.append("}")
    elif isinstance(value, list):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write_json(item, depth + 1, out)
        out.append("]")
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif value is None or isinstance(value, bool):
        out.append(json.dumps(value))
    elif isinstance(value, float) and not math.isfinite(value):
        out.append("null")
    else:
        out.append(str(value))  # int, Decimal (its str is valid JSON: "1E+3", "-0.5") or float


class _ExtraKeys:
    """One warning, kept up to date, for keys that have no column."""

    def __init__(self, warnings: list[str]) -> None:
        self.warnings = warnings
        self.names: dict[str, None] = {}
        self.slot: int | None = None
        self.first_row = 0

    def note(self, row: int, names: Iterable[str]) -> None:
        new = [name for name in names if name not in self.names]
        if not new:
            return
        if self.slot is None:
            self.first_row = row
        self.names.update(dict.fromkeys(new))
        listed = ", ".join(repr(name) for name in list(self.names)[:20])
        more = f" and {len(self.names) - 20} more" if len(self.names) > 20 else ""
        message = (
            f"Records from row {self.first_row} on have fields that the first {COLUMN_SCAN_RECORDS} "
            f"records do not have, so there is no column for them and their values are not imported: "
            f"{listed}{more}."
        )
        if self.slot is None:
            self.slot = len(self.warnings)
            self.warnings.append(message)
        else:
            self.warnings[self.slot] = message


class _Layout:
    """Which key (or key and sub-key) each column holds."""

    def __init__(self, records: Iterable[dict[str, Any]]) -> None:
        keys: dict[tuple[str, ...], None] = {}
        plain: set[str] = set()  # keys with a value other than null or an object somewhere
        for record in records:
            for key, value in record.items():
                if isinstance(value, dict) and value:
                    for sub in value:
                        keys.setdefault((key, str(sub)))
                else:
                    keys.setdefault((key,))
                    if value is not None and value != {}:
                        plain.add(key)
        self.flattened = {key[0] for key in keys if len(key) == 2}
        # A key that is an object in some records and null in the others needs no column of its own.
        self.keys = [k for k in keys if len(k) == 2 or k[0] not in self.flattened or k[0] in plain]
        self.index = {key: i for i, key in enumerate(self.keys)}
        self.names = [".".join(key) for key in self.keys]

    def cells(
        self, row: int, value: Any, columns: list[str], options: ReadOptions, extras: _ExtraKeys
    ) -> list[Cell] | RowProblem:
        if isinstance(value, RowProblem):
            return value
        if not isinstance(value, dict):
            kind = _JSON_TYPE_NAMES.get(type(value), "a number")
            return RowProblem(row, "not_an_object", f"expected an object, got {kind}", cells=None)
        cells: list[Cell] = [None] * len(self.keys)
        unknown: list[str] = []
        try:
            for key, item in value.items():
                if key in self.flattened and isinstance(item, dict) and item:
                    for sub, sub_item in item.items():
                        i = self.index.get((key, str(sub)))
                        if i is None:
                            unknown.append(f"{key}.{sub}")
                        else:
                            cells[i] = _scalar(sub_item, 3)
                    continue
                i = self.index.get((key,))
                if i is None:
                    if item is not None:
                        unknown.append(key)
                else:
                    cells[i] = _scalar(item, 2)
        except _TooDeep:
            return RowProblem(row, "too_deep", f"the record is nested more than {MAX_DEPTH} levels deep")
        if unknown:
            extras.note(row, unknown)
        for i, cell in enumerate(cells):
            if isinstance(cell, str) and len(cell) > options.max_field_chars:
                return RowProblem(
                    row,
                    "field_too_large",
                    f"column {columns[i]!r} holds {len(cell)} characters; at most {options.max_field_chars} "
                    "are allowed",
                    cells=[c[:200] + "…" if isinstance(c, str) and len(c) > 200 else c for c in cells],
                )
        return cells


# --- NDJSON ------------------------------------------------------------------------------------


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid JSON value")


def _ndjson_items(path: Path) -> Iterator[Item]:
    with path.open("rb") as f:
        lineno = 0
        while True:
            raw = f.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            lineno += 1
            if lineno == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                while (more := f.readline(1 << 20)) and not more.endswith(b"\n"):
                    pass
                yield (
                    lineno,
                    RowProblem(lineno, "line_too_long", f"the line is longer than {MAX_LINE_BYTES} bytes"),
                )
                continue
            line = raw.strip()
            if line:
                yield lineno, _parse_line(lineno, line)


def _parse_line(lineno: int, line: bytes) -> Any:
    try:
        return json.loads(line, parse_float=Decimal, parse_constant=_no_constant)
    except RecursionError:
        return RowProblem(lineno, "too_deep", f"the record is nested more than {MAX_DEPTH} levels deep")
    except UnicodeDecodeError:
        return RowProblem(lineno, "encoding", "the line is not valid UTF-8")
    except json.JSONDecodeError as exc:
        return RowProblem(lineno, "invalid_json", f"{exc.msg} at column {exc.colno}")
    except ValueError as exc:
        # NaN/Infinity (from _no_constant) or an integer longer than Python converts.
        return RowProblem(lineno, "invalid_json", str(exc).split(";")[0])


# --- JSON documents ----------------------------------------------------------------------------


class _NumberTooLong(Exception):
    def __init__(self, where: str) -> None:
        super().__init__(where)
        self.where = where


class _Source:
    """The file as ijson reads it: knows where each chunk starts, to place a syntax error.

    It also refuses runs of digits longer than Python's int conversion limit before ijson sees
    them (its C backend crashes on such integers).
    """

    def __init__(self, f: BinaryIO, start: int) -> None:
        self.f = f
        self.offset = start  # bytes handed to the parser so far
        self.chunk = b""
        self.chunk_start = start
        self.lines_before = 0  # newlines before chunk_start
        self.run = 0  # digits at the end of the previous chunk
        self.limit = sys.get_int_max_str_digits()  # 0 means no limit
        self.long_number = re.compile(rb"(?<![0-9])[0-9]{%d}" % (self.limit + 1)) if self.limit else None

    def read(self, size: int = -1) -> bytes:
        data = self.f.read(size)
        if data:
            self.lines_before += self.chunk.count(b"\n")
            self.chunk, self.chunk_start = data, self.offset
            self.offset += len(data)
            if self.long_number is not None:
                self._check_numbers(data)
        return data

    def _check_numbers(self, data: bytes) -> None:
        lead = len(data) - len(data.lstrip(b"0123456789"))
        match = self.long_number.search(data) if self.long_number is not None else None
        if self.run + lead > self.limit or match:
            offset = match.start() if match and self.run + lead <= self.limit else 0
            raise _NumberTooLong(self._place(offset))
        tail = len(data) - len(data.rstrip(b"0123456789"))
        self.run = self.run + lead if lead == len(data) else tail

    def _place(self, offset: int) -> str:
        line = self.lines_before + self.chunk.count(b"\n", 0, offset) + 1
        column = offset - (self.chunk.rfind(b"\n", 0, offset) + 1) + 1
        return f"at byte {self.chunk_start + offset} (line {line}, column {column})"

    def end(self) -> str:
        """Where the bytes read so far end."""
        line = self.lines_before + self.chunk.count(b"\n") + 1
        return f"at byte {self.offset} (line {line})"

    def where(self, message: bytes) -> str:
        """Where yajl stopped, from the 30 bytes before and after it that its message shows.

        yajl's message is three lines: the error, the context (10 spaces and the 30 bytes before
        the error, or 40 - n spaces and the n < 30 bytes before it, then up to 30 bytes after,
        line breaks shown as spaces), and an arrow under the error at column 40.
        """
        lines = message.split(b"\n")
        if len(lines) >= 2 and len(lines[1]) >= 40:
            context = lines[1]
            after = context[40:]
            flat = self.chunk.replace(b"\n", b" ").replace(b"\r", b" ")
            o = flat.find(after)
            while o >= 0:
                k = min(o, 30)
                if context[40 - k : 40] == flat[o - k : o] and (k == 30 or not context[: 40 - k].strip()):
                    return self._place(o)
                o = flat.find(after, o + 1)
        return f"near byte {self.offset}"


def _describe(source: _Source, exc: Exception) -> str:
    raw = exc.args[0] if exc.args and isinstance(exc.args[0], (str, bytes)) else str(exc)
    message = raw if isinstance(raw, bytes) else raw.encode("utf-8", "replace")
    detail = message.split(b"\n")[0].decode("utf-8", "replace").strip()
    if "premature EOF" in detail:
        return f"The JSON document is cut short: it ends {source.end()} in the middle of a value."
    return f"The JSON is broken {source.where(message)}: {detail}."


def _skip(events: Iterator[tuple[str, Any]], depth: int) -> None:
    for event, _ in events:
        if event in _STARTS:
            depth += 1
        elif event in _ENDS:
            depth -= 1
            if depth == 0:
                return


def _build(events: Iterator[tuple[str, Any]], first: str) -> Any:
    """The value that starts with ``first`` (start_map or start_array); _TooDeep past MAX_DEPTH.

    ijson's own item builder is not used: it keeps a path string for every level, which makes
    deep nesting cost quadratic memory, and it cannot stop early.
    """
    root: Any = {} if first == "start_map" else []
    stack: list[Any] = [root]
    keys: list[Any] = [None]
    for event, value in events:
        if event == "map_key":
            keys[-1] = value
        elif event in _SCALARS:
            top = stack[-1]
            if type(top) is dict:
                top[keys[-1]] = value
            else:
                top.append(value)
        elif event in _STARTS:
            if len(stack) >= MAX_DEPTH:
                _skip(events, len(stack) + 1)
                raise _TooDeep
            child: Any = {} if event == "start_map" else []
            top = stack[-1]
            if type(top) is dict:
                top[keys[-1]] = child
            else:
                top.append(child)
            stack.append(child)
            keys.append(None)
        else:
            stack.pop()
            keys.pop()
            if not stack:
                return root
    raise ReadError("invalid_json", "The JSON document ends in the middle of a record.")


class _Progress:
    """How far the records array has been read, to say which record a syntax error broke."""

    def __init__(self) -> None:
        self.count = 0  # records started
        self.busy = False  # inside a record

    @property
    def row(self) -> int:
        return self.count if self.busy else self.count + 1


def _array_items(events: Iterator[tuple[str, Any]], progress: _Progress) -> Iterator[Item]:
    for event, value in events:
        if event == "end_array":
            return
        progress.count += 1
        row = progress.count
        if event in _STARTS:
            progress.busy = True
            try:
                record = _build(events, event)
            except _TooDeep:
                record = RowProblem(
                    row, "too_deep", f"the record is nested more than {MAX_DEPTH} levels deep"
                )
            progress.busy = False
            yield row, record
        else:
            yield row, value


def _locate(
    events: Iterator[tuple[str, Any]], wanted: list[str] | None, top_keys: list[str]
) -> tuple[list[str], tuple[str, Any] | None] | None:
    """Consume events up to the start of the records array inside the top-level object.

    With ``wanted`` the array must be at that path; without it, the first array whose first
    element is an object, no more than DETECT_DEPTH objects deep, is taken. Returns the path and
    the event already read from inside the array (to be put back), or None when there is none.
    """
    stack = ["map"]
    keys: list[Any] = [None]
    arrays = 0  # arrays open on the current path: nothing below one can be the records array
    # No records array can start deeper than this many levels, so deeper values are skipped whole,
    # without tracking their path: the cost stays linear in the file however deep it nests.
    limit = len(wanted) if wanted is not None else DETECT_DEPTH
    pending: tuple[str, Any] | None = None
    while True:
        if pending is not None:
            (event, value), pending = pending, None
        else:
            nxt = next(events, None)
            if nxt is None:
                return None
            event, value = nxt
        if event == "map_key":
            keys[-1] = value
            if len(stack) == 1 and len(top_keys) < 50:
                top_keys.append(value)
            continue
        if event in _ENDS:
            if stack.pop() == "array":
                arrays -= 1
            keys.pop()
            if not stack:
                return None
            continue
        if arrays or len(stack) > limit:
            if event in _STARTS:
                _skip(events, 1)
            continue
        path = [str(k) for k in keys[: len(stack)]]
        if wanted is not None and path == wanted and event != "start_array":
            kind = "an object" if event == "start_map" else f"a {event}"
            raise ReadError(
                "records_path_not_array",
                f"{'.'.join(wanted)!r} is {kind} in this document, not an array of records.",
            )
        if event == "start_array":
            if path == wanted:
                return path, None
            if wanted is None:
                first = next(events, None)
                if first is not None and first[0] == "start_map":
                    return path, first
                pending = first
            stack.append("array")
            keys.append(None)
            arrays += 1
        elif event == "start_map":
            if len(stack) == limit:
                _skip(events, 1)
                continue
            stack.append("map")
            keys.append(None)


def _open_document(
    path: Path, wanted: list[str] | None, *, auto: bool
) -> tuple[str | None, Iterator[Item], list[str]]:
    """(records path found, the records, warnings). The path is None for a top-level array."""
    items = _document_items(path, wanted, auto)
    _, (found, note) = next(items)
    return found, items, note


def _document_items(path: Path, wanted: list[str] | None, auto: bool) -> Iterator[Any]:
    """First yields (-1, (records path, warnings)), then the records; ReadError when it breaks."""
    progress = _Progress()
    with path.open("rb") as f:
        start = 3 if f.read(3) == b"\xef\xbb\xbf" else 0
        f.seek(start)
        source = _Source(f, start)
        events: Iterator[tuple[str, Any]] = ijson.basic_parse(source, use_float=False, buf_size=BUF_SIZE)
        try:
            first = next(events, None)
            if first is None:
                raise ReadError("empty", "The file holds no JSON.")
            if first[0] == "start_array":
                if wanted is not None:
                    raise ReadError(
                        "records_path_not_found",
                        f"The document is an array, so there is no {'.'.join(wanted)!r} in it; "
                        "leave the records path empty.",
                    )
                yield -1, (None, [])
                yield from _array_items(events, progress)
                return
            if first[0] != "start_map":
                raise ReadError("no_records", "The document is a single value, not records.")
            top_keys: list[str] = []
            located = _locate(events, wanted, top_keys) if (wanted is not None or auto) else None
            if located is not None:
                found, pending = located
                yield -1, (".".join(found), [])
                yield from _array_items(chain([pending], events) if pending else events, progress)
                return
            if wanted is not None:
                listed = ", ".join(repr(k) for k in top_keys) or "none"
                raise ReadError(
                    "records_path_not_found",
                    f"The document has no array at {'.'.join(wanted)!r}; its top-level keys are {listed}.",
                )
        except _NumberTooLong as exc:
            raise ReadError(
                "number_too_long",
                f"The JSON has a run of more than {source.limit} digits {exc.where}; numbers that long "
                "cannot be read.",
                row=progress.row,
            ) from None
        except (ijson.JSONError, ValueError, ArithmeticError, SystemError) as exc:
            raise ReadError("invalid_json", _describe(source, exc), row=progress.row) from None
    # A top-level object with no array of records in it: the object itself is the one record.
    yield (
        -1,
        (None, ["The document is a single object with no array of records in it; it is read as one record."]),
    )
    yield from _single_object(path)


def _single_object(path: Path) -> Iterator[Item]:
    with path.open("rb") as f:
        start = 3 if f.read(3) == b"\xef\xbb\xbf" else 0
        f.seek(start)
        source = _Source(f, start)
        events: Iterator[tuple[str, Any]] = ijson.basic_parse(source, use_float=False, buf_size=BUF_SIZE)
        try:
            next(events)
            yield 1, _build(events, "start_map")
        except _TooDeep:
            yield 1, RowProblem(1, "too_deep", f"the record is nested more than {MAX_DEPTH} levels deep")
        except (ijson.JSONError, ValueError, ArithmeticError, SystemError, _NumberTooLong) as exc:
            raise ReadError("invalid_json", _describe(source, exc), row=1) from None
