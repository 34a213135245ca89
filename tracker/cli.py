"""The `tracker` command: each subcommand opens the store and calls one `tracker.api` function.

Every `TrackerError` becomes `Error: <message>` on stderr and exit code 1; anything else is a
bug and keeps its traceback. Standard output that cannot be written (a full disk) is one such
error too; a reader that went away (`tracker diff ... | head -1`) ends the command silently.
Text from files, names and arguments is printed as it is: the consoles read no markup or emoji
codes, so `[red]` or `[/link]` in a description, a file name or a reason prints as written.
"""

from __future__ import annotations

import errno
import importlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.table import Table

from tracker import __version__
from tracker.diff import Category, ReleaseDiff, filter_diff
from tracker.errors import TrackerError, printable
from tracker.validity import Closure


class _LazyModule:
    """Imports a module on first use: `tracker --help` should not pay for the database stack."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)


if TYPE_CHECKING:
    from tracker import api
    from tracker.store import Store
else:
    api = _LazyModule("tracker.api")

# Piped output keeps whole lines (no wrapping to a guessed terminal width).
console = Console(
    highlight=False, markup=False, emoji=False, width=None if sys.stdout.isatty() else 200
)
err_console = Console(stderr=True, highlight=False, markup=False, emoji=False, soft_wrap=True)

# Errors of a full or failing output device; a closed pipe (EPIPE) is left to click, which
# ends the command quietly.
_WRITE_ERRORS = frozenset({errno.ENOSPC, errno.EIO, errno.EFBIG, errno.EDQUOT, errno.EROFS})


# Commands that live in their own modules, imported only when run (or listed by --help), so
# `tracker --help` and every other command do not pay for the web stack or the impact library.
_LAZY_COMMANDS = {
    "impact": ("tracker.impact_command", "impact_command"),
    "serve": ("tracker.server.command", "serve"),
}


class TrackerGroup(click.Group):
    """Turns the project's errors into one-line messages."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *_LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        lazy = _LAZY_COMMANDS.get(cmd_name)
        if lazy is None:
            return super().get_command(ctx, cmd_name)
        module, name = lazy
        command: click.Command = getattr(importlib.import_module(module), name)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            try:
                return super().invoke(ctx)
            finally:
                # Written now (also before an exit code), so a full disk is reported here and
                # not at interpreter exit.
                sys.stdout.flush()
        except TrackerError as exc:
            raise click.ClickException(str(exc)) from None
        except OSError as exc:
            if exc.filename is not None or exc.errno not in _WRITE_ERRORS:
                raise
            _discard_stdout()
            problem = (exc.strerror or str(exc)).lower()
            raise click.ClickException(f"standard output: cannot write ({problem})") from None


def _discard_stdout() -> None:
    """Point standard output at the null device: what is still buffered for it cannot be
    written, and flushing it again at exit would end in a second, unreadable error."""
    try:
        descriptor = sys.stdout.fileno()
    except (OSError, ValueError, AttributeError):
        return  # not a real file (a test runner's buffer)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, descriptor)
    os.close(null)


@click.group(cls=TrackerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    envvar="TRACKER_DB",
    default="sqlite:///tracker.db",
    show_default=True,
    help="Database URL (any SQLAlchemy URL, postgresql://…) or a SQLite file path.",
)
@click.version_option(__version__, prog_name="tracker")
@click.pass_context
def cli(ctx: click.Context, db: str) -> None:
    """Track changes in the CMS HCPCS Level II code set, release by release."""
    ctx.obj = {"db": db}


def _store(ctx: click.Context) -> Store:
    store: Store | None = ctx.obj.get("store")
    if store is None:
        store = api.open_store(ctx.obj["db"])
        ctx.obj["store"] = store
        ctx.call_on_close(store.close)
    return store


