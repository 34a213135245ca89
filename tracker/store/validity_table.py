"""Writing the validity-interval table into the store, one append-only generation at a time.

The rows are computed outside the store (`tracker.export`); this module only knows where they
go. A generation is written in one transaction with its rows, so the view
`tracker_code_validity` (each code set's latest generation) never shows a half-written one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import islice

from sqlalchemy import func, insert, select

from tracker.release import ReleaseInfo
from tracker.store.schema import validity_generations, validity_intervals
from tracker.store.store import Store

# Rows inserted per statement: enough that round trips vanish, few enough that memory stays flat.
_BATCH = 5000

IntervalValues = tuple[str, date, date, str, str, date | None, str, str]
"""code, valid_from, valid_to, status, meaning, termination_date, replacements, release."""


@dataclass(frozen=True, slots=True)
class Generation:
    id: int
    code_set: str
    known_at: str
    releases_known: str
    tracker_version: str
    row_count: int


def latest_generation(store: Store, code_set: str) -> Generation | None:
    """The generation `tracker_code_validity` shows for `code_set`, if any was written."""
    table = validity_generations
    with store.engine.connect() as connection:
        latest = connection.execute(
            select(func.max(table.c.id)).where(table.c.code_set == code_set)
        ).scalar_one()
        if latest is None:
            return None
        row = connection.execute(select(table).where(table.c.id == latest)).one()
    return Generation(
        row.id, row.code_set, row.known_at, row.releases_known, row.tracker_version, row.row_count
    )


def write_generation(
    store: Store,
    code_set: str,
    known_at: ReleaseInfo,
    releases_known: str,
    tracker_version: str,
    rows: Iterable[IntervalValues],
) -> Generation:
    """A new generation of `code_set`'s table with `rows`, in one transaction (the rows are
    held first: the generation row is append-only, so it is written with its final count)."""
    values_list = list(rows)
    names = (
        "code",
        "valid_from",
        "valid_to",
        "status",
        "meaning",
        "termination_date",
        "replacements",
        "release",
    )
    with store.engine.begin() as connection:
        generation_id = connection.execute(
            insert(validity_generations)
            .values(
                code_set=code_set,
                known_at_release_id=known_at.id,
                known_at=known_at.display,
                releases_known=releases_known,
                tracker_version=tracker_version,
                row_count=len(values_list),
                computed_at=datetime.now(UTC),
            )
            .returning(validity_generations.c.id)
        ).scalar_one()
        iterator = iter(values_list)
        while batch := list(islice(iterator, _BATCH)):
            connection.execute(
                insert(validity_intervals),
                [
                    {"generation_id": generation_id, **dict(zip(names, values, strict=True))}
                    for values in batch
                ],
            )
    return Generation(
        generation_id,
        code_set,
        known_at.display,
        releases_known,
        tracker_version,
        len(values_list),
    )
