"""Every change to records leaves its event, in its transaction: API edits, bulk actions,
delete-all, dropping a field. The audit trail and a record's history read them."""

import re
from pathlib import Path

from sqlalchemy import func, select

from loadbay.events.models import Event
from loadbay.records import writer
from loadbay.records.models import Record
from loadbay.schema.models import Entity
from tests.conftest import bearer
from tests.helpers import create_entity, create_record, url

ITEMS = {
    "key": "items",
    "key_fields": ["code"],
    "fields": [
        {"key": "code", "type": "string"},
        {"key": "name", "type": "string"},
        {"key": "qty", "type": "integer"},
        {"key": "tag", "type": "string", "unique": True},
    ],
}
BACKEND = Path(__file__).resolve().parents[2] / "backend" / "loadbay"


def rec(ws_id, path=""):
    return url(ws_id, f"/entities/items/records{path}")


async def _events(session, ws_id):
    rows = (
        await session.execute(select(Event).where(Event.workspace_id == ws_id).order_by(Event.id))
    ).scalars()
    return list(rows)


async def test_single_record_edits_leave_events_with_before_and_after_and_a_history(client, ws, session):
    await create_entity(client, ws.id, bearer(ws), ITEMS)
    editor = bearer(ws, "editor")
    r = await client.post(rec(ws.id), json={"data": {"code": "A", "name": "Apple", "qty": 1}}, headers=editor)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    r = await client.patch(
        rec(ws.id, f"/{rid}"), json={"data": {"qty": 2}}, headers={**editor, "X-Request-Id": "req-42"}
    )
    assert r.status_code == 200, r.text
    assert r.headers["x-request-id"] == "req-42"
    r = await client.patch(rec(ws.id, f"/{rid}"), json={"data": {"qty": 2}}, headers=editor)  # no change
    r = await client.delete(rec(ws.id, f"/{rid}"), headers=editor)
    assert r.status_code == 204, r.text

    events = [e for e in await _events(session, ws.id) if e.action.startswith("record.")]
    assert [e.action for e in events] == ["record.created", "record.updated", "record.deleted"]
    created, updated, deleted = events
    assert created.payload["created"] == [rid]
    assert created.payload["after"]["name"] == "Apple"
    assert updated.payload["updated"] == [rid]
    assert updated.payload["values"] == {"qty": {"before": 1, "after": 2}}
    assert updated.request_id == "req-42"
    assert deleted.payload["deleted"] == [rid]
    assert deleted.payload["before"]["qty"] == 2
    assert {e.api_key_id for e in events} == {ws.key_ids["editor"]}
    assert all(e.subject_type == "record" and e.subject_id == rid for e in events)

    # The history outlives the record, newest first.
    r = await client.get(rec(ws.id, f"/{rid}/history"), headers=bearer(ws, "viewer"))
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["change"] for i in items] == ["deleted", "updated", "created"]
    assert items[1]["values"] == {"qty": {"before": 1, "after": 2}}
    assert items[1]["fields"] == ["qty"]
    assert items[1]["request_id"] == "req-42"
    assert items[1]["actor"]["kind"] == "api_key"
    assert items[2]["values"]["name"] == {"after": "Apple"}


async def test_bulk_actions_and_delete_all_name_every_record_they_touched(client, ws, session):
    await create_entity(client, ws.id, bearer(ws), ITEMS)
    editor = bearer(ws, "editor")
    ids = [
        (await create_record(client, ws.id, "items", editor, {"code": f"C{i}", "qty": i % 3}))["id"]
        for i in range(9)
    ]
    r = await client.post(
        rec(ws.id, "/bulk"),
        json={"action": "set", "filter": ["qty:eq:1"], "field": "name", "value": "one"},
        headers=editor,
    )
    assert r.status_code == 200, r.text
    assert r.json()["updated"] == 3
    r = await client.post(rec(ws.id, "/bulk"), json={"action": "delete", "ids": ids[:2]}, headers=editor)
    assert r.json()["deleted"] == 2, r.text
    r = await client.delete(rec(ws.id), headers=editor)
    assert r.json()["deleted"] == 7, r.text

    events = [
        e
        for e in await _events(session, ws.id)
        if e.action.startswith("record") and e.action != "record.created"
    ]
    bulk_set, bulk_delete, all_gone = events
    assert bulk_set.action == "record.updated"
    assert bulk_set.payload["updated"] == [ids[1], ids[4], ids[7]]
    assert bulk_set.payload["values"] == {"name": {"after": "one"}}
    assert bulk_set.payload["bulk"] is True
    assert bulk_delete.action == "record.deleted"
    assert bulk_delete.payload["deleted"] == ids[:2]
    assert all_gone.action == "records.deleted_all"
    assert all_gone.payload["deleted"] == ids[2:]

    # A bulk set on record 7 shows in its history as part of a bulk change.
    r = await client.get(rec(ws.id, f"/{ids[7]}/history"), headers=editor)
    assert [(i["change"], i["bulk"]) for i in r.json()["items"]] == [
        ("deleted", True),  # delete-all
        ("updated", True),
        ("created", False),
    ]


async def test_a_refused_change_leaves_no_event(client, ws, session):
    await create_entity(client, ws.id, bearer(ws), ITEMS)
    editor = bearer(ws, "editor")
    await create_record(client, ws.id, "items", editor, {"code": "A", "tag": "t1"})
    await create_record(client, ws.id, "items", editor, {"code": "B", "tag": "t2"})
    before = len(await _events(session, ws.id))
    # A unique field set on two records: the database refuses the statement, the event goes with it.
    r = await client.post(
        rec(ws.id, "/bulk"),
        json={"action": "set", "all": True, "field": "tag", "value": "same"},
        headers=editor,
    )
    assert r.status_code == 409, r.text
    r = await client.post(rec(ws.id), json={"data": {"code": "A"}}, headers=editor)
    assert r.status_code == 409, r.text
    assert len(await _events(session, ws.id)) == before


