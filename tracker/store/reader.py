"""Read queries over stored releases: listings, label resolution, snapshots, source bytes."""

from __future__ import annotations

import zlib
from collections.abc import (
    Callable,
    ItemsView,
    Iterable,
    Iterator,
    KeysView,
    Mapping,
    Sequence,
    ValuesView,
)
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, func, select

from tracker.attachments import Attachment, AttachmentRole
from tracker.codesets import DEFAULT_CODE_SET, get_code_set
from tracker.codesets.base import Anomaly, CodeRecord
from tracker.errors import IntegrityError
from tracker.release import ReleaseInfo, ReleaseKind, Snapshot, latest_in, resolve_in
from tracker.store import chains
from tracker.store.schema import (
    record_versions,
    release_anomalies,
    release_attachments,
    release_events,
    release_members,
    releases,
    retractions,
    sources,
)

_RELEASE_COLUMNS = (
    releases,
    retractions.c.reason.label("retraction_reason"),
    retractions.c.release_id.label("retracted_id"),
)
IN_CHUNK = 500


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value))


def _info(row: Row[Any]) -> ReleaseInfo:
    m = row._mapping
    return ReleaseInfo(
        id=m["id"],
        code_set=m["code_set"],
        label=m["label"],
        issue=m["issue"],
        effective_date=_as_date(m["effective_date"]),
        kind=ReleaseKind(m["kind"]),
        source_name=m["source_name"],
        source_sha256=m["source_sha256"],
        content_sha256=m["content_sha256"],
        record_count=m["record_count"],
        parser=m["parser"],
        parser_version=m["parser_version"],
        ingested_at=_as_datetime(m["ingested_at"]),
        data_member=m["data_member"],
        retracted=m["retracted_id"] is not None,
        retraction_reason=m["retraction_reason"],
        version_marker=m["version_marker"],
        last_event="retract" if m["retracted_id"] is not None else None,
        last_event_reason=m["retraction_reason"],
        base_release_id=m["base_release_id"],
    )


def _with_provenance(connection: Connection, infos: list[ReleaseInfo]) -> list[ReleaseInfo]:
    """Attach each release's repairs and its latest retract/reinstate event.

    A release's state is its latest event: a row of the older `retractions` table is a retract
    event earlier than any row of `release_events` (which replaced it in schema 0003).
    """
    if not infos:
        return infos
    ids = [info.id for info in infos]
    latest: dict[int, tuple[str, str]] = {}
    found: dict[int, list[Anomaly]] = {}
    for start in range(0, len(ids), IN_CHUNK):
        chunk = ids[start : start + IN_CHUNK]
        events = connection.execute(
            select(release_events.c.release_id, release_events.c.action, release_events.c.reason)
            .where(release_events.c.release_id.in_(chunk))
            .order_by(release_events.c.id)
        )
        for release_id, action, reason in events:
            latest[release_id] = (action, reason)
        anomalies = connection.execute(
            select(release_anomalies)
            .where(release_anomalies.c.release_id.in_(chunk))
            .order_by(release_anomalies.c.release_id, release_anomalies.c.position)
        )
        for row in anomalies:
            found.setdefault(row.release_id, []).append(
                Anomaly(row.file, row.line, row.kind, row.detail)
            )
    result: list[ReleaseInfo] = []
    for info in infos:
        if info.id in latest or info.id in found:
            action, reason = latest.get(info.id, (info.last_event or "", info.last_event_reason))
            retracted = action == "retract"
            info = replace(
                info,
                retracted=retracted,
                retraction_reason=reason if retracted else None,
                last_event=action or None,
                last_event_reason=reason,
                anomalies=tuple(found.get(info.id, ())),
            )
        result.append(info)
    return result


def _release_query() -> Any:
    return select(*_RELEASE_COLUMNS).select_from(
        releases.outerjoin(retractions, retractions.c.release_id == releases.c.id)
    )


def list_releases(
    connection: Connection,
    *,
    include_retracted: bool = False,
    code_set: str | None = DEFAULT_CODE_SET,
) -> list[ReleaseInfo]:
    """Releases of `code_set` (None: of every code set) in time order (effective date, label,
    issue)."""
    query = _release_query()
    if code_set is not None:
        query = query.where(releases.c.code_set == code_set)
    rows = connection.execute(
        query.order_by(releases.c.effective_date, releases.c.label, releases.c.issue)
    ).all()
    infos = _with_provenance(connection, [_info(row) for row in rows])
    return [info for info in infos if include_retracted or not info.retracted]


def releases_for_label(
    connection: Connection,
    label: str,
    *,
    include_retracted: bool = False,
    code_set: str = DEFAULT_CODE_SET,
) -> list[ReleaseInfo]:
    rows = connection.execute(
        _release_query()
        .where(releases.c.code_set == code_set, releases.c.label == label)
        .order_by(releases.c.issue)
    ).all()
    infos = _with_provenance(connection, [_info(row) for row in rows])
    return [info for info in infos if include_retracted or not info.retracted]


