"""Compare two releases of one ICD-10 code set, and hold the result against the addenda.

Records have three changeable fields (billable flag, short title, long title), so a plain
per-code comparison is enough. Counts follow CDC's summary: it counts billable codes
(`Codes`) and headers (`Headers`) separately, so a code that turns from billable to header
(Z28.3 in April 2022) is one deletion among codes and one addition among headers, and CDC's
addenda write it as `Delete: 1 Z283` followed by `Add: 0 Z283`.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from .addenda import Action, Addenda, AddendaEntry, AddendaSummary, SummarySection
from .record import Icd10Record

ChangeKind = Literal[
    "added",
    "deleted",
    "billable_to_header",
    "header_to_billable",
    "long_title_revised",
    "short_title_revised",
]
Records = Mapping[str, Icd10Record]

_PUNCTUATION = str.maketrans("", "", string.punctuation)


def cosmetic(before: str, after: str) -> bool:
    """True when two titles differ only in case, spacing or punctuation (not in words)."""
    if before == after:
        return False
    return (
        " ".join(before.translate(_PUNCTUATION).split()).casefold()
        == " ".join(after.translate(_PUNCTUATION).split()).casefold()
    )


@dataclass(frozen=True, slots=True)
class CodeChange:
    """What happened to one code between two releases (a code can have several kinds)."""

    code: str
    kinds: frozenset[ChangeKind]
    old: Icd10Record | None
    new: Icd10Record | None
    short_cosmetic: bool = False
    long_cosmetic: bool = False


def compare(old: Records, new: Records) -> dict[str, CodeChange]:
    """Every code that changed, by code, in code order; unchanged codes are left out."""
    changes: dict[str, CodeChange] = {}
    for code in sorted(old.keys() | new.keys()):
        before, after = old.get(code), new.get(code)
        if before is None and after is not None:
            changes[code] = CodeChange(code, frozenset({"added"}), None, after)
            continue
        if after is None and before is not None:
            changes[code] = CodeChange(code, frozenset({"deleted"}), before, None)
            continue
        assert before is not None and after is not None
        if before == after:
            continue
        kinds: set[ChangeKind] = set()
        if before.billable and not after.billable:
            kinds.add("billable_to_header")
        elif after.billable and not before.billable:
            kinds.add("header_to_billable")
        if before.long_title != after.long_title:
            kinds.add("long_title_revised")
        if before.short_title != after.short_title:
            kinds.add("short_title_revised")
        changes[code] = CodeChange(
            code,
            frozenset(kinds),
            before,
            after,
            short_cosmetic=cosmetic(before.short_title, after.short_title),
            long_cosmetic=cosmetic(before.long_title, after.long_title),
        )
    return changes


@dataclass(frozen=True, slots=True)
class SectionCounts:
    """Counts of one CDC summary section (billable codes, or headers)."""

    before: int
    after: int
    additions: int
    deletions: int
    revisions: int
    both_titles: int
    long_only: int
    short_only: int


def section_counts(old: Records, new: Records, billable: bool) -> SectionCounts:
    """CDC's counts for the billable codes (`billable=True`) or the headers, as the files show."""
    before = {code: r for code, r in old.items() if r.billable is billable}
    after = {code: r for code, r in new.items() if r.billable is billable}
    both = long_only = short_only = 0
    for code in before.keys() & after.keys():
        long_changed = before[code].long_title != after[code].long_title
        short_changed = before[code].short_title != after[code].short_title
        if long_changed and short_changed:
            both += 1
        elif long_changed:
            long_only += 1
        elif short_changed:
            short_only += 1
    return SectionCounts(
        before=len(before),
        after=len(after),
        additions=len(after.keys() - before.keys()),
        deletions=len(before.keys() - after.keys()),
        revisions=both + long_only + short_only,
        both_titles=both,
        long_only=long_only,
        short_only=short_only,
    )


