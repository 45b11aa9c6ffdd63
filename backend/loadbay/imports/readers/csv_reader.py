"""CSV and TSV files: encoding, delimiter, quote and header detection, then every row, streamed.

How a file is read, and why:

* The bytes are read in blocks and cut into runs of whole lines (LF, CRLF or a lone CR ends a line).
  A run is decoded in one call and handed to :func:`csv.reader` through ``io.StringIO`` and
  :func:`itertools.chain`, so the per-line and per-character work stays in C and memory holds a few
  blocks whatever the file size.
* Row numbers are physical lines. ``csv.reader.line_num`` counts the lines it has consumed, so a
  record starts one line after the previous record ended, also when a quoted field holds newlines.
* A run that fails to decode is decoded again line by line: a bad line becomes a row problem naming
  the line and the byte, and the rest of the file is read. Nothing is ever silently replaced by
  U+FFFD. UTF-16 and UTF-32 cannot be cut into lines as bytes; they are decoded as a stream and a
  decoding error stops the import with a :class:`ReadError`.
* A quote that is never closed would swallow the rest of the file. A quoted field may run for at
  most ``max_field_chars`` characters and a record for at most :data:`MAX_RECORD_LINES` lines, and
  the end of the file is marked with a sentinel line so an open quote there is noticed too. The
  record is then reported at the line where it starts and reading resumes one line below it; the
  lines of the current record are kept in memory (a few blocks at most) so this needs no seeking.
* Lines that hold a NUL character are row problems (``nul_byte``): PostgreSQL text cannot store
  NUL, and NULs in a text file usually mean a wrong encoding.
* Cells are the text between the delimiters, untouched (no trimming, no conversion). Blank lines
  and rows whose every field is empty (",,,") carry no data and are skipped; trailing empty fields
  past the last column (a spreadsheet export artefact) are dropped.

Detection, in :meth:`CsvReader.inspect`, looks at the first MiB: the encoding (a BOM, else UTF-8 if
it fits, else charset-normalizer), the quote character, the delimiter (the candidate that splits
the most records into the same number of fields) and the header (the first row, unless title or
note lines stand above it).
"""

import codecs
import csv
import gc
import io
import re
from collections import Counter, deque
from collections.abc import Generator, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from functools import partial
from itertools import chain, islice
from pathlib import Path
from typing import AnyStr, BinaryIO

import charset_normalizer

from loadbay.imports.readers.base import (
    Batch,
    FileInfo,
    ReadError,
    ReadOptions,
    RowProblem,
    unique_columns,
)

# What the encoding, delimiter and quote detection look at.
SAMPLE_BYTES = 1 << 20
SNIFF_LINES = 1000
DELIMITERS = (",", ";", "\t", "|")
# How much more "chaos" (charset-normalizer's mess ratio) Windows-1252 may show than the best guess
# and still be chosen; see _detect_encoding.
CP1252_TOLERANCE = 0.1
# Bytes (or, for UTF-16/32, characters) read at a time: big enough that the per-block Python work
# is negligible, small enough that the few blocks in memory do not matter.
BLOCK_SIZE = 1 << 18
# A record spanning more lines than this has a quote that is never closed.
MAX_RECORD_LINES = 10_000
# A line with no line break this far is dropped (a binary file, a file without line breaks); a
# real line holds many fields, hence the factor.
LINE_LIMIT_FACTOR = 64
# Records parsed to find the header, and how far below the first record the header may start.
HEADER_SCAN_RECORDS = 100
HEADER_LOOKAHEAD = 20

_EOF = "eof"  # the code of the sentinel line after the last line of the file
_CONTINUE, _DONE = 0, -1  # what the parser does after a record; a positive value: resume at that line

_LETTER = re.compile(r"[^\W\d_]")
_DIGIT = re.compile(r"\d")
_TSV_SUFFIXES = {".tsv", ".tab"}

