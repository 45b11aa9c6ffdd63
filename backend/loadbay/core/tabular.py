"""Tables written for people to open in a spreadsheet: CSV streamed in blocks, XLSX in constant
memory, both safe from formula injection (the error report uses them; exports will too).

A text cell a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab, CR first) is
prefixed with an apostrophe in CSV and written as a plain string in XLSX; numbers stay numbers.
"""

import csv
import io
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import xlsxwriter

_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> str:
    """Text for a CSV cell that no spreadsheet will evaluate."""
    if value is None:
        return ""
    s = str(value)
    if s.startswith(_FORMULA_START) and not _NUMBER.match(s.strip()):
        return "'" + s
    return s


def write_csv(header: list[str], rows: Iterator[list[Any]]) -> Iterator[bytes]:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    buf.write("\ufeff")  # spreadsheets then read the file as UTF-8
    w.writerow([neutralise(h) for h in header])
    for i, row in enumerate(rows, start=1):
        w.writerow([neutralise(c) for c in row])
        if i % 1000 == 0:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode("utf-8")


def write_xlsx(header: list[str], rows: Iterator[list[Any]], sheet: str = "errors") -> Path:
    """Write to a temporary file (XlsxWriter's constant-memory mode) and return its path."""
    tmp = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)  # noqa: SIM115 - handed to the response
    tmp.close()
    wb = xlsxwriter.Workbook(
        tmp.name,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    ws = wb.add_worksheet(sheet)
    bold = wb.add_format({"bold": True})
    for c, h in enumerate(header):
        ws.write_string(0, c, str(h), bold)
    for r, row in enumerate(rows, start=1):
        for c, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, bool):
                ws.write_boolean(r, c, v)
            elif isinstance(v, int | float):
                ws.write_number(r, c, v)
            else:
                ws.write_string(r, c, str(v))
    wb.close()
    return Path(tmp.name)
