"""CMS's companion files of a release: transaction reports and corrections files.

Kept with the release they belong to (`release_attachments`), never parsed into it: a
transaction report is CMS's declaration of what changed and is checked against the data file
it accompanies; a corrections file is applied to the release it corrects as a new issue of
kind `correction` (lineage: `base_release_id`, the file attached), as far as its rows can be
applied unambiguously, and otherwise kept with the release and listed.

Both are CMS's companions of HCPCS releases, read by the HCPCS package; a release of another
code set has none. An ICD-10 release's declared changes (its addenda) are inside its own source
and read from there again when a diff needs them (`declared_changes`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tracker.attachments import Attachment, AttachmentRole, NewAttachment
from tracker.codesets import get_code_set
from tracker.codesets.base import CodeRecord, ParsedRelease, SourceFile, SourceMember, snapshot_hash
from tracker.codesets.hcpcs.corrections import Application, CorrectionsListing, apply_corrections
from tracker.codesets.hcpcs.filenames import infer_label
from tracker.codesets.hcpcs.parsers.corrections import looks_like_corrections, read_corrections
from tracker.codesets.hcpcs.record import Record
from tracker.codesets.hcpcs.transreport import (
    ReportCheck,
    compare_with_file,
    find_report_member,
    looks_like_report,
    parse_transaction_report,
)
from tracker.errors import ReleaseError, TrackerError
from tracker.release import ReleaseInfo, ReleaseKind, Snapshot
from tracker.store import Store, prepare

# What `companion_kind` tells a companion file to be.
CORRECTIONS = "corrections"
TRANSACTION_REPORT = "transaction report"


def companion_kind(source: SourceFile) -> str | None:
    """`CORRECTIONS` or `TRANSACTION_REPORT` for a companion file, None for anything else.

    Told from data files by name and content; a corrections file's header ("HCPCS/MOD Code,
    Action, …") would also pass for a report's, so it goes first.
    """
    if looks_like_corrections(source):
        return CORRECTIONS
    if looks_like_report(source.name, source.data):
        return TRANSACTION_REPORT
    return None


@dataclass(frozen=True, slots=True)
class Kept:
    """What ingesting a companion file did (the fields of `api.IngestResult`)."""

    release: ReleaseInfo
    created: bool
    new_record_versions: int
    message: str


def reports_inside(
    source: SourceFile, sha256: str, members: Sequence[SourceMember]
) -> tuple[NewAttachment, ...]:
    """The transaction report a release zip carries, to keep with the release."""
    member = find_report_member([m.name for m in members if not m.is_data])
    if member is None:
        return ()
    # A report that does not read never blocks the release: it is kept, with the reason.
    note = None
    try:
        parse_transaction_report(source.name, source.data, member=member)
    except TrackerError as exc:
        note = f"{UNREADABLE}{exc}"
    return (
        NewAttachment(
            AttachmentRole.TRANSACTION_REPORT, source.name, source.data, sha256, member, note
        ),
    )


UNREADABLE = "not read: "


def _companion_release(
    store: Store, source: SourceFile, release: str | None, inner: str | None = None
) -> ReleaseInfo:
    """The stored release a companion file belongs to: `--release`, else its name's label."""
    label = infer_label(source.name) or (infer_label(inner) if inner else None)
    if not release and label is None:
        raise ReleaseError(
            f"{source.name}: cannot tell which release it belongs to from the file name;"
            " give it with --release 2020-APR"
        )
    try:
        return store.resolve(release or str(label))
    except ReleaseError as exc:
        raise ReleaseError(f"{source.name}: {exc}") from None


