"""A code's validity as a sequence of intervals, built from the whole release sequence.

One record never tells the whole story: S3854 was terminated 2015-12-31 (2016 file) and
re-activated from 2016-07-01 (action R, 2017 file), and its later records carry neither date
of the gap; G9668 is in the 2016 file only, with no termination date. So validity is read from
every record of the code across the releases known at K, in order:

- A code's first record opens an interval at its added date (valid from the start of time when
  the added date is blank).
- Within one run of consecutive releases that carry the code, the latest record of an interval
  gives its dates: CMS corrects termination and added dates retroactively, so what is known
  last wins (a termination date set later ends the interval; one withdrawn later reopens it).
- A record that lifts a termination (action R, or no termination date any more) with an action
  effective date after the termination is a *reactivation*: the old interval stays closed at
  its termination date and a new one opens at the action effective date, so the gap stays
  invalid.
- A record whose added date is rewritten to a later date is a *reused* code: a new interval
  (the new meaning) opens at the new added date, and the old meaning ends the day before if it
  had not ended already.
- A code missing from a release (a *purge*) closes its interval the day before that release's
  effective date, with status `removed`, unless a termination date ended it already. Releases
  are CMS's quarters, but only the stored ones count: a code in 2018-JAN and not in 2020-JAN,
  with nothing stored between, is removed from 2020-01-01 because nothing tells us when in
  between it went.
- A code that comes back after a purge or a termination opens a new interval: from its action
  effective date when the record says R, else from its added date when that is after the gap,
  else from the effective date of the release that brings it back.

Dates are inclusive: `end` is the last valid day (the termination date itself is valid).
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

from tracker.record import Record
from tracker.release import ReleaseInfo

Timeline = Sequence[tuple[ReleaseInfo, Record]]


class Closure(StrEnum):
    """Why an interval ends."""

    TERMINATED = "terminated"  # a termination date (the record's own last valid day)
    REMOVED = "removed"  # the code vanished from a release without a termination date
    REUSED = "reused"  # the code was given a new meaning (added date rewritten)


class Opening(StrEnum):
    """Why an interval starts."""

    ADDED = "added"  # the code's added date
    REACTIVATED = "re-activated"  # an action effective date after a termination
    RETURNED = "returned"  # back after a purge
    REUSED = "reused"  # a new meaning (added date rewritten)


@dataclass(frozen=True, slots=True)
class ValidityInterval:
    """Days `start`..`end` (inclusive; `end` None: still valid) on which the code is valid.

    `record` is the record whose dates and meaning govern the interval (the latest one known of
    it); `opened_by` is the release whose record set `start`, `closed_by` the release whose
    record set the termination date or that dropped the code; `last_seen` the last release that
    carries the code in this interval.
    """

    start: date
    end: date | None
    record: Record
    opened_by: ReleaseInfo
    closed_by: ReleaseInfo | None
    closure: Closure | None
    last_seen: ReleaseInfo
    opening: Opening = Opening.ADDED

    def contains(self, on: date) -> bool:
        return self.start <= on and (self.end is None or on <= self.end)

    @property
    def termination_date(self) -> date | None:
        """The last valid day when a termination date ends the interval."""
        return self.end if self.closure is Closure.TERMINATED else None

    def text(self) -> str:
        """`2016-07-01 to open  re-activated (2017-JAN)`: the dates, then where each came from."""
        start = "(no added date)" if self.start == date.min else self.start.isoformat()
        end = self.end.isoformat() if self.end is not None else "open"
        text = f"{start} to {end}  {self.opening.value} ({self.opened_by.display})"
        closed_by = self.closed_by.display if self.closed_by is not None else "?"
        if self.closure is Closure.TERMINATED:
            text += f"; terminated ({closed_by})"
        elif self.closure is Closure.REMOVED:
            text += f"; removed: last seen in {self.last_seen.display}, absent from {closed_by}"
        elif self.closure is Closure.REUSED:
            text += f"; reused: new meaning from {closed_by}"
        return text


def _added(record: Record) -> date:
    return record.added_date if record.added_date is not None else date.min


def _dated(interval: ValidityInterval, record: Record, info: ReleaseInfo) -> ValidityInterval:
    """The interval with `record` (carried by `info`) as its latest known record."""
    termination = record.termination_date
    if termination is not None:
        return replace(
            interval,
            end=termination,
            record=record,
            closed_by=info
            if interval.closure is not Closure.TERMINATED or interval.end != termination
            else interval.closed_by,
            closure=Closure.TERMINATED,
            last_seen=info,
        )
    return replace(interval, end=None, record=record, closed_by=None, closure=None, last_seen=info)


def build_intervals(
    timeline: Timeline,
    releases: Sequence[ReleaseInfo],
    positions: Mapping[str, int] | None = None,
) -> tuple[ValidityInterval, ...]:
    """The code's validity intervals from its `timeline` (its record in each release of
    `releases` that carries it, ascending), `releases` being every release known at K, one issue
    per label (`positions`: label -> index in `releases`, when the caller has it already)."""
    if not timeline:
        return ()
    if positions is None:
        positions = {info.label: index for index, info in enumerate(releases)}
    intervals: list[ValidityInterval] = []
    previous_position = -1
    for info, record in timeline:
        position = positions[info.label]
        if not intervals:
            start = _added(record)
            opened = ValidityInterval(start, None, record, info, None, None, info)
            intervals.append(_dated(opened, record, info))
            previous_position = position
            continue
        current = intervals[-1]
        gap = position > previous_position + 1
        if gap:
            current = _removed(current, releases[previous_position + 1])
            intervals[-1] = current
        previous_position = position
        before = current.record
        reactivated = _reactivation_start(before, record)
        how = Opening.REACTIVATED
        if gap and reactivated is None:
            how = Opening.RETURNED
            reactivated = _return_start(record, current, info)
            ended = record.termination_date
            if ended is not None and ended < reactivated:
                # Back, but terminated before the gap: the termination ends the old interval.
                if current.end is None or ended < current.end:
                    current = replace(
                        current, end=ended, closed_by=info, closure=Closure.TERMINATED
                    )
                intervals[-1] = replace(current, record=record, last_seen=info)
                continue
        if reactivated is not None:
            opened = ValidityInterval(reactivated, None, record, info, None, None, info, how)
            intervals.append(_dated(opened, record, info))
            continue
        if (
            record.added_date is not None
            and before.added_date is not None
            and record.added_date > before.added_date
        ):
            # Reused: the old meaning ends the day before the new one starts.
            new_start = record.added_date
            if current.end is None or current.end >= new_start:
                intervals[-1] = replace(
                    current,
                    end=new_start - timedelta(days=1),
                    closed_by=info,
                    closure=Closure.REUSED,
                )
            opened = ValidityInterval(
                new_start, None, record, info, None, None, info, Opening.REUSED
            )
            intervals.append(_dated(opened, record, info))
            continue
        updated = _dated(current, record, info)
        if len(intervals) == 1 and record.added_date not in (None, updated.start):
            # The first interval's start follows the latest added date (corrected retroactively).
            updated = replace(updated, start=_added(record), opened_by=info)
        intervals[-1] = updated
    last_position = len(releases) - 1
    if previous_position < last_position:
        intervals[-1] = _removed(intervals[-1], releases[previous_position + 1])
    # An interval a later record ended before it began (a termination date before its start)
    # held no valid day: dropped, unless it is the only one (then it still carries the dates).
    kept = [item for item in intervals if item.end is None or item.end >= item.start]
    return tuple(sorted(kept, key=lambda item: item.start)) if kept else (intervals[-1],)


def _removed(interval: ValidityInterval, dropped_by: ReleaseInfo) -> ValidityInterval:
    """The interval closed by a purge: the day before the dropping release, unless a
    termination date ended it earlier."""
    last_day = dropped_by.effective_date - timedelta(days=1)
    if interval.end is not None and interval.end <= last_day:
        return interval
    return replace(interval, end=last_day, closed_by=dropped_by, closure=Closure.REMOVED)


def _reactivation_start(before: Record, record: Record) -> date | None:
    """The start of a new interval when `record` re-activates a terminated code, else None."""
    ended = before.termination_date
    effective = record.action_effective_date
    if ended is None or effective is None or effective <= ended:
        return None
    lifted = record.action_code == "R" or record.termination_date is None
    return effective if lifted else None


def _return_start(record: Record, current: ValidityInterval, info: ReleaseInfo) -> date:
    """Where a code that comes back after a purge is valid again."""
    gap_end = current.end if current.end is not None else info.effective_date - timedelta(days=1)
    effective = record.action_effective_date
    if record.action_code == "R" and effective is not None and effective > gap_end:
        return effective
    if record.added_date is not None and record.added_date > gap_end:
        return record.added_date
    return max(info.effective_date, gap_end + timedelta(days=1))


def interval_at(intervals: Sequence[ValidityInterval], on: date) -> tuple[int, bool]:
    """(index, valid): the interval containing `on` (valid True); else the last one that ended
    before it (valid False); else 0 with valid False (before the first interval)."""
    starts = [interval.start for interval in intervals]
    index = bisect.bisect_right(starts, on) - 1
    if index < 0:
        return 0, False
    return index, intervals[index].contains(on)
