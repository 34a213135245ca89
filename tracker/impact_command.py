"""`tracker impact CODES`: what a release change means for a list of codes.

A click command of its own, so the CLI group registers it with one line. It takes the store
the way every `tracker` command does (the group's `--db` in `ctx.obj["db"]`, the opened store
cached in `ctx.obj["store"]`), and turns the project's errors into one `Error: …` line itself,
so it behaves the same under any group. File content (descriptions, codes) is printed as
plain text: nothing in it is read as console markup.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from rich.console import Console

from tracker import api
from tracker.codelist import read_codes
from tracker.codesets import code_set_names
from tracker.csvout import write_csv
from tracker.errors import TrackerError
from tracker.impact import ROW_HEADER, ImpactReport, impact, impact_rows, rows_as_lists
from tracker.store import Store

EXIT_CHANGED = 2
"""Exit status of `--fail-on-change` when a listed code changed (1 stays for errors)."""


def _store(ctx: click.Context) -> Store:
    """The store named by the group's `--db`, opened once per command line."""
    obj: dict[str, Any] = ctx.ensure_object(dict)
    store: Store | None = obj.get("store")
    if store is None:
        store = api.open_store(obj.get("db"))
        obj["store"] = store
        ctx.call_on_close(store.close)
    return store


@click.command("impact")
@click.argument("codes", type=click.Path(path_type=str))
@click.option("--column", help="For a CSV code list: the column holding the codes (header name).")
@click.option("--from", "from_release", help="Earlier release (default: the one before --to).")
@click.option("--to", "to_release", help="Later release (default: the latest).")
@click.option(
    "--code-set",
    "code_set",
    type=click.Choice(code_set_names(), case_sensitive=False),
    help="Code set, when the labels or codes given do not tell (several stored).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
)
@click.option(
    "--fail-on-change",
    is_flag=True,
    help=f"Exit {EXIT_CHANGED} when a listed code changed, was terminated, removed or reused.",
)
@click.pass_context
def impact_command(
    ctx: click.Context,
    codes: str,
    column: str | None,
    from_release: str | None,
    to_release: str | None,
    code_set: str | None,
    fmt: str,
    fail_on_change: bool,
) -> None:
    """What changed for the codes listed in CODES between two releases.

    CODES is a text file with one code a line (# comments, blank lines ignored) or a CSV
    with a header row (--column NAME). Each code is reported as unchanged, changed, reused,
    added, terminated, reactivated, removed (ICD-10: deleted), not yet effective, absent or
    unknown, with what replaces it when it is no longer valid. ICD-10-CM codes may be listed
    with or without the dot.
    """
    try:
        listed = read_codes(codes, column=column)
        report = impact(
            _store(ctx),
            listed,
            from_release=from_release,
            to_release=to_release,
            code_set=code_set.lower() if code_set else None,
        )
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from None
    if fmt == "json":
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    elif fmt == "csv":
        sys.stdout.write(write_csv(ROW_HEADER, rows_as_lists(impact_rows(report))))
    else:
        _print_table(report)
    if fail_on_change and report.changed:
        ctx.exit(EXIT_CHANGED)


def _print_table(report: ImpactReport) -> None:
    console = Console(
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=True,
        width=None if sys.stdout.isatty() else 200,
    )
    console.print(
        f"{report.old.display} → {report.new.display}"
        f" (statuses on {report.on.isoformat()}): {report.summary()}"
    )
    rows = rows_as_lists(impact_rows(report))
    headers = [name.upper() for name in ROW_HEADER[:4]] + ["DETAILS; REPLACEMENTS", ""]
    shown = [[row[0], row[1], row[2], _short(row[3], 50), row[4], row[5]] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in shown)) for i, h in enumerate(headers[:4])]
    for cells in [headers, *shown]:
        fixed = "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=False))
        tail = "; ".join(cell for cell in cells[4:] if cell)
        console.print(f"{fixed}  {tail}".rstrip())
    for duplicate in report.duplicates:
        lines = ", ".join(str(n) for n in duplicate.repeated_on)
        console.print(
            f"note: {duplicate.code} is listed again on line {lines} (kept from line"
            f" {duplicate.line})"
        )


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
