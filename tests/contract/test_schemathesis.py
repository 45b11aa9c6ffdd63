"""schemathesis against a live `loadbay serve`, from the committed openapi.yaml: it must find nothing,
and the server's log must show no unhandled error afterwards. The run is deterministic (see
schemathesis.toml); `make fuzz` runs a longer randomized one."""

from pathlib import Path

import pytest

from tests.contract.schemathesis_run import ROOT, run_schemathesis, web_app_dir
from tests.fixtures.database import empty_database
from tests.fixtures.server import live_server


@pytest.mark.slow
def test_schemathesis_finds_nothing(tmp_path: Path) -> None:
    web = {"LOADBAY_STATIC_DIR": str(web_app_dir(tmp_path))}
    with (
        empty_database() as db_url,
        live_server(tmp_path / "data", db_url, demo=True, extra_env=web) as server,
    ):
        proc = run_schemathesis(server, tmp_path, ROOT / "schemathesis.toml")
    print(proc.stdout[-20000:])
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-2000:]
    assert "Seed: 20261124" in proc.stdout
    errors = server.unhandled_errors()
    assert not errors, "the server logged unhandled errors:\n" + "\n".join(errors[:20])
