"""Uploaded files on disk: streamed in, hashed and counted on the way, stored under an id."""

import contextlib
import hashlib
import os
import re
import unicodedata
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import anyio

from loadbay.errors import StorageFull, TooLarge, UploadCut

_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.IGNORECASE)


@dataclass
class StoredFile:
    size: int
    sha256: str


def uploads_dir(data_dir: Path) -> Path:
    return data_dir / "uploads"


def new_file_id() -> str:
    return uuid.uuid4().hex


def temp_path(data_dir: Path) -> Path:
    return uploads_dir(data_dir) / f"receiving-{uuid.uuid4().hex}"


def path_of(data_dir: Path, file_id: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{32}", file_id):
        raise ValueError(f"not a file id: {file_id!r}")
    return uploads_dir(data_dir) / file_id


def clean_name(name: str | None) -> str:
    """A file name safe to show: no path, no control or bidi characters, at most 255 characters."""
    if not name:
        return "upload"
    name = unicodedata.normalize("NFC", name)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    # Format characters (Cf) include the bidi overrides that make "exe.csv" read as "vsc.exe".
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cf", "Cc", "Cs"))
    name = _UNSAFE.sub("_", name).strip(" .")
    if _WINDOWS_RESERVED.match(name):
        name = "_" + name
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 250 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else name[:255]
    return name or "upload"


async def save_stream(
    chunks: AsyncIterator[bytes], dest: Path, *, limit: int, expected: int | None = None
) -> StoredFile:
    """Write the stream to ``dest``; remove the partial file on any error.

    The limit is checked as bytes arrive, so an oversized body is refused without reading it all
    (with or without Content-Length).
    """
    if expected is not None and expected > limit:
        raise TooLarge(
            f"The file is {expected:,} bytes; the limit is {limit:,} bytes.", code="file_too_large"
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    ok = False
    try:
        async with await anyio.open_file(dest, "wb") as f:
            async for chunk in chunks:
                if not chunk:
                    continue
                size += len(chunk)
                if size > limit:
                    raise TooLarge(
                        f"The file is larger than the limit of {limit:,} bytes.", code="file_too_large"
                    )
                digest.update(chunk)
                try:
                    await f.write(chunk)
                except OSError as e:
                    if e.errno == 28:  # ENOSPC
                        raise StorageFull("The server's disk is full; the upload was discarded.") from None
                    raise
        if expected is not None and size != expected:
            raise UploadCut(f"The upload was cut off after {size:,} of {expected:,} bytes; send it again.")
        ok = True
        return StoredFile(size=size, sha256=digest.hexdigest())
    finally:
        if not ok:
            with contextlib.suppress(OSError):
                os.unlink(dest)


def discard(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def move(src: Path, dest: Path) -> None:
    """Atomic within the uploads directory: a reader sees the old file or the new one."""
    src.replace(dest)


def remove(data_dir: Path, file_id: str) -> None:
    with contextlib.suppress(OSError):
        path_of(data_dir, file_id).unlink()
