"""Members join by invitation: a one-time link; the invitee chooses their own password or signs in."""

from datetime import datetime, timedelta

from sqlalchemy import update

from loadbay.auth import service as auth_service
from loadbay.db import utcnow
from loadbay.invitations.models import Invitation
from tests.conftest import bearer
from tests.fixtures.factories import PASSWORD
from tests.helpers import url
from tests.invitations.helpers import accept, invite, login, register

# What differs between two invitations whatever the email: the rest must be the same.
PER_INVITATION = {"id", "email", "token", "path", "created_at", "expires_at"}


async def test_invite_register_and_join_with_the_role(client, ws, settings):
    r = await client.post(
        url(ws.id, "/invitations"), json={"email": " New@Example.TEST ", "role": "editor"}, headers=bearer(ws)
    )
    assert r.status_code == 201, r.text
    inv = r.json()
    assert inv["email"] == "new@example.test"
    assert inv["role"] == "editor"
    assert inv["invited_by"] == ws.admin.email
    assert inv["path"] == f"/invite/{inv['token']}"
    assert len(inv["token"]) >= 40
    lifetime = datetime.fromisoformat(inv["expires_at"]) - datetime.fromisoformat(inv["created_at"])
    assert lifetime == timedelta(hours=settings.invitation_ttl_hours)
    # Listed as pending, without its secret.
    listed = (await client.get(url(ws.id, "/invitations"), headers=bearer(ws))).json()
    assert [(i["id"], i["email"]) for i in listed] == [(inv["id"], "new@example.test")]
    assert "token" not in listed[0]

    preview = await client.get(f"/api/v1/invitations/{inv['token']}")
    assert preview.status_code == 200, preview.text
    assert preview.json() == {
        "workspace_id": ws.id,
        "workspace_name": "Acme",
        "email": "new@example.test",
        "role": "editor",
        "invited_by": ws.admin.name,
        "expires_at": inv["expires_at"],
        "signed_in_as": None,
    }

    r = await register(client, inv["token"], "my own password")
    assert r.status_code == 200, r.text
    assert r.json()["user"]["email"] == "new@example.test"
    assert [(w["id"], w["role"]) for w in r.json()["workspaces"]] == [(ws.id, "editor")]
    # Signed in by the same answer, and the password is the invitee's.
    assert (await client.get("/api/v1/auth/me")).json()["user"]["name"] == "New Hire"
    client.cookies.clear()
    assert (await login(client, "new@example.test", "my own password")).status_code == 200
    # One use: the link is spent, and no longer pending.
    again = await register(client, inv["token"], "another password")
    assert again.status_code == 410
    assert again.json()["error"] == "invitation_used"
    assert (await client.get(url(ws.id, "/invitations"), headers=bearer(ws))).json() == []
    members = (await client.get(url(ws.id, "/members"), headers=bearer(ws))).json()
    assert {m["email"]: m["role"] for m in members}["new@example.test"] == "editor"


async def test_the_answer_is_the_same_whether_or_not_the_email_has_an_account(client, ws, other_ws):
    known = await invite(client, ws.id, other_ws.editor.email, bearer(ws))
    unknown = await invite(client, ws.id, "nobody-yet@example.test", bearer(ws))
    assert {k: v for k, v in known.items() if k not in PER_INVITATION} == {
        k: v for k, v in unknown.items() if k not in PER_INVITATION
    }
    assert set(known) == set(unknown)
    a = (await client.get(f"/api/v1/invitations/{known['token']}")).json()
    b = (await client.get(f"/api/v1/invitations/{unknown['token']}")).json()
    assert set(a) == set(b)
    assert {k: v for k, v in a.items() if k not in {"email", "expires_at"}} == {
        k: v for k, v in b.items() if k not in {"email", "expires_at"}
    }


async def test_an_existing_account_accepts_by_signing_in_and_cannot_be_given_a_password(client, ws, other_ws):
    someone = other_ws.editor
    inv = await invite(client, ws.id, someone.email, bearer(ws), role="viewer")
    # Nobody sets a password for an account that exists.
    r = await register(client, inv["token"], "taken over?")
    assert r.status_code == 409
    assert r.json()["error"] == "account_exists"
    assert (await login(client, someone.email, "taken over?")).status_code == 401
    # A wrong password is refused like a wrong sign-in; the link still works after.
    r = await accept(client, inv["token"], "wrong password")
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_credentials"
    r = await accept(client, inv["token"], PASSWORD)
    assert r.status_code == 200, r.text
    assert {w["id"]: w["role"] for w in r.json()["workspaces"]} == {other_ws.id: "editor", ws.id: "viewer"}


