"""What changed between two releases, field by field, and whether CMS's action codes say so.

The diff is built in three passes so that it stays fast on a real release pair (about 7,000
codes, of which a few hundred change):

1. Content hashes decide which codes are added, purged or possibly changed; identical hashes
   mean identical records, so unchanged codes are never decoded for the diff itself.
2. The records whose hash differs are loaded and compared field by field. Scalar fields are
   compared directly; the repeated fields (pricing indicators, references, lab certifications,
   XREFs, types of service) go through one DeepDiff call for all changed records, which reports
   *which slots* of each tuple changed. A DeepDiff over every field of every changed record costs
   about 2 ms a record (1.6 s for 2016 -> 2017), far over budget; the slot-level detail is the
   part worth DeepDiff's generality.
3. When the old release is the one the new release's action codes describe changes since (its
   *reference*, see `tracker.codesets.hcpcs.calendar`), each declared action code is reconciled
   against what was observed (see `reconcile`); otherwise the diff says why not and which
   releases are missing, and reports no findings.

Representation is not change: values that mean the same (anesthesia base units 0 and blank,
processing note 0000 and blank) compare equal, and a blank action effective date (workbooks
omit some that the text file has) is an omission, not a change CMS made. This is decided here,
at comparison time, so the stored records, their hashes and `tracker verify` stay as parsed;
the differences are kept on the side (`CodeChange.representation`,
`ReleaseDiff.representation_only`) so `apply_diff` still rebuilds the new release exactly.

This is the only module that imports deepdiff, so its quirks (path formats, the not-present
sentinel) stay here.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import sys
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from tracker.codesets.hcpcs.calendar import (
    Reconciliation,
    Reference,
    decide,
    missing_quarters,
    not_requested,
    quarter_of,
    reference_from_records,
    reference_of,
)
from tracker.codesets.hcpcs.corrections import CorrectionsListing
from tracker.codesets.hcpcs.record import FIELD_NAMES, TUPLE_FIELDS, Record
from tracker.codesets.hcpcs.transreport import ReportCheck
from tracker.errors import ReleaseError
from tracker.release import ReleaseInfo, Snapshot

SCHEMA_VERSION = 1

REUSE_SIMILARITY_THRESHOLD = 0.05
"""Content-word similarity of two long descriptions below which a code counts as reused.

