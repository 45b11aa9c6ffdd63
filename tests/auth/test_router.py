from tests.conftest import bearer
from tests.fixtures.factories import PASSWORD
from tests.helpers import url


async def login(client, email, password=PASSWORD):
    return await client.post("/api/v1/auth/login", json={"email": email, "password": password})


async def test_login_sets_an_httponly_cookie_and_me_works(client, ws):
    r = await login(client, ws.admin.email.upper())
    assert r.status_code == 200, r.text
    cookie = r.headers["set-cookie"]
    assert "loadbay_session=" in cookie
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert r.json()["user"]["email"] == ws.admin.email
    me = await client.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert [(w["id"], w["role"]) for w in me.json()["workspaces"]] == [(ws.id, "admin")]


async def test_wrong_password_and_unknown_user_look_the_same(client, ws):
    a = await login(client, ws.admin.email, "wrong password")
    b = await login(client, "nobody@example.test", "wrong password")
    assert a.status_code == b.status_code == 401
    assert a.json() == b.json()
    assert a.json()["error"] == "invalid_credentials"


async def test_logout_ends_the_session(client, ws):
    await login(client, ws.admin.email)
    assert (await client.get("/api/v1/auth/me")).status_code == 200
    r = await client.post("/api/v1/auth/logout", headers={"Origin": "http://testserver"})
    assert r.status_code == 204
    assert (await client.get("/api/v1/auth/me")).status_code == 401


async def test_stolen_cookie_after_logout_is_useless(client, ws):
    await login(client, ws.admin.email)
    token = client.cookies.get("loadbay_session")
    await client.post("/api/v1/auth/logout")
    client.cookies.set("loadbay_session", token)
    assert (await client.get("/api/v1/auth/me")).status_code == 401


async def test_cross_origin_writes_with_a_cookie_are_refused(client, ws):
    await login(client, ws.admin.email)
    r = await client.post(
        url(ws.id, "/api-keys"), json={"name": "x"}, headers={"Origin": "https://evil.example"}
    )
    assert r.status_code == 403
    assert r.json()["error"] == "cross_origin"
    r = await client.post(
        url(ws.id, "/api-keys"), json={"name": "x"}, headers={"Origin": "http://testserver"}
    )
    assert r.status_code == 201


async def test_no_credentials(client, ws):
    r = await client.get(url(ws.id, "/entities"))
    assert r.status_code == 401
    assert r.json()["error"] == "unauthorized"


async def test_api_key_lifecycle(client, ws):
    admin = bearer(ws)
    r = await client.post(url(ws.id, "/api-keys"), json={"name": "etl", "role": "viewer"}, headers=admin)
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    key_id = r.json()["id"]
    assert token.startswith("lb_")
    listed = (await client.get(url(ws.id, "/api-keys"), headers=admin)).json()
    assert all("token" not in k for k in listed)
    mine = {"Authorization": f"Bearer {token}"}
    assert (await client.get(url(ws.id, "/entities"), headers=mine)).status_code == 200
    me = (await client.get("/api/v1/auth/me", headers=mine)).json()
    assert me["user"] is None
    assert me["workspaces"][0]["role"] == "viewer"
    assert (await client.delete(url(ws.id, f"/api-keys/{key_id}"), headers=admin)).status_code == 204
    r = await client.get(url(ws.id, "/entities"), headers=mine)
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_api_key"


async def test_tampered_api_key_is_refused(client, ws):
    token = ws.keys["admin"]
    r = await client.get(url(ws.id, "/entities"), headers={"Authorization": f"Bearer {token[:-2]}xx"})
    assert r.status_code == 401
    r = await client.get(url(ws.id, "/entities"), headers={"Authorization": "Basic abc"})
    assert r.status_code == 401


async def test_api_key_cannot_reach_another_workspace(client, ws, other_ws):
    r = await client.get(url(other_ws.id, "/entities"), headers=bearer(ws))
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"
