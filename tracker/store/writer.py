"""Writing a release: one transaction that lands whole or not at all.

Record versions are content-addressed (keyed by their sha256), so a record is stored once
however many releases carry it, and a release stores only its difference from the previous one
(see `chains`): storage grows with what changes, not with releases x codes. The source file's
bytes are stored compressed, once per distinct file.
"""

from __future__ import annotations

import gc
import hashlib
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TypeVar

from sqlalchemy import Connection, Engine, Table, func, insert, select
from sqlalchemy.exc import IntegrityError as SAIntegrityError
from sqlalchemy.exc import OperationalError
from sqlalchemy.sql.dml import Insert

from tracker.attachments import Attachment, NewAttachment
from tracker.codesets import DEFAULT_CODE_SET, get_code_set
from tracker.codesets.base import (
    CodeRecord,
    ParsedRelease,
    StoredColumns,
    hash_all_canonical,
    snapshot_hash,
)
from tracker.errors import ReleaseError, StoreError
from tracker.release import ReleaseInfo, ReleaseKind, marker_is_later
from tracker.store import reader
from tracker.store.chains import MAX_CHAIN_DEPTH
from tracker.store.database import fault_kind, store_fault
from tracker.store.schema import (
    record_versions,
    release_anomalies,
    release_attachments,
    release_events,
    release_members,
    releases,
    snapshot_entries,
    snapshot_removals,
    sources,
)

COMPRESSION = "zlib"
# Each lost race means another release of the label was stored, so a few attempts always settle.
_ATTEMPTS = 4
BATCH = 2000
T = TypeVar("T")
# SQLite's page cache while a release is written (see `_write_page_cache`), in KiB.
WRITE_CACHE_KIB = 32 * 1024


@dataclass(frozen=True, slots=True)
class PreparedRelease:
    """Everything to store, computed before the transaction opens so it stays short."""

    # The canonical label (`2020-APR`), of the code set `code_set` (its registered name).
    label: str
    effective_date: date
    kind: ReleaseKind
    source_name: str
    source_bytes: bytes
    source_sha256: str
    parsed: ParsedRelease[CodeRecord]
    # (record, canonical JSON, content hash): serialized once, used for hashing and storing.
    record_hashes: tuple[tuple[CodeRecord, str, str], ...]
    content_sha256: str
    # CMS's version marker from the file name (`v4`, `12172024`): a later one than the stored
    # issues' makes the file the quarter's next issue without --reissue.
    version_marker: str | None = None
    # A correction's base release, and companion files stored with the release (a transaction
    # report inside the release zip, the corrections file a correction applies).
    base_release_id: int | None = None
    attachments: tuple[NewAttachment, ...] = ()
    code_set: str = DEFAULT_CODE_SET


def prepare(
    parsed: ParsedRelease[CodeRecord],
    *,
    label: str,
    effective_date: date,
    kind: ReleaseKind,
    source_name: str,
    source_bytes: bytes,
    source_sha256: str,
    version_marker: str | None = None,
    base_release_id: int | None = None,
    attachments: tuple[NewAttachment, ...] = (),
    code_set: str = DEFAULT_CODE_SET,
) -> PreparedRelease:
    with _cyclic_gc_paused():
        bodies = [record.canonical_json() for record in parsed.records]
        hashed = tuple(zip(parsed.records, bodies, hash_all_canonical(bodies), strict=True))
        content_sha256 = snapshot_hash((record.code, h) for record, _, h in hashed)
    return PreparedRelease(
        label=label,
        effective_date=effective_date,
        kind=kind,
        source_name=source_name,
        source_bytes=source_bytes,
        source_sha256=source_sha256,
        parsed=parsed,
        record_hashes=hashed,
        content_sha256=content_sha256,
        version_marker=version_marker,
        base_release_id=base_release_id,
        attachments=attachments,
        code_set=get_code_set(code_set).name,
    )


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a release's ~100k rows are built and stored.

    Those rows are all kept until the transaction ends, so a collection run meanwhile only
    walks them in vain (10-15% of an ICD-10 ingest); nothing built here forms a cycle.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