Chosen on the real data: every non-cosmetic long-description change between the releases in
`../shared/cms-hcpcs/` (2016 -> 2017 -> 2018 -> 2020-JAN -> APR -> JUL -> OCT, 369 changes;
see `description_similarity`). The codes whose meaning was replaced score 0.00-0.03:
G9637/G9638 2017 -> 2018 (CT dose-reduction reports -> high-risk medication orders), G9890/G9891
2018 -> 2020 (macular exam -> diabetes prevention program payments, added date rewritten) and
the CS modifier 2020-JAN -> APR (Gulf oil spill 2010 -> COVID-19 cost sharing, 0.03: they share
"related"). The heaviest genuine rewordings start at 0.09 (G9607 2016 -> 2017, an exclusion
reworded as "documented medical reasons for not performing intraoperative cystoscopy"), then
Q6 0.13 (locum tenens -> fee-for-time substitute) and G0202 0.16 (screening mammography, digital
-> with CAD). 0.05 sits in the empty gap between the two groups. Counting function words too
would close that gap: shared "of", "the", "or" lift CS to 0.125, next to G0202 at 0.136.
"""

# English function words: shared by any two sentences, so they say nothing about meaning.
STOPWORDS = frozenset(
    (  # noqa: SIM905 (a word list reads better as one string)
        "a an and any are as at be been by e each eg for from g i ie in into is it its no not of"
        " on or other per than that the their this to under was which who with without"
    ).split()
)

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


class Category(StrEnum):
    LIFECYCLE = "lifecycle"
    DESCRIPTION = "description"
    PAYMENT = "payment"
    COVERAGE = "coverage"
    CLASSIFICATION = "classification"
    REFERENCE = "reference"
    CROSSWALK = "crosswalk"
    ACTION = "action"


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


# Kind is the modifier/procedure split: a code changing kind is a reclassification.
FIELD_CATEGORIES: Mapping[str, Category] = {
    "kind": Category.CLASSIFICATION,
    "long_description": Category.DESCRIPTION,
    "short_description": Category.DESCRIPTION,
    "pricing_indicators": Category.PAYMENT,
    "multiple_pricing_indicator": Category.PAYMENT,
    "cim_references": Category.REFERENCE,
    "mcm_references": Category.REFERENCE,
    "statute": Category.REFERENCE,
    "lab_certifications": Category.REFERENCE,
    "xrefs": Category.CROSSWALK,
    "coverage": Category.COVERAGE,
    "asc_group": Category.PAYMENT,
    "asc_effective_date": Category.PAYMENT,
    "mog_group": Category.PAYMENT,
    "mog_indicator": Category.PAYMENT,
    "mog_effective_date": Category.PAYMENT,
    "processing_note": Category.REFERENCE,
    "betos": Category.CLASSIFICATION,
    "types_of_service": Category.CLASSIFICATION,
    "anesthesia_base_units": Category.PAYMENT,
    "added_date": Category.LIFECYCLE,
    "action_effective_date": Category.LIFECYCLE,
    "termination_date": Category.LIFECYCLE,
    "action_code": Category.ACTION,
}
_COMPARED_FIELDS: tuple[str, ...] = tuple(name for name in FIELD_NAMES if name != "code")
assert set(_COMPARED_FIELDS) == set(FIELD_CATEGORIES), "every record field needs a category"

# The action letter that a change in each category (or field) calls for. Administrative fields
# (references, crosswalk) and coverage are what F and B declare.
_CATEGORY_ACTION: Mapping[Category, str] = {
    Category.PAYMENT: "P",
    Category.COVERAGE: "F",
    Category.REFERENCE: "F",
    Category.CROSSWALK: "F",
    Category.CLASSIFICATION: "T",
}
_FIELD_ACTION: Mapping[str, str] = {"long_description": "C", "short_description": "S"}

_ALL_ACTIONS = frozenset(ACTION_NAMES)
# What else a declared action legitimately brings along, beyond its own letter:
# - A (re)defines the whole record, so it covers every field;
# - C covers S: CMS rewrites the short description with the long one under C (105 of the 124
#   C codes of 2017 did) and its reports word such codes "Long/Short Description Change";
# - D and R switch payment, coverage and crosswalk along with the termination (XREF filled in,
#   ASC group dropped, pricing indicator 00, coverage I).
_EXPLAINS: Mapping[str, frozenset[str]] = {
    "A": _ALL_ACTIONS,
    "B": frozenset("BCSF"),
    "C": frozenset("CS"),
    "D": frozenset("DFP"),
    "F": frozenset("F"),
    "N": frozenset(),
    "P": frozenset("P"),
    "R": frozenset("RFP"),
    "S": frozenset("S"),
    "T": frozenset("T"),
}


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
        return {kind: counts.get(kind, 0) for kind in ChangeKind}

    def counts_by_kind_category(self) -> dict[ChangeKind, dict[Category, int]]:
        """Codes per kind having at least one change in each category (a code counts once)."""
        table = {kind: dict.fromkeys(Category, 0) for kind in ChangeKind}
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
    record: Record
    termination_date: date | None


@dataclass(frozen=True, slots=True)
class YearDiff:
    releases: tuple[ReleaseInfo, ...]
    overall: ReleaseDiff
    steps: tuple[ReleaseDiff, ...]
    transient: tuple[TransientCode, ...]
    missing: tuple[str, ...] = ()
    """CMS's releases (quarters) of the year that are not stored."""


# ---------------------------------------------------------------------------------------------
# Descriptions


_WORD = re.compile(r"[a-z0-9]+")


