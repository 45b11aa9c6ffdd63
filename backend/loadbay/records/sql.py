"""SQL for reading one field out of ``records.data``, shared by queries and index DDL.

Field keys are validated identifiers (``[a-z][a-z0-9_]*``), so they are inlined: an index on an
expression is only used when the query spells the same expression, which a bind parameter is not.
"""

import re

from loadbay.schema.types import FieldType

_IDENT = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
SORT_INDEX = "ix_rf_{}"
UNIQUE_INDEX = "uq_rf_{}"
STATISTICS = "st_rf_{}"
DYNAMIC_INDEX_PREFIXES = ("ix_rf_", "uq_rf_")


def _checked(key: str) -> str:
    if not _IDENT.match(key):
        raise ValueError(f"not a field identifier: {key!r}")
    return key


def text_expr(dialect: str, key: str) -> str:
    """The field as text (NULL when absent): for contains, empty and equality on strings."""
    key = _checked(key)
    if dialect == "postgresql":
        return f"(data ->> '{key}')"
    return f"json_extract(data, '$.{key}')"


def value_expr(dialect: str, key: str, ftype: FieldType) -> str:
    """The field as a value that sorts and compares by its type."""
    key = _checked(key)
    if dialect == "postgresql":
        if ftype in (FieldType.integer, FieldType.decimal):
            return f"((data ->> '{key}')::numeric)"
        return f"(data ->> '{key}')"
    if ftype == FieldType.decimal:
        return f"CAST(json_extract(data, '$.{key}') AS REAL)"
    return f"json_extract(data, '$.{key}')"


def create_index_ddl(
    dialect: str, entity_id: int, field_id: int, key: str, ftype: FieldType, unique: bool
) -> list[str]:
    expr = value_expr(dialect, key, ftype)
    where = f"WHERE entity_id = {int(entity_id)}"
    stmts = [f"CREATE INDEX IF NOT EXISTS {SORT_INDEX.format(int(field_id))} ON records ({expr}, id) {where}"]
    if unique:
        stmts.append(
            f"CREATE UNIQUE INDEX IF NOT EXISTS {UNIQUE_INDEX.format(int(field_id))} "
            f"ON records ({expr}) {where}"
        )
    if dialect == "postgresql":
        # Without statistics on the expression the planner guesses its selectivity (0.5 %), and
        # picks a poor plan for filters on common values. ANALYZE fills them in.
        stmts.append(
            f"CREATE STATISTICS IF NOT EXISTS {STATISTICS.format(int(field_id))} ON {expr} FROM records"
        )
    return stmts


def drop_index_ddl(dialect: str, field_id: int) -> list[str]:
    stmts = [
        f"DROP INDEX IF EXISTS {SORT_INDEX.format(int(field_id))}",
        f"DROP INDEX IF EXISTS {UNIQUE_INDEX.format(int(field_id))}",
    ]
    if dialect == "postgresql":
        stmts.append(f"DROP STATISTICS IF EXISTS {STATISTICS.format(int(field_id))}")
    return stmts


def remove_key_sql(dialect: str, key: str) -> str:
    key = _checked(key)
    if dialect == "postgresql":
        return f"data - '{key}'"
    return f"json_remove(data, '$.{key}')"
