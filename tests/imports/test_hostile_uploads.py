"""Files shaped to be expensive, against a real `loadbay serve`: each is refused (or read) at once,
and the event loop never waits on it, so `/health` answers quickly throughout."""

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.database import empty_database
from tests.fixtures.server import LiveServer, live_server
from tests.imports.readers.test_sheet_reader import handmade_xlsx, zip_bomb

OCTETS = {"Content-Type": "application/octet-stream"}
# The bound the event loop is held to, on top of the slowest answer /health gave in the second
# before the upload. On an idle machine /health answers in a few milliseconds and stays under
# 100 ms while these files are refused; the bound leaves headroom for a machine busy with other
# work (the probes then wait for a CPU, not for the loop). A file that holds the loop makes it
# wait for seconds or minutes (a 100 KB file nested 20,000 deep used to take 12 s).
HEALTH_BOUND = 0.25


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    info = {"LOADBAY_LOG_LEVEL": "INFO", "LOADBAY_LOG_FORMAT": "json"}
    with (
        empty_database() as db_url,
        live_server(tmp_path_factory.mktemp("hostile"), db_url, extra_env=info) as srv,
    ):
        yield srv


def _new_import(c: httpx.Client, srv: LiveServer, **body: Any) -> str:
    r = c.post(f"/api/v1/workspaces/{srv.workspace_id}/imports", json={"entity": "products", **body})
    assert r.status_code == 201, r.text
    return f"/api/v1/workspaces/{srv.workspace_id}/imports/{r.json()['id']}"


def _slowest_probe(probe: httpx.Client, seconds: float) -> tuple[float, int]:
    slowest, probes = 0.0, 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        started = time.monotonic()
        assert probe.get("/api/v1/health").status_code == 200
        slowest = max(slowest, time.monotonic() - started)
        probes += 1
        time.sleep(0.005)
    return slowest, probes


def _upload_while_probing(
    srv: LiveServer, name: str, body: bytes
) -> tuple[httpx.Response, float, float, int]:
    """Upload `body` in a thread while /health is probed.

    Returns the upload's answer, the slowest probe with no upload (for a baseline), the slowest
    probe during the upload, and how many probes were made during it."""
    auth = {"Authorization": f"Bearer {srv.api_key}"}
    with httpx.Client(base_url=srv.url, headers=auth, timeout=120) as c:
        imp = _new_import(c, srv, file_name=name)
        got: list[httpx.Response] = []
        params = {"file_name": name}
        sender = threading.Thread(
            target=lambda: got.append(c.put(f"{imp}/file", content=body, headers=OCTETS, params=params))
        )
        slowest, probes = 0.0, 0
        with httpx.Client(base_url=srv.url, timeout=30) as probe:
            idle, _ = _slowest_probe(probe, 1.0)
            sender.start()
            done_at: float | None = None
            while done_at is None or time.monotonic() < done_at + 0.3:
                started = time.monotonic()
                assert probe.get("/api/v1/health").status_code == 200
                slowest = max(slowest, time.monotonic() - started)
                probes += 1
                if done_at is None and not sender.is_alive():
                    done_at = time.monotonic()
                time.sleep(0.005)
        sender.join()
    return got[0], idle, slowest, probes


HOSTILE = {
    # 2.4 MB: an object in an object … 400,000 deep (the cost of finding the records array in it
    # used to grow with the square of the depth: minutes of a blocked server).
    "deep-objects.json": b'{"a":' * 400_000 + b"1" + b"}" * 400_000,
    "deep-arrays.json": b"[" * 1_000_000 + b"]" * 1_000_000,
    "deep-records.json": b'{"records": [{"x": ' + b"[" * 500_000 + b"]" * 500_000 + b"}]}",
    "deep-line.ndjson": b'{"a": 1}\n{"b": ' + b"[" * 500_000 + b"]" * 500_000 + b"}\n",
    "huge-token.json": b'[{"a": "' + b"x" * (30 << 20) + b'"}]',
    "one-long-line.csv": b"sku,name\n" + b"a" * (30 << 20),
    "unclosed-quote.csv": b'sku,name\nA-1,"' + b"x\n" * (10 << 20),
}


def _workbook(name: str, tmp: Path) -> bytes:
    if name == "bomb.xlsx":
        return zip_bomb(tmp / name).read_bytes()
    # Within the ZIP limits, but reading it copies a 10 MiB string into 120 cells.
    cells = "".join(f'<c r="{c}{r}" t="s"><v>0</v></c>' for r in range(1, 31) for c in "ABCD")
    return handmade_xlsx(tmp / name, f'<row r="1">{cells}</row>', shared=["x" * (10 << 20)]).read_bytes()


@pytest.mark.slow
@pytest.mark.parametrize("name", [*sorted(HOSTILE), "bomb.xlsx", "heavy.xlsx"])
def test_a_hostile_file_never_holds_up_the_server(server: LiveServer, name: str, tmp_path: Path) -> None:
    body = HOSTILE[name] if name in HOSTILE else _workbook(name, tmp_path)
    r, idle, slowest, probes = _upload_while_probing(server, name, body)
    assert r.status_code in (200, 422), r.text
    if r.status_code == 422:
        body = r.json()
        assert set(body) == {"error", "detail", "fields"}
        assert body["detail"]
    assert probes >= 3
    assert slowest < HEALTH_BOUND + idle, (
        f"/health took {slowest * 1000:.0f} ms while {name} was read ({idle * 1000:.0f} ms before)"
    )


@pytest.mark.slow
def test_a_client_that_goes_away_mid_upload_is_an_info_line_not_an_error(server: LiveServer) -> None:
    auth = {"Authorization": f"Bearer {server.api_key}"}
    with httpx.Client(base_url=server.url, headers=auth, timeout=30) as c:
        imp = _new_import(c, server, file_name="cut.csv")
        before = server.log_path.read_text()
        host, port = server.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as s:
            s.sendall(
                f"PUT {imp}/file HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {server.api_key}\r\n"
                "Content-Type: application/octet-stream\r\nContent-Length: 10000000\r\n\r\n".encode()
                + b"sku,name\n"
                + b"C-1,Cut\n" * 50_000
            )
            time.sleep(0.5)  # the server is reading the body when the socket closes
        deadline = time.monotonic() + 30
        while "upload_disconnected" not in server.log_path.read_text()[len(before) :]:
            assert time.monotonic() < deadline, server.log_path.read_text()[len(before) :]
            time.sleep(0.1)
        got = c.get(imp).json()
        assert (got["status"], got["file_size"]) == ("created", None)
    logged = server.log_path.read_text()[len(before) :].splitlines()
    [line] = [json.loads(x) for x in logged if "upload_disconnected" in x]
    assert line["level"] == "info"
    assert server.unhandled_errors() == []
    assert not [x for x in logged if '"level": "error"' in x or '"level": "warning"' in x], logged