def release_by_id(connection: Connection, release_id: int) -> ReleaseInfo:
    row = connection.execute(_release_query().where(releases.c.id == release_id)).one()
    return _with_provenance(connection, [_info(row)])[0]


def resolve_release(
    connection: Connection,
    text: str,
    *,
    retracted_ok: bool = False,
    code_set: str = DEFAULT_CODE_SET,
) -> ReleaseInfo:
    """`2020-APR` -> its latest non-retracted issue; `2020-APR#1` -> exactly that issue.

    With `retracted_ok` (reinstating), a label without an issue means its latest retracted issue.
    """
    infos = list_releases(connection, include_retracted=True, code_set=code_set)
    if retracted_ok:
        parts = get_code_set(code_set).parse_label(text)
        retracted = [i for i in infos if i.label == parts.label and i.retracted]
        if parts.issue is None and retracted:
            return max(retracted, key=lambda info: info.issue)
    return resolve_in(infos, text, code_set=code_set)


def latest_release(connection: Connection, code_set: str = DEFAULT_CODE_SET) -> ReleaseInfo:
    return latest_in(list_releases(connection, code_set=code_set))


_RELEASE_TOKEN = select(
    select(func.count()).select_from(releases).scalar_subquery(),
    select(func.count()).select_from(retractions).scalar_subquery(),
    select(func.count()).select_from(release_events).scalar_subquery(),
)


def release_token(connection: Connection) -> tuple[int, int]:
    """Changes whenever a release, a retraction or a reinstatement is added (all append-only)."""
    row = connection.execute(_RELEASE_TOKEN).one()
    return int(row[0]), int(row[1]) + int(row[2])


def members(connection: Connection, release_id: int) -> list[Row[Any]]:
    return list(
        connection.execute(
            select(release_members)
            .where(release_members.c.release_id == release_id)
            .order_by(release_members.c.position)
        ).all()
    )


def snapshot_hashes(connection: Connection, release_id: int) -> dict[str, str]:
    """Every code's record hash in the release, rebuilt from its delta chain (a new dict, read
    afresh: verification must see what is stored now)."""
    return chains.rebuild_hashes(connection, [release_id])[release_id]


def bodies_by_hash(connection: Connection, hashes: Iterable[str]) -> dict[str, str]:
    """The canonical JSON of each record version, fetched in chunks of `IN_CHUNK` hashes."""
    wanted = list(dict.fromkeys(hashes))
    bodies: dict[str, str] = {}
    for start in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[start : start + IN_CHUNK]
        marks = ", ".join("?" * len(chunk))
        bodies.update(
            chains.fetch_rows(
                connection, f"SELECT hash, body FROM record_versions WHERE hash IN ({marks})", chunk
            )
        )
    return bodies


def decode_record(body: str, code_set: str = DEFAULT_CODE_SET) -> CodeRecord:
    """A stored body (the record's canonical JSON) back to its record, by the code set whose
    release carries it: the one place the store decodes what it keeps."""
    return get_code_set(code_set).decode_record(body)


def records_by_hash(
    connection: Connection, hashes: Iterable[str], code_set: str = DEFAULT_CODE_SET
) -> dict[str, CodeRecord]:
    decode = get_code_set(code_set).decode_record
    return {
        record_hash: decode(body)
        for record_hash, body in bodies_by_hash(connection, hashes).items()
    }


class _Actions(Mapping[str, str]):
    """A snapshot's action letters, read from the store the first time they are asked for.

    Only HCPCS reconciliation asks; an ICD-10 diff never does, and skipping the lookup of
    every record version's action saves most of an ICD-10 snapshot's load.
    """

    __slots__ = ("_load", "_loaded")

    def __init__(self, load: Callable[[], dict[str, str]]) -> None:
        self._load = load
        self._loaded: dict[str, str] | None = None

    @property
    def _actions(self) -> dict[str, str]:
        if self._loaded is None:
            self._loaded = self._load()
        return self._loaded

    def __getitem__(self, code: str) -> str:
        return self._actions[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._actions)

    def __len__(self) -> int:
        return len(self._actions)

    def __contains__(self, code: object) -> bool:
        return code in self._actions

    def get(self, code: str, default: Any = None) -> Any:
        return self._actions.get(code, default)

    def items(self) -> ItemsView[str, str]:
        return self._actions.items()

    def keys(self) -> KeysView[str]:
        return self._actions.keys()

    def values(self) -> ValuesView[str]:
        return self._actions.values()


