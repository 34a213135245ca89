"""The `tracker` command: each subcommand opens the store and calls one `tracker.api` function.

What it prints is laid out by `tracker.terminal` (tables, listings, lines) or, for JSON, by
`tracker.jsonout`; the command only picks the stream.

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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console

from tracker import __version__
from tracker.codesets import code_set_names
from tracker.diff import Category
from tracker.errors import TrackerError, printable


class _LazyModule:
    """Imports a module on first use: `tracker --help` should not pay for the database stack."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)


if TYPE_CHECKING:
    from tracker import api, terminal
    from tracker.store import Store
else:
    api = _LazyModule("tracker.api")
    terminal = _LazyModule("tracker.terminal")

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
    "export": ("tracker.export_command", "export_group"),
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


def code_set_option(command: Any) -> Any:
    """`--code-set NAME`, needed only where the labels and codes given do not tell (a label
    such as FY2024 stored for both ICD-10 code sets, or no label and no code at all)."""
    return click.option(
        "--code-set",
        "code_set",
        type=click.Choice(code_set_names(), case_sensitive=False),
        help="Code set, when the labels or codes given do not tell (several stored).",
    )(command)


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
@code_set_option
@click.pass_context
def ingest(
    ctx: click.Context,
    paths: tuple[str, ...],
    release: str | None,
    effective: str | None,
    reissue: bool,
    kind: str | None,
    code_set: str | None,
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
                code_set=code_set,
            )
        console.print(printable(result.message))


@cli.command("releases")
@click.option("--all", "include_retracted", is_flag=True, help="Include retracted releases.")
@code_set_option
@click.pass_context
def list_releases(ctx: click.Context, include_retracted: bool, code_set: str | None) -> None:
    """List stored releases in time order (of each code set stored, or of --code-set)."""
    listed = api.release_listing(
        _store(ctx), include_retracted=include_retracted, code_set=code_set
    )
    if not listed:
        console.print(terminal.NO_RELEASES)
        return
    _show(terminal.release_tables(listed, with_state=include_retracted))


@cli.command()
@click.argument("code")
@click.option("--release", "release", help="Release label (default: the latest).")
@click.option("--as-of", "as_of", help="Date of service: status and meaning on that date.")
@click.option("--known-at", help="Answer as known at this release (default: the latest).")
@code_set_option
@click.pass_context
def show(
    ctx: click.Context,
    code: str,
    release: str | None,
    as_of: str | None,
    known_at: str | None,
    code_set: str | None,
) -> None:
    """Show one code's record with its values decoded, or its state on a date (--as-of)."""
    if as_of is None:
        if known_at is not None:
            raise TrackerError("--known-at goes with --as-of; use --release to pick a release")
        click.echo(api.code_page(_store(ctx), code, release=release, code_set=code_set), nl=False)
        return
    if release is not None:
        raise TrackerError("--release and --as-of do not combine; use --known-at with --as-of")
    store = _store(ctx)
    state = api.code_state(store, code, as_of, known_at=known_at, code_set=code_set)
    chain = (
        api.replacement_chain(
            store, code, as_of, known_at=known_at, code_set=state.known_at.code_set
        )
        if state.replacements
        else None
    )
    click.echo(terminal.code_state_text(state, chain), nl=False)


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
@click.option(
    "--billable-only", is_flag=True, help="Only codes valid on claims (no ICD-10 headers)."
)
@code_set_option
@click.pass_context
def codes(
    ctx: click.Context,
    as_of: str,
    prefix: str,
    status: str,
    known_at: str | None,
    fmt: str,
    billable_only: bool,
    code_set: str | None,
) -> None:
    """The code set as it stood on a date."""
    states = api.codes_as_of(
        _store(ctx),
        as_of,
        prefix=prefix,
        status=status,
        known_at=known_at,
        code_set=code_set,
        billable_only=billable_only,
    )
    if fmt == "csv":
        click.echo(terminal.code_listing_csv(states), nl=False)
        return
    _show(terminal.code_listing(states, status=status, on=as_of))


