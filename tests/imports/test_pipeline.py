"""The whole import flow through the public API, on SQLite and PostgreSQL."""

import csv
import io

import pytest

from loadbay.db import make_sessionmaker, session_scope
from tests.conftest import bearer
from tests.fixtures.factories import make_workspace
from tests.imports.conftest import (
    check_invariants,
    commit,
    generate,
    map_as_suggested,
    record_count,
    stage,
    upload,
    wait_for,
)


async def test_product_catalogue_imports_then_reimports_unchanged(catalog, tmp_path):
    live = catalog
    path = tmp_path / "products.csv"
    stats = generate(path, 3000, dup_rate=0.02, bad_rate=0.01)

    imp = await upload(live, path)
    assert imp["status"] == "uploaded"
    assert imp["format"] == "csv"
    assert [c["name"] for c in imp["profile"]["columns"]] == ["name", "sku", "description"]
    buckets = {s["column"]: (s["bucket"], s["field"]) for s in imp["suggestions"]}
    assert buckets == {
        "name": ("mapped", "name"),
        "sku": ("mapped", "sku"),
        "description": ("mapped", "description"),
    }

    imp = await map_as_suggested(live, imp)
    assert imp["status"] == "mapped"
    imp = await stage(live, imp["id"])
    assert imp["status"] == "staged", imp
    c = imp["counts"]
    assert c["rows"] == stats["rows"]
    assert c["duplicates"] == stats["dup_rows"]
    assert c["invalid"] == stats["bad_rows"]
    assert c["valid"] == stats["expected_products"]

    r = await live.client.post(live.url(f"/imports/{imp['id']}/dry-run"), json={}, headers=live.editor)
    assert r.status_code == 200, r.text
    assert r.json()["created"] == stats["expected_products"]
    assert r.json()["updated"] == 0

    done = await commit(live, imp["id"])
    assert done["status"] == "completed_with_errors", done
    assert done["counts"]["created"] == stats["expected_products"]
    await check_invariants(live, done, stats["rows"])
    assert await record_count(live) == stats["expected_products"]

    # `active` defaults to true on created records; later rows win for a key seen twice.
    r = await live.client.get(live.url("/entities/products/records"), params={"limit": 5}, headers=live.admin)
    assert all(rec["data"]["active"] is True for rec in r.json()["items"])
    last_by_sku: dict[str, dict[str, str]] = {}
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["sku"].strip() and len(row["name"]) <= 255:
                last_by_sku[row["sku"].strip().lower()] = row
    sku, row = next((k, v) for k, v in last_by_sku.items() if k != v["sku"])  # a duplicate in other case
    r = await live.client.get(live.url("/entities/products/records"), params={"q": sku}, headers=live.admin)
    [rec] = r.json()["items"]
    assert rec["data"]["description"] == row["description"]

    # The same file again: nothing changes, and the import says so.
    again = await upload(live, path)
    assert {s["bucket"] for s in again["suggestions"]} == {"mapped"}
    again = await map_as_suggested(live, again)
    again = await stage(live, again["id"])
    r = await live.client.post(live.url(f"/imports/{again['id']}/dry-run"), json={}, headers=live.editor)
    assert (r.json()["created"], r.json()["updated"]) == (0, 0)
    assert r.json()["unchanged"] == stats["expected_products"]
    done = await commit(live, again["id"])
    assert (done["counts"]["created"], done["counts"]["updated"]) == (0, 0)
    assert done["counts"]["unchanged"] == stats["expected_products"]
    await check_invariants(live, done, stats["rows"])
    assert await record_count(live) == stats["expected_products"]


