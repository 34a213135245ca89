"""The use cases, as plain functions over an open store.

The CLI is a thin shell over these; scripts and notebooks call them directly:

    from tracker import api
    store = api.open_store("sqlite:///tracker.db")
    result = api.ingest(store, "HCPC2020_APR_ANWEB.xlsx")
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from tracker import companions, crosswalk, query
from tracker.codeset_choice import choose_code_set
from tracker.codesets import DEFAULT_CODE_SET, detect_code_set, get_code_set
from tracker.codesets.base import CodeRecord
from tracker.codesets.hcpcs.corrections import CorrectionsListing
from tracker.codesets.hcpcs.transreport import ReportCheck
from tracker.comparison import diff_releases, with_replacements
from tracker.dates import parse_service_date
from tracker.diff import Category, ReleaseDiff, YearDiff, filter_diff
from tracker.diff import diff_year as year_diff
from tracker.diff.year import year_releases
from tracker.errors import ReleaseError, SourceError, TrackerError
from tracker.history import HistoryEvent, code_history
from tracker.query import CodeState, Status
from tracker.release import ReleaseInfo, ReleaseKind, parse_effective
from tracker.sources import read_source, resolve_label, source_version_marker
from tracker.store import Store, prepare
from tracker.validate import (
    ValidationSummary,
    claims_encoding,
    output_encoding,
    validate_claims,
)
from tracker.validity import Closure, ValidityInterval
from tracker.verify import VerifyReport, verify

if TYPE_CHECKING:
    from tracker.codelist import CodeList
    from tracker.impact import ImpactReport
    from tracker.replacements import ReplacementChain

__all__ = [
    "CodeHistory",
    "CodeState",
    "HistoryEvent",
    "IngestResult",
    "ListedRelease",
    "ReportRequest",
    "SchemaUpgrade",
    "Status",
    "ValidationSummary",
    "ValidityInterval",
    "VerifyReport",
    "YearChanges",
    "code_page",
    "code_state",
    "code_view",
    "codes_as_of",
    "current_releases",
    "diff",
    "diff_year",
    "history",
    "history_and_validity",
    "ingest",
    "open_store",
    "read_source",
    "reinstate",
    "release_listing",
    "releases",
    "report",
    "report_document",
    "report_year",
    "resolve",
    "retract",
    "show",
    "upgrade_database",
    "upgrade_db",
    "validate",
    "validity",
    "verify",
    "write_report",
    "year_changes",
]

Progress = Callable[[str], None]


def _no_progress(_stage: str) -> None:
    return None


@dataclass(frozen=True, slots=True)
class IngestResult:
    release: ReleaseInfo
    created: bool
    new_record_versions: int
    message: str


def ingest(
    store: Store,
    path: str | Path,
    *,
    release: str | None = None,
    effective: str | date | None = None,
    reissue: bool = False,
    kind: str | None = None,
    progress: Progress = _no_progress,
    code_set: str | None = None,
) -> IngestResult:
    """Parse a publisher's file, zip or directory of pages and store it as one immutable
    release of the code set it belongs to (detected from the content unless `code_set`)."""
    progress("reading")
    source = read_source(path)
    source_sha256 = hashlib.sha256(source.data).hexdigest()
    if crosswalk.loose_table_code_set(source) is not None:
        # CDC's loose conversion table: kept with its release, read back as replaced-by links.
        if effective or kind:
            raise ReleaseError(
                f"{source.name}: is a conversion table; --effective and --kind apply to release"
                " files"
            )
        kept = crosswalk.attach_table(store, source, source_sha256, release)
        return IngestResult(kept.release, kept.created, kept.new_record_versions, kept.message)
    companion = companions.companion_kind(source)
    if companion is not None:
        if effective or kind:
            what = (
                "a corrections file"
                if companion == companions.CORRECTIONS
                else "a transaction report"
            )
            raise ReleaseError(
                f"{source.name}: is {what}; --effective and --kind apply to release files"
            )
        kept = (
            companions.ingest_corrections(store, source, source_sha256, release)
            if companion == companions.CORRECTIONS
            else companions.ingest_report(store, source, source_sha256, release)
        )
        return IngestResult(kept.release, kept.created, kept.new_record_versions, kept.message)
    progress("parsing")
    # A file no code set recognises is refused by the default one's reader, which says what
    # it expected (and recognises an empty or UTF-16 file as such).
    named_set = get_code_set(code_set) if code_set is not None else None
    detected = detect_code_set(source)
    if named_set is not None and detected is not None and detected.name != named_set.name:
        raise ReleaseError(
            f"{source.name}: holds {detected.title} codes, not {named_set.title}"
            f" (--code-set {named_set.name})"
        )
    reader = named_set or detected or get_code_set(DEFAULT_CODE_SET)
    parsed = reader.parse(source)
    label = resolve_label(reader, source, parsed.data_member, release, parsed.label)
    # The content's own effective date (an errata's announced day) holds unless a label or a
    # date is given.
    named_effective = parsed.effective_date if not release else None
    if isinstance(effective, str):
        effective_date = parse_effective(effective, label)
    else:
        effective_date = effective or named_effective or label.effective_date
    try:
        release_kind = ReleaseKind(kind) if kind else ReleaseKind(label.kind)
    except ValueError:
        choices = ", ".join(k.value for k in ReleaseKind)
        raise ReleaseError(f"--kind {kind!r} is not one of {choices}") from None
    progress("hashing")
    prepared = prepare(
        parsed,
        label=label.label,
        effective_date=effective_date,
        kind=release_kind,
        source_name=source.name,
        source_bytes=source.data,
        source_sha256=source_sha256,
        version_marker=source_version_marker(source, parsed.data_member),
        attachments=companions.reports_inside(source, source_sha256, parsed.members),
        code_set=reader.name,
    )
    progress("storing")
    result = store.write(prepared, reissue=reissue)
    return IngestResult(
        release=result.release,
        created=result.created,
        new_record_versions=result.new_record_versions,
        message=result.message,
    )


def report_check(store: Store, info: ReleaseInfo) -> ReportCheck | None:
    """The release's transaction report against its data file (None: no report attached)."""
    return companions.report_check(store, info)


