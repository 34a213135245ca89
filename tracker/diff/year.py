"""A year of diffs: its first and last release, each step between, and codes born and retired
inside it.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Sequence

from tracker.codesets.hcpcs.calendar import (
    missing_quarters,
    quarter_of,
)
from tracker.codesets.hcpcs.record import Record
from tracker.diff.compare import diff_snapshots
from tracker.diff.model import ChangeKind, TransientCode, YearDiff
from tracker.errors import ReleaseError
from tracker.release import Snapshot


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
