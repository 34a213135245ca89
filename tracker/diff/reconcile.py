"""Reconciliation: each declared action code against what the diff observed, both ways.

A -> new or added date inside the window; D -> termination date set; C -> long description;
S -> short description; B -> long description and an administrative field; F -> administrative
or coverage field; P -> payment field; T -> BETOS or type of service; R -> termination cleared;
N -> no change. Every disagreement is a `Finding`, with its message in English here.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from tracker.codesets.base import Reconciliation, not_requested
from tracker.codesets.hcpcs.calendar import (
    Reference,
    decide,
    reference_from_records,
    reference_of,
)
from tracker.codesets.hcpcs.record import Record
from tracker.diff.model import (
    ACTION_NAMES,
    BOOKKEEPING,
    Category,
    ChangeKind,
    CodeChange,
    Direction,
    Finding,
    Flag,
    Rule,
)
from tracker.release import ReleaseInfo, Snapshot

__all__ = ["Reference", "decide_reconciliation", "reconcile"]

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


def decide_reconciliation(
    old: Snapshot,
    new: Snapshot,
    *,
    reconciling: bool,
    stored: Collection[str] | None,
    reference: Reference | None,
) -> tuple[Reconciliation, Mapping[str, Record] | None]:
    """Whether `new`'s action codes are reconciled against `old` (see `decide`), and the
    records of `new` if every one had to be read to find its reference (None otherwise).

    Without the snapshot's action index every record is read to find the A codes that decide
    the reference; the same records then serve the diff and the reconciliation.
    """
    if not reconciling:
        return not_requested(old.info, new.info), None
    every_new: Mapping[str, Record] | None = None
    if reference is None and new.actions is None:
        every_new = new.records(new.hashes)
        reference = reference_from_records(new.info.label, every_new.values())
    return decide(old.info, new.info, reference or reference_of(new), stored), every_new


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
    names = [fc.field for fc in change.fields if fc.field not in BOOKKEEPING]
    return ", ".join(names) if names else "only " + ", ".join(fc.field for fc in change.fields)


def _text(value: Any) -> str:
    return "none" if value is None else str(value)
