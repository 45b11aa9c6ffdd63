"""The `loadbay` command line, run as a real process against its own database."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures.database import empty_database
from tests.fixtures.server import ADMIN_EMAIL, ADMIN_PASSWORD, live_server

ROOT = Path(__file__).resolve().parents[2]


class Cli:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def __call__(self, *args: str, ok: bool = True, **extra_env: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "loadbay.cli", *args],
            env={**self.env, **extra_env, "COLUMNS": "200", "NO_COLOR": "1"},
            capture_output=True,
            text=True,
            timeout=120,
        )
        if ok:
            assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOADBAY_")}
    env["LOADBAY_DATA_DIR"] = str(tmp_path / "data")
    with empty_database() as url:
        if url:
            env["LOADBAY_DATABASE_URL"] = url
        yield Cli(env)


@pytest.mark.slow
def test_migrate_is_idempotent(cli: Cli) -> None:
    assert "up to date" in cli("migrate").stdout
    assert "up to date" in cli("migrate").stdout


@pytest.mark.slow
def test_commands_needing_a_workspace_say_how_to_get_one(cli: Cli) -> None:
    proc = cli("schema", "apply", str(ROOT / "examples" / "catalog.yaml"), ok=False)
    assert proc.returncode == 2
    assert "Workspace 1 does not exist" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_schema_users_and_keys_through_a_live_server(cli: Cli, tmp_path: Path) -> None:
    db_url = cli.env.get("LOADBAY_DATABASE_URL")
    with live_server(Path(cli.env["LOADBAY_DATA_DIR"]), db_url, demo=False) as server:
        ws = str(server.workspace_id)
        # The demo schema, twice: the second time nothing changes, and it says so.
        first = cli("schema", "apply", str(ROOT / "examples" / "catalog.yaml"), "--workspace", ws).stdout
        assert "applied: 3 created" in first
        second = cli("schema", "apply", str(ROOT / "examples" / "catalog.yaml"), "--workspace", ws).stdout
        assert "applied: 0 created, 0 updated," in second
        dry = cli("schema", "apply", str(ROOT / "examples" / "hardware.yaml"), "--workspace", ws, "--dry-run")
        assert "would change: 3 created" in dry.stdout

        # A viewer account that can sign in and read, but not write.
        out = cli(
            "users",
            "create",
            "--email",
            "Viewer@Example.test",
            "--workspace",
            ws,
            "--role",
            "viewer",
            LOADBAY_NEW_USER_PASSWORD="viewer password 1",
        )
        assert "user viewer@example.test created (viewer in workspace" in out.stdout
        again = cli(
            "users",
            "create",
            "--email",
            "viewer@example.test",
            ok=False,
            LOADBAY_NEW_USER_PASSWORD="viewer password 1",
        )
        assert again.returncode == 2
        assert "already exists" in again.stderr

        token = cli(
            "api-keys", "create", "--name", "etl", "--workspace", ws, "--role", "editor"
        ).stdout.strip()
        assert token.startswith("lb_")
        with httpx.Client(base_url=server.url) as c:
            r = c.post(
                "/api/v1/auth/login", json={"email": "viewer@example.test", "password": "viewer password 1"}
            )
            assert r.status_code == 200, r.text
            assert {w["id"]: w["role"] for w in r.json()["workspaces"]}[server.workspace_id] == "viewer"
            r = c.get(f"/api/v1/workspaces/{ws}/entities", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200
            assert sorted(e["key"] for e in r.json()) == ["categories", "products", "suppliers"]
            r = c.post(
                f"/api/v1/workspaces/{ws}/entities/categories/records",
                json={"data": {"slug": "lamps", "name": "Lamps"}},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert r.status_code == 201, r.text

            # Who may create workspaces: instance administrators, which the command line names.
            def create_workspace(email: str, password: str) -> int:
                with httpx.Client(base_url=server.url) as s:
                    assert s.post(
                        "/api/v1/auth/login", json={"email": email, "password": password}
                    ).is_success
                    return s.post("/api/v1/workspaces", json={"name": f"of {email}"}).status_code

            assert create_workspace(ADMIN_EMAIL, ADMIN_PASSWORD) == 201  # the first admin is one
            assert create_workspace("viewer@example.test", "viewer password 1") == 403
            assert (
                "is now an instance administrator"
                in cli("users", "instance-admin", "--email", "Viewer@example.test").stdout
            )
            assert create_workspace("viewer@example.test", "viewer password 1") == 201
            cli("users", "instance-admin", "--email", "viewer@example.test", "--revoke")
            assert create_workspace("viewer@example.test", "viewer password 1") == 403
            out = cli(
                "users",
                "create",
                "--email",
                "ops@example.test",
                "--instance-admin",
                LOADBAY_NEW_USER_PASSWORD="ops password 1",
            )
            assert "ops@example.test created, instance administrator" in out.stdout
            assert create_workspace("ops@example.test", "ops password 1") == 201
            missing = cli("users", "instance-admin", "--email", "nobody@example.test", ok=False)
            assert missing.returncode == 2
            assert "No user with email nobody@example.test" in missing.stderr


@pytest.mark.slow
def test_short_passwords_are_refused(cli: Cli) -> None:
    proc = cli("users", "create", "--email", "a@example.test", ok=False, LOADBAY_NEW_USER_PASSWORD="short")
    assert proc.returncode == 2
    assert "at least 8 characters" in proc.stderr


@pytest.mark.slow
def test_import_drives_the_api_and_prints_a_json_summary(cli: Cli, tmp_path: Path) -> None:
    db_url = cli.env.get("LOADBAY_DATABASE_URL")
    with live_server(Path(cli.env["LOADBAY_DATA_DIR"]), db_url, demo=True) as server:
        path = tmp_path / "products.csv"
        path.write_text(
            "sku,name,price\nC-1,Cup,2.50\nC-2,Bowl,3\nC-3,,1\nc-1,Cup (new),2.75\n", encoding="utf-8"
        )
        args = ["import", str(path), "--entity", "products", "--url", server.url, "--api-key", server.api_key]
        preview = cli(*args, "--dry-run", "--json")
        summary = json.loads(preview.stdout.strip().splitlines()[-1])
        assert summary["status"] == "dry_run"
        assert summary["dry_run"]["created"] == 2
        done = cli(*args, "--json")
        summary = json.loads(done.stdout.strip().splitlines()[-1])
        assert summary["status"] == "completed_with_errors"
        counts = summary["counts"]
        assert (counts["created"], counts["invalid"], counts["duplicates"]) == (2, 1, 1)
        again = cli(*args, "--json")
        counts = json.loads(again.stdout.strip().splitlines()[-1])["counts"]
        assert (counts["created"], counts["updated"], counts["unchanged"]) == (0, 0, 2)
        # Without --json: a readable report, and a clear error for a bad key.
        human = cli(*args)
        assert "unchanged" in human.stdout
        bad = cli(*args[:-1], "lb_nope", ok=False)
        assert bad.returncode == 1
        assert "Unknown or revoked API key" in bad.stderr
