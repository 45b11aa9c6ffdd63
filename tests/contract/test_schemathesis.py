"""schemathesis against a live `loadbay serve`, from the committed openapi.yaml: it must find nothing."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.database import empty_database
from tests.fixtures.server import live_server

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_schemathesis_finds_nothing(tmp_path: Path) -> None:
    with empty_database() as db_url, live_server(tmp_path, db_url, demo=True) as server:
        env = {
            **os.environ,
            "LOADBAY_ST_API_KEY": server.api_key,
            "LOADBAY_ST_WORKSPACE_ID": str(server.workspace_id),
            "NO_COLOR": "1",
        }
        cmd = [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(ROOT / "schemathesis.toml"),
            "run",
            str(ROOT / "openapi.yaml"),
            "--url",
            server.url,
            "--checks",
            "all",
            "--exclude-checks",
            "positive_data_acceptance",
        ]
        proc = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    print(proc.stdout[-20000:])
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-2000:]