def corrections_listings(store: Store, info: ReleaseInfo) -> tuple[CorrectionsListing, ...]:
    """Corrections files kept with the release, each row with what became of it."""
    return companions.corrections_listings(store, info)


def open_store(url: str | None = None, *, migrate: bool = True) -> Store:
    """Open the database at `url` (or `TRACKER_DB`, or `sqlite:///tracker.db`), migrating it
    unless `migrate` is False (`upgrade_db` then migrates it and says from which revision)."""
    return Store.open(url, migrate=migrate)


def releases(
    store: Store, *, include_retracted: bool = False, code_set: str | None = None
) -> list[ReleaseInfo]:
    """Stored releases of `code_set` (of the only code set stored, when not given)."""
    chosen = choose_code_set(store, code_set)
    return store.releases(include_retracted=include_retracted, code_set=chosen)


def resolve(store: Store, release: str | None, *, code_set: str | None = None) -> ReleaseInfo:
    """A label to a stored release; None means the latest one."""
    chosen = choose_code_set(store, code_set, labels=[release])
    return store.resolve(release, chosen)


def show(
    store: Store, code: str, *, release: str | None = None, code_set: str | None = None
) -> tuple[ReleaseInfo, CodeRecord]:
    """A code's record in one release (default: the latest)."""
    chosen = choose_code_set(store, code_set, labels=[release], codes=[code])
    normalized = _normalized(chosen, code)
    info = store.resolve(release, chosen)
    record = store.record(info, normalized)
    if record is None:
        raise ReleaseError(f"code {normalized} is not in release {info.display}")
    return info, record


def code_view(
    store: Store, code: str, *, release: str | None = None, code_set: str | None = None
) -> query.CodeView:
    """A code's record in `release` (default: the latest) with its validity intervals; a code
    no longer in that release gives its last record before it (`view.current` is False)."""
    chosen = choose_code_set(store, code_set, labels=[release], codes=[code])
    return query.code_view(store, code, release, chosen)


