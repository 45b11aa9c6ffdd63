import httpx

from loadbay.auth import service as auth_service
from loadbay.main import create_app
from tests.conftest import bearer
from tests.fixtures.factories import PASSWORD
from tests.helpers import url
from tests.invitations.helpers import invite, login, register


async def sign_in(client, email):
    r = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200


async def test_user_sees_only_own_workspaces(client, ws, other_ws):
    await sign_in(client, ws.editor.email)
    r = await client.get("/api/v1/workspaces")
    assert [(w["id"], w["role"]) for w in r.json()] == [(ws.id, "editor")]
    assert (await client.get(url(other_ws.id))).status_code == 404


async def test_only_instance_admins_create_workspaces_by_default(client, ws, session):
    await sign_in(client, ws.viewer.email)
    r = await client.post("/api/v1/workspaces", json={"name": "Side project"})
    assert r.status_code == 403
    assert r.json()["error"] == "instance_admin_required"
    # Being a workspace's admin is not enough either.
    client.cookies.clear()
    await sign_in(client, ws.admin.email)
    assert (await client.post("/api/v1/workspaces", json={"name": "Side project"})).status_code == 403
    await auth_service.set_instance_admin(session, email=ws.viewer.email, instance_admin=True)
    await session.commit()
    client.cookies.clear()
    await sign_in(client, ws.viewer.email)
    r = await client.post("/api/v1/workspaces", json={"name": "Side project"})
    assert r.status_code == 201, r.text
    assert r.json()["role"] == "admin"
    assert len((await client.get("/api/v1/workspaces")).json()) == 2


async def test_anyone_creates_workspaces_when_the_instance_says_so(settings, sessionmaker, ws):
    app = create_app(settings.model_copy(update={"workspace_creators": "anyone"}), sessionmaker=sessionmaker)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        await sign_in(c, ws.viewer.email)
        r = await c.post("/api/v1/workspaces", json={"name": "Side project"})
        assert r.status_code == 201, r.text


async def test_api_keys_cannot_create_workspaces(client, ws):
    r = await client.post("/api/v1/workspaces", json={"name": "x"}, headers=bearer(ws))
    assert r.status_code == 403
    assert r.json()["error"] == "user_required"


async def test_the_old_way_of_adding_members_is_gone(client, ws):
    r = await client.post(
        url(ws.id, "/members"),
        json={"email": "new@example.test", "password": "long enough pw"},
        headers=bearer(ws),
    )
    assert r.status_code == 405


async def test_members_change_role_and_leave(client, ws):
    admin = bearer(ws)
    r = await client.get(url(ws.id, "/members"), headers=bearer(ws, "viewer"))
    assert {m["role"] for m in r.json()} == {"admin", "editor", "viewer"}
    inv = await invite(client, ws.id, "New@Example.test", admin)
    r = await register(client, inv["token"], "long enough pw")
    uid = r.json()["user"]["id"]
    client.cookies.clear()
    r = await client.patch(url(ws.id, f"/members/{uid}"), json={"role": "viewer"}, headers=admin)
    assert r.json()["role"] == "viewer"
    assert (await client.delete(url(ws.id, f"/members/{uid}"), headers=admin)).status_code == 204
    assert (await login(client, "new@example.test", "long enough pw")).json()["workspaces"] == []


async def test_last_admin_stays(client, ws):
    r = await client.patch(url(ws.id, f"/members/{ws.admin.id}"), json={"role": "editor"}, headers=bearer(ws))
    assert r.status_code == 409
    assert r.json()["error"] == "last_admin"
    r = await client.delete(url(ws.id, f"/members/{ws.admin.id}"), headers=bearer(ws))
    assert r.status_code == 409


async def test_rename_needs_admin(client, ws):
    r = await client.patch(url(ws.id), json={"name": "Renamed"}, headers=bearer(ws, "editor"))
    assert r.status_code == 403
    r = await client.patch(url(ws.id), json={"name": "Renamed"}, headers=bearer(ws))
    assert r.json()["name"] == "Renamed"
