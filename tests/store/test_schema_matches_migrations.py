"""The ORM schema (`tracker/store/schema.py`) and the Alembic migrations describe one database.

A database is created by running every migration, then compared with the ORM metadata by
Alembic's own autogenerate comparison (types included). Any difference fails, except the two
SQLite cannot have, each named with its reason; on PostgreSQL there is none.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import String, text

from tracker.codesets import code_sets
from tracker.store.database import create_store_engine, upgrade
from tracker.store.schema import CODE_WIDTH, LABEL_WIDTH, metadata

CODE_TABLES = ("record_versions", "snapshot_entries", "snapshot_removals")


def _differences(url: str) -> list[Any]:
    engine = create_store_engine(url)
    try:
        upgrade(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def _flatten(differences: list[Any]) -> list[Any]:
    # Column modifications come grouped in a list per column.
    flat: list[Any] = []
    for item in differences:
        flat.extend(item if isinstance(item, list) else [item])
    return flat


def _sqlite_only(difference: Any) -> bool:
    """Differences SQLite cannot avoid: it does not enforce a VARCHAR's length, so migrations
    0004 and 0005 leave its code columns declared as 5 wide and its label column as 16
    (rebuilding an append-only table would drop its triggers); and it cannot add a foreign key
    to an existing table (0002, 0003)."""
    kind = difference[0]
    if kind == "modify_type":
        _, _, table, column, _, old, new = difference
        if (table, column) == ("releases", "label"):
            return (
                isinstance(old, String)
                and old.length == 16
                and isinstance(new, String)
                and new.length == LABEL_WIDTH
            )
        return (
            table in CODE_TABLES
            and column == "code"
            and isinstance(old, String)
            and old.length == 5
            and isinstance(new, String)
            and new.length == CODE_WIDTH
        )
    if kind == "add_fk":
        constraint = difference[1]
        columns = [column.name for column in constraint.columns]
        return constraint.table.name == "releases" and columns in (
            ["parent_id"],
            ["base_release_id"],
        )
    return False


def test_sqlite_database_from_migrations_matches_the_schema(sqlite_url: str) -> None:
    differences = _flatten(_differences(sqlite_url))
    unexpected = [d for d in differences if not _sqlite_only(d)]
    assert unexpected == []
    # The allowance is exact: all six known differences, not a blanket pass.
    assert len(differences) == 6


def test_postgresql_database_from_migrations_matches_the_schema(pg_url: str) -> None:
    assert _flatten(_differences(pg_url)) == []


def test_a_seven_character_code_fits_after_the_migrations(db_url: str) -> None:
    # An ICD-10-PCS code (7 characters) in the columns HCPCS sized at 5.
    engine = create_store_engine(db_url)
    try:
        upgrade(engine)
        with engine.connect().execution_options(write=True) as connection, connection.begin():
            connection.execute(
                text(
                    "INSERT INTO record_versions (hash, code, body, action_code)"
                    " VALUES ('h', '0016070', '{}', '')"
                )
            )
            stored = connection.execute(text("SELECT code FROM record_versions")).scalar_one()
        assert stored == "0016070"
    finally:
        engine.dispose()


def test_code_columns_hold_the_codes_of_every_code_set() -> None:
    assert all(code_set.code_width <= CODE_WIDTH for code_set in code_sets())
    for table in CODE_TABLES:
        column_type = metadata.tables[table].c.code.type
        assert isinstance(column_type, String) and column_type.length == CODE_WIDTH
