"""Callers that race or go stale: two tabs, edits during a commit, a burst of uploads, a refused row.

Real app, real database (SQLite, then PostgreSQL), jobs running in the app.
"""

import asyncio
import csv
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from loadbay.imports import upload as upload_mod
from loadbay.imports.models import FINISHED
from tests.fixtures.database import TestDatabase
from tests.helpers import apply_catalog, create_record
from tests.imports.conftest import (
    Live,
    check_invariants,
    commit,
    generate,
    map_as_suggested,
    open_live,
    record_count,
    stage,
    upload,
    wait_for,
)


@pytest.fixture
async def small_chunks(database: TestDatabase, engine: AsyncEngine, tmp_path: Path) -> AsyncIterator[Live]:
    """The catalogue, committed in chunks of about 40 rows."""
    settings = database.settings.model_copy(update={"data_dir": tmp_path, "import_chunk_rows": 40})
    async with open_live(settings, engine) as live:
        await apply_catalog(live.client, live.ws.id, live.admin)
        yield live


async def _staged(live: Live, path: Path) -> dict:
    imp = await stage(live, (await map_as_suggested(live, await upload(live, path)))["id"])
    assert imp["status"] == "staged", imp
    return imp


async def _ledger(live: Live, import_id: int) -> list[tuple[int, str, int]]:
    from sqlalchemy import text

    async with live.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT chunk_no, status, attempts FROM import_chunks WHERE session_id = :s ORDER BY 1"),
            {"s": import_id},
        )
        return [(int(n), str(s), int(a)) for n, s, a in rows]


async def test_the_same_commit_from_two_tabs_at_once_is_one_commit(small_chunks, tmp_path):
    live = small_chunks
    path = tmp_path / "p.csv"
    generate(path, 300, dup_rate=0, bad_rate=0)
    imp = await _staged(live, path)
    url = live.url(f"/imports/{imp['id']}/commit")
    tab = {**live.editor, "Idempotency-Key": "tabs-1"}

    both = await asyncio.gather(
        live.client.post(url, json={"on_existing": "overwrite"}, headers=tab),
        live.client.post(url, json={"on_existing": "overwrite"}, headers=tab),
    )
    assert [r.status_code for r in both] == [202, 202], [r.text for r in both]
    replayed = [r.headers.get("Idempotent-Replayed") == "true" for r in both]
    assert sorted(replayed) == [False, True]  # one started it, the other got its answer
    first = both[replayed.index(False)].json()
    replay = both[replayed.index(True)].json()
    assert (replay["id"], replay["commit_options"]) == (first["id"], first["commit_options"])

    # The same key with another body is refused; another key is a second commit, also refused.
    other = await live.client.post(url, json={"on_existing": "skip"}, headers=tab)
    assert other.status_code == 409
    assert other.json()["error"] == "idempotency_key_reused"
    fresh = await live.client.post(url, json={}, headers={**live.editor, "Idempotency-Key": "tabs-2"})
    assert fresh.status_code == 409
    assert fresh.json()["error"] == "wrong_status"

    done = await wait_for(live, imp["id"], set(FINISHED))
    assert done["status"] == "completed", done
    assert done["counts"]["created"] == 300
    await check_invariants(live, done, 300)
    assert await record_count(live) == 300
    ledger = await _ledger(live, imp["id"])
    assert len(ledger) > 1
    assert {(s, a) for _, s, a in ledger} == {("done", 1)}, ledger  # every chunk ran once
    again = await live.client.post(url, json={"on_existing": "overwrite"}, headers=tab)
    assert again.status_code == 202
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await _ledger(live, imp["id"]) == ledger


