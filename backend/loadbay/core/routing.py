"""What the API answers when no route takes a request: 405 with a true `Allow`, 422 for a bad path value, 404.

Starlette routes `/records/{record_id:int}` only when the segment is digits, so that a concrete path
such as `/records/bulk` is never read as a record id. A segment that is not an id then matches no
route at all, and Starlette would say 404 (or 405, when some other route's pattern takes it). The
contract declares such a value as invalid input, so this module matches the path again with every
typed parameter relaxed to "any segment" and tells apart: a method the path lacks (405), a path value
of the wrong type (422 naming the parameter), and a path that does not exist (404).
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.convertors import CONVERTOR_TYPES
from starlette.routing import compile_path

from loadbay.errors import FieldError

_PARAM = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)(?::([a-zA-Z_][a-zA-Z0-9_]*))?}")
_TYPE_NAMES = {"int": "an integer", "float": "a number", "uuid": "a UUID"}


@dataclass(frozen=True)
class _Route:
    path: str
    exact: re.Pattern[str]
    relaxed: re.Pattern[str]
    typed: dict[str, str]  # parameter name -> convertor name, for the parameters with a type
    methods: frozenset[str]


@dataclass(frozen=True)
class Miss:
    """Why no route took the request: `allow` set means 405; `fields` set means 422; neither, 404."""

    allow: tuple[str, ...] = ()
    fields: tuple[FieldError, ...] = ()


def _relaxed(path: str) -> re.Pattern[str]:
    pattern = ""
    last = 0
    for m in _PARAM.finditer(path):
        pattern += re.escape(path[last : m.start()])
        pattern += f"(?P<{m.group(1)}>.*)" if m.group(2) == "path" else f"(?P<{m.group(1)}>[^/]+)"
        last = m.end()
    return re.compile("^" + pattern + re.escape(path[last:]) + "$")


def route_table(app: FastAPI) -> list[_Route]:
    """Every HTTP route of the app with its methods (included routers expanded), built once."""
    cached: list[_Route] | None = getattr(app.state, "route_table", None)
    if cached is not None:
        return cached
    table = []
    for ctx in iter_route_contexts(app.router.routes):
        path, methods = ctx.path, ctx.methods
        if not path or not methods:
            continue
        exact, _, _ = compile_path(path)
        typed = {m.group(1): m.group(2) for m in _PARAM.finditer(path) if m.group(2) in _TYPE_NAMES}
        table.append(_Route(path, exact, _relaxed(path), typed, frozenset(methods)))
    app.state.route_table = table
    return table


def _allow(routes: Sequence[_Route]) -> tuple[str, ...]:
    return tuple(sorted({m for r in routes for m in r.methods}))


def explain_miss(app: FastAPI, method: str, path: str) -> Miss:
    """Why `method path` reached no endpoint (called for the router's 404 and 405)."""
    table = route_table(app)
    exact = [r for r in table if r.exact.match(path)]
    if exact:
        # A concrete path wins over a templated one (`/records/bulk` is never record "bulk").
        return Miss(allow=_allow(exact)) if all(method not in r.methods for r in exact) else Miss()
    relaxed = [(r, m) for r in table if r.typed and (m := r.relaxed.match(path))]
    for route, match in relaxed:
        if method in route.methods:
            fields = []
            for name, kind in route.typed.items():
                value = match.group(name)
                if not _fits(kind, value):
                    message = f"Expected {_TYPE_NAMES[kind]} in the path."
                    fields.append(FieldError(field=name, code=f"{kind}_parsing", message=message))
            return Miss(fields=tuple(fields))
    if relaxed:
        return Miss(allow=_allow([r for r, _ in relaxed]))
    return Miss()


def _fits(kind: str, value: str) -> bool:
    convertor = CONVERTOR_TYPES.get(kind)
    return convertor is None or re.fullmatch(convertor.regex, value) is not None
