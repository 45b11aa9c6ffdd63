"""A Python client generated from the committed openapi.yaml drives a whole import, unchanged.

openapi-python-client writes the client into the test's directory (offline: the document is a local
file, and no formatter runs afterwards); the test imports it from there and talks to a live
`loadbay serve` only through the client's own functions.
"""

import csv
import importlib
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from openapi_python_client import generate
from openapi_python_client.config import Config, ConfigFile, MetaType
from python_calamine import CalamineWorkbook

from tests.fixtures.database import empty_database
from tests.fixtures.server import LiveServer, live_server

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "loadbay_generated_client"
CSV = (
    "sku,name,price,qty\nG-1,Anvil,12.50,3\nG-2,Bucket,not a price,4\nG-3,Crate,7.00,many\nG-4,Drum,3.10,1\n"
)


def generated_client(out: Path) -> ModuleType:
    config = Config.from_sources(
        ConfigFile(post_hooks=[], package_name_override=PACKAGE, project_name_override=PACKAGE),
        MetaType.NONE,
        ROOT / "openapi.yaml",
        "utf-8",
        overwrite=True,
        output_path=out / PACKAGE,
    )
    problems = generate(config=config)
    # Every warning the generator has is a part of the contract a client would miss.
    assert not problems, "\n".join(f"{p.header}: {p.detail}" for p in problems)
    sys.path.insert(0, str(out))
    return importlib.import_module(PACKAGE)


@pytest.fixture
def client_package(tmp_path: Path) -> Iterator[ModuleType]:
    try:
        yield generated_client(tmp_path / "client")
    finally:
        sys.path.remove(str(tmp_path / "client"))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    with empty_database() as db_url, live_server(tmp_path / "server", db_url, demo=False) as s:
        yield s


