"""As-of and history on the real CMS releases (the acceptance cases of the as-of issue)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from tracker import api
from tracker.diff import Flag
from tracker.history import EventKind
from tracker.query import Status
from tracker.store import Store


@pytest.fixture(scope="module")
def store(real_store_url: str) -> Iterator[Store]:
    opened = api.open_store(real_store_url)
    yield opened
    opened.close()


def test_code_added_in_april_is_unknown_in_january(store: Store) -> None:
    # C9053 (crizanlizumab) first appears in the 2020-APR file.
    before = api.code_state(store, "C9053", "2020-04-15", known_at="2020-JAN")
    assert before.status is Status.UNKNOWN
    assert before.known is None and before.meaning is None
    after = api.code_state(store, "C9053", "2020-04-15", known_at="2020-APR")
    assert after.status is Status.ACTIVE
    assert after.meaning is not None
    assert after.meaning.long_description == "Injection, crizanlizumab-tmca, 1 mg"
    assert after.meaning_release is not None and after.meaning_release.label == "2020-APR"
    assert api.code_state(store, "C9053", "2020-03-15", known_at="2020-APR").status is (
        Status.NOT_YET_EFFECTIVE
    )


def test_code_terminated_in_2017_on_a_2018_date(store: Store) -> None:
    # C9483 (atezolizumab) ended 2017-12-31, replaced by J9022.
    state = api.code_state(store, "C9483", "2018-03-01", known_at="2018")
    assert state.status is Status.TERMINATED
    assert state.termination_date == date(2017, 12, 31)
    assert [r.code for r in state.replacements] == ["J9022"]
    assert state.replacements[0].description == "Injection, atezolizumab, 10 mg"
    # The last day is still valid.
    assert api.code_state(store, "C9483", "2017-12-31", known_at="2018").status is Status.ACTIVE


def test_s0353_history_starts_with_the_first_release_and_never_changes(store: Store) -> None:
    events = api.history(store, "S0353")
    assert [(e.release.label, e.kind) for e in events] == [("2016-JAN", EventKind.FIRST_SEEN)]


def test_description_change_shows_both_meanings(store: Store) -> None:
    # G0202 was re-described in 2017 (digital mammography wording rewritten).
    before = api.code_state(store, "G0202", "2016-06-01")
    after = api.code_state(store, "G0202", "2017-06-01")
    assert before.meaning is not None and after.meaning is not None
    assert before.meaning.long_description.startswith(
        "Screening mammography, producing direct digital image"
    )
    assert after.meaning.long_description.startswith("Screening mammography, bilateral")
    assert (before.status, after.status) == (Status.ACTIVE, Status.ACTIVE)
    # Terminated 2017-12-31 as known later, so a 2018 date is terminated, replaced by 77067.
    ended = api.code_state(store, "G0202", "2018-02-01")
    assert ended.status is Status.TERMINATED
    assert [r.code for r in ended.replacements] == ["77067"]


def test_reused_code_has_each_meaning_on_its_own_dates(store: Store) -> None:
    # The diff flags CS as reused (2010 Gulf oil spill -> COVID-19 cost sharing).
    events = api.history(store, "CS")
    reused = [e for e in events if e.change is not None and Flag.REUSED in e.change.flags]
    assert [e.release.label for e in reused] == ["2020-APR"]
    old = api.code_state(store, "CS", "2020-02-01")
    new = api.code_state(store, "CS", "2020-04-15")
    assert old.meaning is not None and "oil spill" in old.meaning.long_description
    assert new.meaning is not None and "covid-19" in new.meaning.long_description
    # CMS declared the new meaning effective 2020-03-01, before the April file.
    march = api.code_state(store, "CS", "2020-03-02")
    assert march.meaning is not None and "covid-19" in march.meaning.long_description
    assert march.meaning_release is not None and march.meaning_release.label == "2020-APR"


def test_history_lists_termination_and_purge(store: Store) -> None:
    events = api.history(store, "G0202")
    kinds = [(e.release.label, e.kind) for e in events]
    assert kinds[:3] == [
        ("2016-JAN", EventKind.FIRST_SEEN),
        ("2017-JAN", EventKind.CHANGED),
        ("2018-JAN", EventKind.TERMINATED),
    ]
    terminated = events[2].change
    assert terminated is not None
    field = terminated.field("termination_date")
    assert field is not None and field.new == date(2017, 12, 31)


def test_codes_as_of_a_date(store: Store) -> None:
    active_j = api.codes_as_of(store, "2020-04-15", prefix="J", known_at="2020-APR")
    assert active_j and all(s.code.startswith("J") for s in active_j)
    assert all(s.status is Status.ACTIVE for s in active_j)
    everything = api.codes_as_of(store, "2020-04-15", prefix="J", status="all")
    assert len(everything) > len(active_j)
    codes = {s.code for s in active_j}
    assert "J9035" in codes
