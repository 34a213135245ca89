"""What a release change means for the codes *you* use: `tracker impact CODES`.

A billing team does not read every change of a release; it needs to know which of its own
codes (a fee schedule, a charge master, a value set) changed, ended or were replaced, and by
what. `impact` answers that for a list of codes between two releases, from the release diff
(`tracker.comparison`: the same changes, categories and flags as `tracker diff`) and each
code's state on the later release's effective date (`tracker.query`, as known at that
release), with the
replacement chain of every code that is no longer valid then (`tracker.replacements`).

Each listed code gets one kind, decided in this order:
- `unknown`: in no stored release (with "did you mean" suggestions for near misses);
- `not_yet_effective`: known, but not valid until after the later release's effective date;
- from the diff: `added`, `terminated`, `reactivated`, `removed` (purged: absent from the later
  release with no termination), `reused` (the diff's reused flag: a new meaning under the same
  code), `changed` (a field other than the action code changed);
- `unchanged`: in both releases with no change, or only CMS's bookkeeping changed (the action
  code and its date, which quarterly files reset every quarter: listed as details, not counted
  as a change);
- `absent`: in neither release, but in another stored one (removed before the earlier release,
  or first published after the later one).
Whatever the kind, a code that is not active on the later release's effective date carries its
status and replacement chain, so a code terminated years ago shows as unchanged *and* terminated,
replaced by what.

Entries keep the list's order; counts cover every kind, zero included.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from tracker import query
from tracker.codelist import CodeList, Duplicate, ListedCode
from tracker.codeset_choice import choose_code_set
from tracker.comparison import diff_releases
from tracker.diff import ChangeKind, CodeChange, FieldChange, Flag, ReleaseDiff
from tracker.errors import ReleaseError
from tracker.query import CodeState, Status
from tracker.release import ReleaseInfo
from tracker.replacements import ReplacementChain, replacement_chain
from tracker.store import Store

SCHEMA_VERSION = 1

# Above this many listed codes one bulk pass over the code set (about 1.4 s on a real
# release) beats a lookup per code (about 1.2 ms each), measured on the 2020 releases.
_BULK_THRESHOLD = 1000
# Fields whose change is CMS's bookkeeping, not a change of the code (see the module docstring).
_BOOKKEEPING = frozenset({"action_code", "action_effective_date"})
_MAX_SUGGESTIONS = 5


class ImpactKind(StrEnum):
    UNCHANGED = "unchanged"
    CHANGED = "changed"
    REUSED = "reused"
    ADDED = "added"
    TERMINATED = "terminated"
    REACTIVATED = "reactivated"
    REMOVED = "removed"
    NOT_YET_EFFECTIVE = "not_yet_effective"
    ABSENT = "absent"
    UNKNOWN = "unknown"


CHANGE_KINDS = frozenset(
    {
        ImpactKind.CHANGED,
        ImpactKind.REUSED,
        ImpactKind.TERMINATED,
        ImpactKind.REACTIVATED,
        ImpactKind.REMOVED,
    }
)
"""Kinds that `--fail-on-change` fails on: the listed code's meaning or validity changed."""

_FROM_DIFF = {
    ChangeKind.ADDED: ImpactKind.ADDED,
    ChangeKind.TERMINATED: ImpactKind.TERMINATED,
    ChangeKind.REACTIVATED: ImpactKind.REACTIVATED,
    ChangeKind.PURGED: ImpactKind.REMOVED,
    ChangeKind.CHANGED: ImpactKind.CHANGED,
}


