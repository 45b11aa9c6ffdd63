"""Readers for every supported format, behind the one interface in :mod:`.base`."""

from loadbay.imports.readers.base import Reader, ReadError
from loadbay.imports.readers.csv_reader import CsvReader
from loadbay.imports.readers.json_reader import JsonReader
from loadbay.imports.readers.sheet_reader import SheetReader


def reader_for(fmt: str) -> Reader:
    if fmt in ("csv", "tsv"):
        return CsvReader()
    if fmt in ("xlsx", "xls", "ods"):
        return SheetReader()
    if fmt in ("json", "ndjson"):
        return JsonReader()
    raise ReadError("not_supported", f"Files of type {fmt!r} cannot be imported.")