@dataclass(frozen=True, slots=True)
class SummaryCheck:
    """The file-shown counts held against CDC's summary.

    `comparable` is False when the summary counts from a version other than the one compared
    with (a mid-year version's addenda count from the October version before it, which may
    not be stored): then `reason` says so and the counts are not expected to agree.
    """

    comparable: bool
    reason: str
    mismatches: tuple[str, ...]

    @property
    def agrees(self) -> bool:
        return self.comparable and not self.mismatches


def _section_check(
    label: str, declared: SectionCounts | SummarySection, seen: SectionCounts
) -> list[str]:
    problems = []
    for name in ("additions", "deletions", "revisions", "both_titles", "long_only", "short_only"):
        want = getattr(declared, name)
        got = getattr(seen, name)
        if want is not None and want != got:
            problems.append(f"{label} {name}: addenda summary {want}, files {got}")
    return problems


def check_summary(summary: AddendaSummary, old: Records, new: Records) -> SummaryCheck:
    """Compare CDC's summary with what the two order files show, or say why it cannot be."""
    problems: list[str] = []
    reasons: list[str] = []
    for label, billable, section in (
        ("codes", True, summary.codes),
        ("headers", False, summary.headers),
    ):
        if section is None:
            continue
        seen = section_counts(old, new, billable)
        if section.to_count is not None and section.to_count != seen.after:
            reasons.append(
                f"the addenda lead to {section.to_count} {label} in {section.to_file}, "
                f"the new release has {seen.after}: they belong to another file"
            )
        if section.from_count is not None and section.from_count != seen.before:
            reasons.append(
                f"the addenda count changes since {section.from_file} with "
                f"{section.from_count} {label}, the release compared with has {seen.before}: "
                "that earlier version is not the one compared with (not stored), so the "
                "counts cover a different span"
            )
        problems += _section_check(label, section, seen)
    if reasons:
        return SummaryCheck(False, "; ".join(reasons), tuple(problems))
    return SummaryCheck(True, "", tuple(problems))


@dataclass(frozen=True, slots=True)
class Event:
    """A change as the addenda would write it: (action, code) and the flag of the line."""

    action: Action
    code: str
    billable: bool


@dataclass(slots=True)
class Reconciliation:
    """The addenda against the files, both ways, and the lines whose details disagree."""

    declared_not_seen: list[AddendaEntry] = field(default_factory=list)
    seen_not_declared: list[Event] = field(default_factory=list)
    disagreements: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.declared_not_seen or self.seen_not_declared or self.disagreements)


def events(old: Records, new: Records) -> list[Event]:
    """The changes between two releases in the addenda's terms (a flag change is delete + add)."""
    found: list[Event] = []
    for code, change in compare(old, new).items():
        before, after = change.old, change.new
        if before is not None and (after is None or after.billable != before.billable):
            found.append(Event("delete", code, before.billable))
        if after is not None and (before is None or after.billable != before.billable):
            found.append(Event("add", code, after.billable))
        if before is not None and after is not None and before.billable == after.billable:
            found.append(Event("revise", code, after.billable))
    return found


def reconcile(addenda: Addenda, old: Records, new: Records) -> Reconciliation:
    """Declared changes not seen in the files, changes seen but not declared, and details.

    A PCS line carries no flag, so its flag is not checked; a CM line's flag must be the one
    the files show. A revision's new titles must be the new release's.
    """
    result = Reconciliation()
    seen = {(event.action, event.code): event for event in events(old, new)}
    declared: set[tuple[str, str]] = set()
    for entry in addenda.entries:
        key = (entry.action, entry.code)
        declared.add(key)
        event = seen.get(key)
        if event is None:
            result.declared_not_seen.append(entry)
            continue
        where = f"{addenda.name}:{entry.line}"
        if entry.billable is not None and entry.billable != event.billable:
            result.disagreements.append(f"{where}: {entry.code} flag differs from the files")
        if entry.action == "revise":
            record = new[entry.code]
            if (entry.short_title, entry.long_title) != (record.short_title, record.long_title):
                result.disagreements.append(
                    f"{where}: {entry.code} new titles differ from the files"
                )
    result.seen_not_declared = [event for key, event in seen.items() if key not in declared]
    return result
