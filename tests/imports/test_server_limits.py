"""A real `loadbay serve` process at its limits: a full disk, a cut-off upload, a 1 GB file."""

import csv
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures import database as test_database
from tests.fixtures.database import empty_database
from tests.fixtures.server import LiveServer, live_server
from tests.imports.conftest import generate

# Runs the server in a mount namespace of its own, with a small tmpfs over its uploads directory:
# a disk that really fills up, for this process alone, without privileges on the machine.
MOUNT_SMALL_DISK = 'mkdir -p "$1" && mount -t tmpfs -o size=2m loadbay-test "$1" && shift && exec "$@"'
OCTETS = {"Content-Type": "application/octet-stream"}


def _can_mount(tmp: Path) -> bool:
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", MOUNT_SMALL_DISK, "sh", str(tmp / "probe"), "true"],
        capture_output=True,
    )
    return probe.returncode == 0


def _until(what: str, check: Callable[[], Any], limit: float = 60) -> Any:
    end = time.monotonic() + limit
    while not (got := check()):
        assert time.monotonic() < end, f"gave up waiting for {what}"
        time.sleep(0.05)
    return got


def _new_import(c: httpx.Client, srv: LiveServer, **body: Any) -> str:
    r = c.post(f"/api/v1/workspaces/{srv.workspace_id}/imports", json={"entity": "products", **body})
    assert r.status_code == 201, r.text
    return f"/api/v1/workspaces/{srv.workspace_id}/imports/{r.json()['id']}"


@pytest.mark.slow
@pytest.mark.skipif(
    test_database.test_db_kind() == "postgres", reason="the disk does not depend on the database: SQLite pass"
)
def test_full_disk_is_507_and_cut_off_uploads_leave_nothing(tmp_path: Path) -> None:
    if not _can_mount(tmp_path):
        pytest.skip("needs a mount namespace (unshare -rm) for a small disk of its own")
    data = tmp_path / "data"
    uploads = data / "uploads"
    wrap = ["unshare", "-rm", "sh", "-c", MOUNT_SMALL_DISK, "sh", str(uploads)]
    with live_server(data, wrap=wrap) as srv:
        # What the server sees in its uploads directory (its own mount, not the one here).
        inside = Path(f"/proc/{srv.pid}/root") / uploads.relative_to("/")
        with httpx.Client(
            base_url=srv.url, headers={"Authorization": f"Bearer {srv.api_key}"}, timeout=60
        ) as c:
            # An upload cut off mid-way: the part received is removed, the session still has no file.
            imp = _new_import(c, srv)
            port = int(srv.url.rsplit(":", 1)[1])
            with socket.create_connection(("127.0.0.1", port)) as s:
                s.sendall(
                    f"PUT {imp}/file HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {srv.api_key}\r\n"
                    "Content-Type: application/octet-stream\r\nContent-Length: 1000000\r\n\r\n".encode()
                    + b"sku,name\n"
                    + b"C-1,Cut\n" * 40_000
                )
                _until("the partial upload on disk", lambda: any(inside.iterdir()))
            _until("the partial upload removed", lambda: not any(inside.iterdir()))
            got = c.get(imp).json()
            assert (got["status"], got["file_size"]) == ("created", None)

            # More than the disk holds: 507, and the part written is removed.
            imp = _new_import(c, srv)
            big = b"sku,name\n" + b"".join(b"F-%07d,Full disk test\n" % i for i in range(200_000))
            assert len(big) > 4 << 20
            r = c.put(f"{imp}/file", content=big, headers=OCTETS)
            assert r.status_code == 507, r.text
            assert r.json()["error"] == "storage_full"
            assert list(inside.iterdir()) == []
            assert c.get(imp).json()["status"] == "created"

            # The space is free again: a file of half the disk fits, in the same session.
            small = b"sku,name\n" + b"".join(b"S-%07d,Fits\n" % i for i in range(80_000))
            assert len(small) > 1 << 20
            r = c.put(f"{imp}/file", content=small, headers=OCTETS)
            assert r.status_code == 200, r.text
            assert (r.json()["status"], r.json()["file_size"]) == ("uploaded", len(small))
            assert len(list(inside.iterdir())) == 1