@cli.command()
@click.argument("claims", type=click.Path(path_type=str))
@click.option(
    "--code-column",
    "code_columns",
    multiple=True,
    default=["hcpcs"],
    show_default=True,
    help="Column holding a code; repeat for several (--code-column dx1 --code-column dx2).",
)
@click.option("--date-column", default="dos", show_default=True)
@click.option("--known-at", help="Validate as known at this release (default: the latest).")
@click.option("-o", "--output", type=click.Path(path_type=str), help="Annotated CSV to write.")
@click.option("--fail-on-invalid", is_flag=True, help="Exit 2 when any row is not active.")
@click.option(
    "--encoding",
    help="Encoding of the claims file (default: UTF-8 if it decodes, else Windows-1252/Latin-1);"
    " the output is written in the same.",
)
@code_set_option
@click.pass_context
def validate(
    ctx: click.Context,
    claims: str,
    code_columns: tuple[str, ...],
    date_column: str,
    known_at: str | None,
    output: str | None,
    fail_on_invalid: bool,
    encoding: str | None,
    code_set: str | None,
) -> None:
    """Check each claim's code on its date of service (streams files of any size)."""
    summary = api.validate(
        _store(ctx),
        claims,
        output,
        code_column=code_columns,
        date_column=date_column,
        known_at=known_at,
        encoding=encoding,
        code_set=code_set,
    )
    out, err = terminal.validation_summary(summary, claims=claims, output=output)
    _show(out)
    _show(err, to=err_console)
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
@code_set_option
@click.pass_context
def diff_command(
    ctx: click.Context,
    old: str | None,
    new: str | None,
    year: int | None,
    fmt: str,
    categories: tuple[str, ...],
    code_prefix: str,
    code_set: str | None,
) -> None:
    """What changed between releases OLD and NEW (labels like 2020-APR, 2017, 2020-APR#2)."""
    wanted = [Category(name) for name in categories]
    if year is not None:
        if old or new:
            raise TrackerError("give either two releases or --year, not both")
        changes = api.year_changes(
            _store(ctx), year, categories=wanted, prefix=code_prefix, code_set=code_set
        )
        if fmt == "json":
            from tracker.jsonout import dump_json, year_json

            click.echo(dump_json(year_json(changes.selected)), nl=False)
            return
        _show(terminal.year_blocks(year, changes.year, changes.selected.overall))
        return
    if not old or not new:
        raise TrackerError("give two releases (tracker diff 2020-JAN 2020-APR) or --year 2020")
    result = api.diff(
        _store(ctx), old, new, categories=wanted, prefix=code_prefix, code_set=code_set
    )
    if fmt == "json":
        from tracker.jsonout import diff_json, dump_json

        click.echo(dump_json(diff_json(result)), nl=False)
        return
    _show(terminal.diff_blocks(result))


def _show(blocks: Sequence[terminal.Block], *, to: Console | None = None) -> None:
    """Print what `tracker.terminal` laid out: a string as whole lines, as it is; a table or
    text through the console (standard output, or `to`)."""
    for block in blocks:
        if isinstance(block, str):
            click.echo(block, err=to is err_console)
        else:
            (to or console).print(block)


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
@code_set_option
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
    code_set: str | None,
) -> None:
    """The "what changed" report from OLD to NEW (or --year) as Markdown, HTML, CSV or JSON."""
    if year is not None:
        if old or new:
            raise TrackerError("give either two releases or --year, not both")
    elif not (old and new):
        raise TrackerError("give two releases (tracker report 2020-JAN 2020-APR) or --year 2020")
    store = _store(ctx)
    request = api.ReportRequest(
        old=old,
        new=new,
        year=year,
        fmt=fmt,
        templates=templates,
        watchlist=watchlist,
        column=column,
        code_set=code_set,
    )
    if output is None:
        click.echo(api.report_document(store, request), nl=False)
        return
    written = api.write_report(store, output, request)
    console.print(printable(f"wrote {output} ({written} bytes)"))


@cli.command()
@click.argument("code")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@code_set_option
@click.pass_context
def history(ctx: click.Context, code: str, fmt: str, code_set: str | None) -> None:
    """Every release in which CODE first appears, changes, ends, is purged or comes back."""
    found = api.history_and_validity(_store(ctx), code, code_set=code_set)
    if fmt == "json":
        from tracker.jsonout import dump_json, history_json

        document = history_json(found.code, found.intervals, found.events, found.replaced_by)
        click.echo(dump_json(document), nl=False)
        return
    _show(terminal.history_lines(found.events, found.intervals, found.replaced_by))


@cli.command()
@click.option("--no-reparse", is_flag=True, help="Only re-hash; skip re-parsing each source.")
@code_set_option
@click.pass_context
def verify(ctx: click.Context, no_reparse: bool, code_set: str | None) -> None:
    """Re-hash every stored source and snapshot (of every code set, or of --code-set) and
    report any mismatch."""
    report = api.verify(_store(ctx), reparse=not no_reparse, code_set=code_set)
    out, err, summary = terminal.verify_lines(report)
    _show(out)
    _show(err, to=err_console)
    if not report.ok:
        raise TrackerError(summary)
    console.print(summary)


@cli.command()
@click.argument("release")
@click.option("--reason", required=True, help="Why the release is wrong (kept with it).")
@code_set_option
@click.pass_context
def retract(ctx: click.Context, release: str, reason: str, code_set: str | None) -> None:
    """Mark a release as wrong; it stays stored but leaves default listings and queries."""
    info = api.retract(_store(ctx), release, reason, code_set=code_set)
    console.print(printable(f"retracted {info.display}: {info.retraction_reason}"))


@cli.command()
@click.argument("release")
@click.option("--reason", required=True, help="Why the retraction is undone (kept with it).")
@code_set_option
@click.pass_context
def reinstate(ctx: click.Context, release: str, reason: str, code_set: str | None) -> None:
    """Undo a retraction: the release counts again; both events stay on record."""
    info = api.reinstate(_store(ctx), release, reason, code_set=code_set)
    console.print(printable(f"reinstated {info.display}: {info.last_event_reason}"))


@cli.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Create or migrate the database schema to the newest version."""
    done = api.upgrade_database(ctx.find_root().obj["db"])
    console.print(
        printable(f"{done.url}: schema at revision {done.after} (was {done.before or 'empty'})")
    )


def main() -> None:
    cli(prog_name="tracker")


if __name__ == "__main__":
    main()
