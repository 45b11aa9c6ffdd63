"""The OpenAPI document as generated clients read it: response headers, and plain optional parameters.

FastAPI writes an optional parameter typed `X | None` as `anyOf: [X, null]`. For a parameter, "none"
is spelled by leaving it out: nothing on the wire means null. Generators read the nullable type
literally, and some pass a None straight to the HTTP library (a header value of None fails inside
httpx, a query value may be sent as the text "None"). So an optional parameter is declared as the
plain type it is on the wire.
"""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

NULL = {"type": "null"}
Responses = dict[int | str, dict[str, Any]]


def header(description: str, *, required: bool = True, **schema: Any) -> dict[str, Any]:
    """A response header's declaration (a string unless `schema` says more)."""
    return {"description": description, "required": required, "schema": {"type": "string", **schema}}


def headers(status: int, **declared: dict[str, Any]) -> Responses:
    """The response headers of one status, by name (`ETag=header(...)`)."""
    return {status: {"headers": {name.replace("_", "-"): h for name, h in declared.items()}}}


def etag(status: int = 200, what: str = "The version of what was read") -> Responses:
    return headers(status, ETag=header(f'{what}, quoted (`"3"`); send it back as `If-Match`.'))


def merged(*parts: Responses) -> Responses:
    """`responses=` declarations joined per status (a plain `{**a, **b}` would drop one of two)."""
    out: Responses = {}
    for part in parts:
        for status, declared in part.items():
            into = out.setdefault(status, {})
            for key, value in declared.items():
                into[key] = {**into[key], **value} if isinstance(value, dict) and key in into else value
    return out


def _plain(parameter: dict[str, Any]) -> None:
    schema = parameter.get("schema") or {}
    options = schema.get("anyOf")
    if parameter.get("required") or not options or NULL not in options:
        return
    rest = [o for o in options if o != NULL]
    extra = {k: v for k, v in schema.items() if k != "anyOf"}
    if extra.get("default", ...) is None:
        del extra["default"]
    parameter["schema"] = {**rest[0], **extra} if len(rest) == 1 else {"anyOf": rest, **extra}


def tidy(spec: dict[str, Any]) -> dict[str, Any]:
    """Optional parameters as plain optional types (in place; running it twice changes nothing)."""
    for item in spec.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict):
                for parameter in operation.get("parameters", []):
                    _plain(parameter)
    return spec


def install(app: FastAPI) -> None:
    """Serve (and write to openapi.yaml) the tidied document."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        return tidy(build())

    app.openapi = openapi  # type: ignore[method-assign]