@dataclass(frozen=True, slots=True)
class ImpactEntry:
    """One listed code: what happened to it between the two releases, and where it stands."""

    code: str
    line: int | None
    kind: ImpactKind
    status: Status
    description: str | None = None
    change: CodeChange | None = None
    chain: ReplacementChain | None = None
    suggestions: tuple[str, ...] = ()
    note: str = ""

    @property
    def fields(self) -> tuple[FieldChange, ...]:
        return self.change.fields if self.change is not None else ()

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(sorted({fc.category.value for fc in self.fields}))

    @property
    def flags(self) -> tuple[str, ...]:
        return tuple(sorted(flag.value for flag in self.change.flags)) if self.change else ()

    @property
    def changed(self) -> bool:
        return self.kind in CHANGE_KINDS

    def details(self) -> str:
        """One line: the fields that changed (old → new), the status, the note."""
        parts: list[str] = []
        if self.note:
            parts.append(self.note)
        if self.kind is ImpactKind.UNKNOWN:
            if self.suggestions:
                parts.append("did you mean " + ", ".join(self.suggestions) + "?")
            return "; ".join(parts)
        if self.fields and self.kind not in (ImpactKind.ADDED, ImpactKind.REMOVED):
            parts.extend(_field_text(fc) for fc in self.fields)
        if self.status is not Status.ACTIVE and self.kind is not ImpactKind.NOT_YET_EFFECTIVE:
            parts.append(_status_text(self))
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "line": self.line,
            "kind": self.kind.value,
            "status": self.status.value,
            "description": self.description,
            "categories": list(self.categories),
            "flags": list(self.flags),
            "fields": [
                {
                    "field": fc.field,
                    "category": fc.category.value,
                    "old": _json_value(fc.old),
                    "new": _json_value(fc.new),
                    "flags": sorted(flag.value for flag in fc.flags),
                }
                for fc in self.fields
            ],
            "replacements": self.chain.to_dict() if self.chain is not None else None,
            "replaced_by": self.chain.text() if self.chain is not None else "",
            "suggestions": list(self.suggestions),
            "note": self.note,
            "details": self.details(),
        }


@dataclass(frozen=True, slots=True)
class ImpactReport:
    """The impact of going from release `old` to release `new` on a list of codes."""

    old: ReleaseInfo
    new: ReleaseInfo
    entries: tuple[ImpactEntry, ...]
    source: str | None = None
    duplicates: tuple[Duplicate, ...] = ()
    reconciled: bool = False

    @property
    def on(self) -> date:
        """The date statuses are judged on: the later release's effective date."""
        return self.new.effective_date

    @property
    def changed(self) -> bool:
        """Whether any listed code changed (what `--fail-on-change` fails on)."""
        return any(entry.changed for entry in self.entries)

    def counts(self) -> dict[ImpactKind, int]:
        """Listed codes per kind, every kind present."""
        counts = dict.fromkeys(ImpactKind, 0)
        for entry in self.entries:
            counts[entry.kind] += 1
        return counts

    def summary(self) -> str:
        """`7 codes: 2 unchanged, 1 changed, …` (kinds with no code left out)."""
        parts = [f"{n} {kind.value.replace('_', ' ')}" for kind, n in self.counts().items() if n]
        total = len(self.entries)
        return f"{total} code{'s' if total != 1 else ''}: " + ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form; its schema is `tracker/schemas/impact.schema.json`."""
        return {
            "schema_version": SCHEMA_VERSION,
            "from": _release_dict(self.old),
            "to": _release_dict(self.new),
            "on": self.on.isoformat(),
            "source": self.source,
            "changed": self.changed,
            "counts": {kind.value: n for kind, n in self.counts().items()},
            "codes": [entry.to_dict() for entry in self.entries],
            "duplicates": [
                {"code": d.code, "line": d.line, "repeated_on": list(d.repeated_on)}
                for d in self.duplicates
            ],
        }


@dataclass(frozen=True, slots=True)
class ImpactRow:
    """One row of a "Your codes" table, every cell text: what a report template shows."""

    kind: str
    code: str
    status: str
    description: str
    details: str
    replacements: str


def impact_rows(report: ImpactReport) -> list[ImpactRow]:
    """The report's entries as plain text rows, in list order (table, CSV, report section)."""
    return [
        ImpactRow(
            kind=entry.kind.value.replace("_", " "),
            code=entry.code,
            status=_status_word(entry),
            description=entry.description or "",
            details=entry.details(),
            replacements=entry.chain.text() if entry.chain is not None else "",
        )
        for entry in report.entries
    ]


