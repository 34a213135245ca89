"""Releases are stored as deltas against a parent, with checkpoints; every snapshot rebuilds
exactly, whatever the ingest order, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import SAMPLES
from tracker import api
from tracker.codesets.hcpcs.parsers import parse_source
from tracker.codesets.hcpcs.parsers.base import SourceFile
from tracker.store import writer

FILES = {name: SAMPLES / f"HCPC2026_{name}_SAMPLE.txt" for name in ("JAN", "APR", "JUL")}


def parsed_hashes(name: str) -> dict[str, str]:
    path = FILES[name]
    records = parse_source(SourceFile(path.name, path.read_bytes())).records
    return {record.code: record.content_hash() for record in records}


def stored_rows(url: str) -> dict[str, tuple[int | None, int, int, int]]:
    """label -> (parent id, depth, entry rows, removal rows)."""
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT label, parent_id, chain_depth,"
                " (SELECT count(*) FROM snapshot_entries e WHERE e.release_id = r.id),"
                " (SELECT count(*) FROM snapshot_removals m WHERE m.release_id = r.id)"
                " FROM releases r"
            )
        ).all()
    engine.dispose()
    return {
        label: (parent, depth, entries, removals)
        for label, parent, depth, entries, removals in rows
    }


@pytest.mark.parametrize("order", [("JAN", "APR", "JUL"), ("JUL", "JAN", "APR")])
def test_snapshots_rebuild_exactly_in_any_order(db_url: str, order: tuple[str, ...]) -> None:
    store = api.open_store(db_url)
    for name in order:
        api.ingest(store, FILES[name])
    for name in order:
        info = store.resolve(f"2026-{name}")
        assert store.snapshot_hashes(info) == parsed_hashes(name)
    assert api.verify(store).ok
    store.close()


def test_a_release_stores_only_its_difference(sqlite_url: str) -> None:
    store = api.open_store(sqlite_url)
    for name in ("JAN", "APR", "JUL"):
        api.ingest(store, FILES[name])
    store.close()
    rows = stored_rows(sqlite_url)
    jan, apr = parsed_hashes("JAN"), parsed_hashes("APR")
    changed = sum(1 for code, digest in apr.items() if jan.get(code) != digest)
    assert rows["2026-JAN"] == (None, 0, len(jan), 0)
    _parent, depth, entries, removals = rows["2026-APR"]
    assert (depth, entries, removals) == (1, changed, 1)  # K0089 vanished in APR
    assert entries < len(apr) / 2


def test_chains_end_in_checkpoints(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer, "MAX_CHAIN_DEPTH", 1)
    store = api.open_store(sqlite_url)
    for name in ("JAN", "APR", "JUL"):
        api.ingest(store, FILES[name])
    for name in ("JAN", "APR", "JUL"):
        assert store.snapshot_hashes(store.resolve(f"2026-{name}")) == parsed_hashes(name)
    store.close()
    rows = stored_rows(sqlite_url)
    assert [rows[f"2026-{name}"][1] for name in ("JAN", "APR", "JUL")] == [0, 1, 0]
    assert rows["2026-JUL"][0] is None and rows["2026-JUL"][2] == len(parsed_hashes("JUL"))
