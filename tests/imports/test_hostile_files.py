"""Hostile files and names through the public API, end to end: a clear error, nothing else harmed."""

import json
import re
from pathlib import Path

from tests.imports.conftest import (
    Live,
    check_invariants,
    commit,
    map_as_suggested,
    record_count,
    send_file,
    stage,
    upload,
)
from tests.imports.readers.test_sheet_reader import handmade_xlsx, zip_bomb


async def _put(live: Live, path: Path) -> tuple[int, dict]:
    r = await send_file(live, path)
    return r.status_code, r.json()


def _stored_files(live: Live) -> list[str]:
    uploads = live.settings.data_dir / "uploads"
    return sorted(p.name for p in uploads.iterdir()) if uploads.exists() else []


async def test_xlsx_zip_bomb_and_a_workbook_past_the_memory_cap_are_refused(catalog, tmp_path):
    live = catalog
    bomb = zip_bomb(tmp_path / "bomb.xlsx")
    status, body = await _put(live, bomb)
    assert status == 422, body
    assert body["error"] == "zip_bomb"
    assert "300 MiB" in body["detail"]

    # Within every ZIP limit, but the reader would copy a 10 MiB string into 120 cells: its child
    # process hits the memory cap and dies; this process answers the next request.
    cells = "".join(f'<c r="{c}{r}" t="s"><v>0</v></c>' for r in range(1, 31) for c in "ABCD")
    heavy = handmade_xlsx(tmp_path / "heavy.xlsx", f'<row r="1">{cells}</row>', shared=["x" * (10 << 20)])
    status, body = await _put(live, heavy)
    assert status == 422, body
    assert body["error"] == "file_too_complex"
    assert "GiB" in body["detail"] or "MiB" in body["detail"]
    assert _stored_files(live) == []  # neither file is kept

    ok = tmp_path / "ok.csv"
    ok.write_text("sku,name\nZ-1,Fine\n", encoding="utf-8")
    imp = await stage(live, (await map_as_suggested(live, await upload(live, ok)))["id"])
    done = await commit(live, imp["id"])
    assert done["counts"]["created"] == 1
    await check_invariants(live, done, 1)


async def test_bad_ndjson_lines_are_reported_and_the_others_staged(catalog, tmp_path):
    live = catalog
    lines = [
        {"sku": "J-1", "name": "One"},
        '{"sku": "J-2", "name": ' + "[" * 10_000 + "]" * 10_000 + "}",
        '{"sku": "J-3", "name": "Three", "stock": ' + "9" * 5000 + "}",
        '{"sku": "J-4", "name": NaN}',
        '{"sku": "J-5", "name": "Five"',
        {"sku": "J-6", "name": "Six", "stock": 2**70},
        {"sku": "J-7", "name": "Seven"},
    ]
    path = tmp_path / "items.ndjson"
    path.write_text(
        "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n", encoding="utf-8"
    )
    imp = await upload(live, path)
    assert imp["format"] == "ndjson"
    imp = await stage(live, (await map_as_suggested(live, imp))["id"])
    assert imp["status"] == "staged", imp
    c = imp["counts"]
    assert (c["rows"], c["rejected"], c["valid"], c["invalid"]) == (7, 4, 2, 1), c

    r = await live.client.get(
        live.url(f"/imports/{imp['id']}/rows"), params={"status": "problems"}, headers=live.editor
    )
    problems = {x["row"]: x for x in r.json()["items"]}
    assert set(problems) == {2, 3, 4, 5, 6}
    assert problems[2]["errors"]["_row"][0] == "too_deep"
    assert all(problems[n]["errors"]["_row"][0] == "invalid_json" for n in (3, 4, 5)), problems
    assert "NaN" in problems[4]["errors"]["_row"][1]
    assert "line" in problems[5]["errors"]["_row"][1] or "column" in problems[5]["errors"]["_row"][1]
    # 2**70 is no integer a stock can hold: a cell error on that row, not a crash.
    assert problems[6]["status"] == "invalid"
    assert "stock" in problems[6]["errors"]

    done = await commit(live, imp["id"])
    assert done["status"] == "completed_with_errors"
    assert done["counts"]["created"] == 2
    await check_invariants(live, done, 7)
    assert await record_count(live) == 2