_Flag = tuple[int, str, str]  # a line that is a problem whatever it parses as: line, code, message
_Row = tuple[int, list[str]]
_BOMS = (
    # UTF-32 first: its little-endian BOM starts with the UTF-16 one.
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_UNICODE_BOMS = {
    "utf-16": (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE),
    "utf-32": (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE),
}


class CsvReader:
    """The :class:`~loadbay.imports.readers.base.Reader` for delimited text (CSV, TSV, ``;``, ``|``)."""

    def inspect(self, path: Path, options: ReadOptions, *, sample_rows: int = 100) -> FileInfo:
        with path.open("rb") as f:
            head = f.read(SAMPLE_BYTES)
            truncated = bool(f.read(1))
        if not head:
            raise ReadError("file_empty", "The file is empty.")
        dec = _decoding(options.encoding or _detect_encoding(head, truncated), head)
        if len(head) <= dec.bom:
            raise ReadError("file_empty", "The file is empty.")
        if options.header_row is not None and options.header_row < 0:
            raise ReadError("invalid_option", "The header row must be a line number, or 0 for no header.")
        lines = list(islice(io.StringIO(_sample_text(head, dec, truncated), newline=""), SNIFF_LINES))
        quotechar = _one_char(options.quotechar, "quote character") or _sniff_quotechar(lines)
        delimiter = (
            _one_char(options.delimiter, "delimiter")
            or _sniff_delimiter(lines, quotechar)
            or ("\t" if path.suffix.lower() in _TSV_SUFFIXES else ",")
        )
        if delimiter == quotechar:
            raise ReadError("invalid_option", "The delimiter and the quote character must differ.")
        plan = _Plan(dec, delimiter, quotechar, options.max_field_chars)

        records = _scan(path, plan, options.header_row or 0)
        header_line, columns, warnings = _choose_header(records, options)
        sample: list[_Row] = []
        if sample_rows > 0:
            seen = 0
            with closing(_parse(path, plan, len(columns), sample_rows, header_line)) as batches:
                for batch in batches:
                    sample.extend(batch.rows)
                    # A file whose every row is a problem must not be read to the end here.
                    seen += len(batch.rows) + len(batch.problems)
                    if len(sample) >= sample_rows or seen >= 10 * sample_rows + 1000:
                        break
        return FileInfo(
            format="tsv" if delimiter == "\t" else "csv",
            columns=columns,
            sample=sample[:sample_rows],
            encoding=dec.name,
            delimiter=delimiter,
            quotechar=quotechar,
            header_row=header_line,
            warnings=warnings,
        )

    def batches(
        self,
        path: Path,
        info: FileInfo,
        options: ReadOptions,
        *,
        batch_size: int = 50_000,
        part: "Part | None" = None,
    ) -> Iterator[Batch]:
        """Every record below the header, or only those of one part (see :meth:`split`)."""
        plan = self._plan(path, info, options)
        header_line = 1 if info.header_row is None else info.header_row
        if part is None or part.start is None:
            stop = part.stop if part is not None else None
            yield from _parse(path, plan, len(info.columns), max(1, batch_size), header_line, stop=stop)
        else:
            yield from _parse(
                path,
                plan,
                len(info.columns),
                max(1, batch_size),
                0,
                begin=(part.start, part.first_line),
                stop=part.stop,
            )

    def split(
        self, path: Path, info: FileInfo, options: ReadOptions, *, parts: int, min_bytes: int
    ) -> list["Part"]:
        """Cut the file into up to ``parts`` parts of at least ``min_bytes`` that can be read side by side.

        A cut goes after a line break outside any quoted field (an even number of quote characters
        before it), found with byte counts, without parsing. Reading a part that ends at a cut checks
        that a record really starts there (:class:`SplitMismatch` otherwise), since a quote character
        inside an unquoted field can fool the count. One part (no cut) when the encoding does not
        allow cutting bytes at line breaks or the file is too small.
        """
        plan = self._plan(path, info, options)
        size = path.stat().st_size
        n = min(parts, size // max(1, min_bytes))
        quote = plan.quotechar.encode(plan.dec.codec, "ignore")
        header_line = 1 if info.header_row is None else info.header_row
        if n < 2 or not plan.dec.by_lines or len(quote) != 1 or quote[0] >= 0x80:
            return [Part(None, 1, None)]
        targets = [size * k // n for k in range(1, n)]
        cuts = _find_cuts(path, plan.dec.bom, targets, quote)
        cuts = [(offset, line) for offset, line in cuts if line > header_line + 1]
        if not cuts:
            return [Part(None, 1, None)]
        out = [Part(None, 1, cuts[0][1])]
        for i, (offset, line) in enumerate(cuts):
            out.append(Part(offset, line, cuts[i + 1][1] if i + 1 < len(cuts) else None))
        return out

    def _plan(self, path: Path, info: FileInfo, options: ReadOptions) -> "_Plan":
        with path.open("rb") as f:
            head = f.read(SAMPLE_BYTES if info.encoding is None else 4)
        if not head:
            raise ReadError("file_empty", "The file is empty.")
        encoding = info.encoding or options.encoding or _detect_encoding(head, truncated=True)
        return _Plan(
            _decoding(encoding, head),
            info.delimiter or ",",
            info.quotechar or '"',
            options.max_field_chars,
        )


@dataclass(frozen=True)
class Part:
    """A stretch of a delimited file that reads on its own.

    From the line that starts at byte ``start`` (numbered ``first_line``), or from the top of the
    file, header included, when ``start`` is None; up to line ``stop``, not included (None: the end).
    """

    start: int | None
    first_line: int
    stop: int | None


class SplitMismatch(Exception):
    """A part ended inside a record: the cut was not at a record boundary after all."""


CUT_SCAN_BLOCK = 1 << 23
# How far past its target a cut is looked for before the target is given up (fewer parts).
CUT_SEARCH_BYTES = 1 << 22


def _find_cuts(path: Path, bom: int, targets: list[int], quote: bytes) -> list[tuple[int, int]]:
    """For each target byte, the first line start after it outside quotes: (byte offset, line number)."""
    cuts: list[tuple[int, int]] = []
    quotes = breaks = 0  # before the current block
    pos = bom
    ended_cr = False
    pending = sorted(targets)
    with path.open("rb") as f:
        f.seek(bom)
        while pending:
            block = f.read(CUT_SCAN_BLOCK)
            if not block:
                break
            # A CRLF cut by the block edge is one break, counted twice below.
            overlap = 1 if ended_cr and block.startswith(b"\n") else 0
            end = pos + len(block)
            while pending and pending[0] < end:
                target = max(pending[0], pos)
                idx = block.find(b"\n", target - pos)
                counted, inside = 0, quotes
                while idx >= 0:
                    inside += block.count(quote, counted, idx)
                    counted = idx
                    if inside % 2 == 0 or pos + idx - pending[0] > CUT_SEARCH_BYTES:
                        break
                    idx = block.find(b"\n", idx + 1)
                if idx < 0:
                    # Not in this block: go on from the start of the next one.
                    pending[0] = end
                    break
                if inside % 2 == 0:
                    head = block[: idx + 1]
                    lines = head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") - overlap
                    cuts.append((pos + idx + 1, breaks + lines + 1))
                pending.pop(0)
            quotes += block.count(quote)
            breaks += block.count(b"\n") + block.count(b"\r") - block.count(b"\r\n") - overlap
            ended_cr = block.endswith(b"\r")
            pos = end
    # Two targets may land on the same line in a file of very long lines.
    return sorted(set(cuts))


# --- encodings -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Decoding:
    name: str  # as reported in FileInfo.encoding
    codec: str  # what decodes the bytes after the BOM
    bom: int  # bytes skipped at the start
    by_lines: bool  # line breaks are the single bytes LF and CR, so the bytes can be cut into lines


def _detect_encoding(head: bytes, truncated: bool) -> str:
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    # UTF-16 without a BOM: mostly-ASCII text has a NUL in every other byte. (It would otherwise
    # pass for UTF-8, NULs and all.)
    if head.count(0) * 4 > len(head):
        odd, even = head[1::2].count(0), head[0::2].count(0)
        if odd > 4 * even:
            return "utf-16-le"
        if even > 4 * odd:
            return "utf-16-be"
    try:
        # Incremental, so that a character cut in two by the end of the sample does not count.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=not truncated)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    if _mostly_utf8(head, truncated):
        return "utf-8"
    best = charset_normalizer.from_bytes(head).best()
    # On mostly-ASCII samples many single-byte code pages decode equally cleanly, and the pick
    # among them is arbitrary (cp1250, cp775, cp1006 for plain French or German text). Windows-1252,
    # the spreadsheet default in Western Europe and the Americas, wins whenever it reads the sample
    # about as cleanly as the best guess; it also stands in when nothing fits.
    western = charset_normalizer.from_bytes(head, cp_isolation=["cp1252"]).best()
    if best is None or (western is not None and western.chaos <= best.chaos + CP1252_TOLERANCE):
        return "cp1252"
    return codecs.lookup(best.encoding).name


def _mostly_utf8(head: bytes, truncated: bool) -> bool:
    """At least as many non-ASCII lines are valid UTF-8 as are not (a UTF-8 file with a few pasted
    Windows-1252 lines).

    Valid multi-byte UTF-8 hardly ever happens by chance in another encoding, and choosing UTF-8 then
    reports the odd lines as problems, where any other choice would silently garble the UTF-8 ones.
    """
    lines = head.splitlines()
    if truncated:
        lines = lines[:-1]
    good = bad = 0
    for line in lines:
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad += 1
        else:
            good += 1
    return good > 0 and good >= bad


def _decoding(name: str, head: bytes) -> _Decoding:
    try:
        codec = codecs.lookup(name).name
        # Rejects codecs that are not text encodings (base64, rot13 …).
        newline = "\n".encode(codec)
    except LookupError as exc:
        raise ReadError("encoding", f"{name!r} is not a known text encoding.") from exc
    if codec in ("utf-8", "utf-8-sig"):
        # The BOM is skipped also when UTF-8 was chosen by hand: it must not end up in the header.
        return _Decoding(codec, "utf-8", 3 if head.startswith(codecs.BOM_UTF8) else 0, True)
    for family, (le_bom, be_bom) in _UNICODE_BOMS.items():
        if codec == family:
            if head.startswith(le_bom):
                return _Decoding(codec, f"{family}-le", len(le_bom), False)
            if head.startswith(be_bom):
                return _Decoding(codec, f"{family}-be", len(be_bom), False)
            # Without a BOM Python would take the machine's byte order; spell out the usual one.
            return _Decoding(codec, f"{family}-le", 0, False)
        if codec in (f"{family}-le", f"{family}-be"):
            bom = le_bom if codec.endswith("le") else be_bom
            return _Decoding(codec, codec, len(bom) if head.startswith(bom) else 0, False)
    return _Decoding(codec, codec, 0, newline == b"\n" and "\r".encode(codec) == b"\r")


def _sample_text(head: bytes, dec: _Decoding, truncated: bool) -> str:
    """The sample as text, for sniffing only (which is why errors may be replaced here)."""
    text = codecs.getincrementaldecoder(dec.codec)(errors="replace").decode(
        head[dec.bom :], final=not truncated
    )
    if truncated:
        cut = max(text.rfind("\n"), text.rfind("\r"))
        if cut > 0:
            text = text[: cut + 1]
    return text


# --- delimiter, quote and header --------------------------------------------------------------------


def _one_char(value: str | None, what: str) -> str | None:
    if value is None or value == "":
        return None
    if len(value) != 1 or value in "\r\n":
        raise ReadError("invalid_option", f"The {what} must be a single character, not {value!r}.")
    return value


def _sniff_quotechar(lines: list[str]) -> str:
    """``'`` only when it clearly quotes fields and ``"`` never appears; else ``"``."""
    if any('"' in line for line in lines):
        return '"'
    # A field wholly inside single quotes: an apostrophe in a word (O'Brien) does not match.
    quoted = re.compile(r"(?:^|[,;\t|])'[^']*'(?:[,;\t|]|\r?\n?$)")
    filled = [line for line in lines if line.strip()]
    hits = sum(1 for line in filled if quoted.search(line))
    return "'" if hits and hits * 2 >= len(filled) else '"'


def _sniff_delimiter(lines: list[str], quotechar: str) -> str | None:
    """The candidate that splits the most records into the same number (at least 2) of fields.

    Records are parsed with the quote character, so delimiters inside quoted fields do not count.
    Ties go to more fields, then to the order of :data:`DELIMITERS`.
    """
    best: tuple[float, int, int] | None = None
    choice = None
    for index, delimiter in enumerate(DELIMITERS):
        widths: list[int] = []
        try:
            for cells in csv.reader(lines, delimiter=delimiter, quotechar=quotechar, strict=False):
                if any(cells):
                    widths.append(len(cells))
        except csv.Error:
            pass  # an over-long field in the sample: judge on the records before it
        if not widths:
            continue
        width, hits = max(Counter(widths).items(), key=lambda item: (item[1], item[0]))
        if width < 2:
            continue
        key = (hits / len(widths), width, -index)
        if best is None or key > best:
            best, choice = key, delimiter
    return choice


@dataclass(frozen=True)
class _Record:
    line: int
    cells: list[str] | None
    problem: RowProblem | None


def _scan(path: Path, plan: "_Plan", header_row: int) -> list[_Record]:
    """The first records as they are (no field count), from ``header_row`` on if it is given."""
    records: list[_Record] = []
    with closing(_parse(path, plan, -1, HEADER_SCAN_RECORDS, 0)) as batches:
        for batch in batches:
            found = [_Record(line, cells, None) for line, cells in batch.rows]
            found += [_Record(p.row, p.cells, p) for p in batch.problems]
            records += [r for r in found if r.line >= header_row]
            if len(records) >= HEADER_SCAN_RECORDS:
                break
    records.sort(key=lambda r: r.line)
    return records


def _choose_header(records: list[_Record], options: ReadOptions) -> tuple[int, list[str], list[str]]:
    """The header's line (0: none), the columns and the warnings."""
    if options.header_row and not any(r.line == options.header_row for r in records):
        raise ReadError(
            "header_not_found",
            f"No row starts on line {options.header_row}: it is blank, inside a quoted field, "
            "or past the end of the file.",
            row=options.header_row,
        )
    usable = [r for r in records if r.cells]
    if not usable:
        problem = next((r.problem for r in records if r.problem), None)
        if problem is None:
            raise ReadError("file_empty", "The file has no rows, only blank lines.")
        raise ReadError(problem.code, problem.message, row=problem.row)
    width = _dominant_width(usable)
    warnings: list[str] = []

    if options.header_row == 0:
        if width > options.max_columns:
            raise ReadError(
                "too_many_columns",
                f"The rows have {width} fields; at most {options.max_columns} columns are supported.",
            )
        return 0, [f"column {i}" for i in range(1, width + 1)], warnings

    if options.header_row is not None:
        header = next(r for r in records if r.line == options.header_row)
    else:
        header = _find_header(usable, width)
        if header.line > records[0].line:
            warnings.append(f"The header is on line {header.line}; the lines above it are skipped.")
    # A line above the header that could not be read may have been the real header.
    warnings.extend(
        f"Line {r.line}, above the header, cannot be read: {r.problem.message}."
        for r in records
        if r.line < header.line and r.problem is not None
    )
    if header.problem is not None:
        if not header.cells:
            raise ReadError(header.problem.code, header.problem.message, row=header.line)
        warnings.append(f"The header on line {header.line} has a problem: {header.problem.message}")

    raw = list(header.cells or [])
    data_width = _dominant_width([r for r in usable if r.line > header.line]) if len(usable) > 1 else 0
    # Spreadsheets often export the header with trailing delimiters the data does not have.
    if data_width and len(raw) > data_width and not any(c.strip() for c in raw[data_width:]):
        raw = raw[:data_width]
    if len(raw) > options.max_columns:
        raise ReadError(
            "too_many_columns",
            f"The header on line {header.line} has {len(raw)} columns; "
            f"at most {options.max_columns} are supported.",
            row=header.line,
        )
    columns, renamed = unique_columns(raw)
    return header.line, columns, warnings + renamed


def _dominant_width(records: list[_Record]) -> int:
    widths = Counter(len(r.cells) for r in records if r.cells)
    if not widths:
        return 0
    return max(widths.items(), key=lambda item: (item[1], item[0]))[0]


def _find_header(usable: list[_Record], width: int) -> _Record:
    """The first record, unless it is a title or note above the header (a "preamble" line).

    Then the first record below the preamble lines is the header if it has the usual number of fields
    and looks like one. Only preamble-like lines are ever skipped, so no data row is lost to a wrong
    guess.
    """
    first = usable[0]
    if not _preamble_like(first.cells or [], width):
        return first
    for record in usable[1:HEADER_LOOKAHEAD]:
        cells = record.cells or []
        if _preamble_like(cells, width):
            continue
        if len(cells) == width and _looks_like_header(cells):
            return record
        break
    return first


def _preamble_like(cells: list[str], width: int) -> bool:
    """A title or note line: at most half of the usual number of fields is filled."""
    filled = sum(1 for c in cells if c.strip())
    return width > 1 and filled * 2 <= width


def _looks_like_header(cells: list[str]) -> bool:
    """Mostly filled, mostly distinct, mostly not numbers or dates."""
    filled = [c.strip() for c in cells if c.strip()]
    if len(filled) * 2 <= len(cells):
        return False
    if len({name.casefold() for name in filled}) * 5 < len(filled) * 4:
        return False
    numbers = sum(1 for name in filled if _DIGIT.search(name) and not _LETTER.search(name))
    return numbers * 4 <= len(filled)


# --- lines ------------------------------------------------------------------------------------------


def _line_runs(blocks: Iterable[AnyStr], limit: int, lf: AnyStr, cr: AnyStr) -> Iterator[AnyStr | None]:
    """Cut blocks into runs of whole lines; the last run may lack a line break.

    A line still without a break after ``limit`` characters is dropped and stands as ``None``.
    """
    empty = lf[:0]
    carry = empty
    dropping = False
    for block in blocks:
        buf = carry + block if carry else block
        carry = empty
        if dropping:
            end = _first_line_end(buf, lf, cr)
            if end < 0:
                carry = cr if buf.endswith(cr) else empty
                continue
            dropping = False
            buf = buf[end:]
        # A CR that ends the block may be the first half of a CRLF, so it cannot end a run.
        cut = buf.rfind(lf) + 1 or buf.rfind(cr, 0, len(buf) - 1) + 1
        if cut:
            yield buf[:cut]
            carry = buf[cut:]
        else:
            carry = buf
        if len(carry) > limit:
            yield None
            dropping = True
            carry = cr if carry.endswith(cr) else empty
    if carry and not dropping:
        yield carry if len(carry) <= limit else None


def _first_line_end(buf: AnyStr, lf: AnyStr, cr: AnyStr) -> int:
    """Where the first line of ``buf`` ends (after its break), or -1 if that is not known yet."""
    n = buf.find(lf)
    r = buf.find(cr)
    if r < 0 or 0 <= n < r:
        return n + 1 if n >= 0 else -1
    if r + 1 < len(buf):
        return r + 2 if buf[r + 1 : r + 2] == lf else r + 1
    return -1


def _count_lines(text: str) -> int:
    """Lines as io.StringIO(newline="") and csv.reader see them: LF, CRLF and a lone CR end one."""
    count = text.count("\n")
    if "\r" in text:
        count += text.count("\r") - text.count("\r\n")
    if not text.endswith(("\n", "\r")):
        count += 1
    return count


@dataclass(frozen=True)
class _Chunk:
    first: int  # line number of its first line
    count: int
    text: str
    flags: list[_Flag]


class _RecordOverrun(Exception):
    """The record being parsed has run over more than MAX_RECORD_LINES lines."""


class _Source:
    """The file's text for csv.reader: iterating gives an io.StringIO per run of whole lines.

    It numbers the lines, flags the ones that are problems whatever they parse as (undecodable,
    NUL, over-long, and the sentinel after the last line), and keeps the runs since the record
    being parsed started (``keep_from``, set by the parser after every record) so that parsing can
    resume at any line of that record.
    """

    # Slots: the parser sets keep_from after every record, on the hot path.
    __slots__ = ("_dec", "_ended", "_limit", "_runs", "flagged", "keep_from", "kept", "next_line")

    def __init__(self, f: BinaryIO, dec: _Decoding, limit: int, start: tuple[int, int] | None = None) -> None:
        self._dec = dec
        self._limit = limit
        # A later part of the file starts at a line start, which only a byte-cut encoding allows.
        assert start is None or dec.by_lines
        f.seek(dec.bom if start is None else start[0])
        self._runs: Iterator[bytes | str | None]
        if dec.by_lines:
            self._runs = _line_runs(iter(partial(f.read, BLOCK_SIZE), b""), limit, b"\n", b"\r")
        else:
            text = io.TextIOWrapper(f, encoding=dec.codec, errors="strict", newline="")
            self._runs = _line_runs(iter(partial(text.read, BLOCK_SIZE), ""), limit, "\n", "\r")
        self._ended = False
        self.next_line = 1 if start is None else start[1]
        self.keep_from = self.next_line
        self.kept: deque[_Chunk] = deque()
        self.flagged: deque[_Flag] = deque()

    def __iter__(self) -> "_Source":
        return self

    def __next__(self) -> io.StringIO:
        first = self.next_line
        if first - self.keep_from > MAX_RECORD_LINES:
            raise _RecordOverrun
        try:
            run = next(self._runs)
        except StopIteration:
            if self._ended:
                raise
            self._ended = True
            text, flags = "\n", [(first, _EOF, "")]
        except UnicodeDecodeError as exc:
            raise ReadError(
                "encoding",
                f"The text from line {first} on is not valid {self._dec.codec}; choose the file's encoding.",
                row=first,
            ) from exc
        else:
            text, flags = self._decode(run, first)
        count = _count_lines(text)
        kept = self.kept
        while kept and kept[0].first + kept[0].count <= self.keep_from:
            kept.popleft()
        kept.append(_Chunk(first, count, text, flags))
        if flags:
            self.flagged.extend(flags)
        self.next_line = first + count
        return io.StringIO(text, newline="")

    def restart_at(self, line: int) -> Iterator[str]:
        """The lines from ``line`` on: what is kept, then the rest of the file."""
        self.keep_from = line
        parts: list[Iterable[str]] = []
        self.flagged.clear()
        for chunk in self.kept:
            if chunk.first + chunk.count <= line:
                continue
            lines = io.StringIO(chunk.text, newline="").readlines()
            parts.append(lines[max(0, line - chunk.first) :])
            self.flagged.extend(flag for flag in chunk.flags if flag[0] >= line)
        return chain(chain.from_iterable(parts), chain.from_iterable(self))

    def _decode(self, run: bytes | str | None, first: int) -> tuple[str, list[_Flag]]:
        if run is None:
            unit = "bytes" if self._dec.by_lines else "characters"
            message = f"line {first} is longer than {self._limit} {unit}; it was skipped"
            return "\n", [(first, "field_too_large", message)]
        flags: list[_Flag] = []
        if isinstance(run, bytes):
            try:
                text = run.decode(self._dec.codec)
            except UnicodeDecodeError:
                text = self._decode_lines(run, first, flags)
        else:
            text = run
        if "\x00" in text:
            text = _flag_nul(text, first, flags)
        return text, flags

    def _decode_lines(self, run: bytes, first: int, flags: list[_Flag]) -> str:
        """Decode line by line; a line that fails is flagged and kept, escaped, for the report."""
        codec = self._dec.codec
        parts: list[str] = []
        # bytes.splitlines breaks at LF, CR and CRLF only, like the line counting.
        for number, raw in enumerate(run.splitlines(keepends=True), start=first):
            try:
                parts.append(raw.decode(codec))
            except UnicodeDecodeError as exc:
                message = (
                    f"line {number} is not valid {codec} (byte 0x{raw[exc.start]:02x}); "
                    "choose the file's encoding"
                )
                flags.append((number, "encoding", message))
                parts.append(raw.decode(codec, "backslashreplace"))
        return "".join(parts)


def _flag_nul(text: str, first: int, flags: list[_Flag]) -> str:
    """Flag the lines holding NUL and make the NULs visible (``\\x00``) for the error report."""
    flagged = {flag[0] for flag in flags}
    lines = io.StringIO(text, newline="").readlines()
    for index, line in enumerate(lines):
        if "\x00" in line:
            number = first + index
            if number not in flagged:
                message = f"line {number} contains a NUL byte; check the file's encoding"
                flags.append((number, "nul_byte", message))
            lines[index] = line.replace("\x00", "\\x00")
    flags.sort()
    return "".join(lines)


# --- parsing ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    dec: _Decoding
    delimiter: str
    quotechar: str
    max_field_chars: int


def _parse(
    path: Path,
    plan: _Plan,
    ncols: int,
    batch_size: int,
    after_line: int,
    *,
    begin: tuple[int, int] | None = None,
    stop: int | None = None,
) -> Generator[Batch, None, None]:
    """Every record after line ``after_line`` (the header), in batches.

    ``ncols`` is the number of columns; -1 keeps records as they are (for finding the header).
    ``begin`` (byte offset, its line number) starts at a line other than the first; ``stop`` ends
    before that line, which must begin a record (:class:`SplitMismatch` if a record runs over it).
    """
    limit = plan.max_field_chars
    stop_line = stop if stop is not None else 1 << 62
    paused = _pause_gc()
    try:
        with path.open("rb") as f:
            source = _Source(f, plan.dec, LINE_LIMIT_FACTOR * limit, begin)
            flagged = source.flagged
            rows: list[_Row] = []
            problems: list[RowProblem] = []
            lines: Iterator[str] = chain.from_iterable(source)
            reader = None
            base = last_end = source.next_line - 1
            while True:
                # The limit is process-wide; set it again whenever parsing resumes after a yield,
                # in case another reader in this process has changed it meanwhile.
                csv.field_size_limit(limit)
                if reader is None:
                    reader = csv.reader(
                        lines, delimiter=plan.delimiter, quotechar=plan.quotechar, strict=False
                    )
                action = _CONTINUE
                try:
                    for cells in reader:
                        end = base + reader.line_num
                        start = last_end + 1
                        if end >= stop_line:
                            if start != stop_line:
                                raise SplitMismatch(f"a record runs from line {start} over line {stop_line}")
                            action = _DONE
                            break
                        last_end = end
                        source.keep_from = end + 1
                        # The common case, inline: one line, the right width, not blank, not flagged.
                        if (
                            start == end
                            and len(cells) == ncols
                            and (not flagged or flagged[0][0] > end)
                            and any(cells)
                        ):
                            rows.append((start, cells))
                            if len(rows) < batch_size:
                                continue
                        else:
                            action = _record(start, end, cells, ncols, flagged, rows, problems)
                            if action:
                                break
                            if len(rows) + len(problems) < batch_size:
                                continue
                        if after_line and _above(rows, problems, after_line):
                            rows, problems = _below(rows, problems, after_line)
                            if len(rows) + len(problems) < batch_size:
                                continue
                        if paused:
                            gc.enable()
                            paused = False
                        yield Batch(rows, problems)
                        paused = _pause_gc()
                        rows, problems = [], []
                        csv.field_size_limit(limit)
                    else:
                        action = _DONE
                except csv.Error as exc:
                    line = base + reader.line_num
                    start = last_end + 1
                    if start >= stop_line:
                        break
                    while flagged and flagged[0][0] <= line:
                        flagged.popleft()
                    too_large = "field larger than field limit" in str(exc)
                    if line > start:
                        # Only a quoted field runs over lines; one this long has most likely lost
                        # its closing quote, and the lines it swallowed are rows of their own.
                        why = f"it is still open at line {line}, past {limit} characters"
                        problems.append(_unterminated(start, why if too_large else str(exc)))
                        action = start + 1
                    else:
                        if too_large:
                            message = f"a field is longer than {limit} characters"
                            problems.append(RowProblem(start, "field_too_large", message))
                        else:
                            message = f"the line cannot be read as CSV ({exc})"
                            problems.append(RowProblem(start, "malformed", message))
                        last_end = line
                        source.keep_from = line + 1
                except _RecordOverrun:
                    start = last_end + 1
                    why = f"it runs over more than {MAX_RECORD_LINES} lines"
                    problems.append(_unterminated(start, why))
                    action = start + 1
                if action == _DONE:
                    break
                if action > 0:
                    lines = source.restart_at(action)
                    reader = None
                    base = last_end = action - 1
            if after_line and _above(rows, problems, after_line):
                rows, problems = _below(rows, problems, after_line)
            if paused:
                gc.enable()
                paused = False
            if rows or problems:
                yield Batch(rows, problems)
    finally:
        if paused:
            gc.enable()


def _pause_gc() -> bool:
    """Switch the cyclic garbage collector off while a batch is built; True if this did it.

    Every row is a new list in a new tuple, and all of them stay alive until the batch is handed
    over, so the collector would traverse them again and again for nothing (they form no cycles):
    with it running, reading takes about twice as long. It is switched back on before every yield
    and when parsing stops for any reason, so it is off only while this generator runs.
    """
    if not gc.isenabled():
        return False
    gc.disable()
    return True


def _record(
    start: int,
    end: int,
    cells: list[str],
    ncols: int,
    flagged: deque[_Flag],
    rows: list[_Row],
    problems: list[RowProblem],
) -> int:
    """Everything but the common case; returns _CONTINUE, _DONE or the line to resume at."""
    # First, so that the outcome does not depend on where the blocks happened to end: the source
    # raises _RecordOverrun for the same records when it notices them before they end.
    if end - start >= MAX_RECORD_LINES:
        problems.append(_unterminated(start, f"it runs over more than {MAX_RECORD_LINES} lines"))
        return start + 1
    if flagged and flagged[0][0] <= end:
        found: list[_Flag] = []
        while flagged and flagged[0][0] <= end:
            flag = flagged.popleft()
            if flag[0] >= start:
                found.append(flag)
        eof = next((flag for flag in found if flag[1] == _EOF), None)
        if eof is not None:
            if eof[0] == start:
                return _DONE
            problems.append(_unterminated(start, "it is still open at the end of the file"))
            return start + 1
        if found:
            problems.append(RowProblem(start, found[0][1], found[0][2], cells or None))
            return _CONTINUE
    n = len(cells)
    # Blank lines, lines of spaces and rows of empty fields (",,,,") carry no data: skipped.
    if not any(cells) or (n == 1 and ncols != 1 and not cells[0].strip()):
        return _CONTINUE
    if n == ncols or ncols < 0:
        rows.append((start, cells))
    elif n > ncols and not any(cells[ncols:]):
        # Trailing empty fields past the header: a common spreadsheet export artefact.
        rows.append((start, cells[:ncols]))
    else:
        code = "too_many_fields" if n > ncols else "too_few_fields"
        problems.append(RowProblem(start, code, f"expected {ncols} fields, got {n}", cells))
    return _CONTINUE


def _unterminated(line: int, why: str) -> RowProblem:
    return RowProblem(
        line,
        "unterminated_quote",
        f"a quoted field on line {line} is never closed ({why}); reading resumes at line {line + 1}",
    )


def _above(rows: list[_Row], problems: list[RowProblem], after_line: int) -> bool:
    """Whether some of these records are on or above the header line."""
    return bool((rows and rows[0][0] <= after_line) or (problems and problems[0].row <= after_line))


def _below(
    rows: list[_Row], problems: list[RowProblem], after_line: int
) -> tuple[list[_Row], list[RowProblem]]:
    """The records below the header line: the ones above it are not data, nor problems."""
    return [row for row in rows if row[0] > after_line], [p for p in problems if p.row > after_line]
