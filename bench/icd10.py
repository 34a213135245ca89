"""ICD-10-CM and ICD-10-PCS figures of `make bench` (sections 6 and 7 of `bench/run.py`).

A release is ~97k lines (CM) or ~80k (PCS), ten times HCPCS, so these figures are about scale:

  6. ingest of one FY in-process, beside a plain-Python floor measured in the same run on the
     same zip: read the order file from the zip, slice its columns, write each record's JSON
     body, sha256 it, and `executemany` the rows into a scratch SQLite database holding tables
     of the same shape (`record_versions` and `snapshot_entries`: same columns, keys, indexes
     and foreign keys, the same page cache the tracker's writer uses). The floor does nothing
     else: no checks of the layout, no code-set detection, no addenda, no provenance (members'
     sha256, the compressed source), no delta against the previous release.
  7. diff of two consecutive FYs in-process; storage after each release (bytes of the store
     grow with what changed, not with the size of a release); loading all shared releases of
     both code sets, in-process and as one `tracker ingest` command.

Times are CPU seconds of this process (`process_time`, what a busy neighbour on a shared
machine disturbs least) with the wall time beside them; tracker and floor alternate, order
flipped each round, medians. Targets are printed beside the figures; a missed target is
reported, never a failure.

`--quick` (through `bench/run.py --quick`) uses the two ICD-10-CM samples in `snapshots/`;
its numbers mean nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import time
import uuid
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchlib import (
    SAMPLES,
    SHARED,
    Row,
    copy_sqlite,
    directory_size,
    human_bytes,
    median,
    run_command,
    sqlite_url,
    tracker_command,
    verdict,
)

ICD10 = SHARED / "icd10"

INGEST_TARGET_S = 2.0
DIFF_TARGET_S = 1.0
LOAD_ALL_TARGET_S = 40.0


@dataclass(frozen=True)
class Icd10File:
    """One zip as shared, and the code set and label it is stored under."""

    code_set: str
    label: str
    path: Path
    release: str | None = None  # a --release given at ingest (identical content re-labelled)

    @property
    def name(self) -> str:
        return f"{self.code_set} {self.label}"


def _real(code_set: str, label: str, name: str, release: str | None = None) -> Icd10File:
    return Icd10File(code_set, label, ICD10 / name, release)


# Every shared release in the order a user would load them (by effective date). The labels
# are the ones the files' addenda name (the FY2022 and FY2024 diagnosis zips are April
# versions, FY2021's a January one; see ../shared/icd10/README.md).
REAL_FILES: tuple[Icd10File, ...] = (
    _real("icd10cm", "FY2019", "cms_2019_dx.zip"),
    _real("icd10pcs", "FY2019", "cms_2019_pr.zip"),
    _real("icd10cm", "FY2020", "cms_2020_dx.zip"),
    _real("icd10pcs", "FY2020", "cms_2020_pr.zip"),
    _real("icd10pcs", "FY2021", "cms_2021_pr.zip"),
    _real("icd10cm", "FY2021-JAN", "cms_2021_dx.zip"),
    _real("icd10cm", "FY2022-APR", "cms_2022_dx.zip"),
    _real("icd10pcs", "FY2022-APR", "cms_2022_pr.zip"),
    _real("icd10pcs", "FY2022-APR-ERRATA", "cms_2022_errata.zip"),
    _real("icd10pcs", "FY2023-APR", "cms_2023_pr.zip"),
    _real("icd10cm", "FY2023-APR", "cms_2023_dx.zip"),
    _real("icd10pcs", "FY2024-APR", "cms_2024_pr.zip"),
    _real("icd10cm", "FY2024-APR", "cms_2024_dx.zip"),
)
# The same content as the FY2024 April version under another label: a release of its own with
# zero changes, which should add next to nothing to the store.
RELABELLED = _real("icd10cm", "FY2024", "cms_2024_dx.zip", release="FY2024")

SAMPLE_FILES: tuple[Icd10File, ...] = (
    Icd10File("icd10cm", "FY2019", SAMPLES / "icd10cm_FY2019_SAMPLE.zip"),
    Icd10File("icd10cm", "FY2020", SAMPLES / "icd10cm_FY2020_SAMPLE.zip"),
)
SAMPLE_RELABELLED = Icd10File(
    "icd10cm", "FY2021", SAMPLES / "icd10cm_FY2020_SAMPLE.zip", release="FY2021"
)


@dataclass(frozen=True)
class Plan:
    """What one run measures: the files, and which pairs stand for "one FY" and "a diff"."""

    files: tuple[Icd10File, ...]
    relabelled: Icd10File
    # (previous FY, the FY ingested) per code set: the ingest and diff figures.
    pairs: tuple[tuple[Icd10File, Icd10File], ...]
    note: str = ""


def plan(quick: bool) -> Plan | str:
    """The real files, or the samples under --quick; a reason when the real files are absent."""
    if quick:
        return Plan(
            SAMPLE_FILES,
            SAMPLE_RELABELLED,
            ((SAMPLE_FILES[0], SAMPLE_FILES[1]),),
            note="ICD-10-PCS: no bundled sample (quick mode)",
        )
    missing = [f.path.name for f in REAL_FILES if not f.path.exists()]
    if missing:
        return f"not measured: {', '.join(missing)} missing under {ICD10} (set TRACKER_SHARED)"
    by_name = {(f.code_set, f.label): f for f in REAL_FILES}
    pairs = tuple(
        (by_name[(code_set, "FY2019")], by_name[(code_set, "FY2020")])
        for code_set in ("icd10cm", "icd10pcs")
    )
    return Plan(REAL_FILES, RELABELLED, pairs)


# --- clocks ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    cpu: float
    wall: float


def clocked(action: Callable[[], Any]) -> Clock:
    cpu, wall = time.process_time(), time.perf_counter()
    action()
    return Clock(time.process_time() - cpu, time.perf_counter() - wall)


def median_clock(clocks: Sequence[Clock]) -> Clock:
    return Clock(median([c.cpu for c in clocks]), median([c.wall for c in clocks]))


def cpu_wall(clock: Clock) -> str:
    return f"{clock.cpu:.3f} s CPU ({clock.wall:.3f} s wall)"


def alternate(contenders: dict[str, Callable[[], Clock]], runs: int) -> dict[str, Clock]:
    """Median clocks of each contender, run in turns whose order flips every round."""
    clocks: dict[str, list[Clock]] = {name: [] for name in contenders}
    names = list(contenders)
    for round_number in range(runs):
        order = names if round_number % 2 == 0 else list(reversed(names))
        for name in order:
            clocks[name].append(contenders[name]())
    return {name: median_clock(values) for name, values in clocks.items()}


# --- the plain-Python floor ----------------------------------------------------------------

ORDER_MEMBER = re.compile(r"(^|/)icd10(cm|pcs)_order_\d{4}[a-z]*\.txt$", re.IGNORECASE)

# The tracker's two hot tables, same columns, keys, indexes and foreign keys (its migrations
# create them; `releases` is reduced to the key the entries point at).
FLOOR_SCHEMA = """
CREATE TABLE releases (id INTEGER PRIMARY KEY);
CREATE TABLE record_versions (
    hash VARCHAR(64) NOT NULL PRIMARY KEY,
    code VARCHAR(16) NOT NULL,
    body TEXT NOT NULL,
    added_date DATE,
    termination_date DATE,
    action_code VARCHAR(1) NOT NULL
);
CREATE INDEX ix_record_versions_code ON record_versions (code);
CREATE TABLE snapshot_entries (
    release_id INTEGER NOT NULL REFERENCES releases (id),
    code VARCHAR(16) NOT NULL,
    record_hash VARCHAR(64) NOT NULL REFERENCES record_versions (hash),
    PRIMARY KEY (release_id, code)
);
CREATE INDEX ix_snapshot_entries_code ON snapshot_entries (code, release_id);
INSERT INTO releases (id) VALUES (1);
"""

_ENCODE: Callable[[str], str] = json.encoder.encode_basestring_ascii


def floor_database(path: Path) -> sqlite3.Connection:
    """A scratch database with the floor's tables (made before the clock starts)."""
    from tracker.store.writer import WRITE_CACHE_KIB

    connection = sqlite3.connect(path, isolation_level=None)
    connection.executescript(FLOOR_SCHEMA)
    connection.execute("PRAGMA foreign_keys=ON")
    connection.execute(f"PRAGMA cache_size=-{WRITE_CACHE_KIB}")
    return connection


