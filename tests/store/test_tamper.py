"""Tampering from outside the tool, with the immutability triggers dropped first.

The triggers stop UPDATE and DELETE (test_immutability.py); someone with owner rights can still
drop them, and INSERT is never blocked (the tables are append-only, not read-only). Whatever is
changed that way, `tracker verify` must report it and exit 1, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import pytest
from click.testing import CliRunner
from sqlalchemy import Connection, create_engine, text

from tests.conftest import SAMPLES
from tracker import api
from tracker.cli import cli
from tracker.store.schema import SNAPSHOT_TABLES

JAN = SAMPLES / "HCPC2026_JAN_SAMPLE.txt"


def _drop_triggers(connection: Connection) -> None:
    for table in SNAPSHOT_TABLES:
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"DROP TRIGGER {table}_no_change ON {table}"))
        else:
            connection.execute(text(f"DROP TRIGGER {table}_no_update"))
            connection.execute(text(f"DROP TRIGGER {table}_no_delete"))


def _source_replaced(connection: Connection) -> None:
    altered = JAN.read_bytes().replace(b"Treatment", b"Trea+ment", 1)
    connection.execute(text("UPDATE sources SET data = :data"), {"data": zlib.compress(altered)})


def _source_corrupt(connection: Connection) -> None:
    connection.execute(text("UPDATE sources SET data = :data"), {"data": b"not zlib at all"})


def _record_body(connection: Connection) -> None:
    connection.execute(
        text(
            "UPDATE record_versions SET body = replace(body, 'Cancer', 'Kancer')"
            " WHERE code = 'S0353'"
        )
    )


def _entry_repointed(connection: Connection) -> None:
    other = connection.execute(
        text("SELECT hash FROM record_versions WHERE code <> 'S0353' ORDER BY hash LIMIT 1")
    ).scalar_one()
    connection.execute(
        text("UPDATE snapshot_entries SET record_hash = :h WHERE code = 'S0353'"), {"h": other}
    )


def _entry_deleted(connection: Connection) -> None:
    connection.execute(text("DELETE FROM snapshot_entries WHERE code = 'S0353'"))


def _entry_inserted(connection: Connection) -> None:
    """Needs no dropped trigger: an extra code slipped into a stored snapshot."""
    connection.execute(
        text(
            "INSERT INTO snapshot_entries (release_id, code, record_hash)"
            " SELECT release_id, 'Z9999', record_hash FROM snapshot_entries"
            " WHERE code = 'S0353'"
        )
    )


def _release_rewritten(connection: Connection) -> None:
    connection.execute(text("UPDATE releases SET record_count = record_count - 1"))


TAMPERING: dict[str, tuple[Callable[[Connection], None], str]] = {
    "source replaced": (_source_replaced, "source bytes of HCPC2026_JAN_SAMPLE.txt do not match"),
    "source corrupt": (_source_corrupt, "stored bytes are corrupt"),
    "record body": (_record_body, "body does not hash"),
    "entry repointed": (_entry_repointed, "snapshot content hash does not match"),
    "entry deleted": (_entry_deleted, "codes stored,"),
    "entry inserted": (_entry_inserted, "codes stored,"),
    "release rewritten": (_release_rewritten, "codes stored,"),
}


@pytest.mark.parametrize("kind", sorted(TAMPERING))
def test_verify_reports_tampering(db_url: str, kind: str) -> None:
    store = api.open_store(db_url)
    api.ingest(store, JAN)
    store.close()
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", db_url, "verify"]).exit_code == 0

    tamper, expected = TAMPERING[kind]
    engine = create_engine(db_url)
    with engine.begin() as connection:
        if kind != "entry inserted":
            _drop_triggers(connection)
        tamper(connection)
    engine.dispose()

    result = runner.invoke(cli, ["--db", db_url, "verify"])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.splitlines()
    assert lines[-1].startswith("Error: ") and lines[-1].endswith(
        "problems found in 1 releases, " + lines[-1].split(" releases, ")[1]
    )
    mismatches = [line for line in lines if line.startswith("MISMATCH ")]
    assert any(expected in line for line in mismatches), lines
