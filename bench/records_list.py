"""Records-list latency on PostgreSQL with one large entity.

    uv run python bench/records_list.py [--rows 1000000] [--requests 200] [--keep-db] [--json] [--explain]

What it does:

1. creates a database ``loadbay_bench_<hex>`` (``--pg-url`` names the server's maintenance
   database), migrates it, creates the first workspace and admin, applies
   ``examples/catalog.yaml`` and an admin API key, all through Loadbay's own services, so the
   per-field expression indexes (``ix_rf_<field id>``) exist before any record does, as in use;
2. loads categories, suppliers and ``--rows`` products with COPY straight into ``records``
   (names, SKUs and descriptions from ``bench/gen_products.py``; the other fields drawn with a
   fixed seed), then ``VACUUM (ANALYZE)``, which autovacuum does on its own after a large insert;
3. starts ``loadbay serve`` on a free loopback port and, with one keep-alive HTTP connection and
   an API key, times each case sequentially after 10 warm-up requests: first page, sorted by name,
   by price descending, filtered by category and by ``active``, deep pages 90% of the way in
   (by id and by price), counts (all records, and filtered as above), and a key-prefix search.
   Every response must be 200, every page must hold 100 records and every count must be right.

Prints a table and, as the last line on stdout, one JSON object with the numbers; ``--json``
prints only that line. ``--explain`` prints ``EXPLAIN (ANALYZE, BUFFERS)`` of every SQL
statement the app issues on ``records`` for each case, captured from the app's own service.
"""

import argparse
import asyncio
import csv
import io
import json
import math
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
from sqlalchemy import event, literal_column, text
from sqlalchemy.ext.asyncio import AsyncSession

from loadbay import bootstrap
from loadbay.auth import service as auth_service
from loadbay.cli import migrate_db
from loadbay.config import Settings
from loadbay.core.actor import Role
from loadbay.db import make_engine, make_sessionmaker, session_scope
from loadbay.records import keys, query
from loadbay.records import service as records_service
from loadbay.records import sql as rsql
from loadbay.schema.models import Entity
from loadbay.schema.types import FieldType

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_GENERATOR = Path(
    os.environ.get("LOADBAY_BENCH_GENERATOR", Path(__file__).with_name("gen_products.py"))
)
PAGE = 100
WARMUP = 10
COUNT_CAP = Settings.model_fields["count_cap"].default  # the server runs with the default
P95_BUDGET_MS = 50.0
SEED = 1
N_CATEGORIES = 120
N_SUPPLIERS = 400
ADMIN_EMAIL = "bench@loadbay.local"
ADMIN_PASSWORD = "bench password, not secret"


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --- database ------------------------------------------------------------------------------------


@contextmanager
def bench_database(admin_url: str, keep: bool) -> Iterator[str]:
    """A new database on the server of ``admin_url``; yields its plain libpq URL."""
    name = f"loadbay_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        if keep:
            say(f"kept database {name}")
        else:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sa_url(plain: str) -> str:
    return plain.replace("postgresql://", "postgresql+psycopg://", 1)


@dataclass
class Setup:
    workspace_id: int
    token: str
    entity_ids: dict[str, int]
    index_fields: dict[str, int] = field(default_factory=dict)  # products field key -> field id


async def prepare(settings: Settings) -> Setup:
    """First start, the catalog schema and an admin API key, through the app's services."""
    engine = make_engine(settings)
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            fs = await bootstrap.first_start(session, email=ADMIN_EMAIL, password=ADMIN_PASSWORD)
            assert fs is not None, "the bench database is not empty"
            await bootstrap.apply_schema_file(
                session, workspace_id=fs.workspace_id, path=ROOT / "examples" / "catalog.yaml"
            )
            actor = await bootstrap.system_actor(session, fs.workspace_id)
            _, token = await auth_service.create_api_key(session, actor=actor, name="bench", role=Role.admin)
            rows = (
                await session.execute(
                    text("SELECT key, id FROM entities WHERE workspace_id = :w"), {"w": fs.workspace_id}
                )
            ).all()
            entity_ids = {k: i for k, i in rows}
            frows = (
                await session.execute(
                    text(
                        "SELECT key, id FROM fields WHERE entity_id = :e AND (indexed OR type = 'reference')"
                    ),
                    {"e": entity_ids["products"]},
                )
            ).all()
            return Setup(fs.workspace_id, token, entity_ids, {k: i for k, i in frows})
    finally:
        await engine.dispose()


