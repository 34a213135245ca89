"""Snapshots read back from the store equal the files they were stored from, however they are
loaded: cold or from a kept parent, in any order, with a small or no cache, on SQLite and
PostgreSQL; the action letters read on demand equal the parsed records'; and a failing read
still reaches the user as one line.

Expected values come from the files themselves: each release parsed in memory
(`Snapshot.from_records`, never through the store) and, for the real ICD-10-CM files, the codes
and billable flags sliced from the order file by CMS's documented columns.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from tests.conftest import SAMPLES, fresh_pg_database, shared_path
from tracker import api
from tracker.codesets import get_code_set
from tracker.codesets.hcpcs.parsers import parse_source
from tracker.codesets.hcpcs.parsers.base import SourceFile
from tracker.codesets.icd10.archive import read_archive
from tracker.codesets.icd10.orderfile import parse_order_file
from tracker.errors import StoreError
from tracker.release import Snapshot, adhoc_info
from tracker.store import Store, chains, writer

HCPCS = {name: SAMPLES / f"HCPC2026_{name}_SAMPLE.txt" for name in ("JAN", "APR", "JUL")}


def hcpcs_parsed(name: str) -> Snapshot:
    path = HCPCS[name]
    records = parse_source(SourceFile(path.name, path.read_bytes())).records
    return Snapshot.from_records(adhoc_info(f"2026-{name}"), records)


def hcpcs_actions(name: str) -> dict[str, str]:
    path = HCPCS[name]
    records = parse_source(SourceFile(path.name, path.read_bytes())).records
    columns = get_code_set("hcpcs").stored_columns
    return {record.code: columns(record).action_code for record in records}


def _stored_hcpcs(url: str, depth: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer, "MAX_CHAIN_DEPTH", depth)
    store = api.open_store(url)
    for name in ("JAN", "APR", "JUL"):
        api.ingest(store, HCPCS[name])
    store.close()


LOAD_ORDERS = [("JAN", "APR", "JUL"), ("JUL", "APR", "JAN"), ("APR", "JUL"), ("JUL",)]


@pytest.mark.parametrize("order", LOAD_ORDERS)
@pytest.mark.parametrize("cache_size", [0, 1, 6])
def test_hcpcs_snapshots_load_exactly_in_any_order(
    db_url: str, monkeypatch: pytest.MonkeyPatch, order: tuple[str, ...], cache_size: int
) -> None:
    _stored_hcpcs(db_url, writer.MAX_CHAIN_DEPTH, monkeypatch)
    store = Store.open(db_url)
    store._snapshots.size = cache_size
    for name in order:
        snapshot = store.snapshot(store.resolve(f"2026-{name}"))
        assert dict(snapshot.hashes) == dict(hcpcs_parsed(name).hashes), name
        assert dict(snapshot.actions or {}) == hcpcs_actions(name), name
    # Loading again (from the cache where kept) changes nothing, and the parents kept were not
    # changed by folding their children's deltas into them (APR removes a code JAN carries).
    for name in ("JAN", "APR", "JUL"):
        snapshot = store.snapshot(store.resolve(f"2026-{name}"))
        assert dict(snapshot.hashes) == dict(hcpcs_parsed(name).hashes), name
        assert store.snapshot_hashes(snapshot.info) == dict(snapshot.hashes)
    store.close()


def test_a_checkpoint_in_the_chain_loads_exactly(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one delta per checkpoint, JUL is a checkpoint again: nothing of JAN or APR leaks."""
    _stored_hcpcs(sqlite_url, 1, monkeypatch)
    store = Store.open(sqlite_url)
    for name in ("JAN", "APR", "JUL"):
        snapshot = store.snapshot(store.resolve(f"2026-{name}"))
        assert dict(snapshot.hashes) == dict(hcpcs_parsed(name).hashes), name
    store.close()


