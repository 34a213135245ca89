"""Stored snapshots cannot be changed, even with direct SQL, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from tests.conftest import SAMPLES
from tracker import api
from tracker.store.schema import SNAPSHOT_TABLES

STATEMENTS = {
    "sources": ("UPDATE sources SET size = size + 1", "DELETE FROM sources"),
    "releases": ("UPDATE releases SET label = 'X'", "DELETE FROM releases"),
    "release_members": (
        "UPDATE release_members SET name = 'x'",
        "DELETE FROM release_members",
    ),
    "record_versions": (
        "UPDATE record_versions SET body = '{}'",
        "DELETE FROM record_versions",
    ),
    "snapshot_entries": (
        "UPDATE snapshot_entries SET code = 'XXXXX'",
        "DELETE FROM snapshot_entries",
    ),
    "snapshot_removals": (
        "UPDATE snapshot_removals SET code = 'XXXXX'",
        "DELETE FROM snapshot_removals",
    ),
    "retractions": ("UPDATE retractions SET reason = 'x'", "DELETE FROM retractions"),
    "release_anomalies": (
        "UPDATE release_anomalies SET detail = 'x'",
        "DELETE FROM release_anomalies",
    ),
    "release_attachments": (
        "UPDATE release_attachments SET note = 'x'",
        "DELETE FROM release_attachments",
    ),
    "release_events": ("UPDATE release_events SET reason = 'x'", "DELETE FROM release_events"),
}


def _append_provenance_rows(url: str) -> None:
    """A row in the provenance tables `tracker` itself does not fill here (appending is allowed),
    so the triggers have a row."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        release_id, sha = connection.execute(
            text("SELECT id, source_sha256 FROM releases ORDER BY id LIMIT 1")
        ).one()
        now = datetime.now(UTC)
        connection.execute(
            text(
                "INSERT INTO release_attachments (release_id, position, role, name,"
                " source_sha256, attached_at) VALUES (:r, 0, 'transaction_report', 'f', :s, :t)"
            ),
            {"r": release_id, "s": sha, "t": now},
        )
        # `retract` writes release_events since schema 0003; the older table keeps its rows
        # (and its triggers), so one is appended the way earlier versions did.
        connection.execute(
            text(
                "INSERT INTO retractions (release_id, reason, retracted_at)"
                " VALUES (:r, 'legacy retraction', :t)"
            ),
            {"r": release_id, "t": now},
        )
        connection.execute(
            text(
                "INSERT INTO release_events (release_id, action, reason, at)"
                " VALUES (:r, 'retract', 'test', :t)"
            ),
            {"r": release_id, "t": now},
        )
    engine.dispose()


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as connection:
        counts = {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in SNAPSHOT_TABLES
        }
    engine.dispose()
    return counts


@pytest.fixture
def stored(db_url: str, tmp_path: Path) -> str:
    store = api.open_store(db_url)
    # A stray byte before the first code: the repair is recorded in release_anomalies.
    lines = (SAMPLES / "HCPC2026_JAN_SAMPLE.txt").read_bytes().split(b"\n")
    first = next(i for i, line in enumerate(lines) if line[5:10].isdigit())
    lines[first] = b"`" + lines[first]
    debris = tmp_path / "HCPC2026_JAN_SAMPLE.txt"
    debris.write_bytes(b"\n".join(lines))
    assert api.ingest(store, debris).release.anomalies
    api.ingest(store, SAMPLES / "HCPC2026_APR_SAMPLE.txt")
    api.retract(store, "2026-APR", "test retraction")
    store.close()
    _append_provenance_rows(db_url)
    return db_url


def test_every_snapshot_table_is_covered() -> None:
    assert set(STATEMENTS) == set(SNAPSHOT_TABLES)


@pytest.mark.parametrize("table", SNAPSHOT_TABLES)
def test_update_and_delete_are_rejected(stored: str, table: str) -> None:
    before = _counts(stored)
    assert all(before[t] > 0 for t in SNAPSHOT_TABLES), before
    engine = create_engine(stored.replace("postgresql://", "postgresql+psycopg://"))
    for statement in STATEMENTS[table]:
        with engine.connect() as connection:
            with pytest.raises(DBAPIError, match="append-only"):
                connection.execute(text(statement))
            connection.rollback()
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            with pytest.raises(DBAPIError, match="append-only"):
                connection.execute(text(f"TRUNCATE {table} CASCADE"))
            connection.rollback()
    engine.dispose()
    assert _counts(stored) == before
    store = api.open_store(stored)
    assert api.verify(store).ok
    store.close()


def test_schema_revision_constant_is_alembic_head() -> None:
    from tracker.store.database import SCHEMA_REVISION, head_revision

    assert head_revision() == SCHEMA_REVISION
