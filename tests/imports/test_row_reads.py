"""Reads of staged rows carry the rows' version (ETag) that an edit sends back as If-Match; the report
comes in the media type its format names, or as plain bytes when asked.

Real app, real database (SQLite, then PostgreSQL), jobs running in the app.
"""

from pathlib import Path

from loadbay.imports.answers import XLSX
from tests.imports.conftest import Live, generate, map_as_suggested, stage, upload


async def _staged(live: Live, tmp_path: Path) -> int:
    path = tmp_path / "p.csv"
    generate(path, 30, dup_rate=0, bad_rate=0.2)
    imp = await stage(live, (await map_as_suggested(live, await upload(live, path)))["id"])
    assert imp["status"] == "staged", imp
    return int(imp["id"])


async def test_reads_of_staged_rows_carry_the_rows_version(catalog: Live, tmp_path: Path):
    live = catalog
    # Import sessions are their creator's (and the admins'): the editor who uploaded reads them.
    reader = live.editor
    import_id = await _staged(live, tmp_path)
    rows_url = live.url(f"/imports/{import_id}/rows")
    session = await live.client.get(live.url(f"/imports/{import_id}"), headers=reader)
    version = session.headers["ETag"]

    listed = await live.client.get(rows_url, params={"status": "invalid"}, headers=reader)
    assert listed.status_code == 200, listed.text
    assert listed.headers["ETag"] == version
    row = listed.json()["items"][0]
    one = await live.client.get(f"{rows_url}/{row['row']}", headers=reader)
    assert one.status_code == 200, one.text
    assert one.headers["ETag"] == version
    assert one.json() == row

    # The version read with the rows is the one an edit is checked against.
    fix = {"data": {"name": "Fixed"}}
    r = await live.client.patch(
        f"{rows_url}/{row['row']}", json=fix, headers={**live.editor, "If-Match": version}
    )
    assert r.status_code == 200, r.text
    moved = r.headers["ETag"]
    assert moved != version
    for read in (
        await live.client.get(rows_url, headers=reader),
        await live.client.get(f"{rows_url}/{row['row']}", headers=reader),
    ):
        assert read.headers["ETag"] == moved
    r = await live.client.patch(
        f"{rows_url}/{row['row']}", json=fix, headers={**live.editor, "If-Match": version}
    )
    assert r.status_code == 412
    assert r.json()["error"] == "rows_changed"

    missing = await live.client.get(f"{rows_url}/99999", headers=reader)
    assert missing.status_code == 404
    assert missing.json()["error"] == "row_not_found"
    other = await live.client.get(live.url(f"/imports/{import_id + 1000}/rows/2"), headers=reader)
    assert other.status_code == 404
    assert other.json()["error"] == "import_not_found"


async def test_the_report_is_its_format_or_plain_bytes_when_asked(catalog: Live, tmp_path: Path):
    live = catalog
    reader = live.admin
    import_id = await _staged(live, tmp_path)
    report_url = live.url(f"/imports/{import_id}/report")

    as_csv = await live.client.get(report_url, headers=reader)
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    as_xlsx = await live.client.get(report_url, params={"format": "xlsx"}, headers=reader)
    assert as_xlsx.headers["content-type"] == XLSX
    assert as_xlsx.content.startswith(b"PK")
    for fmt, own in (("csv", as_csv), ("xlsx", as_xlsx)):
        octets = await live.client.get(
            report_url, params={"format": fmt}, headers={**reader, "Accept": "application/octet-stream"}
        )
        assert octets.headers["content-type"] == "application/octet-stream"
        if fmt == "csv":
            assert octets.content == own.content
        for accept in ("*/*", f"application/octet-stream, {own.headers['content-type'].split(';')[0]}"):
            r = await live.client.get(
                report_url, params={"format": fmt}, headers={**reader, "Accept": accept}
            )
            assert r.headers["content-type"] == own.headers["content-type"], accept


async def test_pages_of_rows_and_of_imports_follow_their_next_cursor(catalog: Live, tmp_path: Path):
    live = catalog
    import_id = await _staged(live, tmp_path)
    await _staged(live, tmp_path)
    rows_url = live.url(f"/imports/{import_id}/rows")
    seen: list[int] = []
    cursor: int | None = None
    while True:
        params = {"limit": 7, **({"cursor": cursor} if cursor is not None else {})}
        page = (await live.client.get(rows_url, params=params, headers=live.editor)).json()
        seen += [r["row"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        # The cursor is the last row number of the page, the same type the query takes.
        assert cursor == page["items"][-1]["row"]
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen)) == 30

    listed = (await live.client.get(live.url("/imports"), params={"limit": 1}, headers=live.editor)).json()
    assert isinstance(listed["next_cursor"], int)
    rest = await live.client.get(
        live.url("/imports"), params={"limit": 1, "cursor": listed["next_cursor"]}, headers=live.editor
    )
    assert rest.status_code == 200
    assert [i["id"] for i in rest.json()["items"]] != [i["id"] for i in listed["items"]]
