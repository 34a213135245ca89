"""The view dataclasses every report template reads: display-ready rows, counts, chart geometry.

Templates only lay out what is here (the "templates never compute" rule of ARCHITECTURE.md):
counts, decoded values, word-level highlight tokens and SVG bar geometry are all precomputed
by the builders of `tracker.report` (`build`, `year`, `codepage`, with `describe`, `words` and
`charts`), so a user who overrides a template cannot get a figure wrong, and the Markdown and
HTML reports can never disagree with each other or with the CSV and JSON.
"""

from __future__ import annotations

from dataclasses import dataclass

from tracker.codesets.hcpcs.corrections import CorrectionsListing
from tracker.codesets.hcpcs.transreport import ReportCheck


@dataclass(frozen=True, slots=True)
class ReleaseView:
    display: str
    label: str
    issue: int
    effective_date: str
    kind: str
    source_name: str
    source_sha256: str
    content_sha256: str
    record_count: int
    parser: str
    version_marker: str = ""
    anomalies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class KindRow:
    kind: str
    title: str
    total: int
    cells: tuple[int, ...]
    """One count per `ReportView.categories`, same order."""


@dataclass(frozen=True, slots=True)
class FamilyRow:
    family: str
    letter: str
    cells: tuple[int, ...]
    """One count per `CHANGE_KINDS`, same order."""
    total: int
    bookkeeping: int
    """Of the changed codes, those whose only change is bookkeeping (`is_bookkeeping_only`)."""


@dataclass(frozen=True, slots=True)
class Segment:
    kind: str
    x: int
    width: int
    value: int


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    y: int
    text_y: int
    segments: tuple[Segment, ...]
    total: int
    total_x: int


@dataclass(frozen=True, slots=True)
class LegendItem:
    kind: str
    title: str
    x: int
    text_x: int


@dataclass(frozen=True, slots=True)
class Chart:
    """A horizontal bar chart, every coordinate in SVG user units."""

    title: str
    width: int
    height: int
    label_width: int
    bar_height: int
    bars: tuple[Bar, ...]
    legend: tuple[LegendItem, ...]
    legend_y: int
    empty: bool


@dataclass(frozen=True, slots=True)
class Replacement:
    code: str
    description: str
    known: bool
    """False when `description` only says why there is none."""


@dataclass(frozen=True, slots=True)
class CodeRow:
    """A code that appears or disappears as a whole (added, discontinued, re-activated...)."""

    code: str
    family: str
    long_description: str
    short_description: str
    added_date: str
    termination_date: str
    action_code: str
    coverage: str
    replacements: tuple[Replacement, ...]
    note: str


@dataclass(frozen=True, slots=True)
class Token:
    op: str
    """`same`, `del` or `ins`."""
    text: str


@dataclass(frozen=True, slots=True)
class DescriptionRow:
    code: str
    field: str
    label: str
    old: str
    new: str
    tokens: tuple[Token, ...]
    cosmetic: bool
    reused: bool
    action_code: str


@dataclass(frozen=True, slots=True)
class Value:
    """A field value with its meaning from the CMS code tables ('' when it has none)."""

    text: str
    meaning: str


@dataclass(frozen=True, slots=True)
class FieldRow:
    code: str
    kind: str
    category: str
    field: str
    label: str
    old: tuple[Value, ...]
    new: tuple[Value, ...]
    action_code: str


@dataclass(frozen=True, slots=True)
class FieldSection:
    category: str
    rows: tuple[FieldRow, ...]


@dataclass(frozen=True, slots=True)
class FindingRow:
    code: str
    step: str
    direction: str
    rule: str
    declared: str
    action: str
    message: str
    cosmetic: bool
    reused: bool


@dataclass(frozen=True, slots=True)
class FindingGroup:
    direction: str
    title: str
    rows: tuple[FindingRow, ...]


@dataclass(frozen=True, slots=True)
class FindingCount:
    direction: str
    action: str
    count: int


@dataclass(frozen=True, slots=True)
class ReusedRow:
    code: str
    old_description: str
    new_description: str
    old_added_date: str
    new_added_date: str
    similarity: str


@dataclass(frozen=True, slots=True)
class SwitchRow:
    """A code that turned from billable to header or back (ICD-10), with its titles now."""

    code: str
    family: str
    old: str
    new: str
    long_description: str


@dataclass(frozen=True, slots=True)
class CountRow:
    """One count of the addenda against the diff's: `declared` '' when the file gives none."""

    name: str
    declared: str
    observed: int
    agrees: bool


@dataclass(frozen=True, slots=True)
class AddendaSection:
    title: str
    rows: tuple[CountRow, ...]


