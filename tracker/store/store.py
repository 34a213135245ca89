"""`Store`: the one object the rest of the project holds to reach the database.

It keeps SQLAlchemy inside this package: callers get releases, snapshots, records and bytes,
never engines or rows. One store holds the releases of every code set; each is stored with its
code set's name, labels resolve among the releases of one code set (`code_set`, HCPCS unless
told), and records are decoded by the code set of the release that carries them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Concatenate, NamedTuple, ParamSpec, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from tracker.attachments import Attachment, NewAttachment
from tracker.codesets import DEFAULT_CODE_SET, code_set_names, get_code_set
from tracker.codesets.base import CodeRecord
from tracker.release import ReleaseInfo, Snapshot, current_in, latest_in, resolve_in
from tracker.store import chains, reader, writer
from tracker.store.database import (
    create_store_engine,
    display_url,
    open_store,
    store_fault,
    upgrade,
)

_P = ParamSpec("_P")
_T = TypeVar("_T")


def _faults(
    action: str | None = None,
) -> Callable[[Callable[Concatenate[Store, _P], _T]], Callable[Concatenate[Store, _P], _T]]:
    """A database failure inside the method becomes one `StoreError` line naming the database
    and what to do (`action`: the command that needs to write, None for a read)."""

    def wrap(method: Callable[Concatenate[Store, _P], _T]) -> Callable[Concatenate[Store, _P], _T]:
        def guarded(self: Store, /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
            try:
                return method(self, *args, **kwargs)
            except SQLAlchemyError as exc:
                raise store_fault(str(self.engine.url), exc, action) from None

        functools.update_wrapper(guarded, method)
        return guarded

    return wrap


class TimelineEntry(NamedTuple):
    """One release that carries a code: the release, the record's hash, the record."""

    release: ReleaseInfo
    record_hash: str
    record: CodeRecord


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Reads on PostgreSQL run in autocommit: no BEGIN/ROLLBACK round trips per lookup (the
        # data is append-only, so statement-level consistency is all a read needs). SQLite
        # transactions cost nothing over a socket and keep their explicit BEGIN.
        self._reader = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name == "postgresql"
            else engine
        )
        # Decoded record versions by hash: immutable once stored, so safe to keep.
        self._records: dict[str, CodeRecord] = {}
        # Rebuilt snapshots (code -> hash) by release id, for the same reason.
        self._snapshots = chains.SnapshotCache()
        self._releases: list[ReleaseInfo] = []
        self._by_code_set: dict[str, list[ReleaseInfo]] = {}
        self._release_token: tuple[int, int] | None = None
        self._links: chains.Links | None = None

    @classmethod
    def open(cls, url: str | None = None, *, migrate: bool = True) -> Store:
        """Open the database at `url`, `TRACKER_DB` or the default; create or upgrade it."""
        return cls(open_store(url) if migrate else create_store_engine(url))

    @property
    def url(self) -> str:
        return display_url(str(self.engine.url))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._reader.connect() as connection:
            yield connection

    def close(self) -> None:
        self.engine.dispose()

    def upgrade(self) -> tuple[str | None, str | None]:
        return upgrade(self.engine)

    @_faults()
    def _every_release(self) -> list[ReleaseInfo]:
        """Every stored release of every code set, retracted included, re-read only when
        another was added.

        As-of lookups resolve releases on every call; one tiny query replaces re-reading them.
        """
        with self._read() as connection:
            token = reader.release_token(connection)
            if token != self._release_token:
                self._releases = reader.list_releases(
                    connection, include_retracted=True, code_set=None
                )
                self._by_code_set = {}
                self._links = chains.Links.load(connection)
                self._release_token = token
        return self._releases

    def every_release(self, *, include_retracted: bool = False) -> list[ReleaseInfo]:
        """Stored releases of every code set (retracted ones too with `include_retracted`),
        each code set's in time order, code sets in the order they were first stored."""
        names = self.stored_code_sets()
        return [
            info
            for name in names
            for info in self._all_releases(name)
            if include_retracted or not info.retracted
        ]

    def stored_code_sets(self) -> tuple[str, ...]:
        """The code sets with at least one stored release (retracted ones count), in the
        order they are registered (HCPCS first)."""
        stored = {info.code_set for info in self._every_release()}
        return tuple(name for name in code_set_names() if name in stored)

    def _all_releases(self, code_set: str) -> list[ReleaseInfo]:
        """Every stored release of `code_set`, retracted included, in time order."""
        every = self._every_release()
        found = self._by_code_set.get(code_set)
        if found is None:
            name = get_code_set(code_set).name
            found = self._by_code_set[code_set] = [i for i in every if i.code_set == name]
        return found

    def releases(
        self, *, include_retracted: bool = False, code_set: str = DEFAULT_CODE_SET
    ) -> list[ReleaseInfo]:
        return [
            info for info in self._all_releases(code_set) if include_retracted or not info.retracted
        ]

    def current_releases(self, code_set: str = DEFAULT_CODE_SET) -> list[ReleaseInfo]:
        """Releases that count by default: not retracted, the latest issue of each label."""
        return current_in(self._all_releases(code_set))

    def all_releases(self, code_set: str = DEFAULT_CODE_SET) -> list[ReleaseInfo]:
        """Every stored release of `code_set`, retracted ones included (one cheap freshness
        check)."""
        return self._all_releases(code_set)

    def resolve(self, label: str | None, code_set: str = DEFAULT_CODE_SET) -> ReleaseInfo:
        """A label (`2020-APR`, `2020`, `2020-APR#2`) to a release; None means the latest."""
        infos = self._all_releases(code_set)
        return latest_in(infos) if label is None else resolve_in(infos, label, code_set=code_set)

    @_faults()
    def record(self, release: ReleaseInfo, code: str) -> CodeRecord | None:
        with self._read() as connection:
            return reader.record_in_release(connection, release, code)

    @_faults()
    def snapshot(self, release: ReleaseInfo) -> Snapshot[CodeRecord]:
        return reader.load_snapshot(
            self._reader, release, self._records, snapshots=self._snapshots, links=self._links
        )

    @_faults()
    def snapshot_hashes(self, release: ReleaseInfo) -> dict[str, str]:
        with self._read() as connection:
            return reader.snapshot_hashes(connection, release.id)

    @_faults()
    def members(self, release: ReleaseInfo) -> list[tuple[str, int, str, bool]]:
        with self._read() as connection:
            return [
                (row.name, row.size, row.sha256, bool(row.is_data))
                for row in reader.members(connection, release.id)
            ]

    @_faults()
    def source_bytes(self, release: ReleaseInfo) -> bytes:
        with self._read() as connection:
            return reader.source_bytes(connection, release.source_sha256)

    @_faults()
    def record_version_rows(self) -> list[tuple[str, str]]:
        with self._read() as connection:
            return reader.record_version_rows(connection)

    def code_timeline(self, code: str, releases: list[ReleaseInfo]) -> list[TimelineEntry]:
        """The code's (release, record hash, record) in each of `releases` that carries it."""
        return self.code_timelines([code], releases).get(code, [])

    @_faults()
    def code_timelines(
        self, codes: Sequence[str], releases: list[ReleaseInfo]
    ) -> dict[str, list[TimelineEntry]]:
        """`code_timeline` for several codes in one round trip."""
        if self._links is None:
            self._every_release()
        by_id = {info.id: info for info in releases}
        decoders = {
            name: get_code_set(name).decode_record for name in {info.code_set for info in releases}
        }
        with self._read() as connection:
            found = reader.code_entries(connection, codes, by_id, self._links)
        cache = self._records
        order = {info.id: index for index, info in enumerate(releases)}
        timelines: dict[str, list[TimelineEntry]] = {}
        for code, rows in found.items():
            decoded = []
            for release_id, record_hash, body in rows:
                record = cache.get(record_hash)
                if record is None:
                    decode = decoders[by_id[release_id].code_set]
                    record = cache[record_hash] = decode(body)
                decoded.append(TimelineEntry(by_id[release_id], record_hash, record))
            timelines[code] = sorted(decoded, key=lambda item: order[item[0].id])
        return timelines

    @_faults()
    def all_entries(
        self, releases: list[ReleaseInfo]
    ) -> tuple[list[tuple[int, str, str]], dict[str, str]]:
        """Every (release id, code, hash) of `releases` and the JSON body of each hash."""
        with self._read() as connection:
            return reader.all_entries(connection, [info.id for info in releases])

    @_faults("ingest")
    def write(self, prepared: writer.PreparedRelease, *, reissue: bool) -> writer.WriteResult:
        return writer.write_release(self.engine, prepared, reissue=reissue)

    @_faults("retract")
    def retract(self, label: str, reason: str, code_set: str = DEFAULT_CODE_SET) -> ReleaseInfo:
        return writer.retract(self.engine, label, reason, code_set)

    def reinstate(self, label: str, reason: str, code_set: str = DEFAULT_CODE_SET) -> ReleaseInfo:
        return writer.reinstate(self.engine, label, reason, code_set)

    def attachments(self, release: ReleaseInfo) -> list[Attachment]:
        """The release's companion files (transaction reports, corrections)."""
        with self._read() as connection:
            return reader.attachments(connection, release.id)

    def attachment_bytes(self, attachment: Attachment) -> bytes:
        with self._read() as connection:
            return reader.source_bytes(connection, attachment.source_sha256)

    def attach(self, release: ReleaseInfo, attachment: NewAttachment) -> Attachment | None:
        """Keep a companion file with a stored release; None if it is already attached."""
        return writer.attach(self.engine, release.id, attachment)