async def test_review_fix_and_report(catalog, tmp_path):
    live = catalog
    path = tmp_path / "few.csv"
    path.write_text(
        "sku,name,price,stock,active\n"
        "A-1,Alpha,1.50,3,yes\n"
        "A-2,,2.00,1,no\n"  # name missing
        "A-3,Gamma,abc,2,\n"  # price not a number
        "A-4,Delta,4,-1,true\n"  # stock below 0
        'A-5,=HYPERLINK("x"),5,5,true\n',
        encoding="utf-8",
    )
    imp = await upload(live, path)
    imp = await map_as_suggested(live, imp)
    imp = await stage(live, imp["id"])
    assert imp["counts"]["invalid"] == 3, imp["counts"]

    r = await live.client.get(live.url(f"/imports/{imp['id']}/errors"), headers=live.editor)
    summary = {(e["field"], e["code"]): e["count"] for e in r.json()["by_field"]}
    assert summary == {("name", "required"): 1, ("price", "type"): 1, ("stock", "min"): 1}

    r = await live.client.get(
        live.url(f"/imports/{imp['id']}/rows"), params={"status": "invalid"}, headers=live.editor
    )
    rows = {x["row"]: x for x in r.json()["items"]}
    assert set(rows) == {3, 4, 5}
    assert rows[4]["data"]["price"] == "abc"  # the text as read, to fix
    assert rows[4]["errors"]["price"][0] == "type"

    r = await live.client.get(
        live.url(f"/imports/{imp['id']}/rows"), params={"field": "stock", "code": "min"}, headers=live.editor
    )
    assert [x["row"] for x in r.json()["items"]] == [5]

    # Fix one cell inline, the rest in bulk, discard nothing.
    r = await live.client.patch(
        live.url(f"/imports/{imp['id']}/rows/4"), json={"data": {"price": "3.25"}}, headers=live.editor
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "valid"
    assert r.json()["data"]["price"] == "3.25"
    r = await live.client.post(
        live.url(f"/imports/{imp['id']}/rows/bulk"),
        json={"action": "set", "selection": {"field": "stock"}, "field": "stock", "value": 0},
        headers=live.editor,
    )
    assert r.json() == {"matched": 1, "changed": 1, "now_valid": 1, "now_invalid": 0}

    report = await live.client.get(live.url(f"/imports/{imp['id']}/report"), headers=live.editor)
    assert report.status_code == 200
    lines = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert lines[0] == ["row", "sku", "name", "price", "stock", "active", "error"]
    assert lines[1][:3] == ["3", "A-2", ""]
    assert "required" in lines[1][-1] or "Name is required" in lines[1][-1]
    assert len(lines) == 2

    done = await commit(live, imp["id"])
    assert done["counts"]["created"] == 4
    assert done["counts"]["skipped"] == 1
    await check_invariants(live, done, 5)
    r = await live.client.get(live.url("/entities/products/records"), params={"q": "a-5"}, headers=live.admin)
    assert r.json()["items"][0]["data"]["name"] == '=HYPERLINK("x")'  # imported verbatim


async def test_commit_replay_with_the_same_key_is_one_commit(catalog, tmp_path):
    live = catalog
    path = tmp_path / "p.csv"
    generate(path, 200, dup_rate=0, bad_rate=0)
    imp = await stage(live, (await map_as_suggested(live, await upload(live, path)))["id"])
    url = live.url(f"/imports/{imp['id']}/commit")
    headers = {**live.editor, "Idempotency-Key": "k-1"}
    first = await live.client.post(url, json={"on_existing": "overwrite"}, headers=headers)
    second = await live.client.post(url, json={"on_existing": "overwrite"}, headers=headers)
    assert first.status_code == second.status_code == 202
    assert second.headers.get("Idempotent-Replayed") == "true"
    other = await live.client.post(url, json={"on_existing": "skip"}, headers=headers)
    assert other.status_code == 409
    assert other.json()["error"] == "idempotency_key_reused"
    done = await wait_for(live, imp["id"], {"completed"})
    assert done["counts"]["created"] == 200
    await check_invariants(live, done, 200)


async def test_header_only_file_stages_nothing_and_refuses_commit(catalog, tmp_path):
    live = catalog
    path = tmp_path / "empty.csv"
    path.write_text("sku,name\n", encoding="utf-8")
    imp = await stage(live, (await map_as_suggested(live, await upload(live, path)))["id"])
    assert imp["counts"]["rows"] == 0
    r = await live.client.post(live.url(f"/imports/{imp['id']}/commit"), json={}, headers=live.editor)
    assert r.status_code == 422
    assert r.json()["error"] == "nothing_to_import"


async def test_empty_file_is_refused(catalog, tmp_path):
    live = catalog
    r = await live.client.post(live.url("/imports"), json={"entity": "products"}, headers=live.editor)
    imp = r.json()
    r = await live.client.put(live.url(f"/imports/{imp['id']}/file"), content=b"", headers=live.editor)
    assert r.status_code == 422
    assert r.json()["error"] == "file_empty"


async def test_upload_over_the_limit_is_413_and_leaves_no_file(catalog, tmp_path):
    live = catalog
    live.app.state.settings = live.settings.model_copy(update={"max_upload_bytes": 1000})
    r = await live.client.post(live.url("/imports"), json={"entity": "products"}, headers=live.editor)
    imp = r.json()

    async def body():
        for _ in range(10):
            yield b"x" * 500

    # Without Content-Length (chunked), and with one that is too large.
    r = await live.client.put(live.url(f"/imports/{imp['id']}/file"), content=body(), headers=live.editor)
    assert r.status_code == 413, r.text
    r = await live.client.put(
        live.url(f"/imports/{imp['id']}/file"), content=b"y" * 5000, headers=live.editor
    )
    assert r.status_code == 413
    uploads = live.settings.data_dir / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())


