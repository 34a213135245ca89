"""How a value reads in a report: the mark for "none", dates, kind titles, release headers,
coded values with their CMS meaning, and replacement codes with their descriptions.

Every builder of the report package (release pair, year, code page, CSV rows) writes values
through here, so a blank, a date or an XREF reads the same in every format.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from tracker.codesets import DEFAULT_CODE_SET, get_code_set
from tracker.codesets.hcpcs.codetables import FIELD_TABLES, decode
from tracker.diff import ChangeKind, CodeChange
from tracker.release import ReleaseInfo, ReleaseKind, Snapshot
from tracker.report.views import ReleaseView, Replacement, Value

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
    ChangeKind.DELETED: "deleted",
}


def listed_kinds(code_set: str) -> tuple[ChangeKind, ...]:
    """The kinds a report of `code_set` lists, in reading order (HCPCS: `CHANGE_KINDS`; a code
    set without end dates: added, changed, deleted)."""
    if get_code_set(code_set).has_end_dates:
        return CHANGE_KINDS
    return (ChangeKind.ADDED, ChangeKind.CHANGED, ChangeKind.DELETED)


def code_family_of(code_set: str, code: str) -> str:
    """The report family of a code: HCPCS's by first letter, ICD-10's chapter or section."""
    return get_code_set(code_set).family(code)


def date_text(value: date | None) -> str:
    return value.isoformat() if value is not None else NONE_TEXT


def value_text(value: Any) -> str:
    """One field value as text: dates in ISO form, blanks as `NONE_TEXT`."""
    if value is None or value == "":
        return NONE_TEXT
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def sentence(text: str) -> str:
    """`text` with its first letter capitalized, the rest untouched (labels, codes)."""
    return text[:1].upper() + text[1:]


def _kind_text(info: ReleaseInfo) -> str:
    """The release's kind as its publisher speaks of it: an ICD-10 update between two October
    releases is a mid-year update, not a quarter (HCPCS's word, the stored kind's name)."""
    if info.kind is ReleaseKind.QUARTERLY and not get_code_set(info.code_set).has_end_dates:
        return "mid-year"
    return info.kind.value


def release_view(info: ReleaseInfo) -> ReleaseView:
    parser = f"{info.parser} {info.parser_version}".strip()
    return ReleaseView(
        display=info.display,
        label=info.label,
        issue=info.issue,
        effective_date=info.effective_date.isoformat(),
        kind=_kind_text(info),
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

    def __init__(
        self,
        snapshot: Snapshot | None,
        changes: Iterable[CodeChange],
        code_set: str = DEFAULT_CODE_SET,
    ) -> None:
        self._snapshot = snapshot
        self._describe = get_code_set(code_set).describe
        self._known: dict[str, str] = {}
        for change in changes:
            record = change.new if change.new is not None else change.old
            if record is not None:
                self._known[change.code] = self._describe(record)
        self._label = snapshot.info.display if snapshot is not None else ""

    def prefetch(self, codes: Iterable[str]) -> None:
        if self._snapshot is None:
            return
        wanted = sorted({code for code in codes if code})
        for code, record in self._snapshot.records(wanted).items():
            self._known[code] = self._describe(record)

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


def xref_codes(changes: Iterable[CodeChange], code_set: str = DEFAULT_CODE_SET) -> set[str]:
    """Every code the old or new record of a change names as a replacement (XREF)."""
    replaced_by = get_code_set(code_set).replaced_by
    codes: set[str] = set()
    for change in changes:
        for record in (change.old, change.new):
            if record is not None:
                codes.update(replaced_by(record))
    return codes


def describer_for(
    snapshot: Snapshot | None,
    changes: Sequence[CodeChange],
    *,
    also: Iterable[str] = (),
    code_set: str = DEFAULT_CODE_SET,
) -> Describer:
    """A `Describer` of `changes` with every replacement code they name (and `also`) looked up
    in `snapshot` in one batch, so describing never reads the store row by row."""
    describer = Describer(snapshot, changes, code_set)
    describer.prefetch(xref_codes(changes, code_set) | set(also))
    return describer


def field_values(
    field: str, value: Any, describer: Describer, *, empty: str = NONE_TEXT
) -> tuple[Value, ...]:
    """A field value as shown: tuples item by item, coded values with their meaning.

    XREFs are codes, so their meaning is the replacement code's description.
    """
    items = value if isinstance(value, tuple) else (value,)
    if isinstance(value, bool):
        # ICD-10's flag, written as the order file writes it.
        return (Value("1", "billable") if value else Value("0", "header, not billable"),)
    if field == "xrefs":
        values = tuple(Value(r.code, r.description) for r in describer.replacements(items))
        return values or (Value(empty, ""),)
    out = []
    for item in items:
        text = value_text(item)
        meaning = ""
        if text == NONE_TEXT:
            text = empty
        elif field in FIELD_TABLES:
            meaning = decode(field, text) or "(not in the CMS code table)"
        out.append(Value(text, meaning))
    return tuple(out) or (Value(empty, ""),)