def impact_context(report: ImpactReport) -> dict[str, Any]:
    """What the `_impact.md.j2` / `_impact.html.j2` partials expect, to merge into a template's
    context: the report and its rows."""
    return {"impact": report, "impact_rows": impact_rows(report)}


ROW_HEADER = ("kind", "code", "status", "description", "details", "replacements")


# ---------------------------------------------------------------------------------------------
# Building the report


def impact(
    store: Store,
    codes: CodeList | Sequence[str],
    *,
    from_release: str | None = None,
    to_release: str | None = None,
    diff: ReleaseDiff | None = None,
) -> ImpactReport:
    """What happened to each listed code from `from_release` to `to_release`.

    `to_release` defaults to the latest release, `from_release` to the latest current release
    effective before it. `diff` is that pair's diff when the caller already has it (a report
    with a "Your codes" section): the same changes, not computed twice.
    """
    listed = _listed(codes)
    new = _resolve(store, to_release, "--to")
    old = _resolve(store, from_release, "--from") if from_release else _previous(store, new)
    if old.effective_date > new.effective_date:
        raise ReleaseError(
            f"--from {old.display} is effective after --to {new.display}; name the earlier first"
        )
    if diff is not None and (diff.old.id, diff.new.id) != (old.id, new.id):
        raise ValueError(f"the diff given is not {old.display} → {new.display}")
    result = (
        diff
        if diff is not None
        else diff_releases(store, old.display, new.display, code_set=new.code_set)
    )
    on = new.effective_date
    known_at = new.display
    # A code is looked up as listed: `g0202` or `G 0202` is a near miss, not the code.
    names = [entry.code for entry in listed if _canonical(entry.code)]
    at_new = _states(store, names, on, known_at, new.code_set)
    # Codes that `new` does not know of yet may be in later releases.
    unseen = [c for c in names if at_new[c].status is Status.UNKNOWN]
    later = _states(store, unseen, on, None, new.code_set)
    unknown = len(names) < len(listed) or any(s.status is Status.UNKNOWN for s in later.values())
    suggest = _Suggester(store, new, on) if unknown else None
    changes = {change.code: change for change in result.changes}
    entries = []
    for item in listed:
        state = later.get(item.code) or at_new.get(item.code) or _unknown(item.code, on, new)
        change = changes.get(item.code)
        entries.append(_entry(store, item, state, change, new, known_at, suggest))
    return ImpactReport(
        old=old,
        new=new,
        entries=tuple(entries),
        source=codes.source if isinstance(codes, CodeList) else None,
        duplicates=codes.duplicates if isinstance(codes, CodeList) else (),
        reconciled=result.reconciled,
    )


def _canonical(code: str) -> bool:
    return code == code.upper() and not any(char.isspace() for char in code)


def _unknown(code: str, on: date, new: ReleaseInfo) -> CodeState:
    return CodeState(code, on, new, Status.UNKNOWN, None, None, None, None)


def _listed(codes: CodeList | Sequence[str]) -> list[ListedCode]:
    if isinstance(codes, CodeList):
        return list(codes.codes)
    seen: dict[str, ListedCode] = {}
    for code in codes:
        text = code.strip().upper()  # codes are case-insensitive
        if text and text not in seen:
            seen[text] = ListedCode(text, 0)
    if not seen:
        raise ReleaseError("no codes to check")
    return list(seen.values())


def _resolve(store: Store, label: str | None, option: str) -> ReleaseInfo:
    try:
        return store.resolve(label, choose_code_set(store, None, labels=[label]))
    except ReleaseError as exc:
        if label is None:
            raise
        raise ReleaseError(f"{option} {label}: {exc}") from None


