"""An import's file: receiving an upload, detecting its format and profiling it.

Detection and profiling read the file, and some files are expensive to read on purpose (deep
nesting, huge tokens): they run in a child process (loadbay.core.isolate), never on the event
loop nor in a thread that competes with it, and are given at most ``settings.profile_seconds``;
past that the child is killed and the upload refused with a 422.

A new file is detected and profiled where it was received, and replaces the session's file only
once it is accepted: a refused upload leaves the session, and the file it had, exactly as they were.
"""

import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from loadbay.config import Settings
from loadbay.core.actor import Actor
from loadbay.core.isolate import ChildDied, TimedOut, run_isolated
from loadbay.errors import Conflict, TooManyRequests
from loadbay.imports import infer, storage
from loadbay.imports.models import ImportSession, ImportStatus
from loadbay.imports.readers import reader_for
from loadbay.imports.readers.base import ReadError, ReadOptions
from loadbay.imports.readers.detect import detect_format
from loadbay.imports.schemas import ReadOptionsIn
from loadbay.imports.service import PROFILE_ROWS, SAMPLES_SHOWN, UnreadableFile, get_session

log = structlog.get_logger()

UPLOADABLE = (ImportStatus.created, ImportStatus.uploaded, ImportStatus.mapped)


@dataclass(frozen=True)
class Pending:
    """What a new read of the session's file needs, taken before the transaction that checked it ends.

    On SQLite every transaction holds the database's write lock, so none may stay open while a file
    streams in or is profiled: the check runs in one transaction, the slow part in none, and the
    result is applied in a new one that checks again that nothing changed meanwhile.
    """

    import_id: int
    file_id: str
    file_name: str | None
    read_options: dict[str, Any]
    format: str | None = None


async def check_upload(
    session: AsyncSession, *, actor: Actor, import_id: int, file_name: str | None = None
) -> Pending:
    """Refuse an upload before its body is read: unknown session, or one past the mapping step."""
    imp = await get_session(session, actor=actor, import_id=import_id)
    _uploadable(imp)
    name = storage.clean_name(file_name) if file_name else imp.file_name
    return Pending(import_id, imp.file_id, name, dict(imp.read_options or {}))


def _uploadable(imp: ImportSession) -> None:
    if imp.status not in UPLOADABLE:
        raise Conflict(
            f"Import {imp.id} is {imp.status}; its file can no longer change.", code="wrong_status"
        )


def _unchanged(imp: ImportSession, pending: Pending) -> None:
    if (imp.read_options or {}) != pending.read_options:
        raise Conflict(
            f"The read options of import {imp.id} changed while the file was being read; send it again.",
            code="changed_meanwhile",
        )


# Uploads that one workspace may stream into one API process at once: a burst beyond this is told
# to come back (429) before its body is read, so it cannot fill the disk or starve other workspaces.
UPLOADS_AT_ONCE = 4
UPLOAD_RETRY_SECONDS = 5
_uploading: dict[int, int] = {}


@contextlib.contextmanager
def upload_slot(*, actor: Actor) -> Iterator[None]:
    """Hold one of the workspace's upload slots while a body streams in; 429 when none is free."""
    ws = actor.workspace_id
    if _uploading.get(ws, 0) >= UPLOADS_AT_ONCE:
        raise TooManyRequests(
            f"This workspace is already receiving {UPLOADS_AT_ONCE} files; send this one when one of "
            "them has arrived.",
            code="too_many_uploads",
            headers={"Retry-After": str(UPLOAD_RETRY_SECONDS)},
        )
    _uploading[ws] = _uploading.get(ws, 0) + 1
    try:
        yield
    finally:
        _uploading[ws] -= 1
        if not _uploading[ws]:
            del _uploading[ws]


async def receive_file(
    *, settings: Settings, body: AsyncIterator[bytes], content_length: int | None
) -> tuple[Path, storage.StoredFile]:
    """Stream the body to a temporary file of its own (so two uploads never write one file)."""
    tmp = storage.temp_path(settings.data_dir)
    stored = await storage.save_stream(body, tmp, limit=settings.max_upload_bytes, expected=content_length)
    return tmp, stored


async def attach_file(
    session: AsyncSession,
    *,
    actor: Actor,
    pending: Pending,
    settings: Settings,
    received: Path,
    stored: storage.StoredFile,
) -> ImportSession:
    """Profile the received file (with no transaction open), then, if accepted, make it the file."""
    try:
        if stored.size == 0:
            raise UnreadableFile("The file is empty (0 bytes).", code="file_empty")
        profile = await profile_file(
            received, settings=settings, file_name=pending.file_name, options=pending.read_options
        )
        imp = await get_session(session, actor=actor, import_id=pending.import_id, lock=True)
        _uploadable(imp)
        _unchanged(imp, pending)
    except BaseException:
        storage.discard(received)
        raise
    # The rename replaces the previous file in one step, after everything that could refuse it.
    storage.move(received, storage.path_of(settings.data_dir, imp.file_id))
    imp.file_size = stored.size
    imp.file_sha256 = stored.sha256
    if pending.file_name is not None:
        imp.file_name = pending.file_name
    imp.format = profile["format"]
    imp.profile = profile
    imp.status = ImportStatus.uploaded
    imp.mapping = None
    return imp


