"""`make fuzz`: a long randomized schemathesis run against a live `loadbay serve`, on SQLite and PostgreSQL.

The test command's gate (tests/contract/test_schemathesis.py) is deterministic on purpose; this run is
not: each run draws a fresh seed and prints it, so that a finding can be replayed with `--seed`. After
each database's run, the server's log is searched for unhandled errors. Exit status 1 if anything was
found. Everything it writes goes under `--out` (default `.fuzz/`): schemathesis's output, the server log,
and a pytest file that reproduces each failure.

    uv run python bench/fuzz.py [--seed N] [--db sqlite,postgres] [--examples 300] [--max-time SECONDS]
"""

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.contract.schemathesis_run import run_schemathesis, web_app_dir  # noqa: E402
from tests.fixtures.database import empty_database  # noqa: E402
from tests.fixtures.server import live_server  # noqa: E402

# Two passes per database. "contract": the gate's configuration with a fresh seed and many more
# examples, every check. "stateful": against the demo workspace (its id fixed in the config, so
# that the operations under it are reached), reusing responses, with the stateful phase; the
# negative-data check is left out there, as it counts the fixed workspace id as a value it had
# made invalid and then reports the request being accepted.
PASSES = {
    "contract": (ROOT / "schemathesis.toml", "positive_data_acceptance"),
    "stateful": (
        ROOT / "bench" / "schemathesis-fuzz.toml",
        "positive_data_acceptance,negative_data_rejection",
    ),
}


def fuzz_one(kind: str, name: str, seed: int, examples: int, max_time: int | None, out: Path) -> bool:
    """One database's pass; True when it found nothing."""
    os.environ["LOADBAY_TEST_DB"] = kind
    config, exclude = PASSES[name]
    run_dir = out / f"{time.strftime('%Y%m%d-%H%M%S')}-{kind}-{name}-{seed}"
    run_dir.mkdir(parents=True)
    extra = [
        "--seed",
        str(seed),
        "--max-examples",
        str(examples),
        "--report",
        "pytest",
        "--report-dir",
        str(run_dir / "report"),
    ]
    if max_time:
        extra += ["--max-time", str(max_time)]
    web = {"LOADBAY_STATIC_DIR": str(web_app_dir(run_dir))}
    started = time.monotonic()
    with empty_database() as db_url, live_server(run_dir / "data", db_url, extra_env=web) as server:
        proc = run_schemathesis(server, run_dir, config, extra, timeout=None, exclude=exclude)
    (run_dir / "schemathesis.txt").write_text(proc.stdout + proc.stderr)
    errors = server.unhandled_errors()
    summary = proc.stdout[proc.stdout.rfind("SUMMARY") :] if "SUMMARY" in proc.stdout else proc.stdout[-3000:]
    print(f"\n=== {kind}, {name}: seed {seed}, {time.monotonic() - started:.0f} s, exit {proc.returncode}")
    print(summary[-4000:])
    if errors:
        print(f"{len(errors)} unhandled error line(s) in {server.log_path}:")
        print("\n".join(errors[:20]))
    print(f"output: {run_dir}")
    return proc.returncode == 0 and not errors


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=None, help="replay a run (default: a fresh random seed)")
    parser.add_argument("--db", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--examples", type=int, default=300, help="examples per operation and phase")
    parser.add_argument("--max-time", type=int, default=None, help="seconds per pass (default: no limit)")
    parser.add_argument("--passes", default="contract,stateful", help="comma-separated: contract, stateful")
    parser.add_argument("--out", type=Path, default=ROOT / ".fuzz")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    print(f"fuzz seed {seed} (replay: make fuzz ARGS='--seed {seed}')", flush=True)
    ok = True
    for kind in args.db.split(","):
        for name in args.passes.split(","):
            ok = fuzz_one(kind.strip(), name.strip(), seed, args.examples, args.max_time, args.out) and ok
    print(f"\nseed {seed}: {'nothing found' if ok else 'FOUND PROBLEMS (see above)'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
