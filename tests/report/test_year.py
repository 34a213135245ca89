"""The year view (`tracker.report.year`): quarter rows, codes born and retired, and each change's
action letter taken from the quarter that made it."""

from __future__ import annotations

from datetime import date

import pytest

from tracker.diff import YearDiff, diff_year
from tracker.report.build import build_report
from tracker.report.views import Replacement, YearView
from tracker.report.year import build_year

from .conftest import rec, snap

CRUTCHES = rec("B0009", long_description="Crutches, forearm")
JAN = snap("2026-JAN", rec("B0001", coverage="C"), rec("B0002"), CRUTCHES)
APR = snap(
    "2026-APR",
    rec("B0001", coverage="M", action_code="C"),
    rec("B0002"),
    rec("B0003", added_date=date(2026, 4, 1), xrefs=("B0009",), action_code="A"),
    CRUTCHES,
)
# JUL resets B0001's action to N, as a quarterly file does; B0003 is gone without a word.
JUL = snap(
    "2026-JUL",
    rec("B0001", coverage="M"),
    rec("B0002", termination_date=date(2026, 6, 30), xrefs=("B0001",), action_code="D"),
    CRUTCHES,
)


@pytest.fixture(scope="module")
def year() -> YearDiff:
    return diff_year([JAN, APR, JUL])


@pytest.fixture(scope="module")
def view(year: YearDiff) -> YearView:
    return build_year(year, last_snapshot=JUL)


def test_title_spans_the_year(view: YearView) -> None:
    assert view.title == "HCPCS changes in 2026: 2026-JAN → 2026-JUL"
    assert view.overall.title == view.title
    assert [release.display for release in view.releases] == ["2026-JAN", "2026-APR", "2026-JUL"]


def test_action_letter_comes_from_the_quarter_that_made_the_change(
    year: YearDiff, view: YearView
) -> None:
    (coverage,) = next(s.rows for s in view.overall.field_sections if s.category == "coverage")
    assert coverage.code == "B0001" and coverage.action_code == "C in 2026-APR"
    # The first-vs-last report alone would show JUL's reset letter.
    pair = build_report(year.overall, new_snapshot=JUL)
    (plain,) = next(s.rows for s in pair.field_sections if s.category == "coverage")
    assert plain.action_code == "N"
    (discontinued,) = view.overall.discontinued
    assert (discontinued.code, discontinued.action_code) == ("B0002", "D in 2026-JUL")


def test_quarter_rows(view: YearView) -> None:
    first, second = view.steps
    assert (first.old, first.new, second.old, second.new) == (
        "2026-JAN",
        "2026-APR",
        "2026-APR",
        "2026-JUL",
    )
    assert view.kind_titles == (
        "added",
        "discontinued",
        "re-activated",
        "changed",
        "removed from the file",
    )
    assert first.cells == (1, 0, 0, 1, 0) and first.coverage == 1
    assert second.cells == (0, 1, 0, 1, 1) and second.coverage == 0
    assert first.codes == (("added", ("B0003",)), ("changed", ("B0001",)))
    assert dict(second.codes)["removed from the file"] == ("B0003",)


def test_codes_born_and_retired_inside_the_year(view: YearView) -> None:
    (row,) = view.transient
    assert (row.code, row.first_seen, row.last_seen) == ("B0003", "2026-APR", "2026-APR")
    assert (row.ended, row.ended_in, row.added_date) == (
        "removed from the file",
        "2026-JUL",
        "2026-04-01",
    )
    # Its replacement is in neither the year's diff nor the code's own record: it is looked up
    # in the last release.
    assert row.replacements == (Replacement("B0009", "Crutches, forearm", True),)


def test_quarter_findings_name_their_quarter(year: YearDiff, view: YearView) -> None:
    rows = [row for group in view.step_findings for row in group.rows]
    rows += view.step_cosmetic_findings
    assert len(rows) == sum(len(step.findings) for step in year.steps)
    assert {row.step for row in rows} <= {"2026-JAN → 2026-APR", "2026-APR → 2026-JUL"}
