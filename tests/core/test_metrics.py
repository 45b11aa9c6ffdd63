"""/metrics is not public by default: loopback clients only, or the holder of a token."""

import httpx

from loadbay.main import create_app


def client_for(app, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_without_a_token_only_this_machine_scrapes(settings, sessionmaker):
    app = create_app(settings, sessionmaker=sessionmaker)
    for address in ("127.0.0.1", "::1"):
        async with client_for(app, address) as c:
            r = await c.get("/metrics")
            assert r.status_code == 200, address
            assert "loadbay_http_requests_total" in r.text
    async with client_for(app, "203.0.113.9") as c:
        r = await c.get("/metrics")
        assert r.status_code == 403
        assert r.json()["error"] == "metrics_loopback_only"


async def test_with_a_token_every_scraper_needs_it(settings, sessionmaker):
    app = create_app(
        settings.model_copy(update={"metrics_token": "s3cret-scrape"}), sessionmaker=sessionmaker
    )
    for address in ("127.0.0.1", "203.0.113.9"):
        async with client_for(app, address) as c:
            r = await c.get("/metrics")
            assert r.status_code == 401
            assert r.json()["error"] == "metrics_token_required"
            assert r.headers["www-authenticate"] == "Bearer"
            assert (await c.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401
            r = await c.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})
            assert r.status_code == 200
            assert "loadbay_http_request_seconds" in r.text


async def test_public_only_when_the_operator_says_so(settings, sessionmaker):
    app = create_app(settings.model_copy(update={"metrics_public": True}), sessionmaker=sessionmaker)
    async with client_for(app, "203.0.113.9") as c:
        assert (await c.get("/metrics")).status_code == 200