def code_page(
    store: Store, code: str, *, release: str | None = None, code_set: str | None = None
) -> str:
    """The plain-text page `tracker show CODE` prints: the record at `release` (default: the
    latest) with its fields decoded, its validity intervals, and for a code no longer in that
    release, how it ended and its replacements (from the release it was last seen in)."""
    from tracker.report.render import render_code_page

    view = code_view(store, code, release=release, code_set=code_set)
    status = None
    notes = [interval.line() for interval in view.intervals]
    if not view.current:
        last = view.intervals[-1]
        ended = (
            f"terminated {last.end.isoformat()}"
            if last.closure is Closure.TERMINATED and last.end is not None
            else "removed"
            if get_code_set(view.release.code_set).has_end_dates
            else "deleted"
        )
        status = f"{ended}: last seen in {view.release.display}, not in {view.asked.display}"
        shown = get_code_set(view.release.code_set).display_code
        notes[:0] = [
            f"replaced by: {shown(item.code)}"
            + (f"  {item.description}" if item.description else "")
            for item in view.replacements
        ]
    if view.release.code_set != DEFAULT_CODE_SET:
        from tracker.terminal import record_page

        return record_page(view.release, view.record, status=status, notes=notes)
    return render_code_page(view.release, view.record, status=status, notes=notes)


def validity(
    store: Store, code: str, *, known_at: str | None = None, code_set: str | None = None
) -> tuple[ValidityInterval, ...]:
    """The days on which `code` is valid, as intervals, as known at `known_at`."""
    chosen = choose_code_set(store, code_set, labels=[known_at], codes=[code])
    return query.code_validity(store, code, known_at, chosen)


def retract(store: Store, release: str, reason: str, *, code_set: str | None = None) -> ReleaseInfo:
    """Mark a release as wrong (an appended event); it stays stored and can be reinstated."""
    return store.retract(release, reason, choose_code_set(store, code_set, labels=[release]))


def reinstate(
    store: Store, release: str, reason: str, *, code_set: str | None = None
) -> ReleaseInfo:
    """Undo a retraction (an appended event): the release counts again in default views."""
    return store.reinstate(release, reason, choose_code_set(store, code_set, labels=[release]))


def upgrade_db(store: Store) -> tuple[str | None, str | None]:
    return store.upgrade()


def current_releases(store: Store, code_set: str | None = None) -> list[ReleaseInfo]:
    """Stored releases that count by default: not retracted, the latest issue of each label."""
    return store.current_releases(choose_code_set(store, code_set))


def diff(
    store: Store,
    old: str,
    new: str,
    *,
    categories: Collection[Category] = (),
    prefix: str = "",
    code_set: str | None = None,
) -> ReleaseDiff:
    """Every change from release `old` to release `new`, reconciling what the publisher
    declared about `new` when `old` is the release the declaration counts from; with
    `categories` or `prefix`, only that part of it (`tracker.comparison`)."""
    return diff_releases(store, old, new, categories=categories, prefix=prefix, code_set=code_set)


def filter_year(
    year: YearDiff, *, categories: Collection[Category] = (), prefix: str = ""
) -> YearDiff:
    """The part of a year's diff about some codes (prefix) and some kinds of change
    (categories): the year as a whole and each quarter (as `filter_diff`), and the codes born
    and retired inside the year whose code starts with `prefix`."""
    start = prefix.strip().upper()
    return replace(
        year,
        overall=filter_diff(year.overall, categories=categories, prefix=start),
        steps=tuple(filter_diff(step, categories=categories, prefix=start) for step in year.steps),
        transient=tuple(item for item in year.transient if item.code.startswith(start)),
    )


def diff_year(store: Store, year: int, *, code_set: str | None = None) -> YearDiff:
    """The year's first release against its last, each step, codes born and retired inside
    the year (by the latest stored record of each), and the year's releases not stored; the
    year as the code set counts it (`CodeSet.year_span`: HCPCS's calendar year, ICD-10's
    fiscal year)."""
    chosen = choose_code_set(store, code_set)
    current = store.current_releases(chosen)
    selected = year_releases(chosen, year, current)
    result = year_diff(
        [store.snapshot(info) for info in selected.releases],
        stored={info.label for info in current},
        latest=store.snapshot(selected.later) if selected.later is not None else None,
        span=selected.span,
        opening_note=selected.opening_note,
        declared=lambda old, new: companions.declared_changes(store, old, new),
    )
    return replace(
        result,
        overall=with_replacements(store, result.overall),
        steps=tuple(with_replacements(store, step) for step in result.steps),
    )


