"""Seeds of real use: a workbook of CPUs and an ActivityStreams bookmarks export, end to end."""

import json

import xlsxwriter

from tests.helpers import ROOT, create_entity
from tests.imports.conftest import check_invariants, commit, map_as_suggested, record_count, stage, upload


async def test_cpu_workbook_with_two_sheets_and_a_header_on_row_3(live, tmp_path):
    import yaml

    doc = yaml.safe_load((ROOT / "examples" / "hardware.yaml").read_text())
    r = await live.client.post(live.url("/schema/apply"), json=doc, headers=live.admin)
    assert r.status_code == 200, r.text
    path = tmp_path / "cpus.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    notes = wb.add_worksheet("Notes")
    notes.write(0, 0, "Prices change weekly.")
    sheet = wb.add_worksheet("CPUs")
    sheet.write(0, 0, "CPU price list, November")
    header = ["Model", "Vendor", "Cores", "Threads", "Base clock", "TDP", "Released"]
    rows = [
        ["Ryzen 9 7950X", "AMD", 16, 32, 4.5, 170, "2022-09-27"],
        ["Core i9-13900K", "Intel", 24, 32, 3.0, 125, "2022-10-20"],
        ["M2 Max", "Apple", 12, 12, 3.5, 30, "2023-01-17"],
        ["6x86", "Cyrix", 1, 1, 0.15, 20, "1996-02-05"],  # vendor not in the list
    ]
    sheet.write_row(2, 0, header)
    for i, row in enumerate(rows, start=3):
        sheet.write_row(i, 0, row)
    wb.close()

    imp = await upload(live, path, entity="cpus", options={"sheet": "CPUs"})
    assert imp["format"] == "xlsx"
    assert imp["profile"]["sheets"] == ["Notes", "CPUs"]
    assert imp["profile"]["header_row"] == 3
    assert [c["name"] for c in imp["profile"]["columns"]] == header
    imp = await map_as_suggested(live, imp)
    assert imp["mapping"]["Model"] == "model"
    imp = await stage(live, imp["id"])
    assert imp["counts"]["valid"] == 3
    assert imp["counts"]["invalid"] == 1
    r = await live.client.get(
        live.url(f"/imports/{imp['id']}/rows"), params={"status": "invalid"}, headers=live.editor
    )
    [bad] = r.json()["items"]
    assert bad["row"] == 7  # the spreadsheet's own row number
    assert bad["errors"]["vendor"][0] == "enum"
    done = await commit(live, imp["id"])
    await check_invariants(live, done, 4)
    assert await record_count(live, "cpus") == 3
    r = await live.client.get(live.url("/entities/cpus/records"), params={"q": "ryzen"}, headers=live.admin)
    data = r.json()["items"][0]["data"]
    assert (data["cores"], data["base_clock_ghz"], data["released"]) == (16, "4.5", "2022-09-27")


def _bookmarks(items):
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "type": "OrderedCollection",
        "totalItems": len(items),
        "orderedItems": [
            {"type": "Bookmark", "url": url, "name": name, "published": "2024-05-01T10:00:00Z"}
            for url, name in items
        ],
    }


async def test_bookmarks_export_skips_then_overwrites_existing(live, tmp_path):
    await create_entity(
        live.client,
        live.ws.id,
        live.admin,
        {
            "key": "bookmarks",
            "key_fields": ["url"],
            "fields": [
                {"key": "url", "type": "url"},
                {"key": "name", "type": "string", "required": True},
                {"key": "published", "type": "datetime"},
            ],
        },
    )
    first = tmp_path / "first.json"
    first.write_text(json.dumps(_bookmarks([("https://a.example/1", "One"), ("https://a.example/2", "Two")])))
    imp = await stage(
        live, (await map_as_suggested(live, await upload(live, first, entity="bookmarks")))["id"]
    )
    assert imp["profile"]["records_path"] == "orderedItems"
    done = await commit(live, imp["id"])
    assert done["counts"]["created"] == 2

    second = tmp_path / "second.json"
    second.write_text(
        json.dumps(
            _bookmarks(
                [
                    ("https://a.example/1", "One, renamed"),
                    ("https://a.example/2", "Two"),
                    ("https://a.example/3", "3"),
                ]
            )
        )
    )
    imp = await stage(
        live, (await map_as_suggested(live, await upload(live, second, entity="bookmarks")))["id"]
    )
    done = await commit(live, imp["id"], on_existing="skip")
    assert (done["counts"]["created"], done["counts"]["skipped"], done["counts"]["updated"]) == (1, 2, 0)
    await check_invariants(live, done, 3)

    imp = await stage(
        live, (await map_as_suggested(live, await upload(live, second, entity="bookmarks")))["id"]
    )
    done = await commit(live, imp["id"], on_existing="overwrite")
    assert (done["counts"]["created"], done["counts"]["updated"], done["counts"]["unchanged"]) == (0, 1, 2)
    await check_invariants(live, done, 3)
    r = await live.client.get(
        live.url("/entities/bookmarks/records"), params={"q": "https://a.example/1"}, headers=live.admin
    )
    assert r.json()["items"][0]["data"]["name"] == "One, renamed"
