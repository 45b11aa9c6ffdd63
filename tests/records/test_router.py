import random
from decimal import Decimal

import httpx
import pytest

from loadbay.main import create_app
from tests.conftest import bearer
from tests.helpers import apply_catalog, create_entity, create_record, error_fields, url

ITEMS = {
    "key": "items",
    "key_fields": ["code"],
    "fields": [
        {"key": "code", "type": "string"},
        {"key": "name", "type": "string", "indexed": True},
        {"key": "qty", "type": "integer", "indexed": True},
        {"key": "price", "type": "decimal"},
        {"key": "on_sale", "type": "boolean"},
        {"key": "born", "type": "date"},
        {"key": "color", "type": "enum", "enum_values": ["red", "green", "blue"]},
        {"key": "meta", "type": "json"},
    ],
}


def rec_url(ws_id, path=""):
    return url(ws_id, f"/entities/items/records{path}")


async def seed(client, ws, n=40):
    await create_entity(client, ws.id, bearer(ws), ITEMS)
    rng = random.Random(7)
    rows = []
    for i in range(n):
        data = {
            "code": f"C{i:03d}",
            "name": rng.choice(["alpha", "beta", "gamma", "delta", None]),
            "qty": rng.choice([None, *range(0, 8)]),
            "price": rng.choice(["1.50", "10", "2.25", None]),
            "on_sale": rng.choice([True, False, None]),
            "color": rng.choice(["red", "green", None]),
        }
        data = {k: v for k, v in data.items() if v is not None}
        rows.append(await create_record(client, ws.id, "items", bearer(ws), data))
    return rows


async def test_count_stops_at_the_cap_unless_exact(settings, sessionmaker, ws):
    app = create_app(settings.model_copy(update={"count_cap": 25}), sessionmaker=sessionmaker)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        rows = await seed(client, ws)
        viewer = bearer(ws, "viewer")
        r = await client.get(rec_url(ws.id, "/count"), headers=viewer)
        assert r.json() == {"count": 25, "exact": False}
        r = await client.get(rec_url(ws.id, "/count"), params={"exact": "true"}, headers=viewer)
        assert r.json() == {"count": len(rows), "exact": True}
        red = sum(1 for x in rows if x["data"].get("color") == "red")
        assert red <= 25
        r = await client.get(rec_url(ws.id, "/count"), params={"filter": "color:eq:red"}, headers=viewer)
        assert r.json() == {"count": red, "exact": True}


async def walk(client, ws, params, limit=7):
    out, cursor, pages = [], None, 0
    while True:
        p = {**params, "limit": limit}
        if cursor:
            p["cursor"] = cursor
        r = await client.get(rec_url(ws.id), params=p, headers=bearer(ws, "viewer"))
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["items"]) <= limit
        out += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            return out
        assert pages < 100


def model_order(rows, field, desc, conv=lambda v: v):
    with_value = [r for r in rows if field in r["data"]]
    without = [r for r in rows if field not in r["data"]]
    with_value.sort(key=lambda r: (conv(r["data"][field]), r["id"]), reverse=desc)
    without.sort(key=lambda r: r["id"], reverse=desc)
    return [r["id"] for r in with_value + without]


@pytest.mark.parametrize("desc", [False, True])
@pytest.mark.parametrize(
    ("field", "conv"), [("name", str), ("qty", int), ("price", Decimal), ("on_sale", int)]
)
async def test_cursor_pages_match_a_model_sort(client, ws, field, conv, desc):
    rows = await seed(client, ws)
    got = await walk(client, ws, {"sort": field, "order": "desc" if desc else "asc"})
    assert [r["id"] for r in got] == model_order(rows, field, desc, conv)


async def test_default_order_is_id_and_key_sort_works(client, ws):
    rows = await seed(client, ws, 15)
    got = await walk(client, ws, {})
    assert [r["id"] for r in got] == sorted(r["id"] for r in rows)
    got = await walk(client, ws, {"sort": "key", "order": "desc"})
    assert [r["key"] for r in got] == sorted((r["key"] for r in rows), reverse=True)


