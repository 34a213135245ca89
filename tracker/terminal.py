"""How the CLI lays out its answers for a terminal (or a pipe): tables, listings, lines.

Nothing here reads the store or prints: each function takes what an `api` function returned
and gives back what to show. A `str` is one or more whole lines, printed as they are (a long
line stays one line); a rich `Table` or `Text` is laid out by the console at its width. Text
from CMS files is escaped with `printable` where the commands always escaped it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from tracker.codesets import get_code_set
from tracker.codesets.base import CodeRecord
from tracker.diff import Category, ChangeKind, ReleaseDiff, YearDiff
from tracker.errors import printable
from tracker.query import Status
from tracker.validity import Closure, Opening, ValidityInterval

if TYPE_CHECKING:
    from tracker.history import HistoryEvent
    from tracker.query import CodeState, Replacement
    from tracker.release import ReleaseInfo
    from tracker.replacements import ReplacementChain
    from tracker.validate import ValidationSummary
    from tracker.verify import VerifyReport

# What the CLI prints: a string as whole lines, a table or text through the console.
Block = str | Table | Text

RELEASE_COLUMNS = (
    "release",
    "issue",
    "effective",
    "kind",
    "codes",
    "content",
    "source",
    "cms",
    "repairs",
)
NO_RELEASES = "no releases stored yet; run `tracker ingest FILE`"
CODES_CSV_HEADER = ("code", "status", "description", "termination_date", "release")
# Bad claim rows shown one by one; the rest are counted.
BAD_ROWS_SHOWN = 10


def release_table(
    listed: Sequence[tuple[ReleaseInfo, ReleaseInfo | None]], *, with_state: bool
) -> Table:
    """`tracker releases`: one row per release, a correction naming the release it corrects,
    and with `with_state` the latest retraction or reinstatement and its reason."""
    table = Table(show_edge=False, pad_edge=False)
    for column in RELEASE_COLUMNS:
        table.add_column(column, justify="right" if column in ("issue", "codes") else "left")
    if with_state:
        table.add_column("state")
    for info, base in listed:
        row = [
            info.label,
            str(info.issue),
            info.effective_date.isoformat(),
            info.kind.value + (f" of {base.display}" if base else ""),
            str(info.record_count),
            info.content_sha256[:12],
            printable(info.source_name),
            printable(info.version_marker or ""),
            str(len(info.anomalies)) if info.anomalies else "",
        ]
        if with_state:
            row.append(printable(release_state(info)))
        table.add_row(*row)
    return table


def release_tables(
    listed: Sequence[tuple[ReleaseInfo, ReleaseInfo | None]], *, with_state: bool
) -> list[Block]:
    """`tracker releases`: one table (`release_table`) when the releases are of one code set;
    else one per code set, each under a line naming the code set."""
    names = list(dict.fromkeys(info.code_set for info, _ in listed))
    if len(names) <= 1:
        return [release_table(listed, with_state=with_state)]
    blocks: list[Block] = []
    for index, name in enumerate(names):
        if index:
            blocks.append("")
        blocks.append(f"{get_code_set(name).title} (--code-set {name})")
        group = [(info, base) for info, base in listed if info.code_set == name]
        blocks.append(release_table(group, with_state=with_state))
    return blocks


def shown_code(code_set: str, code: str) -> str:
    """A stored code as people read it in its code set (ICD-10-CM `E119` is `E11.9`)."""
    return get_code_set(code_set).display_code(code)


def _describe(code_set: str, record: CodeRecord) -> str:
    return get_code_set(code_set).describe(record)


def _status_text(state: CodeState) -> str:
    """The status word: a header's reason (`header, not billable`) for a code in force that
    may not be billed; `deleted` for a code without end dates that the release in force no
    longer carries (ICD-10's word)."""
    if state.status is Status.NOT_BILLABLE and state.claim_status:
        return state.claim_status
    if state.status is Status.REMOVED and not get_code_set(state.known_at.code_set).has_end_dates:
        return "deleted"
    return state.status.value


def record_page(
    release: ReleaseInfo,
    record: CodeRecord,
    *,
    status: str | None = None,
    notes: Sequence[str] = (),
) -> str:
    """The plain-text page `tracker show CODE` prints for a code set other than HCPCS: the
    code and description, its release, the notes (validity, replacements), then each field
    the code set compares, as the HCPCS page lays out its own."""
    code_set = get_code_set(release.code_set)
    if status is None:
        status = code_set.claim_status(record) or "valid on claims"
    values = record.to_dict()
    rows = [(spec.label, values.get(spec.name)) for spec in code_set.fields]
    width = max((len(label) for label, _ in rows), default=0)
    lines = [
        f"{code_set.display_code(record.code)}  {code_set.describe(record)}",
        f"{code_set.title}, {status}; release {release.display} effective"
        f" {release.effective_date.isoformat()} (source {release.source_name},"
        f" sha256 {release.source_sha256[:12]})",
        *notes,
        "",
        *(f"{label.ljust(width)}  {_field_text(value)}" for label, value in rows),
    ]
    return "\n".join(printable(line) for line in lines) + "\n"


def _field_text(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def release_state(info: ReleaseInfo) -> str:
    """`retracted: reason` or `reinstated: reason` (the latest event), blank if never retracted."""
    if info.last_event is None:
        return ""
    state = "retracted" if info.retracted else "reinstated"
    return f"{state}: {info.last_event_reason or ''}"


def code_state_text(state: CodeState, chain: ReplacementChain | None = None) -> str:
    """`tracker show CODE --as-of DAY`: the code's status that day, how its interval ends,
    its replacements and, given `chain`, where they lead on that day ("replaced by X → Y
    (active)"), what it meant then and what is known of it now."""
    interval = state.interval
    code_set = state.known_at.code_set
    status = _status_text(state)
    if (
        state.status is Status.ACTIVE
        and interval is not None
        and interval.end is not None
        and interval.closure is not Closure.REUSED
    ):
        # Valid on the date, with its last valid day already known.
        status += f", ends after {interval.end.isoformat()}"
    code = shown_code(code_set, state.code)
    lines = [f"{code} on {state.on.isoformat()}: {status} (as known at {state.known_at.display})"]
    if interval is not None and state.status is Status.TERMINATED and interval.end:
        lines.append(f"terminated: last valid day {interval.end.isoformat()}")
    elif interval is not None and state.status is Status.REMOVED and interval.closed_by:
        lines.append(
            f"{_status_text(state)}: last seen in {interval.last_seen.display},"
            f" absent from {interval.closed_by.display}"
            f" (last valid day {interval.end.isoformat() if interval.end else '?'})"
        )
    elif interval is not None and state.status is Status.NOT_YET_EFFECTIVE:
        if interval.opening is Opening.FIRST_STORED:
            lines.append(
                f"no stored release is in force on {state.on.isoformat()}: the first stored,"
                f" {interval.opened_by.display}, takes effect {interval.start.isoformat()}"
            )
        else:
            lines.append(f"valid from: {interval.start.isoformat()}")
    for replacement in state.replacements:
        described = f"  {replacement.description}" if replacement.description else ""
        lines.append(f"replaced by: {shown_code(code_set, replacement.code)}{described}")
    if chain is not None and chain.text():
        lines.append(chain.text())
    if state.meaning is not None and state.meaning_release is not None:
        lines.append(
            f"meaning then: {_describe(code_set, state.meaning)}"
            f" (release {state.meaning_release.display})"
        )
    if state.known is not None and state.known_release is not None:
        if state.known != state.meaning:
            lines.append(
                f"latest known: {_describe(code_set, state.known)}"
                f" (release {state.known_release.display})"
            )
        if get_code_set(code_set).has_end_dates:
            dated = state.status_record or state.known
            added_date = get_code_set(code_set).record_dates(dated).added_date
            added = added_date.isoformat() if added_date else "unknown"
            source = interval.last_seen if interval is not None else state.known_release
            lines.append(f"dates from release {source.display}: added {added}")
        lines.extend(item.line() for item in state.intervals)
    else:
        lines.append(f"no release up to {state.known_at.display} carries this code")
    # Descriptions are file content: control characters and bidi overrides are shown escaped.
    return "\n".join(printable(line) for line in lines) + "\n"


def code_listing(states: Sequence[CodeState], *, status: str, on: str) -> list[str]:
    """`tracker codes`: the codes as a table, then how many there are in `status` on `on`."""
    table = columns(
        ("code", "status", "description", "release"),
        [
            [
                shown_code(state.known_at.code_set, state.code),
                _status_text(state),
                _describe(state.known_at.code_set, state.meaning) if state.meaning else "",
                state.meaning_release.display if state.meaning_release else "",
            ]
            for state in states
        ],
    )
    which = "in any status" if status == "all" else status
    return [table, f"{len(states)} codes {which} on {on}"]


def code_listing_csv(states: Sequence[CodeState]) -> str:
    """`tracker codes --format csv`: one neutralized row per code, lines ending in LF."""
    from tracker.csvout import write_csv

    return write_csv(
        CODES_CSV_HEADER,
        (
            [
                shown_code(state.known_at.code_set, state.code),
                _status_text(state),
                _describe(state.known_at.code_set, state.meaning) if state.meaning else "",
                state.termination_date.isoformat() if state.termination_date else "",
                state.meaning_release.display if state.meaning_release else "",
            ]
            for state in states
        ),
        lineterminator="\n",
    )


def validation_summary(
    summary: ValidationSummary, *, claims: str, output: str | None
) -> tuple[list[Text], list[Text]]:
    """`tracker validate`: the counts per status and the most frequent invalid codes (for
    standard output), and the rows that could not be checked (for standard error)."""
    written = f", written to {printable(output)}" if output else ""
    checked = f"{summary.rows} rows checked{written}"
    if len(summary.columns) > 1:
        # Several code columns: the counts below are of codes, not rows.
        names = printable(", ".join(summary.columns))
        checked += f"; {summary.codes} codes in columns {names}"
    out = [Text(checked)]
    # ICD-10's `header (not billable)` is wider than HCPCS's statuses, which fit in 18.
    width = max([18, *(len(name) for name in summary.statuses)])
    for status_name, count in sorted(summary.statuses.items(), key=lambda item: -item[1]):
        out.append(Text(f"  {status_name:<{width}} {count:>10}"))
    if summary.invalid_codes:
        top = ", ".join(f"{code} ({n})" for code, n in summary.invalid_codes.most_common(10))
        out.append(Text(printable(f"top invalid codes: {top}")))
    err = [
        Text(printable(f"{claims}:{line}: {problem}"))
        for line, problem in summary.bad_rows[:BAD_ROWS_SHOWN]
    ]
    if summary.bad_row_count > BAD_ROWS_SHOWN:
        more = summary.bad_row_count - BAD_ROWS_SHOWN
        err.append(Text(f"… and {more} more rows that could not be checked"))
    return out, err


def columns(headers: tuple[str, ...], rows: list[list[str]]) -> str:
    """A plain aligned table for long listings of file content, as lines of text.

    Rich tables take seconds for thousands of rows and read `[...]` in a description as
    markup; these rows are code-set content, so they are laid out as text, escaped.
    """
    cells = [[printable(cell) for cell in row] for row in rows]
    widths = [
        max([len(header), *(len(row[i]) for row in cells)]) for i, header in enumerate(headers)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines.extend(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    )
    return "\n".join(lines)


def short(value: object, width: int = 60) -> str:
    """A field value in one table cell: blank as `—`, lists space-separated, dates ISO, and
    anything longer than `width` cut with `…`."""
    if value is None or value == "" or value == ():
        return "—"
    if isinstance(value, bool):
        return "1 (billable)" if value else "0 (header)"  # ICD-10's flag, as files write it
    if isinstance(value, tuple | list):
        text = " ".join(str(item) for item in value)
    elif hasattr(value, "isoformat"):
        text = value.isoformat()
    else:
        text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def diff_blocks(result: ReleaseDiff) -> list[Block]:
    """`tracker diff OLD NEW`: the releases and whether the action codes were reconciled, the
    counts per kind and category, each change field by field, the reconciliation's findings,
    and CMS's transaction report and corrections kept with the new release."""
    reconciliation = result.reconciliation
    declared = "addenda" if result.addenda is not None else "action codes"
    status = (
        f"reconciled: its {declared} describe the changes since {reconciliation.reference}"
        if reconciliation.reconciled
        else reconciliation.reason
    )
    # A plain line: a long reason stays on one line instead of being wrapped at the width.
    blocks: list[Block] = [
        f"{result.old.display} ({result.old.effective_date.isoformat()}) → {result.new.display}"
        f" ({result.new.effective_date.isoformat()}), {status}"
    ]
    summary = result.summary_counts()
    if result.addenda is not None or ChangeKind.DELETED in result.kinds:
        blocks.append(_presence_summary(result))
    else:
        blocks.append(
            f"{summary['added']} codes added, {summary['changed']} codes changed,"
            f" {summary['action_only']} with only the action code or its date changed,"
            f" {summary['unchanged']} unchanged"
            + (
                f" ({summary['representation_only']} written differently, same meaning)"
                if summary["representation_only"]
                else ""
            )
        )
    counts = Table(show_edge=False, pad_edge=False, title=None)
    counts.add_column("kind")
    counts.add_column("codes", justify="right")
    categories = result.categories
    for category in categories:
        counts.add_column(category.value, justify="right")
    by_category = result.counts_by_kind_category()
    for kind, n in result.counts_by_kind().items():
        row = [kind.value, str(n)]
        row += [str(by_category[kind][category] or "") for category in categories]
        counts.add_row(*row)
    blocks.append(counts)
    if result.changes:
        blocks.append(
            columns(("code", "kind", "field", "old", "new", "flags"), _change_rows(result))
        )
    blocks.extend(addenda_lines(result))
    if result.findings:
        show = get_code_set(result.code_set).display_code
        blocks.append(f"\nreconciliation: {len(result.findings)} findings")
        blocks.append(
            "\n".join(
                printable(f"  {show(finding.code)}  {finding.message}")
                for finding in result.findings
            )
        )
    blocks.extend(companion_lines(result))
    return blocks


def _presence_summary(result: ReleaseDiff) -> str:
    """The headline of a diff of a code set without end dates (ICD-10): codes added, deleted,
    switched between billable and header, and with a title revised."""
    counts = result.counts_by_kind()
    switched = sum(1 for change in result.changes if change.field("billable") is not None)
    revised = sum(
        1 for change in result.changes if any(fc.category is Category.TITLE for fc in change.fields)
    )
    return (
        f"{counts[ChangeKind.ADDED]} codes added, {counts[ChangeKind.DELETED]} deleted,"
        f" {switched} switched between billable and header, {revised} with a title revised,"
        f" {counts[ChangeKind.UNCHANGED]} unchanged"
    )


def addenda_lines(result: ReleaseDiff) -> list[str]:
    """ICD-10: the new release's addenda (lines per action) against the diff in the same terms,
    and the summary's counts per section (billable codes, headers) against the diff's."""
    check = result.addenda
    if check is None:
        return []
    state = (
        "agree with the diff"
        if check.agrees
        else "disagree with the diff"
        if check.comparable
        else "not comparable (see above)"
    )
    lines = [
        "",
        printable(f"addenda {check.file}: {state}"),
        "  lines:    " + _action_counts(check.declared),
        "  the diff: " + _action_counts(check.observed),
    ]
    for section in check.sections:
        lines.append(
            f"  summary, {section.section}: "
            + ", ".join(
                f"{name.replace('_', ' ')} {_pair(section.declared[name], section.observed[name])}"
                for name in section.observed
            )
        )
    return lines


def _action_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{action} {n}" for action, n in counts.items())


def _pair(declared: int | None, observed: int) -> str:
    """`12` when the addenda and the diff agree, else `declared 12 / diff 14`."""
    if declared == observed:
        return str(observed)
    return f"declared {'—' if declared is None else declared} / diff {observed}"


def _change_rows(result: ReleaseDiff) -> list[list[str]]:
    code_set = get_code_set(result.code_set)
    rows: list[list[str]] = []
    for change in result.changes:
        flags = ",".join(sorted(flag.value for flag in change.flags))
        code = code_set.display_code(change.code)
        if not change.fields:
            record = change.new or change.old
            description = code_set.describe(record) if record else ""
            rows.append([code, change.kind.value, "", "", short(description), flags])
            replaced_by = result.replaced_by.get(change.code, ())
            if replaced_by:
                # A deleted ICD-10 code's replacements (the conversion tables).
                shown = " ".join(code_set.display_code(item) for item in replaced_by)
                rows.append(["", "", "replaced by", "", short(shown), ""])
            continue
        for index, field_change in enumerate(change.fields):
            rows.append(
                [
                    code if index == 0 else "",
                    change.kind.value if index == 0 else "",
                    field_change.field,
                    short(field_change.old),
                    short(field_change.new),
                    ",".join(sorted(flag.value for flag in field_change.flags)),
                ]
            )
    return rows


def companion_lines(result: ReleaseDiff) -> list[str]:
    """CMS's transaction report against its data file, and corrections kept with the release."""
    from tracker.codesets.hcpcs.transreport import DISAGREEMENT_TITLES

    lines: list[str] = []
    check = result.transaction_report
    if check is not None:
        lines.append("")
        lines.append(
            printable(
                f"CMS's transaction report vs its data file ({check.report}):"
                f" {check.codes_listed} codes listed, {len(check.disagreements)} disagreements"
            )
        )
        lines.extend(
            printable(
                f"  {item.code}  {DISAGREEMENT_TITLES[item.kind]}: report"
                f" {item.report_action or '—'}, file {item.file_action or '—'}"
            )
            for item in check.disagreements
        )
    for listing in result.corrections:
        lines.append("")
        lines.append(printable(f"corrections {listing.file}: {listing.note}"))
        lines.append("\n".join(printable(f"  {row}") for row in listing.rows))
    return lines


def year_blocks(year: int, whole: YearDiff, overall: ReleaseDiff) -> list[Block]:
    """`tracker diff --year`: `overall` (the year's first release against its last, as
    selected) as `diff_blocks`, then the quarters not stored, each quarter's counts, and the
    codes born and ended inside the year (all of them: `whole`, whatever was selected)."""
    span = whole.span
    blocks: list[Block] = []
    if span is not None and span.opening:
        # A year opened by a named release (ICD-10's fiscal year): say which days it covers.
        blocks.append(
            f"{span.name}: {span.start.isoformat()} … {span.end.isoformat()},"
            f" {whole.releases[0].display} → {whole.releases[-1].display}"
        )
    if whole.opening_note:
        blocks.append(printable(f"note: {whole.opening_note}"))
    blocks.extend(diff_blocks(overall))
    name = span.name if span is not None else str(year)
    if whole.missing:
        blocks.append(f"not stored in {name}: {', '.join(whole.missing)}")
    for step in whole.steps:
        counts = step.counts_by_kind()
        summary = ", ".join(f"{n} {kind.value}" for kind, n in counts.items() if n)
        if not step.reconciled:
            summary += f"; {step.reconciliation.reason}"
        blocks.append(f"{step.old.display} → {step.new.display}: {summary}")
    if whole.transient:
        blocks.append(Text("\nborn and ended inside the year:"))
        blocks.extend(
            Text(
                f"  {shown_code(overall.code_set, item.code)}  {item.first_seen} →"
                f" {item.ended.value} in {item.ended_in}"
                f"  {_describe(overall.code_set, item.record)}"
            )
            for item in whole.transient
        )
    return blocks


def history_lines(
    events: Sequence[HistoryEvent],
    intervals: Sequence[ValidityInterval],
    replaced_by: Sequence[Replacement] = (),
) -> list[str]:
    """`tracker history CODE`: one row per event (one per field changed), then the code's
    validity intervals, then what replaced a deleted code (ICD-10's conversion tables)."""
    table = columns(
        ("release", "effective", "event", "field", "old", "new", "flags"), _event_rows(events)
    )
    return [
        table,
        *(printable(interval.line()) for interval in intervals),
        *(
            printable(
                f"replaced by: {item.code}" + (f"  {item.description}" if item.description else "")
            )
            for item in replaced_by
        ),
    ]


def _event_rows(events: Sequence[HistoryEvent]) -> list[list[str]]:
    rows: list[list[str]] = []
    for event in events:
        head = [event.release.display, event.release.effective_date.isoformat(), event.kind.value]
        flags = ",".join(sorted(f.value for f in event.change.flags)) if event.change else ""
        fields = event.change.fields if event.change else ()
        if not fields:
            description = _describe(event.release.code_set, event.record) if event.record else ""
            rows.append([*head, "", "", short(description), flags])
            continue
        for index, field_change in enumerate(fields):
            rows.append(
                [
                    *(head if index == 0 else ["", "", ""]),
                    field_change.field,
                    short(field_change.old),
                    short(field_change.new),
                    flags if index == 0 else "",
                ]
            )
    return rows


def verify_lines(report: VerifyReport) -> tuple[list[Text], list[Text], str]:
    """`tracker verify`: the repairs on record (standard output), each mismatch (standard
    error), and the closing summary: `ok: …` when nothing is wrong, else the error message."""
    out = [Text(f"repaired {repair}") for repair in report.repairs]
    err = [Text(f"MISMATCH {problem}") for problem in report.problems]
    summary = (
        f"{report.releases_checked} releases, {report.record_versions_checked} record versions"
    )
    if report.repairs:
        summary += f" (repairs of CMS's files on record: {len(report.repairs)})"
    if report.ok:
        return out, err, f"ok: {summary} verified"
    return out, err, f"{len(report.problems)} problems found in {summary}"
