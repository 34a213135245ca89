"""Release identity, for every code set: kinds, issues and their order, snapshots.

A release is named by its code set's label (HCPCS `2020-APR`, ICD-10 `FY2024`), read by the
code set (`CodeSet.parse_label`); a label may name an issue (`2020-APR#2`). Publishers name
their files inconsistently over the years, so a code set infers the label from the name when
it can, and the user can always give it explicitly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Generic, TypeVar

from tracker.codesets import DEFAULT_CODE_SET, get_code_set
from tracker.codesets.base import Anomaly, CodeRecord, LabelParts, RecordT, hash_canonical
from tracker.errors import ReleaseError

# Issues are stored as 32-bit integers (PostgreSQL `integer`).
MAX_ISSUE = 2**31 - 1
# An effective date this many years or more away from its label's year is a typo, not a
# correction effective early or late.
EFFECTIVE_YEARS_AWAY = 2


class ReleaseKind(StrEnum):
    ANNUAL = "annual"
    QUARTERLY = "quarterly"
    CORRECTION = "correction"


# CMS's re-issue markers, after the label: `_v2`…`_v5` or a date stamp MMDDYYYY.
_VERSION = re.compile(r"(?:^|[_\- ])v(?P<n>\d{1,2})(?=$|[_\-. ])", re.IGNORECASE)
_STAMP = re.compile(r"(?:^|[_\- ])(?P<stamp>\d{8})(?=$|[_\-. ])")


def _stamp_date(stamp: str) -> date | None:
    try:
        day = date(int(stamp[4:]), int(stamp[:2]), int(stamp[2:4]))
    except ValueError:
        return None
    return day if 1980 <= day.year <= 2100 else None


def version_marker(file_name: str) -> str | None:
    """CMS's version marker in a file name (`v4`, `12172024`), or None.

    The marker follows the release part of the name; a date stamp must be a real MMDDYYYY date.
    """
    base = file_name.replace("\\", "/").rsplit("/", 1)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    version = [m["n"] for m in _VERSION.finditer(stem)]
    stamps = [m["stamp"] for m in _STAMP.finditer(stem) if _stamp_date(m["stamp"])]
    if version:
        return f"v{int(version[-1])}"
    if stamps:
        return stamps[-1]
    return None


def marker_key(marker: str | None) -> tuple[str, int | date]:
    """Sort key of a marker: versions compare with versions, date stamps with date stamps.

    No marker is CMS's first issue, `v1` in the version order.
    """
    if marker is None:
        return ("v", 1)
    if marker.lower().startswith("v") and marker[1:].isdigit():
        return ("v", int(marker[1:]))
    stamp = _stamp_date(marker)
    if stamp is None:
        raise ReleaseError(f"version marker {marker!r} is neither vN nor a MMDDYYYY date stamp")
    return ("d", stamp)


def marker_is_later(new: str | None, stored: str | None) -> bool | None:
    """True when `new` marks a later issue than `stored`, False when earlier or equal, None
    when the two cannot be ordered (a version against a date stamp).

    An unmarked stored file followed by a marked one is CMS's re-issue of it.
    """
    if new is None:
        return False
    new_kind, new_value = marker_key(new)
    if stored is None:
        return new_kind == "d" or new_value > 1  # type: ignore[operator]
    old_kind, old_value = marker_key(stored)
    if new_kind != old_kind:
        return None
    return new_value > old_value  # type: ignore[operator]


def parse_effective(text: str, label: LabelParts | None = None) -> date:
    """`YYYY-MM-DD`; with `label`, also within a year of the year the label takes effect in
    (else a typo)."""
    try:
        value = datetime.strptime(text.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise ReleaseError(f"--effective {text!r}: not a date as YYYY-MM-DD") from None
    if label is not None and abs(value.year - label.effective_date.year) >= EFFECTIVE_YEARS_AWAY:
        raise ReleaseError(
            f"--effective {text!r}: more than a year away from release {label.label}"
            " (a correction is effective within a year of its label)"
        )
    return value


@dataclass(frozen=True, slots=True)
class ReleaseInfo:
    """A stored release's identity and provenance, as read from the store."""

    id: int
    code_set: str
    label: str
    issue: int
    effective_date: date
    kind: ReleaseKind
    source_name: str
    source_sha256: str
    content_sha256: str
    record_count: int
    parser: str
    parser_version: str
    ingested_at: datetime
    data_member: str
    retracted: bool = False
    retraction_reason: str | None = None
    # CMS's version marker of the file (`v4`, `12172024`), repairs made while parsing it, and
    # the latest retract/reinstate event with its reason (None: never retracted).
    version_marker: str | None = None
    anomalies: tuple[Anomaly, ...] = ()
    last_event: str | None = None
    last_event_reason: str | None = None
    # For a release of kind `correction`: the release it corrects.
    base_release_id: int | None = None

    @property
    def display(self) -> str:
        """`2020-APR`, or `2020-APR#2` for a re-issue."""
        return self.label if self.issue == 1 else f"{self.label}#{self.issue}"


