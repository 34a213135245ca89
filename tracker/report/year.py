"""The view of a year's report: the first-vs-last release report, each quarter's counts and
findings, and the codes born and retired inside the year."""

from __future__ import annotations

import dataclasses

from tracker.codesets import get_code_set
from tracker.diff import (
    Category,
    ChangeKind,
    Direction,
    Flag,
    ReleaseDiff,
    TransientCode,
    YearDiff,
)
from tracker.release import Snapshot
from tracker.report.build import (
    ADDENDA_DIRECTION_TITLES,
    build_report,
    finding_row,
    group_findings,
    replacement_codes,
)
from tracker.report.describe import (
    KIND_TITLES,
    NONE_TEXT,
    Describer,
    date_text,
    describer_for,
    listed_kinds,
    release_view,
    sentence,
)
from tracker.report.views import (
    CodeRow,
    DescriptionRow,
    FieldRow,
    FindingGroup,
    FindingRow,
    ReportView,
    StepRow,
    TransientRow,
    YearView,
)


def build_year(year: YearDiff, *, last_snapshot: Snapshot | None = None) -> YearView:
    """The view of a year; `last_snapshot` (the year's last release) decodes replacements
    (HCPCS's XREFs, ICD-10's conversion-table links)."""
    overall = year.overall
    code_set = get_code_set(overall.code_set)
    replaced_by = code_set.replaced_by
    describer = describer_for(
        last_snapshot,
        overall.changes,
        also={code for transient in year.transient for code in replaced_by(transient.record)}
        | replacement_codes(overall),
        code_set=overall.code_set,
    )
    title = _year_title(year)
    view = build_report(overall, describer=describer, title=title)
    if code_set.has_end_dates:
        view = _with_step_actions(view, year)
    show = code_set.display_code
    step_rows = [
        dataclasses.replace(
            finding_row(finding, f"{step.old.display} → {step.new.display}"),
            code=show(finding.code),
        )
        for step in year.steps
        for finding in step.findings
    ]
    kinds = listed_kinds(overall.code_set)
    span = year.span
    return YearView(
        title=title,
        releases=tuple(release_view(info) for info in year.releases),
        overall=view,
        kind_titles=tuple(KIND_TITLES[kind] for kind in kinds),
        steps=tuple(_step_row(step) for step in year.steps),
        step_findings=_step_groups(step_rows, addenda=not code_set.has_end_dates),
        step_cosmetic_findings=tuple(row for row in step_rows if row.cosmetic),
        transient=tuple(
            _transient_row(item, describer, overall.code_set) for item in year.transient
        ),
        missing=year.missing,
        name=span.name if span is not None else str(year.releases[0].effective_date.year),
        start=span.start.isoformat() if span is not None else "",
        end=span.end.isoformat() if span is not None else "",
        opening_note=sentence(year.opening_note),
    )


def _step_groups(rows: list[FindingRow], *, addenda: bool) -> tuple[FindingGroup, ...]:
    """The steps' findings by direction, titled for what declares the changes (HCPCS's
    action codes, ICD-10's addenda)."""
    groups = group_findings([row for row in rows if not row.cosmetic])
    if not addenda:
        return groups
    return tuple(
        dataclasses.replace(group, title=ADDENDA_DIRECTION_TITLES[Direction(group.direction)])
        for group in groups
    )


def _year_title(year: YearDiff) -> str:
    first, last = year.releases[0], year.releases[-1]
    span = first.display if first == last else f"{first.display} → {last.display}"
    code_set = get_code_set(first.code_set)
    if code_set.has_end_dates:
        return f"HCPCS changes in {first.effective_date.year}: {span}"
    name = year.span.name if year.span is not None else str(first.effective_date.year)
    return f"{code_set.title} changes in {name}: {span}"


def _step_row(step: ReleaseDiff) -> StepRow:
    """One quarter's line: codes per kind, real description changes, the categories a
    billing team watches, findings, and the codes of each kind."""
    counts = step.counts_by_kind()
    by_category = step.counts_by_kind_category()
    kinds = listed_kinds(step.code_set)
    show = get_code_set(step.code_set).display_code

    def category(name: Category) -> int:
        return sum(by_category[kind].get(name, 0) for kind in kinds)

    codes = tuple(
        (KIND_TITLES[kind], tuple(show(change.code) for change in step.by_kind(kind)))
        for kind in kinds
        if counts[kind]
    )
    # Description changes: HCPCS's descriptions, ICD-10's titles.
    described = (Category.DESCRIPTION, Category.TITLE)
    return StepRow(
        old=step.old.display,
        new=step.new.display,
        cells=tuple(counts[kind] for kind in kinds),
        descriptions=sum(
            1
            for change in step.changes
            if any(
                fc.category in described and Flag.COSMETIC not in fc.flags for fc in change.fields
            )
        ),
        payment=category(Category.PAYMENT),
        coverage=category(Category.COVERAGE),
        classification=category(Category.CLASSIFICATION),
        findings=len(step.findings),
        codes=codes,
        reconciled=step.reconciled,
        reconciliation_note=sentence(step.reconciliation.reason),
    )


def _transient_row(item: TransientCode, describer: Describer, code_set_name: str) -> TransientRow:
    code_set = get_code_set(code_set_name)
    dates = code_set.record_dates(item.record)
    return TransientRow(
        code=code_set.display_code(item.code),
        long_description=code_set.describe(item.record),
        added_date=date_text(dates.added_date),
        first_seen=item.first_seen,
        last_seen=item.last_seen,
        ended=KIND_TITLES[item.ended],
        ended_in=item.ended_in,
        termination_date=date_text(item.termination_date),
        replacements=describer.replacements(code_set.replaced_by(item.record)),
    )


def _with_step_actions(view: ReportView, year: YearDiff) -> ReportView:
    """The first-vs-last view with each change's action letter taken from the release in which
    the change happened (`C in 2020-APR`), not from the year's last release (where a quarterly
    file has long reset it to N).

    A field that changed in several quarters shows the last of them, the one that set the value
    the year ends with; a code added, discontinued or re-activated shows the release that did so.
    """
    by_field: dict[tuple[str, str], str] = {}
    by_code: dict[str, str] = {}
    for step in year.steps:
        for change in step.changes:
            letter = change.new.action_code if change.new is not None else ""
            where = f"{letter or NONE_TEXT} in {step.new.display}"
            for fc in change.fields:
                by_field[(change.code, fc.field)] = where
            if change.kind is not ChangeKind.CHANGED:
                by_code[change.code] = where

    def code_row(row: CodeRow) -> CodeRow:
        where = by_code.get(row.code)
        return dataclasses.replace(row, action_code=where) if where else row

    def description(row: DescriptionRow) -> DescriptionRow:
        where = by_field.get((row.code, row.field))
        return dataclasses.replace(row, action_code=where) if where else row

    def field(row: FieldRow) -> FieldRow:
        where = by_field.get((row.code, row.field))
        return dataclasses.replace(row, action_code=where) if where else row

    return dataclasses.replace(
        view,
        discontinued=tuple(code_row(row) for row in view.discontinued),
        reactivated=tuple(code_row(row) for row in view.reactivated),
        descriptions=tuple(description(row) for row in view.descriptions),
        cosmetic_descriptions=tuple(description(row) for row in view.cosmetic_descriptions),
        field_sections=tuple(
            dataclasses.replace(section, rows=tuple(field(row) for row in section.rows))
            for section in view.field_sections
        ),
    )