async def test_a_row_the_database_refuses_is_isolated_and_the_rest_commit(small_chunks, tmp_path):
    live = small_chunks
    r = await live.client.post(
        live.url("/entities/products/fields"),
        json={"key": "gtin", "label": "GTIN", "type": "string", "unique": True},
        headers=live.admin,
    )
    assert r.status_code == 201, r.text
    await create_record(
        live.client, live.ws.id, "products", live.admin, {"sku": "OLD-1", "name": "Old", "gtin": "G-TAKEN"}
    )
    path = tmp_path / "gtin.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["sku", "name", "gtin"])
        for i in range(1, 201):
            gtin = {57: "G-TAKEN", 125: "G-TWICE", 155: "G-TWICE"}.get(i, f"G-{i}")
            w.writerow([f"NEW-{i}", f"Product {i}", gtin])
    imp = await _staged(live, path)
    assert imp["counts"]["valid"] == 200

    done = await commit(live, imp["id"])
    assert done["status"] == "completed_with_errors", done
    c = done["counts"]
    # Row 58 (the file's line 58; the header is line 1) takes a GTIN an existing record has. Rows 126
    # and 156 share one and sit in the same chunk (rows 122-161), so the first in file order commits.
    # (Chunks commit in parallel: of two such rows in different chunks, the chunk that commits first
    # keeps its row.)
    assert (c["created"], c["failed"]) == (198, 2), c
    assert c["chunks_failed"] == 0
    await check_invariants(live, done, 200)
    assert await record_count(live) == 199

    r = await live.client.get(
        live.url(f"/imports/{imp['id']}/rows"), params={"status": "failed"}, headers=live.editor
    )
    failed = {x["row"]: x for x in r.json()["items"]}
    assert set(failed) == {58, 156}
    assert all("database" in x["errors"]["_row"] for x in failed.values()), failed
    assert all(
        "unique" in str(x["errors"]["_row"]).lower() or "gtin" in str(x["errors"]) for x in failed.values()
    )
    report = await live.client.get(live.url(f"/imports/{imp['id']}/report"), headers=live.editor)
    lines = list(csv.reader(report.text.splitlines()))
    assert [row[0] for row in lines[1:]] == ["58", "156"]
    r = await live.client.get(
        live.url("/entities/products/records"), params={"q": "new-125"}, headers=live.admin
    )
    assert [x["data"]["gtin"] for x in r.json()["items"]] == ["G-TWICE"]


async def test_edits_with_a_stale_version_or_during_a_commit_are_refused(small_chunks, tmp_path):
    live = small_chunks
    path = tmp_path / "p.csv"
    stats = generate(path, 200, dup_rate=0, bad_rate=0.02)
    imp = await _staged(live, path)
    rows_url = live.url(f"/imports/{imp['id']}/rows")
    got = await live.client.get(live.url(f"/imports/{imp['id']}"), headers=live.editor)
    version = got.headers["ETag"]

    # Two tabs read the same version; the first edit moves it on, the second tab is told.
    r = await live.client.patch(
        f"{rows_url}/2", json={"data": {"name": "First tab"}}, headers={**live.editor, "If-Match": version}
    )
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] != version
    r = await live.client.patch(
        f"{rows_url}/2", json={"data": {"name": "Second tab"}}, headers={**live.editor, "If-Match": version}
    )
    assert r.status_code == 412, r.text
    assert r.json()["error"] == "rows_changed"
    bulk = {"action": "set", "selection": {"rows": [3]}, "field": "name", "value": "Stale"}
    r = await live.client.post(f"{rows_url}/bulk", json=bulk, headers={**live.editor, "If-Match": version})
    assert r.status_code == 412
    r = await live.client.patch(
        f"{rows_url}/2", json={"data": {"name": "x"}}, headers={**live.editor, "If-Match": "soon"}
    )
    assert r.status_code == 422
    # Without If-Match, the last writer wins (the grid's inline edit).
    r = await live.client.get(rows_url, params={"limit": 1000}, headers=live.editor)
    before = {x["row"]: x for x in r.json()["items"]}
    assert before[2]["data"]["name"] == "First tab"

    r = await live.client.post(live.url(f"/imports/{imp['id']}/commit"), json={}, headers=live.editor)
    assert r.status_code == 202
    latest = (await live.client.get(live.url(f"/imports/{imp['id']}"), headers=live.editor)).headers["ETag"]
    for headers in (live.editor, {**live.editor, "If-Match": latest}):
        r = await live.client.patch(f"{rows_url}/2", json={"data": {"name": "Too late"}}, headers=headers)
        assert r.status_code == 409, r.text
        assert r.json()["error"] == "rows_locked"
        r = await live.client.post(f"{rows_url}/bulk", json={**bulk, "value": "Too late"}, headers=headers)
        assert r.status_code == 409
        r = await live.client.post(
            f"{rows_url}/bulk", json={"action": "discard", "selection": {}}, headers=headers
        )
        assert r.status_code == 409

    done = await wait_for(live, imp["id"], set(FINISHED))
    assert done["status"] == "completed_with_errors", done
    assert done["counts"]["created"] == stats["expected_products"]
    await check_invariants(live, done, stats["rows"])
    r = await live.client.get(rows_url, params={"limit": 1000}, headers=live.editor)
    assert {x["row"]: x for x in r.json()["items"]} == before  # the commit's input did not move
    sku = before[2]["data"]["sku"]
    r = await live.client.get(live.url("/entities/products/records"), params={"q": sku}, headers=live.admin)
    assert [x["data"]["name"] for x in r.json()["items"]] == ["First tab"]