_Record = TypeVar("_Record", bound=CodeRecord)


@dataclass(frozen=True, slots=True)
class Snapshot(Generic[RecordT]):
    """One release's codes: every code's record hash, and records fetched on demand.

    Diffing compares hashes first and loads only the records that differ, so the loader lets the
    store hand over a snapshot without decoding thousands of unchanged records.
    """

    info: ReleaseInfo
    hashes: Mapping[str, str]
    loader: Callable[[Iterable[str]], Mapping[str, RecordT]]
    # Each code's declared action letter, when the store can tell it without decoding records:
    # reconciliation then skips decoding unchanged records declared N, most of any release.
    actions: Mapping[str, str] | None = None

    def records(self, codes: Iterable[str]) -> Mapping[str, RecordT]:
        return self.loader(codes)

    def record(self, code: str) -> RecordT | None:
        return self.loader([code]).get(code)

    @staticmethod
    def from_records(info: ReleaseInfo, records: Iterable[_Record]) -> Snapshot[_Record]:
        """An in-memory snapshot (tests, freshly parsed files)."""
        by_code = {record.code: record for record in records}
        hashes = {code: hash_canonical(record.canonical_json()) for code, record in by_code.items()}

        def load(codes: Iterable[str]) -> Mapping[str, _Record]:
            return {code: by_code[code] for code in codes if code in by_code}

        return Snapshot(info=info, hashes=hashes, loader=load)


def adhoc_info(
    label: str,
    effective: date | None = None,
    *,
    record_count: int = 0,
    code_set: str = DEFAULT_CODE_SET,
) -> ReleaseInfo:
    """A ReleaseInfo for a release that is not stored (tests, comparing two files directly)."""
    parts = get_code_set(code_set).parse_label(label)
    return ReleaseInfo(
        id=0,
        code_set=get_code_set(code_set).name,
        label=parts.label,
        issue=parts.issue or 1,
        effective_date=effective or parts.effective_date,
        kind=ReleaseKind(parts.kind),
        source_name="",
        source_sha256="",
        content_sha256="",
        record_count=record_count,
        parser="",
        parser_version="",
        ingested_at=datetime(1970, 1, 1),
        data_member="",
    )


# --- Choosing releases by label (pure: the store hands over its list) -----------------------


def resolve_in(
    infos: list[ReleaseInfo],
    text: str,
    *,
    allow_retracted: bool = False,
    code_set: str = DEFAULT_CODE_SET,
) -> ReleaseInfo:
    """Resolve a label of `code_set` among `infos` (every stored release of the code set,
    retracted ones included).

    A label whose issues are all retracted is refused, unless `allow_retracted` (answers "as
    known at" a release): then its latest issue."""
    parts = get_code_set(code_set).parse_label(text)
    label = name = parts.label
    issue = parts.issue
    candidates = [info for info in infos if info.label == name]
    if issue is not None:
        for info in candidates:
            if info.issue == issue:
                return info
        raise ReleaseError(f"release {label}#{issue} is not stored")
    current = [info for info in candidates if not info.retracted]
    if not current:
        if candidates and allow_retracted:
            return max(candidates, key=lambda info: info.issue)
        if candidates:
            raise ReleaseError(
                f"release {label} is retracted (name an issue, e.g. {label}#{candidates[-1].issue},"
                " to read it anyway)"
            )
        known = ", ".join(info.display for info in infos if not info.retracted) or "none"
        raise ReleaseError(f"release {label} is not stored (stored: {known})")
    return max(current, key=lambda info: info.issue)


def current_in(infos: list[ReleaseInfo]) -> list[ReleaseInfo]:
    """Not retracted, the latest issue of each label, in time order."""
    latest: dict[str, ReleaseInfo] = {}
    for info in infos:
        if not info.retracted:
            latest[info.label] = info
    return sorted(latest.values(), key=lambda info: (info.effective_date, info.label))


def latest_in(infos: list[ReleaseInfo]) -> ReleaseInfo:
    current = [info for info in infos if not info.retracted]
    if not current:
        raise ReleaseError("no releases are stored yet; run `tracker ingest FILE` first")
    return current[-1]


def known_at_in(
    infos: list[ReleaseInfo], known_at: str | None, code_set: str = DEFAULT_CODE_SET
) -> list[ReleaseInfo]:
    """Among `infos` (every stored release of a code set), those that count as known at K:
    non-retracted, latest issue per label, effective no later than K, in time order.

    K itself counts even when it was retracted later: "as known at 2020-APR" asks what the
    2020-APR file said, which a later retraction does not change (the other retracted releases
    stay out). A label whose issues are all retracted means its latest issue.
    """
    if known_at is None:
        target = latest_in(infos)
    else:
        target = resolve_in(infos, known_at, allow_retracted=True, code_set=code_set)
    releases = [
        info
        for info in current_in(infos)
        if info.label != target.label and info.effective_date <= target.effective_date
    ]
    releases.append(target)
    return sorted(releases, key=lambda info: (info.effective_date, info.label))
