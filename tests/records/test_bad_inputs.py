"""Malformed input to the records API, on both databases: each is a 4xx in the error model, never a 500."""

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.conftest import bearer
from tests.helpers import create_entity, create_record, url

ITEMS = {
    "key": "items",
    "key_fields": ["code"],
    "fields": [
        {"key": "code", "type": "string"},
        {"key": "name", "type": "string", "indexed": True},
        {"key": "qty", "type": "integer", "indexed": True},
        {"key": "price", "type": "decimal"},
    ],
}


def rec_url(ws_id: int, path: str = "") -> str:
    return url(ws_id, f"/entities/items/records{path}")


def _cursor(sort: str, value: Any, record_id: Any = 1, descending: bool = False) -> str:
    payload = {"s": sort, "d": descending, "v": value, "i": record_id, "n": False}
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def _is_error(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error", "detail", "fields"}, body
    assert body["detail"]
    return dict(body)


@pytest.fixture
async def items(client: httpx.AsyncClient, ws: Any) -> list[dict[str, Any]]:
    await create_entity(client, ws.id, bearer(ws), ITEMS)
    return [
        await create_record(client, ws.id, "items", bearer(ws), {"code": f"C{i}", "name": f"n{i}", "qty": i})
        for i in range(3)
    ]


@pytest.mark.parametrize(
    ("sort", "value"),
    [
        ("name", {"s": ["a", "list"]}),
        ("name", {"s": {"an": "object"}}),
        ("name", {"i": 5}),  # a number for a text sort
        ("name", {"f": 2.5}),
        ("name", {"d": "3.5"}),
        ("name", ["s", "x"]),
        ("qty", {"s": "text for a number sort"}),
        ("qty", {"i": 2**70}),
        ("qty", {"d": "NaN"}),
        ("key", {"s": "nul\u0000inside"}),
        ("created_at", {"t": ["2026"]}),
        ("created_at", {"t": "not a time"}),
        ("id", {"i": 1}),
    ],
)
async def test_a_cursor_with_a_value_of_the_wrong_type_is_a_400(
    client: httpx.AsyncClient, ws: Any, admin: dict[str, str], items: Any, sort: str, value: Any
) -> None:
    params = {"sort": sort, "cursor": _cursor(sort, value, record_id=2**70 if sort == "id" else 1)}
    body = _is_error(await client.get(rec_url(ws.id), params=params, headers=admin), 400)
    assert body["error"] == "invalid_cursor"


async def test_a_cursor_the_app_made_still_pages(
    client: httpx.AsyncClient, ws: Any, admin: dict[str, str], items: Any
) -> None:
    for sort in ("name", "qty", "key", "created_at", "id"):
        r = await client.get(rec_url(ws.id), params={"sort": sort, "limit": 1}, headers=admin)
        assert r.status_code == 200, r.text
        nxt = await client.get(
            rec_url(ws.id),
            params={"sort": sort, "limit": 1, "cursor": r.json()["next_cursor"]},
            headers=admin,
        )
        assert nxt.status_code == 200, nxt.text
        assert nxt.json()["items"][0]["id"] != r.json()["items"][0]["id"]


@pytest.mark.parametrize("bad", [2**63, 2**64, -(2**63) - 1, 0, -1, 10**40])
async def test_ids_past_64_bits_in_a_bulk_body_are_a_422(
    client: httpx.AsyncClient, ws: Any, admin: dict[str, str], items: Any, bad: int
) -> None:
    ids = [items[0]["id"], bad]
    for body in ({"action": "delete", "ids": ids}, {"action": "set", "ids": ids, "data": {"name": "x"}}):
        r = await client.post(rec_url(ws.id, "/bulk"), content=json.dumps(body), headers=_json(admin))
        got = _is_error(r, 422)
        assert any(f["field"].startswith("ids") for f in got["fields"]), got
    assert len((await client.get(rec_url(ws.id), headers=admin)).json()["items"]) == 3


def _json(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Content-Type": "application/json"}


@pytest.mark.parametrize(
    "raw",
    [
        b'{"data": {"code": "S1", "name": "\\ud800"}}',  # a lone surrogate, escaped
        b'{"data": {"code": "S1", "name": "x\\udc00y"}}',
        b'{"data": {"code": "S1", "name": "\xed\xa0\x80"}}',  # a surrogate encoded as bytes: not UTF-8
        b'{"data": {"code": "S1", "name": "\xff"}}',
        b'{"data": {"code": "S1", "qty": NaN}}',
        b'{"data": {"code": "S1", "qty": Infinity}}',
    ],
)
async def test_a_json_body_no_database_can_store_is_a_422(
    client: httpx.AsyncClient, ws: Any, admin: dict[str, str], items: Any, raw: bytes
) -> None:
    body = _is_error(await client.post(rec_url(ws.id), content=raw, headers=_json(admin)), 422)
    assert body["fields"][0]["field"] == "body"
    assert len((await client.get(rec_url(ws.id), headers=admin)).json()["items"]) == 3


@pytest.mark.parametrize(
    "params",
    [
        {"q": "\ud800"},
        {"filter": "name:eq:\udc00"},
        {"filter": "name:contains:a\ud83db"},
        {"q": "nul\u0000"},
        {"filter": "name:eq:nul\u0000"},
    ],
)
async def test_surrogates_and_nul_in_a_query_are_read_or_refused_never_a_500(
    client: httpx.AsyncClient, ws: Any, admin: dict[str, str], items: Any, params: dict[str, str]
) -> None:
    # httpx percent-encodes a lone surrogate as UTF-8 with surrogatepass, as a hostile client would.
    query = "&".join(
        f"{k}={''.join(f'%{b:02X}' for b in v.encode('utf-8', 'surrogatepass'))}" for k, v in params.items()
    )
    r = await client.get(f"{rec_url(ws.id)}?{query}", headers=admin)
    assert r.status_code in (200, 400, 422), r.text
    if r.status_code != 200:
        _is_error(r, r.status_code)


async def test_a_json_body_over_the_limit_is_a_413_before_it_is_read(
    client: httpx.AsyncClient, ws: Any, admin: dict[str, str], items: Any, settings: Any
) -> None:
    big = json.dumps({"data": {"code": "BIG", "name": "x" * (20 << 20)}}).encode()
    assert len(big) > settings.max_json_bytes
    # With a Content-Length: refused from the header alone.
    body = _is_error(await client.post(rec_url(ws.id), content=big, headers=_json(admin)), 413)
    assert body["error"] == "body_too_large"
    assert f"{settings.max_json_bytes:,}" in body["detail"]

    # Without one (chunked): refused once the limit is passed, the rest never read.
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        for i in range(0, len(big), 1 << 16):
            sent += 1 << 16
            yield big[i : i + (1 << 16)]

    r = await client.post(rec_url(ws.id), content=chunks(), headers=_json(admin))
    assert "content-length" not in r.request.headers
    assert _is_error(r, 413)["error"] == "body_too_large"
    assert sent < settings.max_json_bytes + (2 << 16)

    # Just under the limit is read as usual.
    fits = json.dumps({"data": {"code": "FITS", "name": "y" * 1000}}).encode()
    assert (await client.post(rec_url(ws.id), content=fits, headers=_json(admin))).status_code == 201


@pytest.mark.parametrize(
    "flt",
    [
        "qty:gt:99999999999999999999999",
        "qty:eq:-99999999999999999999999",
        "price:gt:1e999999",
        "price:lt:-1e-999999",
        "price:eq:123456789012345678901234567890.5",
        "qty:gt:NaN",
        "price:gt:Infinity",
        "name:eq:\u0000",
        "id:gt:1",
    ],
)
async def test_a_filter_value_past_what_the_column_holds_is_read_or_refused_never_a_500(
    client: httpx.AsyncClient, ws: Any, admin: dict[str, str], items: Any, flt: str
) -> None:
    for path in ("", "/count"):
        r = await client.get(rec_url(ws.id, path), params={"filter": flt}, headers=admin)
        assert r.status_code in (200, 422), (flt, r.text)
        if r.status_code == 422:
            _is_error(r, 422)


@pytest.mark.parametrize(
    ("query", "named"),
    [("q=a%00b", "q"), ("filter=name:eq:x%00", "filter"), ("sort=name&q%00=1", "q\\u0000")],
)
async def test_a_nul_in_a_query_parameter_is_a_422_naming_it_on_both_databases(
    client: httpx.AsyncClient, ws: Any, admin: dict[str, str], items: Any, query: str, named: str
) -> None:
    r = await client.get(f"{rec_url(ws.id)}?{query}", headers=admin)
    _is_error(r, 422)
    assert r.json()["fields"][0] == {
        "field": named,
        "code": "nul_character",
        "message": "text without NUL characters",
    }
