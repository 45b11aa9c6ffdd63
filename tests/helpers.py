"""Small request helpers shared by API tests."""

from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]


def url(ws_id: int, path: str = "") -> str:
    return f"/api/v1/workspaces/{ws_id}{path}"


async def apply_catalog(client: httpx.AsyncClient, ws_id: int, headers: dict[str, str]) -> dict[str, Any]:
    doc = yaml.safe_load((ROOT / "examples" / "catalog.yaml").read_text())
    r = await client.post(url(ws_id, "/schema/apply"), json=doc, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def create_entity(
    client: httpx.AsyncClient, ws_id: int, headers: dict[str, str], body: dict[str, Any]
) -> Any:
    r = await client.post(url(ws_id, "/entities"), json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


async def create_record(
    client: httpx.AsyncClient, ws_id: int, entity: str, headers: dict[str, str], data: dict[str, Any]
) -> Any:
    r = await client.post(url(ws_id, f"/entities/{entity}/records"), json={"data": data}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def error_fields(r: httpx.Response) -> dict[str, str]:
    body = r.json()
    assert set(body) == {"error", "detail", "fields"}, body
    return {f["field"]: f["code"] for f in body["fields"]}