def _fold(text: str) -> str:
    """Text with case, whitespace and punctuation removed: what a cosmetic edit leaves intact."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def is_cosmetic(old: str, new: str) -> bool:
    """True when two different texts differ only in case, whitespace or punctuation.

    "per 5mg" -> "per 5 mg" is cosmetic (a space inserted); so is "e.g." -> "eg".
    """
    return old != new and _fold(old) == _fold(new)


def description_similarity(old: str, new: str) -> float:
    """Jaccard similarity of the two texts' sets of content words (1.0 when both have none).

    Words are lower-case runs of letters and digits, minus `STOPWORDS`.
    """
    a = set(_WORD.findall(old.lower())) - STOPWORDS
    b = set(_WORD.findall(new.lower())) - STOPWORDS
    union = a | b
    return len(a & b) / len(union) if union else 1.0


# ---------------------------------------------------------------------------------------------
# Diff


def equivalent(name: str, old: Any, new: Any) -> bool:
    """Whether two different values of field `name` differ only in how they are written.

    Anesthesia base units 0 and blank both mean "none" (one year writes 0 for modifiers,
    another leaves it blank); processing note 0000 and blank both mean "no note"; a blank
    action effective date is a workbook omitting what the text file has, not CMS changing it.
    """
    if name == "anesthesia_base_units":
        return old in (None, 0) and new in (None, 0)
    if name == "processing_note":
        return old in ("", "0000") and new in ("", "0000")
    if name == "action_effective_date":
        return old is None or new is None
    return False


def is_action_only(change: CodeChange) -> bool:
    """A changed code whose only changes are its action code and action effective date.

    A quarterly file resets the previous quarter's actions to N, so hundreds of codes "change"
    that way each quarter; they are counted apart from field changes.
    """
    return (
        change.kind is ChangeKind.CHANGED
        and bool(change.fields)
        and all(fc.field in _BOOKKEEPING for fc in change.fields)
    )


def diff_records(old: Record, new: Record) -> CodeChange | None:
    """The change between two versions of one code, or None when they mean the same."""
    if old == new:
        return None
    change = _build_changes([(old, new)])[0]
    return change if change.fields else None


def diff_snapshots(
    old: Snapshot,
    new: Snapshot,
    *,
    reconciling: bool = True,
    stored: Collection[str] | None = None,
    reference: Reference | None = None,
) -> ReleaseDiff:
    """Diff release `old` -> `new`; with `reconciling`, also reconcile `new`'s action codes.

    The action codes are reconciled only when `old` is their reference
    (`tracker.codesets.hcpcs.calendar`;
    `reference` may be given when already known); otherwise the diff's `reconciliation` says
    why not, naming the releases that are not among `stored` (the labels in the store; None
    when unknown). Reconciliation needs the declared action of every code in `new`, including
    codes whose record did not change (CMS repeats some actions: a stale A is a
    disagreement), so in that mode the unchanged records of `new` are loaded too (except those
    the snapshot already says are declared N, which cannot disagree); they are never compared.
    """
    if old.info.code_set != new.info.code_set:
        raise ReleaseError(
            f"cannot diff {old.info.display} ({old.info.code_set}) with"
            f" {new.info.display} ({new.info.code_set}): different code sets"
        )
    old_hashes, new_hashes = old.hashes, new.hashes
    added = sorted(code for code in new_hashes if code not in old_hashes)
    purged = sorted(code for code in old_hashes if code not in new_hashes)
    differing = sorted(
        code for code, digest in new_hashes.items() if old_hashes.get(code, digest) != digest
    )
    unchanged = len(new_hashes) - len(added) - len(differing)

    every_new: Mapping[str, Record] | None = None
    if reconciling:
        if reference is None and new.actions is None:
            # Without the action index every record is read to find the A codes; the same
            # records then serve the diff and the reconciliation.
            every_new = new.records(new_hashes)
            reference = reference_from_records(new.info.label, every_new.values())
        decision = decide(old.info, new.info, reference or reference_of(new), stored)
    else:
        decision = not_requested(old.info, new.info)
    consecutive = decision.reconciled
    old_records = old.records(purged + differing)
    new_codes: Iterable[str] = added + differing
    if consecutive:
        # An unchanged record declared N agrees with itself; any other needs checking.
        actions = new.actions
        new_codes = (
            new_hashes
            if actions is None
            else [
                code
                for code, digest in new_hashes.items()
                if actions.get(code) != "N" or old_hashes.get(code) != digest
            ]
        )
    new_records = every_new if every_new is not None else new.records(new_codes)

    changes: list[CodeChange] = [
        CodeChange(code, ChangeKind.ADDED, None, new_records[code]) for code in added
    ]
    changes += [CodeChange(code, ChangeKind.PURGED, old_records[code], None) for code in purged]
    representation_only: list[CodeChange] = []
    for change in _build_changes([(old_records[code], new_records[code]) for code in differing]):
        if change.fields:
            changes.append(change)
        else:
            representation_only.append(change)
            unchanged += 1
    changes.sort(key=lambda change: change.code)

    findings: tuple[Finding, ...] = ()
    if consecutive:
        findings = reconcile(old.info, new.info, changes, new_records)
    return ReleaseDiff(
        old=old.info,
        new=new.info,
        changes=tuple(changes),
        unchanged_count=unchanged,
        findings=findings,
        reconciliation=decision,
        representation_only=tuple(representation_only),
    )


def _build_changes(pairs: Sequence[tuple[Record, Record]]) -> list[CodeChange]:
    """CodeChanges for (old, new) pairs of one code each that are known to differ."""
    differing: list[list[str]] = []
    tuple_old: dict[str, dict[str, tuple[str, ...]]] = {}
    tuple_new: dict[str, dict[str, tuple[str, ...]]] = {}
    representation: list[list[str]] = []
    for index, (old, new) in enumerate(pairs):
        unequal = [name for name in _COMPARED_FIELDS if getattr(old, name) != getattr(new, name)]
        names: list[str] = []
        same: list[str] = []
        for name in unequal:
            if equivalent(name, getattr(old, name), getattr(new, name)):
                same.append(name)
            else:
                names.append(name)
        differing.append(names)
        representation.append(same)
        for name in names:
            if name in TUPLE_FIELDS:
                key = str(index)
                tuple_old.setdefault(key, {})[name] = getattr(old, name)
                tuple_new.setdefault(key, {})[name] = getattr(new, name)
    items = _tuple_item_changes(tuple_old, tuple_new)

    out: list[CodeChange] = []
    for index, ((old, new), names, same) in enumerate(
        zip(pairs, differing, representation, strict=True)
    ):
        fields = tuple(
            _field_change(name, old, new, items.get((str(index), name), ())) for name in names
        )
        out.append(
            CodeChange(
                code=new.code,
                kind=_kind(old, new) if fields else ChangeKind.UNCHANGED,
                old=old,
                new=new,
                fields=fields,
                flags=_code_flags(fields),
                representation=tuple(_field_change(name, old, new, ()) for name in same),
            )
        )
    return out


def _tuple_item_changes(
    old: Mapping[str, Mapping[str, tuple[str, ...]]],
    new: Mapping[str, Mapping[str, tuple[str, ...]]],
) -> dict[tuple[str, str], tuple[ItemChange, ...]]:
    """Slot-level changes of the repeated fields, keyed by (pair index, field), from DeepDiff."""
    if not old:
        return {}
    tree = _deepdiff()(old, new, view="tree")
    collected: dict[tuple[str, str], list[ItemChange]] = {}
    for report in ("values_changed", "iterable_item_added", "iterable_item_removed"):
        for level in tree.get(report, ()):
            path = level.path(output_format="list")
            if len(path) != 3:
                continue
            key, name, slot = path
            collected.setdefault((str(key), str(name)), []).append(
                ItemChange(int(slot), _present(level.t1), _present(level.t2))
            )
    return {
        key: tuple(sorted(changes, key=lambda item: item.index))
        for key, changes in collected.items()
    }


def _deepdiff() -> Any:
    """DeepDiff, imported on first use so that commands which never diff skip its cost.

    deepdiff also imports pandas and polars when they are installed (0.7 s), to compare data
    frames; records are flat, so those are hidden while it loads, unless already imported.
    """
    hidden = [name for name in ("pandas", "polars") if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # makes `import name` fail
    try:
        from deepdiff import DeepDiff
    finally:
        for name in hidden:
            if sys.modules.get(name) is None:
                del sys.modules[name]
    return DeepDiff


def _present(value: Any) -> str | None:
    """DeepDiff's not-present sentinel (an added or removed slot) as None."""
    return value if isinstance(value, str) else None


