"""Security headers on every response, and the API docs served from our own origin."""

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from loadbay.core.docs import install_docs
from loadbay.main import create_app

HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


@pytest.fixture
def built_app(settings, sessionmaker, tmp_path: Path):
    """An app serving a (tiny) built web app, with the docs assets the build emits."""
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "docs-assets").mkdir()
    (dist / "index.html").write_text('<!doctype html><script type="module" src="/assets/app.js"></script>')
    (dist / "assets" / "app.js").write_text("console.log('app')")
    (dist / "docs-assets" / "swagger-ui-bundle.js").write_text("window.SwaggerUIBundle = () => {};")
    return create_app(settings.model_copy(update={"static_dir": dist}), sessionmaker=sessionmaker)


def assert_secure(r: httpx.Response) -> None:
    for name, value in HEADERS.items():
        assert r.headers.get(name) == value, (r.request.url, name, r.headers.get(name))
    csp = {d.split(" ", 1)[0]: d for d in r.headers["content-security-policy"].split("; ")}
    assert csp["script-src"] == "script-src 'self'"
    assert csp["frame-ancestors"] == "frame-ancestors 'none'"
    assert csp["object-src"] == "object-src 'none'"


async def test_every_kind_of_response_carries_the_headers(built_app, ws):
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=built_app), base_url="http://testserver"
    ) as c:
        for r in (
            await c.get("/api/v1/health"),
            await c.get("/api/v1/workspaces"),  # 401
            await c.get("/api/v1/nowhere"),  # 404
            await c.post("/api/v1/auth/login", json={}),  # 422
            await c.get("/"),
            await c.get("/w/1/imports"),
            await c.get("/assets/app.js"),
            await c.get("/api/docs"),
            await c.get("/api/v1/openapi.json", headers={"Accept-Encoding": "gzip"}),
            await c.get("/metrics"),
        ):
            assert_secure(r)


async def test_the_docs_load_swagger_ui_from_this_server_only(built_app):
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=built_app), base_url="http://testserver"
    ) as c:
        r = await c.get("/api/docs")
        assert r.status_code == 200
        assert '<script src="/docs-assets/swagger-ui-bundle.js"></script>' in r.text
        assert "http" not in r.text.split("<body>", 1)[1]
        assert "<script>" not in r.text  # no inline script: the CSP would refuse it
        assert (await c.get("/docs-assets/swagger-ui-bundle.js")).status_code == 200


async def test_without_a_built_web_app_the_docs_page_says_where_the_contract_is():
    bare = FastAPI()
    install_docs(bare, None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=bare), base_url="http://testserver") as c:
        r = await c.get("/api/docs")
    assert r.status_code == 200
    assert "/api/v1/openapi.json" in r.text
    assert "<script" not in r.text


async def test_an_unexpected_error_and_a_refused_body_carry_the_headers_too(built_app):
    async def boom() -> None:
        raise RuntimeError("a bug")

    built_app.add_api_route("/api/v1/test-boom", boom)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=built_app, raise_app_exceptions=False), base_url="http://testserver"
    ) as c:
        r = await c.get("/api/v1/test-boom")
        assert r.status_code == 500
        assert r.json()["error"] == "internal_error"
        assert_secure(r)
        big = b"{" + b" " * (built_app.state.settings.max_json_bytes + 1) + b"}"
        r = await c.post("/api/v1/auth/login", content=big, headers={"Content-Type": "application/json"})
        assert r.status_code == 413
        assert_secure(r)
