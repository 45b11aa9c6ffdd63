"""End-to-end import of a generated product catalogue, through the public API.

    uv run python bench/import_products.py --rows 1000000 [--db postgres|sqlite] [--reimport] [--bulk]
        [--json]

What it does:

1. creates its own database (``loadbay_bench_<hex>`` on PostgreSQL, a file on SQLite) and data
   directory, generates ``--rows`` products with ``bench/gen_products.py`` (2% duplicates, 0.1% bad
   rows; not timed);
2. starts ``loadbay serve`` on a free loopback port (on PostgreSQL with Redis and one
   ``loadbay worker``; on SQLite with in-process jobs), applies ``examples/catalog.yaml`` and makes
   an admin API key with the CLI;
3. times each stage through the API: upload (the file streamed to the server, hashed, stored and
   profiled), profile (the file read again with the detected options), stage (parse, map, check
   every row, bulk-load the staged rows), commit (chunks upserted into records) and the error report
   (CSV); with ``--reimport``, the same file again, end to end; with ``--bulk``, the file staged once
   more, then one field set on every staged row and every row discarded (each one request, timed);
4. on PostgreSQL, measures a raw ``COPY`` of the same rows (the committed records' columns) into a
   fresh table with the same indexes, and prints ``commit_vs_copy`` = commit / that COPY; and the
   event rows the imports wrote (``events``: count, payload bytes, the table's bytes).

The last line on stdout is one JSON object: seconds per stage, rows/s, final counts, peak memory
(VmHWM) of the server and of the worker, and ``commit_vs_copy``.
"""

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = Path(os.environ.get("LOADBAY_BENCH_GENERATOR", Path(__file__).with_name("gen_products.py")))
PG_URL = os.environ.get("LOADBAY_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("LOADBAY_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
FINISHED = {"completed", "completed_with_errors", "failed", "cancelled"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def pg_database(keep: bool = False) -> Iterator[tuple[str, str]]:
    name = f"loadbay_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    plain = f"{PG_URL.rsplit('/', 1)[0]}/{name}"
    try:
        yield plain.replace("postgresql://", "postgresql+psycopg://", 1), plain
    finally:
        if keep:
            print(f"kept database {name}", file=sys.stderr)
        else:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "loadbay.cli", *args], env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def cli(env: dict[str, str], *args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "loadbay.cli", *args], env=env, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"loadbay {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout


def wait(client: httpx.Client, path: str, statuses: set[str]) -> dict[str, Any]:
    while True:
        body = client.get(path).json()
        if body["status"] in statuses:
            return dict(body)
        time.sleep(0.05)


def import_once(client: httpx.Client, ws: int, path: Path) -> tuple[dict[str, float], dict[str, Any]]:
    t: dict[str, float] = {}
    imp = client.post(f"/workspaces/{ws}/imports", json={"entity": "products", "file_name": path.name}).json()
    base = f"/workspaces/{ws}/imports/{imp['id']}"
    t0 = time.perf_counter()
    with path.open("rb") as f:
        r = client.put(f"{base}/file", content=f, headers={"Content-Type": "application/octet-stream"})
    t["upload"] = time.perf_counter() - t0
    if r.status_code != 200:
        raise SystemExit(f"upload: {r.status_code} {r.text[:500]}")
    imp = r.json()
    t0 = time.perf_counter()
    r = client.put(f"{base}/options", json={})
    t["profile"] = time.perf_counter() - t0
    imp = r.json()
    columns = {
        s["column"]: s["field"] if s["bucket"] in ("mapped", "suggested") else None
        for s in imp["suggestions"]
    }
    r = client.put(f"{base}/mapping", json={"columns": columns})
    if r.status_code != 200:
        raise SystemExit(f"mapping: {r.status_code} {r.text[:500]}")
    t0 = time.perf_counter()
    client.post(f"{base}/stage")
    imp = wait(client, base, {"staged", "failed"})
    t["stage"] = time.perf_counter() - t0
    if imp["status"] != "staged":
        raise SystemExit(f"staging failed: {imp['error']}")
    t0 = time.perf_counter()
    r = client.post(f"{base}/commit", json={}, headers={"Idempotency-Key": uuid.uuid4().hex})
    if r.status_code != 202:
        raise SystemExit(f"commit: {r.status_code} {r.text[:500]}")
    imp = wait(client, base, FINISHED)
    t["commit"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    with client.stream("GET", f"{base}/report") as rep:
        report_bytes = sum(len(b) for b in rep.iter_bytes())
    t["report"] = time.perf_counter() - t0
    t["total"] = sum(t.values())
    return {k: round(v, 2) for k, v in t.items()}, {
        **imp["counts"],
        "report_bytes": report_bytes,
        "status": imp["status"],
    }


def bulk_override(client: httpx.Client, ws: int, path: Path) -> dict[str, Any]:
    """Stage the file again, then set one field on every staged row and discard them all; time each."""
    imp = client.post(f"/workspaces/{ws}/imports", json={"entity": "products", "file_name": path.name}).json()
    base = f"/workspaces/{ws}/imports/{imp['id']}"
    with path.open("rb") as f:
        client.put(f"{base}/file", content=f, headers={"Content-Type": "application/octet-stream"})
    imp = client.put(f"{base}/options", json={}).json()
    columns = {
        s["column"]: s["field"] if s["bucket"] in ("mapped", "suggested") else None
        for s in imp["suggestions"]
    }
    client.put(f"{base}/mapping", json={"columns": columns})
    client.post(f"{base}/stage")
    wait(client, base, {"staged", "failed"})
    out: dict[str, Any] = {}
    for name, body in (
        ("set_all_rows", {"action": "set", "selection": {}, "field": "description", "value": "Set in bulk"}),
        ("discard_all_rows", {"action": "discard", "selection": {}}),
    ):
        t0 = time.perf_counter()
        r = client.post(f"{base}/rows/bulk", json=body)
        out[name] = round(time.perf_counter() - t0, 2)
        if r.status_code != 200:
            raise SystemExit(f"bulk {name}: {r.status_code} {r.text[:500]}")
        out[f"{name}_changed"] = r.json()["changed"]
    client.delete(base)
    return out


def event_log_size(plain_url: str) -> dict[str, int]:
    """The event rows the imports wrote: how many, and their bytes (payload as stored, and the table)."""
    with psycopg.connect(plain_url, autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('events')").fetchone() == (None,):
            return {}
        n, payload = conn.execute(
            "SELECT count(*), coalesce(sum(pg_column_size(payload)), 0) FROM events "
            "WHERE action = 'import.committed'"
        ).fetchone() or (0, 0)
        (table,) = conn.execute("SELECT pg_total_relation_size('events')").fetchone() or (0,)
    return {"import_events": int(n), "payload_bytes": int(payload), "table_bytes": int(table)}


def raw_copy_seconds(plain_url: str) -> float:
    """COPY the committed records' rows into a fresh table with the same columns and indexes."""
    with psycopg.connect(plain_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE bench_copy (LIKE records INCLUDING DEFAULTS INCLUDING INDEXES)")
        cols = "workspace_id, entity_id, key_norm, data, version, created_at, updated_at, import_id"
        buf = bytearray()
        with conn.cursor().copy(f"COPY (SELECT {cols} FROM records) TO STDOUT") as copy:
            for block in copy:
                buf += block
        t0 = time.perf_counter()
        with conn.cursor().copy(f"COPY bench_copy ({cols}) FROM STDIN") as copy:
            view = memoryview(buf)
            for i in range(0, len(view), 1 << 20):
                copy.write(view[i : i + (1 << 20)])
        elapsed = time.perf_counter() - t0
        conn.execute("DROP TABLE bench_copy")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    ap.add_argument("--reimport", action="store_true", help="import the same file a second time")
    ap.add_argument("--json", action="store_true", help="print only the JSON line")
    ap.add_argument(
        "--bulk",
        action="store_true",
        help="stage the file once more and time a bulk override of every staged row",
    )
    ap.add_argument("--keep", action="store_true", help="keep the data directory and database")
    ap.add_argument(
        "--log-level",
        default="WARNING",
        help="log level of the server and worker (their logs are in the data directory)",
    )
    a = ap.parse_args()
    if not GENERATOR.is_file():
        raise SystemExit(f"{GENERATOR} not found (set LOADBAY_BENCH_GENERATOR)")
    say = (lambda *x: None) if a.json else (lambda *x: print(*x, file=sys.stderr, flush=True))
    with ExitStack() as stack:
        data_dir = Path(tempfile.mkdtemp(prefix="loadbay-bench-"))
        if not a.keep:
            stack.callback(shutil.rmtree, data_dir, True)
        file = data_dir / "products.csv"
        say(f"generating {a.rows:,} rows …")
        subprocess.run(
            [
                sys.executable,
                str(GENERATOR),
                "--rows",
                str(a.rows),
                "--out",
                str(file),
                "--dup-rate",
                "0.02",
                "--bad-rate",
                "0.001",
                "--stats",
                str(data_dir / "stats.json"),
            ],
            check=True,
            capture_output=True,
        )
        stats = json.loads((data_dir / "stats.json").read_text())
        env = {
            **os.environ,
            "LOADBAY_DATA_DIR": str(data_dir / "data"),
            "LOADBAY_LOG_LEVEL": a.log_level,
            "LOADBAY_ADMIN_PASSWORD": "bench-password-1",
        }
        env.pop("LOADBAY_REDIS_URL", None)
        env.pop("LOADBAY_DATABASE_URL", None)
        plain = None
        if a.db == "postgres":
            sa_url, plain = stack.enter_context(pg_database(a.keep))
            env.update(
                LOADBAY_DATABASE_URL=sa_url,
                LOADBAY_REDIS_URL=REDIS_URL,
                LOADBAY_QUEUE_NAME=f"loadbay:bench:{uuid.uuid4().hex[:8]}",
            )
        port = free_port()
        server = stack.enter_context(process(["serve", "--port", str(port)], env, data_dir / "server.log"))
        worker = None
        if a.db == "postgres":
            worker = stack.enter_context(process(["worker"], env, data_dir / "worker.log"))
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("loadbay serve did not start:\n" + (data_dir / "server.log").read_text())
            time.sleep(0.2)
        cli(env, "schema", "apply", str(ROOT / "examples" / "catalog.yaml"), "--workspace", "1")
        key = (
            cli(env, "api-keys", "create", "--name", "bench", "--workspace", "1", "--role", "admin")
            .strip()
            .split()[-1]
        )
        client = stack.enter_context(
            httpx.Client(base_url=f"{base}/api/v1", headers={"Authorization": f"Bearer {key}"}, timeout=600)
        )
        say(f"importing {file.stat().st_size / 1e6:.0f} MB into {a.db} …")
        times, counts = import_once(client, 1, file)
        say(f"first import: {times}")
        result: dict[str, Any] = {
            "rows": a.rows,
            "db": a.db,
            "file_mb": round(file.stat().st_size / 1e6, 1),
            "seconds": times,
            "rows_per_second": round(a.rows / times["total"]),
            "counts": counts,
            "expected_products": stats["expected_products"],
        }
        if a.reimport:
            times2, counts2 = import_once(client, 1, file)
            say(f"re-import: {times2}")
            result["reimport"] = {"seconds": times2, "counts": counts2}
        if a.bulk:
            result["bulk"] = bulk_override(client, 1, file)
            say(f"bulk override: {result['bulk']}")
        result["peak_memory_mb"] = {
            "server": peak_rss_mb(server.pid),
            "worker": peak_rss_mb(worker.pid) if worker else None,
        }
        if plain is not None:
            result["events"] = event_log_size(plain)
            copy_s = raw_copy_seconds(plain)
            result["raw_copy_seconds"] = round(copy_s, 2)
            result["commit_vs_copy"] = round(times["commit"] / copy_s, 2)
        result["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version()}
        print(json.dumps(result))


if __name__ == "__main__":
    main()