def ingest_report(store: Store, source: SourceFile, sha256: str, release: str | None) -> Kept:
    """Keep a loose transaction report with its stored release, as CMS's declared changes."""
    report = parse_transaction_report(source.name, source.data)
    info = _companion_release(store, source, release)
    if not (release and "#" in release):
        # A report describes CMS's data file, not a correction applied to it.
        by_id = {r.id: r for r in store.all_releases()}
        while info.base_release_id is not None and info.base_release_id in by_id:
            info = by_id[info.base_release_id]
    attached = store.attach(
        info, NewAttachment(AttachmentRole.TRANSACTION_REPORT, source.name, source.data, sha256)
    )
    check = compare_with_file(info.display, source.name, report, _actions(store, info))
    state = "attached to" if attached else "already attached to"
    return Kept(
        release=info,
        created=attached is not None,
        new_record_versions=0,
        message=(
            f"{source.name}: transaction report {state} {info.display} ({len(report)} codes"
            f" listed, {len(check.disagreements)} disagreements with the data file)"
        ),
    )


def ingest_corrections(store: Store, source: SourceFile, sha256: str, release: str | None) -> Kept:
    """Apply a corrections file as a new issue of kind `correction`, or keep it as a note."""
    corrections = read_corrections(source)
    base = _companion_release(store, source, release, corrections.member)
    for info in store.all_releases():
        if info.label == base.label and any(
            a.source_sha256 == sha256 and a.role is AttachmentRole.CORRECTIONS
            for a in store.attachments(info)
        ):
            return Kept(
                release=info,
                created=False,
                new_record_versions=0,
                message=f"{source.name}: already recorded with {info.display}; nothing to do",
            )
    snapshot = store.snapshot(base)
    applied = apply_corrections(corrections, _records(snapshot, snapshot.hashes))
    changed = applied.changed_codes
    summary = _corrections_note(applied, base)
    attachment = NewAttachment(
        AttachmentRole.CORRECTIONS, source.name, source.data, sha256, corrections.member, summary
    )
    if corrections.incorporated or not changed:
        store.attach(base, attachment)
        return Kept(
            release=base,
            created=False,
            new_record_versions=0,
            message=f"{source.name}: recorded with {base.display}, not applied: {summary}",
        )
    parsed = ParsedRelease(
        records=tuple(applied.records[code] for code in sorted(applied.records)),
        parser="corrections",
        parser_version="1",
        data_member=corrections.member or source.name,
        members=(SourceMember(source.name, len(source.data), sha256, is_data=True),),
    )
    prepared = prepare(
        parsed,
        label=base.label,
        effective_date=base.effective_date,
        kind=ReleaseKind.CORRECTION,
        source_name=source.name,
        source_bytes=source.data,
        source_sha256=sha256,
        base_release_id=base.id,
        attachments=(attachment,),
        code_set=base.code_set,
    )
    result = store.write(prepared, reissue=True)
    return Kept(
        release=result.release,
        created=result.created,
        new_record_versions=result.new_record_versions,
        message=f"{result.message}; corrects {base.display}: {summary}",
    )


def _corrections_note(applied: Application, base: ReleaseInfo) -> str:
    """What the attachment says about itself: incorporated, or applied and not applied."""
    said = applied.corrections.incorporated
    if said:
        return f"already incorporated (CMS: {said!r})"
    changed = applied.changed_codes
    held = sum(1 for o in applied.outcomes if o.applied and not o.changed)
    skipped = len(applied.not_applied)
    if not changed:
        reason = "every applicable row already holds in" if held else "no row applies to"
        return f"{reason} {base.display}; {skipped} rows not applied"
    return (
        f"applied to {base.display}: {len(changed)} codes changed ({', '.join(changed)});"
        f" {skipped} rows not applied"
    )


def _records(snapshot: Snapshot[CodeRecord], codes: Iterable[str]) -> dict[str, Record]:
    """`codes`' records in an HCPCS release (the only kind with companion files)."""
    records: dict[str, Record] = {}
    for code, record in snapshot.records(codes).items():
        if not isinstance(record, Record):
            raise ReleaseError(f"release {snapshot.info.display} is not an HCPCS release")
        records[code] = record
    return records


def _actions(store: Store, info: ReleaseInfo) -> dict[str, str]:
    """Each code's action letter in a release's data file."""
    snapshot = store.snapshot(info)
    if snapshot.actions is not None:
        return dict(snapshot.actions)
    return {code: r.action_code for code, r in _records(snapshot, snapshot.hashes).items()}