def test_every_entry_and_body_of_all_releases(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """`all_entries` (as-of answers, validation): each release's entries are its parsed
    snapshot, and each body is the canonical JSON its hash names."""
    _stored_hcpcs(db_url, writer.MAX_CHAIN_DEPTH, monkeypatch)
    store = Store.open(db_url)
    infos = store.releases()
    entries, bodies = store.all_entries(infos)
    for info in infos:
        stored = {code: digest for release_id, code, digest in entries if release_id == info.id}
        assert stored == dict(hcpcs_parsed(info.label.split("-")[1]).hashes)
    assert set(bodies) == {digest for _, _, digest in entries}
    for digest, body in bodies.items():
        assert hashlib.sha256(body.encode("utf-8")).hexdigest() == digest
    store.close()


def test_a_retracted_release_keeps_its_snapshot(sqlite_url: str) -> None:
    store = api.open_store(sqlite_url)
    for name in ("JAN", "APR"):
        api.ingest(store, HCPCS[name])
    before = dict(store.snapshot(store.resolve("2026-APR")).hashes)
    api.retract(store, "2026-APR", "test")
    (info,) = [i for i in store.all_releases() if i.label == "2026-APR"]
    snapshot = store.snapshot(info)
    assert snapshot.info.retracted
    assert dict(snapshot.hashes) == before == dict(hcpcs_parsed("APR").hashes)
    store.close()


def test_a_failing_read_is_an_sqlalchemy_error(sqlite_url: str) -> None:
    """Rows read off the driver's cursor fail as SQLAlchemy's own statements do, so the store
    turns them into its one-line error."""
    store = api.open_store(sqlite_url)
    with store.engine.connect() as connection, pytest.raises(DBAPIError) as caught:
        chains.fetch_rows(connection, "SELECT code FROM no_such_table WHERE code = ?", ("A",))
    assert "no_such_table" in str(caught.value.orig)
    store.close()


def test_a_snapshot_of_a_broken_store_is_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = api.open_store(url)
    info = api.ingest(store, HCPCS["JAN"]).release
    store.close()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE snapshot_removals RENAME TO gone"))
        connection.execute(text("ALTER TABLE snapshot_entries RENAME TO gone_too"))
    engine.dispose()
    store = Store.open(url, migrate=False)
    with pytest.raises(StoreError) as caught:
        store.snapshot(info)
    assert str(caught.value).startswith(f"{url}: database error (")
    assert "\n" not in str(caught.value)
    store.close()


# --- Real ICD-10-CM releases: ~95k codes each, FY2020 stored as a delta of FY2019 --------------

CM = ("cms_2019_dx.zip", "cms_2020_dx.zip")


def _order_member(archive: zipfile.ZipFile) -> str:
    names = [
        name
        for name in archive.namelist()
        if name.lower().endswith(".txt")
        and "order" in name.rsplit("/", 1)[-1].lower()
        and "addenda" not in name.lower()
    ]
    assert len(names) == 1, names
    return names[0]


def raw_flags(path: Path) -> dict[str, str]:
    """Code -> billable flag, sliced from the order file (code at 7-13, flag at 15)."""
    with zipfile.ZipFile(path) as archive:
        lines = archive.read(_order_member(archive)).decode("ascii").splitlines()
    return {line[6:13].rstrip(): line[14] for line in lines if line.strip()}


def parsed_snapshot(path: Path) -> Snapshot:
    archive = read_archive(path)
    order = parse_order_file(archive.order_name, archive.order_data)
    return Snapshot.from_records(adhoc_info("FY2019", code_set="icd10cm"), order.records.values())


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def cm_store_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    paths = [shared_path("icd10", name) for name in CM]

    def ingest(url: str) -> None:
        store = api.open_store(url)
        for path in paths:
            api.ingest(store, path)
        store.close()

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('cm') / 'tracker.db'}"
        ingest(url)
        yield url
    else:
        with fresh_pg_database() as url:
            ingest(url)
            yield url


@pytest.mark.parametrize("order", [("FY2019", "FY2020"), ("FY2020", "FY2019"), ("FY2020",)])
def test_real_cm_snapshots_equal_their_order_files(
    cm_store_url: str, order: tuple[str, ...]
) -> None:
    files = dict(zip(("FY2019", "FY2020"), CM, strict=True))
    store = Store.open(cm_store_url, migrate=False)
    infos = {label: store.resolve(label, "icd10cm") for label in ("FY2019", "FY2020")}
    assert infos["FY2020"].record_count > 90_000
    with store.engine.connect() as connection:
        depth = connection.execute(
            text("SELECT chain_depth FROM releases WHERE id = :id"), {"id": infos["FY2020"].id}
        ).scalar_one()
    assert depth == 1  # the delta chain is what is being checked
    for label in order:
        path = shared_path("icd10", files[label])
        snapshot = store.snapshot(infos[label])
        expected = parsed_snapshot(path)
        assert dict(snapshot.hashes) == dict(expected.hashes), label
        flags = raw_flags(path)
        assert set(snapshot.hashes) == set(flags), label
        assert dict(snapshot.actions or {}) == dict.fromkeys(flags, ""), label
        billable = {code for code, flag in flags.items() if flag == "1"}
        sample = sorted(snapshot.hashes)[::997]
        records = snapshot.records(sample)
        assert {code for code in sample if records[code].to_dict()["billable"]} == {
            code for code in sample if code in billable
        }
    assert store.snapshot_hashes(infos["FY2020"]) == dict(
        parsed_snapshot(shared_path("icd10", CM[1])).hashes
    )
    store.close()