async def test_filters(client, ws):
    rows = await seed(client, ws)
    viewer = bearer(ws, "viewer")

    async def ids(*filters, q=None):
        params = [("filter", f) for f in filters] + ([("q", q)] if q else [])
        r = await client.get(rec_url(ws.id), params=[*params, ("limit", "1000")], headers=viewer)
        assert r.status_code == 200, r.text
        c = await client.get(rec_url(ws.id, "/count"), params=params, headers=viewer)
        assert c.json() == {"count": len(r.json()["items"]), "exact": True}
        return {x["id"] for x in r.json()["items"]}

    def model(pred):
        return {r["id"] for r in rows if pred(r["data"])}

    assert await ids("name:eq:beta") == model(lambda d: d.get("name") == "beta")
    assert await ids("name:ne:beta") == model(lambda d: d.get("name") != "beta")
    assert await ids("name:contains:ELT") == model(lambda d: "elt" in d.get("name", ""))
    assert await ids("qty:gte:3", "qty:lt:6") == model(lambda d: "qty" in d and 3 <= d["qty"] < 6)
    assert await ids("price:gt:2") == model(lambda d: "price" in d and Decimal(d["price"]) > 2)
    assert await ids("qty:empty") == model(lambda d: "qty" not in d)
    assert await ids("color:not_empty") == model(lambda d: "color" in d)
    assert await ids("on_sale:eq:true") == model(lambda d: d.get("on_sale") is True)
    assert await ids("color:eq:RED") == model(lambda d: d.get("color") == "red")
    assert await ids(q="c00") == model(lambda d: d["code"].startswith("C00"))
    assert await ids("name:eq:alpha", q="C01") == model(
        lambda d: d.get("name") == "alpha" and d["code"].startswith("C01")
    )


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"filter": "nope:eq:1"}, "invalid_filter"),
        ({"filter": "qty:eq:abc"}, "invalid_filter"),
        ({"filter": "qty:between:1"}, "invalid_filter"),
        ({"sort": "nope"}, "invalid_sort"),
        ({"cursor": "garbage!"}, "invalid_cursor"),
    ],
)
async def test_bad_list_parameters_are_explained(client, ws, params, code):
    await create_entity(client, ws.id, bearer(ws), ITEMS)
    r = await client.get(rec_url(ws.id), params=params, headers=bearer(ws))
    assert r.status_code in (400, 422), r.text
    assert r.json()["error"] == code
    assert r.json()["detail"]


async def test_cursor_of_another_sort_is_refused(client, ws):
    await seed(client, ws, 5)
    r = await client.get(rec_url(ws.id), params={"limit": 2}, headers=bearer(ws))
    cursor = r.json()["next_cursor"]
    r = await client.get(
        rec_url(ws.id), params={"limit": 2, "cursor": cursor, "sort": "name"}, headers=bearer(ws)
    )
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_cursor"


async def test_values_are_validated_with_field_and_rule(client, ws):
    await apply_catalog(client, ws.id, bearer(ws))
    r = await client.post(
        url(ws.id, "/entities/products/records"),
        json={
            "data": {
                "sku": "A-1",
                "name": "x" * 256,
                "price": "-1",
                "stock": "many",
                "launched_on": "31/12/2020",
                "bogus": 1,
            }
        },
        headers=bearer(ws, "editor"),
    )
    assert r.status_code == 422
    assert error_fields(r) == {
        "data.name": "max_length",
        "data.price": "min",
        "data.stock": "type",
        "data.launched_on": "type",
        "data.bogus": "unknown_field",
    }
    r = await client.post(
        url(ws.id, "/entities/products/records"), json={"data": {"name": "no sku"}}, headers=bearer(ws)
    )
    assert error_fields(r) == {"data.sku": "required"}


async def test_create_normalises_and_defaults(client, ws):
    await apply_catalog(client, ws.id, bearer(ws))
    rec = await create_record(
        client,
        ws.id,
        "products",
        bearer(ws),
        {"sku": " ABC-1 ", "name": "Lamp", "price": 3.5, "stock": "12", "active": "no"},
    )
    assert rec["data"] == {"sku": " ABC-1 ", "name": "Lamp", "price": "3.5", "stock": 12, "active": False}
    rec = await create_record(
        client,
        ws.id,
        "products",
        bearer(ws),
        {"sku": "ABC-2", "name": "Lamp", "price": "0.10000000000000000001"},
    )
    assert rec["data"]["active"] is True
    assert rec["data"]["price"] == "0.10000000000000000001", "decimals keep every digit"


async def test_natural_key_is_case_insensitive_and_trimmed(client, ws):
    await apply_catalog(client, ws.id, bearer(ws))
    await create_record(client, ws.id, "products", bearer(ws), {"sku": "ABC-1", "name": "Lamp"})
    r = await client.post(
        url(ws.id, "/entities/products/records"),
        json={"data": {"sku": " abc-1", "name": "L"}},
        headers=bearer(ws),
    )
    assert r.status_code == 409
    assert r.json()["error"] == "duplicate_key"


async def test_reference_must_exist(client, ws):
    await apply_catalog(client, ws.id, bearer(ws))
    r = await client.post(
        url(ws.id, "/entities/products/records"),
        json={"data": {"sku": "A", "name": "Lamp", "category": "lighting"}},
        headers=bearer(ws),
    )
    assert error_fields(r) == {"data.category": "reference_not_found"}
    await create_record(client, ws.id, "categories", bearer(ws), {"slug": "lighting", "name": "Lighting"})
    rec = await create_record(
        client, ws.id, "products", bearer(ws), {"sku": "A", "name": "Lamp", "category": "LIGHTING"}
    )
    assert rec["data"]["category"] == "LIGHTING"