def report_check(store: Store, info: ReleaseInfo) -> ReportCheck | None:
    """The release's attached transaction report against its data file (None: no report)."""
    reports = [
        a
        for a in store.attachments(info)
        if a.role is AttachmentRole.TRANSACTION_REPORT and not (a.note or "").startswith(UNREADABLE)
    ]
    if not reports and info.base_release_id is not None:
        # A correction has no report of its own: its base's report is checked against the
        # base's data file, the file that report describes.
        base = next((r for r in store.all_releases() if r.id == info.base_release_id), None)
        return report_check(store, base) if base is not None else None
    if not reports:
        return None
    chosen = reports[0]
    data = store.attachment_bytes(chosen)
    listed = parse_transaction_report(chosen.name, data, member=chosen.member)
    return compare_with_file(info.display, chosen.display, listed, _actions(store, info))


def corrections_listings(store: Store, info: ReleaseInfo) -> tuple[CorrectionsListing, ...]:
    """Corrections files kept with the release: for a correction, its own; else any recorded."""
    listings = []
    for attachment in store.attachments(info):
        if attachment.role is not AttachmentRole.CORRECTIONS:
            continue
        listings.append(_listing(store, info, attachment))
    return tuple(listings)


def _listing(store: Store, info: ReleaseInfo, attachment: Attachment) -> CorrectionsListing:
    corrections = read_corrections(SourceFile(attachment.name, store.attachment_bytes(attachment)))
    base = info
    if info.base_release_id is not None:
        base = next(r for r in store.all_releases() if r.id == info.base_release_id)
    snapshot = store.snapshot(base)
    codes = [row.code for row in corrections.rows]
    applied = apply_corrections(corrections, _records(snapshot, codes))
    return CorrectionsListing(
        release=info.display,
        file=attachment.display,
        note=attachment.note or "",
        rows=tuple(outcome.describe() for outcome in applied.outcomes),
    )


def declared_changes(store: Store, old: ReleaseInfo, new: ReleaseInfo) -> dict[str, Any]:
    """What a diff of `old` -> `new` needs beyond the two snapshots, for a code set without
    end dates (ICD-10), as `diff_snapshots` keyword arguments: the addenda of `new` (its
    declared changes, read again from the stored source: the store keeps its bytes, so they
    are never stored twice), and how to find an added code's record in the stored releases
    before `old` (for reused codes). HCPCS declares its changes in its records: nothing."""
    if get_code_set(new.code_set).has_end_dates:
        return {}
    from tracker.codesets.icd10.compare import addenda_from_source

    before = [
        info
        for info in store.current_releases(old.code_set)
        if info.effective_date < old.effective_date
    ]

    def earlier(codes: Sequence[str]) -> dict[str, tuple[ReleaseInfo, CodeRecord]]:
        if not before:
            return {}
        found = store.code_timelines(list(codes), before)
        return {code: (rows[-1].release, rows[-1].record) for code, rows in found.items() if rows}

    return {
        "declared": addenda_from_source(new.source_name, store.source_bytes(new)),
        "earlier": earlier,
    }


def verify_correction(store: Store, info: ReleaseInfo) -> list[str]:
    """A correction re-applied to its base release must give the stored records again."""
    where = f"release {info.display}"
    base = next((r for r in store.all_releases() if r.id == info.base_release_id), None)
    if base is None:
        return [f"{where}: its base release (id {info.base_release_id}) is not stored"]
    try:
        corrections = read_corrections(SourceFile(info.source_name, store.source_bytes(info)))
    except TrackerError as exc:
        return [f"{where}: stored corrections file no longer reads ({exc})"]
    snapshot = store.snapshot(base)
    applied = apply_corrections(corrections, _records(snapshot, snapshot.hashes))
    again = snapshot_hash((code, r.content_hash()) for code, r in applied.records.items())
    if again != info.content_sha256:
        return [f"{where}: re-applying {info.source_name} to {base.display} gives other records"]
    return []