def _field_change(
    name: str, old: Record, new: Record, items: tuple[ItemChange, ...]
) -> FieldChange:
    before, after = getattr(old, name), getattr(new, name)
    flags: set[Flag] = set()
    if name in ("long_description", "short_description") and is_cosmetic(before, after):
        flags.add(Flag.COSMETIC)
    if (
        name == "long_description"
        and Flag.COSMETIC not in flags
        and description_similarity(before, after) < REUSE_SIMILARITY_THRESHOLD
    ):
        flags.add(Flag.REUSED)
    if name == "added_date" and before is not None and after is not None and after > before:
        flags.add(Flag.REUSED)
    return FieldChange(name, FIELD_CATEGORIES[name], before, after, frozenset(flags), items)


def _kind(old: Record, new: Record) -> ChangeKind:
    if old.termination_date is None and new.termination_date is not None:
        return ChangeKind.TERMINATED
    if old.termination_date is not None and new.termination_date is None:
        return ChangeKind.REACTIVATED
    return ChangeKind.CHANGED


# Bookkeeping that moves with any maintenance; it does not make a change substantive.
_BOOKKEEPING = frozenset({"action_code", "action_effective_date"})


def _code_flags(fields: Sequence[FieldChange]) -> frozenset[Flag]:
    """Reused if any field says so; cosmetic if every non-bookkeeping change is cosmetic."""
    flags: set[Flag] = set()
    if any(Flag.REUSED in change.flags for change in fields):
        flags.add(Flag.REUSED)
    substantive = [change for change in fields if change.field not in _BOOKKEEPING]
    if substantive and all(Flag.COSMETIC in change.flags for change in substantive):
        flags.add(Flag.COSMETIC)
    return frozenset(flags)


