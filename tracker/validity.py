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

What a record declares (added and termination dates, the action and when it took effect) is
read through its code set (`CodeSet.record_dates`). A code set whose records declare none
(ICD-10: `has_end_dates` False) follows the same rules with every date blank: an interval
closes where the next release known no longer carries the code, a code back after a gap opens
a new interval at the release that brings it back, and a code first carried by a later release
than the first known opens at that release's effective date.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Generic

from tracker.codesets import get_code_set
from tracker.codesets.base import CodeRecord, RecordDates, RecordT
from tracker.release import ReleaseInfo

Timeline = Sequence[tuple[ReleaseInfo, CodeRecord]]


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
    # Without added dates (ICD-10), a code carried by the first stored release is known from
    # that release's effective date only: no stored release says what was in force before it.
    FIRST_STORED = "first stored release"


@dataclass(frozen=True, slots=True)
class ValidityInterval(Generic[RecordT]):
    """Days `start`..`end` (inclusive; `end` None: still valid) on which the code is valid.

    `record` is the record whose dates and meaning govern the interval (the latest one known of
    it); `opened_by` is the release whose record set `start`, `closed_by` the release whose
    record set the termination date or that dropped the code; `last_seen` the last release that
    carries the code in this interval.
    """

    start: date
    end: date | None
    record: RecordT
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

    def line(self) -> str:
        """The interval as `show` and `history` print it: `valid …` for a code set whose records
        carry their own dates (HCPCS); `in force …` for one whose releases alone say when a code
        is carried (ICD-10), since a header code is in force yet never valid on claims."""
        dated = get_code_set(self.opened_by.code_set).has_end_dates
        return f"{'valid' if dated else 'in force'} {self.text()}"

    def text(self) -> str:
        """`2016-07-01 to open  re-activated (2017-JAN)`: the dates, then where each came from."""
        # A code set without added dates (ICD-10) knows a code only from the releases that
        # carry it: one in the first release stored was valid before it, since when is unknown.
        dated = get_code_set(self.opened_by.code_set).has_end_dates
        start = self.start.isoformat()
        if self.start == date.min:
            start = "(no added date)" if dated else f"(before {self.opened_by.display})"
        end = self.end.isoformat() if self.end is not None else "open"
        text = f"{start} to {end}  {self.opening.value} ({self.opened_by.display})"
        closed_by = self.closed_by.display if self.closed_by is not None else "?"
        if self.closure is Closure.TERMINATED:
            text += f"; terminated ({closed_by})"
        elif self.closure is Closure.REMOVED:
            ended = "removed" if dated else "deleted"
            text += f"; {ended}: last seen in {self.last_seen.display}, absent from {closed_by}"
        elif self.closure is Closure.REUSED:
            text += f"; reused: new meaning from {closed_by}"
        return text


def _added(dates: RecordDates) -> date:
    return dates.added_date if dates.added_date is not None else date.min


class _Work:
    """A mutable interval while the timeline is read (frozen into ValidityInterval at the end:
    bulk validation builds these for every code, so no dataclass copies per record)."""

    __slots__ = (
        "closed_by",
        "closure",
        "dates",
        "end",
        "last_seen",
        "opened_by",
        "opening",
        "record",
        "start",
    )

    def __init__(
        self,
        start: date,
        record: CodeRecord,
        dates: RecordDates,
        info: ReleaseInfo,
        opening: Opening,
    ) -> None:
        self.start = start
        self.end: date | None = None
        self.record = record
        self.dates = dates
        self.opened_by = info
        self.closed_by: ReleaseInfo | None = None
        self.closure: Closure | None = None
        self.last_seen = info
        self.opening = opening
        self.dated(record, dates, info)

    def dated(self, record: CodeRecord, dates: RecordDates, info: ReleaseInfo) -> None:
        """`record` (carried by `info`) becomes the latest known record of the interval."""
        termination = dates.termination_date
        if termination is not None:
            if self.closure is not Closure.TERMINATED or self.end != termination:
                self.closed_by = info
            self.end = termination
            self.closure = Closure.TERMINATED
        else:
            self.end = None
            self.closed_by = None
            self.closure = None
        self.record = record
        self.dates = dates
        self.last_seen = info

    def close(self, end: date, by: ReleaseInfo, closure: Closure) -> None:
        self.end = end
        self.closed_by = by
        self.closure = closure

    def removed(self, dropped_by: ReleaseInfo) -> None:
        """Closed by a purge: the day before the dropping release, unless a termination date
        ended it earlier."""
        last_day = dropped_by.effective_date - timedelta(days=1)
        if self.end is None or self.end > last_day:
            self.close(last_day, dropped_by, Closure.REMOVED)

    def frozen(self) -> ValidityInterval[CodeRecord]:
        return ValidityInterval(
            self.start,
            self.end,
            self.record,
            self.opened_by,
            self.closed_by,
            self.closure,
            self.last_seen,
            self.opening,
        )


