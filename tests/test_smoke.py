async def test_health(client):
    r = await client.get("/api/v1/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"


async def test_entities_list(client, ws, admin):
    r = await client.get(f"/api/v1/workspaces/{ws.id}/entities", headers=admin)
    assert r.status_code == 200, r.text
    assert r.json() == []
