"""bench/records_list.py runs end to end on a small table (PostgreSQL only; no timing checks)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "records_list.py"
GENERATOR = Path(os.environ.get("LOADBAY_BENCH_GENERATOR", ROOT / "bench" / "gen_products.py"))
CASES = {
    "first_page",
    "sort_name",
    "sort_price_desc",
    "filter_category",
    "filter_inactive",
    "deep_page",
    "deep_page_price_desc",
    "count",
    "count_category",
    "count_category_exact",
    "count_inactive",
    "key_search",
}

pytestmark = pytest.mark.skipif(
    os.environ.get("LOADBAY_TEST_DB") != "postgres", reason="the benchmark needs PostgreSQL"
)


@pytest.fixture(autouse=True)
def _no_idle_in_transaction() -> None:
    """Replaces the suite's check: the script makes and drops its own database, not the suite's."""


def test_records_list_bench_runs_every_case() -> None:
    if not GENERATOR.is_file():
        pytest.skip(f"{GENERATOR} not found (set LOADBAY_BENCH_GENERATOR)")
    env = {**os.environ, "LOADBAY_BENCH_GENERATOR": str(GENERATOR)}
    if "LOADBAY_TEST_PG_URL" in os.environ:
        env["LOADBAY_BENCH_PG_URL"] = os.environ["LOADBAY_TEST_PG_URL"]
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--rows", "3000", "--requests", "5", "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["rows"] == 3000
    assert set(report["cases"]) == CASES
    for name, r in report["cases"].items():
        assert 0 < r["p50_ms"] <= r["p95_ms"] <= r["p99_ms"] <= r["max_ms"], name
    assert report["machine"]["postgres"]
