"""Query strings the database can take: a NUL character in a parameter is a 422 naming it.

PostgreSQL refuses NUL in text, so a search or filter holding one would reach the driver and come
back as a generic refusal naming nothing; SQLite would search for it. Both databases answer the same
here, before any route runs. (JSON bodies get the same check in ``core.bodies``.) A file name is
cleaned for display instead, as in a body (``core.bodies.CLEANED``).
"""

from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from loadbay.core.bodies import CLEANED, answer
from loadbay.errors import ErrorBody, FieldError


def nul_parameter(query_string: bytes) -> str | None:
    """The name of the first query parameter whose name or value holds a NUL, None if none does."""
    if b"%00" not in query_string.lower() and b"\x00" not in query_string:
        return None
    text = query_string.decode("latin-1")
    for name, value in parse_qsl(text, keep_blank_values=True, errors="replace"):
        if "\x00" in name or ("\x00" in value and name not in CLEANED):
            return name.replace("\x00", "\\u0000")
    return None


class QueryStringCheck:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (name := nul_parameter(scope.get("query_string", b""))) is not None:
            await answer(
                send,
                422,
                ErrorBody(
                    error="invalid",
                    detail=f"{name}: holds a NUL character (%00), which cannot be searched for or stored.",
                    fields=[
                        FieldError(field=name, code="nul_character", message="text without NUL characters")
                    ],
                ),
            )
            return
        await self.app(scope, receive, send)