@dataclass(frozen=True, slots=True)
class AddendaView:
    """ICD-10: the new release's addenda (its declared changes) against the diff."""

    file: str
    comparable: bool
    agrees: bool
    reason: str
    lines: tuple[CountRow, ...]
    """Addenda lines per action against the diff's changes in the same terms."""
    sections: tuple[AddendaSection, ...]
    """The addenda summary's counts (billable codes, headers) against the diff's."""


@dataclass(frozen=True, slots=True)
class ReportView:
    """One release pair's report; also the first-vs-last part of a year report."""

    title: str
    old: ReleaseView
    new: ReleaseView
    consecutive: bool
    """Same as `reconciled` (the name templates used first)."""
    reconciled: bool
    reference: str
    """The release whose changes `new`'s action codes describe ('' when not determined)."""
    reference_basis: str
    reconciliation_note: str
    """Why the action codes were not reconciled, as a sentence ('' when they were)."""
    missing: tuple[str, ...]
    """Releases not stored that a reconciliation would need."""
    categories: tuple[str, ...]
    kind_titles: tuple[str, ...]
    """Titles of `CHANGE_KINDS`, the columns of `families`."""
    kinds: tuple[KindRow, ...]
    added_codes: int
    changed_codes: int
    """Codes of the old release with a field change; added and action-code-only excluded."""
    unchanged_codes: int
    bookkeeping_codes: int
    """Codes whose only change is the action code or its effective date."""
    representation_codes: int
    """Codes that differ only in how a value is written (0 vs blank...): counted unchanged."""
    families: tuple[FamilyRow, ...]
    family_chart: Chart
    category_chart: Chart
    added: tuple[CodeRow, ...]
    discontinued: tuple[CodeRow, ...]
    reactivated: tuple[CodeRow, ...]
    purged: tuple[CodeRow, ...]
    descriptions: tuple[DescriptionRow, ...]
    cosmetic_descriptions: tuple[DescriptionRow, ...]
    field_sections: tuple[FieldSection, ...]
    finding_counts: tuple[FindingCount, ...]
    findings: tuple[FindingGroup, ...]
    cosmetic_findings: tuple[FindingRow, ...]
    reused: tuple[ReusedRow, ...]
    # CMS's companion files of the new release (see `ReleaseDiff`).
    transaction_report: ReportCheck | None = None
    corrections: tuple[CorrectionsListing, ...] = ()
    # The code set, and what only a code set without end dates (ICD-10) has: deleted codes,
    # codes switched between billable and header, and the addenda.
    code_set: str = "hcpcs"
    code_set_title: str = "HCPCS Level II"
    deleted: tuple[CodeRow, ...] = ()
    switched: tuple[SwitchRow, ...] = ()
    retitled_codes: int = 0
    """Codes with a short or long title revised (cosmetic revisions included)."""
    addenda: AddendaView | None = None


@dataclass(frozen=True, slots=True)
class StepRow:
    """One quarter of a year: what changed from one release to the next."""

    old: str
    new: str
    cells: tuple[int, ...]
    """One count per `CHANGE_KINDS`, same order."""
    descriptions: int
    payment: int
    coverage: int
    classification: int
    findings: int
    codes: tuple[tuple[str, tuple[str, ...]], ...]
    """(kind title, codes) for every kind with at least one code."""
    reconciled: bool
    reconciliation_note: str


@dataclass(frozen=True, slots=True)
class TransientRow:
    code: str
    long_description: str
    added_date: str
    first_seen: str
    last_seen: str
    ended: str
    ended_in: str
    termination_date: str
    replacements: tuple[Replacement, ...]


@dataclass(frozen=True, slots=True)
class YearView:
    title: str
    releases: tuple[ReleaseView, ...]
    overall: ReportView
    kind_titles: tuple[str, ...]
    steps: tuple[StepRow, ...]
    step_findings: tuple[FindingGroup, ...]
    step_cosmetic_findings: tuple[FindingRow, ...]
    transient: tuple[TransientRow, ...]
    missing: tuple[str, ...]
    """The publisher's releases of the year that are not stored (HCPCS's quarters, ICD-10's
    October release)."""
    name: str = ""
    """The year as the code set writes it: `2026`, `FY2024`."""
    start: str = ""
    end: str = ""
    """The year's first and last day (ICD-10's fiscal year: October 1 to September 30)."""
    opening_note: str = ""
    """When the release that should open the year is not stored, which one opens it instead."""


@dataclass(frozen=True, slots=True)
class CodePageView:
    release: ReleaseView
    code: str
    kind: str
    family: str
    long_description: str
    short_description: str
    status: str
    rows: tuple[tuple[str, str, str], ...]
