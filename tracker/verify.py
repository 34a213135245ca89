"""Re-checking stored releases against their sources and hashes (`tracker verify`).

The store's triggers stop changes made through SQL; this catches what they cannot: a store
whose triggers were dropped, or bytes altered on disk. Each stored source is re-hashed and, by
default, re-parsed, so a release is known to still be what its file says.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from tracker import companions
from tracker.codesets import get_code_set
from tracker.codesets.base import SourceFile, hash_canonical, snapshot_hash
from tracker.errors import IntegrityError, TrackerError
from tracker.release import ReleaseInfo, ReleaseKind
from tracker.store import Store


@dataclass
class VerifyReport:
    """What a verification found: counts checked, problems, and CMS repairs on record."""

    releases_checked: int = 0
    record_versions_checked: int = 0
    problems: list[str] = field(default_factory=list)
    # Repairs of CMS's files recorded with the releases: not problems, but shown.
    repairs: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(store: Store, *, reparse: bool = True, code_set: str | None = None) -> VerifyReport:
    """Re-hash every stored source, record and snapshot; optionally re-parse each source.

    Triggers stop changes made through SQL; this catches what they cannot: a store whose
    triggers were dropped, or bytes altered on disk. The releases of every code set are
    checked, or those of `code_set`.
    """
    report = VerifyReport()
    for record_hash, body in store.record_version_rows():
        report.record_versions_checked += 1
        if hashlib.sha256(body.encode("utf-8")).hexdigest() != record_hash:
            report.problems.append(f"record version {record_hash[:12]}: body does not hash")
    if code_set is None:
        infos = store.every_release(include_retracted=True)
    else:
        infos = store.releases(include_retracted=True, code_set=get_code_set(code_set).name)
    for info in infos:
        report.releases_checked += 1
        report.repairs.extend(f"release {info.display}: {anomaly}" for anomaly in info.anomalies)
        report.problems.extend(verify_release(store, info, reparse=reparse))
    return report


def verify_release(store: Store, info: ReleaseInfo, *, reparse: bool) -> list[str]:
    """The problems of one stored release: its snapshot, source and attachments against their
    hashes, and (with `reparse`) its source parsed again against the records stored."""
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
            parsed = get_code_set(info.code_set).parse(SourceFile(name=info.source_name, data=data))
        except TrackerError as exc:
            return [*problems, f"{where}: stored source no longer parses ({exc})"]
        reparsed = snapshot_hash(
            (r.code, hash_canonical(r.canonical_json())) for r in parsed.records
        )
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