def _previous(store: Store, new: ReleaseInfo) -> ReleaseInfo:
    """The latest current release effective before `new` (of the same code set)."""
    earlier = [
        info
        for info in store.current_releases(new.code_set)
        if info.effective_date < new.effective_date and info.code_set == new.code_set
    ]
    if not earlier:
        raise ReleaseError(
            f"no stored release is effective before {new.display} to compare it with;"
            " impact needs two releases (--from A --to B)"
        )
    return max(earlier, key=lambda info: (info.effective_date, info.label))


def _states(
    store: Store, codes: Sequence[str], on: date, known_at: str | None, code_set: str
) -> dict[str, CodeState]:
    """Each code's state on `on`; one bulk pass for long lists, a lookup per code otherwise."""
    if len(codes) > _BULK_THRESHOLD:
        every = query.codes_as_of(store, on, known_at=known_at, code_set=code_set)
        bulk = {s.code: s for s in every}
        return {
            code: bulk[code]
            if code in bulk
            else query.code_state(store, code, on, known_at, code_set)
            for code in codes
        }
    return {code: query.code_state(store, code, on, known_at, code_set) for code in codes}


def _entry(
    store: Store,
    item: ListedCode,
    state: CodeState,
    change: CodeChange | None,
    new: ReleaseInfo,
    known_at: str,
    suggest: _Suggester | None,
) -> ImpactEntry:
    line = item.line or None
    if state.status is Status.UNKNOWN:
        found = suggest.near(item.code) if suggest is not None else ()
        return ImpactEntry(
            item.code,
            line,
            ImpactKind.UNKNOWN,
            Status.UNKNOWN,
            suggestions=found,
            note="in no stored release",
        )
    record = state.meaning or state.known
    description = record.long_description if record is not None else None
    kind, note = _kind(state, change, new)
    chain = None
    if state.status in (Status.TERMINATED, Status.REMOVED):
        chain_known_at = known_at if state.known_at.id == new.id else None
        chain = replacement_chain(
            store, item.code, new.effective_date, chain_known_at, new.code_set
        )
    return ImpactEntry(item.code, line, kind, state.status, description, change, chain, note=note)


def _kind(state: CodeState, change: CodeChange | None, new: ReleaseInfo) -> tuple[ImpactKind, str]:
    if state.status is Status.NOT_YET_EFFECTIVE:
        first = state.intervals[0].start if state.intervals else None
        when = f"valid from {first.isoformat()}" if first and first != date.min else ""
        if state.known_at.id != new.id and state.intervals:
            when += f" (first in {state.intervals[0].opened_by.display})"
        return ImpactKind.NOT_YET_EFFECTIVE, when.strip()
    if change is None:
        if state.known_at.id != new.id or not _in_release(state, new):
            return ImpactKind.ABSENT, _absent_note(state, new)
        return ImpactKind.UNCHANGED, ""
    if Flag.REUSED in change.flags:
        return ImpactKind.REUSED, "new meaning under the same code"
    if change.kind is ChangeKind.CHANGED and all(fc.field in _BOOKKEEPING for fc in change.fields):
        return ImpactKind.UNCHANGED, "action code only"
    return _FROM_DIFF.get(change.kind, ImpactKind.CHANGED), ""


def _in_release(state: CodeState, new: ReleaseInfo) -> bool:
    return state.known_release is not None and state.known_release.id == new.id


def _absent_note(state: CodeState, new: ReleaseInfo) -> str:
    if state.known_release is None:
        return ""
    if state.known_release.effective_date > new.effective_date:
        return f"first in {state.intervals[0].opened_by.display}" if state.intervals else ""
    return f"last in {state.known_release.display}"


# ---------------------------------------------------------------------------------------------
# Did you mean


_LOOKALIKE = {"O": "0", "0": "O", "I": "1", "1": "I"}
_NOT_CODE = re.compile(r"[^0-9A-Za-z]")