# ---------------------------------------------------------------------------------------------
# Reconciliation


@dataclass(frozen=True, slots=True)
class _Observation:
    """What one code's change calls for, in action letters, plus anomalies no letter declares."""

    actions: frozenset[str]
    categories: frozenset[Category]
    cosmetic: frozenset[str]
    anomalies: tuple[tuple[Rule, str], ...]


def _in_window(value: date | None, old: ReleaseInfo, new: ReleaseInfo) -> bool:
    return value is not None and old.effective_date < value <= new.effective_date


def _observe(change: CodeChange | None, old: ReleaseInfo, new: ReleaseInfo) -> _Observation:
    """Translate a code's observed change into the action letters that would declare it."""
    if change is None:
        return _Observation(frozenset(), frozenset(), frozenset(), ())
    actions: set[str] = set()
    cosmetic: set[str] = set()
    anomalies: list[tuple[Rule, str]] = []
    if change.kind is ChangeKind.ADDED:
        assert change.new is not None
        actions.add("A")
        if change.new.termination_date is not None:
            actions.add("D")
    for fc in change.fields:
        if fc.field == "added_date":
            if _in_window(fc.new, old, new):
                actions.add("A")
            else:
                anomalies.append(
                    (
                        Rule.ADDED_DATE_MOVED,
                        f"added date moved from {_text(fc.old)} to {_text(fc.new)}, outside"
                        f" ({old.effective_date}, {new.effective_date}]",
                    )
                )
        elif fc.field == "termination_date":
            actions.add("R" if fc.new is None else "D")
        elif fc.field == "action_effective_date":
            if fc.old is not None and fc.new is not None and fc.new < fc.old:
                anomalies.append(
                    (
                        Rule.ACTION_DATE_BACKWARDS,
                        f"action effective date went back from {fc.old} to {fc.new}",
                    )
                )
        elif fc.field in _FIELD_ACTION:
            letter = _FIELD_ACTION[fc.field]
            actions.add(letter)
            if Flag.COSMETIC in fc.flags:
                cosmetic.add(letter)
        elif fc.category in _CATEGORY_ACTION:
            actions.add(_CATEGORY_ACTION[fc.category])
    # A letter is cosmetic only if every change calling for it was.
    cosmetic = {
        letter
        for letter in cosmetic
        if all(
            Flag.COSMETIC in fc.flags
            for fc in change.fields
            if _FIELD_ACTION.get(fc.field) == letter
        )
    }
    categories = frozenset(
        fc.category for fc in change.fields if fc.category is not Category.ACTION
    )
    return _Observation(frozenset(actions), categories, frozenset(cosmetic), tuple(anomalies))