def floor_ingest(zip_path: Path, code_set: str, connection: sqlite3.Connection) -> int:
    """The least a Python program must do to store an order file's records by content hash."""
    with zipfile.ZipFile(zip_path) as archive:
        member = next(n for n in archive.namelist() if ORDER_MEMBER.search(n))
        lines = archive.read(member).decode("ascii").splitlines()
    quoted_set = _ENCODE(code_set)
    versions: list[tuple[str, str, str, None, None, str]] = []
    entries: list[tuple[int, str, str]] = []
    for line in lines:
        if not line.strip():
            continue
        code = line[6:13].rstrip()
        body = (
            f'{{"billable":{"true" if line[14] == "1" else "false"},"code":{_ENCODE(code)},'
            f'"code_set":{quoted_set},"long_title":{_ENCODE(line[77:].rstrip())},'
            f'"short_title":{_ENCODE(line[16:76].rstrip())}}}'
        )
        digest = hashlib.sha256(body.encode()).hexdigest()
        versions.append((digest, code, body, None, None, ""))
        entries.append((1, code, digest))
    entries.sort()
    connection.execute("BEGIN IMMEDIATE")
    connection.executemany(
        "INSERT INTO record_versions (hash, code, body, added_date, termination_date,"
        " action_code) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        versions,
    )
    connection.executemany(
        "INSERT INTO snapshot_entries (release_id, code, record_hash) VALUES (?, ?, ?)", entries
    )
    connection.execute("COMMIT")
    return len(versions)


