"""JSON: every document's JSON form, built here and only here.

A diff, a year of diffs and a code's history each have one JSON form, written from the same
typed values the other formats render (the diff's `CodeChange`s, the history's events, the
validity intervals). Keys are sorted and dumped the same way everywhere, so the same stored
releases always give the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from enum import Enum
from typing import Any

from tracker.codesets import get_code_set
from tracker.diff import (
    SCHEMA_VERSION,
    ChangeKind,
    CodeChange,
    Direction,
    Finding,
    Flag,
    ReleaseDiff,
    YearDiff,
)
from tracker.history import HistoryEvent
from tracker.query import Replacement
from tracker.release import ReleaseInfo
from tracker.validity import ValidityInterval


def dump_json(data: Any) -> str:
    """Sorted keys and a trailing newline: byte-stable, and diff-friendly when committed."""
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def json_value(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return [json_value(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    return value


def release_json(info: ReleaseInfo) -> dict[str, Any]:
    return {
        "code_set": info.code_set,
        "label": info.label,
        "issue": info.issue,
        "display": info.display,
        "effective_date": info.effective_date.isoformat(),
        "kind": info.kind.value,
        "source_name": info.source_name,
        "source_sha256": info.source_sha256,
        "content_sha256": info.content_sha256,
        "record_count": info.record_count,
        # Provenance extras, present only when there is something to say (stable output for
        # the common case): CMS's version marker, and the repairs made to CMS's file.
        **({"version_marker": info.version_marker} if info.version_marker else {}),
        **(
            {
                "anomalies": [
                    {"file": a.file, "line": a.line, "kind": a.kind, "detail": a.detail}
                    for a in info.anomalies
                ]
            }
            if info.anomalies
            else {}
        ),
    }


def _flags(flags: Iterable[Flag]) -> list[str]:
    return sorted(flag.value for flag in flags)


def change_json(
    change: CodeChange, replaced_by: Mapping[str, Sequence[str]] | None = None
) -> dict[str, Any]:
    """One change; a deleted code (ICD-10) also lists its replacements from `replaced_by`
    (the diff's, from the conversion tables), an empty list when none is known."""
    return {
        "code": change.code,
        "kind": change.kind.value,
        "flags": _flags(change.flags),
        "categories": sorted(category.value for category in change.categories),
        "old": change.old.to_dict() if change.old is not None else None,
        "new": change.new.to_dict() if change.new is not None else None,
        "fields": [
            {
                "field": fc.field,
                "category": fc.category.value,
                "old": json_value(fc.old),
                "new": json_value(fc.new),
                "flags": _flags(fc.flags),
                "items": [
                    {"index": item.index, "old": item.old, "new": item.new} for item in fc.items
                ],
            }
            for fc in change.fields
        ],
        # A re-added code (ICD-10): its record in the last stored release before the old one.
        **(
            {
                "earlier": {
                    "release": change.earlier[0].display,
                    "record": change.earlier[1].to_dict(),
                }
            }
            if change.earlier is not None
            else {}
        ),
        **(
            {"replaced_by": list((replaced_by or {}).get(change.code, ()))}
            if change.kind is ChangeKind.DELETED
            else {}
        ),
    }


def finding_json(finding: Finding) -> dict[str, Any]:
    return {
        "code": finding.code,
        "rule": finding.rule.value,
        "direction": finding.direction.value,
        "declared": finding.declared,
        "action": finding.action,
        "observed_categories": sorted(c.value for c in finding.observed_categories),
        "observed_actions": sorted(finding.observed_actions),
        "flags": _flags(finding.flags),
        "message": finding.message,
    }


def finding_counts_json(findings: Iterable[Finding]) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {direction.value: {} for direction in Direction}
    for finding in findings:
        row = table[finding.direction.value]
        key = finding.action or "-"
        row[key] = row.get(key, 0) + 1
    return {direction: dict(sorted(row.items())) for direction, row in table.items()}


def diff_json(diff: ReleaseDiff) -> dict[str, Any]:
    """The JSON form of a diff; its schema is `tracker/schemas/diff.schema.json` (schema_version
    1)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "old": release_json(diff.old),
        "new": release_json(diff.new),
        "consecutive": diff.reconciled,
        "reconciliation": {
            "reconciled": diff.reconciliation.reconciled,
            "reference": diff.reconciliation.reference or None,
            "basis": diff.reconciliation.basis,
            "reason": diff.reconciliation.reason,
            "missing": list(diff.reconciliation.missing),
        },
        "counts": {
            "summary": diff.summary_counts(),
            "by_kind": {kind.value: n for kind, n in diff.counts_by_kind().items()},
            "by_kind_category": {
                kind.value: {category.value: n for category, n in row.items()}
                for kind, row in diff.counts_by_kind_category().items()
            },
            "findings": finding_counts_json(diff.findings),
        },
        "changes": [change_json(change, diff.replaced_by) for change in diff.changes],
        "findings": [finding_json(finding) for finding in diff.findings],
        # CMS's companion files, present only when the new release has them.
        **(
            {"transaction_report": diff.transaction_report.to_dict()}
            if diff.transaction_report
            else {}
        ),
        **(
            {"corrections": [listing.to_dict() for listing in diff.corrections]}
            if diff.corrections
            else {}
        ),
        # ICD-10: the new release's addenda and their counts against the diff's.
        **({"addenda": diff.addenda.to_dict()} if diff.addenda is not None else {}),
    }


def year_json(year: YearDiff) -> dict[str, Any]:
    """The JSON form of a year: each diff as `diff_json`, plus the transient codes."""
    overall = diff_json(year.overall)
    releases = [overall["old"]] + [diff_json(step)["new"] for step in year.steps]
    if not year.steps and year.overall.new != year.overall.old:
        releases.append(overall["new"])
    return {
        "schema_version": SCHEMA_VERSION,
        "releases": releases,
        "overall": overall,
        "steps": [diff_json(step) for step in year.steps],
        "missing": list(year.missing),
        # When the release that should open the year is not stored (ICD-10's October one).
        **({"opening_note": year.opening_note} if year.opening_note else {}),
        "transient": [
            {
                "code": item.code,
                "first_seen": item.first_seen,
                "last_seen": item.last_seen,
                "ended": item.ended.value,
                "ended_in": item.ended_in,
                "termination_date": (
                    item.termination_date.isoformat() if item.termination_date else None
                ),
                "record": item.record.to_dict(),
            }
            for item in year.transient
        ],
    }


def interval_json(interval: ValidityInterval) -> dict[str, object]:
    return {
        "start": None if interval.start == date.min else interval.start.isoformat(),
        "end": interval.end.isoformat() if interval.end else None,
        "opening": interval.opening.value,
        "opened_by": interval.opened_by.display,
        "closure": interval.closure.value if interval.closure else None,
        "closed_by": interval.closed_by.display if interval.closed_by else None,
        "last_seen": interval.last_seen.display,
    }


def history_json(
    code: str,
    intervals: Sequence[ValidityInterval],
    events: Sequence[HistoryEvent],
    replaced_by: Sequence[Replacement] = (),
) -> dict[str, object]:
    """A code's history: its validity intervals and every event, with what changed.

    The code is written as people read it (ICD-10-CM with its dot; records keep their stored
    form); a deleted ICD-10 code also lists `replaced_by`, its replacements from the
    conversion tables (as people read them, with their descriptions), when it has any.
    """
    shown = get_code_set(events[0].release.code_set).display_code(code) if events else code
    return {
        "code": shown,
        **(
            {
                "replaced_by": [
                    {"code": item.code, "description": item.description} for item in replaced_by
                ]
            }
            if replaced_by
            else {}
        ),
        "validity": [interval_json(interval) for interval in intervals],
        "events": [
            {
                "release": event.release.display,
                "effective_date": event.release.effective_date.isoformat(),
                "event": event.kind.value,
                "flags": (
                    sorted(flag.value for flag in event.change.flags) if event.change else []
                ),
                "fields": [
                    {
                        "field": field_change.field,
                        "category": field_change.category.value,
                        "old": json_value(field_change.old),
                        "new": json_value(field_change.new),
                    }
                    for field_change in (event.change.fields if event.change else ())
                ],
                "record": event.record.to_dict() if event.record else None,
            }
            for event in events
        ],
    }