async def test_bad_json_documents_name_the_record_or_the_line(catalog, tmp_path):
    live = catalog
    deep = "[" * 10_000 + "]" * 10_000
    path = tmp_path / "items.json"
    path.write_text(
        f'{{"items": [{{"sku": "K-1", "name": "One"}}, {deep}, {{"sku": "K-3", "name": "Three"}}]}}',
        encoding="utf-8",
    )
    imp = await upload(live, path)
    assert imp["profile"]["records_path"] == "items"
    imp = await stage(live, (await map_as_suggested(live, imp))["id"])
    c = imp["counts"]
    assert (c["rows"], c["rejected"], c["valid"]) == (3, 1, 2), c
    r = await live.client.get(
        live.url(f"/imports/{imp['id']}/rows"), params={"status": "rejected"}, headers=live.editor
    )
    [bad] = r.json()["items"]
    assert (bad["row"], bad["errors"]["_row"][0]) == (2, "too_deep")
    done = await commit(live, imp["id"])
    assert done["counts"]["created"] == 2
    await check_invariants(live, done, 3)

    # A document that cannot be parsed at all, or holds NaN or a number too long to convert: the
    # upload says where, and nothing is kept.
    for name, content, where in (
        ("nan.json", '[{"sku": "N-1", "name": NaN}]', "line 1"),
        ("long.json", '[{"sku": "N-1"},\n {"sku": ' + "9" * 5000 + "}]", "line 2"),
        ("cut.json", '[{"sku": "N-1", "name": "x"}, {"sku": "N-2", "na', ""),
    ):
        f = tmp_path / name
        f.write_text(content, encoding="utf-8")
        status, body = await _put(live, f)
        if status == 200:  # a cut-off document stages the whole records and says where it broke
            assert any("Only the records before it" in w for w in body["profile"]["warnings"]), body
            got = await stage(live, (await map_as_suggested(live, body))["id"])
            assert got["status"] == "staged", got
            assert (got["counts"]["valid"], got["counts"]["rejected"]) == (1, 1), got
            r = await live.client.get(
                live.url(f"/imports/{got['id']}/rows"), params={"status": "rejected"}, headers=live.editor
            )
            [broken] = r.json()["items"]
            assert broken["row"] == 2
            assert broken["errors"]["_row"][0] == "invalid_json", broken
            assert "cut short" in json.dumps(broken), broken
            done = await commit(live, got["id"])
            assert done["counts"]["created"] == 1, done
        else:
            assert status == 422, body
            assert body["error"] in ("invalid_json", "number_too_long"), body
            assert where in body["detail"], body
    assert all(re.fullmatch(r"[0-9a-f]{32}", n) for n in _stored_files(live))


async def test_hostile_file_names_are_cleaned_and_files_stored_under_an_id(catalog, tmp_path):
    live = catalog
    data = b"sku,name\nH-1,Named\n"
    cases = {
        "../x.csv": "x.csv",
        "..\\..\\windows\\evil.csv": "evil.csv",
        "CON": "_CON",
        "nul.csv": "_nul.csv",
        "a\x00b\x1f\x7fc:d.csv": "abc_d.csv",
        "invoice\u202ecsv.exe": "invoicecsv.exe",
        "/etc/passwd": "passwd",
        "x" * 996 + ".csv": "x" * 247 + ".csv",
    }
    for given, shown in cases.items():
        r = await live.client.post(
            live.url("/imports"), json={"entity": "products", "file_name": given}, headers=live.editor
        )
        assert r.status_code == 201, r.text
        assert r.json()["file_name"] == shown, given
        r = await live.client.put(
            live.url(f"/imports/{r.json()['id']}/file"),
            params={"file_name": given},
            content=data,
            headers={**live.editor, "Content-Type": "application/octet-stream"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["file_name"] == shown, given
        assert len(r.json()["file_name"]) <= 255
    stored = _stored_files(live)
    assert len(stored) == len(cases)
    assert all(re.fullmatch(r"[0-9a-f]{32}", n) for n in stored), stored
    # Nothing landed beside the uploads, whatever the names said.
    assert sorted(p.name for p in live.settings.data_dir.iterdir()) == ["uploads"]
    assert not (tmp_path.parent / "x.csv").exists()


async def test_a_refused_re_upload_leaves_the_session_and_its_file_as_they_were(catalog, tmp_path):
    live = catalog
    good = tmp_path / "good.csv"
    good.write_text("sku,name\nR-1,Kept\nR-2,Kept too\n", encoding="utf-8")
    imp = await map_as_suggested(live, await upload(live, good))
    before = (await live.client.get(live.url(f"/imports/{imp['id']}"), headers=live.editor)).json()
    assert before["status"] == "mapped"

    png = tmp_path / "photo.xlsx"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    for refused in (png, tmp_path / "empty.csv"):
        if refused.suffix == ".csv":
            refused.write_bytes(b"")
        r = await live.client.put(
            live.url(f"/imports/{imp['id']}/file"),
            content=refused.read_bytes(),
            params={"file_name": refused.name},
            headers={**live.editor, "Content-Type": "application/octet-stream"},
        )
        assert r.status_code == 422, r.text
        after = (await live.client.get(live.url(f"/imports/{imp['id']}"), headers=live.editor)).json()
        assert after == before
    # Read options the file cannot be read with are refused the same way.
    r = await live.client.put(
        live.url(f"/imports/{imp['id']}/options"),
        json={"records_path": "items", "header_row": 9},
        headers=live.editor,
    )
    assert r.status_code == 422, r.text
    assert (await live.client.get(live.url(f"/imports/{imp['id']}"), headers=live.editor)).json() == before

    assert len(_stored_files(live)) == 1
    staged = await stage(live, imp["id"])
    assert staged["status"] == "staged", staged
    done = await commit(live, imp["id"])
    assert done["counts"]["created"] == 2
    await check_invariants(live, done, 2)