@contextmanager
def _stages(label: str) -> Iterator[api.Progress]:
    """A spinner naming the current stage, shown only on a terminal."""
    if not err_console.is_terminal:
        yield lambda _stage: None
        return
    # A spinner reads a plain string as markup whatever the console says: give it Text.
    from rich.text import Text

    with err_console.status(Text(printable(label))) as status:
        yield lambda stage: status.update(Text(printable(f"{label}: {stage}")))


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--release", "release", help="Release label, e.g. 2020-APR (default: from name).")
@click.option("--effective", help="Effective date YYYY-MM-DD (default: first day of the quarter).")
@click.option("--reissue", is_flag=True, help="Store as a new issue of an already stored label.")
@click.option(
    "--kind",
    type=click.Choice(["annual", "quarterly", "correction"]),
    help="Release kind (default: JAN is annual, others quarterly).",
)
@click.pass_context
def ingest(
    ctx: click.Context,
    paths: tuple[str, ...],
    release: str | None,
    effective: str | None,
    reissue: bool,
    kind: str | None,
) -> None:
    """Store CMS release files (text, workbook, zip, or a directory of code pages).

    A transaction report is kept with its stored release; a corrections file is applied to
    the release it corrects as a new issue of kind correction (or kept and listed).
    """
    if len(paths) > 1 and (release or effective):
        raise TrackerError("--release and --effective apply to one file; ingest files one by one")
    store = _store(ctx)
    for path in paths:
        with _stages(f"ingesting {path}") as progress:
            result = api.ingest(
                store,
                path,
                release=release,
                effective=effective,
                reissue=reissue,
                kind=kind,
                progress=progress,
            )
        console.print(printable(result.message))


