"""Building the report views from diffs: a diff turned into display-ready rows.

Everything a template or a CSV row shows is computed here, including the one batch of store
lookups a report needs (replacement codes' descriptions, prefetched from the new release's
snapshot), so rendering never reads the store.

Everything is ordered explicitly (by code, then by the enums' declared order) and carries no
clock time, so the same releases always give the same bytes.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any

from tracker.codesets.hcpcs.codepage import LABELS, field_rows
from tracker.codesets.hcpcs.codetables import (
    CODE_FAMILIES,
    FAMILY_ORDER,
    FIELD_TABLES,
    code_family,
    decode,
)
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
    YearDiff,
    description_similarity,
    is_action_only,
)
from tracker.release import ReleaseInfo, Snapshot
from tracker.report.charts import chart
from tracker.report.views import (
    CodePageView,
    CodeRow,
    DescriptionRow,
    FamilyRow,
    FieldRow,
    FieldSection,
    FindingCount,
    FindingGroup,
    FindingRow,
    KindRow,
    ReleaseView,
    Replacement,
    ReportView,
    ReusedRow,
    StepRow,
    Token,
    TransientRow,
    Value,
    YearView,
)

NONE_TEXT = "—"
"""Shown for an empty value, so a blank cell never reads as "forgot to fill in"."""

# Kinds a report lists, in reading order; `unchanged` is a count, never a list.
CHANGE_KINDS: tuple[ChangeKind, ...] = (
    ChangeKind.ADDED,
    ChangeKind.TERMINATED,
    ChangeKind.REACTIVATED,
    ChangeKind.CHANGED,
    ChangeKind.PURGED,
)
KIND_TITLES: Mapping[ChangeKind, str] = {
    ChangeKind.ADDED: "added",
    ChangeKind.TERMINATED: "discontinued",
    ChangeKind.REACTIVATED: "re-activated",
    ChangeKind.CHANGED: "changed",
    ChangeKind.PURGED: "removed from the file",
    ChangeKind.UNCHANGED: "unchanged",
}
# Categories with a section of their own in "Other field changes", in that order. Lifecycle
# rows are limited to the added date and moved termination dates; see `_field_rows`.
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
BOOKKEEPING_FIELDS = frozenset({"action_code", "action_effective_date"})
BOOKKEEPING_TITLE = "action code only"
_FAMILY_LETTERS: Mapping[str, str] = {name: letter for letter, name in CODE_FAMILIES.items()}


# ---------------------------------------------------------------------------------------------
# Small conversions


def _date(value: date | None) -> str:
    return value.isoformat() if value is not None else NONE_TEXT


def _text(value: Any) -> str:
    if value is None or value == "":
        return NONE_TEXT
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _sentence(text: str) -> str:
    """`text` with its first letter capitalized, the rest untouched (labels, codes)."""
    return text[:1].upper() + text[1:]


def release_view(info: ReleaseInfo) -> ReleaseView:
    parser = f"{info.parser} {info.parser_version}".strip()
    return ReleaseView(
        display=info.display,
        label=info.label,
        issue=info.issue,
        effective_date=info.effective_date.isoformat(),
        kind=info.kind.value,
        source_name=info.source_name or NONE_TEXT,
        source_sha256=info.source_sha256 or NONE_TEXT,
        content_sha256=info.content_sha256 or NONE_TEXT,
        record_count=info.record_count,
        parser=parser or NONE_TEXT,
        version_marker=info.version_marker or "",
        anomalies=tuple(str(anomaly) for anomaly in info.anomalies),
    )


class Describer:
    """Looks up codes' long descriptions for XREF replacements.

    The diff holds only the records that changed; a replacement code usually did not, so the
    new release's snapshot is asked (in one batch) when the caller has it. Without it the
    diff's own records are the fallback, and a code found nowhere says so.
    """

    def __init__(self, snapshot: Snapshot | None, changes: Iterable[CodeChange]) -> None:
        self._snapshot = snapshot
        self._known: dict[str, str] = {}
        for change in changes:
            record = change.new if change.new is not None else change.old
            if record is not None:
                self._known[change.code] = record.long_description
        self._label = snapshot.info.display if snapshot is not None else ""

    def prefetch(self, codes: Iterable[str]) -> None:
        if self._snapshot is None:
            return
        wanted = sorted({code for code in codes if code})
        for code, record in self._snapshot.records(wanted).items():
            self._known[code] = record.long_description

    def replacements(self, codes: Sequence[str]) -> tuple[Replacement, ...]:
        out = []
        for code in codes:
            if not code:
                continue
            if code in self._known:
                out.append(Replacement(code, self._known[code], True))
            elif self._snapshot is not None:
                out.append(Replacement(code, f"not in {self._label}", False))
            else:
                out.append(Replacement(code, "description not loaded", False))
        return tuple(out)


_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")


def word_tokens(old: str, new: str) -> tuple[Token, ...]:
    """Word-level edit of `old` into `new`, for the <del>/<ins> highlight.

    Words, whitespace runs and punctuation marks are tokens of their own: the joined `same` and
    `ins` tokens give back `new` exactly, `same` and `del` give back `old`, and a comma that
    moves does not make its whole word look replaced.
    """
    a = _TOKEN.findall(old)
    b = _TOKEN.findall(new)
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    tokens: list[Token] = []

    def emit(op: str, parts: Sequence[str]) -> None:
        text = "".join(parts)
        if not text:
            return
        if tokens and tokens[-1].op == op:
            tokens[-1] = Token(op, tokens[-1].text + text)
        else:
            tokens.append(Token(op, text))

    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            emit("same", a[i1:i2])
        else:
            emit("del", a[i1:i2])
            emit("ins", b[j1:j2])
    return tuple(tokens)


def field_values(
    field: str, value: Any, describer: Describer, *, empty: str = NONE_TEXT
) -> tuple[Value, ...]:
    """A field value as shown: tuples item by item, coded values with their meaning.

    XREFs are codes, so their meaning is the replacement code's description.
    """
    items = value if isinstance(value, tuple) else (value,)
    if field == "xrefs":
        values = tuple(Value(r.code, r.description) for r in describer.replacements(items))
        return values or (Value(empty, ""),)
    out = []
    for item in items:
        text = _text(item)
        meaning = ""
        if text == NONE_TEXT:
            text = empty
        elif field in FIELD_TABLES:
            meaning = decode(field, text) or "(not in the CMS code table)"
        out.append(Value(text, meaning))
    return tuple(out) or (Value(empty, ""),)


def is_bookkeeping_only(change: CodeChange) -> bool:
    """A changed code whose only changes are its action code and action effective date.

    A quarterly file resets the previous quarter's actions to N, so hundreds of codes "change"
    that way each quarter (412 of the 441 changed codes of 2020-JAN -> 2020-OCT); they are counted
    apart so the real changes stand out in the charts.
    """
    return is_action_only(change)


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


# ---------------------------------------------------------------------------------------------
# Building a release report


def _code_row(record: Record, describer: Describer, note: str = "") -> CodeRow:
    return CodeRow(
        code=record.code,
        family=code_family(record.code),
        long_description=record.long_description,
        short_description=record.short_description,
        added_date=_date(record.added_date),
        termination_date=_date(record.termination_date),
        action_code=record.action_code or NONE_TEXT,
        coverage=(
            f"{record.coverage} ({decode('coverage', record.coverage) or 'not in the table'})"
            if record.coverage
            else NONE_TEXT
        ),
        replacements=describer.replacements(record.xrefs),
        note=note,
    )


def _description_rows(change: CodeChange) -> list[DescriptionRow]:
    assert change.new is not None
    rows = []
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


def _shown_as_field(change: CodeChange, fc: FieldChange) -> bool:
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


def _field_row(change: CodeChange, fc: FieldChange, describer: Describer) -> FieldRow:
    assert change.new is not None
    old = field_values(fc.field, fc.old, describer)
    new = field_values(fc.field, fc.new, describer)
    return FieldRow(
        code=change.code,
        kind=KIND_TITLES[change.kind],
        category=fc.category.value,
        field=fc.field,
        label=FIELD_LABELS.get(fc.field, fc.field),
        old=old,
        new=new,
        action_code=change.new.action_code or NONE_TEXT,
    )


def _finding_row(finding: Finding, step: str = "") -> FindingRow:
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


def _group_findings(rows: Sequence[FindingRow]) -> tuple[FindingGroup, ...]:
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


def _prefetch_codes(changes: Iterable[CodeChange]) -> set[str]:
    codes: set[str] = set()
    for change in changes:
        for record in (change.old, change.new):
            if record is not None:
                codes.update(record.xrefs)
    return codes


def build_report(
    diff: ReleaseDiff,
    *,
    new_snapshot: Snapshot | None = None,
    describer: Describer | None = None,
    title: str = "",
) -> ReportView:
    """The view of one diff; `new_snapshot` (release `diff.new`) decodes XREF replacements."""
    if describer is None:
        describer = Describer(new_snapshot, diff.changes)
        describer.prefetch(_prefetch_codes(diff.changes))
    categories = tuple(Category)
    by_kind = diff.counts_by_kind()
    by_category = diff.counts_by_kind_category()
    kinds = tuple(
        KindRow(
            kind=kind.value,
            title=KIND_TITLES[kind],
            total=by_kind[kind],
            cells=tuple(by_category[kind][category] for category in categories),
        )
        for kind in (*CHANGE_KINDS, ChangeKind.UNCHANGED)
    )

    family_counts: dict[str, dict[ChangeKind, int]] = {}
    family_bookkeeping: dict[str, int] = {}
    for change in diff.changes:
        family = code_family(change.code)
        row = family_counts.setdefault(family, dict.fromkeys(CHANGE_KINDS, 0))
        row[change.kind] += 1
        if is_bookkeeping_only(change):
            family_bookkeeping[family] = family_bookkeeping.get(family, 0) + 1
    families = tuple(
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
    kind_titles = tuple(KIND_TITLES[kind] for kind in CHANGE_KINDS)
    family_chart = chart(
        "Changed codes by family",
        [(f"{row.letter} {row.family}".strip(), _family_segments(row)) for row in families],
        _FAMILY_LEGEND,
    )
    category_totals = {
        category: sum(by_category[kind][category] for kind in CHANGE_KINDS)
        for category in categories
    }
    category_chart = chart(
        "Codes with a change, by category",
        [
            (category.value, [("category", category_totals[category])])
            for category in categories
            if category is not Category.ACTION
        ],
        (),
    )

    added, discontinued, reactivated, purged = [], [], [], []
    descriptions: list[DescriptionRow] = []
    sections: dict[Category, list[FieldRow]] = {category: [] for category in categories}
    reused: list[ReusedRow] = []
    for change in diff.changes:
        if change.kind is ChangeKind.ADDED:
            assert change.new is not None
            note = "added already discontinued" if change.new.termination_date else ""
            added.append(_code_row(change.new, describer, note))
            continue
        if change.kind is ChangeKind.PURGED:
            assert change.old is not None
            note = (
                f"was discontinued {_date(change.old.termination_date)}"
                if change.old.termination_date
                else "was active: no termination date"
            )
            purged.append(_code_row(change.old, describer, note))
            continue
        assert change.new is not None and change.old is not None
        if change.kind is ChangeKind.TERMINATED:
            discontinued.append(_code_row(change.new, describer))
        elif change.kind is ChangeKind.REACTIVATED:
            note = f"was discontinued {_date(change.old.termination_date)}"
            reactivated.append(_code_row(change.new, describer, note))
        descriptions.extend(_description_rows(change))
        for fc in change.fields:
            if _shown_as_field(change, fc):
                sections[fc.category].append(_field_row(change, fc, describer))
        if Flag.REUSED in change.flags:
            old_text, new_text = change.old.long_description, change.new.long_description
            reused.append(
                ReusedRow(
                    code=change.code,
                    old_description=old_text,
                    new_description=new_text,
                    old_added_date=_date(change.old.added_date),
                    new_added_date=_date(change.new.added_date),
                    similarity=f"{description_similarity(old_text, new_text):.2f}",
                )
            )

    finding_rows = [_finding_row(finding) for finding in diff.findings]
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
        reconciliation_note=_sentence(reconciliation.reason),
        missing=reconciliation.missing,
        categories=tuple(category.value for category in categories),
        kind_titles=kind_titles,
        kinds=kinds,
        added_codes=summary["added"],
        changed_codes=summary["changed"],
        unchanged_codes=diff.unchanged_count,
        bookkeeping_codes=summary["action_only"],
        representation_codes=summary["representation_only"],
        families=families,
        family_chart=family_chart,
        category_chart=category_chart,
        added=tuple(added),
        discontinued=tuple(discontinued),
        reactivated=tuple(reactivated),
        purged=tuple(purged),
        descriptions=tuple(row for row in descriptions if not row.cosmetic),
        cosmetic_descriptions=tuple(row for row in descriptions if row.cosmetic),
        field_sections=tuple(
            FieldSection(category.value, tuple(sections[category]))
            for category in FIELD_SECTION_CATEGORIES
            if sections[category]
        ),
        finding_counts=_finding_counts(diff.findings),
        findings=_group_findings([row for row in finding_rows if not row.cosmetic]),
        cosmetic_findings=tuple(row for row in finding_rows if row.cosmetic),
        reused=tuple(reused),
        transaction_report=diff.transaction_report,
        corrections=diff.corrections,
    )


# ---------------------------------------------------------------------------------------------
# Building a year report


def _step_row(step: ReleaseDiff) -> StepRow:
    counts = step.counts_by_kind()
    by_category = step.counts_by_kind_category()

    def category(name: Category) -> int:
        return sum(by_category[kind][name] for kind in CHANGE_KINDS)

    codes = tuple(
        (KIND_TITLES[kind], tuple(change.code for change in step.by_kind(kind)))
        for kind in CHANGE_KINDS
        if counts[kind]
    )
    return StepRow(
        old=step.old.display,
        new=step.new.display,
        cells=tuple(counts[kind] for kind in CHANGE_KINDS),
        descriptions=sum(
            1
            for change in step.changes
            if any(
                fc.category is Category.DESCRIPTION and Flag.COSMETIC not in fc.flags
                for fc in change.fields
            )
        ),
        payment=category(Category.PAYMENT),
        coverage=category(Category.COVERAGE),
        classification=category(Category.CLASSIFICATION),
        findings=len(step.findings),
        codes=codes,
        reconciled=step.reconciled,
        reconciliation_note=_sentence(step.reconciliation.reason),
    )


def build_year(year: YearDiff, *, last_snapshot: Snapshot | None = None) -> YearView:
    """The view of a year; `last_snapshot` (the year's last release) decodes XREFs."""
    overall = year.overall
    describer = Describer(last_snapshot, overall.changes)
    describer.prefetch(
        _prefetch_codes(overall.changes)
        | {code for transient in year.transient for code in transient.record.xrefs}
    )
    first, last = year.releases[0], year.releases[-1]
    span = first.display if first == last else f"{first.display} → {last.display}"
    title = f"HCPCS changes in {first.effective_date.year}: {span}"
    view = _with_step_actions(build_report(overall, describer=describer, title=title), year)
    step_rows = [
        _finding_row(finding, f"{step.old.display} → {step.new.display}")
        for step in year.steps
        for finding in step.findings
    ]
    return YearView(
        title=title,
        releases=tuple(release_view(info) for info in year.releases),
        overall=view,
        kind_titles=tuple(KIND_TITLES[kind] for kind in CHANGE_KINDS),
        steps=tuple(_step_row(step) for step in year.steps),
        step_findings=_group_findings([row for row in step_rows if not row.cosmetic]),
        step_cosmetic_findings=tuple(row for row in step_rows if row.cosmetic),
        transient=tuple(
            TransientRow(
                code=item.code,
                long_description=item.record.long_description,
                added_date=_date(item.record.added_date),
                first_seen=item.first_seen,
                last_seen=item.last_seen,
                ended=KIND_TITLES[item.ended],
                ended_in=item.ended_in,
                termination_date=_date(item.termination_date),
                replacements=describer.replacements(item.record.xrefs),
            )
            for item in year.transient
        ),
        missing=year.missing,
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


# ---------------------------------------------------------------------------------------------
# Code page


def build_code_page(info: ReleaseInfo, record: Record) -> CodePageView:
    status = (
        f"terminated {record.termination_date.isoformat()}" if record.termination_date else "active"
    )
    return CodePageView(
        release=release_view(info),
        code=record.code,
        kind=record.kind.value,
        family=code_family(record.code),
        long_description=record.long_description,
        short_description=record.short_description,
        status=status,
        rows=tuple(field_rows(record)),
    )


# ---------------------------------------------------------------------------------------------
# CSV

CSV_COLUMNS: tuple[str, ...] = (
    "old_release",
    "new_release",
    "code",
    "family",
    "kind",
    "code_flags",
    "category",
    "field",
    "old",
    "new",
    "old_meaning",
    "new_meaning",
    "field_flags",
    "declared_action",
    "long_description",
)


def diff_csv_rows(diff: ReleaseDiff, *, new_snapshot: Snapshot | None = None) -> list[list[str]]:
    """The CSV rows of one release pair (columns `CSV_COLUMNS`), replacement codes described
    from `new_snapshot` as in `build_report`."""
    describer = Describer(new_snapshot, diff.changes)
    describer.prefetch(_xref_codes(diff))
    return [*_diff_rows(diff, describer), *_companion_rows(diff)]


def year_csv_rows(year: YearDiff, *, last_snapshot: Snapshot | None = None) -> list[list[str]]:
    """The annual CSV rows (columns `scope` then `CSV_COLUMNS`): the year as a whole, then each
    quarter."""
    rows: list[list[str]] = []
    describer = Describer(last_snapshot, year.overall.changes)
    describer.prefetch(_xref_codes(year.overall))
    rows += (["year", *row] for row in _diff_rows(year.overall, describer))
    for step in year.steps:
        # Intermediate releases' snapshots are not at hand; the last release and the
        # step's own records describe its replacement codes.
        step_describer = Describer(last_snapshot, step.changes)
        step_describer.prefetch(_xref_codes(step))
        rows += (["quarter", *row] for row in _diff_rows(step, step_describer))
    return rows


def _xref_codes(diff: ReleaseDiff) -> set[str]:
    codes: set[str] = set()
    for change in diff.changes:
        for record in (change.old, change.new):
            if record is not None:
                codes.update(record.xrefs)
    return codes


def _diff_rows(diff: ReleaseDiff, describer: Describer) -> Iterator[list[str]]:
    """One row per added/removed code, one per field change of every other changed code."""
    old_label, new_label = diff.old.display, diff.new.display
    for change in diff.changes:
        record = change.new if change.new is not None else change.old
        assert record is not None
        head = [
            old_label,
            new_label,
            change.code,
            code_family(change.code),
            change.kind.value,
            " ".join(sorted(flag.value for flag in change.flags)),
        ]
        tail = [change.new.action_code if change.new is not None else "", record.long_description]
        if not change.fields:
            yield [*head, "", "", "", "", "", "", "", *tail]
            continue
        for fc in change.fields:
            old = field_values(fc.field, fc.old, describer, empty="")
            new = field_values(fc.field, fc.new, describer, empty="")
            yield [
                *head,
                fc.category.value,
                fc.field,
                "; ".join(value.text for value in old),
                "; ".join(value.text for value in new),
                "; ".join(value.meaning for value in old if value.meaning),
                "; ".join(value.meaning for value in new if value.meaning),
                " ".join(sorted(flag.value for flag in fc.flags)),
                *tail,
            ]


def _companion_rows(diff: ReleaseDiff) -> Iterator[list[str]]:
    """CMS's transaction report vs its data file, one row per disagreement (category
    `transaction_report`, field the kind of disagreement, old/new the report's and the file's
    action letters); a corrections file's rows (category `corrections`), the row as text."""
    blank = ["", "", "", ""]
    old_label, new_label = diff.old.display, diff.new.display
    check = diff.transaction_report
    if check is not None:
        for item in check.disagreements:
            head = [old_label, new_label, item.code, "", "", ""]
            yield [
                *head,
                "transaction_report",
                item.kind,
                item.report_action or "",
                item.file_action or "",
                *blank[:3],
                item.file_action or "",
                check.report,
            ]
    for listing in diff.corrections:
        for row in listing.rows:
            yield [
                old_label,
                new_label,
                "",
                "",
                "",
                "",
                "corrections",
                listing.file,
                "",
                "",
                "",
                "",
                "",
                "",
                row,
            ]