@dataclass(frozen=True, slots=True)
class WriteResult:
    release: ReleaseInfo
    created: bool
    new_record_versions: int
    message: str


def _insert_ignoring_duplicates(connection: Connection, table: object) -> Insert:
    # Imported per dialect: loading the PostgreSQL dialect package costs a SQLite user 50 ms.
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table).on_conflict_do_nothing()  # type: ignore[arg-type]
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table).on_conflict_do_nothing()  # type: ignore[arg-type]


def _chunks(rows: Sequence[T]) -> list[Sequence[T]]:
    return [rows[i : i + BATCH] for i in range(0, len(rows), BATCH)]


def _bulk_insert(
    connection: Connection,
    table: Table,
    rows: Sequence[tuple[object, ...]],
    *,
    ignore_duplicates: bool = False,
) -> None:
    """Insert rows (tuples in the table's column order) through the driver's `executemany`.

    The hot loop of an ingest (~100k record versions and snapshot entries for an ICD-10
    release): SQLAlchemy's Core insert builds and processes a parameter dict per row, which
    cost more than the database's own work; the driver takes the tuples as they are. Only
    plain values go in (dates already as `_date_parameter` gives them), so the stored bytes
    are the ones a Core insert stores.
    """
    if not rows:
        return
    names = ", ".join(column.name for column in table.columns)
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    marks = ", ".join([mark] * len(table.columns))
    sql = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"
    if ignore_duplicates:
        sql += " ON CONFLICT DO NOTHING"
    for chunk in _chunks(rows):
        connection.exec_driver_sql(sql, list(chunk))