async def test_cancel_before_commit_and_other_workspaces_see_nothing(catalog, tmp_path):
    live = catalog
    path = tmp_path / "p.csv"
    generate(path, 50, dup_rate=0, bad_rate=0)
    imp = await stage(live, (await map_as_suggested(live, await upload(live, path)))["id"])
    async with session_scope(make_sessionmaker(live.engine)) as s:
        other_ws = await make_workspace(s, "Other")
    other = bearer(other_ws)
    r = await live.client.get(f"/api/v1/workspaces/{other_ws.id}/imports/{imp['id']}", headers=other)
    assert r.status_code == 404
    r = await live.client.get(live.url(f"/imports/{imp['id']}"), headers=other)
    assert r.status_code == 404
    r = await live.client.post(live.url(f"/imports/{imp['id']}/cancel"), headers=live.editor)
    assert r.json()["status"] == "cancelled"
    r = await live.client.post(live.url(f"/imports/{imp['id']}/commit"), json={}, headers=live.editor)
    assert r.status_code == 409


async def test_progress_events_and_the_xlsx_report(catalog, tmp_path):
    import json as jsonlib

    from python_calamine import CalamineWorkbook

    live = catalog
    path = tmp_path / "p.csv"
    stats = generate(path, 400, dup_rate=0, bad_rate=0.02)
    imp = await stage(live, (await map_as_suggested(live, await upload(live, path)))["id"])
    r = await live.client.post(live.url(f"/imports/{imp['id']}/commit"), json={}, headers=live.editor)
    assert r.status_code == 202
    events = []
    async with live.client.stream("GET", live.url(f"/imports/{imp['id']}/events"), headers=live.editor) as s:
        assert s.headers["content-type"].startswith("text/event-stream")
        async for line in s.aiter_lines():
            if line.startswith("data: "):
                events.append(jsonlib.loads(line[6:]))
    assert events, "no progress event"
    assert events[-1]["status"] == "completed_with_errors"
    assert events[-1]["rows_done"] == events[-1]["rows_total"] == stats["expected_products"]

    report = await live.client.get(
        live.url(f"/imports/{imp['id']}/report"), params={"format": "xlsx"}, headers=live.editor
    )
    assert report.status_code == 200
    out = tmp_path / "report.xlsx"
    out.write_bytes(report.content)
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("errors").to_python()
    assert rows[0] == ["row", "name", "sku", "description", "error"]
    assert len(rows) - 1 == stats["bad_rows"]
    assert all(r[-1] for r in rows[1:])