def report(
    store: Store,
    old: str,
    new: str,
    fmt: str = "md",
    *,
    templates: str | Path | None = None,
    watchlist: str | Path | None = None,
    column: str | None = None,
    code_set: str | None = None,
) -> str:
    """The "what changed" report from `old` to `new` as Markdown, HTML, CSV or JSON.

    With `watchlist` (a code list file, as `tracker impact` reads it; `column` for a CSV), the
    report opens with a "Your codes" section: what the change means for each listed code.
    """
    from tracker.report.render import render_diff

    codes = _read_watchlist(watchlist, column)
    chosen = choose_code_set(store, code_set, labels=[old, new])
    if codes is not None:
        old_info, new_info = store.resolve(old, chosen), store.resolve(new, chosen)
        if old_info.effective_date > new_info.effective_date:
            raise ReleaseError(
                f"--watchlist: {old_info.display} is effective after {new_info.display}; the"
                ' "Your codes" section needs the earlier release first'
            )
    result = diff(store, old, new, code_set=chosen)
    return render_diff(
        result,
        fmt,
        new_snapshot=store.snapshot(result.new),
        user_templates=Path(templates) if templates else None,
        watchlist=_watchlist_impact(store, codes, result),
    )


def report_year(
    store: Store,
    year: int,
    fmt: str = "md",
    *,
    templates: str | Path | None = None,
    watchlist: str | Path | None = None,
    column: str | None = None,
    code_set: str | None = None,
) -> str:
    """The annual report: first vs last release, each quarter, codes born and retired.

    With `watchlist`, the report opens with a "Your codes" section comparing the year's first
    and last release, as `report` does for a pair.
    """
    from tracker.report.render import render_year

    codes = _read_watchlist(watchlist, column)
    result = diff_year(store, year, code_set=code_set)
    return render_year(
        result,
        fmt,
        last_snapshot=store.snapshot(result.releases[-1]),
        user_templates=Path(templates) if templates else None,
        watchlist=_watchlist_impact(store, codes, result.overall),
    )


def _read_watchlist(watchlist: str | Path | None, column: str | None) -> CodeList | None:
    """The report's code list, read before any diff so that a bad list fails at once."""
    if watchlist is None:
        if column is not None:
            raise TrackerError("--column names the column of a CSV --watchlist; give --watchlist")
        return None
    from tracker.codelist import read_codes

    return read_codes(watchlist, column=column)


def _watchlist_impact(
    store: Store, codes: CodeList | None, result: ReleaseDiff
) -> ImpactReport | None:
    """The "Your codes" section of a report on `result`, from the diff already computed."""
    if codes is None:
        return None
    from tracker.impact import impact

    return impact(
        store,
        codes,
        from_release=result.old.display,
        to_release=result.new.display,
        diff=result,
    )


def history(store: Store, code: str, *, code_set: str | None = None) -> list[HistoryEvent]:
    """Every release where the code first appears, changes, ends, is purged or comes back."""
    chosen = choose_code_set(store, code_set, codes=[code])
    normalized = _normalized(chosen, code)
    releases = store.current_releases(chosen)
    if not releases:
        raise ReleaseError("no releases are stored yet; run `tracker ingest FILE` first")
    events = code_history(store, normalized, releases)
    if not events:
        raise ReleaseError(f"code {normalized} is in none of the stored releases")
    return events


def _normalized(code_set: str, code: str) -> str:
    """A code as typed in its stored form (`e11.9` is E119 in ICD-10-CM); text that cannot be
    a code of the set is only trimmed and upper-cased, so the answer says it is unknown."""
    return get_code_set(code_set).normalize_code(code) or code.strip().upper()


def code_state(
    store: Store,
    code: str,
    on: str | date,
    *,
    known_at: str | None = None,
    code_set: str | None = None,
) -> CodeState:
    """Was `code` valid on `on`, and what did it mean then, as known at release `known_at`?"""
    chosen = choose_code_set(store, code_set, labels=[known_at], codes=[code])
    return query.code_state(store, code, _as_date(on), known_at, chosen)


