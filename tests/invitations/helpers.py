"""Requests for the invitation flow, shared by its tests."""

from typing import Any

import httpx

from tests.helpers import url

ORIGIN = {"Origin": "http://testserver"}


async def invite(
    client: httpx.AsyncClient, ws_id: int, email: str, headers: dict[str, str], role: str = "editor"
) -> Any:
    r = await client.post(url(ws_id, "/invitations"), json={"email": email, "role": role}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


async def register(
    client: httpx.AsyncClient, token: str, password: str, name: str = "New Hire"
) -> httpx.Response:
    return await client.post(
        f"/api/v1/invitations/{token}/register", json={"name": name, "password": password}, headers=ORIGIN
    )


async def accept(client: httpx.AsyncClient, token: str, password: str | None = None) -> httpx.Response:
    body = {} if password is None else {"password": password}
    return await client.post(f"/api/v1/invitations/{token}/accept", json=body, headers=ORIGIN)


async def login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/api/v1/auth/login", json={"email": email, "password": password})
