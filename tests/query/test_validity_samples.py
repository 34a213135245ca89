"""Validity variants the real files here do not hold, on small releases the tests write.

A code that vanishes and comes back (DA did, in CMS releases not stored here), returning with
an unchanged record, with action R, or re-added with a new added date; and `--known-at` naming
a retracted release. Expectations follow from the records written below.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracker import api
from tracker.cli import cli
from tracker.codesets.hcpcs.record import Record, RecordKind
from tracker.codesets.hcpcs.writers.fixedwidth import write_release
from tracker.errors import ReleaseError
from tracker.query import Status

JAN, APR, JUL, OCT = date(2026, 1, 1), date(2026, 4, 1), date(2026, 7, 1), date(2026, 10, 1)
OLD = date(2011, 1, 1)
R_BACK = date(2026, 5, 15)  # X9002 re-activated from this day (action R in the JUL file)
READDED = date(2026, 6, 1)  # X9003 re-added with this added date (action A in the JUL file)


def _record(code: str, **changes: object) -> Record:
    kind = RecordKind.MODIFIER if len(code) == 2 else RecordKind.PROCEDURE
    base = Record(
        code=code,
        kind=kind,
        long_description=f"Test code {code}",
        short_description=f"Test {code}",
        coverage="C",
        added_date=OLD,
        action_effective_date=OLD,
        action_code="N",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def _releases() -> dict[str, list[Record]]:
    steady = _record("X9000")
    present = [steady, _record("DA"), _record("X9002"), _record("X9003")]
    back = [
        steady,
        _record("DA"),
        _record("X9002", action_code="R", action_effective_date=R_BACK),
        _record("X9003", added_date=READDED, action_effective_date=READDED, action_code="A"),
    ]
    return {
        "JAN": present,
        "APR": [steady],  # DA, X9002 and X9003 vanish without a termination date
        "JUL": back,
        "OCT": [dataclasses.replace(r, action_code="N") for r in back],
    }


@pytest.fixture
def db(db_url: str, tmp_path: Path) -> str:
    """The four written releases ingested, on SQLite and on PostgreSQL."""
    url = db_url
    store = api.open_store(url)
    for month, records in _releases().items():
        path = tmp_path / f"HCPC2026_{month}_TEST.txt"
        write_release(records, path)
        api.ingest(store, path)
    store.close()
    return url


@pytest.mark.parametrize(
    ("code", "back_from"),
    [("DA", JUL), ("X9002", R_BACK), ("X9003", READDED)],
)
def test_vanished_code_is_removed_until_it_comes_back(db: str, code: str, back_from: date) -> None:
    store = api.open_store(db)
    try:
        assert api.code_state(store, code, APR - timedelta(days=1)).status is Status.ACTIVE
        assert api.code_state(store, code, APR).status is Status.REMOVED
        gap_end = api.code_state(store, code, back_from - timedelta(days=1))
        assert gap_end.status is Status.REMOVED
        assert gap_end.interval is not None and gap_end.interval.closed_by is not None
        assert gap_end.interval.last_seen.label == "2026-JAN"
        assert gap_end.interval.closed_by.label == "2026-APR"
        assert api.code_state(store, code, back_from).status is Status.ACTIVE
        assert api.code_state(store, code, OCT + timedelta(days=40)).status is Status.ACTIVE
        intervals = api.validity(store, code)
        assert [(i.start, i.end) for i in intervals] == [
            (OLD, APR - timedelta(days=1)),
            (back_from, None),
        ]
        # The same answers from the bulk index (codes --as-of, validate).
        for day in (APR, back_from - timedelta(days=1), back_from):
            bulk = api.codes_as_of(store, day, prefix=code, status="all")
            single = api.code_state(store, code, day)
            assert [(s.code, s.status) for s in bulk] == [(code, single.status)]
    finally:
        store.close()


def test_history_shows_the_gap(db: str) -> None:
    result = CliRunner().invoke(cli, ["--db", db, "history", "DA"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert (
        "valid 2011-01-01 to 2026-03-31  added (2026-JAN);"
        " removed: last seen in 2026-JAN, absent from 2026-APR"
    ) in lines
    assert "valid 2026-07-01 to open  returned (2026-JUL)" in lines


def test_known_at_a_retracted_release_answers_as_known_then(db: str, tmp_path: Path) -> None:
    store = api.open_store(db)
    try:
        api.retract(store, "2026-APR", "test")
        may = date(2026, 5, 1)
        # Without APR (retracted), nothing shows DA missing: active throughout.
        assert api.code_state(store, "DA", may).status is Status.ACTIVE
        # As known at APR, the file that dropped it: removed.
        for name in ("2026-APR", "2026-APR#1"):
            state = api.code_state(store, "DA", may, known_at=name)
            assert state.status is Status.REMOVED
            assert state.known_at.label == "2026-APR" and state.known_at.retracted
        index_states = api.codes_as_of(store, may, prefix="DA", status="all", known_at="2026-APR")
        assert [s.status for s in index_states] == [Status.REMOVED]
        # Naming it to read the release itself is still refused.
        with pytest.raises(ReleaseError, match="retracted"):
            api.code_view(store, "DA", release="2026-APR")
    finally:
        store.close()
    runner = CliRunner()
    shown = runner.invoke(
        cli, ["--db", db, "show", "DA", "--as-of", "2026-05-01", "--known-at", "2026-APR"]
    )
    assert shown.exit_code == 0, shown.output
    assert shown.output.splitlines()[0] == "DA on 2026-05-01: removed (as known at 2026-APR)"
    claims = tmp_path / "claims.csv"
    claims.write_text("hcpcs,dos\nDA,2026-05-01\n")
    out = tmp_path / "out.csv"
    checked = runner.invoke(
        cli, ["--db", db, "validate", str(claims), "--known-at", "2026-APR", "-o", str(out)]
    )
    assert checked.exit_code == 0, checked.output
    assert out.read_text().splitlines()[1].startswith("DA,2026-05-01,removed,")