def api(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.api.{name}")


def events(stream: str) -> list[tuple[str, dict[str, Any]]]:
    """(event, data) of each event of a text/event-stream body, comments left out."""
    out = []
    for block in stream.replace("\r\n", "\n").split("\n\n"):
        fields: dict[str, list[str]] = {}
        for line in block.split("\n"):
            if line and not line.startswith(":"):
                name, _, value = line.partition(":")
                fields.setdefault(name, []).append(value.removeprefix(" "))
        if "data" in fields:
            out.append((fields.get("event", ["message"])[0], json.loads("\n".join(fields["data"]))))
    return out


def test_a_generated_python_client_drives_a_whole_import(client_package: ModuleType, server: LiveServer):
    m = importlib.import_module(f"{PACKAGE}.models")
    types = importlib.import_module(f"{PACKAGE}.types")
    ws = server.workspace_id
    client = client_package.AuthenticatedClient(
        base_url=server.url, token=server.api_key, raise_on_unexpected_status=True, timeout=httpx.Timeout(60)
    )
    ft = m.FieldType

    entity = api("schema.entities_create").sync(
        workspace_id=ws,
        client=client,
        body=m.EntityCreate(
            key="gadgets",
            key_fields=["sku"],
            fields=[
                m.FieldCreate(key="sku", type_=ft.STRING, required=True),
                m.FieldCreate(key="name", type_=ft.STRING),
                m.FieldCreate(key="price", type_=ft.DECIMAL),
                m.FieldCreate(key="qty", type_=ft.INTEGER),
            ],
        ),
    )
    assert isinstance(entity, m.EntityRead), entity

    imp = api("imports.imports_create").sync(
        workspace_id=ws, client=client, body=m.ImportCreate(entity="gadgets", file_name="gadgets.csv")
    )
    assert isinstance(imp, m.ImportRead), imp
    assert imp.status == m.ImportStatus.CREATED
    ids = {"workspace_id": ws, "import_id": imp.id, "client": client}

    imp = api("imports.imports_upload").sync(
        **ids, body=types.File(payload=io.BytesIO(CSV.encode())), file_name="gadgets.csv"
    )
    assert isinstance(imp, m.ImportRead), imp
    assert imp.status == m.ImportStatus.UPLOADED
    assert imp.format_ == m.FileFormat.CSV
    assert isinstance(imp.profile, m.FileProfile)
    assert [c.name for c in imp.profile.columns] == ["sku", "name", "price", "qty"]
    assert {c.name: c.inferred_type for c in imp.profile.columns}["price"] in set(ft)
    suggested = {s.column: (s.bucket, s.field) for s in imp.suggestions}
    assert suggested == {c: (m.MappingBucket.MAPPED, c) for c in ("sku", "name", "price", "qty")}

    columns = m.MappingSaveColumns.from_dict({c: f for c, (_, f) in suggested.items()})
    imp = api("imports.imports_save_mapping").sync(**ids, body=m.MappingSave(columns=columns))
    assert isinstance(imp, m.ImportRead), imp
    assert imp.status == m.ImportStatus.MAPPED

    imp = api("imports.imports_stage").sync(**ids)
    assert isinstance(imp, m.ImportRead), imp
    staging = events(api("imports.imports_events").sync(**ids))
    assert staging[-1][0] == "progress"
    assert m.Progress.from_dict(staging[-1][1]).status == m.ImportStatus.STAGED

    # Review (the header is line 1): the rows come with their version; an edit sent with it is taken once.
    listed = api("imports.imports_rows").sync_detailed(**ids, status=m.RowFilter.INVALID)
    assert isinstance(listed.parsed, m.StagedRowPage), listed.parsed
    assert [(r.row, r.status) for r in listed.parsed.items] == [
        (3, m.RowStatus.INVALID),
        (4, m.RowStatus.INVALID),
    ]
    version = listed.headers["ETag"]
    one = api("imports.imports_get_row").sync_detailed(**ids, row_no=3)
    assert isinstance(one.parsed, m.StagedRowRead), one.parsed
    assert one.headers["ETag"] == version
    assert "price" in one.parsed.errors.to_dict()

    fixed = api("imports.imports_edit_row").sync_detailed(
        **ids, row_no=3, body=m.RowEdit(data=m.RowEditData.from_dict({"price": "9.50"})), if_match=version
    )
    assert isinstance(fixed.parsed, m.StagedRowRead), fixed.parsed
    assert fixed.parsed.status == m.RowStatus.VALID
    assert fixed.headers["ETag"] != version
    stale = api("imports.imports_edit_row").sync(
        **ids, row_no=4, body=m.RowEdit(data=m.RowEditData.from_dict({"qty": "7"})), if_match=version
    )
    assert isinstance(stale, m.ErrorBody), stale
    assert stale.error == "rows_changed"

    options = m.CommitOptions(on_existing=m.OnExisting.OVERWRITE, on_invalid=m.OnInvalid.SKIP)
    dry = api("imports.imports_dry_run").sync(**ids, body=options)
    assert isinstance(dry, m.DryRun), dry
    assert (dry.created, dry.updated, dry.invalid) == (3, 0, 1)

    first = api("imports.imports_commit").sync_detailed(**ids, body=options, idempotency_key="gadgets-1")
    assert isinstance(first.parsed, m.ImportRead), first.parsed
    assert "Idempotent-Replayed" not in first.headers
    again = api("imports.imports_commit").sync_detailed(**ids, body=options, idempotency_key="gadgets-1")
    assert isinstance(again.parsed, m.ImportRead), again.parsed
    assert again.headers["Idempotent-Replayed"] == "true"

    committed = events(api("imports.imports_events").sync(**ids))
    assert {name for name, _ in committed} == {"progress"}
    last = m.Progress.from_dict(committed[-1][1])
    assert last.status == m.ImportStatus.COMPLETED_WITH_ERRORS
    assert (last.rows_done, last.rows_total, last.chunks_failed) == (3, 3, 0)

    xlsx = api("imports.imports_report").sync(**ids, format_=m.ReportFormat.XLSX)
    assert isinstance(xlsx, types.File), xlsx
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(xlsx.payload.read())).get_sheet_by_index(0).to_python()
    assert [str(c) for c in sheet[0]] == ["row", "sku", "name", "price", "qty", "error"]
    assert [str(c) for c in sheet[1][1:5]] == ["G-3", "Crate", "7.00", "many"]
    assert len(sheet) == 2

    text = api("imports.imports_report").sync(**ids, format_=m.ReportFormat.CSV)
    assert isinstance(text, types.File), text
    # The CSV starts with a BOM, for spreadsheets.
    report = list(csv.reader(io.StringIO(text.payload.read().decode("utf-8-sig"))))
    assert report[0] == ["row", "sku", "name", "price", "qty", "error"]
    assert report[1][:5] == ["4", "G-3", "Crate", "7.00", "many"]
    assert len(report) == 2

    page = api("records.records_list").sync(
        workspace_id=ws, entity_key="gadgets", client=client, filter_=["price:gt:5"], sort="key"
    )
    assert isinstance(page, m.RecordPage), page
    assert [(r.key, r.data.to_dict()["price"]) for r in page.items] == [("G-1", "12.50"), ("G-2", "9.50")]