@contextmanager
def _write_page_cache(connection: Connection) -> Iterator[None]:
    """A larger SQLite page cache while a release's rows go in, the connection's own after.

    ~100k inserts into `record_versions` (keyed by a hash, so in no order) and
    `snapshot_entries` touch more index pages than SQLite's default 2 MiB cache holds, and
    evicting them midway cost a quarter of the insert time. Only memory is traded: what is
    stored is the same.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    previous = int(connection.exec_driver_sql("PRAGMA cache_size").scalar_one())
    connection.exec_driver_sql(f"PRAGMA cache_size=-{WRITE_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size={previous}")


def _date_parameter(connection: Connection) -> Callable[[date | None], object]:
    """How a date goes to the driver as SQLAlchemy's `Date` type would send it.

    SQLite has no date type: SQLAlchemy stores `YYYY-MM-DD` text (`date.isoformat`, for the
    four-digit years it accepts); PostgreSQL's driver takes the `date` itself.
    """
    if connection.dialect.name == "sqlite":
        return _iso_date
    return _same


def _iso_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _same(value: date | None) -> date | None:
    return value


def _label_lock(code_set: str, label: str) -> int:
    """A stable signed 64-bit key for PostgreSQL's advisory lock on one label of a code set."""
    digest = hashlib.sha256(f"tracker:{code_set}:{label}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def write_release(engine: Engine, prepared: PreparedRelease, *, reissue: bool) -> WriteResult:
    """Store the release, or say why not; a lost race with a concurrent ingest is re-checked."""
    try:
        for _ in range(_ATTEMPTS - 1):
            try:
                return _write(engine, prepared, reissue=reissue)
            except SAIntegrityError:
                # Another process stored the same label between our check and our insert:
                # decide again with its release visible (a no-op, a refusal or the next issue).
                continue
        return _write(engine, prepared, reissue=reissue)
    except SAIntegrityError:
        raise StoreError(
            f"{prepared.source_name}: other ingests of release {prepared.label} kept winning"
            " the race to store it; nothing was stored, try again"
        ) from None
    except OperationalError as exc:
        if fault_kind(exc) in ("read-only", "denied"):
            raise store_fault(str(engine.url), exc, "ingest") from None
        # SQLite still locked after the busy timeout, a PostgreSQL deadlock or lost connection:
        # the transaction did not commit, so nothing of the release is stored.
        raise StoreError(
            f"{prepared.source_name}: the database could not store the release"
            f" ({' '.join(str(exc.orig or exc).split())}); nothing was stored, try again"
        ) from None


def _write(engine: Engine, prepared: PreparedRelease, *, reissue: bool) -> WriteResult:
    label = prepared.label
    with (
        _cyclic_gc_paused(),
        engine.connect().execution_options(write=True) as connection,
        connection.begin(),
    ):
        if connection.dialect.name == "postgresql":
            # Writers of one label take turns, as SQLite's BEGIN IMMEDIATE makes every writer
            # do: the check below then sees what the previous writer committed.
            connection.execute(
                select(func.pg_advisory_xact_lock(_label_lock(prepared.code_set, label)))
            )
        existing = reader.releases_for_label(
            connection, label, include_retracted=True, code_set=prepared.code_set
        )
        for info in existing:
            if info.content_sha256 == prepared.content_sha256:
                state = " (retracted)" if info.retracted else ""
                # A companion the stored release does not have yet (a store filled before
                # attachments were kept) is added; one already attached is not repeated.
                _attach_rows(connection, info.id, prepared.attachments)
                return WriteResult(
                    release=info,
                    created=False,
                    new_record_versions=0,
                    message=(
                        f"{prepared.source_name}: identical content is already stored as"
                        f" {info.display}{state}; nothing to do"
                    ),
                )
        if existing and not reissue:
            _check_marker(prepared, label, existing)
        issue = (existing[-1].issue + 1) if existing else 1

        stored_source = connection.execute(
            select(sources.c.sha256).where(sources.c.sha256 == prepared.source_sha256)
        ).first()
        if stored_source is None:
            connection.execute(
                _insert_ignoring_duplicates(connection, sources),
                [
                    {
                        "sha256": prepared.source_sha256,
                        "size": len(prepared.source_bytes),
                        "compression": COMPRESSION,
                        "data": zlib.compress(prepared.source_bytes, 6),
                    }
                ],
            )
        delta = _delta_against_latest(connection, prepared)
        release_id = connection.execute(
            insert(releases).returning(releases.c.id),
            {
                "code_set": prepared.code_set,
                "label": label,
                "issue": issue,
                "effective_date": prepared.effective_date,
                "kind": prepared.kind.value,
                "source_name": prepared.source_name,
                "source_sha256": prepared.source_sha256,
                "data_member": prepared.parsed.data_member,
                "content_sha256": prepared.content_sha256,
                "record_count": len(prepared.record_hashes),
                "parser": prepared.parsed.parser,
                "parser_version": prepared.parsed.parser_version,
                "ingested_at": datetime.now(UTC),
                "parent_id": delta.parent_id,
                "chain_depth": delta.depth,
                "version_marker": prepared.version_marker,
                "base_release_id": prepared.base_release_id,
            },
        ).scalar_one()
        anomaly_rows: list[dict[str, object]] = [
            {
                "release_id": release_id,
                "position": position,
                "file": anomaly.file,
                "line": anomaly.line,
                "kind": anomaly.kind,
                "detail": anomaly.detail,
            }
            for position, anomaly in enumerate(prepared.parsed.anomalies)
        ]
        for chunk in _chunks(anomaly_rows):
            connection.execute(insert(release_anomalies), chunk)
        _attach_rows(connection, release_id, prepared.attachments)
        connection.execute(
            insert(release_members),
            [
                {
                    "release_id": release_id,
                    "position": position,
                    "name": member.name,
                    "size": member.size,
                    "sha256": member.sha256,
                    "is_data": member.is_data,
                }
                for position, member in enumerate(prepared.parsed.members)
            ],
        )
        before = connection.execute(select(func.count()).select_from(record_versions)).scalar_one()
        columns = get_code_set(prepared.code_set).stored_columns
        to_date = _date_parameter(connection)
        version_rows: list[tuple[object, ...]] = []
        # The indexed columns as the driver takes them, once per distinct value (an ICD-10
        # release has one: none of them; a HCPCS release a few hundred).
        tails: dict[StoredColumns, tuple[object, ...]] = {}
        known = delta.known_hashes
        for record, body, record_hash in prepared.record_hashes:
            if record_hash in known:
                continue
            stored = columns(record)
            tail = tails.get(stored)
            if tail is None:
                tail = tails[stored] = (
                    to_date(stored.added_date),
                    to_date(stored.termination_date),
                    stored.action_code,
                )
            version_rows.append((record_hash, record.code, body, *tail))
        with _write_page_cache(connection):
            _bulk_insert(connection, record_versions, version_rows, ignore_duplicates=True)
            after = connection.execute(
                select(func.count()).select_from(record_versions)
            ).scalar_one()
            _bulk_insert(
                connection,
                snapshot_entries,
                [(release_id, code, record_hash) for code, record_hash in delta.entries],
            )
        _bulk_insert(connection, snapshot_removals, [(release_id, code) for code in delta.removals])
        info = reader.release_by_id(connection, release_id)
    new_versions = after - before
    reissued = f" (re-issue {issue})" if issue > 1 else ""
    if info.version_marker:
        reissued += f", CMS version {info.version_marker}"
    repairs = ""
    if info.anomalies:
        count = len(info.anomalies)
        repairs = f"; {count} repair{'s' if count > 1 else ''} of CMS's file recorded"
    return WriteResult(
        release=info,
        created=True,
        new_record_versions=new_versions,
        message=(
            f"{prepared.source_name}: stored {info.display}{reissued}, effective"
            f" {info.effective_date.isoformat()}, {info.record_count} codes"
            f" ({new_versions} new record versions), content {info.content_sha256[:12]}"
            f"{repairs}"
        ),
    )


@dataclass(frozen=True, slots=True)
class Delta:
    """What a release stores: its difference from a parent, or everything (a checkpoint)."""

    parent_id: int | None
    depth: int
    entries: list[tuple[str, str]]
    removals: list[str]
    # Record hashes already stored (the parent's), which need no insert attempt.
    known_hashes: frozenset[str]


def _delta_against_latest(connection: Connection, prepared: PreparedRelease) -> Delta:
    """Delta against the most recently stored release, or a checkpoint when that is cheaper.

    The most recent release is the natural parent (releases are mostly ingested in order, so it
    is the previous quarter). A checkpoint is written for the first release, when the chain
    reaches `MAX_CHAIN_DEPTH`, or when the delta would be more than half a full copy.
    """
    new_hashes = {record.code: record_hash for record, _, record_hash in prepared.record_hashes}
    latest = connection.execute(
        select(releases.c.id, releases.c.chain_depth)
        .where(releases.c.code_set == prepared.code_set)
        .order_by(releases.c.id.desc())
        .limit(1)
    ).first()
    if latest is None:
        return Delta(None, 0, sorted(new_hashes.items()), [], frozenset())
    parent_id, parent_depth = latest
    parent_hashes = reader.snapshot_hashes(connection, parent_id)
    known = frozenset(parent_hashes.values())
    entries = sorted(
        (code, digest) for code, digest in new_hashes.items() if parent_hashes.get(code) != digest
    )
    removals = sorted(code for code in parent_hashes if code not in new_hashes)
    if parent_depth + 1 > MAX_CHAIN_DEPTH or 2 * (len(entries) + len(removals)) > len(new_hashes):
        return Delta(None, 0, sorted(new_hashes.items()), [], known)
    return Delta(parent_id, parent_depth + 1, entries, removals, known)


def _check_marker(prepared: PreparedRelease, label: str, existing: list[ReleaseInfo]) -> None:
    """Different content for a stored label is CMS's re-issue only when the file name carries a
    later version marker than every stored issue; otherwise it is refused."""
    latest = existing[-1]
    source = prepared.source_name
    marker = prepared.version_marker
    if marker is None:
        raise StoreError(
            f"{source}: release {label} is already stored (issue"
            f" {latest.issue}, content {latest.content_sha256[:12]}) with different content;"
            f" pass --reissue to store it as issue {latest.issue + 1}"
        )
    for info in reversed(existing):
        later = marker_is_later(marker, info.version_marker)
        stored = info.version_marker or "none (first issue)"
        if later is None:
            raise StoreError(
                f"{source}: CMS version {marker} cannot be ordered against {info.display}'s"
                f" version {stored}; pass --reissue to store it as issue {latest.issue + 1}"
            )
        if not later:
            raise StoreError(
                f"{source}: CMS version {marker} is not later than {info.display}'s version"
                f" {stored}, and the content differs; pass --reissue to store it as issue"
                f" {latest.issue + 1} anyway"
            )


def _append_event(
    engine: Engine, label_text: str, action: str, reason: str, code_set: str
) -> ReleaseInfo:
    """Append a retract or reinstate event; a release's state is its latest event."""
    verb = "retraction" if action == "retract" else "reinstatement"
    if not reason.strip():
        raise StoreError(f"a {verb} needs a reason (--reason)")
    with engine.connect().execution_options(write=True) as connection, connection.begin():
        try:
            info = reader.resolve_release(
                connection, label_text, retracted_ok=action == "reinstate", code_set=code_set
            )
        except ReleaseError:
            if action == "reinstate":
                raise
            # Every issue of the label is retracted: name the latest in the refusal below.
            info = reader.resolve_release(
                connection, label_text, retracted_ok=True, code_set=code_set
            )
        if action == "retract" and info.retracted:
            raise StoreError(f"release {info.display} is already retracted")
        if action == "reinstate" and not info.retracted:
            raise StoreError(f"release {info.display} is not retracted; nothing to reinstate")
        connection.execute(
            insert(release_events),
            {
                "release_id": info.id,
                "action": action,
                "reason": reason.strip(),
                "at": datetime.now(UTC),
            },
        )
        return reader.release_by_id(connection, info.id)


def retract(
    engine: Engine, label_text: str, reason: str, code_set: str = DEFAULT_CODE_SET
) -> ReleaseInfo:
    """Append a retraction: the release stays stored, byte for byte, but leaves default views."""
    return _append_event(engine, label_text, "retract", reason, get_code_set(code_set).name)


def reinstate(
    engine: Engine, label_text: str, reason: str, code_set: str = DEFAULT_CODE_SET
) -> ReleaseInfo:
    """Append a reinstatement: the retracted release counts again, its history kept."""
    return _append_event(engine, label_text, "reinstate", reason, get_code_set(code_set).name)


def _store_source(connection: Connection, sha256: str, data: bytes) -> None:
    """Keep a file's bytes once, compressed, like every source."""
    if connection.execute(select(sources.c.sha256).where(sources.c.sha256 == sha256)).first():
        return
    connection.execute(
        _insert_ignoring_duplicates(connection, sources),
        [
            {
                "sha256": sha256,
                "size": len(data),
                "compression": COMPRESSION,
                "data": zlib.compress(data, 6),
            }
        ],
    )


def _attach_rows(
    connection: Connection, release_id: int, attachments: Sequence[NewAttachment]
) -> list[Attachment]:
    """Append the attachments the release does not already have (same role, bytes, member)."""
    stored = reader.attachments(connection, release_id)
    have = {(a.role, a.source_sha256, a.member) for a in stored}
    first = position = max((a.position for a in stored), default=-1) + 1
    for attachment in attachments:
        key = (attachment.role, attachment.sha256, attachment.member)
        if key in have:
            continue
        have.add(key)
        _store_source(connection, attachment.sha256, attachment.data)
        connection.execute(
            insert(release_attachments),
            {
                "release_id": release_id,
                "position": position,
                "role": attachment.role.value,
                "name": attachment.name,
                "source_sha256": attachment.sha256,
                "member": attachment.member,
                "note": attachment.note,
                "attached_at": datetime.now(UTC),
            },
        )
        position += 1
    if position == first:
        return []
    return [a for a in reader.attachments(connection, release_id) if a.position >= first]


def attach(engine: Engine, release_id: int, attachment: NewAttachment) -> Attachment | None:
    """Attach a companion file to a stored release; None when the same one is already there."""
    try:
        with engine.connect().execution_options(write=True) as connection, connection.begin():
            added = _attach_rows(connection, release_id, [attachment])
    except OperationalError as exc:
        raise StoreError(
            f"{attachment.name}: the database could not store the attachment"
            f" ({' '.join(str(exc.orig or exc).split())}); nothing was stored, try again"
        ) from None
    return added[0] if added else None
