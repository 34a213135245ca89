"""Reports on real CMS releases: every figure the diff computes is in the report.

The real files are read from the shared folder (`RealReleases`, skipped unless CI=true when
they are missing); nothing is compared against stored text, only against the diff itself.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from markupsafe import escape

from tests.conftest import RealReleases
from tracker.diff import ChangeKind, Flag, ReleaseDiff, YearDiff, diff_year
from tracker.jsonout import diff_json
from tracker.report.build import build_report
from tracker.report.describe import CHANGE_KINDS, KIND_TITLES
from tracker.report.render import markdown_escape, render_diff, render_year

YEAR_2020 = ("2020-JAN", "2020-APR", "2020-JUL", "2020-OCT")


@pytest.fixture(scope="module")
def pair(real_releases: RealReleases) -> ReleaseDiff:
    diff: ReleaseDiff = real_releases.diff("2017", "2018")
    return diff


@pytest.fixture(scope="module")
def pair_reports(real_releases: RealReleases, pair: ReleaseDiff) -> dict[str, str]:
    snapshot: Any = real_releases.snapshot("2018")
    return {fmt: render_diff(pair, fmt, new_snapshot=snapshot) for fmt in ("md", "html", "csv")}


@pytest.fixture(scope="module")
def year(real_releases: RealReleases) -> YearDiff:
    return diff_year([real_releases.snapshot(label) for label in YEAR_2020])


def kind_table_rows(diff: ReleaseDiff) -> list[str]:
    """The Markdown rows of the kind x category table, as the diff's counts say they must be."""
    table = diff.counts_by_kind_category()
    counts = diff.counts_by_kind()
    rows = []
    for kind in (*CHANGE_KINDS, ChangeKind.UNCHANGED):
        cells = "".join(f" {n} |" for n in table[kind].values())
        rows.append(f"| {KIND_TITLES[kind]} | {counts[kind]} |{cells}")
    return rows


def check_codes_listed(diff: ReleaseDiff, md: str, page: str) -> None:
    """Every added, discontinued and re-described code is in both reports with its facts."""
    for change in diff.by_kind(ChangeKind.ADDED):
        assert change.new is not None
        assert f"**{change.code}** (added {change.new.added_date}" in md
        assert markdown_escape(change.new.long_description) in md
        assert escape(change.new.long_description) in page
    for change in diff.by_kind(ChangeKind.TERMINATED):
        assert change.new is not None
        assert f"**{change.code}** terminated {change.new.termination_date}" in md
        assert f'<td class="code">{change.code}</td><td class="date">' in page
        for xref in change.new.xrefs:
            assert f'<span class="code">{xref}</span>' in page
    for change in diff.by_kind(ChangeKind.PURGED):
        assert f"**{change.code}** (added " in md
    for change in diff.changes:
        for fc in change.fields:
            if fc.field == "long_description" and Flag.COSMETIC not in fc.flags:
                assert f"**{change.code}** long description" in md
            if fc.field == "long_description" and Flag.COSMETIC in fc.flags:
                assert f"**{change.code}** long (action" in md


def test_pair_counts_and_codes(pair: ReleaseDiff, pair_reports: dict[str, str]) -> None:
    md, page = pair_reports["md"], pair_reports["html"]
    assert pair.counts_by_kind()[ChangeKind.ADDED] > 0
    for row in kind_table_rows(pair):
        assert row in md
    view = build_report(pair)
    assert sum(row.total for row in view.families) == len(pair.changes)
    check_codes_listed(pair, md, page)
    # Replacement codes carry their 2018 description, not a placeholder.
    assert "description not loaded" not in md
    # Every finding is in the reconciliation section, once.
    for finding in pair.findings:
        assert markdown_escape(finding.message) in md
    assert md.count(" | not_declared | ") + md.count(" | not_seen | ") <= len(pair.findings)
    for change in pair.changes:
        if Flag.REUSED in change.flags:
            assert f"**{change.code}** (added date" in md


def test_pair_csv_rows(pair: ReleaseDiff, pair_reports: dict[str, str]) -> None:
    rows = list(csv.DictReader(io.StringIO(pair_reports["csv"])))
    assert len(rows) == sum(max(1, len(change.fields)) for change in pair.changes)
    by_kind: dict[str, set[str]] = {}
    for row in rows:
        by_kind.setdefault(row["kind"], set()).add(row["code"])
    for kind in CHANGE_KINDS:
        assert len(by_kind.get(kind.value, set())) == pair.counts_by_kind()[kind]


def test_pair_json(pair: ReleaseDiff) -> None:
    assert json.loads(render_diff(pair, "json")) == json.loads(json.dumps(diff_json(pair)))


def test_year_2020(real_releases: RealReleases, year: YearDiff) -> None:
    last: Any = real_releases.snapshot("2020-OCT")
    page = render_year(year, "html", last_snapshot=last)
    md = render_year(year, "md", last_snapshot=last)

    overall = year.overall
    for row in kind_table_rows(overall):
        assert row in md
    check_codes_listed(overall, md, page)
    # One row per quarter with the step's own counts.
    assert len(year.steps) == 3
    for step in year.steps:
        counts = step.counts_by_kind()
        cells = "".join(f" {counts[kind]} |" for kind in CHANGE_KINDS)
        assert f"| {step.old.display} → {step.new.display} |{cells}" in md
        for finding in step.findings:
            assert markdown_escape(finding.message) in md
    # Codes born and retired inside the year.
    assert f"## Codes born and retired inside the year ({len(year.transient)})" in md
    for item in year.transient:
        assert f"**{item.code}** (added " in md
        assert f"{item.ended.value if item.ended is ChangeKind.PURGED else 'discontinued'}" in md
    assert page.count("<svg") == 2


def test_year_2020_csv_and_json(real_releases: RealReleases, year: YearDiff) -> None:
    rows = list(csv.DictReader(io.StringIO(render_year(year, "csv"))))
    year_rows = [row for row in rows if row["scope"] == "year"]
    quarter_rows = [row for row in rows if row["scope"] == "quarter"]
    assert len(year_rows) == sum(max(1, len(c.fields)) for c in year.overall.changes)
    assert len(quarter_rows) == sum(
        max(1, len(c.fields)) for step in year.steps for c in step.changes
    )
    data = json.loads(render_year(year, "json"))
    assert [r["display"] for r in data["releases"]] == list(YEAR_2020)
    assert len(data["transient"]) == len(year.transient)