async def test_find_replace_discard_and_restore(catalog, tmp_path):
    live = catalog
    path = tmp_path / "few.csv"
    path.write_text(
        "sku,name,price\nB-1,Lamp,1,50\nB-2,Desk,2\nB-3,Chair,x\nB-4,Lamp,y\n".replace("1,50", "1.50"),
        encoding="utf-8",
    )
    imp = await stage(live, (await map_as_suggested(live, await upload(live, path)))["id"])
    assert imp["counts"]["invalid"] == 2
    bulk = live.url(f"/imports/{imp['id']}/rows/bulk")
    r = await live.client.post(
        bulk,
        json={"action": "replace", "selection": {}, "field": "name", "find": "Lamp", "replace": "Light"},
        headers=live.editor,
    )
    assert r.json()["changed"] == 2
    r = await live.client.post(
        bulk, json={"action": "discard", "selection": {"status": "invalid"}}, headers=live.editor
    )
    assert r.json() == {"matched": 2, "changed": 2, "now_valid": 0, "now_invalid": 0}
    got = (await live.client.get(live.url(f"/imports/{imp['id']}"), headers=live.editor)).json()
    assert (got["counts"]["discarded"], got["counts"]["invalid"]) == (2, 0)
    r = await live.client.post(
        bulk, json={"action": "restore", "selection": {"rows": [4]}}, headers=live.editor
    )
    assert r.json()["changed"] == 1
    r = await live.client.get(
        live.url(f"/imports/{imp['id']}/rows"), params={"status": "valid"}, headers=live.editor
    )
    assert {x["data"]["name"] for x in r.json()["items"]} == {"Light", "Desk"}
    done = await commit(live, imp["id"])
    assert (done["counts"]["created"], done["counts"]["skipped"]) == (2, 2)
    await check_invariants(live, done, 4)


async def test_backslashes_tabs_and_newlines_survive_the_bulk_load(catalog, tmp_path):
    live = catalog
    names = ["back\\slash", "tab\there", "line\nbreak", "\\N", "cr\rhere"]
    path = tmp_path / "odd.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["sku", "name"])
        for i, n in enumerate(names):
            w.writerow([f"K\\{i}\t", n])
    imp = await stage(live, (await map_as_suggested(live, await upload(live, path)))["id"])
    assert imp["counts"]["valid"] == len(names), imp["counts"]
    done = await commit(live, imp["id"])
    assert done["counts"]["created"] == len(names)
    r = await live.client.get(
        live.url("/entities/products/records"), params={"limit": 10}, headers=live.admin
    )
    got = {x["data"]["sku"]: x["data"]["name"] for x in r.json()["items"]}
    assert got == {f"K\\{i}\t": n for i, n in enumerate(names)}


