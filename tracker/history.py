"""A code's history: every release where its record appears, changes, ends or comes back.

Built from the code's timeline across the stored releases (one issue per label, retracted ones
left out) and the diff engine's per-record comparison, so history and diffs always agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic

from tracker.codesets.base import CodeRecord, RecordT
from tracker.diff import CodeChange, diff_records
from tracker.release import ReleaseInfo
from tracker.store import Store

# The diff engine compares HCPCS records today; a comparison for another code set's records is
# the diff package's to give, so records reach it here as whatever their code set decoded.
_compare: Callable[[Any, Any], CodeChange | None] = diff_records


class EventKind(StrEnum):
    FIRST_SEEN = "first seen"
    CHANGED = "changed"
    TERMINATED = "terminated"
    REACTIVATED = "reactivated"
    PURGED = "purged"
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
                events.append(HistoryEvent(info, EventKind.PURGED, previous))
            present = False
            continue
        if previous is None:
            events.append(HistoryEvent(info, EventKind.FIRST_SEEN, record))
        else:
            change = _compare(previous, record)
            if not present:
                events.append(HistoryEvent(info, EventKind.REAPPEARS, record, change))
            elif change is not None:
                events.append(HistoryEvent(info, EventKind(change.kind.value), record, change))
        previous = record
        present = True
    return events