def _declared_seen(declared: str, seen: frozenset[str], record: Record) -> bool:
    if declared == "N":
        return True  # an N is wrong only through what was seen; that is reported as such
    if declared == "B":
        return "C" in seen and "F" in seen
    if declared == "D":
        # A code keeps its D for as long as it stays terminated (CMS repeats it release after
        # release): the termination being in force is what D states.
        return record.termination_date is not None
    return declared in seen


def reconcile(
    old: ReleaseInfo,
    new: ReleaseInfo,
    changes: Sequence[CodeChange],
    new_records: Mapping[str, Record],
) -> tuple[Finding, ...]:
    """Every disagreement between `new`'s declared action codes and the observed changes.

    `new_records` must hold every code of `new` except unchanged ones declared N. Rules:
    A: the code is new, or its added date moved into (old, new]; B: long description and an
    administrative or coverage field; C: long description; S: short description; F: an
    administrative (reference, crosswalk) or coverage field; P: a payment field; T: BETOS or type
    of service; D: the code is terminated; R: its termination was cleared; N: nothing. A
    declared action that happened also covers what comes with it (`_EXPLAINS`); one that did not
    happen covers nothing, except a half-seen B, whose seen half is declared. Action effective
    dates moving forward are bookkeeping, not findings; moving backwards they are.
    """
    by_code = {change.code: change for change in changes}
    findings: list[Finding] = []
    for code in sorted(new_records):
        record = new_records[code]
        change = by_code.get(code)
        declared = record.action_code
        seen = _observe(change, old, new)
        reused = change.flags & {Flag.REUSED} if change is not None else frozenset()

        def add(
            rule: Rule,
            direction: Direction,
            action: str,
            message: str,
            flags: frozenset[Flag] = reused,
            *,
            code: str = code,
            declared: str = declared,
            seen: _Observation = seen,
        ) -> None:
            findings.append(
                Finding(
                    code=code,
                    rule=rule,
                    direction=direction,
                    declared=declared,
                    action=action,
                    observed_categories=seen.categories,
                    observed_actions=seen.actions,
                    message=message,
                    flags=flags,
                )
            )

        explained: frozenset[str] = _EXPLAINS.get(declared, frozenset())
        if declared not in _EXPLAINS:
            add(
                Rule.NOT_SEEN,
                Direction.DECLARED_NOT_SEEN,
                declared,
                f"declared action {declared!r} is not an action code",
            )
        elif not _declared_seen(declared, seen.actions, record):
            message = _not_seen_message(declared, seen, change, record, old, new)
            add(Rule.NOT_SEEN, Direction.DECLARED_NOT_SEEN, declared, message)
            if declared != "B":
                explained = frozenset()
        if declared == "D" and change is not None and change.kind is ChangeKind.ADDED:
            # Born and retired between the two releases: CMS lists such a code for the first
            # time already terminated, under D (the README's "added and discontinued inside one
            # year"), so the D stands for the whole short life.
            explained |= {"A"}
        for letter, covered in _undeclared(seen.actions - explained - {declared}):
            cosmetic = all(other in seen.cosmetic for other in covered)
            flags = reused | ({Flag.COSMETIC} if cosmetic else frozenset())
            message = _not_declared_message(letter, covered, declared, change, flags)
            add(Rule.NOT_DECLARED, Direction.SEEN_NOT_DECLARED, letter, message, flags)
        for rule, text in seen.anomalies:
            add(rule, Direction.SEEN_NOT_DECLARED, "", f"{text} (declared {declared})")
    for change in changes:
        if (
            change.kind is ChangeKind.PURGED
            and change.old is not None
            and change.old.termination_date is None
        ):
            findings.append(
                Finding(
                    code=change.code,
                    rule=Rule.PURGED_ACTIVE,
                    direction=Direction.SEEN_NOT_DECLARED,
                    declared="",
                    action="",
                    observed_categories=frozenset(),
                    observed_actions=frozenset(),
                    message=(
                        f"active in {old.display} (no termination date, action"
                        f" {change.old.action_code}) but absent from {new.display}"
                    ),
                )
            )
    findings.sort(key=lambda f: (f.code, f.direction, f.rule, f.action))
    return tuple(findings)


