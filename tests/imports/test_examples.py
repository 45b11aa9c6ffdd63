"""The example files import end to end, as a newcomer would import them (both databases)."""

from pathlib import Path

from tests.imports.conftest import Live, check_invariants, commit, map_as_suggested, stage, upload

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


async def import_example(live: Live, name: str, entity: str) -> dict:
    imp = await upload(live, EXAMPLES / name, entity=entity)
    imp = await stage(live, (await map_as_suggested(live, imp))["id"])
    assert imp["status"] == "staged", imp
    return await commit(live, imp["id"])


async def test_the_catalogue_examples_import_in_order(catalog: Live) -> None:
    live = catalog
    done = await import_example(live, "categories.csv", "categories")
    assert (done["status"], done["counts"]["created"]) == ("completed", 8)
    await check_invariants(live, done, 8)

    done = await import_example(live, "suppliers.csv", "suppliers")
    assert done["status"] == "completed_with_errors"
    assert (done["counts"]["created"], done["counts"]["invalid"]) == (4, 1)  # an email without @
    await check_invariants(live, done, 5)

    # Products refer to both; four rows have a problem to fix in review and one SKU is there twice.
    done = await import_example(live, "products.csv", "products")
    counts = done["counts"]
    assert (counts["created"], counts["invalid"], counts["duplicates"]) == (19, 4, 1), counts
    await check_invariants(live, done, 24)
    r = await live.client.get(live.url(f"/imports/{done['id']}/errors"), headers=live.editor)
    codes = {(e["field"], e["code"]) for e in r.json()["by_field"]}
    assert codes == {
        ("price", "min"),
        ("name", "required"),
        ("category", "reference_not_found"),
        ("launched_on", "type"),
        ("_row", "duplicate_key"),
    }
