"""A code's state on a date, on two time axes.

*Knowledge time* K is a release: what was known when it was published (default: the latest).
*Valid time* D is a date of service. The releases that count for K are the stored,
non-retracted ones effective on or before K's effective date, one issue per label (the latest),
and K itself even if it was retracted later.

For a code, its *timeline* is its record in each of those releases that carries it. Then:
- the record *known at K* is the one in the latest such release;
- the *meaning at D* is the record from the latest release effective on or before D (if D is
  before the code's first release, the earliest record), or a later one whose declared change
  took effect on or before D (see `_meaning_index`);
- the *status at D* comes from the code's validity intervals (`tracker.validity`), built from
  the whole timeline and the releases that do not carry the code: active inside an interval,
  not yet effective before the first one, else how the last interval before D ended
  (terminated, or removed when the code vanished without a termination date). Each interval's
  dates are those of its latest known record, because later releases correct dates
  retroactively; a reactivation keeps the gap, and a reused code's dates are those of the
  meaning in force.

Records are read through the code set of their releases (`CodeSet.record_dates`, `describe`,
`replaced_by`); a code in force whose record may not be billed (`CodeSet.claim_status`, an
ICD-10-CM category) has status `not billable` on the days it is in force.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Generic

from tracker.codeset_choice import choose_code_set
from tracker.codesets import DEFAULT_CODE_SET, CodeSet, get_code_set
from tracker.codesets.base import CodeRecord, RecordT
from tracker.crosswalk import EMPTY as EMPTY_CROSSWALK
from tracker.crosswalk import Crosswalk, load_crosswalk
from tracker.errors import ReleaseError
from tracker.release import ReleaseInfo, known_at_in
from tracker.store import Store
from tracker.validity import Closure, Opening, ValidityInterval, build_intervals, interval_at


class Status(StrEnum):
    ACTIVE = "active"
    NOT_YET_EFFECTIVE = "not yet effective"
    TERMINATED = "terminated"
    REMOVED = "removed"
    UNKNOWN = "unknown"
    # In force, but its code set says it may not be billed (`CodeState.claim_status` says why).
    NOT_BILLABLE = "not billable"


@dataclass(frozen=True, slots=True)
class Replacement:
    code: str
    description: str | None


@dataclass(frozen=True, slots=True)
class CodeState(Generic[RecordT]):
    """The answer for one code on one date, with the release each part came from."""

    code: str
    on: date
    known_at: ReleaseInfo
    status: Status
    known: RecordT | None
    known_release: ReleaseInfo | None
    meaning: RecordT | None
    meaning_release: ReleaseInfo | None
    replacements: tuple[Replacement, ...] = ()
    # Every validity interval of the code as known at K, and the one the answer comes from:
    # the one holding the date, else the last one that ended before it, else the first one.
    intervals: tuple[ValidityInterval[RecordT], ...] = ()
    interval: ValidityInterval[RecordT] | None = None
    # Why the code, in force, may not be billed (status `not billable`); None when it may.
    claim_status: str | None = None

    @property
    def termination_date(self) -> date | None:
        """The last valid day set by a termination date (past or future), if one ends the
        interval the answer comes from."""
        return self.interval.termination_date if self.interval else None

    @property
    def status_record(self) -> RecordT | None:
        """The record whose dates the answer uses (the latest one of its interval)."""
        return self.interval.record if self.interval else self.known


def status_at(intervals: Sequence[ValidityInterval[CodeRecord]], on: date) -> tuple[Status, int]:
    """The status on `on` and the index of the interval it comes from."""
    index, valid = interval_at(intervals, on)
    if valid:
        return Status.ACTIVE, index
    interval = intervals[index]
    if on < interval.start:
        return Status.NOT_YET_EFFECTIVE, index
    if interval.closure is Closure.REMOVED:
        return Status.REMOVED, index
    return Status.TERMINATED, index


Timeline = Sequence[tuple[ReleaseInfo, CodeRecord]]
# Interval ends after which the code is no longer valid (a reused code stays valid): their
# records' cross-references are the replacements.
_ENDED = frozenset({Closure.TERMINATED, Closure.REMOVED})


def _replacements(
    code_set: CodeSet,
    record: CodeRecord,
    lookup: Mapping[str, CodeRecord],
    linked: Sequence[str] = (),
) -> tuple[Replacement, ...]:
    """The codes `record` names as replacements, then those `linked` to it from outside its
    record (a conversion table), each once, described by their records in `lookup`."""
    codes = dict.fromkeys(xref for xref in (*code_set.replaced_by(record), *linked) if xref)
    return tuple(
        Replacement(xref, code_set.describe(lookup[xref]) if xref in lookup else None)
        for xref in codes
    )


def _ended_replacements(
    code_set: CodeSet,
    code: str,
    interval: ValidityInterval[CodeRecord],
    lookup: Mapping[str, CodeRecord],
    crosswalk: Crosswalk,
) -> tuple[Replacement, ...]:
    """The replacements of a code whose `interval` ended: its record's own (HCPCS XREF) and
    the conversion-table links dated where it ended (ICD-10)."""
    if interval.closure not in _ENDED:
        return ()
    return _replacements(code_set, interval.record, lookup, crosswalk.for_interval(code, interval))


def _linked_codes(
    code_set: CodeSet,
    code: str,
    intervals: Iterable[ValidityInterval[CodeRecord]],
    crosswalk: Crosswalk,
) -> set[str]:
    """Every code the ended intervals of `code` name as replacements (to look them up)."""
    found: set[str] = set()
    for interval in intervals:
        if interval.closure in _ENDED:
            found.update(code_set.replaced_by(interval.record))
            found.update(crosswalk.for_interval(code, interval))
    found.discard("")
    return found


def _claim_status(
    code_set: CodeSet, status: Status, meaning: CodeRecord
) -> tuple[Status, str | None]:
    """A code in force whose record may not be billed is `not billable`, with the reason."""
    if status is not Status.ACTIVE:
        return status, None
    reason = code_set.claim_status(meaning)
    return (status, None) if reason is None else (Status.NOT_BILLABLE, reason)


def resolve_state(
    code: str,
    on: date,
    known_at: ReleaseInfo,
    timeline: Timeline,
    describe: Mapping[str, CodeRecord] | None = None,
    dates: Sequence[date] | None = None,
    releases: Sequence[ReleaseInfo] | None = None,
    intervals: tuple[ValidityInterval[CodeRecord], ...] | None = None,
    crosswalk: Crosswalk = EMPTY_CROSSWALK,
) -> CodeState[CodeRecord]:
    """The state of `code` on `on` from its timeline (ascending by effective date) among
    `releases`, every release known at K (default: the timeline's own releases, so no purge
    can be seen)."""
    if not timeline:
        return CodeState(code, on, known_at, Status.UNKNOWN, None, None, None, None)
    known_release, known = timeline[-1]
    code_set = get_code_set(known_release.code_set)
    if dates is None:
        dates = [info.effective_date for info, _ in timeline]
    if intervals is None:
        intervals = build_intervals(timeline, releases or [info for info, _ in timeline])
    status, at = status_at(intervals, on)
    interval = intervals[at]
    meaning_release, meaning = timeline[
        _meaning_in(code_set, timeline, dates, on, status, interval)
    ]
    replacements = _ended_replacements(code_set, code, interval, describe or {}, crosswalk)
    status, claim_status = _claim_status(code_set, status, meaning)
    return CodeState(
        code=code,
        on=on,
        known_at=known_at,
        status=status,
        known=known,
        known_release=known_release,
        meaning=meaning,
        meaning_release=meaning_release,
        replacements=replacements,
        intervals=intervals,
        interval=interval,
        claim_status=claim_status,
    )


def _meaning_in(
    code_set: CodeSet,
    timeline: Timeline,
    dates: Sequence[date],
    on: date,
    status: Status,
    interval: ValidityInterval[CodeRecord],
) -> int:
    """`_meaning_index`, except inside the interval of a reused code's new meaning: that
    meaning is in force from its added date even when the release that published it came
    later (G9890: new meaning from 2018-04-01, first carried by the 2020-JAN file)."""
    index = _meaning_index(code_set, timeline, dates, on)
    opened_by = interval.opened_by
    if (
        status is Status.ACTIVE
        and interval.opening is Opening.REUSED
        and dates[index] < opened_by.effective_date
    ):
        for position in range(index, len(timeline)):
            if timeline[position][0].label == opened_by.label:
                return position
    return index


def _meaning_index(code_set: CodeSet, timeline: Timeline, dates: Sequence[date], on: date) -> int:
    """Which record was in force on `on`.

    Normally the one from the latest release effective on or before the date. But CMS often
    declares a change effective before the release that publishes it (CS was re-described
    effective 2020-03-01 in the April file): a later record whose declared action (anything but
    N) took effect after the previous release and on or before the date is the one in force.
    """
    index = max(bisect.bisect_right(dates, on) - 1, 0)
    dates_of = code_set.record_dates
    for later in range(index + 1, len(timeline)):
        record = dates_of(timeline[later][1])
        effective = record.action_effective_date
        if (
            record.action_code not in ("", "N")
            and effective is not None
            and dates[later - 1] < effective <= on
        ):
            index = later
    return index


def knowledge_releases(
    store: Store, known_at: str | None, code_set: str = DEFAULT_CODE_SET
) -> list[ReleaseInfo]:
    """The releases that count as known at K (`tracker.release.known_at_in`), read from the
    store with one freshness check for the whole lookup."""
    return known_at_in(store.all_releases(code_set), known_at, code_set)


def _normalized(code_set: str, code: str) -> str:
    """A code as typed, in its stored form (`e11.9` -> `E119`); text that cannot be a code of
    the set is only trimmed and upper-cased, so the answer says it is unknown."""
    return get_code_set(code_set).normalize_code(code) or code.strip().upper()


def code_state(
    store: Store,
    code: str,
    on: date,
    known_at: str | None = None,
    code_set: str = DEFAULT_CODE_SET,
) -> CodeState[CodeRecord]:
    """One code's state on one date, answered with a few indexed queries."""
    releases = knowledge_releases(store, known_at, code_set)
    normalized = _normalized(code_set, code)
    rows = store.code_timeline(normalized, releases)
    timeline = [(info, record) for info, _, record in rows]
    describe: dict[str, CodeRecord] = {}
    codes = get_code_set(code_set)
    crosswalk = load_crosswalk(store, releases)
    intervals = build_intervals(timeline, releases) if timeline else None
    linked = _linked_codes(codes, normalized, intervals or (), crosswalk)
    if linked:
        for xref, xref_rows in store.code_timelines(sorted(linked), releases).items():
            describe[xref] = xref_rows[-1][2]
    return resolve_state(
        normalized,
        on,
        releases[-1],
        timeline,
        describe,
        releases=releases,
        intervals=intervals,
        crosswalk=crosswalk,
    )