def _peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def one_gigabyte_csv(path: Path) -> dict[str, int]:
    """A 1 GB products CSV: the generator's file, its SKUs made distinct in each of 20 copies.

    Writing 5M rows with the generator alone takes minutes; copying takes seconds, and the counts
    to expect are the generator's, times the copies.
    """
    part = path.with_name("part.csv")
    stats = generate(part, 250_000, dup_rate=0.01, bad_rate=0.001)
    with part.open(newline="", encoding="utf-8") as f:
        header, *rows = list(csv.reader(f))
    part.unlink()
    sku = header.index("sku")
    with path.open("w", newline="", encoding="utf-8") as out:
        w = csv.writer(out, lineterminator="\n")
        w.writerow(header)
        for copy in range(COPIES):
            for row in rows:
                if row[sku].strip():  # a blank SKU stays blank (an invalid row)
                    row = [*row[:sku], f"{row[sku]}-{copy}", *row[sku + 1 :]]
                w.writerow(row)
    return {k: stats[k] * COPIES for k in ("rows", "dup_rows", "bad_rows", "expected_products")}


COPIES = 20
MEMORY_BUDGET = 300 << 20


class OverMemoryBudget(AssertionError):
    pass


@pytest.mark.slow
@pytest.mark.skipif(test_database.test_db_kind() != "postgres", reason="runs once, in the PostgreSQL pass")
def test_a_1gb_csv_streams_in_bounded_memory_with_exact_counts(tmp_path: Path) -> None:
    path = tmp_path / "products-1gb.csv"
    stats = one_gigabyte_csv(path)
    size = path.stat().st_size
    try:
        assert size > 10**9
        with empty_database() as db_url, live_server(tmp_path / "data", database_url=db_url) as srv:
            headers = {"Authorization": f"Bearer {srv.api_key}"}
            with httpx.Client(base_url=srv.url, headers=headers, timeout=600) as c:
                imp = _new_import(c, srv, file_name=path.name)
                with path.open("rb") as f:
                    r = c.put(
                        f"{imp}/file",
                        content=iter(lambda: f.read(1 << 20), b""),
                        headers={**OCTETS, "Content-Length": str(size)},
                    )
                assert r.status_code == 200, r.text
                assert r.json()["file_size"] == size
                upload_peak = _peak_rss(srv.pid)
                assert upload_peak < MEMORY_BUDGET, f"the upload took the server to {upload_peak >> 20} MiB"
                suggestions = r.json()["suggestions"]
                columns = {s["column"]: s["field"] for s in suggestions if s["bucket"] == "mapped"}
                assert set(columns) == {"name", "sku", "description"}
                assert c.put(f"{imp}/mapping", json={"columns": columns}).status_code == 200
                assert c.post(f"{imp}/stage").status_code == 202

                def staged() -> dict[str, Any] | None:
                    # Stop as soon as the memory goes over: no need to stage the rest to know.
                    if (peak := _peak_rss(srv.pid)) >= MEMORY_BUDGET:
                        raise OverMemoryBudget(f"staging took the server to {peak >> 20} MiB")
                    body = c.get(imp).json()
                    return None if body["status"] == "staging" else dict(body)

                got = _until("staging to end", staged, limit=900)
                assert got["status"] == "staged", got
                counts = got["counts"]
                assert counts["rows"] == stats["rows"] == 5_000_000
                assert counts["rows"] == counts["staged"] + counts["rejected"]
                assert counts["duplicates"] == stats["dup_rows"]
                assert counts["invalid"] == stats["bad_rows"]
                assert counts["valid"] == stats["expected_products"]
                # Staging ran in this process too (no Redis: jobs run in the server).
                assert _peak_rss(srv.pid) < MEMORY_BUDGET
    finally:
        path.unlink(missing_ok=True)
