"""One schemathesis run against a live `loadbay serve`: shared by the test command's gate and `make fuzz`."""

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from tests.fixtures.server import LiveServer

ROOT = Path(__file__).resolve().parents[2]


def web_app_dir(tmp: Path) -> Path:
    """A stand-in for the built web app, so its catch-all route is served whether or not frontend/dist
    exists in this checkout (it changes what unknown paths and methods answer)."""
    web = tmp / "web"
    web.mkdir(parents=True, exist_ok=True)
    (web / "index.html").write_text("<!doctype html><title>Loadbay</title>")
    return web


def run_schemathesis(
    server: LiveServer,
    cwd: Path,
    config: Path,
    extra: Sequence[str] = (),
    timeout: float | None = 900,
    exclude: str = "positive_data_acceptance",
) -> subprocess.CompletedProcess[str]:
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
        str(config),
        "run",
        str(ROOT / "openapi.yaml"),
        "--url",
        server.url,
        "--checks",
        "all",
        "--exclude-checks",
        exclude,
        *extra,
    ]
    return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