async def test_a_rolled_back_transaction_leaves_neither_the_record_nor_its_event(sessionmaker, ws, client):
    await create_entity(client, ws.id, bearer(ws), ITEMS)
    count = select(func.count()).select_from(Event).where(Event.workspace_id == ws.id)
    async with sessionmaker() as s:
        before = (await s.execute(count)).scalar_one()
        entity = (await s.execute(select(Entity).where(Entity.workspace_id == ws.id))).scalar_one()
        rec_row, changes = await writer.create(s, None, entity, key_norm="z", data={"code": "Z"})
        assert changes.created == [rec_row.id]
        await s.flush()
        assert (await s.execute(count)).scalar_one() == before + 1
        await s.rollback()
    async with sessionmaker() as s:
        assert (await s.execute(count)).scalar_one() == before
        assert await s.get(Record, rec_row.id) is None


async def test_dropping_a_field_names_the_records_that_lost_a_value(client, ws, session):
    await create_entity(client, ws.id, bearer(ws), ITEMS)
    editor = bearer(ws, "editor")
    a = await create_record(client, ws.id, "items", editor, {"code": "A", "name": "x"})
    await create_record(client, ws.id, "items", editor, {"code": "B"})
    r = await client.delete(url(ws.id, "/entities/items/fields/name"), headers=bearer(ws))
    assert r.status_code == 204, r.text
    dropped = [e for e in await _events(session, ws.id) if e.action == "field.deleted"]
    assert len(dropped) == 1
    assert dropped[0].payload["updated"] == [a["id"]]
    assert dropped[0].payload["field"] == "name"


async def test_the_audit_trail_filters_and_pages_for_admins_only(client, ws, other_ws, session):
    await create_entity(client, ws.id, bearer(ws), ITEMS)
    editor, admin = bearer(ws, "editor"), bearer(ws)
    ids = [(await create_record(client, ws.id, "items", editor, {"code": f"C{i}"}))["id"] for i in range(5)]
    await client.patch(rec(ws.id, f"/{ids[0]}"), json={"data": {"name": "n"}}, headers=admin)

    r = await client.get(url(ws.id, "/audit"), headers=editor)
    assert r.status_code == 403, r.text
    r = await client.get(url(other_ws.id, "/audit"), headers=admin)
    assert r.status_code in (403, 404), r.text

    r = await client.get(url(ws.id, "/audit"), params={"limit": 2}, headers=admin)
    assert r.status_code == 200, r.text
    first = r.json()
    assert len(first["items"]) == 2
    assert first["next_cursor"]
    seen = [i["id"] for i in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = (
            await client.get(url(ws.id, "/audit"), params={"limit": 2, "cursor": cursor}, headers=admin)
        ).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
    assert seen == sorted(seen, reverse=True)
    # The workspace's three API keys, the entity, five creates and one edit.
    assert len(seen) == len(set(seen)) == 10

    q = {"action": "record.", "entity": "items", "actor": f"api_key:{ws.key_ids['editor']}"}
    r = await client.get(url(ws.id, "/audit"), params=q, headers=admin)
    assert [i["action"] for i in r.json()["items"]] == ["record.created"] * 5
    assert r.json()["items"][0]["entity"] == "items"
    assert r.json()["items"][0]["counts"]["created"] == 1
    r = await client.get(url(ws.id, "/audit"), params={"record": ids[0]}, headers=admin)
    assert [i["action"] for i in r.json()["items"]] == ["record.updated", "record.created"]
    r = await client.get(url(ws.id, "/audit"), params={"actor": "nobody"}, headers=admin)
    assert r.status_code == 422
    assert r.json()["fields"][0]["field"] == "actor"
    r = await client.get(url(ws.id, "/audit"), params={"since": "2999-01-01T00:00:00Z"}, headers=admin)
    assert r.json()["items"] == []
    r = await client.get(url(ws.id, "/audit"), params={"until": "2999-01-01T00:00:00+01:00"}, headers=admin)
    assert len(r.json()["items"]) == 10
    for not_a_time in ("0.5", "1700000000", "2026-12-08", "2026-12-08T10:00:00"):
        r = await client.get(url(ws.id, "/audit"), params={"until": not_a_time}, headers=admin)
        assert r.status_code == 422, (not_a_time, r.text)
        assert r.json()["fields"][0]["field"] == "until"
    # A record with neither a row nor a past is not found; another workspace's neither.
    r = await client.get(rec(ws.id, "/999999/history"), headers=admin)
    assert r.status_code == 404, r.text


def test_no_module_outside_records_writes_the_records_table():
    """Read the source: SQL or ORM writes to `records` appear only in the records writer."""
    patterns = [
        re.compile(r"\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+records\b"),  # SQL, spelt in capitals
        re.compile(r"\b(insert|update|delete)\(\s*Record\s*\)"),
        re.compile(r"\bRecord\(\s*\n?\s*(workspace_id|entity_id|key_norm)="),
    ]
    allowed = {BACKEND / "records" / "writer.py", BACKEND / "records" / "upsert.py"}
    offenders = []
    for path in BACKEND.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for p in patterns:
            for m in p.finditer(text):
                if path not in allowed:
                    offenders.append(f"{path.relative_to(BACKEND)}: {m.group(0)!r}")
    assert offenders == []
    # The reader finds what it looks for.
    assert patterns[0].search((BACKEND / "records" / "upsert.py").read_text())