async def test_update_with_if_match(client, ws):
    await create_entity(client, ws.id, bearer(ws), ITEMS)
    rec = await create_record(client, ws.id, "items", bearer(ws), {"code": "A", "qty": 1})
    path = rec_url(ws.id, f"/{rec['id']}")
    r = await client.get(path, headers=bearer(ws))
    assert r.headers["etag"] == '"1"'
    r = await client.patch(
        path, json={"data": {"qty": 2}}, headers={**bearer(ws, "editor"), "If-Match": '"1"'}
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2
    assert r.headers["etag"] == '"2"'
    r = await client.patch(
        path, json={"data": {"qty": 3}}, headers={**bearer(ws, "editor"), "If-Match": '"1"'}
    )
    assert r.status_code == 412
    assert r.json()["error"] == "version_mismatch"
    r = await client.patch(path, json={"data": {"qty": None, "name": "n"}}, headers=bearer(ws, "editor"))
    assert r.json()["data"] == {"code": "A", "name": "n"}
    r = await client.delete(path, headers={**bearer(ws, "editor"), "If-Match": '"2"'})
    assert r.status_code == 412
    r = await client.delete(path, headers={**bearer(ws, "editor"), "If-Match": '"3"'})
    assert r.status_code == 204
    assert (await client.get(path, headers=bearer(ws))).status_code == 404


async def test_unchanged_update_keeps_version(client, ws):
    await create_entity(client, ws.id, bearer(ws), ITEMS)
    rec = await create_record(client, ws.id, "items", bearer(ws), {"code": "A", "qty": 1})
    r = await client.patch(rec_url(ws.id, f"/{rec['id']}"), json={"data": {"qty": "1"}}, headers=bearer(ws))
    assert r.json()["version"] == 1


async def test_bulk_set_and_delete(client, ws):
    rows = await seed(client, ws, 20)
    editor = bearer(ws, "editor")
    r = await client.post(
        rec_url(ws.id, "/bulk"),
        json={"action": "set", "filter": ["name:eq:beta"], "field": "qty", "value": "42"},
        headers=editor,
    )
    assert r.status_code == 200, r.text
    betas = {x["id"] for x in rows if x["data"].get("name") == "beta"}
    assert r.json() == {"matched": len(betas), "updated": len(betas), "deleted": 0}
    got = await walk(client, ws, {"filter": "qty:eq:42"})
    assert {x["id"] for x in got} == betas
    assert all(x["version"] == 2 for x in got)
    r = await client.post(
        rec_url(ws.id, "/bulk"),
        json={"action": "set", "all": True, "field": "qty", "value": "x"},
        headers=editor,
    )
    assert r.status_code == 422
    assert error_fields(r) == {"data.qty": "type"}
    some = [rows[0]["id"], rows[1]["id"]]
    r = await client.post(
        rec_url(ws.id, "/bulk"),
        json={"action": "set", "ids": some, "field": "price", "value": None},
        headers=editor,
    )
    assert r.json()["updated"] == 2
    for rid in some:
        assert "price" not in (await client.get(rec_url(ws.id, f"/{rid}"), headers=editor)).json()["data"]
    r = await client.post(
        rec_url(ws.id, "/bulk"),
        json={"action": "set", "all": True, "field": "code", "value": "same"},
        headers=editor,
    )
    assert r.status_code == 422
    r = await client.post(rec_url(ws.id, "/bulk"), json={"action": "delete"}, headers=editor)
    assert r.status_code == 422
    assert r.json()["error"] == "empty_selection"
    r = await client.post(rec_url(ws.id, "/bulk"), json={"action": "delete", "ids": some}, headers=editor)
    assert r.json()["deleted"] == 2
    r = await client.delete(rec_url(ws.id), headers=editor)
    assert r.json()["deleted"] == 18
    assert (await client.get(rec_url(ws.id, "/count"), headers=editor)).json()["count"] == 0


async def test_unique_field_is_enforced(client, ws):
    body = {**ITEMS, "fields": [*ITEMS["fields"], {"key": "ean", "type": "string", "unique": True}]}
    await create_entity(client, ws.id, bearer(ws), body)
    await create_record(client, ws.id, "items", bearer(ws), {"code": "A", "ean": "123"})
    b = await create_record(client, ws.id, "items", bearer(ws), {"code": "B"})
    r = await client.post(rec_url(ws.id), json={"data": {"code": "C", "ean": "123"}}, headers=bearer(ws))
    assert r.status_code == 409
    assert error_fields(r) == {"data.ean": "unique"}
    r = await client.patch(rec_url(ws.id, f"/{b['id']}"), json={"data": {"ean": "123"}}, headers=bearer(ws))
    assert r.status_code == 409
    r = await client.post(
        rec_url(ws.id, "/bulk"),
        json={"action": "set", "all": True, "field": "ean", "value": "9"},
        headers=bearer(ws),
    )
    assert r.status_code == 409
    assert r.json()["error"] == "duplicate_value"


async def test_viewer_cannot_write(client, ws):
    await create_entity(client, ws.id, bearer(ws), ITEMS)
    r = await client.post(rec_url(ws.id), json={"data": {"code": "A"}}, headers=bearer(ws, "viewer"))
    assert r.status_code == 403
