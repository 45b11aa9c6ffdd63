"""Mapping suggestions: file columns onto entity fields, the best entity, remembered mappings."""

import csv
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

from loadbay.imports.mapping import (
    ColumnInfo,
    ColumnMapping,
    FieldInfo,
    best_entity,
    disagreement,
    headers_signature,
    normalize_name,
    suggest_mapping,
)
from loadbay.schema.types import FieldType
from tests.helpers import ROOT

GENERATOR = ROOT / "bench" / "gen_products.py"
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def entities(*files: str) -> dict[str, list[FieldInfo]]:
    """The declared entities of example schema files, converted as the import service does."""
    out: dict[str, list[FieldInfo]] = {}
    for name in files:
        for e in yaml.safe_load((ROOT / "examples" / name).read_text())["entities"]:
            out[e["key"]] = [
                FieldInfo(
                    key=f["key"],
                    label=f.get("label", f["key"]),
                    type=FieldType(f["type"]),
                    aliases=tuple(f.get("aliases", ())),
                    required=bool(f.get("required")) or f["key"] in e["key_fields"],
                    enum_values=tuple(f["enum_values"]) if f.get("enum_values") else None,
                    is_key=f["key"] in e["key_fields"],
                )
                for f in e["fields"]
            ]
    return out


CATALOG = entities("catalog.yaml")
ALL = entities("catalog.yaml", "hardware.yaml")
PRODUCTS = CATALOG["products"]


def generated(tmp_path: Path, rows: int = 50) -> list[ColumnInfo]:
    out = tmp_path / "products.csv"
    args = [sys.executable, str(GENERATOR), "--rows", str(rows), "--out", str(out)]
    subprocess.run(args, check=True, capture_output=True)
    with out.open(newline="", encoding="utf-8") as f:
        header, *data = list(csv.reader(f))
    return [ColumnInfo(h, [row[i] for row in data]) for i, h in enumerate(header)]


def by_column(result: list[ColumnMapping]) -> dict[str, ColumnMapping]:
    return {m.column: m for m in result}