def replacement_chain(
    store: Store,
    code: str,
    on: str | date,
    *,
    known_at: str | None = None,
    code_set: str = DEFAULT_CODE_SET,
) -> ReplacementChain:
    """Where `code`'s replacements lead on `on`: followed until codes valid then."""
    from tracker.replacements import replacement_chain as follow

    return follow(store, code, _as_date(on), known_at, code_set)


def codes_as_of(
    store: Store,
    on: str | date,
    *,
    prefix: str = "",
    status: str = "active",
    known_at: str | None = None,
    code_set: str | None = None,
    billable_only: bool = False,
) -> list[CodeState]:
    """The code set as it stood on a date: every code's state, filtered by status (and with
    `billable_only`, only codes that may be billed: no ICD-10 headers)."""
    return query.codes_as_of(
        store,
        _as_date(on),
        prefix=prefix,
        status=status,
        known_at=known_at,
        code_set=code_set,
        billable_only=billable_only,
    )


def validate(
    store: Store,
    claims: str | Path,
    output: str | Path | None = None,
    *,
    code_column: str | Sequence[str] = "hcpcs",
    date_column: str = "dos",
    known_at: str | None = None,
    encoding: str | None = None,
    code_set: str | None = None,
) -> ValidationSummary:
    """Check every claim row's code on its date of service, streaming the file.

    The file is read in `encoding` or the one it is found in (`claims_encoding`), and the
    annotated copy written in the same, so columns passed through keep their bytes.
    """
    from tracker.outputfile import check_output, open_output, sqlite_file

    source = Path(claims)
    database = sqlite_file(store.engine.url)
    if output is not None:
        # Refused before any work: the database, the claims file itself, a folder.
        check_output(output, inputs=[source], database=database)
    index = query.CodeIndex.load(
        store, known_at, choose_code_set(store, code_set, labels=[known_at])
    )
    try:
        found = claims_encoding(source, encoding)
        # A pipe is not scanned ahead, so a byte its encoding lacks cannot be ruled out.
        errors = "strict" if source.is_file() else "replace"
        with source.open(newline="", encoding=found, errors=errors) as rows_in:
            if output is None:
                return validate_claims(
                    index,
                    rows_in,
                    None,
                    code_column=code_column,
                    date_column=date_column,
                    source_name=source.name,
                )
            # Written beside the target and renamed over it only when the whole file is done.
            with open_output(
                output,
                inputs=[source],
                database=database,
                newline="",
                encoding=output_encoding(found),
                errors="replace",
            ) as rows_out:
                return validate_claims(
                    index,
                    rows_in,
                    rows_out,
                    code_column=code_column,
                    date_column=date_column,
                    source_name=source.name,
                )
    except FileNotFoundError as exc:
        raise SourceError(str(exc.filename or claims), "no such file or directory") from None
    except IsADirectoryError:
        raise SourceError(str(claims), "is a directory") from None
    except PermissionError as exc:
        raise SourceError(
            str(exc.filename or claims), "cannot open it (permission denied)"
        ) from None


def _as_date(value: str | date) -> date:
    if isinstance(value, date):
        return value
    try:
        return parse_service_date(value)
    except ValueError as exc:
        raise ReleaseError(f"--as-of {exc}") from None


# --- One function per command: what `tracker` shows, computed here, laid out by the CLI ---------


class ListedRelease(NamedTuple):
    """A stored release and, for a correction, the release it corrects."""

    info: ReleaseInfo
    corrects: ReleaseInfo | None


def release_listing(
    store: Store, *, include_retracted: bool = False, code_set: str | None = None
) -> list[ListedRelease]:
    """Stored releases in time order (retracted ones too with `include_retracted`), each with
    the release it corrects (which may itself be retracted); those of `code_set`, else of
    every code set stored, one code set after the other."""
    if code_set is not None:
        chosen = choose_code_set(store, code_set)
        infos = store.releases(include_retracted=include_retracted, code_set=chosen)
    else:
        infos = store.every_release(include_retracted=include_retracted)
    by_id = {info.id: info for info in store.every_release(include_retracted=True)}
    return [
        ListedRelease(info, by_id.get(info.base_release_id) if info.base_release_id else None)
        for info in infos
    ]