# --- 6. ingest of one FY ---------------------------------------------------------------------


def _fresh_store(workdir: Path, seed: Path | None = None) -> tuple[Path, Any]:
    """A new store (migrated before the clock starts), or a copy of `seed`."""
    from tracker import api

    path = workdir / f"icd-{uuid.uuid4().hex[:8]}.db"
    if seed is not None:
        copy_sqlite(seed, path)
    return path, api.open_store(sqlite_url(path))


def _tracker_ingest(workdir: Path, item: Icd10File, seed: Path | None) -> Clock:
    from tracker import api

    path, store = _fresh_store(workdir, seed)
    try:
        clock = clocked(lambda: api.ingest(store, item.path, release=item.release))
    finally:
        store.close()
    path.unlink()
    return clock


def _floor_run(workdir: Path, item: Icd10File) -> Clock:
    path = workdir / f"floor-{uuid.uuid4().hex[:8]}.db"
    connection = floor_database(path)
    try:
        clock = clocked(lambda: floor_ingest(item.path, item.code_set, connection))
    finally:
        connection.close()
    path.unlink()
    return clock


def measure_ingest(chosen: Plan, runs: int, workdir: Path, figures: dict[str, Any]) -> list[Row]:
    from tracker import api

    rows: list[Row] = []
    for previous, item in chosen.pairs:
        # The store as it stood before `item`: the previous FY of the same code set stored.
        seed, store = _fresh_store(workdir)
        try:
            api.ingest(store, previous.path, release=previous.release)
        finally:
            store.close()
        _tracker_ingest(workdir, item, None)  # warm-up: imports, page cache
        _floor_run(workdir, item)
        first = alternate(
            {
                "tracker": lambda item=item: _tracker_ingest(workdir, item, None),
                "floor": lambda item=item: _floor_run(workdir, item),
            },
            runs,
        )
        later = median_clock([_tracker_ingest(workdir, item, seed) for _ in range(runs)])
        seed.unlink()
        mine, floor = first["tracker"], first["floor"]
        ratio = mine.cpu / floor.cpu if floor.cpu > 0 else float("nan")
        figures[f"icd10 ingest {item.name}"] = {
            "first_cpu_s": mine.cpu,
            "first_wall_s": mine.wall,
            "floor_cpu_s": floor.cpu,
            "floor_wall_s": floor.wall,
            "ratio_cpu": ratio,
            "after_previous_cpu_s": later.cpu,
            "after_previous_wall_s": later.wall,
        }
        rows.append(
            Row(
                f"ingest {item.name} ({item.path.name}) into an empty store, in-process",
                cpu_wall(mine),
                f"floor {cpu_wall(floor)}",
                f"{ratio:.2f}x floor",
                f"<= {INGEST_TARGET_S:g} s; <= 1.4x floor",
                f"{verdict(mine.cpu <= INGEST_TARGET_S)}; {verdict(ratio <= 1.4)}",
            )
        )
        rows.append(
            Row(
                f"  the same after {previous.label} is stored (a delta), in-process",
                cpu_wall(later),
                target=f"<= {INGEST_TARGET_S:g} s",
                verdict=verdict(later.cpu <= INGEST_TARGET_S),
            )
        )
    if chosen.note:
        rows.append(Row(chosen.note, "not measured"))
    return rows


