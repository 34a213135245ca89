"""`tracker.verify`: stored releases re-checked against their sources and hashes.

The CLI's messages for each kind of tampering are in tests/store/test_tamper.py; here the
module itself: what it counts, which release a problem is laid at, and what re-parsing adds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import SAMPLES
from tracker import api
from tracker.store import Store
from tracker.verify import VerifyReport, verify, verify_release

FILES = [SAMPLES / f"HCPC2026_{month}_SAMPLE.txt" for month in ("JAN", "APR", "JUL")]


def _record_versions(paths: list[Path]) -> int:
    """Distinct (code, record) pairs across the files, read off the raw fixed-width lines: a
    code's lines without their sequence numbers (positions 6-10), which only order them."""
    versions: set[tuple[str, tuple[str, ...]]] = set()
    for path in paths:
        lines: dict[str, list[str]] = {}
        for line in path.read_text(encoding="latin-1").splitlines():
            if len(line) > 11 and line[10] in "3478":  # record ids of code lines
                lines.setdefault(line[0:5], []).append(line[:5] + line[10:].rstrip())
        versions.update((code, tuple(body)) for code, body in lines.items())
    return len(versions)


def _codes(path: Path) -> int:
    """Codes in a file: its first lines of a procedure (record id 3) or a modifier (7)."""
    lines = path.read_text(encoding="latin-1").splitlines()
    return sum(1 for line in lines if len(line) > 11 and line[10] in "37")


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    opened = api.open_store(sqlite_url)
    for path in FILES:
        api.ingest(opened, path)
    yield opened
    opened.close()


def _execute(store: Store, statement: str) -> None:
    engine = create_engine(store.engine.url)
    with engine.begin() as connection:
        connection.execute(text(statement))
    engine.dispose()


def test_a_sound_store_verifies_with_what_it_holds(store: Store) -> None:
    report = verify(store)
    assert report == VerifyReport(
        releases_checked=len(FILES), record_versions_checked=_record_versions(FILES)
    )
    assert report.ok


def test_the_api_keeps_its_verify() -> None:
    assert api.verify is verify and api.VerifyReport is VerifyReport


def test_a_problem_is_laid_at_the_release_it_is_in(store: Store) -> None:
    """A code slipped into July's snapshot (an INSERT, which no trigger refuses). Later
    releases may be stored as changes to earlier ones, so the last release is the one hit."""
    _execute(
        store,
        "INSERT INTO snapshot_entries (release_id, code, record_hash)"
        " SELECT (SELECT id FROM releases WHERE label = '2026-JUL'), 'Z9999', record_hash"
        " FROM snapshot_entries WHERE code = 'S0353' LIMIT 1",
    )
    by_label = {info.label: verify_release(store, info, reparse=True) for info in store.releases()}
    assert by_label["2026-JAN"] == [] and by_label["2026-APR"] == []
    july = _codes(FILES[2])
    assert by_label["2026-JUL"] == [
        f"release 2026-JUL: {july + 1} codes stored, {july} recorded",
        "release 2026-JUL: snapshot content hash does not match",
    ]
    assert verify(store).problems == by_label["2026-JUL"]


def test_only_reparsing_finds_a_repair_the_source_does_not_need(store: Store) -> None:
    """A repair recorded for July that its file does not call for: listed as a repair either
    way, a problem only when the source is parsed again."""
    _execute(
        store,
        "INSERT INTO release_anomalies (release_id, position, file, line, kind, detail)"
        " SELECT id, 0, source_name, 7, 'tab', 'a TAB read as spaces' FROM releases"
        " WHERE label = '2026-JUL'",
    )
    rehashed = verify(store, reparse=False)
    assert rehashed.ok
    assert len(rehashed.repairs) == 1 and rehashed.repairs[0].startswith("release 2026-JUL: ")
    reparsed = verify(store)
    assert reparsed.repairs == rehashed.repairs
    assert reparsed.problems == [
        "release 2026-JUL: re-parsing HCPC2026_JUL_SAMPLE.txt makes 0 repairs, 1 are recorded"
    ]
