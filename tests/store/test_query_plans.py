"""The lookups that as-of answers and history run per call use indexes, not table scans."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from tests.conftest import SAMPLES
from tracker import api

CODE_LOOKUP = (
    "SELECT e.release_id, v.hash, v.body FROM snapshot_entries e"
    " JOIN record_versions v ON v.hash = e.record_hash"
    " WHERE e.code = 'S0353' AND e.release_id IN (1, 2, 3)"
)
REMOVAL_LOOKUP = (
    "SELECT release_id FROM snapshot_removals WHERE code = 'K0089' AND release_id IN (1, 2, 3)"
)
# Rebuilding a snapshot reads each link of its chain by release id.
LINK_ENTRIES = "SELECT code, record_hash FROM snapshot_entries WHERE release_id = 2"
LINK_REMOVALS = "SELECT code FROM snapshot_removals WHERE release_id = 2"
LOOKUPS = (CODE_LOOKUP, REMOVAL_LOOKUP, LINK_ENTRIES, LINK_REMOVALS)


def _store_samples(url: str) -> None:
    store = api.open_store(url)
    for name in ("JAN", "APR", "JUL"):
        api.ingest(store, SAMPLES / f"HCPC2026_{name}_SAMPLE.txt")
    store.close()


def test_sqlite_plans_use_indexes(sqlite_url: str) -> None:
    _store_samples(sqlite_url)
    engine = create_engine(sqlite_url)
    with engine.connect() as connection:
        for query in LOOKUPS:
            plan = " ".join(
                str(row[-1]) for row in connection.execute(text(f"EXPLAIN QUERY PLAN {query}"))
            )
            assert "USING" in plan and "INDEX" in plan, plan
            for scan in ("SCAN e ", "SCAN snapshot_entries", "SCAN snapshot_removals"):
                assert scan not in plan, plan
    engine.dispose()


def test_postgresql_plans_can_use_indexes(pg_url: str) -> None:
    _store_samples(pg_url)
    engine = create_engine(pg_url)
    with engine.connect() as connection:
        # Tiny sample tables are cheaper to scan; forbidding scans shows an index serves the
        # lookup, which is what the planner picks once tables hold real releases.
        connection.execute(text("SET enable_seqscan = off"))
        for query in LOOKUPS:
            plan = " ".join(row[0] for row in connection.execute(text(f"EXPLAIN {query}")))
            assert "Index" in plan, plan
            assert "Seq Scan on snapshot_entries" not in plan, plan
    engine.dispose()