# --- data ----------------------------------------------------------------------------------------

CATEGORY_WORDS = (
    "kitchen", "garden", "office", "outdoor", "audio", "lighting", "furniture", "travel", "fitness",
    "tools", "storage", "bedding", "computing", "cookware", "apparel", "footwear", "camping", "bath",
    "toys", "pets",
)  # fmt: skip
COUNTRIES = ("DE", "FR", "NL", "PL", "IT", "ES", "SE", "US", "CN", "VN", "IN", "GB", "CZ", "PT", "TW")


def categories() -> list[dict[str, Any]]:
    """Top-level categories, then sub-categories pointing at them."""
    out: list[dict[str, Any]] = [{"slug": w, "name": w.capitalize()} for w in CATEGORY_WORDS]
    i = 0
    while len(out) < N_CATEGORIES:
        parent = CATEGORY_WORDS[i % len(CATEGORY_WORDS)]
        line = i // len(CATEGORY_WORDS) + 1
        out.append(
            {"slug": f"{parent}-{line}", "name": f"{parent.capitalize()} line {line}", "parent": parent}
        )
        i += 1
    return out


def suppliers(rng: random.Random) -> list[dict[str, Any]]:
    out = []
    for i in range(1, N_SUPPLIERS + 1):
        code = f"SUP-{i:04d}"
        out.append(
            {
                "code": code,
                "name": f"Supplier {i:04d} {rng.choice(('GmbH', 'Ltd', 'SA', 'BV', 'Inc', 'Sp. z o.o.'))}",
                "email": f"orders@supplier{i:04d}.example.com",
                "website": f"https://supplier{i:04d}.example.com",
                "country": rng.choice(COUNTRIES),
            }
        )
    return out