@dataclass(frozen=True, slots=True)
class CodeView(Generic[RecordT]):
    """A code's last record as known at a release, and its validity up to then.

    `release` carries `record`; when it is not `asked` (the release asked about, the latest by
    default), the code is no longer in that release: it was last seen in `release`.
    """

    code: str
    asked: ReleaseInfo
    release: ReleaseInfo
    record: RecordT
    intervals: tuple[ValidityInterval[RecordT], ...]
    replacements: tuple[Replacement, ...]

    @property
    def current(self) -> bool:
        return self.release.id == self.asked.id


def code_view(
    store: Store, code: str, release: str | None = None, code_set: str = DEFAULT_CODE_SET
) -> CodeView[CodeRecord]:
    """`code`'s record in `release` (default: the latest), or its last one before it."""
    if release is not None:
        # A retracted label is refused here, as everywhere but --known-at.
        store.resolve(release, code_set)
    releases = knowledge_releases(store, release, code_set)
    asked = releases[-1]
    normalized = _normalized(code_set, code)
    timeline = [(info, record) for info, _, record in store.code_timeline(normalized, releases)]
    if not timeline:
        raise ReleaseError(f"code {normalized} is not in release {asked.display}")
    info, record = timeline[-1]
    codes = get_code_set(code_set)
    intervals = build_intervals(timeline, releases)
    crosswalk = load_crosswalk(store, releases)
    # A code no longer in force: the links dated where its last interval ended.
    linked = crosswalk.for_interval(normalized, intervals[-1]) if intervals else ()
    xrefs = sorted({xref for xref in (*codes.replaced_by(record), *linked) if xref})
    describe = {
        xref: rows[-1].record
        for xref, rows in store.code_timelines(xrefs, releases).items()
        if rows
    }
    replacements = _replacements(codes, record, describe, linked)
    return CodeView(normalized, asked, info, record, intervals, replacements)


