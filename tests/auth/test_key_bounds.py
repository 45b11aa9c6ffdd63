"""An API key never does more than its creator can do now; a web session follows the membership."""

from sqlalchemy import update

from loadbay.auth import service as auth_service
from loadbay.auth.models import User
from loadbay.core.actor import Role
from tests.conftest import bearer
from tests.fixtures.factories import PASSWORD
from tests.helpers import url
from tests.invitations.helpers import login


async def make_key(client, ws_id, headers, role="admin", name="etl"):
    r = await client.post(url(ws_id, "/api-keys"), json={"name": name, "role": role}, headers=headers)
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def promote(client, ws, user, role):
    r = await client.patch(url(ws.id, f"/members/{user.id}"), json={"role": role}, headers=bearer(ws))
    assert r.status_code == 200, r.text


async def test_a_demoted_creator_s_key_acts_with_the_lower_role(client, ws):
    # The editor becomes an admin, makes an admin key, and is demoted to viewer.
    await promote(client, ws, ws.editor, "admin")
    assert (await login(client, ws.editor.email, PASSWORD)).status_code == 200
    key = await make_key(client, ws.id, {"Origin": "http://testserver"})
    client.cookies.clear()
    assert (await client.get(url(ws.id, "/api-keys"), headers=key)).status_code == 200
    await promote(client, ws, ws.editor, "viewer")
    me = (await client.get("/api/v1/auth/me", headers=key)).json()
    assert me["workspaces"][0]["role"] == "viewer"
    r = await client.post(url(ws.id, "/api-keys"), json={"name": "x", "role": "admin"}, headers=key)
    assert r.status_code == 403
    r = await client.post(url(ws.id, "/invitations"), json={"email": "x@example.test"}, headers=key)
    assert r.status_code == 403
    assert (await client.get(url(ws.id, "/entities"), headers=key)).status_code == 200
    # Promoted again, the key is back to its own role, never above it.
    await promote(client, ws, ws.editor, "admin")
    assert (await client.get(url(ws.id, "/api-keys"), headers=key)).status_code == 200


async def test_a_key_is_never_above_its_own_role(client, ws):
    key = await make_key(client, ws.id, bearer(ws), role="viewer")
    me = (await client.get("/api/v1/auth/me", headers=key)).json()
    assert me["workspaces"][0]["role"] == "viewer"


async def test_a_removed_or_deactivated_creator_s_key_does_nothing(client, ws, session):
    await promote(client, ws, ws.editor, "admin")
    await promote(client, ws, ws.viewer, "admin")
    keys = {}
    for user in (ws.editor, ws.viewer):
        assert (await login(client, user.email, PASSWORD)).status_code == 200
        keys[user.id] = await make_key(client, ws.id, {"Origin": "http://testserver"}, name=user.email)
        client.cookies.clear()
    assert (
        await client.delete(url(ws.id, f"/members/{ws.editor.id}"), headers=bearer(ws))
    ).status_code == 204
    await session.execute(update(User).where(User.id == ws.viewer.id).values(is_active=False))
    await session.commit()
    for key in keys.values():
        r = await client.get(url(ws.id, "/entities"), headers=key)
        assert r.status_code == 401
        assert r.json()["error"] == "invalid_api_key"
    # The removal revoked that member's keys for good; the deactivated one's just does nothing.
    listed = {k["name"]: k for k in (await client.get(url(ws.id, "/api-keys"), headers=bearer(ws))).json()}
    assert listed[ws.editor.email]["revoked_at"] is not None
    assert listed[ws.viewer.email]["revoked_at"] is None


async def test_a_key_made_with_a_key_answers_to_the_same_person(client, ws):
    await promote(client, ws, ws.editor, "admin")
    assert (await login(client, ws.editor.email, PASSWORD)).status_code == 200
    first = await make_key(client, ws.id, {"Origin": "http://testserver"})
    client.cookies.clear()
    second = await make_key(client, ws.id, first)
    await promote(client, ws, ws.editor, "editor")
    r = await client.post(url(ws.id, "/api-keys"), json={"name": "x"}, headers=second)
    assert r.status_code == 403
    assert (
        await client.delete(url(ws.id, f"/members/{ws.editor.id}"), headers=bearer(ws))
    ).status_code == 204
    assert (await client.get(url(ws.id, "/entities"), headers=second)).status_code == 401


async def test_keys_made_on_the_command_line_are_the_operator_s(client, ws, session):
    from loadbay.bootstrap import system_actor

    actor = await system_actor(session, ws.id)
    _, token = await auth_service.create_api_key(session, actor=actor, name="ops", role=Role.admin)
    await session.commit()
    key = {"Authorization": f"Bearer {token}"}
    assert (await client.get(url(ws.id, "/api-keys"), headers=key)).status_code == 200


async def test_a_web_session_follows_the_membership_on_every_request(client, ws):
    await promote(client, ws, ws.editor, "admin")
    assert (await login(client, ws.editor.email, PASSWORD)).status_code == 200
    assert (await client.get(url(ws.id, "/api-keys"))).status_code == 200
    await promote(client, ws, ws.editor, "viewer")
    r = await client.get(url(ws.id, "/api-keys"))
    assert r.status_code == 403
    assert (await client.get(url(ws.id, "/entities"))).status_code == 200
    assert (
        await client.delete(url(ws.id, f"/members/{ws.editor.id}"), headers=bearer(ws))
    ).status_code == 204
    assert (await client.get(url(ws.id, "/entities"))).status_code == 404
    assert (await client.get("/api/v1/auth/me")).json()["workspaces"] == []
