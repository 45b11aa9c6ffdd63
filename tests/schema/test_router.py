import pytest

from tests.conftest import bearer
from tests.helpers import ROOT, apply_catalog, create_entity, error_fields, url

BOOKS = {
    "key": "books",
    "key_fields": ["isbn"],
    "fields": [
        {"key": "isbn", "type": "string"},
        {"key": "title", "type": "string", "required": True, "max_length": 200},
    ],
}


async def test_create_entity_and_read_back(client, ws, admin):
    body = await create_entity(client, ws.id, admin, BOOKS)
    assert body["key"] == "books"
    assert body["label"] == "Books"
    assert body["key_fields"] == ["isbn"]
    isbn = next(f for f in body["fields"] if f["key"] == "isbn")
    assert isbn["required"] is True, "key fields are always required"
    r = await client.get(url(ws.id, "/entities/books"), headers=admin)
    assert r.json()["record_count"] == 0


async def test_duplicate_entity_conflicts(client, ws, admin):
    await create_entity(client, ws.id, admin, BOOKS)
    r = await client.post(url(ws.id, "/entities"), json=BOOKS, headers=admin)
    assert r.status_code == 409
    assert r.json()["error"] == "entity_exists"


@pytest.mark.parametrize(
    ("field", "where", "code"),
    [
        ({"key": "n", "type": "integer", "default": "abc"}, "field.default", "type"),
        ({"key": "n", "type": "enum"}, "field.enum_values", "required"),
        ({"key": "n", "type": "enum", "enum_values": ["a", "a"]}, "field.enum_values", "duplicate"),
        ({"key": "n", "type": "string", "pattern": "(unclosed"}, "field.pattern", "invalid_pattern"),
        ({"key": "n", "type": "integer", "pattern": "\\d+"}, "field.pattern", "not_allowed"),
        (
            {"key": "n", "type": "reference", "reference_entity": "nope"},
            "field.reference_entity",
            "unknown_entity",
        ),
        ({"key": "n", "type": "reference"}, "field.reference_entity", "required"),
        ({"key": "n", "type": "integer", "min_value": 5, "max_value": 1}, "field.min_value", "min_above_max"),
        ({"key": "n", "type": "string", "min_value": 1}, "field.min_value", "not_allowed"),
        ({"key": "n", "type": "enum", "enum_values": ["a", "b"], "default": "c"}, "field.default", "enum"),
        ({"key": "n", "type": "json", "unique": True}, "field.type", "not_indexable"),
    ],
)
async def test_field_definition_is_checked(client, ws, admin, field, where, code):
    await create_entity(client, ws.id, admin, BOOKS)
    r = await client.post(url(ws.id, "/entities/books/fields"), json=field, headers=admin)
    assert r.status_code == 422, r.text
    assert error_fields(r).get(where) == code


async def test_bad_field_key_is_refused(client, ws, admin):
    await create_entity(client, ws.id, admin, BOOKS)
    r = await client.post(
        url(ws.id, "/entities/books/fields"), json={"key": "Bad Key", "type": "string"}, headers=admin
    )
    assert r.status_code == 422
    assert "key" in error_fields(r)


async def test_add_field_at_run_time_and_use_it(client, ws, admin):
    await create_entity(client, ws.id, admin, BOOKS)
    r = await client.post(
        url(ws.id, "/entities/books/fields"),
        json={"key": "pages", "type": "integer", "min_value": 1, "default": 100},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        url(ws.id, "/entities/books/records"), json={"data": {"isbn": "1", "title": "A"}}, headers=admin
    )
    assert r.json()["data"]["pages"] == 100


async def test_making_a_field_unique_with_duplicates_conflicts(client, ws, admin):
    await create_entity(client, ws.id, admin, BOOKS)
    for isbn in ("1", "2"):
        await client.post(
            url(ws.id, "/entities/books/records"),
            json={"data": {"isbn": isbn, "title": "Same"}},
            headers=admin,
        )
    r = await client.patch(url(ws.id, "/entities/books/fields/title"), json={"unique": True}, headers=admin)
    assert r.status_code == 409
    assert r.json()["error"] == "duplicate_values"
    r = await client.get(url(ws.id, "/entities/books"), headers=admin)
    assert next(f for f in r.json()["fields"] if f["key"] == "title")["unique"] is False


