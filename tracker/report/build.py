"""The view of one release pair's report: a diff turned into display-ready rows and charts.

Everything a template shows is computed here or in the modules this one calls, including the
one batch of store lookups a report needs (replacement codes' descriptions, prefetched from the
new release's snapshot by `describer_for`), so rendering never reads the store.

Everything is ordered explicitly (by code, then by the enums' declared order) and carries no
clock time, so the same releases always give the same bytes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence

from tracker.codesets import get_code_set
from tracker.codesets.base import CodeRecord
from tracker.codesets.hcpcs.codepage import LABELS
from tracker.codesets.hcpcs.codetables import CODE_FAMILIES, FAMILY_ORDER, code_family, decode
from tracker.codesets.hcpcs.record import Record
from tracker.diff import (
    Category,
    ChangeKind,
    CodeChange,
    Direction,
    FieldChange,
    Finding,
    Flag,
    ReleaseDiff,
    description_similarity,
    is_action_only,
)
from tracker.release import Snapshot
from tracker.report.charts import chart
from tracker.report.describe import (
    CHANGE_KINDS,
    KIND_TITLES,
    NONE_TEXT,
    Describer,
    date_text,
    describer_for,
    field_values,
    listed_kinds,
    release_view,
    sentence,
)
from tracker.report.views import (
    AddendaSection,
    AddendaView,
    Chart,
    CodeRow,
    CountRow,
    DescriptionRow,
    FamilyRow,
    FieldRow,
    FieldSection,
    FindingCount,
    FindingGroup,
    FindingRow,
    KindRow,
    Replacement,
    ReportView,
    ReusedRow,
    SwitchRow,
)
from tracker.report.words import word_tokens

# Categories with a section of their own in "Other field changes", in that order. Lifecycle
# rows are limited to the added date and moved termination dates; see `_shown_as_field`.
FIELD_SECTION_CATEGORIES: tuple[Category, ...] = (
    Category.PAYMENT,
    Category.COVERAGE,
    Category.CLASSIFICATION,
    Category.REFERENCE,
    Category.CROSSWALK,
    Category.LIFECYCLE,
)
FIELD_LABELS: Mapping[str, str] = {**dict(LABELS), "kind": "Procedure or modifier"}
DIRECTION_TITLES: Mapping[Direction, str] = {
    Direction.DECLARED_NOT_SEEN: "Declared by CMS but not seen in the data",
    Direction.SEEN_NOT_DECLARED: "Seen in the data but not declared by CMS",
}
ADDENDA_DIRECTION_TITLES: Mapping[Direction, str] = {
    Direction.DECLARED_NOT_SEEN: "Declared in the addenda but not seen in the data",
    Direction.SEEN_NOT_DECLARED: "Seen in the data but not declared in the addenda",
}
BOOKKEEPING_TITLE = "action code only"
_FAMILY_LETTERS: Mapping[str, str] = {name: letter for letter, name in CODE_FAMILIES.items()}
# Kinds whose codes are listed whole (a `CodeRow`) rather than field by field.
_WHOLE_CODE_KINDS = frozenset({ChangeKind.ADDED, ChangeKind.PURGED})


def build_report(
    diff: ReleaseDiff,
    *,
    new_snapshot: Snapshot | None = None,
    describer: Describer | None = None,
    title: str = "",
) -> ReportView:
    """The view of one diff; `new_snapshot` (release `diff.new`) decodes XREF replacements."""
    if not get_code_set(diff.code_set).has_end_dates:
        if describer is None:
            describer = describer_for(
                new_snapshot,
                diff.changes,
                also=replacement_codes(diff),
                code_set=diff.code_set,
            )
        return _presence_report(diff, title, describer)
    if describer is None:
        describer = describer_for(new_snapshot, diff.changes)
    families = _family_rows(diff.changes)
    descriptions = _description_rows(diff.changes)
    finding_rows = [finding_row(finding) for finding in diff.findings]
    summary = diff.summary_counts()
    reconciliation = diff.reconciliation
    return ReportView(
        title=title or f"HCPCS changes {diff.old.display} → {diff.new.display}",
        old=release_view(diff.old),
        new=release_view(diff.new),
        consecutive=reconciliation.reconciled,
        reconciled=reconciliation.reconciled,
        reference=reconciliation.reference,
        reference_basis=reconciliation.basis,
        reconciliation_note=sentence(reconciliation.reason),
        missing=reconciliation.missing,
        categories=tuple(category.value for category in diff.categories),
        kind_titles=tuple(KIND_TITLES[kind] for kind in CHANGE_KINDS),
        kinds=_kind_rows(diff),
        added_codes=summary["added"],
        changed_codes=summary["changed"],
        unchanged_codes=diff.unchanged_count,
        bookkeeping_codes=summary["action_only"],
        representation_codes=summary["representation_only"],
        families=families,
        family_chart=_family_chart(families),
        category_chart=_category_chart(diff),
        added=_code_rows(diff.changes, ChangeKind.ADDED, describer),
        discontinued=_code_rows(diff.changes, ChangeKind.TERMINATED, describer),
        reactivated=_code_rows(diff.changes, ChangeKind.REACTIVATED, describer),
        purged=_code_rows(diff.changes, ChangeKind.PURGED, describer),
        descriptions=tuple(row for row in descriptions if not row.cosmetic),
        cosmetic_descriptions=tuple(row for row in descriptions if row.cosmetic),
        field_sections=_field_sections(diff.changes, describer),
        finding_counts=_finding_counts(diff.findings),
        findings=group_findings([row for row in finding_rows if not row.cosmetic]),
        cosmetic_findings=tuple(row for row in finding_rows if row.cosmetic),
        reused=_reused_rows(diff.changes),
        transaction_report=diff.transaction_report,
        corrections=diff.corrections,
    )


# ---------------------------------------------------------------------------------------------
# Counts and charts


def is_bookkeeping_only(change: CodeChange) -> bool:
    """A changed code whose only changes are its action code and action effective date.

    A quarterly file resets the previous quarter's actions to N, so hundreds of codes "change"
    that way each quarter (412 of the 441 changed codes of 2020-JAN -> 2020-OCT); they are counted
    apart so the real changes stand out in the charts.
    """
    return is_action_only(change)


def _kind_rows(diff: ReleaseDiff) -> tuple[KindRow, ...]:
    """Codes per kind, each split by category (the report's first table)."""
    by_kind = diff.counts_by_kind()
    by_category = diff.counts_by_kind_category()
    return tuple(
        KindRow(
            kind=kind.value,
            title=KIND_TITLES[kind],
            total=by_kind[kind],
            cells=tuple(by_category[kind][category] for category in diff.categories),
        )
        for kind in (*CHANGE_KINDS, ChangeKind.UNCHANGED)
    )


def _family_rows(changes: Iterable[CodeChange]) -> tuple[FamilyRow, ...]:
    """Changed codes per code family and kind, families in CMS's order, empty ones left out."""
    family_counts: dict[str, dict[ChangeKind, int]] = {}
    family_bookkeeping: dict[str, int] = {}
    for change in changes:
        family = code_family(change.code)
        row = family_counts.setdefault(family, dict.fromkeys(CHANGE_KINDS, 0))
        row[change.kind] += 1
        if is_bookkeeping_only(change):
            family_bookkeeping[family] = family_bookkeeping.get(family, 0) + 1
    return tuple(
        FamilyRow(
            family=family,
            letter=_FAMILY_LETTERS.get(family, ""),
            cells=tuple(family_counts[family][kind] for kind in CHANGE_KINDS),
            total=sum(family_counts[family].values()),
            bookkeeping=family_bookkeeping.get(family, 0),
        )
        for family in FAMILY_ORDER
        if family in family_counts
    )


def _css_kind(kind: ChangeKind) -> str:
    return KIND_TITLES[kind].replace(" ", "-")


def _family_segments(row: FamilyRow) -> list[tuple[str, int]]:
    """A family's bar: one segment per kind, bookkeeping-only changes split from the rest."""
    segments = []
    for kind, count in zip(CHANGE_KINDS, row.cells, strict=True):
        if kind is ChangeKind.CHANGED:
            segments.append((_css_kind(kind), count - row.bookkeeping))
            segments.append((BOOKKEEPING_TITLE.replace(" ", "-"), row.bookkeeping))
        else:
            segments.append((_css_kind(kind), count))
    return segments


_FAMILY_LEGEND: tuple[str, ...] = tuple(
    title
    for kind in CHANGE_KINDS
    for title in (
        (KIND_TITLES[kind], BOOKKEEPING_TITLE)
        if kind is ChangeKind.CHANGED
        else (KIND_TITLES[kind],)
    )
)


def _family_chart(families: Sequence[FamilyRow]) -> Chart:
    return chart(
        "Changed codes by family",
        [(f"{row.letter} {row.family}".strip(), _family_segments(row)) for row in families],
        _FAMILY_LEGEND,
    )


def _category_chart(diff: ReleaseDiff) -> Chart:
    """Codes with a change in each category, the action code left out (it is bookkeeping)."""
    by_category = diff.counts_by_kind_category()
    totals = {
        category: sum(by_category[kind][category] for kind in CHANGE_KINDS)
        for category in diff.categories
    }
    return chart(
        "Codes with a change, by category",
        [
            (category.value, [("category", totals[category])])
            for category in diff.categories
            if category is not Category.ACTION
        ],
        (),
    )


# ---------------------------------------------------------------------------------------------
# Codes listed whole: added, discontinued, re-activated, removed from the file


def _code_rows(
    changes: Iterable[CodeChange], kind: ChangeKind, describer: Describer
) -> tuple[CodeRow, ...]:
    return tuple(_listed_code(change, describer) for change in changes if change.kind is kind)


def _listed_code(change: CodeChange, describer: Describer) -> CodeRow:
    """The row of an added, discontinued, re-activated or purged code, with the note its kind
    calls for (a purged code's last state, a re-activated code's old termination...)."""
    if change.kind is ChangeKind.ADDED:
        assert change.new is not None
        note = "added already discontinued" if change.new.termination_date else ""
        return _code_row(change.new, describer, note)
    if change.kind is ChangeKind.PURGED:
        assert change.old is not None
        note = (
            f"was discontinued {date_text(change.old.termination_date)}"
            if change.old.termination_date
            else "was active: no termination date"
        )
        return _code_row(change.old, describer, note)
    assert change.new is not None and change.old is not None
    if change.kind is ChangeKind.REACTIVATED:
        note = f"was discontinued {date_text(change.old.termination_date)}"
        return _code_row(change.new, describer, note)
    return _code_row(change.new, describer)


def _code_row(record: Record, describer: Describer, note: str = "") -> CodeRow:
    return CodeRow(
        code=record.code,
        family=code_family(record.code),
        long_description=record.long_description,
        short_description=record.short_description,
        added_date=date_text(record.added_date),
        termination_date=date_text(record.termination_date),
        action_code=record.action_code or NONE_TEXT,
        coverage=(
            f"{record.coverage} ({decode('coverage', record.coverage) or 'not in the table'})"
            if record.coverage
            else NONE_TEXT
        ),
        replacements=describer.replacements(record.xrefs),
        note=note,
    )


def _kept_codes(changes: Iterable[CodeChange]) -> Iterable[CodeChange]:
    """Changes of codes in both releases, the ones whose fields are compared."""
    return (change for change in changes if change.kind not in _WHOLE_CODE_KINDS)


# ---------------------------------------------------------------------------------------------
# Field by field: descriptions, other field changes, reused codes


def _description_rows(changes: Iterable[CodeChange]) -> list[DescriptionRow]:
    """Every description change, cosmetic ones included (the caller splits them)."""
    rows = []
    for change in _kept_codes(changes):
        assert change.new is not None
        for fc in change.fields:
            if fc.category is not Category.DESCRIPTION:
                continue
            old, new = str(fc.old), str(fc.new)
            rows.append(
                DescriptionRow(
                    code=change.code,
                    field=fc.field,
                    label="long" if fc.field == "long_description" else "short",
                    old=old,
                    new=new,
                    tokens=word_tokens(old, new),
                    cosmetic=Flag.COSMETIC in fc.flags,
                    reused=Flag.REUSED in fc.flags,
                    action_code=change.new.action_code or NONE_TEXT,
                )
            )
    return rows


def _shown_as_field(fc: FieldChange) -> bool:
    """Whether a field change belongs in "Other field changes".

    Descriptions have their own section, the action code is the reconciliation's business, and
    the action effective date moves with every maintenance. A termination date set or cleared
    is the discontinued or re-activated section; one moved from a date to another is listed.
    """
    if fc.category not in FIELD_SECTION_CATEGORIES:
        return False
    if fc.field == "action_effective_date":
        return False
    return not (fc.field == "termination_date" and (fc.old is None or fc.new is None))


def _field_sections(
    changes: Iterable[CodeChange], describer: Describer
) -> tuple[FieldSection, ...]:
    """ "Other field changes", one section per category of `FIELD_SECTION_CATEGORIES` that has
    rows, rows in code order."""
    sections: dict[Category, list[FieldRow]] = {category: [] for category in Category}
    for change in _kept_codes(changes):
        for fc in change.fields:
            if _shown_as_field(fc):
                sections[fc.category].append(_field_row(change, fc, describer))
    return tuple(
        FieldSection(category.value, tuple(sections[category]))
        for category in FIELD_SECTION_CATEGORIES
        if sections[category]
    )


def _field_row(change: CodeChange, fc: FieldChange, describer: Describer) -> FieldRow:
    assert change.new is not None
    return FieldRow(
        code=change.code,
        kind=KIND_TITLES[change.kind],
        category=fc.category.value,
        field=fc.field,
        label=FIELD_LABELS.get(fc.field, fc.field),
        old=field_values(fc.field, fc.old, describer),
        new=field_values(fc.field, fc.new, describer),
        action_code=change.new.action_code or NONE_TEXT,
    )


def _reused_rows(changes: Iterable[CodeChange]) -> tuple[ReusedRow, ...]:
    """Codes CMS gave a new meaning (flagged reused), with how alike the descriptions are."""
    rows = []
    for change in _kept_codes(changes):
        if Flag.REUSED not in change.flags:
            continue
        assert change.new is not None and change.old is not None
        old_text, new_text = change.old.long_description, change.new.long_description
        rows.append(
            ReusedRow(
                code=change.code,
                old_description=old_text,
                new_description=new_text,
                old_added_date=date_text(change.old.added_date),
                new_added_date=date_text(change.new.added_date),
                similarity=f"{description_similarity(old_text, new_text):.2f}",
            )
        )
    return tuple(rows)


# ---------------------------------------------------------------------------------------------
# Reconciliation findings


def finding_row(finding: Finding, step: str = "") -> FindingRow:
    """A finding as a row; `step` names the release pair it came from in a year report."""
    return FindingRow(
        code=finding.code,
        step=step,
        direction=finding.direction.value,
        rule=finding.rule.value,
        declared=finding.declared or NONE_TEXT,
        action=finding.action or NONE_TEXT,
        message=finding.message,
        cosmetic=Flag.COSMETIC in finding.flags,
        reused=Flag.REUSED in finding.flags,
    )


def group_findings(rows: Sequence[FindingRow]) -> tuple[FindingGroup, ...]:
    """Rows by direction, every direction present (in the enum's order) even when empty."""
    return tuple(
        FindingGroup(
            direction=direction.value,
            title=DIRECTION_TITLES[direction],
            rows=tuple(row for row in rows if row.direction == direction.value),
        )
        for direction in Direction
    )


def _finding_counts(findings: Iterable[Finding]) -> tuple[FindingCount, ...]:
    counts: dict[tuple[str, str], int] = {}
    for finding in findings:
        key = (finding.direction.value, finding.action or NONE_TEXT)
        counts[key] = counts.get(key, 0) + 1
    order = {direction.value: index for index, direction in enumerate(Direction)}
    return tuple(
        FindingCount(direction, action, count)
        for (direction, action), count in sorted(
            counts.items(), key=lambda item: (order[item[0][0]], item[0][1])
        )
    )


# ---------------------------------------------------------------------------------------------
# A code set without end dates (ICD-10): added, deleted, titles revised, billable <-> header


def replacement_codes(diff: ReleaseDiff) -> set[str]:
    """Every code the conversion tables name as a deleted code's replacement in `diff`."""
    return {code for codes in diff.replaced_by.values() for code in codes}


def replacement_views(
    diff: ReleaseDiff, code: str, describer: Describer
) -> tuple[Replacement, ...]:
    """A deleted code's replacements (ICD-10's conversion tables), described from the new
    release and written as people read them."""
    show = get_code_set(diff.code_set).display_code
    return tuple(
        dataclasses.replace(item, code=show(item.code))
        for item in describer.replacements(diff.replaced_by.get(code, ()))
    )


def _presence_report(diff: ReleaseDiff, title: str, describer: Describer) -> ReportView:
    """The view of a diff of a code set whose records carry no end dates (ICD-10).

    The same view as HCPCS's, filled with what such a diff has: codes added (reused ones
    flagged, with their earlier meaning) and deleted, title revisions (cosmetic ones apart),
    codes switched between billable and header, and the addenda against the diff. Codes are
    shown as people write them (ICD-10-CM with its dot), families are the code set's
    (ICD-10-CM chapters, ICD-10-PCS sections).
    """
    code_set = get_code_set(diff.code_set)
    show = code_set.display_code
    kinds = listed_kinds(diff.code_set)
    families = _presence_families(diff, kinds)
    descriptions = [
        DescriptionRow(
            code=show(change.code),
            field=fc.field,
            label="long" if fc.field == "long_title" else "short",
            old=str(fc.old),
            new=str(fc.new),
            tokens=word_tokens(str(fc.old), str(fc.new)),
            cosmetic=Flag.COSMETIC in fc.flags,
            reused=Flag.REUSED in fc.flags,
            action_code=NONE_TEXT,
        )
        for change in diff.changes
        if change.kind is ChangeKind.CHANGED
        for fc in change.fields
        if fc.category is Category.TITLE
    ]
    finding_rows = [
        dataclasses.replace(finding_row(finding), code=show(finding.code))
        for finding in diff.findings
    ]
    summary = diff.summary_counts()
    reconciliation = diff.reconciliation
    return ReportView(
        title=title or f"{code_set.title} changes {diff.old.display} → {diff.new.display}",
        old=release_view(diff.old),
        new=release_view(diff.new),
        consecutive=reconciliation.reconciled,
        reconciled=reconciliation.reconciled,
        reference=reconciliation.reference,
        reference_basis=reconciliation.basis,
        reconciliation_note=sentence(reconciliation.reason),
        missing=reconciliation.missing,
        categories=tuple(category.value for category in diff.categories),
        kind_titles=tuple(KIND_TITLES[kind] for kind in kinds),
        kinds=tuple(
            KindRow(
                kind=kind.value,
                title=KIND_TITLES[kind],
                total=diff.counts_by_kind()[kind],
                cells=tuple(diff.counts_by_kind_category()[kind][c] for c in diff.categories),
            )
            for kind in (*kinds, ChangeKind.UNCHANGED)
        ),
        added_codes=summary["added"],
        changed_codes=summary["changed"],
        unchanged_codes=diff.unchanged_count,
        bookkeeping_codes=0,
        representation_codes=0,
        families=families,
        family_chart=chart(
            "Changed codes by family",
            [(row.family, list(zip(_kind_css(kinds), row.cells, strict=True))) for row in families],
            tuple(KIND_TITLES[kind] for kind in kinds),
        ),
        category_chart=chart(
            "Codes with a change, by category",
            [
                (category.value, [("category", _category_total(diff, kinds, category))])
                for category in diff.categories
            ],
            (),
        ),
        added=tuple(
            _presence_row(change, change.new, show, code_set.family)
            for change in diff.by_kind(ChangeKind.ADDED)
        ),
        discontinued=(),
        reactivated=(),
        purged=(),
        descriptions=tuple(row for row in descriptions if not row.cosmetic),
        cosmetic_descriptions=tuple(row for row in descriptions if row.cosmetic),
        field_sections=(),
        finding_counts=_finding_counts(diff.findings),
        findings=tuple(
            dataclasses.replace(group, title=ADDENDA_DIRECTION_TITLES[Direction(group.direction)])
            for group in group_findings([row for row in finding_rows if not row.cosmetic])
        ),
        cosmetic_findings=tuple(row for row in finding_rows if row.cosmetic),
        reused=tuple(
            ReusedRow(
                code=show(change.code),
                old_description=str(getattr(change.earlier[1], "long_title", "")),
                new_description=str(getattr(change.new, "long_title", "")),
                old_added_date=change.earlier[0].display,
                new_added_date=diff.new.display,
                similarity=(
                    f"{description_similarity(str(getattr(change.earlier[1], 'long_title', '')), str(getattr(change.new, 'long_title', ''))):.2f}"  # noqa: E501
                ),
            )
            for change in diff.by_kind(ChangeKind.ADDED)
            if Flag.REUSED in change.flags and change.earlier is not None
        ),
        code_set=code_set.name,
        code_set_title=code_set.title,
        deleted=tuple(
            dataclasses.replace(
                _presence_row(change, change.old, show, code_set.family),
                replacements=replacement_views(diff, change.code, describer),
            )
            for change in diff.by_kind(ChangeKind.DELETED)
        ),
        switched=tuple(
            SwitchRow(
                code=show(change.code),
                family=code_set.family(change.code),
                old=_status(change.old),
                new=_status(change.new),
                long_description=str(getattr(change.new, "long_title", "")),
            )
            for change in diff.changes
            if change.field("billable") is not None
        ),
        retitled_codes=sum(1 for change in diff.changes if Category.TITLE in change.categories),
        addenda=_addenda_view(diff),
    )


def _kind_css(kinds: Sequence[ChangeKind]) -> list[str]:
    return [_css_kind(kind) for kind in kinds]


def _category_total(diff: ReleaseDiff, kinds: Sequence[ChangeKind], category: Category) -> int:
    by_category = diff.counts_by_kind_category()
    return sum(by_category[kind][category] for kind in kinds)


def _presence_families(diff: ReleaseDiff, kinds: Sequence[ChangeKind]) -> tuple[FamilyRow, ...]:
    """Changed codes per family (ICD-10-CM chapter, ICD-10-PCS section) and kind, families in
    the code set's order, empty ones left out."""
    code_set = get_code_set(diff.code_set)
    counts: dict[str, dict[ChangeKind, int]] = {}
    for change in diff.changes:
        row = counts.setdefault(code_set.family(change.code), dict.fromkeys(kinds, 0))
        row[change.kind] += 1
    return tuple(
        FamilyRow(
            family=family,
            letter="",
            cells=tuple(counts[family][kind] for kind in kinds),
            total=sum(counts[family].values()),
            bookkeeping=0,
        )
        for family in code_set.families
        if family in counts
    )


def _status(record: CodeRecord | None) -> str:
    return "billable" if getattr(record, "billable", False) else "header"


def _presence_row(
    change: CodeChange,
    record: CodeRecord | None,
    show: Callable[[str], str],
    family: Callable[[str], str],
) -> CodeRow:
    """An added or deleted code: its titles, whether billable, and for a code added again,
    the release that carried it before (reused: with another title)."""
    assert record is not None
    note = ""
    if change.earlier is not None:
        before, earlier = change.earlier
        note = (
            f"reused: in {before.display} it was {getattr(earlier, 'long_title', '')!r}"
            if Flag.REUSED in change.flags
            else f"added again: last in {before.display} with the same title"
        )
    return CodeRow(
        code=show(change.code),
        family=family(change.code),
        long_description=str(getattr(record, "long_title", "")),
        short_description=str(getattr(record, "short_title", "")),
        added_date=NONE_TEXT,
        termination_date=NONE_TEXT,
        action_code=NONE_TEXT,
        coverage=_status(record),
        replacements=(),
        note=note,
    )


_COUNT_NAMES: Mapping[str, str] = {
    "additions": "additions",
    "deletions": "deletions",
    "revisions": "revisions",
    "both_titles": "of which both titles",
    "long_only": "of which long title only",
    "short_only": "of which short title only",
}


def _addenda_view(diff: ReleaseDiff) -> AddendaView | None:
    check = diff.addenda
    if check is None:
        return None
    return AddendaView(
        file=check.file,
        comparable=check.comparable,
        agrees=check.agrees,
        reason=sentence(check.reason),
        lines=tuple(
            CountRow(action, str(n), check.observed[action], n == check.observed[action])
            for action, n in check.declared.items()
        ),
        sections=tuple(
            AddendaSection(
                "Billable codes" if section.section == "codes" else "Headers",
                tuple(
                    CountRow(
                        _COUNT_NAMES[name],
                        "" if section.declared.get(name) is None else str(section.declared[name]),
                        observed,
                        section.declared.get(name) in (None, observed),
                    )
                    for name, observed in section.observed.items()
                ),
            )
            for section in check.sections
        ),
    )