def generated_products(generator: Path, rows: int) -> Iterator[list[str]]:
    """(name, sku, description) rows of gen_products.py: unique SKUs, no duplicates, no bad rows."""
    cmd = [sys.executable, str(generator), "--rows", str(rows), "--seed", str(SEED), "--out", "-"]
    cmd += ["--dup-rate", "0", "--bad-rate", "0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    reader = csv.reader(io.TextIOWrapper(proc.stdout, encoding="utf-8", newline=""))
    if next(reader) != ["name", "sku", "description"]:
        raise SystemExit(f"{generator}: unexpected header")
    yield from reader
    if proc.wait() != 0:
        raise SystemExit(f"{generator} failed with exit code {proc.returncode}")


def product_rows(generator: Path, rows: int, cats: list[str], sups: list[str]) -> Iterator[dict[str, Any]]:
    """Products as the app stores them (see loadbay.schema.types.coerce): decimals as canonical
    strings, dates as YYYY-MM-DD, references as the target's key. Categories are Zipf-distributed,
    as real catalogues are; a few products have no supplier or launch date."""
    rng = random.Random(SEED)
    weights = [1 / (i + 1) for i in range(len(cats))]
    cum = [sum(weights[: i + 1]) for i in range(len(weights))]
    first_day = date(2015, 1, 1).toordinal()
    span = date(2025, 12, 31).toordinal() - first_day
    for name, sku, description in generated_products(generator, rows):
        data: dict[str, Any] = {
            "sku": sku,
            "name": name,
            "description": description,
            "active": rng.random() >= 0.08,
            "category": rng.choices(cats, cum_weights=cum)[0],
        }
        if rng.random() >= 0.03:
            data["supplier"] = sups[int(rng.random() * len(sups))]
        data["price"] = f"{max(0.5, rng.lognormvariate(math.log(35), 1.0)):.2f}"
        data["stock"] = int(rng.expovariate(1 / 60))
        if rng.random() >= 0.1:
            data["launched_on"] = date.fromordinal(first_day + int(rng.random() * span)).isoformat()
        yield data


def copy_records(
    conn: psycopg.Connection[Any], workspace_id: int, entity: Entity, rows: Iterator[dict[str, Any]]
) -> int:
    now = datetime.now(UTC)
    n = 0
    cols = "workspace_id, entity_id, key_norm, data, version, created_at, updated_at"
    with conn.cursor() as cur, cur.copy(f"COPY records ({cols}) FROM STDIN") as copy:
        for data in rows:
            key_norm = keys.normalize(entity, [data[k] for k in entity.key_fields])
            copy.write_row((workspace_id, entity.id, key_norm, orjson.dumps(data).decode(), 1, now, now))
            n += 1
            if n % 200_000 == 0:
                say(f"  {n:,} records")
    return n


def entity_row(conn: psycopg.Connection[Any], entity_id: int) -> Entity:
    key_fields, trim, fold = conn.execute(
        "SELECT key_fields, key_trim, key_case_insensitive FROM entities WHERE id = %s", (entity_id,)
    ).fetchone()  # type: ignore[misc]
    return Entity(id=entity_id, key_fields=key_fields, key_trim=trim, key_case_insensitive=fold)


def load(url: str, setup: Setup, rows: int, generator: Path) -> dict[str, float]:
    rng = random.Random(SEED + 1)
    cats = categories()
    sups = suppliers(rng)
    with psycopg.connect(url) as conn:
        conn.execute("SET maintenance_work_mem = '256MB'")
        ents = {k: entity_row(conn, i) for k, i in setup.entity_ids.items()}
        # Parents first: a category's parent must exist, as the app checks on write.
        copy_records(
            conn, setup.workspace_id, ents["categories"], iter([c for c in cats if "parent" not in c])
        )
        copy_records(conn, setup.workspace_id, ents["categories"], iter([c for c in cats if "parent" in c]))
        copy_records(conn, setup.workspace_id, ents["suppliers"], iter(sups))
        say(f"loading {rows:,} products with COPY")
        t0 = time.perf_counter()
        n = copy_records(
            conn,
            setup.workspace_id,
            ents["products"],
            product_rows(generator, rows, [c["slug"] for c in cats], [s["code"] for s in sups]),
        )
        conn.commit()
        load_s = time.perf_counter() - t0
        assert n == rows, f"generated {n} products, wanted {rows}"
    with psycopg.connect(url, autocommit=True) as conn:
        t0 = time.perf_counter()
        conn.execute("VACUUM (ANALYZE) records")
        vacuum_s = time.perf_counter() - t0
    return {"load_seconds": round(load_s, 1), "vacuum_analyze_seconds": round(vacuum_s, 1)}


def check_indexes(url: str, setup: Setup) -> list[str]:
    """The per-field indexes the schema service made must be there, on the right expressions."""
    with psycopg.connect(url) as conn:
        have = {
            name: ddl
            for name, ddl in conn.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'records'"
            ).fetchall()
        }
    names = []
    for key, fid in sorted(setup.index_fields.items()):
        name = rsql.SORT_INDEX.format(fid)
        if name not in have:
            raise SystemExit(f"index {name} for products.{key} is missing; indexes: {sorted(have)}")
        if f"'{key}'" not in have[name]:
            raise SystemExit(f"index {name} is not on products.{key}: {have[name]}")
        names.append(f"{name} ({key})")
    return names


# --- cases ---------------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    title: str
    params: dict[str, Any]
    count: int | None = None  # a count request, and the count it must return
    # The same request for the in-process service (--explain).
    sort: str = "id"
    descending: bool = False
    filters: list[str] = field(default_factory=list)
    q: str | None = None
    cursor: str | None = None
    exact: bool = False  # count every match instead of stopping at the cap


