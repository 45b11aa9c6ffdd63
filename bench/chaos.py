"""Chaos: workers and the API killed (SIGKILL, SIGTERM) at random moments during commits.

    uv run python bench/chaos.py [--seed N] [--rounds N | --minutes M] [--db postgres|sqlite]
        [--rows-min N --rows-max N] [--chunk-rows N] [--lease S] [--json]

Each round imports a new generated products file (duplicates and bad rows included) and commits
it while a schedule drawn from the seed kills processes: on PostgreSQL two `loadbay worker`
processes and the API (`loadbay serve` with Redis), on SQLite the embedded server (jobs in-process).
Each kill lands when the commit has a drawn share of its chunks done (plus a drawn delay); the
process is started again after a drawn pause. The commit request itself is sent again, with its
Idempotency-Key, when the API dies under it. After each import, every invariant of RELIABILITY.md:

- rows in the file = staged rows + rows rejected while parsing;
- every staged row has one outcome, and the chunk ledger adds up to the committed rows;
- no two records share a natural key; the record count is what the model (the generator's
  expected distinct keys, summed over the rounds) predicts;
- replaying the commit (same key and body) answers the first answer again and changes nothing;
- importing the same file again changes nothing;
- no database connection is left `idle in transaction` (PostgreSQL).

The same seed draws the same moments (where a kill lands in the work still depends on the
machine's speed, and a kill whose moment comes after the commit's end is not sent and not
counted: `--min-kills N` adds rounds, up to `--max-rounds`, until N kills landed during commits).
The seed is printed first; the last line on stdout is a JSON summary. The exit code is 1 when an
invariant breaks, with the round, the seed and what broke.
"""

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from import_products import GENERATOR, ROOT, cli, free_port, pg_database

REDIS_URL = os.environ.get("LOADBAY_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
FINISHED = {"completed", "completed_with_errors", "failed", "cancelled"}


class Broken(Exception):
    """An invariant did not hold."""


@dataclass
class Proc:
    """A `loadbay` process that the chaos kills and starts again."""

    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "loadbay.cli", *self.args], env=self.env, stdout=out, stderr=out
            )

    def hit(self, sig: int) -> float:
        """Send the signal and wait for the end; the seconds a SIGTERM took to stop it."""
        assert self.proc is not None
        t0 = time.monotonic()
        self.proc.send_signal(sig)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise Broken(f"{self.name} did not stop within 60 s of {signal.Signals(sig).name}") from None
        # (A process still starting, before it handles signals, ends by the signal itself.)
        if sig == signal.SIGTERM and self.proc.returncode not in (0, -signal.SIGTERM):
            raise Broken(f"{self.name} exited {self.proc.returncode} on SIGTERM; see {self.log}")
        return time.monotonic() - t0

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclass
class Event:
    share: float  # of the chunks done when it lands
    delay: float
    target: str
    sig: int
    pause: float
    fired_at: float | None = None
    chunks_done: int | None = None
    stopped_in: float = 0.0
    back_in: float = 0.0

    def describe(self) -> str:
        where = (
            f"{self.chunks_done} chunks done; stopped in {self.stopped_in:.1f}s, back in {self.back_in:.1f}s"
            if self.fired_at is not None
            else "not reached"
        )
        return (
            f"{signal.Signals(self.sig).name} {self.target} at {self.share:.0%}+{self.delay:.2f}s ({where})"
        )


