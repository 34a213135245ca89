"""apply(diff(A, B), A) == B, on generated releases and on every real pair."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from conftest import CONSECUTIVE_PAIRS, RealReleases
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.codesets.hcpcs.record import Record, RecordKind
from tracker.diff import ChangeKind, apply_diff, diff_snapshots
from tracker.jsonout import diff_json
from tracker.release import Snapshot, adhoc_info

CODES = [f"{letter}{n:04d}" for letter in "AGJ" for n in range(1, 5)] + ["AA", "CS"]
words = st.sampled_from(["injection", "per", "1 mg", "oil", "spill", "Covid-19", "5mg", "5 mg"])
text = st.lists(words, min_size=0, max_size=5).map(" ".join)
slot = st.sampled_from(["", "00", "13", "21", "J0001", "1", "9"])
slots = st.lists(slot, max_size=3).map(tuple)
dates = st.one_of(st.none(), st.dates(min_value=date(1985, 1, 1), max_value=date(2021, 1, 1)))
letters = st.sampled_from("ABCDFNPRST")


def _trim(values: tuple[str, ...]) -> tuple[str, ...]:
    """Records drop trailing blanks of repeated fields; generated ones must too."""
    items = list(values)
    while items and not items[-1]:
        items.pop()
    return tuple(items)


@st.composite
def records(draw: st.DrawFn, code: str) -> Record:
    fields: dict[str, Any] = {
        "code": code,
        "kind": RecordKind.MODIFIER if len(code) == 2 else RecordKind.PROCEDURE,
        "long_description": draw(text),
        "short_description": draw(text),
        "pricing_indicators": _trim(draw(slots)),
        "multiple_pricing_indicator": draw(st.sampled_from(["", "A", "9"])),
        "xrefs": _trim(draw(slots)),
        "types_of_service": _trim(draw(slots)),
        "coverage": draw(st.sampled_from(["", "C", "D", "I", "M", "S"])),
        "asc_group": draw(st.sampled_from(["", "YY"])),
        "asc_effective_date": draw(dates),
        "betos": draw(st.sampled_from(["", "O1A", "D1A"])),
        "anesthesia_base_units": draw(st.one_of(st.none(), st.integers(0, 30))),
        "added_date": draw(dates),
        "action_effective_date": draw(dates),
        "termination_date": draw(dates),
        "action_code": draw(letters),
    }
    return Record(**fields)


@st.composite
def release_pairs(draw: st.DrawFn) -> tuple[dict[str, Record], dict[str, Record]]:
    """Two releases over a small code pool: some codes shared (equal or edited), some not."""
    old_codes = draw(st.sets(st.sampled_from(CODES), max_size=8))
    new_codes = draw(st.sets(st.sampled_from(CODES), max_size=8))
    old = {code: draw(records(code)) for code in sorted(old_codes)}
    new: dict[str, Record] = {}
    for code in sorted(new_codes):
        if code in old and draw(st.booleans()):
            new[code] = old[code]  # unchanged
        else:
            new[code] = draw(records(code))
    return old, new


def _snapshots(old: dict[str, Record], new: dict[str, Record]) -> tuple[Snapshot, Snapshot]:
    return (
        Snapshot.from_records(adhoc_info("2020-JAN"), old.values()),
        Snapshot.from_records(adhoc_info("2020-APR"), new.values()),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(release_pairs(), st.booleans())
def test_apply_inverts_diff(
    pair: tuple[dict[str, Record], dict[str, Record]], consecutive: bool
) -> None:
    old, new = pair
    diff = diff_snapshots(*_snapshots(old, new), reconciling=consecutive)
    assert apply_diff(old, diff) == new
    # Structural promises that must hold whatever the content.
    codes = [change.code for change in diff.changes]
    assert codes == sorted(codes) and len(set(codes)) == len(codes)
    assert diff.unchanged_count == sum(1 for c in new if c in old and old[c] == new[c])
    for change in diff.changes:
        if change.kind is ChangeKind.PURGED:
            assert change.code not in new
        elif change.kind is ChangeKind.TERMINATED:
            assert change.code in old and change.code in new
            assert old[change.code].termination_date is None
    if not consecutive:
        assert diff.findings == ()
    assert diff_json(diff)["schema_version"] == 1


@settings(max_examples=100, deadline=None)
@given(release_pairs())
def test_diff_of_a_release_with_itself_is_empty(
    pair: tuple[dict[str, Record], dict[str, Record]],
) -> None:
    old, _ = pair
    a, _ = _snapshots(old, {})
    diff = diff_snapshots(a, a, reconciling=False)
    assert diff.changes == () and diff.unchanged_count == len(old)


@pytest.mark.parametrize(
    ("old", "new"),
    [*CONSECUTIVE_PAIRS, ("2018", "2020-JAN"), ("2016", "2020-OCT")],
    ids=lambda label: str(label),
)
def test_apply_inverts_diff_on_real_pairs(real_releases: RealReleases, old: str, new: str) -> None:
    consecutive = (old, new) in CONSECUTIVE_PAIRS
    diff = real_releases.diff(old, new, consecutive)
    assert apply_diff(real_releases.records(old), diff) == real_releases.records(new)
