"""The use cases, as plain functions over an open store.

The CLI is a thin shell over these; scripts and notebooks call them directly:

    from tracker import api
    store = api.open_store("sqlite:///tracker.db")
    result = api.ingest(store, "HCPC2020_APR_ANWEB.xlsx")
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from tracker import companions, query
from tracker.codesets.hcpcs.corrections import CorrectionsListing
from tracker.codesets.hcpcs.filenames import FileName, read_file_name
from tracker.codesets.hcpcs.parsers import parse_source
from tracker.codesets.hcpcs.parsers.base import SourceFile
from tracker.codesets.hcpcs.parsers.corrections import looks_like_corrections
from tracker.codesets.hcpcs.record import Record, snapshot_hash
from tracker.codesets.hcpcs.transreport import ReportCheck, looks_like_report
from tracker.dates import parse_service_date
from tracker.diff import Category, ReleaseDiff, YearDiff, diff_snapshots, filter_diff
from tracker.diff import diff_year as year_diff
from tracker.errors import IntegrityError, ReleaseError, SourceError, TrackerError
from tracker.history import HistoryEvent, code_history
from tracker.query import CodeState, Status
from tracker.release import (
    ReleaseInfo,
    ReleaseKind,
    ReleaseLabel,
    parse_effective,
    parse_label,
    version_marker,
)
from tracker.store import Store, prepare
from tracker.validate import (
    ValidationSummary,
    claims_encoding,
    output_encoding,
    validate_claims,
)
from tracker.validity import Closure, ValidityInterval

if TYPE_CHECKING:
    from tracker.codelist import CodeList
    from tracker.impact import ImpactReport

__all__ = [
    "CodeState",
    "HistoryEvent",
    "IngestResult",
    "Status",
    "ValidationSummary",
    "ValidityInterval",
    "VerifyReport",
    "code_state",
    "code_view",
    "codes_as_of",
    "current_releases",
    "diff",
    "diff_year",
    "history",
    "ingest",
    "open_store",
    "read_source",
    "reinstate",
    "releases",
    "report",
    "report_year",
    "resolve",
    "retract",
    "show",
    "upgrade_db",
    "validate",
    "validity",
    "verify",
]

Progress = Callable[[str], None]
# A fixed timestamp makes the zip built from a directory of pages byte-stable, so ingesting
# the same directory twice is recognised as the same source.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def _no_progress(_stage: str) -> None:
    return None


def read_source(path: str | Path) -> SourceFile:
    """The bytes to ingest; a directory of per-code pages becomes one deterministic zip."""
    target = Path(path)
    try:
        if target.is_dir():
            return _zip_directory(target)
        if target.exists() and not target.is_file():
            # Reading a FIFO waits forever for a writer; /dev/zero never ends.
            raise SourceError(str(path), "is not a regular file (a device, pipe or socket)")
        return SourceFile(name=target.name, data=target.read_bytes())
    except FileNotFoundError:
        raise SourceError(str(path), "no such file or directory") from None
    except PermissionError:
        raise SourceError(str(path), "cannot read it (permission denied)") from None
    except IsADirectoryError:
        raise SourceError(str(path), "is a directory") from None
    except OSError as exc:
        raise SourceError(str(path), f"cannot read it ({exc.strerror or exc})") from None


def _zip_directory(directory: Path) -> SourceFile:
    files = sorted(p for p in directory.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise SourceError(str(directory), "directory holds no files to ingest")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            info = zipfile.ZipInfo(file.name, date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, file.read_bytes())
    return SourceFile(name=f"{directory.name}.zip", data=buffer.getvalue())


def _resolve_label(source: SourceFile, data_member: str, release: str | None) -> ReleaseLabel:
    if release:
        label, issue = parse_label(release)
        if issue is not None:
            raise ReleaseError(
                f"--release {release}: give the label without an issue; use --reissue to store"
                " a new issue of a stored release"
            )
        return label
    outer = read_file_name(source.name)
    member_name = data_member.rsplit("!", 1)[-1]
    inner = read_file_name(member_name) if data_member != source.name else None
    if outer is not None and inner is not None:
        return _reconcile_names(source.name, outer, member_name, inner)
    found = outer or inner
    if found is None:
        raise ReleaseError(
            f"{source.name}: cannot tell the release from the file name;"
            " give it with --release 2020-APR"
        )
    return found.label


def _reconcile_names(zip_name: str, outer: FileName, member: str, inner: FileName) -> ReleaseLabel:
    """A zip's name and its data member's name may each announce the release.

    The member is the data itself, so a quarter it names decides over a zip name that names
    only a year (`HCPCS2026.zip` holding `HCPC2026_APR_ANWEB.txt` is 2026-APR). A member that
    names only a year leaves the quarter to the zip name. Different years, or two different
    quarters, cannot both be right: the file is refused, naming both, for `--release` to settle.
    """
    if outer.label.year == inner.label.year:
        if not inner.month_named:
            return outer.label
        if not outer.month_named or outer.label.month == inner.label.month:
            return inner.label
    raise ReleaseError(
        f"{zip_name}: the zip's name says {outer.label} but its data file {member} says"
        f" {inner.label}; give the release with --release"
    )


def _version_marker(source: SourceFile, data_member: str) -> str | None:
    """CMS's version marker: the published file's name first, else its data member's."""
    return version_marker(source.name) or version_marker(data_member.rsplit("!", 1)[-1])


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
) -> IngestResult:
    """Parse a CMS file, zip or directory of pages and store it as one immutable release."""
    progress("reading")
    source = read_source(path)
    source_sha256 = hashlib.sha256(source.data).hexdigest()
    # Companion files are told from data files by name and content; a corrections file's
    # header ("HCPCS/MOD Code, Action, …") would also pass for a report's, so it goes first.
    corrections = looks_like_corrections(source)
    if corrections or looks_like_report(source.name, source.data):
        if effective or kind:
            what = "a corrections file" if corrections else "a transaction report"
            raise ReleaseError(
                f"{source.name}: is {what}; --effective and --kind apply to release files"
            )
        kept = (
            companions.ingest_corrections(store, source, source_sha256, release)
            if corrections
            else companions.ingest_report(store, source, source_sha256, release)
        )
        return IngestResult(kept.release, kept.created, kept.new_record_versions, kept.message)
    progress("parsing")
    parsed = parse_source(source)
    label = _resolve_label(source, parsed.data_member, release)
    if isinstance(effective, str):
        effective_date = parse_effective(effective, label)
    else:
        effective_date = effective or label.effective_date
    try:
        release_kind = ReleaseKind(kind) if kind else label.kind
    except ValueError:
        choices = ", ".join(k.value for k in ReleaseKind)
        raise ReleaseError(f"--kind {kind!r} is not one of {choices}") from None
    progress("hashing")
    prepared = prepare(
        parsed,
        label=label,
        effective_date=effective_date,
        kind=release_kind,
        source_name=source.name,
        source_bytes=source.data,
        source_sha256=source_sha256,
        version_marker=_version_marker(source, parsed.data_member),
        attachments=companions.reports_inside(source, source_sha256, parsed.members),
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


def releases(store: Store, *, include_retracted: bool = False) -> list[ReleaseInfo]:
    return store.releases(include_retracted=include_retracted)


def resolve(store: Store, release: str | None) -> ReleaseInfo:
    """A label to a stored release; None means the latest one."""
    return store.resolve(release)


def show(store: Store, code: str, *, release: str | None = None) -> tuple[ReleaseInfo, Record]:
    """A code's record in one release (default: the latest)."""
    normalized = code.strip().upper()
    info = store.resolve(release)
    record = store.record(info, normalized)
    if record is None:
        raise ReleaseError(f"code {normalized} is not in release {info.display}")
    return info, record


def code_view(store: Store, code: str, *, release: str | None = None) -> query.CodeView:
    """A code's record in `release` (default: the latest) with its validity intervals; a code
    no longer in that release gives its last record before it (`view.current` is False)."""
    return query.code_view(store, code, release)


def code_page(store: Store, code: str, *, release: str | None = None) -> str:
    """The plain-text page `tracker show CODE` prints: the record at `release` (default: the
    latest) with its fields decoded, its validity intervals, and for a code no longer in that
    release, how it ended and its replacements (from the release it was last seen in)."""
    from tracker.report.render import render_code_page

    view = code_view(store, code, release=release)
    status = None
    notes = [f"valid {interval.text()}" for interval in view.intervals]
    if not view.current:
        last = view.intervals[-1]
        ended = (
            f"terminated {last.end.isoformat()}"
            if last.closure is Closure.TERMINATED and last.end is not None
            else "removed"
        )
        status = f"{ended}: last seen in {view.release.display}, not in {view.asked.display}"
        notes[:0] = [
            f"replaced by: {item.code}" + (f"  {item.description}" if item.description else "")
            for item in view.replacements
        ]
    return render_code_page(view.release, view.record, status=status, notes=notes)


def validity(
    store: Store, code: str, *, known_at: str | None = None
) -> tuple[ValidityInterval, ...]:
    """The days on which `code` is valid, as intervals, as known at `known_at`."""
    return query.code_validity(store, code, known_at)


def retract(store: Store, release: str, reason: str) -> ReleaseInfo:
    """Mark a release as wrong (an appended event); it stays stored and can be reinstated."""
    return store.retract(release, reason)


def reinstate(store: Store, release: str, reason: str) -> ReleaseInfo:
    """Undo a retraction (an appended event): the release counts again in default views."""
    return store.reinstate(release, reason)


def upgrade_db(store: Store) -> tuple[str | None, str | None]:
    return store.upgrade()


def current_releases(store: Store) -> list[ReleaseInfo]:
    """Stored releases that count by default: not retracted, the latest issue of each label."""
    return store.current_releases()


def diff(store: Store, old: str, new: str) -> ReleaseDiff:
    """Every change from release `old` to release `new`, reconciling `new`'s action codes
    when `old` is the release they describe changes since (`tracker.codesets.hcpcs.calendar`)."""
    old_info = store.resolve(old)
    new_info = store.resolve(new)
    if old_info.id == new_info.id:
        raise ReleaseError(f"{old} and {new} are the same release ({old_info.display}); name two")
    if old_info.code_set != new_info.code_set:
        raise ReleaseError(
            f"{old_info.display} ({old_info.code_set}) and {new_info.display}"
            f" ({new_info.code_set}) are releases of different code sets"
        )
    stored = {info.label for info in current_releases(store)}
    result = diff_snapshots(store.snapshot(old_info), store.snapshot(new_info), stored=stored)
    return replace(
        result,
        transaction_report=companions.report_check(store, new_info),
        corrections=companions.corrections_listings(store, new_info),
    )


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


def diff_year(store: Store, year: int) -> YearDiff:
    """The year's first release against its last, each quarter, codes born and retired inside
    the year (by the latest stored record of each), and the year's quarters not stored."""
    current = current_releases(store)
    infos = [info for info in current if info.effective_date.year == year]
    if len(infos) < 2:
        stored = ", ".join(info.display for info in infos) or "none"
        raise ReleaseError(
            f"year {year} needs at least two stored releases to diff (stored: {stored})"
        )
    later = current[-1] if current[-1].effective_date.year > year else None
    return year_diff(
        [store.snapshot(info) for info in infos],
        stored={info.label for info in current},
        latest=store.snapshot(later) if later is not None else None,
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
) -> str:
    """The "what changed" report from `old` to `new` as Markdown, HTML, CSV or JSON.

    With `watchlist` (a code list file, as `tracker impact` reads it; `column` for a CSV), the
    report opens with a "Your codes" section: what the change means for each listed code.
    """
    from tracker.report.render import render_diff

    codes = _read_watchlist(watchlist, column)
    if codes is not None:
        old_info, new_info = store.resolve(old), store.resolve(new)
        if old_info.effective_date > new_info.effective_date:
            raise ReleaseError(
                f"--watchlist: {old_info.display} is effective after {new_info.display}; the"
                ' "Your codes" section needs the earlier release first'
            )
    result = diff(store, old, new)
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
) -> str:
    """The annual report: first vs last release, each quarter, codes born and retired.

    With `watchlist`, the report opens with a "Your codes" section comparing the year's first
    and last release, as `report` does for a pair.
    """
    from tracker.report.render import render_year

    codes = _read_watchlist(watchlist, column)
    result = diff_year(store, year)
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


