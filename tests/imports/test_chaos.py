"""Workers and the API killed at moments drawn from a fixed seed, during commits (bench/chaos.py).

On PostgreSQL: two `loadbay worker` processes and `loadbay serve` (with Redis), SIGKILL and SIGTERM.
On SQLite: the embedded server (jobs in-process), killed mid-commit and started again. After each
import the script checks every invariant of RELIABILITY.md and exits 1 naming the one that broke.
A longer run with a drawn seed: `make chaos`.
"""

import json
import os
import subprocess
import sys

import pytest

from tests.fixtures import database as test_database
from tests.fixtures.database import PG_ADMIN_URL
from tests.helpers import ROOT

SEED = 20261207
INVARIANTS = {
    "rows = staged + rejected",
    "staged rows by status",
    "one outcome per staged row",
    "ledger adds up",
    "ledger = counts",
    "no duplicate keys",
    "record count = model",
    "replay = first answer",
    "replay changes nothing",
    "re-import changes nothing",
}


@pytest.mark.slow
def test_commits_resume_whenever_workers_and_the_api_are_killed() -> None:
    db = test_database.test_db_kind()
    args = [sys.executable, str(ROOT / "bench" / "chaos.py"), "--seed", str(SEED), "--json"]
    args += [
        "--rounds",
        "2",
        "--rows-min",
        "2000",
        "--rows-max",
        "4000",
        "--kills-min",
        "2",
        "--kills-max",
        "3",
        "--chunk-rows",  # many small chunks: the commit lasts long enough for the kills to land in it
        "25",
        "--min-kills",  # a kill that comes after the commit's end is not counted: rounds are added
        "3",
        "--max-rounds",
        "8",
    ]
    if db == "postgres":
        redis_url = os.environ.get("LOADBAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
        args += ["--db", "postgres", "--pg-url", PG_ADMIN_URL, "--redis-url", redis_url]
    else:
        args += ["--db", "sqlite"]
    out = subprocess.run(args, capture_output=True, text=True, timeout=600, check=False)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert 2 <= summary["rounds"] <= 8
    assert summary["kills"] >= 3, summary  # kills that landed while the commits were running
    expected = INVARIANTS | ({"no connection idle in transaction"} if db == "postgres" else set())
    assert expected <= set(summary["checked"]), summary
