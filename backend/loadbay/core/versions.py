"""Optimistic concurrency over HTTP: a version sent as the ETag, expected back in If-Match."""

from fastapi import Response

from loadbay.errors import FieldError, Invalid


def if_match_version(if_match: str | None, what: str) -> int | None:
    """The version an If-Match header names (`"3"`, `W/"3"`, `3`); None when absent or `*`."""
    if if_match is None or if_match.strip() == "*":
        return None
    raw = if_match.strip().removeprefix("W/").strip('"')
    # ASCII digits only (superscripts and Arabic-Indic digits pass str.isdigit()), at most 64 bits.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise Invalid(
            f'If-Match must be {what}, e.g. "3".',
            code="invalid_if_match",
            fields=[FieldError(field="If-Match", code="format", message="expected a version number")],
        )
    return int(raw)


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'