# --- 7. diff, storage per release, all releases -------------------------------------------


def measure_load_all(
    chosen: Plan, workdir: Path, figures: dict[str, Any]
) -> tuple[Path, list[Row], list[Row]]:
    """Load every release into one store, in order; the storage after each and the total."""
    from sqlalchemy import text

    from tracker import api

    path, store = _fresh_store(workdir)
    storage: list[Row] = []
    per_release: list[dict[str, Any]] = []
    total = Clock(0.0, 0.0)
    full_copy: dict[str, int] = {}
    try:
        before = directory_size(path)
        sources_before = 0
        for item in (*chosen.files, chosen.relabelled):
            result: list[Any] = []
            clock = clocked(
                lambda item=item, result=result: result.append(
                    api.ingest(store, item.path, release=item.release, code_set=item.code_set)
                )
            )
            if item is not chosen.relabelled:
                total = Clock(total.cpu + clock.cpu, total.wall + clock.wall)
            info = result[0].release
            with store.engine.connect() as connection:
                entries, removals = (
                    connection.execute(
                        text(f"SELECT count(*) FROM {table} WHERE release_id = :id"),
                        {"id": info.id},
                    ).scalar_one()
                    for table in ("snapshot_entries", "snapshot_removals")
                )
                depth = connection.execute(
                    text("SELECT chain_depth FROM releases WHERE id = :id"), {"id": info.id}
                ).scalar_one()
                # The published file is kept, compressed, so any release can be re-parsed.
                kept = connection.execute(
                    text("SELECT coalesce(sum(length(data)), 0) FROM sources")
                ).scalar_one()
            after = directory_size(path)
            added = after - before
            before = after
            source_added = kept - sources_before
            sources_before = kept
            full_copy.setdefault(item.code_set, added)
            kind = "a full copy" if depth == 0 else "a delta"
            per_release.append(
                {
                    "release": item.name,
                    "codes": info.record_count,
                    "new_record_versions": result[0].new_record_versions,
                    "entries": entries,
                    "removals": removals,
                    "bytes_added": added,
                    "source_bytes_added": source_added,
                    "store_bytes": after,
                    "cpu_s": clock.cpu,
                    "wall_s": clock.wall,
                }
            )
            share = added / full_copy[item.code_set] if full_copy[item.code_set] else 0.0
            relabel = " (same content re-labelled)" if item is chosen.relabelled else ""
            storage.append(
                Row(
                    f"{item.name}{relabel}: {info.record_count:,} codes,"
                    f" {result[0].new_record_versions:,} new record versions,"
                    f" {entries:,} entries + {removals:,} removals stored ({kind})",
                    f"+{human_bytes(added)} (source file {human_bytes(source_added)})"
                    f" -> {human_bytes(after)}",
                    ratio=f"{share:.1%} of a full copy",
                )
            )
    finally:
        store.close()
    figures["icd10 storage"] = per_release
    figures["icd10 load all in-process"] = {"cpu_s": total.cpu, "wall_s": total.wall}
    count = len(chosen.files)
    load = [
        Row(
            f"load all {count} releases of both code sets into a new store, in-process",
            cpu_wall(total),
            target=f"<= {LOAD_ALL_TARGET_S:g} s",
            verdict=verdict(total.wall <= LOAD_ALL_TARGET_S),
        )
    ]
    return path, storage, load