def build_cases(url: str, setup: Setup, rows: int) -> tuple[list[Case], dict[str, Any]]:
    pid = setup.entity_ids["products"]
    deep = int(rows * 0.9)
    price = literal_column(rsql.value_expr("postgresql", "price", FieldType.decimal))
    with psycopg.connect(url) as conn:
        (top_cat, top_n) = conn.execute(
            "SELECT data ->> 'category', count(*) FROM records WHERE entity_id = %s "
            "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1",
            (pid,),
        ).fetchone()  # type: ignore[misc]
        # The longest key prefix (up to 3 characters) shared by at least 1,000 products, else
        # the most common first character: a prefix someone types into the search box.
        prefix, prefix_n = "", 0
        for n in (3, 2, 1):
            p, c = conn.execute(
                "SELECT left(key_norm, %s), count(*) FROM records WHERE entity_id = %s "
                "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1",
                (n, pid),
            ).fetchone()  # type: ignore[misc]
            if c >= 1000 or n == 1:
                prefix, prefix_n = p, c
                break
        (inactive_n,) = conn.execute(
            "SELECT count(*) FROM records WHERE entity_id = %s AND (data -> 'active') = 'false'", (pid,)
        ).fetchone()  # type: ignore[misc]
        (deep_id,) = conn.execute(
            "SELECT id FROM records WHERE entity_id = %s ORDER BY id OFFSET %s LIMIT 1", (pid, deep - 1)
        ).fetchone()  # type: ignore[misc]
        deep_price, deep_price_id = conn.execute(
            f"SELECT {price}, id FROM records WHERE entity_id = %s AND {price} IS NOT NULL "
            f"ORDER BY {price} DESC, id DESC OFFSET %s LIMIT 1",
            (pid, deep - 1),
        ).fetchone()  # type: ignore[misc]
    # Cursors as the app writes them into next_cursor: the sort value and the id of the last row.
    by_id = query.Sort("id", None, False, False)
    by_price_desc = query.Sort("price", price, True, True)
    deep_cursor = query.encode_cursor(by_id, deep_id, deep_id, False)
    deep_price_cursor = query.encode_cursor(by_price_desc, Decimal(deep_price), deep_price_id, False)
    cat_filter = f"category:eq:{top_cat}"
    cases = [
        Case("first_page", "first page (by id)", {}),
        Case("sort_name", "sorted by name", {"sort": "name"}, sort="name"),
        Case(
            "sort_price_desc",
            "sorted by price, descending",
            {"sort": "price", "order": "desc"},
            sort="price",
            descending=True,
        ),
        Case(
            "filter_category",
            f"filter category = {top_cat} ({top_n:,})",
            {"filter": cat_filter},
            filters=[cat_filter],
        ),
        Case(
            "filter_inactive",
            "filter active = false",
            {"filter": "active:eq:false"},
            filters=["active:eq:false"],
        ),
        Case(
            "deep_page",
            f"page after {deep:,} rows (by id)",
            {"cursor": deep_cursor},
            cursor=deep_cursor,
        ),
        Case(
            "deep_page_price_desc",
            f"page after {deep:,} rows (by price desc)",
            {"sort": "price", "order": "desc", "cursor": deep_price_cursor},
            sort="price",
            descending=True,
            cursor=deep_price_cursor,
        ),
        Case("count", "count (all records)", {}, count=rows),
        Case(
            "count_category",
            f"count, filter category = {top_cat}",
            {"filter": cat_filter},
            count=top_n,
            filters=[cat_filter],
        ),
        Case(
            "count_inactive",
            "count, filter active = false",
            {"filter": "active:eq:false"},
            count=inactive_n,
            filters=["active:eq:false"],
        ),
        Case(
            "count_category_exact",
            f"exact count, filter category = {top_cat}",
            {"filter": cat_filter, "exact": "true"},
            count=top_n,
            filters=[cat_filter],
            exact=True,
        ),
        Case("key_search", f"key search q={prefix} ({prefix_n:,})", {"q": prefix}, q=prefix),
    ]
    info = {"category": top_cat, "category_rows": top_n, "q": prefix, "q_rows": prefix_n, "deep_offset": deep}
    return cases, info


