"""Rebuilding snapshots from delta chains.

A release stores only what differs from its parent release (`snapshot_entries` for changed or
added codes, `snapshot_removals` for codes that vanished); a release at depth 0 is a full
checkpoint. Its snapshot is the checkpoint folded forward through each delta of its chain, so
storage grows with what changes while any snapshot is at most `MAX_CHAIN_DEPTH` deltas away
from a full copy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, null, select

from tracker.store.schema import record_versions, releases, snapshot_entries, snapshot_removals

# Deltas between checkpoints. Longer chains store less but make every rebuild read more rows.
MAX_CHAIN_DEPTH = 16

# code -> (record hash, declared action code)
Entries = dict[str, tuple[str, str]]

_LINKS = select(releases.c.id, releases.c.parent_id, releases.c.chain_depth)
_ENTRIES = (
    select(
        snapshot_entries.c.release_id,
        snapshot_entries.c.code,
        snapshot_entries.c.record_hash,
        record_versions.c.action_code,
    )
    .select_from(
        snapshot_entries.join(
            record_versions, record_versions.c.hash == snapshot_entries.c.record_hash
        )
    )
    .where(snapshot_entries.c.release_id.in_(bindparam("ids", expanding=True)))
)
_REMOVALS = select(snapshot_removals.c.release_id, snapshot_removals.c.code).where(
    snapshot_removals.c.release_id.in_(bindparam("ids", expanding=True))
)
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


def rebuild(connection: Connection, release_ids: Iterable[int]) -> dict[int, Entries]:
    """The full snapshot of each release: every code's record hash and declared action."""
    wanted = list(dict.fromkeys(release_ids))
    if not wanted:
        return {}
    links = Links.load(connection)
    chains = {release_id: links.chain(release_id) for release_id in wanted}
    needed = sorted({member for chain in chains.values() for member in chain})
    entries: dict[int, list[tuple[str, str, str]]] = {member: [] for member in needed}
    removals: dict[int, list[str]] = {member: [] for member in needed}
    for release_id, code, record_hash, action in connection.execute(_ENTRIES, {"ids": needed}):
        entries[release_id].append((code, record_hash, action))
    for release_id, code in connection.execute(_REMOVALS, {"ids": needed}):
        removals[release_id].append(code)
    built: dict[int, Entries] = {}
    # Releases sharing a chain prefix share the work: fold each chain once, keeping the
    # intermediate snapshots only for releases someone asked for.
    for release_id in wanted:
        snapshot: Entries = {}
        for member in chains[release_id]:
            for code in removals[member]:
                snapshot.pop(code, None)
            for code, record_hash, action in entries[member]:
                snapshot[code] = (record_hash, action)
        built[release_id] = snapshot
    return built


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