def measure_load_command(
    chosen: Plan, runs: int, workdir: Path, figures: dict[str, Any]
) -> list[Row]:
    """One `tracker ingest` of every file, as a user loads a year's downloads (wall time)."""
    times: list[float] = []
    for _ in range(runs):
        target = workdir / f"cmd-{uuid.uuid4().hex[:8]}.db"
        times.append(
            run_command(
                [
                    *tracker_command(),
                    "--db",
                    sqlite_url(target),
                    "ingest",
                    *(str(f.path) for f in chosen.files),
                ]
            )
        )
        target.unlink()
    seconds = median(times)
    figures["icd10 load all command wall s"] = seconds
    return [
        Row(
            f"  tracker ingest <all {len(chosen.files)} zips> (one whole command)",
            f"{seconds:.3f} s wall",
            target=f"<= {LOAD_ALL_TARGET_S:g} s",
            verdict=verdict(seconds <= LOAD_ALL_TARGET_S),
        )
    ]


def measure_diffs(chosen: Plan, store_path: Path, runs: int, figures: dict[str, Any]) -> list[Row]:
    from tracker import api

    rows: list[Row] = []
    store = api.open_store(sqlite_url(store_path))
    try:
        for previous, item in chosen.pairs:
            try:
                changes = len(
                    api.diff(store, previous.label, item.label, code_set=item.code_set).changes
                )
            except Exception as exc:  # the figure says why instead of failing the run
                rows.append(
                    Row(
                        f"diff {item.code_set} {previous.label} -> {item.label}",
                        f"not measured: {' '.join(str(exc).split())[:120]}",
                    )
                )
                continue
            clock = median_clock(
                [
                    clocked(
                        lambda previous=previous, item=item: api.diff(
                            store, previous.label, item.label, code_set=item.code_set
                        )
                    )
                    for _ in range(runs)
                ]
            )
            figures[f"icd10 diff {item.code_set} {previous.label} {item.label}"] = {
                "changes": changes,
                "cpu_s": clock.cpu,
                "wall_s": clock.wall,
            }
            rows.append(
                Row(
                    f"diff {item.code_set} {previous.label} -> {item.label}"
                    f" ({changes:,} changes), in-process",
                    cpu_wall(clock),
                    target=f"<= {DIFF_TARGET_S:g} s",
                    verdict=verdict(clock.cpu <= DIFF_TARGET_S),
                )
            )
    finally:
        store.close()
    return rows


def measure(
    runs: int, workdir: Path, figures: dict[str, Any], *, quick: bool, commands: bool
) -> dict[str, list[Row]]:
    """Every ICD-10 table of the run, by title."""
    ingest_title = "6. ICD-10 ingest of one FY beside a plain-Python floor (SQLite)"
    rest_title = "7. ICD-10 diff, storage per release, all releases (SQLite)"
    chosen = plan(quick)
    if isinstance(chosen, str):
        return {ingest_title: [Row("ICD-10-CM/PCS", chosen)], rest_title: []}
    ingest_rows = measure_ingest(chosen, runs, workdir, figures)
    store_path, storage, load = measure_load_all(chosen, workdir, figures)
    rest = measure_diffs(chosen, store_path, runs, figures)
    rest += load
    if commands:
        rest += measure_load_command(chosen, 1 if quick else min(runs, 3), workdir, figures)
    rest.append(
        Row(
            "storage after each release (SQLite file: bytes added, of which the published"
            " file kept compressed, store size):",
            "",
        )
    )
    rest += storage
    return {ingest_title: ingest_rows, rest_title: rest}


def main(argv: list[str] | None = None) -> int:
    """Only these sections: `python bench/icd10.py [--quick] [--runs N] [--in-process-only]`."""
    import argparse
    import tempfile

    from benchlib import ensure_bytecode, print_table

    parser = argparse.ArgumentParser(description="ICD-10 figures of make bench, alone")
    parser.add_argument("--quick", action="store_true", help="bundled samples, one repetition")
    parser.add_argument("--runs", type=int, help="repetitions per figure (default 5, quick 1)")
    parser.add_argument("--in-process-only", action="store_true", help="skip the command")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    args = parser.parse_args(argv)
    ensure_bytecode()
    runs = args.runs or (1 if args.quick else 5)
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="tracker-bench-icd10-") as temp:
        tables = measure(
            runs, Path(temp), figures, quick=args.quick, commands=not args.in_process_only
        )
    for title, rows in tables.items():
        print_table(title, rows)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