@cli.command("releases")
@click.option("--all", "include_retracted", is_flag=True, help="Include retracted releases.")
@click.pass_context
def list_releases(ctx: click.Context, include_retracted: bool) -> None:
    """List stored releases in time order."""
    infos = api.releases(_store(ctx), include_retracted=include_retracted)
    if not infos:
        console.print("no releases stored yet; run `tracker ingest FILE`")
        return
    table = Table(show_edge=False, pad_edge=False)
    columns = (
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
    for column in columns:
        table.add_column(column, justify="right" if column in ("issue", "codes") else "left")
    if include_retracted:
        table.add_column("state")
    by_id = {info.id: info for info in api.releases(_store(ctx), include_retracted=True)}
    for info in infos:
        base = by_id.get(info.base_release_id) if info.base_release_id else None
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
        if include_retracted:
            row.append(printable(_release_state(info)))
        table.add_row(*row)
    console.print(table)


def _release_state(info: Any) -> str:
    """`retracted: reason` or `reinstated: reason` (the latest event), blank if never retracted."""
    if info.last_event is None:
        return ""
    state = "retracted" if info.retracted else "reinstated"
    return f"{state}: {info.last_event_reason or ''}"


@cli.command()
@click.argument("code")
@click.option("--release", "release", help="Release label (default: the latest).")
@click.option("--as-of", "as_of", help="Date of service: status and meaning on that date.")
@click.option("--known-at", help="Answer as known at this release (default: the latest).")
@click.pass_context
def show(
    ctx: click.Context, code: str, release: str | None, as_of: str | None, known_at: str | None
) -> None:
    """Show one code's record with its values decoded, or its state on a date (--as-of)."""
    if as_of is None:
        if known_at is not None:
            raise TrackerError("--known-at goes with --as-of; use --release to pick a release")
        click.echo(api.code_page(_store(ctx), code, release=release), nl=False)
        return
    if release is not None:
        raise TrackerError("--release and --as-of do not combine; use --known-at with --as-of")
    state = api.code_state(_store(ctx), code, as_of, known_at=known_at)
    click.echo(_state_text(state), nl=False)


def _state_text(state: api.CodeState) -> str:
    interval = state.interval
    status = state.status.value
    if (
        state.status is api.Status.ACTIVE
        and interval is not None
        and interval.end is not None
        and interval.closure is not Closure.REUSED
    ):
        # Valid on the date, with its last valid day already known.
        status += f", ends after {interval.end.isoformat()}"
    lines = [
        f"{state.code} on {state.on.isoformat()}: {status} (as known at {state.known_at.display})"
    ]
    if interval is not None and state.status is api.Status.TERMINATED and interval.end:
        lines.append(f"terminated: last valid day {interval.end.isoformat()}")
    elif interval is not None and state.status is api.Status.REMOVED and interval.closed_by:
        lines.append(
            f"removed: last seen in {interval.last_seen.display},"
            f" absent from {interval.closed_by.display}"
            f" (last valid day {interval.end.isoformat() if interval.end else '?'})"
        )
    elif interval is not None and state.status is api.Status.NOT_YET_EFFECTIVE:
        lines.append(f"valid from: {interval.start.isoformat()}")
    for replacement in state.replacements:
        described = f"  {replacement.description}" if replacement.description else ""
        lines.append(f"replaced by: {replacement.code}{described}")
    if state.meaning is not None and state.meaning_release is not None:
        lines.append(
            f"meaning then: {state.meaning.long_description}"
            f" (release {state.meaning_release.display})"
        )
    if state.known is not None and state.known_release is not None:
        if state.known != state.meaning:
            lines.append(
                f"latest known: {state.known.long_description}"
                f" (release {state.known_release.display})"
            )
        dated = state.status_record or state.known
        added = dated.added_date.isoformat() if dated.added_date else "unknown"
        source = interval.last_seen if interval is not None else state.known_release
        lines.append(f"dates from release {source.display}: added {added}")
        lines.extend(f"valid {item.text()}" for item in state.intervals)
    else:
        lines.append(f"no release up to {state.known_at.display} carries this code")
    # Descriptions are file content: control characters and bidi overrides are shown escaped.
    return "\n".join(printable(line) for line in lines) + "\n"


@cli.command()
@click.option("--as-of", "as_of", required=True, help="Date of service (YYYY-MM-DD).")
@click.option("--prefix", default="", help="Only codes starting with this, e.g. J.")
@click.option(
    "--status",
    type=click.Choice(["active", "terminated", "removed", "not yet effective", "all"]),
    default="active",
    show_default=True,
)
@click.option("--known-at", help="As known at this release (default: the latest).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv"]), default="table")
@click.pass_context
def codes(
    ctx: click.Context, as_of: str, prefix: str, status: str, known_at: str | None, fmt: str
) -> None:
    """The code set as it stood on a date."""
    states = api.codes_as_of(_store(ctx), as_of, prefix=prefix, status=status, known_at=known_at)
    if fmt == "csv":
        from tracker.csvout import CsvWriter

        out = CsvWriter(sys.stdout, lineterminator="\n")
        out.writerow(["code", "status", "description", "termination_date", "release"])
        for state in states:
            out.writerow(
                [
                    state.code,
                    state.status.value,
                    state.meaning.long_description if state.meaning else "",
                    state.termination_date.isoformat() if state.termination_date else "",
                    state.meaning_release.display if state.meaning_release else "",
                ]
            )
        return
    _print_columns(
        ("code", "status", "description", "release"),
        [
            [
                state.code,
                state.status.value,
                state.meaning.long_description if state.meaning else "",
                state.meaning_release.display if state.meaning_release else "",
            ]
            for state in states
        ],
    )
    which = "in any status" if status == "all" else status
    click.echo(f"{len(states)} codes {which} on {as_of}")


@cli.command()
@click.argument("claims", type=click.Path(path_type=str))
@click.option("--code-column", default="hcpcs", show_default=True)
@click.option("--date-column", default="dos", show_default=True)
@click.option("--known-at", help="Validate as known at this release (default: the latest).")
@click.option("-o", "--output", type=click.Path(path_type=str), help="Annotated CSV to write.")
@click.option("--fail-on-invalid", is_flag=True, help="Exit 2 when any row is not active.")
@click.option(
    "--encoding",
    help="Encoding of the claims file (default: UTF-8 if it decodes, else Windows-1252/Latin-1);"
    " the output is written in the same.",
)
@click.pass_context
def validate(
    ctx: click.Context,
    claims: str,
    code_column: str,
    date_column: str,
    known_at: str | None,
    output: str | None,
    fail_on_invalid: bool,
    encoding: str | None,
) -> None:
    """Check each claim's code on its date of service (streams files of any size)."""
    summary = api.validate(
        _store(ctx),
        claims,
        output,
        code_column=code_column,
        date_column=date_column,
        known_at=known_at,
        encoding=encoding,
    )
    written = f", written to {printable(output)}" if output else ""
    console.print(f"{summary.rows} rows checked{written}")
    for status_name, count in sorted(summary.statuses.items(), key=lambda item: -item[1]):
        console.print(f"  {status_name:<18} {count:>10}")
    if summary.invalid_codes:
        top = ", ".join(f"{code} ({n})" for code, n in summary.invalid_codes.most_common(10))
        console.print(printable(f"top invalid codes: {top}"))
    for line, problem in summary.bad_rows[:10]:
        err_console.print(printable(f"{claims}:{line}: {problem}"))
    if summary.bad_row_count > 10:
        err_console.print(f"… and {summary.bad_row_count - 10} more rows that could not be checked")
    if fail_on_invalid and summary.invalid:
        ctx.exit(2)


