"""Ingest semantics: identical again is a no-op, same label differs is refused unless re-issued,
retraction hides a release without deleting it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import SAMPLES
from tracker import api
from tracker.errors import ReleaseError, StoreError

JAN = SAMPLES / "HCPC2026_JAN_SAMPLE.txt"
APR = SAMPLES / "HCPC2026_APR_SAMPLE.txt"
JUL = SAMPLES / "HCPC2026_JUL_SAMPLE.txt"


def test_ingest_infers_label_and_effective_date(db_url: str) -> None:
    store = api.open_store(db_url)
    result = api.ingest(store, APR)
    assert result.created
    info = result.release
    assert (info.label, info.issue, info.effective_date.isoformat()) == (
        "2026-APR",
        1,
        "2026-04-01",
    )
    assert info.kind.value == "quarterly"
    assert info.source_name == APR.name
    assert info.record_count == len(store.snapshot_hashes(info))
    assert store.source_bytes(info) == APR.read_bytes()
    members = store.members(info)
    assert [m[0] for m in members] == [APR.name] and members[0][3] is True
    store.close()


def test_identical_content_again_is_a_noop(db_url: str) -> None:
    store = api.open_store(db_url)
    first = api.ingest(store, JAN)
    again = api.ingest(store, JAN)
    assert not again.created
    assert again.message == (
        f"{JAN.name}: identical content is already stored as 2026-JAN; nothing to do"
    )
    assert [r.id for r in api.releases(store)] == [first.release.id]
    store.close()


def test_same_label_different_content_needs_reissue(db_url: str, tmp_path: Path) -> None:
    store = api.open_store(db_url)
    api.ingest(store, JAN)
    other = tmp_path / "HCPC2026_JAN_SAMPLE_other.txt"  # no CMS version marker
    shutil.copy(APR, other)
    with pytest.raises(StoreError) as caught:
        api.ingest(store, other)
    message = str(caught.value)
    assert message.startswith(f"{other.name}: release 2026-JAN is already stored (issue 1")
    assert message.endswith("pass --reissue to store it as issue 2")
    assert len(api.releases(store)) == 1
    reissued = api.ingest(store, other, reissue=True)
    assert reissued.release.issue == 2
    assert api.resolve(store, "2026-JAN").issue == 2
    assert api.resolve(store, "2026-JAN#1").issue == 1
    store.close()


def test_retracted_release_leaves_default_views(db_url: str) -> None:
    store = api.open_store(db_url)
    api.ingest(store, JAN)
    api.ingest(store, APR)
    info = api.retract(store, "2026-APR", "wrong file")
    assert info.retracted and info.retraction_reason == "wrong file"
    assert [r.label for r in api.releases(store)] == ["2026-JAN"]
    assert [r.label for r in api.releases(store, include_retracted=True)] == [
        "2026-JAN",
        "2026-APR",
    ]
    with pytest.raises(ReleaseError, match="release 2026-APR is retracted"):
        api.resolve(store, "2026-APR")
    assert api.resolve(store, "2026-APR#1").retracted
    with pytest.raises(StoreError, match="already retracted"):
        api.retract(store, "2026-APR#1", "again")
    store.close()


def test_unchanged_records_are_stored_once(db_url: str) -> None:
    store = api.open_store(db_url)
    jan = api.ingest(store, JAN)
    apr = api.ingest(store, APR)
    jul = api.ingest(store, JUL)
    versions = len(store.record_version_rows())
    # Storage grows with what changes: the second and third release add only changed records.
    assert jan.new_record_versions == jan.release.record_count
    assert apr.new_record_versions < apr.release.record_count
    assert versions == jan.new_record_versions + apr.new_record_versions + jul.new_record_versions
    shared = set(store.snapshot_hashes(jan.release).values()) & set(
        store.snapshot_hashes(apr.release).values()
    )
    assert len(shared) == apr.release.record_count - apr.new_record_versions
    store.close()


def test_label_cannot_be_inferred(sqlite_url: str, tmp_path: Path) -> None:
    store = api.open_store(sqlite_url)
    unnamed = tmp_path / "codes.txt"
    shutil.copy(JAN, unnamed)
    with pytest.raises(ReleaseError) as caught:
        api.ingest(store, unnamed)
    assert str(caught.value) == (
        "codes.txt: cannot tell the release from the file name; give it with --release 2020-APR"
    )
    info = api.ingest(store, unnamed, release="2026-JAN", effective="2026-01-02").release
    assert (info.label, info.effective_date.isoformat()) == ("2026-JAN", "2026-01-02")
    store.close()


def test_verify_detects_tampering_when_triggers_are_gone(sqlite_url: str) -> None:
    from sqlalchemy import create_engine, text

    store = api.open_store(sqlite_url)
    api.ingest(store, JAN)
    assert api.verify(store).ok
    store.close()
    engine = create_engine(sqlite_url)
    with engine.begin() as connection:
        connection.execute(text("DROP TRIGGER record_versions_no_update"))
        connection.execute(
            text(
                "UPDATE record_versions SET body = replace(body, 'Cancer', 'Kancer')"
                " WHERE code = 'S0353'"
            )
        )
    engine.dispose()
    store = api.open_store(sqlite_url)
    report = api.verify(store)
    assert not report.ok
    assert any("body does not hash" in problem for problem in report.problems)
    store.close()