def pct(xs: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(xs)
    return s[max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))]


def check(case: Case, r: httpx.Response) -> None:
    if r.status_code != 200:
        raise SystemExit(f"{case.name}: HTTP {r.status_code}: {r.text[:500]}")
    body = r.json()
    if case.count is not None:
        # A capped count answers min(count, cap) and says whether it is exact.
        want = case.count if case.exact else min(case.count, COUNT_CAP)
        if body.get("count") != want or body.get("exact") != (case.exact or case.count <= COUNT_CAP):
            raise SystemExit(f"{case.name}: count {body} does not match {case.count} (cap {COUNT_CAP})")
        return
    n = len(body.get("items", []))
    if n != PAGE:
        raise SystemExit(f"{case.name}: page has {n} records, expected {PAGE}")


def measure(client: httpx.Client, path: str, case: Case, requests: int) -> list[float]:
    url = f"{path}/count" if case.count is not None else path
    params = dict(case.params)
    if case.count is None:
        params["limit"] = PAGE
    for _ in range(WARMUP):
        check(case, client.get(url, params=params))
    times = []
    for _ in range(requests):
        t0 = time.perf_counter()
        r = client.get(url, params=params)
        times.append((time.perf_counter() - t0) * 1000)
        check(case, r)
    return times


# --- server --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(database_url: str, data_dir: Path) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "LOADBAY_DATABASE_URL": database_url,
        "LOADBAY_DATA_DIR": str(data_dir),
        "LOADBAY_LOG_LEVEL": "WARNING",
    }
    env.pop("LOADBAY_REDIS_URL", None)
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "loadbay.cli", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("loadbay serve did not start:\n" + log_path.read_text())
                time.sleep(0.2)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --- explain -------------------------------------------------------------------------------------


