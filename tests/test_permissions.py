"""Every route refuses the wrong role (403) and another workspace's ids (404)."""

import pytest

from loadbay.core.actor import Role
from loadbay.main import create_app
from tests.conftest import bearer
from tests.helpers import apply_catalog, create_record

MIN_ROLE = {
    "workspaces-get": Role.viewer,
    "members-list": Role.viewer,
    "entities-list": Role.viewer,
    "entities-get": Role.viewer,
    "records-list": Role.viewer,
    "records-count": Role.viewer,
    "records-get": Role.viewer,
    "records-history": Role.viewer,
    "audit-list": Role.admin,
    "records-create": Role.editor,
    "records-bulk": Role.editor,
    "records-delete-all": Role.editor,
    "records-update": Role.editor,
    "records-delete": Role.editor,
    "workspaces-update": Role.admin,
    "invitations-list": Role.admin,
    "invitations-create": Role.admin,
    "invitations-revoke": Role.admin,
    "members-update": Role.admin,
    "members-remove": Role.admin,
    "api-keys-list": Role.admin,
    "api-keys-create": Role.admin,
    "api-keys-revoke": Role.admin,
    "entities-create": Role.admin,
    "entities-update": Role.admin,
    "entities-delete": Role.admin,
    "fields-create": Role.admin,
    "fields-update": Role.admin,
    "fields-delete": Role.admin,
    "schema-apply": Role.admin,
    "imports-list": Role.viewer,
    "imports-get": Role.viewer,
    "imports-rows": Role.viewer,
    "imports-rows-count": Role.viewer,
    "imports-get-row": Role.viewer,
    "imports-error-summary": Role.viewer,
    "imports-dry-run": Role.viewer,
    "imports-progress": Role.viewer,
    "imports-events": Role.viewer,
    "imports-report": Role.viewer,
    "imports-create": Role.editor,
    "imports-upload": Role.editor,
    "imports-set-options": Role.editor,
    "imports-save-mapping": Role.editor,
    "imports-stage": Role.editor,
    "imports-edit-row": Role.editor,
    "imports-bulk-edit": Role.editor,
    "imports-commit": Role.editor,
    "imports-cancel": Role.editor,
    "imports-retry": Role.editor,
    "imports-delete": Role.editor,
}


def workspace_operations():
    spec = create_app().openapi()
    for path, methods in spec["paths"].items():
        if "{workspace_id}" not in path:
            continue
        for method, op in methods.items():
            yield op["operationId"], method.upper(), path


OPS = sorted(workspace_operations())


def test_every_workspace_route_is_classified():
    assert {op for op, _, _ in OPS} == set(MIN_ROLE)


@pytest.fixture
async def targets(client, ws, other_ws):
    ids = {}
    for w in (ws, other_ws):
        await apply_catalog(client, w.id, bearer(w))
        rec = await create_record(client, w.id, "products", bearer(w), {"sku": "P-1", "name": "Lamp"})
        keys = (await client.get(f"/api/v1/workspaces/{w.id}/api-keys", headers=bearer(w))).json()
        imp = await client.post(
            f"/api/v1/workspaces/{w.id}/imports", json={"entity": "products"}, headers=bearer(w)
        )
        assert imp.status_code == 201, imp.text
        inv = await client.post(
            f"/api/v1/workspaces/{w.id}/invitations", json={"email": "guest@example.test"}, headers=bearer(w)
        )
        assert inv.status_code == 201, inv.text
        ids[w.id] = {
            "workspace_id": w.id,
            "entity_key": "products",
            "field_key": "name",
            "record_id": rec["id"],
            "user_id": w.viewer.id,
            "key_id": keys[0]["id"],
            "import_id": imp.json()["id"],
            "invitation_id": inv.json()["id"],
            "row_no": 2,
        }
    return ids


def fill(path, values):
    for k, v in values.items():
        path = path.replace("{" + k + "}", str(v))
    return path


@pytest.mark.parametrize(("op", "method", "path"), OPS, ids=[o[0] for o in OPS])
async def test_wrong_workspace_is_not_found(client, ws, other_ws, targets, op, method, path):
    # ws's admin key, aimed at other_ws (and at other_ws's objects).
    r = await client.request(method, fill(path, targets[other_ws.id]), headers=bearer(ws), json={})
    assert r.status_code == 404, (op, r.status_code, r.text)
    assert r.json()["error"] == "not_found"
    # ...and at its own workspace with the other's object ids: never the other's data.
    own = ("record_id", "key_id", "user_id", "import_id", "invitation_id")
    if any("{" + k + "}" in path for k in own):
        mixed = {**targets[ws.id], **{k: targets[other_ws.id][k] for k in own}}
        r = await client.request(method, fill(path, mixed), headers=bearer(ws), json={})
        assert r.status_code in (404, 422), (op, r.status_code, r.text)


@pytest.mark.parametrize(("op", "method", "path"), OPS, ids=[o[0] for o in OPS])
async def test_too_low_a_role_is_forbidden(client, ws, targets, op, method, path):
    needed = MIN_ROLE[op]
    for role in Role:
        if role.allows(needed):
            continue
        r = await client.request(method, fill(path, targets[ws.id]), headers=bearer(ws, role), json={})
        assert r.status_code == 403, (op, role, r.status_code, r.text)
        assert r.json()["error"] == "forbidden"
