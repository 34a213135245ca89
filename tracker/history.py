"""A code's history: every release where its record appears, changes, ends or comes back.

Built from the code's timeline across the stored releases (one issue per label, retracted ones
left out) and the diff engine's per-record comparison, so history and diffs always agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tracker.codesets.hcpcs.record import Record
from tracker.diff import CodeChange, diff_records
from tracker.release import ReleaseInfo
from tracker.store import Store


class EventKind(StrEnum):
    FIRST_SEEN = "first seen"
    CHANGED = "changed"
    TERMINATED = "terminated"
    REACTIVATED = "reactivated"
    PURGED = "purged"
    REAPPEARS = "reappears"


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    release: ReleaseInfo
    kind: EventKind
    record: Record | None
    change: CodeChange | None = None


def code_history(store: Store, code: str, releases: list[ReleaseInfo]) -> list[HistoryEvent]:
    """Events of `code` across `releases` (ascending); empty when no release carries it."""
    carried = {info.id: record for info, _, record in store.code_timeline(code, releases)}
    events: list[HistoryEvent] = []
    previous: Record | None = None
    present = False
    for info in releases:
        record = carried.get(info.id)
        if record is None:
            if present:
                events.append(HistoryEvent(info, EventKind.PURGED, previous))
            present = False
            continue
        if previous is None:
            events.append(HistoryEvent(info, EventKind.FIRST_SEEN, record))
        else:
            change = diff_records(previous, record)
            if not present:
                events.append(HistoryEvent(info, EventKind.REAPPEARS, record, change))
            elif change is not None:
                events.append(HistoryEvent(info, EventKind(change.kind.value), record, change))
        previous = record
        present = True
    return events
