"""Rebuilding snapshots from delta chains.

A release stores only what differs from its parent release (`snapshot_entries` for changed or
added codes, `snapshot_removals` for codes that vanished); a release at depth 0 is a full
checkpoint. Its snapshot is the checkpoint folded forward through each delta of its chain, so
storage grows with what changes while any snapshot is at most `MAX_CHAIN_DEPTH` deltas away
from a full copy.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from threading import Lock
from typing import Any

from sqlalchemy import Connection, bindparam, null, select
from sqlalchemy.exc import DBAPIError

from tracker.store.schema import record_versions, releases, snapshot_entries, snapshot_removals

# Deltas between checkpoints. Longer chains store less but make every rebuild read more rows.
MAX_CHAIN_DEPTH = 16

_LINKS = select(releases.c.id, releases.c.parent_id, releases.c.chain_depth)
# One round trip per lookup: a code's entries (with bodies) and removals along the chains.
_CODE_LINKS = (
    select(
        snapshot_entries.c.release_id,
        snapshot_entries.c.code,
        record_versions.c.hash,
        record_versions.c.body,
    )
    .select_from(
        snapshot_entries.join(
            record_versions, record_versions.c.hash == snapshot_entries.c.record_hash
        )
    )
    .where(
        snapshot_entries.c.code.in_(bindparam("codes", expanding=True)),
        snapshot_entries.c.release_id.in_(bindparam("ids", expanding=True)),
    )
    .union_all(
        select(
            snapshot_removals.c.release_id,
            snapshot_removals.c.code,
            null().label("hash"),
            null().label("body"),
        ).where(
            snapshot_removals.c.code.in_(bindparam("codes", expanding=True)),
            snapshot_removals.c.release_id.in_(bindparam("ids", expanding=True)),
        )
    )
)


@dataclass(frozen=True, slots=True)
class Links:
    """Each release's parent and depth: enough to find any release's chain without a query."""

    parent: dict[int, int | None]
    depth: dict[int, int]

    @classmethod
    def load(cls, connection: Connection) -> Links:
        parent: dict[int, int | None] = {}
        depth: dict[int, int] = {}
        for release_id, parent_id, chain_depth in connection.execute(_LINKS):
            parent[release_id] = parent_id
            depth[release_id] = chain_depth
        return cls(parent, depth)

    def chain(self, release_id: int) -> list[int]:
        """The release's chain, checkpoint first, the release itself last."""
        chain = [release_id]
        current = release_id
        while self.depth[current] > 0:
            parent = self.parent[current]
            if parent is None:
                break
            chain.append(parent)
            current = parent
        chain.reverse()
        return chain


def _driver_sql(connection: Connection, sql: str) -> str:
    """`sql` written with `?` placeholders, in the paramstyle of the connection's driver."""
    if connection.dialect.paramstyle in ("format", "pyformat"):
        return sql.replace("?", "%s")
    return sql


def fetch_rows(connection: Connection, sql: str, params: Sequence[Any]) -> list[Any]:
    """Every row of one query, read straight off the driver's cursor as plain tuples.

    Rebuilding a snapshot reads ~100k two-column rows per ICD-10 release; SQLAlchemy's result
    rows double that cost and give nothing a code -> hash map needs. Driver errors still reach
    callers as SQLAlchemy's own exceptions, so the store reports them as for any other query.
    """
    statement = _driver_sql(connection, sql)
    values = tuple(params)
    dialect = connection.dialect
    dbapi = dialect.loaded_dbapi
    proxied = connection.connection
    cursor = proxied.cursor()
    try:
        cursor.execute(statement, values)
        return list(cursor.fetchall())
    except dbapi.Error as exc:
        # As SQLAlchemy does for its own statements: a dropped connection is not handed back
        # to the pool, and the error says it was lost.
        lost = dialect.is_disconnect(exc, proxied.dbapi_connection, cursor)
        if lost:
            connection.invalidate(exc)
        raise DBAPIError.instance(
            statement, values, exc, dbapi.Error, connection_invalidated=lost, dialect=dialect
        ) from exc
    finally:
        with suppress(dbapi.Error):
            cursor.close()


_ENTRY_HASHES = "SELECT code, record_hash FROM snapshot_entries WHERE release_id = ?"
_REMOVED_CODES = "SELECT code FROM snapshot_removals WHERE release_id = ?"
_ENTRY_ACTIONS = (
    "SELECT e.record_hash, v.action_code FROM snapshot_entries e"
    " JOIN record_versions v ON v.hash = e.record_hash WHERE e.release_id = ?"
)


