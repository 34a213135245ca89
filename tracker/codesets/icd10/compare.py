"""ICD-10's part of a diff: the addenda (the declared changes) against what the diff observed.

The diff itself is the shared one (`tracker.diff.diff_snapshots`, through the code set's field
table: billable flag, short title, long title); this module says what ICD-10 declares and how
it is held against the diff, as `tracker.diff.reconcile` does for HCPCS's action codes:

- `decide`: whether the old release is the version the new release's addenda describe changes
  since. CDC's and CMS's summary at the end of the addenda names the order file it leads from
  and how many codes and headers it holds (`72184 codes in icd10cm_order_2020.txt`); a
  mid-year version's addenda lead from the October version of its own fiscal year, which may
  not be stored (the FY2023 April version's count from October 2022's). An errata's addenda
  (no summary) list what it adds to the version it corrects.
- `check_declared`: the addenda lines against the diff both ways (declared but not seen, seen
  but not declared, declared but not as seen), and the summary's counts against the diff's.
  Counts follow CDC's summary: it counts billable codes (`Codes`) and headers (`Headers`)
  apart, so a code that turns from billable to header (Z28.3 in April 2022) is one deletion
  among codes and one addition among headers, and the addenda write it as `Delete: 1 Z283`
  followed by `Add: 0 Z283`.
- `reused_changes`: an added code that a release before the diff's old one carried with
  another meaning (a code deleted and later re-added) is flagged reused.

`compare` and `section_counts` compare two sets of records directly; the writer of sample
releases uses them to write the addenda a release pair calls for.
"""

from __future__ import annotations

import io
import re
import string
import zipfile
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Literal, cast

from tracker.codesets import get_code_set
from tracker.codesets.base import CodeRecord, Reconciliation, not_requested
from tracker.diff.model import (
    Category,
    ChangeKind,
    CodeChange,
    Direction,
    Finding,
    Flag,
    Rule,
)
from tracker.diff.wording import is_cosmetic
from tracker.errors import TrackerError
from tracker.release import ReleaseInfo

from .addenda import Action, Addenda, AddendaEntry, SummarySection, parse_addenda
from .archive import ADDENDA_NAME, MAX_MEMBER_BYTES
from .record import Icd10Record
from .release import ZIP_MAGIC