def history(store: Store, code: str) -> list[HistoryEvent]:
    """Every release where the code first appears, changes, ends, is purged or comes back."""
    normalized = code.strip().upper()
    releases = current_releases(store)
    if not releases:
        raise ReleaseError("no releases are stored yet; run `tracker ingest FILE` first")
    events = code_history(store, normalized, releases)
    if not events:
        raise ReleaseError(f"code {normalized} is in none of the stored releases")
    return events


def code_state(
    store: Store, code: str, on: str | date, *, known_at: str | None = None
) -> CodeState:
    """Was `code` valid on `on`, and what did it mean then, as known at release `known_at`?"""
    return query.code_state(store, code, _as_date(on), known_at)


def codes_as_of(
    store: Store,
    on: str | date,
    *,
    prefix: str = "",
    status: str = "active",
    known_at: str | None = None,
) -> list[CodeState]:
    """The code set as it stood on a date: every code's state, filtered by status."""
    if status not in ("all", *(s.value for s in Status)):
        raise ReleaseError(
            f"status {status!r} is not active, terminated, removed, not yet effective or all"
        )
    day = _as_date(on)
    index = query.CodeIndex.load(store, known_at)
    states = (index.state(code, day) for code in index.codes(prefix))
    return [state for state in states if status == "all" or state.status.value == status]


