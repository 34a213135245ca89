"""The diff's typed values: change kinds, categories, flags, findings, and the diffs themselves.

Compare -> typed changes -> render: `compare` and `reconcile` produce these values, the JSON,
CSV and report views render them; nothing here formats text for people or reads a store.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tracker.codesets import get_code_set
from tracker.codesets.base import Reconciliation
from tracker.codesets.hcpcs.corrections import CorrectionsListing
from tracker.codesets.hcpcs.record import Record
from tracker.codesets.hcpcs.transreport import ReportCheck
from tracker.release import ReleaseInfo

if TYPE_CHECKING:
    from tracker.codesets.base import CodeRecord, YearSpan
    from tracker.codesets.icd10.compare import AddendaCheck

SCHEMA_VERSION = 1

ACTION_NAMES: Mapping[str, str] = {
    "A": "add",
    "B": "coverage/administrative and long description change",
    "C": "long description change",
    "D": "discontinue",
    "F": "coverage/administrative change",
    "N": "no change",
    "P": "payment change",
    "R": "re-activate",
    "S": "short description change",
    "T": "miscellaneous (BETOS, type of service) change",
}


class ChangeKind(StrEnum):
    ADDED = "added"
    PURGED = "purged"
    TERMINATED = "terminated"
    REACTIVATED = "reactivated"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    DELETED = "deleted"
    """Gone from the new release of a code set whose records carry no end date (ICD-10): the
    code's validity ends there, unlike HCPCS's `purged` (absent, not terminated)."""


# The kinds a diff of each sort of code set can hold, in the order tables list them: a code set
# whose records carry their own end dates (HCPCS) terminates, re-activates and purges codes; one
# without (ICD-10) adds and deletes them.
KINDS_WITH_END_DATES: tuple[ChangeKind, ...] = (
    ChangeKind.ADDED,
    ChangeKind.PURGED,
    ChangeKind.TERMINATED,
    ChangeKind.REACTIVATED,
    ChangeKind.CHANGED,
    ChangeKind.UNCHANGED,
)
KINDS_WITHOUT_END_DATES: tuple[ChangeKind, ...] = (
    ChangeKind.ADDED,
    ChangeKind.DELETED,
    ChangeKind.CHANGED,
    ChangeKind.UNCHANGED,
)


def kinds_of(code_set: str) -> tuple[ChangeKind, ...]:
    """The change kinds of a diff of `code_set`, unchanged last."""
    if get_code_set(code_set).has_end_dates:
        return KINDS_WITH_END_DATES
    return KINDS_WITHOUT_END_DATES


class Category(StrEnum):
    """What a field change is about; a code set's `FieldSpec.category` names one of these."""

    LIFECYCLE = "lifecycle"
    DESCRIPTION = "description"
    PAYMENT = "payment"
    COVERAGE = "coverage"
    CLASSIFICATION = "classification"
    REFERENCE = "reference"
    CROSSWALK = "crosswalk"
    ACTION = "action"
    STATUS = "status"
    """Whether the code may be billed (ICD-10: billable, or a header not valid on claims)."""
    TITLE = "title"
    """An ICD-10 code's short or long title."""


def categories_of(code_set: str) -> tuple[Category, ...]:
    """The categories of `code_set`'s fields (and lifecycle, which added and removed codes
    count as), in the enum's order: the columns of a diff's tables."""
    used = {spec.category for spec in get_code_set(code_set).fields} | {Category.LIFECYCLE}
    return tuple(category for category in Category if category.value in used)


class Flag(StrEnum):
    COSMETIC = "cosmetic"
    REUSED = "reused"


class Direction(StrEnum):
    DECLARED_NOT_SEEN = "declared_not_seen"
    SEEN_NOT_DECLARED = "seen_not_declared"


class Rule(StrEnum):
    """Why a finding exists; a closed set so reports can group and filter findings."""

    NOT_SEEN = "not_seen"
    """The declared action has no matching observation."""
    NOT_DECLARED = "not_declared"
    """An observed change that the declared action does not cover (`action` names it)."""
    ADDED_DATE_MOVED = "added_date_moved"
    """The added date moved to a date outside the window of the new release."""
    ACTION_DATE_BACKWARDS = "action_date_backwards"
    """The action effective date went back in time."""
    PURGED_ACTIVE = "purged_active"
    """A code with no termination date vanished: nothing in the new release declares it."""
    DIFFERS = "differs"
    """A declared change that happened, but not as declared (ICD-10: the flag or the titles of
    the addenda line are not those of the new release)."""