def code_validity(
    store: Store, code: str, known_at: str | None = None, code_set: str = DEFAULT_CODE_SET
) -> tuple[ValidityInterval[CodeRecord], ...]:
    """`code`'s validity intervals as known at `known_at` (default: the latest release)."""
    releases = knowledge_releases(store, known_at, code_set)
    rows = store.code_timeline(_normalized(code_set, code), releases)
    return build_intervals([(info, record) for info, _, record in rows], releases)


class CodeIndex:
    """Every code's timeline as known at K, in memory, for bulk questions (claims files).

    Records are decoded once per distinct version and shared between the releases that carry
    them, so memory grows with what changed plus one small tuple per code and release.
    """

    def __init__(
        self,
        releases: list[ReleaseInfo],
        timelines: dict[str, list[tuple[ReleaseInfo, CodeRecord]]],
        crosswalk: Crosswalk = EMPTY_CROSSWALK,
    ) -> None:
        if not releases:
            raise ReleaseError("no releases are stored yet; run `tracker ingest FILE` first")
        self.releases = releases
        self.code_set = get_code_set(releases[-1].code_set)
        self.known_at = releases[-1]
        self.timelines = timelines
        self.crosswalk = crosswalk
        self._dates = {
            code: [info.effective_date for info, _ in timeline]
            for code, timeline in timelines.items()
        }
        self.latest = {code: timeline[-1][1] for code, timeline in timelines.items()}
        self._positions = {info.label: index for index, info in enumerate(releases)}
        self._validity: dict[str, tuple[ValidityInterval[CodeRecord], ...]] = {}
        self._intervals: dict[str, tuple[list[date], list[CodeState[CodeRecord]]]] = {}

    @classmethod
    def load(
        cls, store: Store, known_at: str | None = None, code_set: str = DEFAULT_CODE_SET
    ) -> CodeIndex:
        """Decode each stored version once, then lay the entries out release by release, so
        every timeline comes out in release order with no per-code sort."""
        releases = knowledge_releases(store, known_at, code_set)
        entries, bodies = store.all_entries(releases)
        decode = get_code_set(code_set).decode_record
        decoded = {record_hash: decode(body) for record_hash, body in bodies.items()}
        by_release: dict[int, list[tuple[str, str]]] = {info.id: [] for info in releases}
        # Codes keep the order of their first entry, as the store returned them.
        timelines: dict[str, list[tuple[ReleaseInfo, CodeRecord]]] = {}
        for release_id, code, record_hash in entries:
            by_release[release_id].append((code, record_hash))
            timelines[code] = []
        for info in releases:
            for code, record_hash in by_release[info.id]:
                timelines[code].append((info, decoded[record_hash]))
        return cls(releases, timelines, load_crosswalk(store, releases))

    def validity(self, code: str) -> tuple[ValidityInterval[CodeRecord], ...]:
        """The code's validity intervals as known at K (cached)."""
        cached = self._validity.get(code)
        if cached is None:
            timeline = self.timelines.get(code, ())
            cached = build_intervals(timeline, self.releases, self._positions)
            self._validity[code] = cached
        return cached

    def state(self, code: str, on: date) -> CodeState[CodeRecord]:
        timeline = self.timelines.get(code, ())
        if not timeline:
            return resolve_state(code, on, self.known_at, timeline)
        return resolve_state(
            code,
            on,
            self.known_at,
            timeline,
            self.latest,
            self._dates.get(code),
            intervals=self.validity(code),
            crosswalk=self.crosswalk,
        )

    def intervals(self, code: str) -> tuple[list[date], list[CodeState[CodeRecord]]]:
        """The code's answers as a step function of the date of service.

        The answer only changes at a release's effective date, an action effective date, or
        where a validity interval starts or ends, so bulk validation can bisect a short list of
        breakpoints instead of resolving every row from scratch.
        """
        cached = self._intervals.get(code)
        if cached is not None:
            return cached
        timeline = self.timelines.get(code)
        if not timeline:
            # Not cached: a claims file may name any number of unknown codes.
            unknown = CodeState(
                code, date.min, self.known_at, Status.UNKNOWN, None, None, None, None
            )
            return [date.min], [unknown]
        points = {date.min}
        dates_of = self.code_set.record_dates
        for info, record in timeline:
            points.add(info.effective_date)
            effective = dates_of(record).action_effective_date
            if effective is not None:
                points.add(effective)
        for interval in self.validity(code):
            points.add(interval.start)
            if interval.end is not None and interval.end < date.max:
                points.add(interval.end + timedelta(days=1))
        starts = sorted(points)
        result = (starts, self._states(code, timeline, starts))
        self._intervals[code] = result
        return result

    def _states(
        self, code: str, timeline: list[tuple[ReleaseInfo, CodeRecord]], starts: list[date]
    ) -> list[CodeState[CodeRecord]]:
        """`resolve_state` at each start, with what does not depend on the date worked out
        once per code (the known record, the replacements of each status record)."""
        known_release, known = timeline[-1]
        dates = self._dates[code]
        known_at = self.known_at
        latest = self.latest
        intervals = self.validity(code)
        code_set = self.code_set
        crosswalk = self.crosswalk
        replacements_of: dict[int, tuple[Replacement, ...]] = {}
        states = []
        for on in starts:
            status, at = status_at(intervals, on)
            interval = intervals[at]
            meaning_release, meaning = timeline[
                _meaning_in(code_set, timeline, dates, on, status, interval)
            ]
            record = interval.record
            replacements: tuple[Replacement, ...] = ()
            if interval.closure in _ENDED:  # as in resolve_state
                replacements = replacements_of.get(id(record), ())
                if not replacements and code_set.replaced_by(record):
                    replacements = replacements_of[id(record)] = _replacements(
                        code_set, record, latest
                    )
                if crosswalk:
                    replacements = _ended_replacements(code_set, code, interval, latest, crosswalk)
            status, claim_status = _claim_status(code_set, status, meaning)
            states.append(
                CodeState(
                    code,
                    on,
                    known_at,
                    status,
                    known,
                    known_release,
                    meaning,
                    meaning_release,
                    replacements,
                    intervals,
                    interval,
                    claim_status,
                )
            )
        return states

    def codes(self, prefix: str = "") -> Iterable[str]:
        wanted = prefix.strip().upper()
        return sorted(code for code in self.timelines if code.startswith(wanted))


def codes_as_of(
    store: Store,
    on: date,
    *,
    prefix: str = "",
    status: str = "all",
    known_at: str | None = None,
    code_set: str | None = None,
    billable_only: bool = False,
) -> list[CodeState[CodeRecord]]:
    """The code set as it stood on `on`: every code's state (those starting with `prefix`),
    filtered by status (`all`, or a `Status` value) and with `billable_only`, only codes that
    may be billed (no ICD-10 headers)."""
    if status not in ("all", *(s.value for s in Status)):
        raise ReleaseError(
            f"status {status!r} is not active, terminated, removed, not yet effective or all"
        )
    chosen = choose_code_set(store, code_set, labels=[known_at])
    index = CodeIndex.load(store, known_at, chosen)
    start = (get_code_set(chosen).normalize_code(prefix) if prefix.strip() else None) or prefix
    states = (index.state(code, on) for code in index.codes(start))
    return [
        state
        for state in states
        if (status == "all" or state.status.value == status)
        and not (billable_only and state.claim_status is not None)
    ]
