"""Replacement chains on small releases the tests write: multi-hop, branch, cycle, dead end.

Each release is written as CMS fixed-width text (`tracker.codesets.hcpcs.writers.fixedwidth`)
and ingested; the expected chains follow from the records written below, not from the
tracker's output.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from pathlib import Path

import pytest

from tracker import api
from tracker.codesets.hcpcs.record import Record, RecordKind
from tracker.codesets.hcpcs.writers.fixedwidth import write_release
from tracker.query import Status
from tracker.replacements import HopEnd, replacement_chain
from tracker.store import Store

OLD = date(2011, 1, 1)
JAN, APR, JUL = date(2026, 1, 1), date(2026, 4, 1), date(2026, 7, 1)
MARCH_END, JUNE_END = APR - timedelta(days=1), JUL - timedelta(days=1)


def _record(code: str, **changes: object) -> Record:
    base = Record(
        code=code,
        kind=RecordKind.PROCEDURE,
        long_description=f"Test code {code}",
        short_description=f"Test {code}",
        coverage="C",
        added_date=OLD,
        action_effective_date=OLD,
        action_code="N",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def _ended(code: str, *xrefs: str, on: date = MARCH_END) -> Record:
    return _record(
        code, xrefs=xrefs, termination_date=on, action_effective_date=on, action_code="D"
    )


# Every code, as the APR file has it (JAN has them all active, JUL drops H1002 unterminated).
APR_RECORDS = [
    # Multi-hop: A1001 → A1002 → A1003 (active).
    _ended("A1001", "A1002"),
    _ended("A1002", "A1003"),
    _record("A1003"),
    # Branch: B1001 → B1002 (active) and B1001 → B1003 → B1004 (active).
    _ended("B1001", "B1002", "B1003"),
    _record("B1002"),
    _ended("B1003", "B1004"),
    _record("B1004"),
    # Cycle: C1001 → C1002 → C1001.
    _ended("C1001", "C1002"),
    _ended("C1002", "C1001"),
    # Dead end: D1001 → D1002, which ended with no replacement.
    _ended("D1001", "D1002"),
    _ended("D1002"),
    # A code naming itself.
    _ended("E1001", "E1001"),
    # A replacement no release holds (as a CPT code would be).
    _ended("F1001", "99999"),
    # The date decides: G1002 stays valid until the end of June.
    _ended("G1001", "G1002"),
    _ended("G1002", "G1003", on=JUNE_END),
    _record("G1003"),
    # H1002 is purged by JUL without a termination or replacement.
    _ended("H1001", "H1002"),
    _record("H1002"),
    # Still valid: no chain at all.
    _record("K1001"),
]


def _releases() -> dict[str, list[Record]]:
    jan = [_record(r.code) for r in APR_RECORDS]
    jul = [dataclasses.replace(r, action_code="N") for r in APR_RECORDS if r.code != "H1002"]
    return {"JAN": jan, "APR": APR_RECORDS, "JUL": jul}


def _ingest(url: str, folder: Path) -> Store:
    store = api.open_store(url)
    for month, records in _releases().items():
        path = folder / f"HCPC2026_{month}_TEST.txt"
        write_release(records, path)
        api.ingest(store, path)
    return store


@pytest.fixture
def store(sqlite_url: str, tmp_path: Path) -> Store:
    opened = _ingest(sqlite_url, tmp_path)
    yield opened  # type: ignore[misc]
    opened.close()


def _paths(store: Store, code: str, on: date, known_at: str | None = None) -> list[list[str]]:
    chain = replacement_chain(store, code, on, known_at)
    return [[hop.code for hop in path] for path in chain.paths()]


def test_multi_hop_chain_ends_at_the_valid_code(store: Store) -> None:
    chain = replacement_chain(store, "A1001", JUL)
    assert [[hop.code for hop in path] for path in chain.paths()] == [["A1001", "A1002", "A1003"]]
    start, middle, last = chain.paths()[0]
    assert (start.status, start.end, start.termination_date) == (
        Status.TERMINATED,
        HopEnd.REPLACED,
        MARCH_END,
    )
    assert (middle.status, middle.end) == (Status.TERMINATED, HopEnd.REPLACED)
    assert (last.status, last.end) == (Status.ACTIVE, HopEnd.VALID)
    assert chain.valid_ends == ("A1003",)
    assert chain.cycles == () and chain.dead_ends == ()
    assert chain.text() == "replaced by A1002 → A1003 (active)"


def test_several_replacements_branch(store: Store) -> None:
    chain = replacement_chain(store, "B1001", JUL)
    assert [[hop.code for hop in path] for path in chain.paths()] == [
        ["B1001", "B1002"],
        ["B1001", "B1003", "B1004"],
    ]
    assert chain.valid_ends == ("B1002", "B1004")
    assert chain.text() == "replaced by B1002 (active); B1003 → B1004 (active)"


def test_cycle_is_reported_not_followed(store: Store) -> None:
    chain = replacement_chain(store, "C1001", JUL)
    assert chain.cycles == (("C1001", "C1002", "C1001"),)
    assert chain.valid_ends == ()
    assert chain.paths()[0][-1].end is HopEnd.CYCLE
    assert "cycle" in chain.text() and chain.text().startswith("replaced by C1002 → C1001 (")


def test_dead_end_is_reported(store: Store) -> None:
    chain = replacement_chain(store, "D1001", JUL)
    assert _paths(store, "D1001", JUL) == [["D1001", "D1002"]]
    assert chain.dead_ends == ("D1002",)
    assert chain.valid_ends == ()
    assert chain.text() == "replaced by D1002 (terminated 2026-03-31, no replacement: dead end)"


def test_a_code_naming_itself_is_not_a_replacement(store: Store) -> None:
    chain = replacement_chain(store, "E1001", JUL)
    assert not chain.replaced and chain.text() == ""
    assert chain.start.end is HopEnd.DEAD_END


def test_replacement_outside_the_code_set(store: Store) -> None:
    chain = replacement_chain(store, "F1001", JUL)
    assert _paths(store, "F1001", JUL) == [["F1001", "99999"]]
    assert chain.paths()[0][-1].end is HopEnd.OUTSIDE
    assert chain.text() == "replaced by 99999 (not in the code set)"


def test_each_hop_is_judged_on_the_chains_date(store: Store) -> None:
    # On April 1 G1002 is still valid (it ends June 30): the chain stops there.
    assert _paths(store, "G1001", APR) == [["G1001", "G1002"]]
    assert replacement_chain(store, "G1001", APR).valid_ends == ("G1002",)
    # From July 1 it goes on to G1003.
    assert _paths(store, "G1001", JUL) == [["G1001", "G1002", "G1003"]]
    july = replacement_chain(store, "G1001", JUL)
    assert july.paths()[0][1].termination_date == JUNE_END
    assert july.text() == "replaced by G1002 → G1003 (active)"


def test_purged_replacement_is_a_dead_end_and_knowledge_time_counts(store: Store) -> None:
    chain = replacement_chain(store, "H1001", JUL)
    assert chain.dead_ends == ("H1002",)
    assert chain.paths()[0][-1].status is Status.REMOVED
    # As known at APR, H1002 was not purged yet.
    as_of_apr = replacement_chain(store, "H1001", JUL, known_at="2026-APR")
    assert as_of_apr.valid_ends == ("H1002",)


def test_valid_code_has_no_chain(store: Store) -> None:
    chain = replacement_chain(store, "K1001", JUL)
    assert chain.start.end is HopEnd.VALID and not chain.replaced and chain.text() == ""


def test_before_the_termination_nothing_replaces(store: Store) -> None:
    chain = replacement_chain(store, "A1001", JAN)
    assert chain.start.status is Status.ACTIVE and chain.text() == ""


def test_chain_to_dict(store: Store) -> None:
    data = replacement_chain(store, "B1001", JUL).to_dict()
    assert data["valid_ends"] == ["B1002", "B1004"]
    assert [hop["code"] for hop in data["start"]["next"]] == ["B1002", "B1003"]
    assert data["start"]["termination_date"] == "2026-03-31"


def test_chains_agree_on_postgresql(db_url: str, tmp_path: Path) -> None:
    store = _ingest(db_url, tmp_path)
    try:
        assert replacement_chain(store, "B1001", JUL).valid_ends == ("B1002", "B1004")
        assert replacement_chain(store, "C1001", JUL).cycles == (("C1001", "C1002", "C1001"),)
    finally:
        store.close()


def test_impact_carries_the_chains(store: Store) -> None:
    from tracker.impact import ImpactKind, impact

    report = impact(store, ["A1001", "C1001", "H1002", "K1001"], from_release="2026-JAN")
    assert (report.old.label, report.new.label) == ("2026-JAN", "2026-JUL")
    a1001, c1001, h1002, k1001 = report.entries
    assert a1001.kind is ImpactKind.TERMINATED
    assert a1001.chain is not None and a1001.chain.text() == "replaced by A1002 → A1003 (active)"
    assert c1001.chain is not None and c1001.chain.cycles == (("C1001", "C1002", "C1001"),)
    assert (h1002.kind, h1002.status) == (ImpactKind.REMOVED, Status.REMOVED)
    assert h1002.details() == "removed, no replacement given"
    assert (k1001.kind, k1001.chain) == (ImpactKind.UNCHANGED, None)


def test_bad_date_and_single_release(store: Store, tmp_path: Path) -> None:
    from tracker.errors import ReleaseError
    from tracker.impact import impact

    with pytest.raises(ReleaseError, match="'2026-13-01' is not a date"):
        replacement_chain(store, "A1001", "2026-13-01")
    single = api.open_store(f"sqlite:///{tmp_path / 'one.db'}")
    try:
        path = tmp_path / "HCPC2026_JAN_TEST.txt"
        write_release(_releases()["JAN"], path)
        api.ingest(single, path)
        with pytest.raises(ReleaseError, match="no stored release is effective before 2026-JAN"):
            impact(single, ["A1001"])
    finally:
        single.close()


def test_show_as_of_prints_the_chain_cycles_and_dead_ends(sqlite_url: str, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from tracker.cli import cli

    _ingest(sqlite_url, tmp_path).close()

    def shown(code: str) -> list[str]:
        result = CliRunner().invoke(
            cli, ["--db", sqlite_url, "show", code, "--as-of", "2026-07-01"]
        )
        assert result.exit_code == 0, result.output
        return result.output.splitlines()

    assert "replaced by A1002 → A1003 (active)" in shown("A1001")
    assert "replaced by C1002 → C1001 (cycle: C1001 is already on this chain)" in shown("C1001")
    assert "replaced by D1002 (terminated 2026-03-31, no replacement: dead end)" in shown("D1001")
    # Still valid: no replacement line.
    assert not any(line.startswith("replaced by") for line in shown("K1001"))
