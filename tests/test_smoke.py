async def test_health(client):
    r = await client.get("/api/v1/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"


async def test_entities_list(client, ws, admin):
    r = await client.get(f"/api/v1/workspaces/{ws.id}/entities", headers=admin)
    assert r.status_code == 200, r.text
    assert r.json() == []


async def test_large_responses_are_compressed_for_clients_that_accept_it(client):
    r = await client.get("/api/v1/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers["content-encoding"] == "gzip"
    assert r.json()["openapi"].startswith("3.")
