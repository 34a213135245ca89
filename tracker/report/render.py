"""Rendering: the project's one Jinja environment, and the reports built on it.

Templates live in the top-level `templates/` folder (shipped inside the package); a user folder
given with `--templates` is searched first, so any template can be overridden by name. HTML
templates are autoescaped; undefined variables are errors, so a template typo fails loudly
instead of printing blanks.

Every report format comes from the same diff: Markdown and HTML through templates fed by the
views of `tracker.report.build`, `.year` and `.codepage`; CSV rows from `tracker.report.rows`,
written by `tracker.csvout` (a spreadsheet is where a formula in a cell would run, so those
cells are neutralized); JSON from `tracker.jsonout`. Any store lookup happens while building,
never while rendering. Nothing here reads a clock, so the same releases always render to the
same bytes.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    select_autoescape,
)
from jinja2.sandbox import SandboxedEnvironment

from tracker.codesets import get_code_set
from tracker.codesets.hcpcs.codepage import field_rows
from tracker.codesets.hcpcs.transreport import DISAGREEMENT_TITLES
from tracker.csvout import write_csv
from tracker.errors import TrackerError, printable
from tracker.impact import impact_context
from tracker.jsonout import diff_json, dump_json, year_json
from tracker.report.build import build_report
from tracker.report.codepage import build_code_page, code_status
from tracker.report.rows import CSV_COLUMNS, diff_csv_rows, with_watchlist, year_csv_rows
from tracker.report.year import build_year
from tracker.resources import resource_dir

if TYPE_CHECKING:
    from tracker.codesets.hcpcs.record import Record
    from tracker.diff import ReleaseDiff, YearDiff
    from tracker.impact import ImpactReport
    from tracker.release import ReleaseInfo, Snapshot

FORMATS: tuple[str, ...] = ("md", "html", "csv", "json")
CODE_FORMATS: tuple[str, ...] = ("txt", "md", "html")


class TemplateProblem(TrackerError):
    """A template is missing or broken: named with its file and line."""


class ReportFormatError(TrackerError):
    """A report format that does not exist."""


# Characters Markdown would read as markup in running text or a table cell.
# An underscore inside a word (`long_description`, a file name) is not emphasis in CommonMark.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*\[\]<>|]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")


def markdown_escape(value: Any) -> str:
    """Text safe in a Markdown paragraph or table cell: CMS descriptions contain `|` and `<`.

    Newlines would end a table row, so they become spaces (descriptions are one line anyway).
    """
    text = " ".join(str(value).splitlines())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def environment(user_templates: Path | None = None) -> Environment:
    """The bundled templates, or a user folder searched first.

    A user folder renders in Jinja's sandbox: a shared template can format the report but
    cannot reach Python internals (`''.__class__.__mro__`, a function's globals).
    """
    loaders = []
    if user_templates is not None:
        if not user_templates.is_dir():
            raise TemplateProblem(f"{user_templates}: template folder does not exist")
        loaders.append(FileSystemLoader(str(user_templates)))
    loaders.append(FileSystemLoader(str(resource_dir("templates"))))
    kind = Environment if user_templates is None else SandboxedEnvironment
    env = kind(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["md"] = markdown_escape
    env.globals["disagreement_titles"] = DISAGREEMENT_TITLES
    return env


def _template_line(exc: BaseException) -> tuple[str, int] | None:
    """The innermost template frame of an error raised while rendering.

    Jinja rewrites the traceback of a render error so that template frames carry the template's
    file name and line; the innermost one is where the problem is (a macro file, an include).
    """
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith(".j2") and frame.lineno is not None:
            return frame.filename, frame.lineno
    return None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def render(name: str, context: Mapping[str, Any], *, user_templates: Path | None = None) -> str:
    env = environment(user_templates)
    try:
        return env.get_template(name).render(**context)
    except TemplateSyntaxError as exc:
        where = exc.filename or exc.name or name
        raise TemplateProblem(f"{where}:{exc.lineno}: {_one_line(exc.message or '')}") from None
    except TemplateNotFound as exc:
        raise TemplateProblem(f"{name}: template {exc.name!r} not found") from None
    except TemplateError as exc:
        located = _template_line(exc)
        where = f"{located[0]}:{located[1]}" if located else name
        raise TemplateProblem(f"{where}: {_one_line(str(exc))}") from None
    except Exception as exc:
        # A template can also fail in Python (`{{ 1/0 }}`, a filter on the wrong type, a macro
        # calling itself forever): still one line, at the template line that failed.
        located = _template_line(exc)
        where = f"{located[0]}:{located[1]}" if located else name
        detail = _one_line(str(exc))
        raise TemplateProblem(
            f"{where}: {type(exc).__name__}" + (f": {detail}" if detail else "")
        ) from None


# ---------------------------------------------------------------------------------------------
# Reports


def _check_format(fmt: str, formats: tuple[str, ...] = FORMATS) -> str:
    if fmt not in formats:
        raise ReportFormatError(f"report format {fmt!r} is not one of {', '.join(formats)}")
    return fmt


_BLANK_RUNS = re.compile(r"\n{3,}")


def _tidy(fmt: str, text: str) -> str:
    """Markdown with at most one blank line in a row, ending in exactly one newline.

    Sections that come out empty leave runs of blank lines that are harmless to a renderer but
    noise in a committed report's diff; fixing it here keeps the templates readable.
    """
    if fmt != "md":
        return text
    return _BLANK_RUNS.sub("\n\n", text).strip("\n") + "\n"


def _watchlist_context(watchlist: ImpactReport | None) -> dict[str, Any]:
    """What the templates' "Your codes" section reads: `impact` is None without a watchlist,
    and the section is then left out."""
    if watchlist is None:
        return {"impact": None, "impact_rows": []}
    return impact_context(watchlist)


def _watchlist_json(data: dict[str, Any], watchlist: ImpactReport | None) -> dict[str, Any]:
    """The report's JSON with the "Your codes" section under `watchlist` (the JSON of
    `tracker impact`, schema `impact.schema.json`); unchanged without a watchlist."""
    return data if watchlist is None else {**data, "watchlist": watchlist.to_dict()}


def render_diff(
    diff: ReleaseDiff,
    fmt: str,
    *,
    new_snapshot: Snapshot | None = None,
    user_templates: Path | None = None,
    watchlist: ImpactReport | None = None,
) -> str:
    """The report of one release pair in `fmt` (md, html, csv, json).

    `new_snapshot` is release `diff.new`: with it, discontinued codes' replacements (XREF) show
    their descriptions even when the replacement code itself did not change. `watchlist` (the
    impact of `diff` on a list of codes) adds a "Your codes" section first, in every format.
    """
    _check_format(fmt)
    if fmt == "json":
        return dump_json(_watchlist_json(diff_json(diff), watchlist))
    if fmt == "csv":
        rows = diff_csv_rows(diff, new_snapshot=new_snapshot)
        if watchlist is None:
            return write_csv(CSV_COLUMNS, rows)
        return write_csv(*with_watchlist(CSV_COLUMNS, rows, watchlist))
    view = build_report(diff, new_snapshot=new_snapshot)
    context = {"report": view, **_watchlist_context(watchlist)}
    # A code set without end dates (ICD-10) has its own sections: deleted codes, billable <->
    # header, titles, the addenda.
    name = "report" if get_code_set(diff.code_set).has_end_dates else "report_icd10"
    return _tidy(fmt, render(f"{name}.{fmt}.j2", context, user_templates=user_templates))


def render_year(
    year: YearDiff,
    fmt: str,
    *,
    last_snapshot: Snapshot | None = None,
    user_templates: Path | None = None,
    watchlist: ImpactReport | None = None,
) -> str:
    """The annual report in `fmt`: first vs last release, each quarter, codes born and retired.

    `last_snapshot` is the year's last release, used as `new_snapshot` is in `render_diff`;
    `watchlist` is the impact of the year's first-vs-last diff on a list of codes.
    """
    _check_format(fmt)
    if fmt == "json":
        return dump_json(_watchlist_json(year_json(year), watchlist))
    if fmt == "csv":
        columns = ("scope", *CSV_COLUMNS)
        rows = year_csv_rows(year, last_snapshot=last_snapshot)
        if watchlist is None:
            return write_csv(columns, rows)
        # "Your codes" compares the year's first and last release: the scope of the year rows.
        return write_csv(*with_watchlist(columns, rows, watchlist, lead=("year",)))
    view = build_year(year, last_snapshot=last_snapshot)
    context = {"year": view, **_watchlist_context(watchlist)}
    # A code set without end dates (ICD-10) has its own year: the fiscal year, its updates.
    name = "year" if get_code_set(year.overall.code_set).has_end_dates else "year_icd10"
    return _tidy(fmt, render(f"{name}.{fmt}.j2", context, user_templates=user_templates))


def render_code_page(
    release: ReleaseInfo,
    record: Record,
    *,
    status: str | None = None,
    notes: Sequence[str] = (),
) -> str:
    """The plain-text page `tracker show` prints (template `code.txt.j2`): `status` replaces
    the one read off the record (a code no longer in the release asked about), `notes` are
    lines under the heading (validity intervals, replacements)."""
    rows = list(field_rows(record))
    if status is None:
        status = code_status(record)
    context = {
        "release": release,
        "record": record,
        "status": status,
        "notes": list(notes),
        "rows": rows,
        "width": max((len(label) for label, _, _ in rows), default=0),
    }
    page = render("code.txt.j2", context)
    # The page goes to a terminal or a pipe. Raw escape sequences would act on the terminal
    # (and click strips them when piped, so neither way shows the stored text); bidi overrides
    # would reorder what is read. Such characters are shown as escapes; the store keeps them.
    return "\n".join(printable(line) for line in page.split("\n"))


def render_code(
    info: ReleaseInfo,
    record: Record,
    fmt: str = "md",
    *,
    user_templates: Path | None = None,
) -> str:
    """A code's page (txt, md or html), every field labelled and decoded as CMS's pages do."""
    _check_format(fmt, CODE_FORMATS)
    if fmt == "txt":
        return render_code_page(info, record)
    view = build_code_page(info, record)
    return render(f"code.{fmt}.j2", {"page": view}, user_templates=user_templates)
