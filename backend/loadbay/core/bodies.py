"""Request bodies other than file uploads: a size limit, and JSON that every part of the app can store.

An ASGI middleware, so that it acts before a body is read whole: a Content-Length over the limit
is refused at once, and a body without one (chunked) is refused as soon as the limit is passed,
with 413 in the error model. File uploads stream to disk under their own limit and are left alone.

A JSON body is also checked with orjson, which refuses what Python's json module lets through and
no database takes: lone surrogates (``"\\ud800"``), bytes that are not UTF-8, NaN and Infinity.
Such a body is a 422 naming the position, not a 500 from the driver. Text holding a NUL character
(``"\\u0000"``) is a 422 naming the field: PostgreSQL refuses it in text and jsonb alike, and SQLite
would store it, so both databases answer the same (a file name is cleaned instead, as for display).
The body that reaches the app is the original one, parsed there as usual (integers of any size
stay exact).
"""

import re
from collections.abc import Callable
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loadbay.errors import ErrorBody, FieldError


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def answer(send: Send, status: int, body: ErrorBody) -> None:
    payload = orjson.dumps(body.model_dump())
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    # The rest of the body is not read: the connection cannot be reused.
    headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


class RequestBodyLimit:
    def __init__(self, app: ASGIApp, *, limit: int, exempt: Callable[[str, str], bool]) -> None:
        self.app = app
        self.limit = limit
        self.exempt = exempt

    def _too_large(self, size: str) -> ErrorBody:
        return ErrorBody(
            error="body_too_large",
            detail=f"The request body is {size}; the limit is {self.limit:,} bytes (LOADBAY_MAX_JSON_BYTES). "
            "Send large data as a file upload, or in smaller requests.",
            fields=[FieldError(field="body", code="too_large", message=f"at most {self.limit:,} bytes")],
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.exempt(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        length = headers.get("content-length", "")
        if length.isascii() and length.isdigit() and int(length) > self.limit:
            await answer(send, 413, self._too_large(f"{int(length):,} bytes"))
            return
        chunks: list[bytes] = []
        size = 0
        early: list[Message] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                early.append(message)  # the client went away: let the app see it as usual
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await answer(send, 413, self._too_large("larger than that"))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body and _is_json(headers.get("content-type", "")):
            try:
                parsed = orjson.loads(body)
            except orjson.JSONDecodeError as exc:
                await answer(send, 422, _not_json(exc))
                return
            if _NUL_ESCAPE.search(body) and (where := _nul_path(parsed, [])) is not None:
                await answer(send, 422, _nul(where))
                return
        replay: list[Message] = [{"type": "http.request", "body": body, "more_body": False}, *early]

        async def replayed() -> Message:
            return replay.pop(0) if replay else await receive()

        await self.app(scope, replayed, send)


# `\u0000` in a JSON string (a raw NUL is not JSON), not `\\u0000` (a backslash, then text): a
# quick look at the bytes, so that only a body that has one is walked.
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
# Fields whose text is cleaned for display rather than refused (see imports.storage.clean_name).
CLEANED = frozenset({"file_name"})


def _nul_path(value: Any, path: list[str]) -> str | None:
    """The dotted path of the first text holding a NUL (a key or a value), None if there is none."""
    if isinstance(value, str):
        return ".".join(path) or "body" if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                return ".".join([*path, key.replace("\x00", "\\u0000")])
            if key in CLEANED and isinstance(item, str):
                continue
            if (found := _nul_path(item, [*path, key])) is not None:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if (found := _nul_path(item, [*path, str(i)])) is not None:
                return found
    return None


def _nul(where: str) -> ErrorBody:
    return ErrorBody(
        error="invalid",
        detail=f"{where}: holds a NUL character (\\u0000), which cannot be stored.",
        fields=[FieldError(field=where, code="nul_character", message="text without NUL characters")],
    )


def _not_json(exc: Any) -> ErrorBody:
    message = str(exc.msg) if hasattr(exc, "msg") else str(exc)
    where = f"line {exc.lineno}, column {exc.colno}" if hasattr(exc, "lineno") else "somewhere"
    return ErrorBody(
        error="invalid",
        detail=f"The body is not JSON that can be stored ({message}, at {where}): it must be UTF-8 "
        "text without lone surrogates, NaN or Infinity.",
        fields=[FieldError(field="body", code="json_invalid", message=message)],
    )
