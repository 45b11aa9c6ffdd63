"""Sign-in throttling: per client address and per address+email, so nobody locks an owner out."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from loadbay.main import create_app
from tests.conftest import bearer
from tests.fixtures.factories import PASSWORD
from tests.invitations.helpers import accept, invite, login

ATTACKER = "203.0.113.66"
OWNER = "198.51.100.7"


@asynccontextmanager
async def from_address(app, address: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def small_limits(settings, sessionmaker):
    # Small limits keep the test quick: each attempt is a real argon2 check.
    limits = {"login_max_failures": 3, "login_client_max_failures": 5}
    return create_app(settings.model_copy(update=limits), sessionmaker=sessionmaker)


async def test_guessing_one_password_is_limited_for_that_address_only(settings, sessionmaker, ws):
    app = small_limits(settings, sessionmaker)
    async with from_address(app, ATTACKER) as attacker, from_address(app, OWNER) as owner:
        for _ in range(3):
            assert (await login(attacker, ws.admin.email, "guess")).status_code == 401
        r = await login(attacker, ws.admin.email, PASSWORD)
        assert r.status_code == 429
        assert r.json()["error"] == "too_many_requests"
        assert 0 < int(r.headers["retry-after"]) <= settings.login_window_seconds
        # The owner, elsewhere, signs in as usual; the attacker's address may still try other emails.
        assert (await login(owner, ws.admin.email, PASSWORD)).status_code == 200
        assert (await login(attacker, ws.editor.email, PASSWORD)).status_code == 200


async def test_many_emails_from_one_address_are_limited(settings, sessionmaker, ws):
    app = small_limits(settings, sessionmaker)
    async with from_address(app, ATTACKER) as attacker, from_address(app, OWNER) as owner:
        for n in range(5):
            assert (await login(attacker, f"guess{n}@example.test", "guess")).status_code == 401
        r = await login(attacker, ws.viewer.email, PASSWORD)
        assert r.status_code == 429
        assert int(r.headers["retry-after"]) > 0
        assert "from your address" in r.json()["detail"]
        assert (await login(owner, ws.viewer.email, PASSWORD)).status_code == 200


async def test_a_good_sign_in_forgets_that_address_s_failures_for_that_email(settings, sessionmaker, ws):
    app = small_limits(settings, sessionmaker)
    async with from_address(app, OWNER) as owner:
        for _ in range(2):
            assert (await login(owner, ws.admin.email, "typo")).status_code == 401
        assert (await login(owner, ws.admin.email, PASSWORD)).status_code == 200
        for _ in range(2):
            assert (await login(owner, ws.admin.email, "typo")).status_code == 401
        assert (await login(owner, ws.admin.email, PASSWORD)).status_code == 200


async def test_accepting_an_invitation_with_a_password_is_throttled_too(settings, sessionmaker, ws, other_ws):
    app = small_limits(settings, sessionmaker)
    async with from_address(app, ATTACKER) as attacker:
        inv = await invite(attacker, ws.id, other_ws.admin.email, bearer(ws))
        for _ in range(3):
            assert (await accept(attacker, inv["token"], "guess")).status_code == 401
        r = await accept(attacker, inv["token"], PASSWORD)
        assert r.status_code == 429
        assert int(r.headers["retry-after"]) > 0


async def test_the_default_limit_still_counts_per_email(client, ws, settings):
    for _ in range(settings.login_max_failures):
        assert (await login(client, ws.editor.email, "nope")).status_code == 401
    assert (await login(client, ws.editor.email, PASSWORD)).status_code == 429
    # Another account from the same address is not affected (below the per-address limit).
    assert (await login(client, ws.viewer.email, PASSWORD)).status_code == 200
