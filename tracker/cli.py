"""The `tracker` command: each subcommand opens the store and calls one `tracker.api` function.

Every `TrackerError` becomes `Error: <message>` on stderr and exit code 1; anything else is a
bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from tracker import __version__, api
from tracker.errors import TrackerError
from tracker.store import Store

# Piped output keeps whole lines (no wrapping to a guessed terminal width).
console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True, highlight=False)


class TrackerGroup(click.Group):
    """Turns the project's errors into one-line messages."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TrackerError as exc:
            raise click.ClickException(str(exc)) from None


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
    with err_console.status(label) as status:
        yield lambda stage: status.update(f"{label}: {stage}")


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
    """Store CMS release files (text, workbook, zip, or a directory of code pages)."""
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
        console.print(result.message)


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
    for column in ("release", "issue", "effective", "kind", "codes", "content", "source"):
        table.add_column(column, justify="right" if column in ("issue", "codes") else "left")
    if include_retracted:
        table.add_column("retracted")
    for info in infos:
        row = [
            info.label,
            str(info.issue),
            info.effective_date.isoformat(),
            info.kind.value,
            str(info.record_count),
            info.content_sha256[:12],
            info.source_name,
        ]
        if include_retracted:
            row.append(info.retraction_reason or "")
        table.add_row(*row)
    console.print(table)


@cli.command()
@click.argument("code")
@click.option("--release", "release", help="Release label (default: the latest).")
@click.pass_context
def show(ctx: click.Context, code: str, release: str | None) -> None:
    """Show one code's record with its values decoded, as of a release."""
    from tracker.codepage import render_code_page

    info, record = api.show(_store(ctx), code, release=release)
    click.echo(render_code_page(info, record), nl=False)


@cli.command()
@click.option("--no-reparse", is_flag=True, help="Only re-hash; skip re-parsing each source.")
@click.pass_context
def verify(ctx: click.Context, no_reparse: bool) -> None:
    """Re-hash every stored source and snapshot and report any mismatch."""
    report = api.verify(_store(ctx), reparse=not no_reparse)
    for problem in report.problems:
        err_console.print(f"MISMATCH {problem}", markup=False)
    summary = (
        f"{report.releases_checked} releases, {report.record_versions_checked} record versions"
    )
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
    console.print(f"retracted {info.display}: {info.retraction_reason}")


@cli.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Create or migrate the database schema to the newest version."""
    store = Store.open(ctx.find_root().obj["db"], migrate=False)
    ctx.call_on_close(store.close)
    before, after = api.upgrade_db(store)
    console.print(f"{store.url}: schema at revision {after} (was {before or 'empty'})")


def main() -> None:
    cli(prog_name="tracker")


if __name__ == "__main__":
    main()
