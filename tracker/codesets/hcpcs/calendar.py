"""CMS's release calendar, and which release a file's action codes describe changes since.

CMS publishes HCPCS Level II four times a year: the January file (the annual release) and the
April, July and October quarterly updates. A re-issue (`2020-APR#2`, a `_v2` file) or a
corrections file is a new *issue* of the same quarter, never a new quarter: calendar positions
here are labels (`2020-APR`), whatever the issue.

Each record's action code (A, C, D, ...) declares what CMS changed since some earlier release,
its *reference*. Reconciling the action codes against any other release produces false
findings by the hundred (448 of 453 for 2018 -> 2020-JAN), so the diff reconciles only against
the reference. The reference is:

- for an April, July or October file: the previous quarter of the same year;
- for a January file, it depends on the era, and is read from the file itself:
  up to 2020 the January file declares the changes of the whole previous year (2020-JAN marks
  as `A` the codes added in the 2019 quarters; 2016, 2017 and 2018 likewise), while recent
  January files declare only the changes since the October file. The two are told apart by
  the added dates of the codes the file declares `A`: if any was added on or after the previous
  January 1 and before the previous October 1, the file re-declares additions that the April or
  July file already carried, so its reference is the previous January release; otherwise
  (all its `A` codes were added from the previous October 1 on, typically on January 1 of its
  own year) its reference is the previous October release.
  October 1 itself decides nothing: an `A` dated October 1 fits both eras (an annual file
  repeats the October additions; a since-October file can carry a late addition made
  retroactive to the October quarter, as quarterly files do with their own quarter's start).
- a label outside CMS's calendar (say `2020-MAR`, given by hand) refers to the last calendar
  quarter before it.

No year is hard-coded: the rule is measured on each file, so it also holds for releases the
tests never saw.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date

from tracker.codesets.base import Reconciliation
from tracker.codesets.hcpcs.labels import MONTH_NAMES, QUARTER_MONTHS, parse_label
from tracker.codesets.hcpcs.record import Record
from tracker.release import ReleaseInfo, Snapshot

_QUARTER_NAMES = {month: name for name, month in QUARTER_MONTHS.items()}


@dataclass(frozen=True, slots=True, order=True)
class Quarter:
    """A position in CMS's calendar: January (annual), April, July or October of a year."""

    year: int
    month: int

    def __str__(self) -> str:
        return f"{self.year}-{_QUARTER_NAMES[self.month]}"

    @property
    def start(self) -> date:
        return date(self.year, self.month, 1)

    def previous(self) -> Quarter:
        if self.month == 1:
            return Quarter(self.year - 1, 10)
        return Quarter(self.year, self.month - 3)

    def next(self) -> Quarter:
        if self.month == 10:
            return Quarter(self.year + 1, 1)
        return Quarter(self.year, self.month + 3)


def year_quarters(year: int) -> tuple[Quarter, ...]:
    return tuple(Quarter(year, month) for month in sorted(QUARTER_MONTHS.values()))


def quarter_of(label: str) -> Quarter:
    """The calendar quarter a label falls in or after (`2020-APR#2` -> 2020-APR)."""
    parsed, _ = parse_label(label)
    month = MONTH_NAMES[parsed.month]
    return Quarter(parsed.year, max(m for m in QUARTER_MONTHS.values() if m <= month))


def on_calendar(label: str) -> bool:
    """Whether a label is one of CMS's four release months."""
    parsed, _ = parse_label(label)
    return parsed.month in QUARTER_MONTHS


def between(old: str, new: str) -> tuple[Quarter, ...]:
    """The calendar quarters strictly after `old` and strictly before `new`."""
    first, last = quarter_of(old), quarter_of(new)
    if not on_calendar(new):
        last = last.next()
    out = []
    quarter = first.next()
    while quarter < last:
        out.append(quarter)
        quarter = quarter.next()
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Reference:
    """The release whose content a file's action codes describe changes since, and why."""

    label: str
    basis: str


def reference_from_records(label: str, records: Iterable[Record]) -> Reference:
    """The reference of release `label` whose records are `records` (only `A` codes matter)."""
    parsed, _ = parse_label(label)
    quarter = quarter_of(label)
    if not on_calendar(label):
        return Reference(str(quarter), f"{parsed} is not a CMS release month")
    if quarter.month != 1:
        return Reference(
            str(quarter.previous()),
            "a quarterly file declares the changes since the previous quarter",
        )
    previous_january = Quarter(quarter.year - 1, 1)
    previous_october = quarter.previous()
    earlier = sorted(
        {
            record.added_date
            for record in records
            if record.action_code == "A"
            and record.added_date is not None
            and previous_january.start <= record.added_date < previous_october.start
        }
    )
    if earlier:
        return Reference(
            str(previous_january),
            f"a January file that declares A for codes added from {earlier[0]} to {earlier[-1]},"
            " before October, covers the whole previous year",
        )
    return Reference(
        str(previous_october),
        f"a January file whose A codes were all added from {previous_october.start} on"
        " covers the changes since October",
    )


def reference_of(snapshot: Snapshot) -> Reference:
    """The reference of a stored or in-memory release, loading only its `A` records if it can."""
    label = snapshot.info.label
    if not on_calendar(label) or quarter_of(label).month != 1:
        return reference_from_records(label, ())
    actions = snapshot.actions
    codes = (
        list(snapshot.hashes)
        if actions is None
        else [code for code, action in actions.items() if action == "A"]
    )
    return reference_from_records(label, snapshot.records(codes).values())


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def decide(
    old: ReleaseInfo, new: ReleaseInfo, reference: Reference, stored: Collection[str] | None
) -> Reconciliation:
    """Reconcile `new` against `old` only if `old` is (an issue of) `new`'s reference.

    `stored` holds the labels of the releases in the store (None: unknown).
    """
    if old.label == reference.label:
        return Reconciliation(True, reference.label, reference.basis, "")
    head = (
        f"reconciliation skipped: {new.display}'s action codes describe changes since"
        f" {reference.label} ({reference.basis}), not since {old.display}"
    )
    if stored is None:
        return Reconciliation(False, reference.label, reference.basis, head)
    if reference.label in stored:
        reason = f"{head}; diff {reference.label} {new.display} to reconcile them"
        return Reconciliation(False, reference.label, reference.basis, reason)
    wanted: list[Quarter] = []
    if quarter_of(old.label) < quarter_of(new.label):
        wanted = list(between(old.label, new.label))
    reference_quarter = quarter_of(reference.label)
    if reference_quarter not in wanted:
        wanted.append(reference_quarter)
    missing = [str(q) for q in sorted(wanted) if str(q) not in stored]
    verb = "is" if len(missing) == 1 else "are"
    reason = f"{head}; {_and(missing)} {verb} not stored"
    return Reconciliation(False, reference.label, reference.basis, reason, tuple(missing))


def missing_quarters(year: int, labels: Collection[str]) -> tuple[str, ...]:
    """The calendar quarters of `year` that none of `labels` names."""
    return tuple(str(q) for q in year_quarters(year) if str(q) not in labels)