@dataclass(frozen=True, slots=True)
class YearChanges:
    """A year's diff as a whole (`year`) and the part of it selected (`selected`)."""

    year: YearDiff
    selected: YearDiff


def year_changes(
    store: Store,
    year: int,
    *,
    categories: Collection[Category] = (),
    prefix: str = "",
    code_set: str | None = None,
) -> YearChanges:
    """`diff_year`, and its part about some codes and kinds of change (`filter_year`)."""
    whole = diff_year(store, year, code_set=code_set)
    return YearChanges(whole, filter_year(whole, categories=categories, prefix=prefix))


@dataclass(frozen=True, slots=True)
class ReportRequest:
    """What `tracker report` was asked for: two releases or a year, a format, and the
    options every report takes (templates folder, watchlist and its column, code set)."""

    old: str | None = None
    new: str | None = None
    year: int | None = None
    fmt: str = "md"
    templates: str | Path | None = None
    watchlist: str | Path | None = None
    column: str | None = None
    code_set: str | None = None


def report_document(store: Store, request: ReportRequest) -> str:
    """The report of `request.year` (`report_year`), else of `old` to `new` (`report`)."""
    r = request
    if r.year is not None:
        return report_year(
            store,
            r.year,
            r.fmt,
            templates=r.templates,
            watchlist=r.watchlist,
            column=r.column,
            code_set=r.code_set,
        )
    if r.old is None or r.new is None:
        raise ReleaseError("a report needs two releases or a year")
    return report(
        store,
        r.old,
        r.new,
        r.fmt,
        templates=r.templates,
        watchlist=r.watchlist,
        column=r.column,
        code_set=r.code_set,
    )


def write_report(store: Store, output: str | Path, request: ReportRequest) -> int:
    """`report_document` written to `output`; the number of bytes written.

    The file is opened (checked, its temporary file made) before the report is built: a
    refused or unwritable output fails at once, and an interrupted run leaves the old file
    as it was.
    """
    from tracker.outputfile import open_output, sqlite_file

    with open_output(
        Path(output),
        database=sqlite_file(store.engine.url),
        inputs=[Path(request.watchlist)] if request.watchlist is not None else [],
        input_folders=[Path(request.templates)] if request.templates is not None else [],
        newline="",
    ) as stream:
        text = report_document(store, request)
        stream.write(text)
    return len(text.encode("utf-8"))


@dataclass(frozen=True, slots=True)
class CodeHistory:
    """A code's events release by release and the days on which it is valid."""

    code: str
    events: list[HistoryEvent]
    intervals: tuple[ValidityInterval, ...]
    # A deleted ICD-10 code's replacements from the conversion tables, shown as people write
    # them (HCPCS history shows its XREF changes as events instead).
    replaced_by: tuple[query.Replacement, ...] = ()


def history_and_validity(store: Store, code: str, *, code_set: str | None = None) -> CodeHistory:
    """`history` and `validity` of one code (normalized: `j0598` is J0598, `e11.9` E119)."""
    chosen = choose_code_set(store, code_set, codes=[code])
    events = history(store, code, code_set=chosen)
    intervals = validity(store, code, code_set=chosen)
    codes = get_code_set(chosen)
    replaced_by: tuple[query.Replacement, ...] = ()
    if not codes.has_end_dates and intervals and intervals[-1].end is not None:
        view = query.code_view(store, code, None, chosen)
        replaced_by = tuple(
            query.Replacement(codes.display_code(r.code), r.description) for r in view.replacements
        )
    return CodeHistory(_normalized(chosen, code), events, intervals, replaced_by)


@dataclass(frozen=True, slots=True)
class SchemaUpgrade:
    """The database migrated, and its schema revision before (None: empty) and after."""

    url: str
    before: str | None
    after: str | None


def upgrade_database(url: str | None = None) -> SchemaUpgrade:
    """Create or migrate the schema of the database at `url` to the newest revision."""
    store = open_store(url, migrate=False)
    try:
        before, after = store.upgrade()
        return SchemaUpgrade(store.url, before, after)
    finally:
        store.close()