@dataclass
class Chaos:
    db: str
    data_dir: Path
    env: dict[str, str]
    plain_pg: str | None
    procs: dict[str, Proc] = field(default_factory=dict)
    base: str = ""
    key: str = ""
    findings: list[str] = field(default_factory=list)
    checks: set[str] = field(default_factory=set)

    # --- the service ---------------------------------------------------------------------------

    def wait_up(self) -> None:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{self.base}/api/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            api = self.procs["api"].proc
            if (api and api.poll() is not None) or time.monotonic() > deadline:
                raise SystemExit("loadbay serve did not start:\n" + self.procs["api"].log.read_text()[-3000:])
            time.sleep(0.1)

    def call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        """The API, through its restarts: a dropped connection or a server going down is tried again."""
        deadline = time.monotonic() + 180
        headers = {"Authorization": f"Bearer {self.key}", **kw.pop("headers", {})}
        while True:
            try:
                r = httpx.request(
                    method,
                    f"{self.base}/api/v1{path}",
                    headers=headers,
                    timeout=60,
                    **kw,
                )
                if r.status_code < 500:
                    return r
                self.findings.append(f"{method} {path} answered {r.status_code}: {r.text[:300]}")
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise Broken(f"{method} {path}: the API did not answer for 180 s")
            time.sleep(0.1)

    def sql(self, query: str, *args: Any) -> list[tuple[Any, ...]]:
        if self.plain_pg:
            with psycopg.connect(self.plain_pg, autocommit=True) as conn:
                return conn.execute(query.replace("?", "%s"), args).fetchall()
        with sqlite3.connect(self.data_dir / "data" / "loadbay.db", timeout=30) as conn:
            return conn.execute(query, args).fetchall()

    # --- one import ----------------------------------------------------------------------------

    def staged(self, path: Path) -> dict[str, Any]:
        imp = self.call("POST", "/workspaces/1/imports", json={"entity": "products", "file_name": path.name})
        base = f"/workspaces/1/imports/{imp.json()['id']}"
        r = self.call("PUT", f"{base}/file", content=path.read_bytes())
        if r.status_code != 200:
            raise Broken(f"upload: {r.status_code} {r.text[:300]}")
        columns = {
            s["column"]: s["field"] if s["bucket"] in ("mapped", "suggested") else None
            for s in r.json()["suggestions"]
        }
        self.call("PUT", f"{base}/mapping", json={"columns": columns})
        self.call("POST", f"{base}/stage")
        imp = self.wait(base, {"staged", "failed"})
        if imp["status"] != "staged":
            raise Broken(f"staging failed: {imp['error']}")
        return imp

    def wait(self, base: str, statuses: set[str], limit: float = 300) -> dict[str, Any]:
        deadline = time.monotonic() + limit
        while True:
            body = dict(self.call("GET", base).json())
            if body["status"] in statuses:
                return body
            if time.monotonic() > deadline:
                raise Broken(f"{base} still {body['status']} after {limit:.0f} s: {body['counts']}")
            time.sleep(0.1)

    def commit(self, import_id: int, key: str) -> httpx.Response:
        r = self.call(
            "POST", f"/workspaces/1/imports/{import_id}/commit", json={}, headers={"Idempotency-Key": key}
        )
        if r.status_code != 202:
            raise Broken(f"commit: {r.status_code} {r.text[:300]}")
        return r

    def run_events(self, import_id: int, events: list[Event], done: threading.Event) -> None:
        """Fire each event once the commit has its share of chunks done (in a thread)."""
        try:
            for ev in events:
                n_done = 0
                while not done.is_set():
                    got = self.sql(
                        "SELECT count(*), sum(CASE WHEN status = 'done' THEN 1 ELSE 0 END) "
                        "FROM import_chunks WHERE session_id = ?",
                        import_id,
                    )
                    total, n_done = int(got[0][0]), int(got[0][1] or 0)
                    if n_done >= ev.share * max(total, 1):
                        break
                    time.sleep(0.02)
                if done.wait(ev.delay):
                    return
                # A kill after the last chunk is not a kill during the commit: it is left out.
                [(status,)] = self.sql("SELECT status FROM import_sessions WHERE id = ?", import_id)
                if status in FINISHED:
                    continue
                ev.fired_at, ev.chunks_done = time.monotonic(), n_done
                proc = self.procs[ev.target]
                ev.stopped_in = proc.hit(ev.sig)
                time.sleep(ev.pause)
                t0 = time.monotonic()
                proc.start()
                if ev.target == "api":
                    self.wait_up()
                ev.back_in = time.monotonic() - t0
        except Broken as e:
            self.findings.append(str(e))
        except Exception as e:  # reported, not swallowed: the round fails on it
            self.findings.append(f"chaos thread: {e!r}")

    def round(
        self, rng: random.Random, n: int, seed: int, a: argparse.Namespace, model: dict[str, int]
    ) -> dict[str, Any]:
        path = self.data_dir / f"round-{n}.csv"
        stats_path = path.with_suffix(".json")
        rows = rng.randint(a.rows_min, a.rows_max)
        subprocess.run(
            [sys.executable, str(GENERATOR), "--rows", str(rows), "--seed", str(seed * 1000 + n),
             "--out", str(path), "--dup-rate", "0.02", "--bad-rate", "0.004", "--stats", str(stats_path)],
            check=True, capture_output=True,
        )  # fmt: skip
        stats = json.loads(stats_path.read_text())
        t_stage = time.monotonic()
        imp = self.staged(path)
        t_stage = time.monotonic() - t_stage
        targets = ["api"] if self.db == "sqlite" else ["worker-1", "worker-2", "api"]
        events = sorted(
            (
                Event(
                    share=0.0 if rng.random() < 0.2 else rng.uniform(0, 0.9),
                    delay=rng.uniform(0, 0.4),
                    target=rng.choice(targets),
                    sig=rng.choice([signal.SIGKILL, signal.SIGKILL, signal.SIGTERM]),
                    pause=rng.uniform(0, 0.5),
                )
                for _ in range(rng.randint(a.kills_min, a.kills_max))
            ),
            key=lambda e: e.share,
        )
        key = f"chaos-{seed}-{n}"
        done = threading.Event()
        chaos = threading.Thread(target=self.run_events, args=(imp["id"], events, done), daemon=True)
        t0 = time.monotonic()
        chaos.start()
        first = self.commit(imp["id"], key)
        base = f"/workspaces/1/imports/{imp['id']}"
        try:
            end = self.wait(base, FINISHED)
        finally:
            done.set()
            chaos.join(120)
        if chaos.is_alive():
            raise Broken("the chaos thread did not come back within 120 s")
        if self.findings:
            raise Broken("; ".join(self.findings))
        seconds = time.monotonic() - t0
        [(took,)] = self.sql(
            "SELECT " + ("extract(epoch FROM finished_at - commit_started_at)" if self.plain_pg else
                         "(julianday(finished_at) - julianday(commit_started_at)) * 86400")
            + " FROM import_sessions WHERE id = ?",
            imp["id"],
        )  # fmt: skip
        model["records"] += stats["expected_products"]
        t_check = time.monotonic()
        self.check(imp["id"], end, stats, model, key, first.json())
        self.check_reimport(path, stats, model)
        return {
            "round": n,
            "rows": rows,
            "seconds": round(seconds, 1),
            "commit_seconds": round(float(took), 1),
            "staging_seconds": round(t_stage, 1),
            "check_seconds": round(time.monotonic() - t_check, 1),
            "events": [e.describe() for e in events],
            "status": end["status"],
            "chunks": end["counts"]["chunks_done"],
        }

    # --- the invariants ------------------------------------------------------------------------

    def expect(self, name: str, ok: bool, detail: Any) -> None:
        self.checks.add(name)
        if not ok:
            raise Broken(f"{name}: {detail}")

    def records(self) -> int:
        r = self.call("GET", "/workspaces/1/entities/products/records/count", params={"exact": "true"})
        return int(r.json()["count"])

    def ledger(self, import_id: int) -> list[tuple[Any, ...]]:
        return self.sql(
            "SELECT chunk_no, status, attempts, created, updated, unchanged, skipped, failed, rows "
            "FROM import_chunks WHERE session_id = ? ORDER BY chunk_no",
            import_id,
        )

    def check(
        self, import_id: int, end: dict[str, Any], stats: dict[str, Any], model: dict[str, int], key: str,
        answer: dict[str, Any],
    ) -> None:  # fmt: skip
        c = end["counts"]
        self.expect("status", end["status"] == "completed_with_errors" and c["chunks_failed"] == 0, end)
        self.expect("rows = staged + rejected", c["rows"] == stats["rows"] == c["staged"] + c["rejected"], c)
        self.expect(
            "staged rows by status",
            c["staged"] == c["valid"] + c["invalid"] + c["duplicates"] + c["discarded"] + c["failed"],
            c,
        )
        outcomes = (
            c["created"] + c["updated"] + c["unchanged"] + c["skipped"] + c["failed"] + c["not_committed"]
        )
        self.expect("one outcome per staged row", outcomes == c["staged"], c)
        ledger = self.ledger(import_id)
        self.expect("every chunk done", {r[1] for r in ledger} == {"done"}, ledger)
        self.expect("ledger adds up", all(sum(r[3:8]) == r[8] for r in ledger), ledger)
        self.expect(
            "ledger = counts", sum(r[3] for r in ledger) == c["created"] == stats["expected_products"], c
        )
        dup = self.sql(
            "SELECT count(*) FROM (SELECT entity_id, key_norm FROM records "
            "GROUP BY 1, 2 HAVING count(*) > 1) d"
        )
        self.expect("no duplicate keys", dup[0][0] == 0, dup)
        self.expect("record count = model", self.records() == model["records"], model)
        replays = [self.commit(import_id, key) for _ in range(2)]
        self.expect(
            "replay = first answer",
            all(r.headers.get("Idempotent-Replayed") == "true" and r.json() == answer for r in replays),
            [r.json() for r in replays],
        )
        self.expect("replay changes nothing", self.ledger(import_id) == ledger, "ledger moved")
        self.expect("replay changes nothing", self.records() == model["records"], "records moved")
        if self.plain_pg:
            # A connection idle inside a transaction for a while is one left behind.
            for _ in range(20):
                left = self.sql(
                    "SELECT pid, query FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state = 'idle in transaction' AND now() - state_change > interval '2 seconds'"
                )
                if not left:
                    break
                time.sleep(0.2)
            self.expect("no connection idle in transaction", not left, left)

    def check_reimport(self, path: Path, stats: dict[str, Any], model: dict[str, int]) -> None:
        imp = self.staged(path)
        self.commit(imp["id"], uuid.uuid4().hex)
        end = self.wait(f"/workspaces/1/imports/{imp['id']}", FINISHED)
        c = end["counts"]
        self.expect(
            "re-import changes nothing",
            (c["created"], c["updated"], c["unchanged"]) == (0, 0, stats["expected_products"]),
            c,
        )
        self.expect("re-import changes nothing", self.records() == model["records"], model)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=None, help="default: drawn, and printed")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--minutes", type=float, default=None, help="rounds until this much time has passed")
    ap.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    ap.add_argument("--rows-min", type=int, default=3000)
    ap.add_argument("--rows-max", type=int, default=8000)
    ap.add_argument("--kills-min", type=int, default=2)
    ap.add_argument("--kills-max", type=int, default=4)
    ap.add_argument("--min-kills", type=int, default=0, help="more rounds until this many kills landed")
    ap.add_argument("--max-rounds", type=int, default=None, help="the bound on those extra rounds")
    ap.add_argument("--chunk-rows", type=int, default=400)
    ap.add_argument("--lease", type=int, default=2)
    ap.add_argument("--pg-url", default=None, help="default: LOADBAY_BENCH_PG_URL or local PostgreSQL")
    ap.add_argument("--redis-url", default=REDIS_URL)
    ap.add_argument("--keep", action="store_true", help="keep the data directory (logs) and database")
    ap.add_argument("--json", action="store_true", help="print only the seed and the JSON summary")
    a = ap.parse_args()
    if a.pg_url:
        os.environ["LOADBAY_BENCH_PG_URL"] = a.pg_url
        import import_products

        import_products.PG_URL = a.pg_url
    seed = a.seed if a.seed is not None else random.SystemRandom().randrange(1, 10**6)
    rounds = a.rounds if a.rounds is not None else (None if a.minutes else 3)
    print(f"chaos seed {seed} ({a.db})", flush=True)
    say = (lambda *x: None) if a.json else (lambda *x: print(*x, file=sys.stderr, flush=True))
    rng = random.Random(seed)
    started = time.monotonic()
    done: list[dict[str, Any]] = []
    with ExitStack() as stack:
        data_dir = Path(tempfile.mkdtemp(prefix="loadbay-chaos-"))
        keep_dir = [a.keep]
        stack.callback(lambda: keep_dir[0] or shutil.rmtree(data_dir, True))
        env = {
            **os.environ,
            "LOADBAY_DATA_DIR": str(data_dir / "data"),
            "LOADBAY_LOG_LEVEL": "WARNING",
            "LOADBAY_ADMIN_PASSWORD": "chaos-password-1",
            "LOADBAY_IMPORT_CHUNK_ROWS": str(a.chunk_rows),
            "LOADBAY_IMPORT_LEASE_SECONDS": str(a.lease),
            "LOADBAY_SWEEP_SECONDS": "1",
            "LOADBAY_STAGING_PROCESSES": "1",
        }
        for k in ("LOADBAY_REDIS_URL", "LOADBAY_DATABASE_URL", "LOADBAY_QUEUE_NAME"):
            env.pop(k, None)
        plain = None
        if a.db == "postgres":
            sa_url, plain = stack.enter_context(pg_database(a.keep))
            env.update(
                LOADBAY_DATABASE_URL=sa_url,
                LOADBAY_REDIS_URL=a.redis_url,
                LOADBAY_QUEUE_NAME=f"loadbay:chaos:{uuid.uuid4().hex[:8]}",
            )
        c = Chaos(a.db, data_dir, env, plain)
        port = free_port()
        c.base = f"http://127.0.0.1:{port}"
        c.procs["api"] = Proc("api", ["serve", "--port", str(port)], env, data_dir / "api.log")
        if a.db == "postgres":
            for i in (1, 2):
                c.procs[f"worker-{i}"] = Proc(f"worker-{i}", ["worker"], env, data_dir / f"worker-{i}.log")
        for p in c.procs.values():
            stack.callback(p.stop)
            p.start()
        c.wait_up()
        cli(env, "schema", "apply", str(ROOT / "examples" / "catalog.yaml"), "--workspace", "1")
        c.key = cli(
            env, "api-keys", "create", "--name", "chaos", "--workspace", "1", "--role", "admin"
        ).split()[-1]
        model = {"records": 0}
        n = 0
        failure = None

        def kills() -> int:
            return sum(1 for r in done for e in r["events"] if "not reached" not in e)

        def more() -> bool:
            if a.minutes is not None and time.monotonic() - started >= a.minutes * 60:
                return False
            if rounds is None or n < rounds:
                return True
            return kills() < a.min_kills and n < (a.max_rounds or rounds)

        while more():
            n += 1
            try:
                r = c.round(rng, n, seed, a, model)
            except Broken as e:
                failure = f"round {n}, seed {seed}: {e} (logs in {data_dir})"
                keep_dir[0] = True  # the logs of a failure
                break
            done.append(r)
            say(json.dumps(r))
        summary = {
            "seed": seed,
            "db": a.db,
            "rounds": len(done),
            "kills": kills(),
            "sigterm": sum(
                1 for r in done for e in r["events"] if e.startswith("SIGTERM") and "not reached" not in e
            ),
            "seconds": round(time.monotonic() - started, 1),
            "checked": sorted(c.checks),
            "failure": failure,
        }
        print(json.dumps(summary), flush=True)
        if failure:
            print(failure, file=sys.stderr)
            raise SystemExit(1)


if __name__ == "__main__":
    main()