def build_intervals(
    timeline: Timeline,
    releases: Sequence[ReleaseInfo],
    positions: Mapping[str, int] | None = None,
) -> tuple[ValidityInterval[CodeRecord], ...]:
    """The code's validity intervals from its `timeline` (its record in each release of
    `releases` that carries it, ascending), `releases` being every release known at K, one issue
    per label (`positions`: label -> index in `releases`, when the caller has it already)."""
    if not timeline:
        return ()
    if positions is None:
        positions = {info.label: index for index, info in enumerate(releases)}
    first_info, first_record = timeline[0]
    code_set = get_code_set(first_info.code_set)
    dates_of = code_set.record_dates
    first_dates = dates_of(first_record)
    opened = _added(first_dates)
    previous_position = positions[first_info.label]
    opening = Opening.ADDED
    if not code_set.has_end_dates and first_dates.added_date is None:
        # Without added dates, a code is in force from the release that first carries it; when
        # that is the first release stored, the days before it are in no stored release, so
        # nothing can be said of them (the code may or may not have been in force then).
        opened = first_info.effective_date
        if previous_position == 0:
            opening = Opening.FIRST_STORED
    current = _Work(opened, first_record, first_dates, first_info, opening)
    intervals = [current]
    for info, record in timeline[1:]:
        position = positions[info.label]
        gap = position > previous_position + 1
        if record is current.record and not gap:
            current.last_seen = info  # the same version again: nothing else to learn
            previous_position = position
            continue
        before = current.dates
        dates = dates_of(record)
        if gap:
            current.removed(releases[previous_position + 1])
        previous_position = position
        start = _reactivation_start(before, dates)
        opening = Opening.REACTIVATED
        if gap and start is None:
            opening = Opening.RETURNED
            start = _return_start(dates, current.end, info)
            ended = dates.termination_date
            if ended is not None and ended < start:
                # Back, but terminated before the gap: the termination ends the old interval.
                if current.end is None or ended < current.end:
                    current.close(ended, info, Closure.TERMINATED)
                current.record = record
                current.dates = dates
                current.last_seen = info
                continue
        if start is None and (
            dates.added_date is not None
            and before.added_date is not None
            and dates.added_date > before.added_date
        ):
            # Reused: the old meaning ends the day before the new one starts.
            start = dates.added_date
            opening = Opening.REUSED
            if current.end is None or current.end >= start:
                current.close(start - timedelta(days=1), info, Closure.REUSED)
        if start is not None:
            current = _Work(start, record, dates, info, opening)
            intervals.append(current)
            continue
        current.dated(record, dates, info)
        if len(intervals) == 1 and dates.added_date not in (None, current.start):
            # The first interval's start follows the latest added date (corrected retroactively).
            current.start = _added(dates)
            current.opened_by = info
    if previous_position < len(releases) - 1:
        current.removed(releases[previous_position + 1])
    # An interval a later record ended before it began (a termination date before its start)
    # held no valid day: dropped, unless it is the only one (then it still carries the dates).
    kept = [item.frozen() for item in intervals if item.end is None or item.end >= item.start]
    return tuple(sorted(kept, key=lambda item: item.start)) if kept else (intervals[-1].frozen(),)


def _reactivation_start(before: RecordDates, record: RecordDates) -> date | None:
    """The start of a new interval when `record` re-activates a terminated code, else None."""
    ended = before.termination_date
    effective = record.action_effective_date
    if ended is None or effective is None or effective <= ended:
        return None
    lifted = record.action_code == "R" or record.termination_date is None
    return effective if lifted else None


def _return_start(record: RecordDates, gap_from: date | None, info: ReleaseInfo) -> date:
    """Where a code that comes back after a purge (its last interval ended on `gap_from`) is
    valid again."""
    gap_end = gap_from if gap_from is not None else info.effective_date - timedelta(days=1)
    effective = record.action_effective_date
    if record.action_code == "R" and effective is not None and effective > gap_end:
        return effective
    if record.added_date is not None and record.added_date > gap_end:
        return record.added_date
    return max(info.effective_date, gap_end + timedelta(days=1))


def interval_at(intervals: Sequence[ValidityInterval[CodeRecord]], on: date) -> tuple[int, bool]:
    """(index, valid): the interval containing `on` (valid True); else the last one that ended
    before it (valid False); else 0 with valid False (before the first interval)."""
    index = len(intervals) - 1  # a handful at most: a scan beats building a list to bisect
    while index >= 0:
        interval = intervals[index]
        if interval.start <= on:
            return index, interval.end is None or on <= interval.end
        index -= 1
    return 0, False