CATEGORY_NAMES = [category.value for category in Category]


@cli.command("diff")
@click.argument("old", required=False)
@click.argument("new", required=False)
@click.option("--year", type=int, help="Diff the first and last release of a year.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.option(
    "--category",
    "categories",
    multiple=True,
    type=click.Choice(CATEGORY_NAMES),
    help="Only changes in this category (repeatable).",
)
@click.option("--code-prefix", default="", help="Only codes starting with this, e.g. J.")
@click.pass_context
def diff_command(
    ctx: click.Context,
    old: str | None,
    new: str | None,
    year: int | None,
    fmt: str,
    categories: tuple[str, ...],
    code_prefix: str,
) -> None:
    """What changed between releases OLD and NEW (labels like 2020-APR, 2017, 2020-APR#2)."""
    wanted = [Category(name) for name in categories]
    if year is not None:
        if old or new:
            raise TrackerError("give either two releases or --year, not both")
        year_result = api.diff_year(_store(ctx), year)
        if fmt == "json":
            from tracker.jsonout import dump_json, year_json

            filtered = api.filter_year(year_result, categories=wanted, prefix=code_prefix)
            click.echo(dump_json(year_json(filtered)), nl=False)
            return
        overall = filter_diff(year_result.overall, categories=wanted, prefix=code_prefix)
        _print_diff(overall)
        if year_result.missing:
            click.echo(f"not stored in {year}: {', '.join(year_result.missing)}")
        for step in year_result.steps:
            counts = step.counts_by_kind()
            summary = ", ".join(f"{n} {kind.value}" for kind, n in counts.items() if n)
            if not step.reconciled:
                summary += f"; {step.reconciliation.reason}"
            click.echo(f"{step.old.display} → {step.new.display}: {summary}")
        if year_result.transient:
            console.print("\nborn and ended inside the year:")
            for item in year_result.transient:
                console.print(
                    f"  {item.code}  {item.first_seen} → {item.ended.value} in {item.ended_in}"
                    f"  {item.record.long_description}",
                    markup=False,
                )
        return
    if not old or not new:
        raise TrackerError("give two releases (tracker diff 2020-JAN 2020-APR) or --year 2020")
    result = filter_diff(api.diff(_store(ctx), old, new), categories=wanted, prefix=code_prefix)
    if fmt == "json":
        from tracker.jsonout import diff_json, dump_json

        click.echo(dump_json(diff_json(result)), nl=False)
        return
    _print_diff(result)