async def test_bulk_set_checks_the_value_once_and_keeps_each_rows_other_problems(catalog, tmp_path):
    live = catalog
    path = tmp_path / "set.csv"
    path.write_text(
        "sku,name,price,stock\n"
        "C-1,Cup,1,1\n"
        "C-2,Pot,x,2\n"  # price wrong
        "C-3,,3,-4\n"  # name missing, stock below 0
        "c-1,Cup again,4,4\n"  # same key as row 2: the later row wins
        "C-5,Pan,5,5\n",
        encoding="utf-8",
    )
    imp = await stage(live, (await map_as_suggested(live, await upload(live, path)))["id"])
    assert (imp["counts"]["valid"], imp["counts"]["invalid"], imp["counts"]["duplicates"]) == (2, 2, 1)
    bulk = live.url(f"/imports/{imp['id']}/rows/bulk")
    r = await live.client.post(
        bulk, json={"action": "discard", "selection": {"rows": [6]}}, headers=live.editor
    )
    assert r.json()["changed"] == 1

    # A value the field refuses: every selected row keeps it as text, with the rule it breaks.
    r = await live.client.post(
        bulk, json={"action": "set", "selection": {}, "field": "price", "value": "-2"}, headers=live.editor
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"matched": 5, "changed": 5, "now_valid": 0, "now_invalid": 3}
    rows = {
        x["row"]: x
        for x in (await live.client.get(live.url(f"/imports/{imp['id']}/rows"), headers=live.editor)).json()[
            "items"
        ]
    }
    assert {n: rows[n]["status"] for n in rows} == {
        2: "duplicate",
        3: "invalid",
        4: "invalid",
        5: "invalid",
        6: "discarded",
    }
    assert rows[3]["errors"]["price"][0] == "min"
    assert rows[3]["data"]["price"] == "-2"
    assert rows[2]["errors"]["_row"][0] == "duplicate_key"
    assert rows[4]["errors"]["name"][0] == "required"
    assert rows[4]["errors"]["stock"][0] == "min"

    # A good value: each row is left with its own problems only; the same value again changes nothing.
    body = {"action": "set", "selection": {"field": "price"}, "field": "price", "value": " 7.5 "}
    r = await live.client.post(bulk, json=body, headers=live.editor)
    assert r.json() == {"matched": 5, "changed": 5, "now_valid": 2, "now_invalid": 1}
    r = await live.client.post(bulk, json={**body, "selection": {}}, headers=live.editor)
    assert r.json() == {"matched": 5, "changed": 0, "now_valid": 0, "now_invalid": 0}
    rows = {
        x["row"]: x
        for x in (await live.client.get(live.url(f"/imports/{imp['id']}/rows"), headers=live.editor)).json()[
            "items"
        ]
    }
    assert {n: rows[n]["data"]["price"] for n in rows} == dict.fromkeys(rows, "7.5")
    assert rows[4]["status"] == "invalid"
    assert set(rows[4]["errors"]) == {"name", "stock"}
    assert rows[6]["status"] == "discarded"

    # Clearing a required field makes every selected row say so.
    r = await live.client.post(
        bulk,
        json={"action": "set", "selection": {"rows": [3, 5]}, "field": "name", "value": ""},
        headers=live.editor,
    )
    assert r.json() == {"matched": 2, "changed": 2, "now_valid": 0, "now_invalid": 2}
    r = await live.client.post(
        bulk,
        json={"action": "set", "selection": {"rows": [3, 5]}, "field": "name", "value": "Named"},
        headers=live.editor,
    )
    assert r.json() == {"matched": 2, "changed": 2, "now_valid": 2, "now_invalid": 0}

    done = await commit(live, imp["id"])
    assert (done["counts"]["created"], done["counts"]["invalid"]) == (2, 1)
    await check_invariants(live, done, 5)


async def test_error_report_uses_the_cells_kept_at_staging(catalog, tmp_path):
    live = catalog
    path = tmp_path / "kept.csv"
    path.write_bytes(
        b"sku,name,price,note\r\n"
        b"K-1,Kettle,1,fine\r\n"
        b'K-2,"Two\r\nlines",x,"a\x00b"\r\n'  # a NUL byte: the row is refused as read
        b'K-3,"Toaster\r\nover two lines",-1,=cmd\r\n'  # price below 0
        b"K-4,Only\r\n"  # too few fields: rejected
    )
    imp = await upload(live, path)
    imp = await map_as_suggested(live, imp)
    imp = await stage(live, imp["id"])
    assert (imp["counts"]["invalid"], imp["counts"]["rejected"]) == (1, 2), imp["counts"]
    # The stored file is gone: the report still has every problem row, from the cells kept at staging.
    uploads = live.settings.data_dir / "uploads"
    for stored in uploads.iterdir():
        stored.unlink()
    report = await live.client.get(live.url(f"/imports/{imp['id']}/report"), headers=live.editor)
    assert report.status_code == 200, report.text
    lines = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"), newline="")))
    assert lines[0] == ["row", "sku", "name", "price", "note", "error"]
    assert [line[:5] for line in lines[1:]] == [
        ["3", "K-2", "Two\r\nlines", "x", "a\\x00b"],  # the NUL shown, not stored
        ["5", "K-3", "Toaster\r\nover two lines", "-1", "'=cmd"],
        ["7", "K-4", "Only", "", ""],
    ]
    assert "at least 0" in lines[2][5]