def load_snapshot(
    engine: Engine,
    info: ReleaseInfo,
    cache: dict[str, CodeRecord] | None = None,
    *,
    snapshots: chains.SnapshotCache | None = None,
    links: chains.Links | None = None,
) -> Snapshot[CodeRecord]:
    """A snapshot whose records are fetched from the store only when asked for.

    Record versions never change once stored, so decoded ones can be kept in `cache` (shared by
    the snapshots of one store) and a year of diffs decodes each version once; for the same
    reason rebuilt code -> hash maps can be kept in `snapshots`, and a release whose parent is
    kept reads only its own delta.
    """
    with engine.connect() as connection:
        hashes = chains.rebuild_hashes(connection, [info.id], links, snapshots)[info.id]
    decoded: dict[str, CodeRecord] = cache if cache is not None else {}

    def load(codes: Iterable[str]) -> Mapping[str, CodeRecord]:
        wanted = {code: hashes[code] for code in codes if code in hashes}
        missing = [h for h in wanted.values() if h not in decoded]
        if missing:
            with engine.connect() as conn:
                decoded.update(records_by_hash(conn, missing, info.code_set))
        return {code: decoded[h] for code, h in wanted.items()}

    def load_actions() -> dict[str, str]:
        known = snapshots.actions(info.id) if snapshots is not None else None
        if known is None:
            with engine.connect() as conn:
                known = chains.rebuild_actions(conn, info.id, hashes, links)
            if snapshots is not None:
                snapshots.put_actions(info.id, known)
        return known

    return Snapshot(info=info, hashes=hashes, loader=load, actions=_Actions(load_actions))


def record_in_release(connection: Connection, release: ReleaseInfo, code: str) -> CodeRecord | None:
    found = chains.code_versions(connection, [code], [release.id]).get(code, {})
    return decode_record(found[release.id][1], release.code_set) if release.id in found else None


def source_bytes(connection: Connection, sha256: str) -> bytes:
    row = connection.execute(
        select(sources.c.compression, sources.c.data).where(sources.c.sha256 == sha256)
    ).first()
    if row is None:
        raise IntegrityError(f"source {sha256[:12]} is missing from the store")
    compression, data = row
    if compression != "zlib":
        raise IntegrityError(f"source {sha256[:12]}: unknown compression {compression!r}")
    try:
        return zlib.decompress(data)
    except zlib.error as exc:
        raise IntegrityError(f"source {sha256[:12]}: stored bytes are corrupt ({exc})") from None


def record_version_rows(connection: Connection) -> list[tuple[str, str]]:
    rows = connection.execute(select(record_versions.c.hash, record_versions.c.body)).all()
    return [(record_hash, body) for record_hash, body in rows]


def code_entries(
    connection: Connection,
    codes: Sequence[str],
    release_ids: Iterable[int],
    links: chains.Links | None = None,
) -> dict[str, list[tuple[int, str, str]]]:
    """Per code, (release id, record hash, body) in each of the releases that carries it."""
    found = chains.code_versions(connection, codes, release_ids, links)
    return {
        code: [(release_id, record_hash, body) for release_id, (record_hash, body) in by.items()]
        for code, by in found.items()
    }


def all_entries(
    connection: Connection, release_ids: Iterable[int]
) -> tuple[list[tuple[int, str, str]], dict[str, str]]:
    """Every (release id, code, record hash) of the releases, and the bodies of those hashes.

    The bodies are read link by link of the releases' chains (every hash of a snapshot is an
    entry of one of its links), one query per link rather than one per few hundred hashes.
    """
    wanted = list(dict.fromkeys(release_ids))
    links = chains.Links.load(connection)
    built = chains.rebuild_hashes(connection, wanted, links)
    entries = [
        (release_id, code, record_hash)
        for release_id, snapshot in built.items()
        for code, record_hash in snapshot.items()
    ]
    needed = {record_hash for _, _, record_hash in entries}
    members = dict.fromkeys(member for release_id in wanted for member in links.chain(release_id))
    bodies: dict[str, str] = {}
    for member in members:
        bodies.update(
            (record_hash, body)
            for record_hash, body in chains.fetch_rows(connection, _ENTRY_BODIES, (member,))
            if record_hash in needed
        )
    return entries, bodies


_ENTRY_BODIES = (
    "SELECT v.hash, v.body FROM snapshot_entries e"
    " JOIN record_versions v ON v.hash = e.record_hash WHERE e.release_id = ?"
)


def attachments(connection: Connection, release_id: int) -> list[Attachment]:
    """A release's companion files, in the order they were attached."""
    rows = connection.execute(
        select(release_attachments)
        .where(release_attachments.c.release_id == release_id)
        .order_by(release_attachments.c.position)
    ).all()
    return [
        Attachment(
            release_id=row.release_id,
            position=row.position,
            role=AttachmentRole(row.role),
            name=row.name,
            source_sha256=row.source_sha256,
            member=row.member,
            note=row.note,
            attached_at=_as_datetime(row.attached_at),
        )
        for row in rows
    ]