async def test_a_burst_of_uploads_is_told_to_come_back_later(catalog, tmp_path):
    live = catalog
    ids = []
    for _ in range(upload_mod.UPLOADS_AT_ONCE + 2):
        r = await live.client.post(live.url("/imports"), json={"entity": "products"}, headers=live.editor)
        ids.append(r.json()["id"])
    release = asyncio.Event()
    arrived = asyncio.Semaphore(0)

    async def slow_body():
        yield b"sku,name\n"
        arrived.release()
        await release.wait()
        yield b"B-1,Slow\n"

    async def send(import_id: int, body) -> object:
        return await live.client.put(
            live.url(f"/imports/{import_id}/file"),
            content=body,
            headers={**live.editor, "Content-Type": "application/octet-stream"},
        )

    held = [asyncio.create_task(send(i, slow_body())) for i in ids[: upload_mod.UPLOADS_AT_ONCE]]
    try:
        for _ in held:
            await arrived.acquire()  # every slot is streaming now
        r = await send(ids[-2], b"sku,name\nB-2,Fast\n")
        assert r.status_code == 429, r.text
        assert r.json()["error"] == "too_many_uploads"
        assert int(r.headers["Retry-After"]) > 0
        # Another workspace is not held up by this one.
        from loadbay.db import make_sessionmaker, session_scope
        from tests.conftest import bearer
        from tests.fixtures.factories import make_workspace

        async with session_scope(make_sessionmaker(live.engine)) as s:
            other = await make_workspace(s, "Elsewhere")
        r = await live.client.post(f"/api/v1/workspaces/{other.id}/imports", json={}, headers=bearer(other))
        r = await live.client.put(
            f"/api/v1/workspaces/{other.id}/imports/{r.json()['id']}/file",
            content=b"a,b\n1,2\n",
            headers=bearer(other),
        )
        assert r.status_code == 200, r.text
    finally:
        release.set()
        results = await asyncio.gather(*held)
    assert [r.status_code for r in results] == [200] * len(held)  # type: ignore[attr-defined]
    # Once they have arrived, the refused file goes through.
    r = await send(ids[-2], b"sku,name\nB-2,Fast\n")
    assert r.status_code == 200, r.text
    uploads = live.settings.data_dir / "uploads"
    assert not [p.name for p in uploads.iterdir() if p.name.startswith("receiving-")]


async def test_a_replayed_commit_gets_the_first_answer_every_time(small_chunks, tmp_path):
    live = small_chunks
    path = tmp_path / "p.csv"
    generate(path, 150, dup_rate=0, bad_rate=0)
    imp = await _staged(live, path)
    url = live.url(f"/imports/{imp['id']}/commit")
    key = {**live.editor, "Idempotency-Key": "first-answer"}
    first = await live.client.post(url, json={"on_existing": "merge"}, headers=key)
    assert first.status_code == 202, first.text
    assert "Idempotent-Replayed" not in first.headers
    assert first.json()["status"] == "committing"

    during = await live.client.post(url, json={"on_existing": "merge"}, headers=key)
    done = await wait_for(live, imp["id"], set(FINISHED))
    assert done["status"] == "completed", done
    ledger = await _ledger(live, imp["id"])
    # After the end as during the commit: the first answer, not the import as it is now.
    replays = [during]
    for _ in range(2):
        replays.append(await live.client.post(url, json={"on_existing": "merge"}, headers=key))
    for replay in replays:
        assert replay.status_code == 202, replay.text
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert replay.json() == first.json()
    other = await live.client.post(url, json={"on_existing": "skip"}, headers=key)
    assert other.status_code == 409
    assert other.json()["error"] == "idempotency_key_reused"
    assert await _ledger(live, imp["id"]) == ledger
    assert await record_count(live) == 150
    await check_invariants(live, done, 150)
