"""A code's history: every release where its record appears, changes, ends or comes back.

Built from the code's timeline across the stored releases (one issue per label, retracted ones
left out) and the diff engine's per-record comparison, so history and diffs always agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic

from tracker.codesets import get_code_set
from tracker.codesets.base import CodeRecord, RecordT
from tracker.diff import CodeChange, diff_records
from tracker.release import ReleaseInfo
from tracker.store import Store


def _compare(code_set: str, old: Any, new: Any) -> CodeChange | None:
    """Two versions of a code compared field by field, by its code set's fields."""
    return diff_records(old, new, get_code_set(code_set).fields)


class EventKind(StrEnum):
    FIRST_SEEN = "first seen"
    CHANGED = "changed"
    TERMINATED = "terminated"
    REACTIVATED = "reactivated"
    PURGED = "purged"
    # A code set whose records carry no end date (ICD-10) ends a code by leaving it out.
    DELETED = "deleted"
    REAPPEARS = "reappears"


@dataclass(frozen=True, slots=True)
class HistoryEvent(Generic[RecordT]):
    release: ReleaseInfo
    kind: EventKind
    record: RecordT | None
    change: CodeChange | None = None


def code_history(
    store: Store, code: str, releases: list[ReleaseInfo]
) -> list[HistoryEvent[CodeRecord]]:
    """Events of `code` across `releases` (ascending); empty when no release carries it."""
    carried = {info.id: record for info, _, record in store.code_timeline(code, releases)}
    events: list[HistoryEvent[CodeRecord]] = []
    previous: CodeRecord | None = None
    present = False
    for info in releases:
        record = carried.get(info.id)
        if record is None:
            if present:
                ended = (
                    EventKind.PURGED
                    if get_code_set(info.code_set).has_end_dates
                    else EventKind.DELETED
                )
                events.append(HistoryEvent(info, ended, previous))
            present = False
            continue
        if previous is None:
            events.append(HistoryEvent(info, EventKind.FIRST_SEEN, record))
        else:
            change = _compare(info.code_set, previous, record)
            if not present:
                events.append(HistoryEvent(info, EventKind.REAPPEARS, record, change))
            elif change is not None:
                events.append(HistoryEvent(info, EventKind(change.kind.value), record, change))
        previous = record
        present = True
    return events
