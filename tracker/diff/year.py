"""A year of diffs: its first and last release, each step between, and codes born and retired
inside it.

What a year is belongs to its code set (`CodeSet.year_span`): HCPCS's calendar year with its
quarters, ICD-10's fiscal year opened by the release in force on October 1 with its mid-year
updates. This module picks the year's releases from those stored (`year_releases`) and strings
them together (`diff_year`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from tracker.codesets import get_code_set
from tracker.codesets.base import YearSpan
from tracker.diff.compare import diff_snapshots
from tracker.diff.model import ChangeKind, TransientCode, YearDiff
from tracker.errors import ReleaseError
from tracker.release import ReleaseInfo, Snapshot


@dataclass(frozen=True, slots=True)
class YearReleases:
    """The stored releases of a code set's year, in time order, and what is missing."""

    span: YearSpan
    releases: tuple[ReleaseInfo, ...]
    later: ReleaseInfo | None
    """The latest stored release after the year (its records tell how codes ended), or None."""
    missing: tuple[str, ...]
    """The releases the publisher always issues in the year that are not stored."""
    opening_note: str
    """When the release that should open the year is not stored: which one opens it instead."""


def year_releases(code_set: str, year: int, current: Sequence[ReleaseInfo]) -> YearReleases:
    """The releases of `year` among `current` (the stored releases that count, in time order):
    those taking effect in the year and, for a year opened by the release in force on its first
    day (ICD-10's fiscal year), the latest one taking effect on or before that day.

    Raises `ReleaseError` when fewer than two releases fall in the year.
    """
    span = get_code_set(code_set).year_span(year)
    inside = [info for info in current if span.contains(info.effective_date)]
    if span.opens_with_release_in_force:
        before = [info for info in current if info.effective_date < span.start]
        if before and not any(info.effective_date == span.start for info in inside):
            inside.insert(0, before[-1])
    if len(inside) < 2:
        stored = ", ".join(info.display for info in inside) or "none"
        hint = ""
        if len(inside) == 1 and inside[0].label == span.opening:
            earlier = [info for info in current if info.effective_date < inside[0].effective_date]
            if earlier:
                hint = (
                    f"; for the changes {inside[0].display} brought, diff it with the release"
                    f" before it: tracker diff {earlier[-1].display} {inside[0].display}"
                )
        raise ReleaseError(
            f"year {span.name} needs at least two stored releases to diff (stored: {stored})" + hint
        )
    labels = {info.label for info in inside}
    missing = tuple(label for label in span.expected if label not in labels)
    note = ""
    if span.opening and span.opening not in labels:
        first = inside[0]
        note = (
            f"{span.opening} (effective {span.start.isoformat()}) is not stored: the year opens"
            f" with {first.display}, in force on {span.start.isoformat()}"
            f" (effective {first.effective_date.isoformat()})"
        )
    later = current[-1] if current and current[-1].effective_date > span.end else None
    return YearReleases(span, tuple(inside), later, missing, note)


def diff_year(
    snapshots: Sequence[Snapshot],
    *,
    stored: Collection[str] | None = None,
    latest: Snapshot | None = None,
    span: YearSpan | None = None,
    opening_note: str = "",
    declared: Callable[[ReleaseInfo, ReleaseInfo], dict[str, Any]] | None = None,
) -> YearDiff:
    """First vs last release of a year, each step, codes born and retired, missing releases.

    Each step is reconciled only when its old release is the reference of its new one (see
    `diff_snapshots`); `stored` is every label in the store (default: the year's releases).
    `span` is the year as the code set counts it (default: the calendar year of the first
    release, HCPCS's). A code is born and retired inside the year when, by the latest record
    known of it (from `latest`, a later release, when given), its added date falls in the year
    and so does its termination date, or it vanished before the year's last release without
    one; for a code set whose records carry no dates (ICD-10), when it is absent from the
    year's first and last release and present in one between. `declared` gives, for a pair of
    releases, what the publisher declared about the newer one (`diff_snapshots` keywords: the
    ICD-10 addenda), so each step is reconciled as `tracker diff` reconciles it.
    """
    if not snapshots:
        raise ReleaseError("year mode needs at least one release")
    ordered = sorted(snapshots, key=lambda s: (s.info.effective_date, s.info.issue))
    code_set = get_code_set(ordered[0].info.code_set)
    if span is None:
        span = code_set.year_span(ordered[0].info.effective_date.year)
    labels = {s.info.label for s in ordered}
    known = labels | set(stored or ())
    first, last = ordered[0], ordered[-1]

    def extra(a: Snapshot, b: Snapshot) -> dict[str, Any]:
        return declared(a.info, b.info) if declared is not None else {}

    steps = tuple(
        diff_snapshots(a, b, stored=known, **extra(a, b)) for a, b in itertools.pairwise(ordered)
    )
    overall = diff_snapshots(first, last, stored=known, **extra(first, last))
    transient = (
        _transient(ordered, span, latest)
        if code_set.has_end_dates
        else _transient_by_presence(ordered)
    )
    return YearDiff(
        releases=tuple(s.info for s in ordered),
        overall=overall,
        steps=steps,
        transient=transient,
        missing=tuple(label for label in span.expected if label not in labels),
        span=span,
        opening_note=opening_note,
    )


def _transient_by_presence(ordered: Sequence[Snapshot]) -> tuple[TransientCode, ...]:
    """Codes of a code set without dates (ICD-10) added after the year's first release and
    deleted before its last, in code order, each by its last record in the year."""
    first, last = ordered[0], ordered[-1]
    between = {code for snapshot in ordered[1:-1] for code in snapshot.hashes}
    candidates = sorted(between - first.hashes.keys() - last.hashes.keys())
    if not candidates:
        return ()
    first_seen: dict[str, str] = {}
    last_seen: dict[str, int] = {}
    records: dict[str, Any] = {}
    for position, snapshot in enumerate(ordered):
        for code, record in snapshot.records(
            [code for code in candidates if code in snapshot.hashes]
        ).items():
            first_seen.setdefault(code, snapshot.info.display)
            last_seen[code] = position
            records[code] = record
    return tuple(
        TransientCode(
            code=code,
            first_seen=first_seen[code],
            last_seen=ordered[last_seen[code]].info.display,
            ended=ChangeKind.DELETED,
            ended_in=ordered[last_seen[code] + 1].info.display,
            record=records[code],
            termination_date=None,
        )
        for code in sorted(records)
    )


def _transient(
    ordered: Sequence[Snapshot], span: YearSpan, latest: Snapshot | None
) -> tuple[TransientCode, ...]:
    """Codes added and retired inside the year (see `diff_year`), in code order.

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
    records: dict[str, Any] = {}
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
        if record.added_date is None or not span.contains(record.added_date):
            continue
        gone = code not in last.hashes and (latest is None or code not in latest.hashes)
        end = record.termination_date
        if end is not None and span.contains(end):
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
