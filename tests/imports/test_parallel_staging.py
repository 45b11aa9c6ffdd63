"""A large CSV staged by several processes side by side gives exactly what one pass gives (PostgreSQL)."""

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from loadbay.imports import parallel
from tests.fixtures import database as test_database
from tests.imports.conftest import Live, check_invariants, commit, generate, map_as_suggested, stage, upload

pytestmark = pytest.mark.skipif(
    test_database.test_db_kind() != "postgres", reason="parts are staged side by side on PostgreSQL only"
)


async def staged_rows(live: Live, import_id: int) -> list[tuple[Any, ...]]:
    async with live.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT row_no, key_norm, status, data, errors, source FROM staged_rows "
                "WHERE session_id = :s ORDER BY row_no"
            ),
            {"s": import_id},
        )
        return [tuple(r) for r in rows.all()]


@pytest.fixture
def part_runs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str]]:
    """Each staging in parts: (parts, "staged" or the exception that ended it)."""
    runs: list[tuple[int, str]] = []
    real = parallel.stage_in_parts

    async def spy(*args: Any) -> Any:
        try:
            out = await real(*args)
        except Exception as e:
            runs.append((len(args[3]), type(e).__name__))
            raise
        runs.append((len(args[3]), "staged"))
        return out

    monkeypatch.setattr(parallel, "stage_in_parts", spy)
    return runs


async def stage_file(live: Live, path: Path, *, processes: int) -> dict[str, Any]:
    live.settings.staging_processes = processes
    live.settings.staging_split_bytes = 20_000
    imp = await map_as_suggested(live, await upload(live, path))
    return await stage(live, imp["id"])


async def test_parts_stage_what_one_pass_stages(
    catalog: Live, tmp_path: Path, part_runs: list[tuple[int, str]]
) -> None:
    live = catalog
    path = tmp_path / "products.csv"
    # Quoted line breaks, duplicates near and far (some across the cuts), rows of the wrong width.
    stats = generate(path, 2500, dup_rate=0.05, bad_rate=0.01)
    one = await stage_file(live, path, processes=1)
    parts = await stage_file(live, path, processes=3)
    assert part_runs == [(3, "staged")]
    assert parts["status"] == "staged", parts
    assert parts["counts"] == one["counts"]
    assert await staged_rows(live, parts["id"]) == await staged_rows(live, one["id"])
    done = await commit(live, parts["id"])
    assert done["counts"]["created"] == stats["expected_products"]
    await check_invariants(live, done, 2500)


async def test_a_cut_fooled_by_a_stray_quote_stages_in_one_pass(
    catalog: Live, tmp_path: Path, part_runs: list[tuple[int, str]]
) -> None:
    live = catalog
    path = tmp_path / "stray.csv"
    # The quote in `5" screen` is part of an unquoted field: every count of quotes after it is odd.
    rows = [f'P-{i},Lamp {i},"line one\nline two"\n' for i in range(1, 1500)]
    path.write_text('sku,name,description\nP-0,5" screen,plain\n' + "".join(rows), encoding="utf-8")
    one = await stage_file(live, path, processes=1)
    parts = await stage_file(live, path, processes=2)
    assert part_runs == [(2, "SplitMismatch")]
    assert parts["counts"] == one["counts"]
    assert parts["counts"]["valid"] == 1500
    assert await staged_rows(live, parts["id"]) == await staged_rows(live, one["id"])