RecordChangeKind = Literal[
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
class RecordChange:
    """What happened to one code between two releases (a code can have several kinds)."""

    code: str
    kinds: frozenset[RecordChangeKind]
    old: Icd10Record | None
    new: Icd10Record | None
    short_cosmetic: bool = False
    long_cosmetic: bool = False


def compare(old: Records, new: Records) -> dict[str, RecordChange]:
    """Every code that changed, by code, in code order; unchanged codes are left out."""
    changes: dict[str, RecordChange] = {}
    for code in sorted(old.keys() | new.keys()):
        before, after = old.get(code), new.get(code)
        if before is None and after is not None:
            changes[code] = RecordChange(code, frozenset({"added"}), None, after)
            continue
        if after is None and before is not None:
            changes[code] = RecordChange(code, frozenset({"deleted"}), before, None)
            continue
        assert before is not None and after is not None
        if before == after:
            continue
        kinds: set[RecordChangeKind] = set()
        if before.billable and not after.billable:
            kinds.add("billable_to_header")
        elif after.billable and not before.billable:
            kinds.add("header_to_billable")
        if before.long_title != after.long_title:
            kinds.add("long_title_revised")
        if before.short_title != after.short_title:
            kinds.add("short_title_revised")
        changes[code] = RecordChange(
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


# ---------------------------------------------------------------------------------------------
# The declared changes of a stored release: its addenda, read again from its source


def addenda_from_source(name: str, data: bytes) -> Addenda | None:
    """The order addenda inside a release's source (None: a loose order file, or a zip with
    none), read again from the bytes the store keeps, so they are never stored twice.

    Only the addenda member is read; a member that no longer reads is an error naming it.
    """
    if not data.startswith(ZIP_MAGIC):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            found = [
                info
                for info in archive.infolist()
                if not info.is_dir()
                and ADDENDA_NAME.match(PurePosixPath(info.filename).name)
                and info.file_size <= MAX_MEMBER_BYTES
            ]
            if len(found) != 1:
                return None
            member = found[0].filename
            text = archive.read(found[0])
    except (OSError, zipfile.BadZipFile) as exc:
        raise TrackerError(f"{name}: the stored source no longer reads as a zip ({exc})") from None
    return parse_addenda(f"{name}!{member}", text)


# ---------------------------------------------------------------------------------------------
# Which version the addenda describe changes since


_FISCAL_YEAR = re.compile(r"^FY(\d{4})")
_ORDER_FILE = re.compile(r"order_(\d{4})([a-z]*)\.txt$", re.I)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _size(section: SummarySection | None, which: str) -> int:
    value = getattr(section, which) if section is not None else None
    return value if isinstance(value, int) else 0


def _from_label(file_name: str | None) -> str | None:
    """The label an order file name names: `icd10cm_order_2021jan.txt` → FY2021-JAN,
    `icd10cm_order_2022.txt` → FY2022 (a name without a month is the October version's, or a
    mid-year version's named like it: the counts tell)."""
    match = _ORDER_FILE.search(PurePosixPath((file_name or "").replace("\\", "/")).name)
    if match is None:
        return None
    month = match[2].lower()[:3]
    if month in _MONTHS and month != "oct":
        return f"FY{match[1]}-{month.upper()}"
    return f"FY{match[1]}"


def _fiscal_year(label: str) -> str:
    match = _FISCAL_YEAR.match(label)
    return match[1] if match else ""


def decide(
    old: ReleaseInfo,
    new: ReleaseInfo,
    old_size: int,
    addenda: Addenda | None,
    reconciling: bool,
    stored: Collection[str] | None,
    new_size: int | None = None,
) -> Reconciliation:
    """Whether `new`'s addenda describe the changes since `old` (then they are reconciled).

    With a summary: `old` must be of the fiscal year (and month, when named) of the order file
    the summary leads from, and hold as many codes and headers (`old_size`) as the summary says
    it does; the new release must hold what the summary leads to (`new_size`). Without one (an
    errata): `old` must be the version the errata corrects. Otherwise the reason says which
    version the addenda count from, and whether it is stored (`stored`: the store's labels,
    None when unknown).
    """
    if not reconciling:
        return not_requested(old, new)
    if addenda is None:
        return Reconciliation(
            False,
            "",
            "",
            f"reconciliation skipped: {new.display} has no addenda (no declared changes)",
        )
    summary = addenda.summary
    sections = [s for s in (summary.codes, summary.headers) if s is not None] if summary else []
    if not sections:
        if new.label.endswith("-ERRATA"):
            reference = new.label.removesuffix("-ERRATA")
            basis = "an errata's addenda list what it adds to the version it corrects"
            if old.label == reference:
                return Reconciliation(True, reference, basis, "")
            return _skipped(old, new, reference, basis, stored)
        return Reconciliation(
            False,
            "",
            "",
            f"reconciliation skipped: {new.display}'s addenda have no summary naming the"
            " version they describe changes since",
        )
    first = sections[0]
    from_total = sum(_size(s, "from_count") for s in sections)
    to_total = sum(_size(s, "to_count") for s in sections)
    what = "codes" if len(sections) == 1 else "codes and headers"
    basis = (
        f"their summary leads from {first.from_file} ({from_total} {what}) to"
        f" {first.to_file} ({to_total})"
    )
    if new_size is not None and new_size != to_total:
        return Reconciliation(
            False,
            "",
            basis,
            f"reconciliation skipped: {new.display}'s addenda lead to {to_total} {what},"
            f" {new.display} holds {new_size}: they describe another version",
        )
    named = _from_label(first.from_file)
    reference = named or ""
    if named is not None:
        same_year = _fiscal_year(old.label) == _fiscal_year(named)
        month_ok = "-" not in named or old.label.startswith(named)
        if same_year and month_ok and old_size == from_total:
            return Reconciliation(True, old.label, basis, "")
        if _fiscal_year(named) == _fiscal_year(new.label) and "-" not in named:
            # A mid-year version's addenda count from the October version of its year.
            reference = named
    return _skipped(old, new, reference, basis, stored, old_size=old_size, what=what)


def _skipped(
    old: ReleaseInfo,
    new: ReleaseInfo,
    reference: str,
    basis: str,
    stored: Collection[str] | None,
    *,
    old_size: int | None = None,
    what: str = "codes and headers",
) -> Reconciliation:
    holds = f", which holds {old_size} {what}" if old_size is not None else ""
    head = (
        f"reconciliation skipped: {new.display}'s addenda describe changes since"
        f" {reference or 'another version'} ({basis}), not since {old.display}{holds}"
    )
    if stored is None or not reference:
        return Reconciliation(False, reference, basis, head)
    if reference in stored and reference != old.label:
        return Reconciliation(
            False, reference, basis, f"{head}; diff {reference} {new.display} to reconcile them"
        )
    if reference in stored:
        return Reconciliation(False, reference, basis, head)
    return Reconciliation(
        False, reference, basis, f"{head}; {reference} is not stored", (reference,)
    )


# ---------------------------------------------------------------------------------------------
# The diff in the addenda's terms, and the addenda held against it


@dataclass(frozen=True, slots=True)
class Event:
    """A change as the addenda would write it: (action, code) and the flag of the line."""

    action: Action
    code: str
    billable: bool
    change: CodeChange


def _billable(record: CodeRecord | None) -> bool:
    return bool(getattr(record, "billable", False))


def events(changes: Sequence[CodeChange]) -> list[Event]:
    """The diff's changes as addenda lines: a flag change is a deletion and an addition."""
    found: list[Event] = []
    for change in changes:
        if change.kind is ChangeKind.ADDED:
            found.append(Event("add", change.code, _billable(change.new), change))
        elif change.kind is ChangeKind.DELETED:
            found.append(Event("delete", change.code, _billable(change.old), change))
        elif change.field("billable") is not None:
            found.append(Event("delete", change.code, _billable(change.old), change))
            found.append(Event("add", change.code, _billable(change.new), change))
        elif change.fields:
            found.append(Event("revise", change.code, _billable(change.new), change))
    return found


SECTIONS: tuple[tuple[str, bool], ...] = (("codes", True), ("headers", False))
COUNTED: tuple[str, ...] = (
    "additions",
    "deletions",
    "revisions",
    "both_titles",
    "long_only",
    "short_only",
)


def observed_counts(changes: Sequence[CodeChange], billable: bool) -> dict[str, int]:
    """CDC's summary counts of one section (billable codes, or headers), from the diff."""
    counts = dict.fromkeys(COUNTED, 0)
    for event in events(changes):
        if event.billable is not billable:
            continue
        if event.action == "add":
            counts["additions"] += 1
        elif event.action == "delete":
            counts["deletions"] += 1
        else:
            counts["revisions"] += 1
            long_changed = event.change.field("long_title") is not None
            short_changed = event.change.field("short_title") is not None
            key = (
                "both_titles"
                if long_changed and short_changed
                else "long_only"
                if long_changed
                else "short_only"
            )
            counts[key] += 1
    return counts


@dataclass(frozen=True, slots=True)
class SectionCheck:
    """One section of the addenda summary (`codes` or `headers`) against the diff's counts."""

    section: str
    declared: dict[str, int | None]
    observed: dict[str, int]

    @property
    def mismatches(self) -> tuple[str, ...]:
        return tuple(
            name
            for name in COUNTED
            if self.declared.get(name) is not None and self.declared[name] != self.observed[name]
        )

    def to_dict(self) -> dict[str, Any]:
        return {"section": self.section, "declared": self.declared, "observed": self.observed}


@dataclass(frozen=True, slots=True)
class AddendaCheck:
    """The addenda of a diff's new release: lines per action, the diff in the same terms, and
    the summary's counts against the diff's.

    `comparable` is whether the addenda describe the changes since the diff's old release (its
    reconciliation); when not, `reason` says why and the counts are not expected to agree.
    """

    file: str
    declared: dict[str, int]
    observed: dict[str, int]
    sections: tuple[SectionCheck, ...]
    comparable: bool
    reason: str

    @property
    def agrees(self) -> bool:
        return (
            self.comparable
            and self.declared == self.observed
            and not any(s.mismatches for s in self.sections)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "declared": self.declared,
            "observed": self.observed,
            "summary": [section.to_dict() for section in self.sections],
            "comparable": self.comparable,
            "agrees": self.agrees,
            "reason": self.reason,
        }


def _per_action(actions: Sequence[str]) -> dict[str, int]:
    return {
        action: sum(1 for a in actions if a == action) for action in ("add", "delete", "revise")
    }


def check_declared(
    decision: Reconciliation,
    addenda: Addenda | None,
    changes: Sequence[CodeChange],
    new: ReleaseInfo,
) -> tuple[tuple[Finding, ...], AddendaCheck | None]:
    """The findings of reconciling the addenda with the diff (only when `decision` says they
    describe the changes since the old release) and the addenda's counts against the diff's."""
    if addenda is None:
        return (), None
    seen = events(changes)
    sections = []
    summary = addenda.summary
    for name, billable in SECTIONS:
        section = getattr(summary, name) if summary is not None else None
        if section is None:
            continue
        sections.append(
            SectionCheck(
                name,
                {key: getattr(section, key) for key in COUNTED},
                observed_counts(changes, billable),
            )
        )
    check = AddendaCheck(
        file=addenda.name,
        declared=_per_action([entry.action for entry in addenda.entries]),
        observed=_per_action([event.action for event in seen]),
        sections=tuple(sections),
        comparable=decision.reconciled,
        reason=decision.reason,
    )
    if not decision.reconciled:
        return (), check
    return _findings(addenda, seen, changes, new), check


_WORDS = {"add": "Add", "delete": "Delete", "revise": "Revise"}


def _findings(
    addenda: Addenda, seen: Sequence[Event], changes: Sequence[CodeChange], new: ReleaseInfo
) -> tuple[Finding, ...]:
    """Every addenda line not seen in the diff, every change of the diff no line declares, and
    every line whose flag or titles are not the release's, in code order."""
    show = get_code_set(new.code_set).display_code
    by_key = {(event.action, event.code): event for event in seen}
    by_code = {change.code: change for change in changes}
    findings: list[Finding] = []

    def add(rule: Rule, direction: Direction, code: str, declared: str, action: str, text: str,
            flags: frozenset[Flag] = frozenset()) -> None:  # fmt: skip
        change = by_code.get(code)
        findings.append(
            Finding(
                code=code,
                rule=rule,
                direction=direction,
                declared=declared,
                action=action,
                observed_categories=change.categories if change is not None else frozenset(),
                observed_actions=frozenset(e.action for e in seen if e.code == code),
                message=text,
                flags=flags | (change.flags & {Flag.REUSED} if change is not None else frozenset()),
            )
        )

    declared: set[tuple[str, str]] = set()
    for entry in addenda.entries:
        key = (entry.action, entry.code)
        declared.add(key)
        event = by_key.get(key)
        line = f"{_WORDS[entry.action]}: {show(entry.code)} (line {entry.line})"
        if event is None:
            observed = _observed(by_code.get(entry.code), new)
            add(Rule.NOT_SEEN, Direction.DECLARED_NOT_SEEN, entry.code, entry.action,
                entry.action, f"declared {line}, but {observed}")  # fmt: skip
            continue
        for problem in _differences(entry, event):
            add(Rule.DIFFERS, Direction.DECLARED_NOT_SEEN, entry.code, entry.action,
                entry.action, f"declared {line}, but {problem}")  # fmt: skip
    for event in seen:
        if (event.action, event.code) in declared:
            continue
        change = event.change
        cosmetic = event.action == "revise" and Flag.COSMETIC in change.flags
        what = {
            "add": f"added in {new.display}",
            "delete": f"not in {new.display}",
            "revise": "title revised: " + ", ".join(fc.field for fc in change.fields),
        }[event.action]
        if change.kind is ChangeKind.CHANGED and event.action != "revise":
            what = (
                f"turned from {'billable' if _billable(change.old) else 'header'} to"
                f" {'billable' if _billable(change.new) else 'header'}"
            )
        text = f"{what}{' (case, whitespace or punctuation only)' if cosmetic else ''}:"
        text += f" no '{_WORDS[event.action]}:' line declares it"
        add(Rule.NOT_DECLARED, Direction.SEEN_NOT_DECLARED, event.code, "", event.action, text,
            frozenset({Flag.COSMETIC}) if cosmetic else frozenset())  # fmt: skip
    findings.sort(key=lambda f: (f.code, f.direction, f.rule, f.action))
    return tuple(findings)


def _observed(change: CodeChange | None, new: ReleaseInfo) -> str:
    if change is None:
        return f"the code is unchanged in {new.display} (or in neither release)"
    if change.kind is ChangeKind.ADDED:
        return f"the code was added in {new.display}"
    if change.kind is ChangeKind.DELETED:
        return f"the code is not in {new.display}"
    return "observed: " + ", ".join(fc.field for fc in change.fields)


def _differences(entry: AddendaEntry, event: Event) -> list[str]:
    """How a declared change that happened differs from the line (flag, titles)."""
    problems: list[str] = []
    record = event.change.old if entry.action == "delete" else event.change.new
    if entry.billable is not None and entry.billable != event.billable:
        problems.append(f"the flag is {int(event.billable)}, the line says {int(entry.billable)}")
    if record is not None and entry.action != "delete":
        titles = (getattr(record, "short_title", ""), getattr(record, "long_title", ""))
        if (entry.short_title, entry.long_title) != titles:
            problems.append("its titles are not the release's")
    return problems


def reused_changes(
    added: Sequence[CodeRecord], earlier: Mapping[str, tuple[ReleaseInfo, CodeRecord]]
) -> list[CodeChange]:
    """`added` changes; an added code that an earlier release carried is given that record
    (`earlier`), and flagged reused when its long title then was another one.

    Another meaning is a long title that differs beyond case, whitespace and punctuation: a
    code deleted and re-added with the title it had is the same code coming back.
    """
    out: list[CodeChange] = []
    for record in added:
        found = earlier.get(record.code)
        flags: frozenset[Flag] = frozenset()
        if found is not None:
            before = str(getattr(found[1], "long_title", ""))
            after = str(getattr(record, "long_title", ""))
            if before != after and not is_cosmetic(before, after):
                flags = frozenset({Flag.REUSED})
        out.append(
            # The shared model types its records as HCPCS's; any code set's record fits it.
            CodeChange(
                record.code, ChangeKind.ADDED, None, cast(Any, record), flags=flags, earlier=found
            )
        )
    return out


__all__ = [
    "COUNTED",
    "SECTIONS",
    "AddendaCheck",
    "Category",
    "Event",
    "RecordChange",
    "SectionCheck",
    "SectionCounts",
    "addenda_from_source",
    "check_declared",
    "compare",
    "decide",
    "events",
    "observed_counts",
    "reused_changes",
    "section_counts",
]
