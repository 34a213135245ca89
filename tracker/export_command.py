"""`tracker export intervals`: the validity-interval table, for claims validated elsewhere.

A click group of its own, registered lazily by the CLI (pyarrow is imported only for Parquet).
It takes the store the way every `tracker` command does (the group's `--db` in
`ctx.obj["db"]`, the opened store cached in `ctx.obj["store"]`) and turns the project's errors
into one `Error: …` line itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from tracker import api
from tracker.codesets import DEFAULT_CODE_SET, code_set_names
from tracker.errors import TrackerError
from tracker.export import FILE_SUFFIXES, FORMATS, export_intervals, store_intervals
from tracker.store import Store

DATABASE = "database"


def _store(ctx: click.Context) -> Store:
    """The store named by the group's `--db`, opened once per command line."""
    obj: dict[str, Any] = ctx.ensure_object(dict)
    store: Store | None = obj.get("store")
    if store is None:
        store = api.open_store(obj.get("db"))
        obj["store"] = store
        ctx.call_on_close(store.close)
    return store


@click.group("export")
def export_group() -> None:
    """Write what the tracker knows in forms other tools read."""


@export_group.command("intervals")
@click.option(
    "--code-set",
    type=click.Choice(code_set_names(), case_sensitive=False),
    default=DEFAULT_CODE_SET,
    show_default=True,
)
@click.option("--known-at", help="As known at this release (default: the latest).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice([*FORMATS, DATABASE]),
    help="csv, parquet (needs pyarrow), or database: the store's own table behind the view"
    " tracker_code_validity (default: from the -o suffix, .parquet or else csv).",
)
@click.option("-o", "--output", type=click.Path(path_type=str), help="File to write.")
@click.pass_context
def intervals(
    ctx: click.Context,
    code_set: str,
    known_at: str | None,
    fmt: str | None,
    output: str | None,
) -> None:
    """The validity-interval table a claims table joins against.

    One row per code and stretch of days with one answer (code, valid_from, valid_to, status,
    meaning, termination_date, replacements, release): joining a claim on its code and
    `dos BETWEEN valid_from AND valid_to` gives what `tracker validate` says of it; a code
    with no row is unknown.
    """
    try:
        if fmt == DATABASE:
            if output is not None or known_at is not None:
                raise TrackerError(
                    "--format database writes the store's own table (as known at the latest"
                    " release): -o and --known-at do not apply"
                )
            stored = store_intervals(_store(ctx), code_set=code_set)
            state = "wrote generation" if stored.written else "already current: generation"
            click.echo(
                f"tracker_code_validity: {state} {stored.generation} ({stored.code_set},"
                f" as known at {stored.known_at}, {stored.rows:,} rows)"
            )
            return
        if output is None:
            raise TrackerError("-o FILE is required for --format csv or parquet")
        chosen = fmt or FILE_SUFFIXES.get(Path(output).suffix.lower(), "csv")
        summary = export_intervals(
            _store(ctx),
            output,
            "parquet" if chosen == "parquet" else "csv",
            known_at=known_at,
            code_set=code_set,
        )
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"{summary.target}: {summary.rows:,} intervals of {summary.codes:,} codes"
        f" ({summary.code_set}, as known at {summary.known_at}, {summary.fmt})"
    )