@dataclass(frozen=True, slots=True)
class ItemChange:
    """One slot of a repeated field (XREF 2, pricing indicator 1...), as DeepDiff saw it."""

    index: int
    old: str | None
    new: str | None


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    category: Category
    old: Any
    new: Any
    flags: frozenset[Flag] = frozenset()
    items: tuple[ItemChange, ...] = ()


@dataclass(frozen=True, slots=True)
class CodeChange:
    code: str
    kind: ChangeKind
    old: Record | None
    new: Record | None
    fields: tuple[FieldChange, ...] = ()
    flags: frozenset[Flag] = frozenset()
    representation: tuple[FieldChange, ...] = ()
    """Fields that differ only in how they are written (`equivalent`): not changes."""
    earlier: tuple[ReleaseInfo, CodeRecord] | None = None
    """For an added code of a code set without end dates: the last record of the code in a
    stored release before the old one (a code deleted once and added again), else None."""

    @property
    def categories(self) -> frozenset[Category]:
        return frozenset(change.category for change in self.fields)

    def field(self, name: str) -> FieldChange | None:
        return next((change for change in self.fields if change.field == name), None)


@dataclass(frozen=True, slots=True)
class Finding:
    """One disagreement between the declared action code and the observed change.

    `action` is the letter in dispute: the declared one for `declared_not_seen`, the observed
    but undeclared one for `seen_not_declared`; empty for lifecycle anomalies that no action
    letter declares (an added date moving outside the window, an action date going backwards,
    an active code purged).
    """

    code: str
    rule: Rule
    direction: Direction
    declared: str
    action: str
    observed_categories: frozenset[Category]
    observed_actions: frozenset[str]
    message: str
    flags: frozenset[Flag] = frozenset()


NOT_RECONCILED = Reconciliation(False, "", "", "not reconciled")


@dataclass(frozen=True, slots=True)
class ReleaseDiff:
    old: ReleaseInfo
    new: ReleaseInfo
    changes: tuple[CodeChange, ...]
    unchanged_count: int
    findings: tuple[Finding, ...] = ()
    reconciliation: Reconciliation = NOT_RECONCILED
    representation_only: tuple[CodeChange, ...] = ()
    """Codes whose records differ only in representation; counted as unchanged."""
    # CMS's companion files of release `new`: its transaction report checked against its data
    # file, and corrections files kept with it (filled in by the store-aware `api.diff`).
    transaction_report: ReportCheck | None = None
    corrections: tuple[CorrectionsListing, ...] = ()
    # ICD-10: the addenda of release `new` (its declared changes) and their summary counts held
    # against the diff's; None for HCPCS and for a release without addenda.
    addenda: AddendaCheck | None = None
    # ICD-10: each deleted code's replacements from the conversion tables known at `new`
    # (stored codes, table order), filled in by the store-aware diff; codes without a link
    # are absent. HCPCS records name their own replacements (XREF), so this stays empty.
    replaced_by: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def code_set(self) -> str:
        return self.new.code_set

    @property
    def kinds(self) -> tuple[ChangeKind, ...]:
        """The kinds this diff's code set knows, unchanged last (see `kinds_of`)."""
        return kinds_of(self.new.code_set)

    @property
    def categories(self) -> tuple[Category, ...]:
        """The categories this diff's code set knows (see `categories_of`)."""
        return categories_of(self.new.code_set)

    @property
    def reconciled(self) -> bool:
        return self.reconciliation.reconciled

    @property
    def consecutive(self) -> bool:
        """Old name of `reconciled` (kept for callers and the JSON's `consecutive`)."""
        return self.reconciliation.reconciled

    def change(self, code: str) -> CodeChange | None:
        return next((change for change in self.changes if change.code == code), None)

    def by_kind(self, kind: ChangeKind) -> tuple[CodeChange, ...]:
        return tuple(change for change in self.changes if change.kind is kind)

    def findings_for(self, code: str) -> tuple[Finding, ...]:
        return tuple(finding for finding in self.findings if finding.code == code)

    def counts_by_kind(self) -> dict[ChangeKind, int]:
        """Codes per kind, every kind present (zero included) so tables never miss a row."""
        counts = Counter(change.kind for change in self.changes)
        counts[ChangeKind.UNCHANGED] = self.unchanged_count
        return {kind: counts.get(kind, 0) for kind in self.kinds}

    def counts_by_kind_category(self) -> dict[ChangeKind, dict[Category, int]]:
        """Codes per kind having at least one change in each category (a code counts once)."""
        table = {kind: dict.fromkeys(self.categories, 0) for kind in self.kinds}
        for change in self.changes:
            for category in change.categories:
                table[change.kind][category] += 1
        return table

    def summary_counts(self) -> dict[str, int]:
        """The headline counts, each kind of change counted apart.

        `added`: new codes. `changed`: codes already in the old release with a change in a
        field other than the action code and its date (terminated, re-activated and purged
        codes included). `action_only`: codes whose only change is the action code or its
        effective date. `unchanged` includes `representation_only`.
        """
        added = sum(1 for change in self.changes if change.kind is ChangeKind.ADDED)
        action_only = sum(1 for change in self.changes if is_action_only(change))
        return {
            "added": added,
            "changed": len(self.changes) - added - action_only,
            "action_only": action_only,
            "unchanged": self.unchanged_count,
            "representation_only": len(self.representation_only),
        }

    def finding_counts(self) -> dict[tuple[Direction, str], int]:
        """Findings per (direction, disputed action letter, '' for lifecycle anomalies)."""
        return dict(Counter((finding.direction, finding.action) for finding in self.findings))


