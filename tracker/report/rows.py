"""The CSV report's rows: one per field change of a release pair or a year, then CMS's
companion files' disagreements and corrections. `tracker.csvout` writes them.
"""

from __future__ import annotations

from collections.abc import Iterator

from tracker.codesets.hcpcs.codetables import code_family
from tracker.diff import ReleaseDiff, YearDiff
from tracker.release import Snapshot
from tracker.report.describe import Describer, describer_for, field_values

CSV_COLUMNS: tuple[str, ...] = (
    "old_release",
    "new_release",
    "code",
    "family",
    "kind",
    "code_flags",
    "category",
    "field",
    "old",
    "new",
    "old_meaning",
    "new_meaning",
    "field_flags",
    "declared_action",
    "long_description",
)


def diff_csv_rows(diff: ReleaseDiff, *, new_snapshot: Snapshot | None = None) -> list[list[str]]:
    """The CSV rows of one release pair (columns `CSV_COLUMNS`), replacement codes described
    from `new_snapshot` as in `build_report`."""
    describer = describer_for(new_snapshot, diff.changes)
    return [*_diff_rows(diff, describer), *_companion_rows(diff)]


def year_csv_rows(year: YearDiff, *, last_snapshot: Snapshot | None = None) -> list[list[str]]:
    """The annual CSV rows (columns `scope` then `CSV_COLUMNS`): the year as a whole, then each
    quarter."""
    rows: list[list[str]] = []
    describer = describer_for(last_snapshot, year.overall.changes)
    rows += (["year", *row] for row in _diff_rows(year.overall, describer))
    for step in year.steps:
        # Intermediate releases' snapshots are not at hand; the last release and the
        # step's own records describe its replacement codes.
        step_describer = describer_for(last_snapshot, step.changes)
        rows += (["quarter", *row] for row in _diff_rows(step, step_describer))
    return rows


def _diff_rows(diff: ReleaseDiff, describer: Describer) -> Iterator[list[str]]:
    """One row per added/removed code, one per field change of every other changed code."""
    old_label, new_label = diff.old.display, diff.new.display
    for change in diff.changes:
        record = change.new if change.new is not None else change.old
        assert record is not None
        head = [
            old_label,
            new_label,
            change.code,
            code_family(change.code),
            change.kind.value,
            " ".join(sorted(flag.value for flag in change.flags)),
        ]
        tail = [change.new.action_code if change.new is not None else "", record.long_description]
        if not change.fields:
            yield [*head, "", "", "", "", "", "", "", *tail]
            continue
        for fc in change.fields:
            old = field_values(fc.field, fc.old, describer, empty="")
            new = field_values(fc.field, fc.new, describer, empty="")
            yield [
                *head,
                fc.category.value,
                fc.field,
                "; ".join(value.text for value in old),
                "; ".join(value.text for value in new),
                "; ".join(value.meaning for value in old if value.meaning),
                "; ".join(value.meaning for value in new if value.meaning),
                " ".join(sorted(flag.value for flag in fc.flags)),
                *tail,
            ]


def _companion_rows(diff: ReleaseDiff) -> Iterator[list[str]]:
    """CMS's transaction report vs its data file, one row per disagreement (category
    `transaction_report`, field the kind of disagreement, old/new the report's and the file's
    action letters); a corrections file's rows (category `corrections`), the row as text."""
    blank = ["", "", "", ""]
    old_label, new_label = diff.old.display, diff.new.display
    check = diff.transaction_report
    if check is not None:
        for item in check.disagreements:
            head = [old_label, new_label, item.code, "", "", ""]
            yield [
                *head,
                "transaction_report",
                item.kind,
                item.report_action or "",
                item.file_action or "",
                *blank[:3],
                item.file_action or "",
                check.report,
            ]
    for listing in diff.corrections:
        for row in listing.rows:
            yield [
                old_label,
                new_label,
                "",
                "",
                "",
                "",
                "corrections",
                listing.file,
                "",
                "",
                "",
                "",
                "",
                "",
                row,
            ]
