"""Request bodies other than file uploads: a size limit, and JSON that every part of the app can store.

An ASGI middleware, so that it acts before a body is read whole: a Content-Length over the limit
is refused at once, and a body without one (chunked) is refused as soon as the limit is passed,
with 413 in the error model. File uploads stream to disk under their own limit and are left alone.

A JSON body is also checked with orjson, which refuses what Python's json module lets through and
no database takes: lone surrogates (``"\\ud800"``), bytes that are not UTF-8, NaN and Infinity.
Such a body is a 422 naming the position, not a 500 from the driver. The body that reaches the
app is the original one, parsed there as usual (integers of any size stay exact).
"""

from collections.abc import Callable
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loadbay.errors import ErrorBody, FieldError


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def _answer(send: Send, status: int, body: ErrorBody) -> None:
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
            await _answer(send, 413, self._too_large(f"{int(length):,} bytes"))
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
                await _answer(send, 413, self._too_large("larger than that"))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body and _is_json(headers.get("content-type", "")):
            try:
                orjson.loads(body)
            except orjson.JSONDecodeError as exc:
                await _answer(send, 422, _not_json(exc))
                return
        replay: list[Message] = [{"type": "http.request", "body": body, "more_body": False}, *early]

        async def replayed() -> Message:
            return replay.pop(0) if replay else await receive()

        await self.app(scope, replayed, send)


def _not_json(exc: Any) -> ErrorBody:
    message = str(exc.msg) if hasattr(exc, "msg") else str(exc)
    where = f"line {exc.lineno}, column {exc.colno}" if hasattr(exc, "lineno") else "somewhere"
    return ErrorBody(
        error="invalid",
        detail=f"The body is not JSON that can be stored ({message}, at {where}): it must be UTF-8 "
        "text without lone surrogates, NaN or Infinity.",
        fields=[FieldError(field="body", code="json_invalid", message=message)],
    )
