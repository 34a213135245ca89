"""The CSV report's rows: one per field change of a release pair or a year, then CMS's
companion files' disagreements and corrections. `tracker.csvout` writes them.

With a watchlist, a block of "Your codes" rows comes first; the file then gains a leading
`section` column (`your_codes`, then `changes` for every row of the report without it) and
three trailing ones for what only those rows have, so the `changes` rows with the added
columns dropped are the report without a watchlist, byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from tracker.codesets import get_code_set
from tracker.codesets.hcpcs.codetables import code_family
from tracker.diff import ChangeKind, ReleaseDiff, YearDiff
from tracker.impact import ImpactKind, ImpactReport, impact_rows
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


WATCHLIST_COLUMNS: tuple[str, ...] = ("status", "details", "replacements")
"""Columns only the "Your codes" rows fill (as `tracker impact --format csv` names them)."""
SECTION_WATCHLIST = "your_codes"
SECTION_CHANGES = "changes"


def diff_csv_rows(diff: ReleaseDiff, *, new_snapshot: Snapshot | None = None) -> list[list[str]]:
    """The CSV rows of one release pair (columns `CSV_COLUMNS`), replacement codes described
    from `new_snapshot` as in `build_report`."""
    describer = describer_for(
        new_snapshot, diff.changes, also=_replacement_codes(diff), code_set=diff.code_set
    )
    return [*_diff_rows(diff, describer), *_companion_rows(diff), *_addenda_rows(diff)]


def _replacement_codes(diff: ReleaseDiff) -> set[str]:
    return {code for codes in diff.replaced_by.values() for code in codes}


def year_csv_rows(year: YearDiff, *, last_snapshot: Snapshot | None = None) -> list[list[str]]:
    """The annual CSV rows (columns `scope` then `CSV_COLUMNS`): the year as a whole, then each
    quarter."""
    rows: list[list[str]] = []
    code_set = year.overall.code_set
    # HCPCS's steps are its quarters; ICD-10's are its October release and mid-year updates.
    step_scope = "quarter" if get_code_set(code_set).has_end_dates else "step"
    describer = describer_for(
        last_snapshot,
        year.overall.changes,
        also=_replacement_codes(year.overall),
        code_set=code_set,
    )
    rows += (["year", *row] for row in _diff_rows(year.overall, describer))
    for step in year.steps:
        # Intermediate releases' snapshots are not at hand; the last release and the
        # step's own records describe its replacement codes.
        step_describer = describer_for(
            last_snapshot, step.changes, also=_replacement_codes(step), code_set=code_set
        )
        rows += ([step_scope, *row] for row in _diff_rows(step, step_describer))
    return rows


def _diff_rows(diff: ReleaseDiff, describer: Describer) -> Iterator[list[str]]:
    """One row per added/removed code, one per field change of every other changed code."""
    old_label, new_label = diff.old.display, diff.new.display
    code_set = get_code_set(diff.code_set)
    for change in diff.changes:
        record = change.new if change.new is not None else change.old
        assert record is not None
        head = [
            old_label,
            new_label,
            code_set.display_code(change.code),
            code_set.family(change.code),
            change.kind.value,
            " ".join(sorted(flag.value for flag in change.flags)),
        ]
        declared = getattr(change.new, "action_code", "") if change.new is not None else ""
        tail = [declared, code_set.describe(record)]
        if change.kind is ChangeKind.DELETED:
            # ICD-10: what replaced the deleted code (the conversion tables), as `xrefs` are
            # written for HCPCS: the codes under `new`, their titles under `new_meaning`.
            found = describer.replacements(diff.replaced_by.get(change.code, ()))
            yield [
                *head,
                "",
                "replaced_by",
                "",
                "; ".join(code_set.display_code(item.code) for item in found),
                "",
                "; ".join(item.description for item in found),
                "",
                *tail,
            ]
            continue
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


def _addenda_rows(diff: ReleaseDiff) -> Iterator[list[str]]:
    """ICD-10: each finding of the addenda against the diff (category `addenda`, field its
    rule, old/new the declared and the disputed action, the message as the description)."""
    if diff.addenda is None:
        return
    show = get_code_set(diff.code_set).display_code
    for finding in diff.findings:
        yield [
            diff.old.display,
            diff.new.display,
            show(finding.code),
            "",
            finding.direction.value,
            " ".join(sorted(flag.value for flag in finding.flags)),
            "addenda",
            finding.rule.value,
            finding.declared,
            finding.action,
            "",
            "",
            "",
            "",
            finding.message,
        ]


def with_watchlist(
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    watchlist: ImpactReport,
    *,
    lead: Sequence[str] = (),
) -> tuple[tuple[str, ...], list[list[str]]]:
    """The header and rows of a report with a "Your codes" block first (see the module
    docstring). `columns` are the report's own, `lead` the cells that come before
    `CSV_COLUMNS` in a "Your codes" row (a year's `scope`)."""
    header = ("section", *columns, *WATCHLIST_COLUMNS)
    blank = [""] * len(WATCHLIST_COLUMNS)
    return header, [
        *([SECTION_WATCHLIST, *lead, *row] for row in watchlist_csv_rows(watchlist)),
        *([SECTION_CHANGES, *row, *blank] for row in rows),
    ]


def watchlist_csv_rows(watchlist: ImpactReport) -> list[list[str]]:
    """One row per listed code, in list order: `CSV_COLUMNS` (the kind is the impact's, as
    `tracker impact` writes it; the fields that changed are in `details`) then
    `WATCHLIST_COLUMNS`."""
    old_label, new_label = watchlist.old.display, watchlist.new.display
    rows = []
    for entry, row in zip(watchlist.entries, impact_rows(watchlist), strict=True):
        change = entry.change
        known = entry.kind is not ImpactKind.UNKNOWN
        rows.append(
            [
                old_label,
                new_label,
                entry.code,
                code_family(entry.code) if known else "",
                row.kind,
                " ".join(entry.flags),
                " ".join(entry.categories),
                " ".join(fc.field for fc in entry.fields),
                "",
                "",
                "",
                "",
                "",
                change.new.action_code if change is not None and change.new is not None else "",
                row.description,
                row.status,
                row.details,
                row.replacements,
            ]
        )
    return rows