class _Suggester:
    """Near misses of an unknown code among the codes of `new`, then of any stored release.

    A near miss is the code with case and stray characters (spaces, dots, dashes) dropped,
    letter O read as zero and I as one (and back), and at most one character dropped or added:
    the slips of typing a code by hand or of a spreadsheet that mangled it.
    """

    def __init__(self, store: Store, new: ReleaseInfo, on: date) -> None:
        code_set = new.code_set
        in_new = {
            s.code for s in query.codes_as_of(store, on, known_at=new.display, code_set=code_set)
        }
        anywhere = {s.code for s in query.codes_as_of(store, on, code_set=code_set)}
        self._tiers = (in_new, anywhere - in_new)

    def near(self, code: str) -> tuple[str, ...]:
        found: list[str] = []
        for known in self._tiers:
            for candidate in sorted(_candidates(code, known)):
                if candidate not in found and candidate != code:
                    found.append(candidate)
        return tuple(found[:_MAX_SUGGESTIONS])


def _candidates(code: str, known: set[str]) -> set[str]:
    cleaned = _NOT_CODE.sub("", code).upper()
    if not cleaned:
        return set()
    forms = _lookalikes(cleaned)
    hits = {form for form in forms if form in known}
    if hits:
        return hits
    for form in forms:
        # One character too many: drop each in turn.
        hits.update(
            shorter
            for shorter in (form[:i] + form[i + 1 :] for i in range(len(form)))
            if shorter in known
        )
    lengths = {len(form) + 1 for form in forms}
    for other in known:
        # One character missing: a known code one longer that gives the form with one dropped.
        if len(other) in lengths and any(_one_dropped(other, form) for form in forms):
            hits.add(other)
    return hits


def _lookalikes(text: str) -> set[str]:
    options = [(char, _LOOKALIKE[char]) if char in _LOOKALIKE else (char,) for char in text]
    if sum(len(option) > 1 for option in options) > 8:
        return {text}
    return {"".join(combination) for combination in itertools.product(*options)}


def _one_dropped(longer: str, shorter: str) -> bool:
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))


# ---------------------------------------------------------------------------------------------
# Text


def _status_word(entry: ImpactEntry) -> str:
    if entry.kind is ImpactKind.UNKNOWN:
        return "unknown"
    return entry.status.value


def _status_text(entry: ImpactEntry) -> str:
    on = ""
    if entry.chain is not None and entry.chain.start.termination_date is not None:
        on = f" {entry.chain.start.termination_date.isoformat()}"
    text = f"{entry.status.value}{on}"
    if entry.chain is not None and not entry.chain.replaced:
        text += ", no replacement given"
    return text


def _short(value: Any, width: int = 60) -> str:
    if isinstance(value, tuple):
        # Repeated fields (XREFs, pricing indicators) as their values, blanks left out.
        value = " ".join(str(_json_value(item)) for item in value if item not in ("", None))
    text = "" if value is None else str(_json_value(value))
    return text if len(text) <= width else text[: width - 1] + "…"


def _field_text(change: FieldChange) -> str:
    old = _short(change.old) or "(blank)"
    new = _short(change.new) or "(blank)"
    return f"{change.field}: {old} → {new}"


def _json_value(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_json_value(item) for item in value]
    if isinstance(value, StrEnum):
        return value.value
    return value


def _release_dict(info: ReleaseInfo) -> dict[str, Any]:
    return {
        "label": info.label,
        "display": info.display,
        "code_set": info.code_set,
        "effective_date": info.effective_date.isoformat(),
        "source_name": info.source_name,
        "content_sha256": info.content_sha256,
    }


def rows_as_lists(rows: Iterable[ImpactRow]) -> list[list[str]]:
    """Rows as cell lists in `ROW_HEADER` order (for CSV and plain tables)."""
    return [
        [row.kind, row.code, row.status, row.description, row.details, row.replacements]
        for row in rows
    ]


__all__ = [
    "CHANGE_KINDS",
    "ROW_HEADER",
    "ImpactEntry",
    "ImpactKind",
    "ImpactReport",
    "ImpactRow",
    "impact",
    "impact_context",
    "impact_rows",
    "rows_as_lists",
]
