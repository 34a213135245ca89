"""Small hand-written records and releases the report tests build their diffs from."""

from __future__ import annotations

from datetime import date
from typing import Any

from tracker.codesets.hcpcs.record import Record, RecordKind
from tracker.release import Snapshot, adhoc_info


def rec(code: str, **fields: Any) -> Record:
    """A record with plain defaults (active since 2010, action N); `fields` override them."""
    base: dict[str, Any] = {
        "code": code,
        "kind": RecordKind.MODIFIER if len(code) == 2 else RecordKind.PROCEDURE,
        "long_description": f"Sample item {code}",
        "short_description": f"Sample {code}",
        "added_date": date(2010, 1, 1),
        "action_effective_date": date(2010, 1, 1),
        "action_code": "N",
    }
    base.update(fields)
    return Record(**base)


def snap(label: str, *records: Record) -> Snapshot:
    return Snapshot.from_records(adhoc_info(label), records)
