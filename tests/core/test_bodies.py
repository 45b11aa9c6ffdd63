"""Text holding a NUL character, anywhere in a JSON body: a 422 naming the field, the same on both
databases (PostgreSQL refuses NUL in text and jsonb; SQLite would store it). Found by `make fuzz`."""

from typing import Any

import httpx
import pytest

from tests.helpers import create_entity, url

ITEMS = {
    "key": "items",
    "key_fields": ["code"],
    "fields": [
        {"key": "code", "type": "string"},
        {"key": "meta", "type": "json"},
        {"key": "t", "type": "text"},
    ],
}


def _cases(ws_id: int) -> list[tuple[str, str, dict[str, Any], str]]:
    return [
        ("POST", url(ws_id, "/entities"), {"key": "x1", "label": "a\x00b", "key_fields": ["c"]}, "label"),
        ("POST", url(ws_id, "/entities/items/records"), {"data": {"code": "a\x00"}}, "data.code"),
        (
            "POST",
            url(ws_id, "/entities/items/records"),
            {"data": {"code": "k", "meta": {"a": ["x\x00"]}}},
            "data.meta.a.0",
        ),
        (
            "POST",
            url(ws_id, "/entities/items/records"),
            {"data": {"code": "k", "meta": {"b\x00": 1}}},
            "data.meta.b\\u0000",
        ),
        ("PATCH", f"/api/v1/workspaces/{ws_id}", {"name": "W\x00"}, "name"),
        ("POST", url(ws_id, "/api-keys"), {"name": "k\x00", "role": "viewer"}, "name"),
        (
            "POST",
            url(ws_id, "/entities/items/fields"),
            {"key": "f3", "type": "enum", "enum_values": ["a\x00"]},
            "enum_values.0",
        ),
        (
            "POST",
            url(ws_id, "/entities/items/fields"),
            {"key": "f5", "type": "string", "default": "d\x00"},
            "default",
        ),
        ("POST", "/api/v1/auth/login", {"email": "a\x00@example.test", "password": "p"}, "email"),
    ]


async def test_text_with_a_nul_character_is_a_422_naming_the_field(
    client: httpx.AsyncClient, ws: Any, admin: dict[str, str]
) -> None:
    await create_entity(client, ws.id, admin, ITEMS)
    for method, path, body, field in _cases(ws.id):
        r = await client.request(method, path, json=body, headers=admin)
        assert r.status_code == 422, (path, r.text)
        got = r.json()
        assert set(got) == {"error", "detail", "fields"}
        assert [(f["field"], f["code"]) for f in got["fields"]] == [(field, "nul_character")], got
    records = await client.get(url(ws.id, "/entities/items/records"), headers=admin)
    assert records.json()["items"] == []


@pytest.mark.parametrize("text", ["a\\u0000b as text", "C:\\\\u0000dir"])
async def test_a_backslash_before_u0000_is_text_not_a_nul(
    client: httpx.AsyncClient, ws: Any, admin: dict[str, str], text: str
) -> None:
    await create_entity(client, ws.id, admin, ITEMS)
    r = await client.post(url(ws.id, "/entities/items/records"), json={"data": {"code": text}}, headers=admin)
    assert r.status_code == 201, r.text
    assert r.json()["data"]["code"] == text


async def test_a_file_name_with_a_nul_is_cleaned_not_refused(
    client: httpx.AsyncClient, ws: Any, admin: dict[str, str]
) -> None:
    await create_entity(client, ws.id, admin, ITEMS)
    r = await client.post(
        url(ws.id, "/imports"), json={"entity": "items", "file_name": "a\x00b.csv"}, headers=admin
    )
    assert r.status_code == 201, r.text
    assert "\x00" not in r.json()["file_name"]