@dataclass(frozen=True, slots=True)
class TransientCode:
    """A code added and retired inside the year, by the latest record known of it.

    `ended` is `terminated` (listed with a termination date in the year) or `purged` (gone by
    the year's last release, never terminated). `record` is the latest record of the code.
    """

    code: str
    first_seen: str
    last_seen: str
    ended: ChangeKind
    ended_in: str
    record: Any  # the code set's record (HCPCS `Record`, ICD-10 `Icd10Record`)
    termination_date: date | None


@dataclass(frozen=True, slots=True)
class YearDiff:
    releases: tuple[ReleaseInfo, ...]
    overall: ReleaseDiff
    steps: tuple[ReleaseDiff, ...]
    transient: tuple[TransientCode, ...]
    missing: tuple[str, ...] = ()
    """The publisher's releases of the year that are not stored (HCPCS's quarters, ICD-10's
    October release)."""
    span: YearSpan | None = None
    """The year as the code set counts it (calendar year, fiscal year)."""
    opening_note: str = ""
    """When the release that should open the year is not stored, which one opens it instead."""


# Bookkeeping that moves with any maintenance; it does not make a change substantive.
BOOKKEEPING = frozenset({"action_code", "action_effective_date"})


def is_action_only(change: CodeChange) -> bool:
    """A changed code whose only changes are its action code and action effective date.

    A quarterly file resets the previous quarter's actions to N, so hundreds of codes "change"
    that way each quarter; they are counted apart from field changes.
    """
    return (
        change.kind is ChangeKind.CHANGED
        and bool(change.fields)
        and all(fc.field in BOOKKEEPING for fc in change.fields)
    )


def filter_diff(
    diff: ReleaseDiff, *, categories: Collection[Category] = (), prefix: str = ""
) -> ReleaseDiff:
    """The part of a diff about some codes (prefix) and some kinds of change (categories).

    Added and purged codes carry no field changes; they count as `lifecycle` changes here, since
    a code's birth or disappearance is a lifecycle event.
    """
    wanted = frozenset(categories)
    start = prefix.strip().upper()

    def keep(change: CodeChange) -> bool:
        if not change.code.startswith(start):
            return False
        if not wanted:
            return True
        if change.kind in (ChangeKind.ADDED, ChangeKind.PURGED, ChangeKind.DELETED):
            return Category.LIFECYCLE in wanted
        return bool(change.categories & wanted)

    changes = tuple(change for change in diff.changes if keep(change))
    kept = {change.code for change in changes}
    findings = tuple(
        finding
        for finding in diff.findings
        if finding.code.startswith(start)
        and (not wanted or finding.code in kept or finding.observed_categories & wanted)
    )
    return ReleaseDiff(
        old=diff.old,
        new=diff.new,
        changes=changes,
        unchanged_count=diff.unchanged_count,
        findings=findings,
        reconciliation=diff.reconciliation,
        representation_only=tuple(
            change for change in diff.representation_only if change.code.startswith(start)
        ),
        transaction_report=diff.transaction_report,
        corrections=diff.corrections,
        addenda=diff.addenda,
        replaced_by={code: codes for code, codes in diff.replaced_by.items() if code in kept},
    )