def renamed_columns(tmp_path: Path) -> list[ColumnInfo]:
    base = {c.name: list(c.samples) for c in generated(tmp_path, 60)}
    n = len(base["name"])
    return [
        ColumnInfo("Item Name", base["name"]),
        ColumnInfo("Product SKU", base["sku"]),
        ColumnInfo("Qty", [str(i * 7 % 120) for i in range(n)]),
        ColumnInfo("Desc", base["description"]),
        ColumnInfo("Cat.", [("kitchen", "garden", "office-supplies")[i % 3] for i in range(n)]),
        ColumnInfo("Pcs", [str(i) for i in range(n)]),
        ColumnInfo("Unit Cost", [f"{i * 1.25:.2f}" for i in range(n)]),
        ColumnInfo("Colour", [("red", "green", "blue", "black")[i % 4] for i in range(n)]),
        ColumnInfo("Weight (kg)", [f"{i / 4:.2f}".replace(".", ",") for i in range(n)]),
        ColumnInfo("Barcode", [str(4_000_000_000_000 + i * 7919) for i in range(n)]),
        ColumnInfo("Supplier Email", [f"orders{i}@supplier.example.com" for i in range(n)]),
        ColumnInfo("Manual", [f"https://example.com/manuals/{i}.pdf" for i in range(n)]),
        ColumnInfo("Added", [f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d}" for i in range(n)]),
    ]


CPU_SHEET = {
    "CPU": ["Ryzen 7 7800X3D", "Core i9-14900K", "Ryzen 5 7600", "Core i5-13400"],
    "Brand": ["AMD", "Intel", "AMD", "Intel"],
    "Cores": ["8", "24", "6", "10"],
    "Threads": ["16", "32", "12", "16"],
    "Base GHz": ["4.2", "3.2", "3.8", "2.5"],
    "Boost GHz": ["5.0", "6.0", "5.1", "4.6"],
    "TDP (W)": ["120", "125", "65", "65"],
    "Socket": ["AM5", "LGA1700", "AM5", "LGA1700"],
    "Released": ["2023-04-06", "2023-10-17", "2023-01-10", "2023-01-04"],
}


def cpu_columns() -> list[ColumnInfo]:
    return [ColumnInfo(k, v) for k, v in CPU_SHEET.items()]


# --- names ---------------------------------------------------------------------------------------


def test_names_are_normalised() -> None:
    assert normalize_name("  Product_Name ") == "product name"
    assert normalize_name("product-name") == normalize_name("Product.Name") == "product name"
    assert normalize_name("productName") == "product name"
    assert normalize_name("Crème  Brûlée") == "creme brulee"
    assert normalize_name("Base clock (GHz)") == normalize_name("base_clock_ghz") == "base clock ghz"
    assert normalize_name("Part #") == "part number"
    assert normalize_name("E-Mail") == normalize_name("e_mail") == "e mail"


# --- buckets -------------------------------------------------------------------------------------


def test_the_generated_product_headers_all_map(tmp_path: Path) -> None:
    result = suggest_mapping(generated(tmp_path), PRODUCTS, entity_key="products")
    assert [(m.column, m.bucket, m.field, m.confidence) for m in result] == [
        ("name", "mapped", "name", 1.0),
        ("sku", "mapped", "sku", 1.0),
        ("description", "mapped", "description", 1.0),
    ]
    assert result[0].reason == "matches the field label 'Name'"
    assert result[2].proposed_field is None


def test_headers_differing_in_case_and_separators_map_exactly() -> None:
    cols = [ColumnInfo(n, []) for n in ("PRODUCT-NAME", "Launched On", "part number", "E-Mail")]
    result = by_column(suggest_mapping(cols, [*PRODUCTS, CATALOG["suppliers"][2]]))
    assert {c: (m.bucket, m.field) for c, m in result.items()} == {
        "PRODUCT-NAME": ("mapped", "name"),
        "Launched On": ("mapped", "launched_on"),
        "part number": ("mapped", "sku"),
        "E-Mail": ("mapped", "email"),
    }
    assert result["PRODUCT-NAME"].reason == "matches the alias 'product_name' of 'Name'"


def test_renamed_headers_are_suggested_with_sensible_confidence(tmp_path: Path) -> None:
    result = by_column(suggest_mapping(renamed_columns(tmp_path), PRODUCTS, entity_key="products"))
    suggested = {c: (m.field, m.confidence) for c, m in result.items() if m.bucket == "suggested"}
    assert set(suggested) == {"Item Name", "Product SKU", "Desc", "Cat.", "Unit Cost"}
    assert suggested["Item Name"][0] == "name"
    assert suggested["Product SKU"][0] == "sku"
    assert suggested["Desc"][0] == "description"
    assert suggested["Cat."][0] == "category"
    assert suggested["Unit Cost"][0] == "price"
    for column, (_, confidence) in suggested.items():
        assert 0.7 <= confidence < 1.0, column
    assert "'Cat.' means the same as the field label 'Category'" in result["Cat."].reason
    assert "values look like references" in result["Cat."].reason
    # "qty" is an alias of stock in the catalogue, so it maps outright, and "Pcs" (pieces, a
    # synonym of quantity) finds the field taken: each field takes one column.
    assert (result["Qty"].bucket, result["Qty"].field) == ("mapped", "stock")
    assert (result["Pcs"].bucket, result["Pcs"].field) == ("new", None)
    assert result["Pcs"].reason == "'Stock' already takes column 'Qty'; a new integer field"


def test_a_synonym_of_an_alias_is_suggested() -> None:
    result = suggest_mapping([ColumnInfo("Pcs", ["3", "0", "12"])], PRODUCTS)[0]
    assert (result.bucket, result.field) == ("suggested", "stock")
    assert result.reason == (
        "'Pcs' means the same as the alias 'quantity' of 'Stock'; values look like whole numbers"
    )


def test_unknown_columns_propose_new_fields_of_the_inferred_type(tmp_path: Path) -> None:
    result = by_column(suggest_mapping(renamed_columns(tmp_path), PRODUCTS, entity_key="products"))
    proposed = {c: m.proposed_field for c, m in result.items() if m.bucket == "new"}
    assert proposed == {
        "Colour": {
            "key": "colour",
            "label": "Colour",
            "type": "enum",
            "enum_values": ["black", "blue", "green", "red"],
        },
        "Weight (kg)": {"key": "weight_kg", "label": "Weight (kg)", "type": "decimal"},
        "Barcode": {"key": "barcode", "label": "Barcode", "type": "integer"},
        "Supplier Email": {"key": "supplier_email", "label": "Supplier Email", "type": "email"},
        "Manual": {"key": "manual", "label": "Manual", "type": "url"},
        "Added": {"key": "added", "label": "Added", "type": "date"},
        "Pcs": {"key": "pcs", "label": "Pcs", "type": "integer"},
    }
    for column in proposed.keys() - {"Pcs"}:
        assert result[column].field is None
        assert result[column].reason.startswith("no field matches"), result[column].reason
    assert result["Colour"].confidence == 1.0, "the type of 60 clean values is certain"


def test_new_field_keys_are_valid_and_unique() -> None:
    names = ["Price", "price ", "2024 Sales", "Größe", "価格", "価格 ", "x" * 80, "x" * 80 + "!"]
    result = suggest_mapping([ColumnInfo(n, ["1"]) for n in names], PRODUCTS)
    keys = [m.proposed_field["key"] for m in result if m.proposed_field]
    assert result[0].bucket == "mapped"
    assert keys[:5] == ["price_2", "field_2024_sales", "grosse", "field", "field_2"]
    assert all(KEY_RE.match(k) for k in keys), keys
    assert len(set(keys)) == len(keys)
    assert not set(keys) & {f.key for f in PRODUCTS}
    assert result[1].reason == "'Price' already takes column 'Price'; a new integer field"


def test_values_weigh_in_on_suggestions() -> None:
    counts = ColumnInfo("Stock level", ["3", "14", "0", "7"])
    words = ColumnInfo("Stock level", ["plenty", "few", "none", "some"])
    assert suggest_mapping([counts], PRODUCTS)[0].field == "stock"
    misfit = suggest_mapping([words], PRODUCTS)[0]
    assert misfit.bucket == "new"
    # An exact name still maps, but says that the values look wrong.
    price = suggest_mapping([ColumnInfo("Price", ["cheap", "dear", "free"])], PRODUCTS)[0]
    assert (price.bucket, price.field) == ("mapped", "price")
    assert price.reason == "matches the field label 'Price', but values look like short text, not numbers"


def test_enum_choices_in_the_values_point_at_the_field() -> None:
    cols = [ColumnInfo("Chip designer", ["AMD", "intel", "Apple", "AMD"])]
    result = suggest_mapping(cols, ALL["cpus"], entity_key="cpus")[0]
    assert (result.bucket, result.field) == ("suggested", "vendor")
    assert result.reason == "3 of 3 distinct values are choices of 'Vendor'"


def test_a_header_naming_another_record_is_not_taken_for_a_lookalike() -> None:
    cols = [ColumnInfo("Country Code", ["DE", "FR"]), ColumnInfo("Supplier Email", ["a@example.com"])]
    result = by_column(suggest_mapping(cols, [*ALL["listings"], CATALOG["products"][5]]))
    assert result["Country Code"].bucket == "new", "a country's code is not the listing id"
    assert result["Supplier Email"].bucket == "new", "an email is not the supplier reference"
    # Words after the identifier, or describing it, only pick a variant of it.
    for header in ("Name EN", "Full name"):
        assert suggest_mapping([ColumnInfo(header, ["Kettle"])], PRODUCTS)[0].field == "name"


def test_each_field_takes_one_column_best_first() -> None:
    for order in (["Name EN", "Item Name"], ["Item Name", "Name EN"]):
        result = by_column(suggest_mapping([ColumnInfo(n, ["Kettle", "Mug"]) for n in order], PRODUCTS))
        assert result["Item Name"].field == "name"
        assert (
            result["Item Name"].confidence
            > suggest_mapping([ColumnInfo("Name EN", [])], PRODUCTS)[0].confidence
        )
        assert result["Name EN"].bucket == "new"
        assert result["Name EN"].reason == "'Name' already takes column 'Item Name'; a new string field"
    # An exact label beats another column's exact alias, whatever their order.
    result = by_column(suggest_mapping([ColumnInfo("Product Name", []), ColumnInfo("Name", [])], PRODUCTS))
    assert (result["Name"].bucket, result["Product Name"].bucket) == ("mapped", "new")


def test_remembered_mappings_come_first() -> None:
    cols = [
        ColumnInfo("Artikel", ["A-1", "A-2"]),
        ColumnInfo("Title", ["Kettle", "Mug"]),
        ColumnInfo("internal  NOTE", ["x", "y"]),
        ColumnInfo("Old field", ["1", "2"]),
        ColumnInfo("Name", ["Kettle", "Mug"]),
    ]
    remembered: dict[str, str | None] = {
        "Artikel": "sku",
        "Title": "description",
        "Internal note": None,
        "Old field": "deleted_since",
    }
    result = by_column(suggest_mapping(cols, PRODUCTS, remembered, entity_key="products"))
    assert (result["Artikel"].bucket, result["Artikel"].field) == ("mapped", "sku")
    assert result["Artikel"].reason == "remembered from an earlier import of products"
    assert result["Title"].field == "description", "what the user chose beats the alias"
    assert (result["internal  NOTE"].bucket, result["internal  NOTE"].field) == ("ignored", None)
    assert result["internal  NOTE"].reason == "ignored in an earlier import of products"
    assert result["Old field"].bucket == "new", "a field deleted since is matched afresh"
    assert (result["Name"].bucket, result["Name"].field) == ("mapped", "name")
    assert [m.column for m in result.values()] == [c.name for c in cols]


def test_only_remembered_columns_are_ignored(tmp_path: Path) -> None:
    for cols in (generated(tmp_path), renamed_columns(tmp_path), cpu_columns()):
        for fields in ALL.values():
            result = suggest_mapping(cols, fields)
            assert len(result) == len(cols)
            assert all(m.bucket != "ignored" for m in result)
            used = [m.field for m in result if m.field is not None]
            assert len(used) == len(set(used)), "a field takes one column"
            for m in result:
                assert (m.proposed_field is not None) == (m.bucket == "new")
                assert 0.0 <= m.confidence <= 1.0


def test_no_columns_no_fields() -> None:
    assert suggest_mapping([], PRODUCTS) == []
    result = suggest_mapping([ColumnInfo("a", ["1"])], [])
    assert result[0].bucket == "new"
    assert result[0].proposed_field == {"key": "a", "label": "a", "type": "integer"}


def test_precomputed_inferred_types_are_used() -> None:
    from loadbay.imports.infer import infer_type

    col = ColumnInfo("Weight", [], inferred=infer_type(["1,5", "2,25"]))
    assert suggest_mapping([col], PRODUCTS)[0].proposed_field == {
        "key": "weight",
        "label": "Weight",
        "type": "decimal",
    }


# --- entities ------------------------------------------------------------------------------------


def test_best_entity_for_the_product_file(tmp_path: Path) -> None:
    ranking = best_entity(generated(tmp_path), ALL)
    assert ranking[0][0] == "products"
    assert ranking[0][1] == 1.0
    assert ranking[0][2] == "3 of 3 columns fit (3 exactly); key field 'sku' present"
    assert ranking[1][1] <= 0.5
    assert ranking == sorted(ranking, key=lambda r: (-r[1], r[0]))
    assert {r[0] for r in ranking} == set(ALL)
    assert disagreement("products", ranking) is None


def test_best_entity_for_renamed_product_headers(tmp_path: Path) -> None:
    ranking = best_entity(renamed_columns(tmp_path), ALL)
    assert ranking[0][0] == "products"
    assert ranking[0][1] - ranking[1][1] >= 0.2


def test_best_entity_for_a_cpu_sheet_and_a_warning_for_the_wrong_one() -> None:
    ranking = best_entity(cpu_columns(), ALL)
    assert ranking[0][0] == "cpus"
    assert ranking[0][1] > 0.9
    assert "key field 'model' present" in ranking[0][2]
    gpus = next(r for r in ranking if r[0] == "gpus")
    assert "missing key field 'model'" in gpus[2]
    warning = disagreement("gpus", ranking)
    assert warning is not None
    assert warning.startswith("The columns fit 'cpus' better than 'gpus'")
    assert disagreement("cpus", ranking) is None
    result = by_column(suggest_mapping(cpu_columns(), ALL["cpus"], entity_key="cpus"))
    assert all(m.bucket in ("mapped", "suggested") for m in result.values())
    assert (result["Boost GHz"].bucket, result["Boost GHz"].field) == ("suggested", "boost_clock_ghz")


def test_disagreement_needs_a_clear_margin() -> None:
    ranking = [("a", 0.8, "x"), ("b", 0.6, "y"), ("c", 0.5, "z")]
    assert disagreement("b", ranking) is None
    assert disagreement("c", ranking) is not None
    assert disagreement("unknown", ranking) is not None, "an entity that fits nothing scores 0"
    assert disagreement("a", []) is None


def test_entities_without_fields_score_nothing() -> None:
    ranking = best_entity(cpu_columns(), {"empty": [], "cpus": ALL["cpus"]})
    assert ranking == [ranking[0], ("empty", 0.0, "0 of 9 columns fit (0 exactly)")]


# --- headers signature ---------------------------------------------------------------------------


def test_headers_signature_is_stable_ordered_and_normalised() -> None:
    sig = headers_signature(["name", "sku", "description"])
    expected = json.dumps(["name", "sku", "description"]).encode()
    assert sig == hashlib.sha256(expected).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", sig)
    assert headers_signature(["Name ", "SKU", "Description"]) == sig
    assert headers_signature(["sku", "name", "description"]) != sig
    assert headers_signature(["name", "sku"]) != sig
    assert headers_signature(["a b", "c"]) != headers_signature(["a", "b c"])