def _print_columns(headers: tuple[str, ...], rows: list[list[str]]) -> None:
    """A plain aligned table for long listings of file content.

    Rich tables take seconds for thousands of rows and read `[...]` in a description as
    markup; these rows are code-set content, so they are printed as text, escaped.
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
    click.echo("\n".join(lines))


def _short(value: object, width: int = 60) -> str:
    if value is None or value == "" or value == ():
        return "—"
    if isinstance(value, tuple | list):
        text = " ".join(str(item) for item in value)
    elif hasattr(value, "isoformat"):
        text = value.isoformat()
    else:
        text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _print_diff(result: ReleaseDiff) -> None:
    reconciliation = result.reconciliation
    status = (
        f"reconciled: its action codes describe the changes since {reconciliation.reference}"
        if reconciliation.reconciled
        else reconciliation.reason
    )
    # Plain echo: a long reason stays on one line instead of being wrapped at the console width.
    click.echo(
        f"{result.old.display} ({result.old.effective_date.isoformat()}) → {result.new.display}"
        f" ({result.new.effective_date.isoformat()}), {status}"
    )
    summary = result.summary_counts()
    click.echo(
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
    for category in Category:
        counts.add_column(category.value, justify="right")
    by_category = result.counts_by_kind_category()
    for kind, n in result.counts_by_kind().items():
        row = [kind.value, str(n)]
        row += [str(by_category[kind][category] or "") for category in Category]
        counts.add_row(*row)
    console.print(counts)
    if result.changes:
        rows: list[list[str]] = []
        for change in result.changes:
            flags = ",".join(sorted(flag.value for flag in change.flags))
            if not change.fields:
                record = change.new or change.old
                description = record.long_description if record else ""
                rows.append([change.code, change.kind.value, "", "", _short(description), flags])
                continue
            for index, field_change in enumerate(change.fields):
                rows.append(
                    [
                        change.code if index == 0 else "",
                        change.kind.value if index == 0 else "",
                        field_change.field,
                        _short(field_change.old),
                        _short(field_change.new),
                        ",".join(sorted(flag.value for flag in field_change.flags)),
                    ]
                )
        _print_columns(("code", "kind", "field", "old", "new", "flags"), rows)
    if result.findings:
        click.echo(f"\nreconciliation: {len(result.findings)} findings")
        click.echo(
            "\n".join(
                printable(f"  {finding.code}  {finding.message}") for finding in result.findings
            )
        )
    _print_companions(result)


def _print_companions(result: ReleaseDiff) -> None:
    """CMS's transaction report against its data file, and corrections kept with the release."""
    from tracker.codesets.hcpcs.transreport import DISAGREEMENT_TITLES

    check = result.transaction_report
    if check is not None:
        click.echo()
        click.echo(
            printable(
                f"CMS's transaction report vs its data file ({check.report}):"
                f" {check.codes_listed} codes listed, {len(check.disagreements)} disagreements"
            )
        )
        for item in check.disagreements:
            click.echo(
                printable(
                    f"  {item.code}  {DISAGREEMENT_TITLES[item.kind]}: report"
                    f" {item.report_action or '—'}, file {item.file_action or '—'}"
                )
            )
    for listing in result.corrections:
        click.echo()
        click.echo(printable(f"corrections {listing.file}: {listing.note}"))
        click.echo("\n".join(printable(f"  {row}") for row in listing.rows))


@cli.command()
@click.argument("old", required=False)
@click.argument("new", required=False)
@click.option("--year", type=int, help="The annual report of a year's releases.")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "csv", "json"]), default="md")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="File to write.")
@click.option(
    "--templates",
    type=click.Path(path_type=Path),
    help="A folder of templates that override the bundled ones by name.",
)
@click.option(
    "--watchlist",
    type=click.Path(path_type=Path),
    help='Your codes (one a line, or a CSV with --column): a "Your codes" section first.',
)
@click.option("--column", help="For a CSV watchlist: the column holding the codes (header name).")
@click.pass_context
def report(
    ctx: click.Context,
    old: str | None,
    new: str | None,
    year: int | None,
    fmt: str,
    output: Path | None,
    templates: Path | None,
    watchlist: Path | None,
    column: str | None,
) -> None:
    """The "what changed" report from OLD to NEW (or --year) as Markdown, HTML, CSV or JSON."""
    if year is not None:
        if old or new:
            raise TrackerError("give either two releases or --year, not both")
    elif not (old and new):
        raise TrackerError("give two releases (tracker report 2020-JAN 2020-APR) or --year 2020")
    store = _store(ctx)

    def build() -> str:
        if year is not None:
            return api.report_year(
                store, year, fmt, templates=templates, watchlist=watchlist, column=column
            )
        assert old is not None and new is not None
        return api.report(
            store, old, new, fmt, templates=templates, watchlist=watchlist, column=column
        )

    if output is None:
        click.echo(build(), nl=False)
        return
    from tracker.outputfile import open_output, sqlite_file

    # Opened (checked, its temporary file made) before the report is built: a refused or
    # unwritable output fails at once, and an interrupted run leaves the old file as it was.
    with open_output(
        output,
        database=sqlite_file(store.engine.url),
        inputs=[watchlist] if watchlist is not None else [],
        input_folders=[templates] if templates is not None else [],
        newline="",
    ) as stream:
        text = build()
        stream.write(text)
    console.print(printable(f"wrote {output} ({len(text.encode('utf-8'))} bytes)"))