def validate(
    store: Store,
    claims: str | Path,
    output: str | Path | None = None,
    *,
    code_column: str = "hcpcs",
    date_column: str = "dos",
    known_at: str | None = None,
    encoding: str | None = None,
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
    index = query.CodeIndex.load(store, known_at)
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


@dataclass
class VerifyReport:
    releases_checked: int = 0
    record_versions_checked: int = 0
    problems: list[str] = field(default_factory=list)
    # Repairs of CMS's files recorded with the releases: not problems, but shown.
    repairs: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(store: Store, *, reparse: bool = True) -> VerifyReport:
    """Re-hash every stored source, record and snapshot; optionally re-parse each source.

    Triggers stop changes made through SQL; this catches what they cannot: a store whose
    triggers were dropped, or bytes altered on disk.
    """
    report = VerifyReport()
    for record_hash, body in store.record_version_rows():
        report.record_versions_checked += 1
        if hashlib.sha256(body.encode("utf-8")).hexdigest() != record_hash:
            report.problems.append(f"record version {record_hash[:12]}: body does not hash")
    for info in store.releases(include_retracted=True):
        report.releases_checked += 1
        report.repairs.extend(f"release {info.display}: {anomaly}" for anomaly in info.anomalies)
        report.problems.extend(_verify_release(store, info, reparse=reparse))
    return report


def _verify_release(store: Store, info: ReleaseInfo, *, reparse: bool) -> list[str]:
    problems: list[str] = []
    where = f"release {info.display}"
    hashes = store.snapshot_hashes(info)
    if len(hashes) != info.record_count:
        problems.append(f"{where}: {len(hashes)} codes stored, {info.record_count} recorded")
    if snapshot_hash(hashes.items()) != info.content_sha256:
        problems.append(f"{where}: snapshot content hash does not match")
    try:
        data = store.source_bytes(info)
    except IntegrityError as exc:
        return [*problems, f"{where}: {exc}"]
    if hashlib.sha256(data).hexdigest() != info.source_sha256:
        problems.append(f"{where}: source bytes of {info.source_name} do not match their sha256")
        return problems
    for attachment in store.attachments(info):
        try:
            attached = store.attachment_bytes(attachment)
        except IntegrityError as exc:
            problems.append(f"{where}: attachment {attachment.display}: {exc}")
            continue
        if hashlib.sha256(attached).hexdigest() != attachment.source_sha256:
            problems.append(f"{where}: attachment {attachment.name} does not match its sha256")
    if reparse and info.kind is ReleaseKind.CORRECTION and info.base_release_id is not None:
        problems.extend(companions.verify_correction(store, info))
    elif reparse:
        try:
            parsed = parse_source(SourceFile(name=info.source_name, data=data))
        except TrackerError as exc:
            return [*problems, f"{where}: stored source no longer parses ({exc})"]
        reparsed = snapshot_hash((r.code, r.content_hash()) for r in parsed.records)
        if reparsed != info.content_sha256:
            problems.append(
                f"{where}: re-parsing {info.source_name} gives different records"
                f" (parser {parsed.parser} {parsed.parser_version},"
                f" stored by {info.parser} {info.parser_version})"
            )
        if parsed.anomalies != info.anomalies:
            problems.append(
                f"{where}: re-parsing {info.source_name} makes {len(parsed.anomalies)} repairs,"
                f" {len(info.anomalies)} are recorded"
            )
    return problems
