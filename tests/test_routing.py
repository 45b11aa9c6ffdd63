"""Every route of the app, with the web app installed: a method a path lacks is 405 with a true `Allow`,
a path value that is not of its type is the declared 422, and an unknown API path is 404."""

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from loadbay.config import Settings
from loadbay.main import create_app
from tests.fixtures.factories import Workspace

METHODS = ("GET", "PUT", "POST", "DELETE", "PATCH")
JUNK_INTS = ("null,null", "abc", "-1", "1.5", "0x10", "١٢", "%F0%9F%98%80", "99999999999999999999999")


@pytest.fixture
async def spa_client(
    settings: Settings, sessionmaker: Any, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    # The web app's catch-all route is what turned wrong methods into 404s and bad ids into 405s.
    (tmp_path / "index.html").write_text("<!doctype html><title>Loadbay</title>")
    app = create_app(settings.model_copy(update={"static_dir": tmp_path}), sessionmaker=sessionmaker)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


def _spec(settings: Settings) -> dict[str, Any]:
    return create_app(settings).openapi()


def _fill(path: str, ws: Workspace, **override: str) -> str:
    def value(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in override:
            return override[name]
        return str(ws.id) if name == "workspace_id" else ("products" if name == "entity_key" else "1")

    return re.sub(r"{([a-z_]+)}", value, path)


def _int_path_params(op: dict[str, Any]) -> list[str]:
    return [
        p["name"]
        for p in op.get("parameters", [])
        if p["in"] == "path" and p["schema"].get("type") == "integer" and p["name"] != "workspace_id"
    ]


async def test_a_method_a_path_lacks_is_405_with_the_methods_it_has(
    spa_client: httpx.AsyncClient, settings: Settings, ws: Workspace, admin: dict[str, str]
) -> None:
    spec = _spec(settings)
    checked = 0
    for path, item in spec["paths"].items():
        has = {m.upper() for m in item if m.upper() in METHODS}
        for method in METHODS:
            if method in has:
                continue
            r = await spa_client.request(method, _fill(path, ws), headers=admin)
            assert r.status_code == 405, (method, path, r.status_code, r.text)
            assert set(r.headers["allow"].split(", ")) == has, (method, path, r.headers["allow"])
            body = r.json()
            assert body["error"] == "method_not_allowed"
            assert " or ".join(sorted(has)) in body["detail"]
            checked += 1
    assert checked > 100


async def test_a_path_value_that_is_not_an_id_is_the_declared_422(
    spa_client: httpx.AsyncClient, settings: Settings, ws: Workspace, admin: dict[str, str]
) -> None:
    spec = _spec(settings)
    checked = 0
    for path, item in spec["paths"].items():
        for method, op in item.items():
            for name in _int_path_params(op):
                assert "422" in op["responses"], (method, path)
                for junk in JUNK_INTS:
                    r = await spa_client.request(method, _fill(path, ws, **{name: junk}), headers=admin)
                    assert r.status_code == 422, (method, path, junk, r.status_code, r.text)
                    body = r.json()
                    assert set(body) == {"error", "detail", "fields"}
                    assert body["error"] == "invalid"
                    assert any(f["field"].endswith(name) for f in body["fields"]), (method, path, junk, body)
                    checked += 1
    assert checked > 50


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/nothing"),
        ("POST", "/api/v1/nothing/here"),
        ("DELETE", "/api/v2/workspaces"),
        ("GET", "/api"),
    ],
)
async def test_an_unknown_api_path_is_404(spa_client: httpx.AsyncClient, method: str, path: str) -> None:
    r = await spa_client.request(method, path)
    assert r.status_code == 404, r.text
    assert r.json()["error"] == "not_found"


async def test_the_web_app_still_serves_its_pages(spa_client: httpx.AsyncClient) -> None:
    r = await spa_client.get("/imports/12")
    assert r.status_code == 200
    assert "Loadbay" in r.text
    r = await spa_client.post("/imports/12")
    assert r.status_code == 405
    assert r.headers["allow"] == "GET"