async def explain(settings: Settings, setup: Setup, cases: list[Case]) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the statements the records service issues for each case."""
    engine = make_engine(settings)
    captured: list[tuple[str, Any]] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if "FROM records" in statement and not statement.startswith("EXPLAIN"):
            captured.append((statement, parameters))

    out: list[str] = []
    try:
        async with make_sessionmaker(engine)() as session:
            actor = await bootstrap.system_actor(session, setup.workspace_id)
            for case in cases:
                captured.clear()
                await _call(session, actor, case)
                for statement, parameters in list(captured):
                    conn = await session.connection()
                    plan = await conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                    out.append(f"--- {case.name}: {case.title}")
                    out.append(statement)
                    out.append(f"-- parameters: {parameters}")
                    out.extend(r[0] for r in plan.all())
            await session.rollback()
    finally:
        await engine.dispose()
    return "\n".join(out)


async def _call(session: AsyncSession, actor: Any, case: Case) -> None:
    if case.count is not None:
        await records_service.count_records(
            session,
            actor=actor,
            entity_key="products",
            filters=case.filters,
            q=case.q,
            cap=None if case.exact else COUNT_CAP,
        )
    else:
        await records_service.list_records(
            session,
            actor=actor,
            entity_key="products",
            limit=PAGE,
            cursor=case.cursor,
            sort=case.sort,
            descending=case.descending,
            filters=case.filters,
            q=case.q,
        )


# --- main ----------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="products to load (default 1,000,000)")
    ap.add_argument("--requests", type=int, default=200, help="timed requests per case (default 200)")
    ap.add_argument("--keep-db", action="store_true", help="keep the bench database afterwards")
    ap.add_argument("--json", action="store_true", help="print only the JSON line on stdout")
    ap.add_argument("--explain", action="store_true", help="print EXPLAIN (ANALYZE, BUFFERS) of each case")
    ap.add_argument(
        "--pg-url",
        default=os.environ.get("LOADBAY_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a database on the PostgreSQL server to use (the bench database is created beside it)",
    )
    ap.add_argument(
        "--generator",
        type=Path,
        default=DEFAULT_GENERATOR,
        help="gen_products.py (default: beside this file)",
    )
    a = ap.parse_args()
    if a.rows < 1000 or a.requests < 1:
        ap.error("--rows must be at least 1000 and --requests at least 1")
    if not a.generator.is_file():
        ap.error(f"{a.generator} not found; pass --generator or set LOADBAY_BENCH_GENERATOR")
    out = sys.stderr if a.json else sys.stdout

    with (
        tempfile.TemporaryDirectory(prefix="loadbay-bench-") as tmp,
        bench_database(a.pg_url, a.keep_db) as url,
    ):
        settings = Settings(data_dir=Path(tmp), database_url=sa_url(url), _env_file=None)  # type: ignore[call-arg]
        say(f"database {url.rsplit('/', 1)[1]}: migrating, applying examples/catalog.yaml")
        migrate_db(settings)
        setup = asyncio.run(prepare(settings))
        indexes = check_indexes(url, setup)
        say("indexes on records: " + ", ".join(indexes))
        timings = load(url, setup, a.rows, a.generator)
        say(f"loaded in {timings['load_seconds']} s, VACUUM (ANALYZE) {timings['vacuum_analyze_seconds']} s")
        cases, info = build_cases(url, setup, a.rows)
        with psycopg.connect(url) as conn:
            pg_version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
            size = conn.execute("SELECT pg_size_pretty(pg_total_relation_size('records'))").fetchone()[0]  # type: ignore[index]

        results: dict[str, dict[str, float]] = {}
        with server(settings.database_url or "", Path(tmp)) as base:
            path = f"/api/v1/workspaces/{setup.workspace_id}/entities/products/records"
            headers = {"Authorization": f"Bearer {setup.token}"}
            with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
                for case in cases:
                    say(f"  {case.title}")
                    t = measure(client, path, case, a.requests)
                    results[case.name] = {
                        "p50_ms": round(pct(t, 50), 2),
                        "p95_ms": round(pct(t, 95), 2),
                        "p99_ms": round(pct(t, 99), 2),
                        "max_ms": round(max(t), 2),
                    }

        slow = [c.name for c in cases if results[c.name]["p95_ms"] > P95_BUDGET_MS]
        print(f"\nrecords list, {a.rows:,} products ({size}), {a.requests} requests per case", file=out)
        print(
            f"PostgreSQL {pg_version}, {os.cpu_count()} CPUs, Python {platform.python_version()}\n", file=out
        )
        print(f"{'case':<46}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}", file=out)
        for c in cases:
            r = results[c.name]
            mark = "  > 50 ms" if c.name in slow else ""
            print(
                f"{c.title:<46}{r['p50_ms']:>9.1f}{r['p95_ms']:>9.1f}{r['p99_ms']:>9.1f}{r['max_ms']:>9.1f}{mark}",
                file=out,
            )
        if slow:
            print(f"\np95 over {P95_BUDGET_MS:.0f} ms: {', '.join(slow)}"
                  + ("" if a.explain else " (see --explain)"), file=out)  # fmt: skip
        if a.explain:
            print("\n" + asyncio.run(explain(settings, setup, cases)), file=out)

        report = {
            "bench": "records_list",
            "rows": a.rows,
            "requests": a.requests,
            "page": PAGE,
            **timings,
            "table_size": size,
            "cases": results,
            "slow": slow,
            "parameters": info,
            "machine": {
                "cpu_count": os.cpu_count(),
                "postgres": pg_version,
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
            "date": datetime.now(UTC).date().isoformat(),
        }
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