def _not_seen_message(
    declared: str,
    seen: _Observation,
    change: CodeChange | None,
    record: Record,
    old: ReleaseInfo,
    new: ReleaseInfo,
) -> str:
    observed = _describe(change)
    name = ACTION_NAMES.get(declared, "?")
    if declared == "A":
        detail = (
            f"the code was already in {old.display} and its added date"
            f" {_text(record.added_date)} is not in ({old.effective_date}, {new.effective_date}]"
        )
    elif declared == "B":
        missing = [
            part
            for part, letter in (("long description", "C"), ("administrative field", "F"))
            if letter not in seen.actions
        ]
        detail = f"no {' and no '.join(missing)} change"
    elif declared == "D":
        detail = "the code has no termination date"
    elif declared == "R":
        detail = "no termination date was cleared"
    else:
        detail = f"no {name.removesuffix(' change')} field changed"
    return f"declared {declared} ({name}) but {detail}; observed: {observed}"


def _undeclared(letters: frozenset[str]) -> list[tuple[str, frozenset[str]]]:
    """The fewest undeclared actions that account for `letters`, each with what it covers.

    A termination under N also fills the XREF and drops the ASC group; reporting D once (with
    those fields named) says what happened, where D + F + P would triple-count one event.
    """
    out = []
    for letter in sorted(letters):
        if any(letter in _EXPLAINS[other] for other in letters if other != letter):
            continue
        out.append((letter, frozenset({letter} | (letters & _EXPLAINS[letter]))))
    return out


def _not_declared_message(
    letter: str,
    covered: frozenset[str],
    declared: str,
    change: CodeChange | None,
    flags: frozenset[Flag],
) -> str:
    assert change is not None and change.new is not None
    name = ACTION_NAMES[letter]
    parts: list[str] = []
    if letter == "A":
        parts.append(
            f"code is new (added date {_text(change.new.added_date)})"
            if change.kind is ChangeKind.ADDED
            else f"added date rewritten to {_text(change.new.added_date)}"
        )
    elif letter == "D":
        parts.append(f"termination date set to {_text(change.new.termination_date)}")
    elif letter == "R":
        parts.append("termination date cleared")
    if change.kind is not ChangeKind.ADDED:
        fields = [
            fc.field
            for fc in change.fields
            if _FIELD_ACTION.get(fc.field, _CATEGORY_ACTION.get(fc.category, "")) in covered
        ]
        if fields:
            parts.append(f"{', '.join(fields)} changed")
    what = "; ".join(parts)
    if Flag.COSMETIC in flags:
        what += " (case, whitespace or punctuation only)"
    return f"{what}: {letter} ({name}) not declared, declared {declared or 'nothing'}"


def _describe(change: CodeChange | None) -> str:
    if change is None:
        return "no change"
    if change.kind in (ChangeKind.ADDED, ChangeKind.PURGED):
        return change.kind.value
    names = [fc.field for fc in change.fields if fc.field not in _BOOKKEEPING]
    return ", ".join(names) if names else "only " + ", ".join(fc.field for fc in change.fields)


def _text(value: Any) -> str:
    return "none" if value is None else str(value)


# ---------------------------------------------------------------------------------------------
# Apply


def apply_diff(old_records: Mapping[str, Record], diff: ReleaseDiff) -> dict[str, Record]:
    """Rebuild the new release from the old one and the diff's field changes.

    Changed codes are rebuilt from their `FieldChange`s (not copied from `CodeChange.new`), so
    `apply_diff(a, diff(A, B)) == b` proves the field changes are complete. The diff must have
    been made from these records: a code whose record differs from the diff's old side is an
    error, not silently overwritten.
    """
    out = dict(old_records)
    for change in (*diff.changes, *diff.representation_only):
        code = change.code
        if change.kind is ChangeKind.ADDED:
            if code in out:
                raise ValueError(f"{code}: added by the diff but already present")
            assert change.new is not None
            out[code] = change.new
            continue
        current = out.get(code)
        if current is None or current != change.old:
            raise ValueError(f"{code}: record differs from the diff's {diff.old.display} side")
        if change.kind is ChangeKind.PURGED:
            del out[code]
        else:
            edits = (*change.fields, *change.representation)
            out[code] = dataclasses.replace(current, **{fc.field: fc.new for fc in edits})
    return out


