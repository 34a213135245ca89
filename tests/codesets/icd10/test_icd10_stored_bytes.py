"""What an ICD-10 ingest stores, byte for byte, against an independent reading of the raw zips.

The store writes its hot tables through the driver's bulk path; these tests pin the result to
what the documented format says it must be, computed here without the tracker's parsers or
serializers: each order-file line sliced by CMS's columns, the record's JSON written by the
json module (sorted keys, no spaces, ASCII escapes), its sha256, and the snapshot hash over
the sorted `code<TAB>hash<LF>` lines. Every stored `record_versions` and `snapshot_entries`
row is compared, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import SAMPLES
from tracker import api
from tracker.store import Store

from .conftest import icd10_path

ORDER = re.compile(r"(^|/)icd10(cm|pcs)_order_\d{4}[a-z]*\.txt$", re.IGNORECASE)

# (record hash, code, body) by code.
Expected = dict[str, tuple[str, str, str]]


def independent_records(path: Path, code_set: str) -> Expected:
    with zipfile.ZipFile(path) as archive:
        (member,) = [name for name in archive.namelist() if ORDER.search(name)]
        lines = archive.read(member).decode("ascii").splitlines()
    expected: Expected = {}
    for line in lines:
        if not line.strip():
            continue
        code = line[6:13].rstrip()
        record = {
            "code_set": code_set,
            "code": code,
            "billable": line[14] == "1",
            "short_title": line[16:76].rstrip(),
            "long_title": line[77:].rstrip(),
        }
        body = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        expected[code] = (hashlib.sha256(body.encode("ascii")).hexdigest(), code, body)
    return expected


def independent_content_hash(expected: Expected) -> str:
    lines = "".join(f"{code}\t{expected[code][0]}\n" for code in sorted(expected))
    return hashlib.sha256(lines.encode("ascii")).hexdigest()


def stored_versions(store: Store, hashes: set[str]) -> set[tuple[object, ...]]:
    with store.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT hash, code, body, added_date, termination_date, action_code"
                " FROM record_versions"
            )
        ).all()
    return {tuple(row) for row in rows if row[0] in hashes}


def stored_entries(store: Store, release_id: int) -> set[tuple[str, str]]:
    with store.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT code, record_hash FROM snapshot_entries WHERE release_id = :id"),
            {"id": release_id},
        ).all()
    return {(row[0], row[1]) for row in rows}


def check_first_release(store: Store, path: Path, code_set: str) -> Expected:
    """Ingest `path` into an empty store of its code set and compare every stored row."""
    expected = independent_records(path, code_set)
    result = api.ingest(store, path)
    info = result.release
    assert info.code_set == code_set
    assert info.content_sha256 == independent_content_hash(expected)
    assert result.new_record_versions == len(expected) == info.record_count
    wanted = {(h, code, body, None, None, "") for h, code, body in expected.values()}
    assert stored_versions(store, {h for h, _, _ in expected.values()}) == wanted
    assert stored_entries(store, info.id) == {(code, h) for h, code, _ in expected.values()}
    return expected


def test_samples_stored_bytes(db_url: str) -> None:
    """The bundled samples (no shared files needed): a full copy, then a delta."""
    store = api.open_store(db_url)
    try:
        check_first_release(store, SAMPLES / "icd10cm_FY2019_SAMPLE.zip", "icd10cm")
        path = SAMPLES / "icd10cm_FY2020_SAMPLE.zip"
        expected = independent_records(path, "icd10cm")
        result = api.ingest(store, path)
        info = result.release
        assert info.content_sha256 == independent_content_hash(expected)
        assert 0 < result.new_record_versions < len(expected)
        assert store.snapshot_hashes(info) == {code: h for code, (h, _, _) in expected.items()}
        every = {(h, code, body, None, None, "") for h, code, body in expected.values()}
        assert stored_versions(store, {h for h, _, _ in expected.values()}) == every
    finally:
        store.close()


@pytest.mark.parametrize(
    ("name", "code_set"), [("cms_2020_dx.zip", "icd10cm"), ("cms_2020_pr.zip", "icd10pcs")]
)
def test_real_release_stored_bytes(db_url: str, name: str, code_set: str) -> None:
    store = api.open_store(db_url)
    try:
        check_first_release(store, icd10_path(name), code_set)
    finally:
        store.close()


def test_real_release_after_the_previous_one(sqlite_url: str) -> None:
    """FY2020 stored as a delta on FY2019: its rebuilt snapshot and hash are CMS's content."""
    store = api.open_store(sqlite_url)
    try:
        check_first_release(store, icd10_path("cms_2019_dx.zip"), "icd10cm")
        path = icd10_path("cms_2020_dx.zip")
        expected = independent_records(path, "icd10cm")
        info = api.ingest(store, path).release
        assert info.content_sha256 == independent_content_hash(expected)
        assert store.snapshot_hashes(info) == {code: h for code, (h, _, _) in expected.items()}
        every = {(h, code, body, None, None, "") for h, code, body in expected.values()}
        assert stored_versions(store, {h for h, _, _ in expected.values()}) == every
    finally:
        store.close()
