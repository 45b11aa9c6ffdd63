"""The committed contract is the app's contract, complete, and the committed TypeScript client matches it."""

import subprocess
from pathlib import Path
from typing import Any

import pytest

from loadbay.openapi import contract, render

ROOT = Path(__file__).resolve().parents[2]
METHODS = {"get", "post", "put", "patch", "delete"}
# Anyone may call these: signing in, and the invitation link (its token is the key).
PUBLIC = {
    "meta-health",
    "auth-login",
    "auth-logout",
    "invitations-preview",
    "invitations-register",
    "invitations-accept",
}


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    spec = contract()
    return [(path, m, op) for path, item in spec["paths"].items() for m, op in item.items() if m in METHODS]


def test_openapi_yaml_is_up_to_date() -> None:
    committed = (ROOT / "openapi.yaml").read_text()
    assert committed == render(), "openapi.yaml drifted from the app: run `make openapi` and commit it"


def test_every_operation_is_named_tagged_and_described() -> None:
    ids = set()
    for path, method, op in operations():
        where = f"{method.upper()} {path}"
        assert op.get("operationId"), where
        assert op["operationId"] not in ids, f"duplicate operationId {op['operationId']}"
        ids.add(op["operationId"])
        assert op["operationId"].replace("-", "").isalpha(), where
        assert op["operationId"].islower(), where
        assert len(op.get("tags", [])) == 1, where
        assert op.get("summary"), where
        assert op.get("description"), where
        assert "\n" not in op["description"].strip(), f"{where}: description should be one line"


def test_every_error_response_uses_the_error_model() -> None:
    for path, method, op in operations():
        codes = {c for c in op["responses"] if c.startswith(("4", "5"))}
        where = f"{method.upper()} {path} declares {sorted(codes)}"
        if op["operationId"] not in PUBLIC:
            assert "401" in codes, where
        if op.get("parameters") or op.get("requestBody"):
            assert "422" in codes, where
        for code in codes:
            schema = op["responses"][code]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}, f"{method.upper()} {path} {code}"


def test_schemas_are_named() -> None:
    spec = contract()
    for path, method, op in operations():
        body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        if body is not None:
            assert "$ref" in body, f"{method.upper()} {path}: inline request schema"
    assert "ErrorBody" in spec["components"]["schemas"]


def test_protected_operations_declare_both_ways_in() -> None:
    for _, _, op in operations():
        if op["operationId"] not in PUBLIC:
            assert op.get("security") == [{"apiKey": []}, {"session": []}], op["operationId"]


def test_typescript_client_is_up_to_date(tmp_path: Path) -> None:
    frontend = ROOT / "frontend"
    generator = frontend / "node_modules" / ".bin" / "openapi-typescript"
    if not generator.exists():
        pytest.fail("frontend/node_modules is missing: run `npm ci` in frontend/ (the test command does)")
    out = tmp_path / "schema.d.ts"
    subprocess.run(
        [str(generator), str(ROOT / "openapi.yaml"), "-o", str(out)],
        cwd=frontend,
        check=True,
        capture_output=True,
        env={"PATH": f"{frontend / 'node_modules' / '.bin'}:/usr/bin:/bin"},
    )
    committed = frontend / "src" / "api" / "generated" / "schema.d.ts"
    assert committed.read_text() == out.read_text(), (
        "the TypeScript client drifted from openapi.yaml: run `make client` and commit it"
    )