async def test_required_field_on_existing_records_needs_a_default(client, ws, admin):
    await create_entity(client, ws.id, admin, BOOKS)
    await client.post(
        url(ws.id, "/entities/books/records"), json={"data": {"isbn": "1", "title": "A"}}, headers=admin
    )
    r = await client.post(
        url(ws.id, "/entities/books/fields"),
        json={"key": "lang", "type": "string", "required": True},
        headers=admin,
    )
    assert r.status_code == 409
    assert r.json()["error"] == "existing_records_invalid"


async def test_delete_field_removes_values(client, ws, admin):
    await create_entity(
        client, ws.id, admin, {**BOOKS, "fields": [*BOOKS["fields"], {"key": "note", "type": "text"}]}
    )
    r = await client.post(
        url(ws.id, "/entities/books/records"),
        json={"data": {"isbn": "1", "title": "A", "note": "x"}},
        headers=admin,
    )
    rid = r.json()["id"]
    assert (await client.delete(url(ws.id, "/entities/books/fields/note"), headers=admin)).status_code == 204
    r = await client.get(url(ws.id, f"/entities/books/records/{rid}"), headers=admin)
    assert "note" not in r.json()["data"]
    assert r.json()["version"] == 2
    r = await client.delete(url(ws.id, "/entities/books/fields/isbn"), headers=admin)
    assert r.status_code == 409


async def test_natural_key_cannot_change_with_records(client, ws, admin):
    await create_entity(client, ws.id, admin, BOOKS)
    await client.post(
        url(ws.id, "/entities/books/records"), json={"data": {"isbn": "1", "title": "A"}}, headers=admin
    )
    r = await client.patch(url(ws.id, "/entities/books"), json={"key_fields": ["title"]}, headers=admin)
    assert r.status_code == 409
    r = await client.patch(url(ws.id, "/entities/books"), json={"label": "Library"}, headers=admin)
    assert r.status_code == 200
    assert r.json()["label"] == "Library"


async def test_apply_catalog_is_idempotent(client, ws, admin):
    first = await apply_catalog(client, ws.id, admin)
    assert first["created"] == 3
    assert {c["entity"] for c in first["changes"]} == {"categories", "suppliers", "products"}
    second = await apply_catalog(client, ws.id, admin)
    assert second["created"] == 0
    assert second["updated"] == 0
    assert second["unchanged"] > 10
    r = await client.get(url(ws.id, "/entities/products"), headers=admin)
    fields = {f["key"]: f for f in r.json()["fields"]}
    assert fields["category"]["reference_entity"] == "categories"
    assert fields["active"]["default"] is True
    assert fields["name"]["max_length"] == 255


async def test_apply_reports_changes_and_dry_run_changes_nothing(client, ws, admin):
    import yaml

    await apply_catalog(client, ws.id, admin)
    doc = yaml.safe_load((ROOT / "examples" / "catalog.yaml").read_text())
    products = next(e for e in doc["entities"] if e["key"] == "products")
    next(f for f in products["fields"] if f["key"] == "name")["max_length"] = 300
    products["fields"].append({"key": "color", "type": "string"})
    r = await client.post(url(ws.id, "/schema/apply?dry_run=true"), json=doc, headers=admin)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["dry_run"] is True
    changed = {(c["entity"], c["field"]): c for c in body["changes"] if c["action"] != "unchanged"}
    assert changed[("products", "name")]["changed"] == ["max_length"]
    assert changed[("products", "color")]["action"] == "created"
    r = await client.get(url(ws.id, "/entities/products"), headers=admin)
    assert "color" not in {f["key"] for f in r.json()["fields"]}
    r = await client.post(url(ws.id, "/schema/apply"), json=doc, headers=admin)
    r = await client.get(url(ws.id, "/entities/products"), headers=admin)
    assert "color" in {f["key"] for f in r.json()["fields"]}


async def test_apply_hardware_example(client, ws, admin):
    import yaml

    doc = yaml.safe_load((ROOT / "examples" / "hardware.yaml").read_text())
    r = await client.post(url(ws.id, "/schema/apply"), json=doc, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 3


async def test_referenced_entity_cannot_be_deleted(client, ws, admin):
    await apply_catalog(client, ws.id, admin)
    r = await client.delete(url(ws.id, "/entities/categories"), headers=admin)
    assert r.status_code == 409
    assert "products.category" in r.json()["detail"]
    assert (await client.delete(url(ws.id, "/entities/products"), headers=admin)).status_code == 204


async def test_schema_changes_need_admin(client, ws):
    r = await client.post(url(ws.id, "/entities"), json=BOOKS, headers=bearer(ws, "editor"))
    assert r.status_code == 403
    assert r.json()["error"] == "forbidden"
