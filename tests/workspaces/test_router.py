from tests.conftest import bearer
from tests.fixtures.factories import PASSWORD
from tests.helpers import url


async def sign_in(client, email):
    r = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200


async def test_user_sees_only_own_workspaces_and_creates_one(client, ws, other_ws):
    await sign_in(client, ws.editor.email)
    r = await client.get("/api/v1/workspaces")
    assert [(w["id"], w["role"]) for w in r.json()] == [(ws.id, "editor")]
    r = await client.post("/api/v1/workspaces", json={"name": "Side project"})
    assert r.status_code == 201
    assert r.json()["role"] == "admin"
    assert len((await client.get("/api/v1/workspaces")).json()) == 2
    assert (await client.get(url(other_ws.id))).status_code == 404


async def test_api_keys_cannot_create_workspaces(client, ws):
    r = await client.post("/api/v1/workspaces", json={"name": "x"}, headers=bearer(ws))
    assert r.status_code == 403
    assert r.json()["error"] == "user_required"


async def test_members(client, ws):
    admin = bearer(ws)
    r = await client.get(url(ws.id, "/members"), headers=bearer(ws, "viewer"))
    assert {m["role"] for m in r.json()} == {"admin", "editor", "viewer"}
    r = await client.post(
        url(ws.id, "/members"), json={"email": "new@example.test", "role": "editor"}, headers=admin
    )
    assert r.status_code == 404
    assert r.json()["error"] == "user_not_found"
    r = await client.post(
        url(ws.id, "/members"),
        json={"email": "New@Example.test", "role": "editor", "password": "long enough pw"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    uid = r.json()["user_id"]
    assert r.json()["email"] == "new@example.test"
    r = await client.post(url(ws.id, "/members"), json={"email": "new@example.test"}, headers=admin)
    assert r.status_code == 409
    r = await client.patch(url(ws.id, f"/members/{uid}"), json={"role": "viewer"}, headers=admin)
    assert r.json()["role"] == "viewer"
    assert (await client.delete(url(ws.id, f"/members/{uid}"), headers=admin)).status_code == 204
    assert (
        await client.post(
            "/api/v1/auth/login", json={"email": "new@example.test", "password": "long enough pw"}
        )
    ).json()["workspaces"] == []


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