@pytest.mark.parametrize("budget", [1_000_000, 3])
async def test_repeated_keys_are_found_in_memory_or_by_the_database(catalog, tmp_path, monkeypatch, budget):
    """Past the budget of keys kept in memory, the database finds the repeated ones: the same outcome."""
    from loadbay.imports import stage as stage_mod

    monkeypatch.setattr(stage_mod, "KEY_BUDGET", budget)
    live = catalog
    path = tmp_path / "dups.csv"
    path.write_text(
        "sku,name\nD-1,One\nD-2,Two\nd-1,One again\nD-3,Three\nD-4,Four\nD-5,Five\n"
        " D-1 ,One more\nD-5,Five again\n",
        encoding="utf-8",
    )
    imp = await stage(live, (await map_as_suggested(live, await upload(live, path)))["id"])
    assert (imp["counts"]["valid"], imp["counts"]["duplicates"]) == (5, 3)
    r = await live.client.get(
        live.url(f"/imports/{imp['id']}/rows"), params={"status": "duplicate"}, headers=live.editor
    )
    notes = {x["row"]: x["errors"]["_row"][1] for x in r.json()["items"]}
    assert notes == {
        2: "row 8 has the same key and the last row wins",
        4: "row 8 has the same key and the last row wins",
        7: "row 9 has the same key and the last row wins",
    }


async def test_a_field_no_column_fills_cannot_be_edited(catalog, tmp_path):
    live = catalog
    path = tmp_path / "few.csv"
    path.write_text("sku,name\nU-1,Umbrella\n", encoding="utf-8")
    imp = await stage(live, (await map_as_suggested(live, await upload(live, path)))["id"])
    r = await live.client.post(
        live.url(f"/imports/{imp['id']}/rows/bulk"),
        json={"action": "set", "selection": {}, "field": "stock", "value": 3},
        headers=live.editor,
    )
    assert r.status_code == 422
    assert r.json()["error"] == "field_not_mapped"
    r = await live.client.patch(
        live.url(f"/imports/{imp['id']}/rows/2"), json={"data": {"stock": 3}}, headers=live.editor
    )
    assert r.status_code == 422
    assert r.json()["fields"][0]["field"] == "data.stock"


async def _import(live, tmp_path, name: str, text: str, **options):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    imp = await stage(live, (await map_as_suggested(live, await upload(live, path)))["id"])
    return await commit(live, imp["id"], **options)


async def _records(live) -> dict[str, dict]:
    r = await live.client.get(
        live.url("/entities/products/records"), params={"limit": 100}, headers=live.admin
    )
    return {x["key"].lower(): x for x in r.json()["items"]}


async def test_overwrite_merge_and_defaults_on_existing_records(catalog, tmp_path):
    live = catalog
    done = await _import(live, tmp_path, "a.csv", "sku,name,stock,active\nX,Ex,5,no\nY,Why,6,\n")
    assert done["counts"]["created"] == 2
    # Overwrite; no column for `active` (a field with a default) nor `stock`: they keep their values.
    done = await _import(live, tmp_path, "b.csv", "sku,name,price\nx,Ex two,1.5\nY,Why,\nZ,Zed,2\n")
    assert (done["counts"]["created"], done["counts"]["updated"], done["counts"]["unchanged"]) == (1, 1, 1)
    recs = await _records(live)
    assert recs["x"]["data"] == {"sku": "x", "name": "Ex two", "price": "1.5", "stock": 5, "active": False}
    assert recs["x"]["version"] == 2
    assert recs["y"]["data"] == {"sku": "Y", "name": "Why", "stock": 6, "active": True}
    assert recs["y"]["version"] == 1
    assert recs["z"]["data"] == {"sku": "Z", "name": "Zed", "price": "2", "active": True}
    # Merge: blank cells change nothing, the others replace.
    merge = "sku,name,stock,price\nX,Ex two,7,\nZ,Zed,,2\n"
    done = await _import(live, tmp_path, "c.csv", merge, on_existing="merge")
    assert (done["counts"]["updated"], done["counts"]["unchanged"]) == (1, 1)
    recs = await _records(live)
    assert recs["x"]["data"]["price"] == "1.5"
    assert recs["x"]["data"]["stock"] == 7
    # A column for the field with a default: overwrite sets what the file says.
    done = await _import(live, tmp_path, "d.csv", "sku,name,active\nY,Why,no\nZ,Zed,yes\n")
    assert (done["counts"]["updated"], done["counts"]["unchanged"]) == (1, 1)
    recs = await _records(live)
    assert recs["y"]["data"]["active"] is False
    assert recs["z"]["version"] == 1