async def test_a_signed_in_session_of_the_invited_account_accepts_without_a_password(client, ws, other_ws):
    inv = await invite(client, ws.id, other_ws.viewer.email, bearer(ws))
    other = await invite(client, ws.id, "someone-else@example.test", bearer(ws))
    assert (await login(client, other_ws.viewer.email, PASSWORD)).status_code == 200
    preview = (await client.get(f"/api/v1/invitations/{inv['token']}")).json()
    assert preview["signed_in_as"] == other_ws.viewer.email
    # Not the account the other link is for.
    r = await accept(client, other["token"])
    assert r.status_code == 403
    assert r.json()["error"] == "wrong_account"
    r = await accept(client, inv["token"])
    assert r.status_code == 200, r.text
    assert ws.id in {w["id"] for w in r.json()["workspaces"]}
    # Without a session or a password there is nothing to accept with.
    client.cookies.clear()
    r = await accept(client, other["token"])
    assert r.status_code == 403
    assert r.json()["error"] == "sign_in_required"


async def test_revoked_expired_and_unknown_links_are_refused_clearly(client, ws, session):
    revoked = await invite(client, ws.id, "revoked@example.test", bearer(ws))
    expired = await invite(client, ws.id, "expired@example.test", bearer(ws))
    assert (
        await client.delete(url(ws.id, f"/invitations/{revoked['id']}"), headers=bearer(ws))
    ).status_code == 204
    await session.execute(
        update(Invitation)
        .where(Invitation.id == expired["id"])
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    await session.commit()
    for token, code in ((revoked["token"], "invitation_revoked"), (expired["token"], "invitation_expired")):
        for r in (
            await client.get(f"/api/v1/invitations/{token}"),
            await register(client, token, "long enough pw"),
            await accept(client, token, "long enough pw"),
        ):
            assert r.status_code == 410, r.text
            assert r.json()["error"] == code
    r = await client.get("/api/v1/invitations/" + "x" * 43)
    assert r.status_code == 404
    assert r.json()["error"] == "invitation_not_found"
    assert (await client.get("/api/v1/invitations/not a token")).status_code == 422
    assert (await client.get(url(ws.id, "/invitations"), headers=bearer(ws))).json() == []
    # Revoking twice is fine; revoking another workspace's or an unknown one is not found.
    assert (
        await client.delete(url(ws.id, f"/invitations/{revoked['id']}"), headers=bearer(ws))
    ).status_code == 204
    assert (await client.delete(url(ws.id, "/invitations/999999"), headers=bearer(ws))).status_code == 404


async def test_a_new_invitation_replaces_the_pending_one_and_members_are_not_invited(client, ws):
    first = await invite(client, ws.id, "twice@example.test", bearer(ws))
    second = await invite(client, ws.id, "twice@example.test", bearer(ws), role="admin")
    assert (await client.get(f"/api/v1/invitations/{first['token']}")).json()["error"] == "invitation_revoked"
    listed = (await client.get(url(ws.id, "/invitations"), headers=bearer(ws))).json()
    assert [(i["id"], i["role"]) for i in listed] == [(second["id"], "admin")]
    r = await client.post(
        url(ws.id, "/invitations"), json={"email": ws.viewer.email.upper()}, headers=bearer(ws)
    )
    assert r.status_code == 409
    assert r.json()["error"] == "already_member"
    r = await client.post(url(ws.id, "/invitations"), json={"email": "not-an-email"}, headers=bearer(ws))
    assert r.status_code == 422
    # An accepted invitation is not revoked afterwards: the member is removed instead.
    assert (await register(client, second["token"], "long enough pw")).status_code == 200
    r = await client.delete(url(ws.id, f"/invitations/{second['id']}"), headers=bearer(ws))
    assert r.status_code == 409


async def test_accepting_from_another_origin_is_refused(client, ws):
    inv = await invite(client, ws.id, "csrf@example.test", bearer(ws))
    r = await client.post(
        f"/api/v1/invitations/{inv['token']}/register",
        json={"name": "X", "password": "long enough pw"},
        headers={"Origin": "https://evil.example"},
    )
    assert r.status_code == 403
    assert r.json()["error"] == "cross_origin"


async def test_an_admin_elsewhere_cannot_take_over_an_account_invited_later(client, ws, other_ws, session):
    """Workspace B's admin creates newhire@a.test with a password of their choosing, then removes it;
    workspace A invites that email later. B's admin never reaches A, and A's admin learns nothing."""
    b, a = other_ws, ws
    planted = await invite(client, b.id, "newhire@a.test", bearer(b))
    r = await register(client, planted["token"], "b admin's choice", name="Mallory")
    assert r.status_code == 200, r.text
    squatted_id = r.json()["user"]["id"]
    b_session = client.cookies.get("loadbay_session")
    client.cookies.clear()
    assert (await client.delete(url(b.id, f"/members/{squatted_id}"), headers=bearer(b))).status_code == 204

    # A invites the email: the answer is what any never-seen email gets.
    for_a = await invite(client, a.id, "newhire@a.test", bearer(a))
    fresh = await invite(client, a.id, "never-seen@a.test", bearer(a))
    assert {k: v for k, v in for_a.items() if k not in PER_INVITATION} == {
        k: v for k, v in fresh.items() if k not in PER_INVITATION
    }

    # B's admin, signed in to the planted account, sees nothing of A: no workspace, A answers 404.
    r = await login(client, "newhire@a.test", "b admin's choice")
    assert r.json()["workspaces"] == []
    assert (await client.get(url(a.id))).status_code == 404
    assert (await client.get(url(a.id, "/members"))).status_code == 404
    assert (await client.post(url(a.id, "/invitations"), json={"email": "x@a.test"})).status_code == 404
    # Without A's link there is nothing to accept; a made-up token is not one.
    assert (await accept(client, "A" * 43)).status_code == 404
    client.cookies.clear()

    # The real newhire gets A's link but cannot set a password over the planted account...
    r = await register(client, for_a["token"], "newhire's own password")
    assert r.status_code == 409
    assert (await login(client, "newhire@a.test", "newhire's own password")).status_code == 401
    # ...so the operator resets it (`loadbay users set-password`), which signs B's admin out, and
    # newhire accepts A's link with it.
    await auth_service.set_password(session, email="newhire@a.test", password="reset by the operator")
    await session.commit()
    client.cookies.set("loadbay_session", b_session)
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    client.cookies.clear()
    assert (await login(client, "newhire@a.test", "b admin's choice")).status_code == 401
    r = await accept(client, for_a["token"], "reset by the operator")
    assert r.status_code == 200, r.text
    assert [(w["id"], w["role"]) for w in r.json()["workspaces"]] == [(a.id, "editor")]


async def test_membership_and_key_changes_are_in_the_audit_trail(client, ws):
    admin = bearer(ws)
    inv = await invite(client, ws.id, "audited@example.test", admin, role="viewer")
    r = await register(client, inv["token"], "audited password")
    assert r.status_code == 200, r.text
    uid = r.json()["user"]["id"]
    client.cookies.clear()
    assert (
        await client.patch(url(ws.id, f"/members/{uid}"), json={"role": "editor"}, headers=admin)
    ).status_code == 200
    key = await client.post(url(ws.id, "/api-keys"), json={"name": "ci", "role": "viewer"}, headers=admin)
    assert key.status_code == 201, key.text
    assert (
        await client.delete(url(ws.id, f"/api-keys/{key.json()['id']}"), headers=admin)
    ).status_code == 204
    assert (await client.delete(url(ws.id, f"/members/{uid}"), headers=admin)).status_code == 204
    revoked = await invite(client, ws.id, "never@example.test", admin)
    assert (
        await client.delete(url(ws.id, f"/invitations/{revoked['id']}"), headers=admin)
    ).status_code == 204

    r = await client.get(url(ws.id, "/audit"), params={"limit": 20}, headers=admin)
    assert r.status_code == 200, r.text
    lines = [(e["action"], e["subject_type"], e["actor"]["kind"]) for e in reversed(r.json()["items"])]
    assert lines[-8:] == [
        ("member.invited", "invitation", "api_key"),
        ("member.joined", "member", "user"),
        ("member.role_changed", "member", "api_key"),
        ("api_key.created", "api_key", "api_key"),
        ("api_key.revoked", "api_key", "api_key"),
        ("member.removed", "member", "api_key"),
        ("member.invited", "invitation", "api_key"),
        ("invitation.revoked", "invitation", "api_key"),
    ]
    by_action = {e["action"]: e for e in r.json()["items"]}
    assert by_action["member.joined"]["actor"]["user_id"] == uid
    assert by_action["member.role_changed"]["payload"]["values"] == {
        "role": {"before": "viewer", "after": "editor"}
    }
    assert by_action["invitation.revoked"]["payload"]["email"] == "never@example.test"
