"""A database created by an older schema upgrades in place and keeps every release intact."""

from __future__ import annotations

import hashlib
import zlib
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import text

from tests.conftest import SAMPLES
from tracker import api
from tracker.codesets.base import snapshot_hash
from tracker.codesets.hcpcs.parsers import parse_source
from tracker.codesets.hcpcs.parsers.base import SourceFile
from tracker.store.database import _alembic_config, create_store_engine

JAN = SAMPLES / "HCPC2026_JAN_SAMPLE.txt"
APR = SAMPLES / "HCPC2026_APR_SAMPLE.txt"


def _store_at_0001(url: str) -> None:
    """Create schema 0001 and store JAN the way 0001-era code did: full entries, no parent."""
    engine = create_store_engine(url)
    with engine.connect().execution_options(write=True) as connection, connection.begin():
        command.upgrade(_alembic_config(connection), "0001")
        data = JAN.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        records = parse_source(SourceFile(JAN.name, data)).records
        hashed = [(r, r.canonical_json(), r.content_hash()) for r in records]
        connection.execute(
            text("INSERT INTO sources VALUES (:s, :n, 'zlib', :d)"),
            {"s": digest, "n": len(data), "d": zlib.compress(data)},
        )
        release_id = connection.execute(
            text(
                "INSERT INTO releases (code_set, label, issue, effective_date, kind, source_name,"
                " source_sha256, data_member, content_sha256, record_count, parser,"
                " parser_version, ingested_at) VALUES ('hcpcs', '2026-JAN', 1, :e, 'annual', :n,"
                " :s, :n, :c, :k, 'cms-fixed-width', '1', :t) RETURNING id"
            ),
            {
                "e": datetime(2026, 1, 1).date(),
                "n": JAN.name,
                "s": digest,
                "c": snapshot_hash((r.code, h) for r, _, h in hashed),
                "k": len(hashed),
                "t": datetime.now(UTC),
            },
        ).scalar_one()
        connection.execute(
            text("INSERT INTO release_members VALUES (:r, 0, :n, :z, :s, :d)"),
            {"r": release_id, "n": JAN.name, "z": len(data), "s": digest, "d": True},
        )
        for record, body, record_hash in hashed:
            connection.execute(
                text("INSERT INTO record_versions VALUES (:h, :c, :b, :a, :t, :x)"),
                {
                    "h": record_hash,
                    "c": record.code,
                    "b": body,
                    "a": record.added_date,
                    "t": record.termination_date,
                    "x": record.action_code,
                },
            )
            connection.execute(
                text("INSERT INTO snapshot_entries VALUES (:r, :c, :h)"),
                {"r": release_id, "c": record.code, "h": record_hash},
            )
    engine.dispose()


def test_0001_database_upgrades_and_keeps_its_releases(db_url: str) -> None:
    _store_at_0001(db_url)
    store = api.open_store(db_url)  # upgrades to the newest schema
    assert store.upgrade() == ("0005", "0005")
    jan = api.resolve(store, "2026-JAN")
    assert len(store.snapshot_hashes(jan)) == jan.record_count
    apr = api.ingest(store, APR)
    assert apr.created
    assert api.verify(store).ok
    diff = api.diff(store, "2026-JAN", "2026-APR")
    assert {c.code for c in diff.changes} >= {"A0227", "J9399", "K0089", "E0159"}
    store.close()