OPTIONS_CHANGEABLE = (ImportStatus.uploaded, ImportStatus.mapped, ImportStatus.staged)


async def check_options(
    session: AsyncSession, *, actor: Actor, import_id: int, options: ReadOptionsIn
) -> Pending:
    """Refuse new read options the session cannot take, before the file is read again."""
    imp = await get_session(session, actor=actor, import_id=import_id)
    if imp.status not in OPTIONS_CHANGEABLE:
        raise Conflict(
            f"Import {import_id} is {imp.status}; read options cannot change now.", code="wrong_status"
        )
    return Pending(import_id, imp.file_id, imp.file_name, options.model_dump(exclude_none=True), imp.format)


async def set_options(
    session: AsyncSession, *, actor: Actor, pending: Pending, settings: Settings
) -> ImportSession:
    """Read the file again with the new options (no transaction may be open), then keep them."""
    profile = await profile_file(
        storage.path_of(settings.data_dir, pending.file_id),
        settings=settings,
        file_name=pending.file_name,
        options=pending.read_options,
        fmt=pending.format,
    )
    imp = await get_session(session, actor=actor, import_id=pending.import_id, lock=True)
    if imp.status not in OPTIONS_CHANGEABLE or imp.format != pending.format:
        raise Conflict(
            f"Import {imp.id} changed while its file was being read; try again.", code="changed_meanwhile"
        )
    imp.read_options = pending.read_options
    imp.profile = profile
    imp.format = profile["format"]
    imp.status = ImportStatus.uploaded
    imp.mapping = None
    return imp


async def profile_file(
    path: Path,
    *,
    settings: Settings,
    file_name: str | None,
    options: dict[str, Any] | None,
    fmt: str | None = None,
) -> dict[str, Any]:
    """The file's profile (format included), worked out off the event loop within the limit; 422 if not."""
    try:
        answer = await run_isolated(
            _detect_and_inspect,
            path,
            file_name or path.name,
            fmt,
            options or {},
            limit=settings.profile_seconds,
        )
    except TimedOut:
        raise UnreadableFile(
            f"Reading the start of the file took longer than {settings.profile_seconds:g} s, so it was "
            "refused; a file of this shape (such as very deep nesting) cannot be imported.",
            code="profile_timeout",
        ) from None
    except ChildDied as e:
        log.warning("profile_child_died", error=str(e))
        raise UnreadableFile(
            "The file could not be read: the reader stopped before it finished.", code="reader_failed"
        ) from None
    if answer[0] == "error":
        _, code, message, row = answer
        where = f" (row {row})" if row else ""
        raise UnreadableFile(f"{message}{where}", code=code)
    profile: dict[str, Any] = answer[1]
    if not profile["columns"]:
        raise UnreadableFile("The file has no columns.", code="no_columns")
    return profile


def _detect_and_inspect(
    path: Path, file_name: str, fmt: str | None, options: dict[str, Any]
) -> tuple[Any, ...]:
    """Run in a child process (see loadbay.core.isolate): ("ok", profile) or ("error", code, message, row)."""
    try:
        return ("ok", _inspect(path, fmt or detect_format(path, file_name), ReadOptions(**options)))
    except ReadError as e:
        return ("error", e.code, e.message, e.row)


def _inspect(path: Path, fmt: str, options: ReadOptions) -> dict[str, Any]:
    reader = reader_for(fmt)
    info = reader.inspect(path, options, sample_rows=PROFILE_ROWS)
    columns = []
    decimal_comma = False
    for i, name in enumerate(info.columns):
        values = [cells[i] for _, cells in info.sample]
        t = infer.infer_type(values)
        decimal_comma = decimal_comma or t.decimal_comma
        samples = [
            _jsonable(v) for v in values if v is not None and not (isinstance(v, str) and not v.strip())
        ]
        columns.append(
            {
                "name": name,
                "index": i,
                "samples": samples[:SAMPLES_SHOWN],
                "blank_count": t.blank_count,
                "inferred_type": str(t.type),
                "confidence": round(t.confidence, 3),
                "enum_values": list(t.enum_values) if t.enum_values else None,
                "_values": [_jsonable(v) for v in values[:200]],
                # The whole inference, kept so that suggestions never work it out again.
                "_inferred": {**asdict(t), "type": str(t.type)},
            }
        )
    return {
        "format": info.format,
        "encoding": info.encoding,
        "delimiter": info.delimiter,
        "quotechar": info.quotechar,
        "header_row": info.header_row,
        "sheets": info.sheets,
        "sheet": info.sheet,
        "records_path": info.records_path,
        "decimal_comma": decimal_comma if options.decimal is None else options.decimal == ",",
        "decimal": options.decimal,
        "profiled_rows": len(info.sample),
        "columns": columns,
        "warnings": info.warnings,
    }


SAMPLE_CHARS = 1000  # a sample value is kept to this many characters: the profile stays small


def _jsonable(v: Any) -> Any:
    if v is None or isinstance(v, int | float | bool):
        return v
    text = v if isinstance(v, str) else str(v)
    return text if len(text) <= SAMPLE_CHARS else text[:SAMPLE_CHARS] + "…"
