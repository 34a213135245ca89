"""The release-pair view (`tracker.report.build`), step by step, on a small hand-made diff.

Each code of the two releases below exercises one branch of the report: added (one already
discontinued), purged (active or discontinued), discontinued with replacements, re-activated,
a termination date moved, a coverage change, and a change of the action code alone.
"""

from __future__ import annotations

from datetime import date

import pytest

from tracker.diff import Direction, ReleaseDiff, diff_snapshots
from tracker.diff.model import categories_of
from tracker.report.build import build_report, group_findings
from tracker.report.views import Replacement, ReportView

from .conftest import rec, snap

OLD = snap(
    "2026-JAN",
    rec("A0001", long_description="Ambulance service, outside state per mile"),
    rec("A0002", termination_date=date(2025, 12, 31)),
    rec("A0003"),
    rec("A0004", termination_date=date(2024, 12, 31)),
    rec("A0005", termination_date=date(2026, 6, 30)),
    rec("A0006"),
    rec("A0007", coverage="C"),
    rec("A0008"),
)
NEW = snap(
    "2026-APR",
    rec("A0001", long_description="Ambulance service, outside state per mile"),
    rec("A0002", action_code="R"),
    rec("A0005", termination_date=date(2026, 9, 30), action_code="C"),
    rec("A0006", termination_date=date(2026, 3, 31), xrefs=("A0001", "A0404"), action_code="D"),
    rec("A0007", coverage="M", action_code="C"),
    rec("A0008", action_code="C", action_effective_date=date(2026, 4, 1)),
    rec("A0010", added_date=date(2026, 4, 1), termination_date=date(2026, 3, 31), action_code="A"),
    rec("A0011", added_date=date(2026, 4, 1), action_code="A"),
)


@pytest.fixture(scope="module")
def diff() -> ReleaseDiff:
    return diff_snapshots(OLD, NEW)


@pytest.fixture(scope="module")
def view(diff: ReleaseDiff) -> ReportView:
    return build_report(diff, new_snapshot=NEW)


def test_codes_listed_whole_with_their_notes(view: ReportView) -> None:
    assert [(row.code, row.note) for row in view.added] == [
        ("A0010", "added already discontinued"),
        ("A0011", ""),
    ]
    assert [(row.code, row.note) for row in view.purged] == [
        ("A0003", "was active: no termination date"),
        ("A0004", "was discontinued 2024-12-31"),
    ]
    assert [(row.code, row.note) for row in view.reactivated] == [
        ("A0002", "was discontinued 2025-12-31")
    ]
    assert [(row.code, row.termination_date, row.note) for row in view.discontinued] == [
        ("A0006", "2026-03-31", "")
    ]


def test_replacements_are_described_from_the_new_release(view: ReportView) -> None:
    (row,) = view.discontinued
    assert row.replacements == (
        Replacement("A0001", "Ambulance service, outside state per mile", True),
        Replacement("A0404", "not in 2026-APR", False),
    )


def test_other_field_changes(view: ReportView) -> None:
    sections = {section.category: section.rows for section in view.field_sections}
    # A termination date set or cleared is its own section; a moved one is a field change. The
    # action effective date and the action code are never listed here.
    assert [(row.code, row.field) for row in sections["lifecycle"]] == [
        ("A0005", "termination_date")
    ]
    (moved,) = sections["lifecycle"]
    assert ([v.text for v in moved.old], [v.text for v in moved.new]) == (
        ["2026-06-30"],
        ["2026-09-30"],
    )
    (coverage,) = sections["coverage"]
    assert coverage.code == "A0007" and coverage.action_code == "C"
    assert (coverage.old[0].text, coverage.new[0].text) == ("C", "M")
    assert "Carrier judgment" in coverage.old[0].meaning
    assert "Non-covered by Medicare" in coverage.new[0].meaning
    assert [row.code for row in sections["crosswalk"]] == ["A0006"]
    assert "action" not in sections
    # Sections come in the report's order, and only when they have rows.
    assert list(sections) == ["coverage", "crosswalk", "lifecycle"]


def test_action_only_changes_are_bookkeeping(view: ReportView, diff: ReleaseDiff) -> None:
    (family,) = view.families  # every code here is an A code
    assert family.total == len(diff.changes)
    assert family.bookkeeping == 1  # A0008: only its action code and action date moved
    (bar,) = view.family_chart.bars
    assert ("action-code-only", 1) in [(s.kind, s.value) for s in bar.segments]
    assert view.bookkeeping_codes == 1


def test_category_chart_leaves_out_the_action_code(view: ReportView) -> None:
    labels = [bar.label for bar in view.category_chart.bars]
    assert "action" not in labels
    assert {"coverage", "crosswalk", "lifecycle"} <= set(labels)


def test_kind_rows_count_every_kind(view: ReportView) -> None:
    totals = {row.kind: row.total for row in view.kinds}
    assert totals == {
        "added": 2,
        "terminated": 1,
        "reactivated": 1,
        "changed": 3,
        "purged": 2,
        "unchanged": 1,
    }
    assert all(len(row.cells) == len(categories_of("hcpcs")) for row in view.kinds)


def test_findings_grouped_by_direction_every_direction_present(
    view: ReportView, diff: ReleaseDiff
) -> None:
    assert [group.direction for group in view.findings] == [d.value for d in Direction]
    for group in view.findings:
        assert all(row.direction == group.direction for row in group.rows)
    listed = sum(len(group.rows) for group in view.findings) + len(view.cosmetic_findings)
    assert listed == len(diff.findings)
    assert sum(count.count for count in view.finding_counts) == len(diff.findings)
    empty = group_findings([])
    assert [len(group.rows) for group in empty] == [0] * len(Direction)
    assert all(group.title for group in empty)


def test_without_the_new_release_only_the_diffs_codes_are_described(diff: ReleaseDiff) -> None:
    (row,) = build_report(diff).discontinued
    assert row.replacements == (
        Replacement("A0001", "description not loaded", False),
        Replacement("A0404", "description not loaded", False),
    )


def test_a_replacement_that_changed_is_described_without_the_release() -> None:
    old = snap("2026-JAN", rec("B0001"), rec("B0002"))
    new = snap(
        "2026-APR",
        rec("B0001", termination_date=date(2026, 3, 31), xrefs=("B0002",), action_code="D"),
        rec("B0002", long_description="Walker, folding, wheeled", action_code="C"),
    )
    (row,) = build_report(diff_snapshots(old, new)).discontinued
    assert row.replacements == (Replacement("B0002", "Walker, folding, wheeled", True),)


def test_title_defaults_to_the_pair(view: ReportView, diff: ReleaseDiff) -> None:
    assert view.title == "HCPCS changes 2026-JAN → 2026-APR"
    assert build_report(diff, title="Mine").title == "Mine"