class SnapshotCache:
    """Rebuilt snapshots (code -> record hash) by release id, the most recently used kept.

    A stored release never changes (every table is append-only), so a snapshot rebuilt once
    stays right for as long as the store is open; a later release of the same chain then costs
    a copy of its cached ancestor plus its own delta instead of the whole chain. Bounded: an
    ICD-10 snapshot is ~100k entries. A served store is shared by worker threads, hence the lock.
    """

    def __init__(self, size: int = 6) -> None:
        self.size = size
        self._hashes: OrderedDict[int, dict[str, str]] = OrderedDict()
        self._actions: dict[int, dict[str, str]] = {}
        self._lock = Lock()

    def get(self, release_id: int) -> dict[str, str] | None:
        with self._lock:
            found = self._hashes.get(release_id)
            if found is not None:
                self._hashes.move_to_end(release_id)
            return found

    def put(self, release_id: int, hashes: dict[str, str]) -> None:
        with self._lock:
            self._hashes[release_id] = hashes
            self._hashes.move_to_end(release_id)
            while len(self._hashes) > self.size:
                evicted, _ = self._hashes.popitem(last=False)
                self._actions.pop(evicted, None)

    def actions(self, release_id: int) -> dict[str, str] | None:
        with self._lock:
            return self._actions.get(release_id)

    def put_actions(self, release_id: int, actions: dict[str, str]) -> None:
        with self._lock:
            if release_id in self._hashes:
                self._actions[release_id] = actions


def rebuild_hashes(
    connection: Connection,
    release_ids: Iterable[int],
    links: Links | None = None,
    cache: SnapshotCache | None = None,
) -> dict[int, dict[str, str]]:
    """The full snapshot (code -> record hash) of each release.

    Each chain is folded from the nearest release already rebuilt (in this call or in `cache`),
    so releases sharing a chain prefix share the work and a cached parent leaves only the
    release's own delta to read. Without `cache` every dict returned is new; with it, one may be
    the cache's own: read it, never change it.
    """
    wanted = list(dict.fromkeys(release_ids))
    if not wanted:
        return {}
    if links is None or any(release_id not in links.depth for release_id in wanted):
        links = Links.load(connection)
    built: dict[int, dict[str, str]] = {}
    for release_id in wanted:
        chain = links.chain(release_id)
        start = 0
        snapshot: dict[str, str] = {}
        # A snapshot taken from `built` or the cache is shared: copy it before folding into it.
        shared = False
        for index in range(len(chain) - 1, -1, -1):
            known = built.get(chain[index])
            if known is None and cache is not None:
                known = cache.get(chain[index])
            if known is not None:
                snapshot, start, shared = known, index + 1, True
                break
        for member in chain[start:]:
            entries = fetch_rows(connection, _ENTRY_HASHES, (member,))
            if not snapshot:
                snapshot, shared = dict(entries), False
                continue
            if shared:
                snapshot, shared = dict(snapshot), False
            for (code,) in fetch_rows(connection, _REMOVED_CODES, (member,)):
                snapshot.pop(code, None)
            snapshot.update(entries)
        built[release_id] = snapshot
        if cache is not None:
            cache.put(release_id, snapshot)
    return {release_id: built[release_id] for release_id in wanted}


def rebuild_actions(
    connection: Connection,
    release_id: int,
    hashes: Mapping[str, str],
    links: Links | None = None,
) -> dict[str, str]:
    """Each code's declared action letter in the release whose snapshot is `hashes`.

    An action belongs to the record version, so it is looked up by hash over the entries of
    the release's chain (every hash of the snapshot is among them).
    """
    if links is None or release_id not in links.depth:
        links = Links.load(connection)
    by_hash: dict[str, str] = {}
    for member in links.chain(release_id):
        by_hash.update(fetch_rows(connection, _ENTRY_ACTIONS, (member,)))
    return {code: by_hash[record_hash] for code, record_hash in hashes.items()}


def code_versions(
    connection: Connection,
    codes: Sequence[str],
    release_ids: Iterable[int],
    links: Links | None = None,
) -> dict[str, dict[int, tuple[str, str]]]:
    """Each code's (record hash, JSON body) in each of the releases that carries it."""
    wanted = list(dict.fromkeys(release_ids))
    if not wanted or not codes:
        return {}
    links = links or Links.load(connection)
    chains = {release_id: links.chain(release_id) for release_id in wanted}
    needed = sorted({member for chain in chains.values() for member in chain})
    present: dict[tuple[str, int], tuple[str, str]] = {}
    removed: set[tuple[str, int]] = set()
    rows = connection.execute(_CODE_LINKS, {"codes": list(codes), "ids": needed})
    for release_id, code, record_hash, body in rows:
        if record_hash is None:
            removed.add((code, release_id))
        else:
            present[(code, release_id)] = (record_hash, body)
    found: dict[str, dict[int, tuple[str, str]]] = {}
    for code in codes:
        per_release: dict[int, tuple[str, str]] = {}
        for release_id, chain in chains.items():
            # The newest link that mentions the code decides: an entry, a removal, or nothing.
            for member in reversed(chain):
                if (code, member) in present:
                    per_release[release_id] = present[(code, member)]
                    break
                if (code, member) in removed:
                    break
        if per_release:
            found[code] = per_release
    return found