# ---------------------------------------------------------------------------------------------
# Year mode


def diff_year(
    snapshots: Sequence[Snapshot],
    *,
    stored: Collection[str] | None = None,
    latest: Snapshot | None = None,
) -> YearDiff:
    """First vs last release of a year, each step, codes born and retired, missing quarters.

    Each step is reconciled only when its old release is the reference of its new one (see
    `diff_snapshots`); `stored` is every label in the store (default: the year's releases).
    A code is born and retired inside the year when, by the latest record known of it (from
    `latest`, a later release, when given), its added date falls in the year and so does its
    termination date, or it vanished before the year's last release without one.
    """
    if not snapshots:
        raise ReleaseError("year mode needs at least one release")
    ordered = sorted(snapshots, key=lambda s: (quarter_of(s.info.label), s.info.issue))
    labels = {s.info.label for s in ordered}
    known = labels | set(stored or ())
    first, last = ordered[0], ordered[-1]
    year = quarter_of(first.info.label).year
    steps = tuple(diff_snapshots(a, b, stored=known) for a, b in itertools.pairwise(ordered))
    overall = diff_snapshots(first, last, stored=known)
    return YearDiff(
        releases=tuple(s.info for s in ordered),
        overall=overall,
        steps=steps,
        transient=_transient(ordered, year, latest),
        missing=missing_quarters(year, labels),
    )


def _transient(
    ordered: Sequence[Snapshot], year: int, latest: Snapshot | None
) -> tuple[TransientCode, ...]:
    """Codes added and retired inside `year` (see `diff_year`), in code order.

    Only codes that appear, vanish or change during the year or after it (in `latest`), or
    that the last release declares D, can qualify; only their records are loaded.
    """
    last = ordered[-1]
    everywhere = set(ordered[0].hashes)
    for snapshot in ordered[1:]:
        everywhere &= snapshot.hashes.keys()
    candidates = {code for snapshot in ordered for code in snapshot.hashes} - {
        code
        for code in everywhere
        if len({snapshot.hashes[code] for snapshot in ordered}) == 1
        and (last.actions is not None and last.actions.get(code) != "D")
    }
    if latest is not None:
        candidates |= {
            code for code, digest in last.hashes.items() if latest.hashes.get(code) != digest
        }
    first_seen: dict[str, str] = {}
    last_seen: dict[str, int] = {}
    terminated_in: dict[str, str] = {}
    records: dict[str, Record] = {}
    for position, snapshot in enumerate(ordered):
        present = sorted(candidates & snapshot.hashes.keys())
        for code, record in snapshot.records(present).items():
            first_seen.setdefault(code, snapshot.info.display)
            last_seen[code] = position
            records[code] = record
            if record.termination_date is not None:
                terminated_in.setdefault(code, snapshot.info.display)
    if latest is not None and latest.info.label not in {s.info.label for s in ordered}:
        for code, record in latest.records(sorted(candidates & latest.hashes.keys())).items():
            records[code] = record
            if record.termination_date is not None:
                terminated_in.setdefault(code, latest.info.display)
    out: list[TransientCode] = []
    for code in sorted(records):
        record = records[code]
        if record.added_date is None or record.added_date.year != year:
            continue
        gone = code not in last.hashes and (latest is None or code not in latest.hashes)
        end = record.termination_date
        if end is not None and end.year == year:
            ended, ended_in = ChangeKind.TERMINATED, terminated_in[code]
        elif gone and end is None:
            ended, ended_in = ChangeKind.PURGED, ordered[last_seen[code] + 1].info.display
        else:
            continue
        out.append(
            TransientCode(
                code=code,
                first_seen=first_seen[code],
                last_seen=ordered[last_seen[code]].info.display,
                ended=ended,
                ended_in=ended_in,
                record=record,
                termination_date=end,
            )
        )
    return tuple(out)


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
        if change.kind in (ChangeKind.ADDED, ChangeKind.PURGED):
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
    )