@cli.command()
@click.argument("code")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.pass_context
def history(ctx: click.Context, code: str, fmt: str) -> None:
    """Every release in which CODE first appears, changes, ends, is purged or comes back."""
    store = _store(ctx)
    events = api.history(store, code)
    intervals = api.validity(store, code)
    if fmt == "json":
        from tracker.jsonout import dump_json, history_json

        click.echo(dump_json(history_json(code.strip().upper(), intervals, events)), nl=False)
        return
    _print_columns(
        ("release", "effective", "event", "field", "old", "new", "flags"), _event_rows(events)
    )
    for interval in intervals:
        click.echo(printable(f"valid {interval.text()}"))


def _event_rows(events: list[api.HistoryEvent]) -> list[list[str]]:
    rows: list[list[str]] = []
    for event in events:
        head = [event.release.display, event.release.effective_date.isoformat(), event.kind.value]
        flags = ",".join(sorted(f.value for f in event.change.flags)) if event.change else ""
        fields = event.change.fields if event.change else ()
        if not fields:
            description = event.record.long_description if event.record else ""
            rows.append([*head, "", "", _short(description), flags])
            continue
        for index, field_change in enumerate(fields):
            rows.append(
                [
                    *(head if index == 0 else ["", "", ""]),
                    field_change.field,
                    _short(field_change.old),
                    _short(field_change.new),
                    flags if index == 0 else "",
                ]
            )
    return rows


@cli.command()
@click.option("--no-reparse", is_flag=True, help="Only re-hash; skip re-parsing each source.")
@click.pass_context
def verify(ctx: click.Context, no_reparse: bool) -> None:
    """Re-hash every stored source and snapshot and report any mismatch."""
    report = api.verify(_store(ctx), reparse=not no_reparse)
    for repair in report.repairs:
        console.print(f"repaired {repair}", markup=False)
    for problem in report.problems:
        err_console.print(f"MISMATCH {problem}", markup=False)
    summary = (
        f"{report.releases_checked} releases, {report.record_versions_checked} record versions"
    )
    if report.repairs:
        summary += f" (repairs of CMS's files on record: {len(report.repairs)})"
    if report.ok:
        console.print(f"ok: {summary} verified")
        return
    raise TrackerError(f"{len(report.problems)} problems found in {summary}")


@cli.command()
@click.argument("release")
@click.option("--reason", required=True, help="Why the release is wrong (kept with it).")
@click.pass_context
def retract(ctx: click.Context, release: str, reason: str) -> None:
    """Mark a release as wrong; it stays stored but leaves default listings and queries."""
    info = api.retract(_store(ctx), release, reason)
    console.print(printable(f"retracted {info.display}: {info.retraction_reason}"))


@cli.command()
@click.argument("release")
@click.option("--reason", required=True, help="Why the retraction is undone (kept with it).")
@click.pass_context
def reinstate(ctx: click.Context, release: str, reason: str) -> None:
    """Undo a retraction: the release counts again; both events stay on record."""
    info = api.reinstate(_store(ctx), release, reason)
    console.print(printable(f"reinstated {info.display}: {info.last_event_reason}"))


@cli.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Create or migrate the database schema to the newest version."""
    store = api.open_store(ctx.find_root().obj["db"], migrate=False)
    ctx.call_on_close(store.close)
    before, after = api.upgrade_db(store)
    console.print(printable(f"{store.url}: schema at revision {after} (was {before or 'empty'})"))


def main() -> None:
    cli(prog_name="tracker")


if __name__ == "__main__":
    main()
