"""`make bench-scale`: how ingest, diff, storage and as-of latency grow over many big releases.

Synthetic releases in the CMS fixed-width layout (default 100,000 codes, 40 quarterly releases,
~3% of codes changing per release) are written with
`tracker.codesets.hcpcs.writers.fixedwidth`, ingested one by one into a fresh SQLite file and a
fresh PostgreSQL database, and after each release the script prints ingest time, diff time
against the previous release, database size, the bytes that release added (split by table),
and as-of latency.

The releases behave like CMS's quarterly files: each changed code carries the action code of
its change, and a code changed in the previous release goes back to `N` (CMS sets action codes
relative to the previous quarter). So about twice the changed fraction of records get a new
version each release; that, not releases x codes, is what storage should grow with, and the
script checks it at the end.

Not part of CI: the full run takes on the order of tens of minutes (see bench/README.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import random
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from benchlib import (
    human_bytes,
    median,
    percentile,
    pg_database,
    pg_size,
    sqlite_url,
    timed,
    timed_call,
)

from tracker.codesets.hcpcs.record import Record, RecordKind
from tracker.codesets.hcpcs.writers.fixedwidth import write_release

LETTERS = "ABCEGHJKLMPQRSTUV"
_WORD_TEXT = (
    "injection per mg dose supply device catheter orthosis custom fabricated prefabricated"
    " includes fitting adjustment wheelchair accessory battery replacement each unit test"
    " assay quantitative qualitative drug screening therapy session minutes services home"
    " health infusion pump tubing dressing sterile gauze contact layer insulin syringe oral"
    " tablet transport ambulance mileage ground air emergency basic advanced life support"
    " imaging ultrasound guidance hearing aid lens vision frame monaural binaural behavioral"
    " counseling"
)
WORDS = tuple(_WORD_TEXT.split())
MONTHS = ("JAN", "APR", "JUL", "OCT")
# Kinds of change and their shares among the changed codes; additions come from unused codes.
CHANGE_MIX = (("C", 0.40), ("P", 0.25), ("F", 0.15), ("D", 0.10), ("A", 0.10))


def code_name(number: int) -> str:
    return f"{LETTERS[number % len(LETTERS)]}{number // len(LETTERS):04d}"


def description(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high))).capitalize()


def new_record(rng: random.Random, number: int, added: date) -> Record:
    long = description(rng, 4, 30)
    return Record(
        code=code_name(number),
        kind=RecordKind.PROCEDURE,
        long_description=long,
        short_description=long[:28].strip(),
        pricing_indicators=(rng.choice(("13", "46", "51", "57")),),
        multiple_pricing_indicator="A",
        coverage=rng.choice("CDIMS"),
        betos=rng.choice(("D1A", "O1E", "T1H", "I4B")),
        types_of_service=(rng.choice("1P9DE"),),
        added_date=added,
        action_effective_date=added,
        action_code="A",
    )


@dataclass(frozen=True)
class SyntheticRelease:
    label: str
    effective: date
    records: list[Record]
    changed: int


def releases(
    codes: int, count: int, change_rate: float, seed: int = 2024
) -> Iterator[SyntheticRelease]:
    """The release series, generated lazily: one release's records in memory at a time."""
    rng = random.Random(seed)
    start_year = 2011
    first = date(start_year, 1, 1)
    state = {code_name(n): new_record(rng, n, first - timedelta(days=365)) for n in range(codes)}
    for record_code, record in state.items():
        state[record_code] = dataclasses.replace(record, action_code="N")
    next_number = codes
    last_changed: set[str] = set()
    for index in range(count):
        year, quarter = start_year + index // 4, index % 4
        effective = date(year, 1 + 3 * quarter, 1)
        label = f"{year}-{MONTHS[quarter]}"
        changed: set[str] = set()
        if index > 0:
            active = [c for c, r in state.items() if r.termination_date is None]
            wanted = round(codes * change_rate)
            for kind, share in CHANGE_MIX:
                for _ in range(round(wanted * share)):
                    if kind == "A":
                        record = new_record(rng, next_number, effective)
                        next_number += 1
                        state[record.code] = record
                        changed.add(record.code)
                        continue
                    code = rng.choice(active)
                    if code in changed:
                        continue
                    state[code] = _change(rng, state[code], kind, effective)
                    changed.add(code)
            # Quarterly files declare actions relative to the previous quarter.
            for code in last_changed - changed:
                if state[code].action_code != "N":
                    state[code] = dataclasses.replace(state[code], action_code="N")
        last_changed = changed
        yield SyntheticRelease(label, effective, list(state.values()), len(changed))


def _change(rng: random.Random, record: Record, kind: str, effective: date) -> Record:
    replace = dataclasses.replace
    if kind == "C":
        long = description(rng, 4, 30)
        return replace(
            record, long_description=long, action_code="C", action_effective_date=effective
        )
    if kind == "P":
        pricing = rng.choice(("13", "46", "51", "57", "11"))
        return replace(
            record, pricing_indicators=(pricing,), action_code="P", action_effective_date=effective
        )
    if kind == "F":
        return replace(
            record, coverage=rng.choice("CDIMS"), action_code="F", action_effective_date=effective
        )
    return replace(
        record,
        termination_date=effective - timedelta(days=1),
        action_code="D",
        action_effective_date=effective,
    )


# --- storage ---------------------------------------------------------------------------------

TABLE_GROUPS = {
    "record_versions": "records",
    "snapshot_entries": "entries",
    "sources": "sources",
}


def sqlite_breakdown(path: Path) -> dict[str, int]:
    """Bytes per table group, indexes counted with their table (SQLite's dbstat)."""
    connection = sqlite3.connect(path)
    try:
        owner = dict(connection.execute("SELECT name, tbl_name FROM sqlite_schema"))
        sizes: dict[str, int] = {"records": 0, "entries": 0, "sources": 0, "other": 0}
        for name, size in connection.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"):
            group = TABLE_GROUPS.get(owner.get(name, name), "other")
            sizes[group] += int(size)
        sizes["total"] = path.stat().st_size
        return sizes
    finally:
        connection.close()


def pg_breakdown(url: str) -> dict[str, int]:
    """Bytes per table group on PostgreSQL: each table with its indexes and TOAST."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    sizes: dict[str, int] = {"records": 0, "entries": 0, "sources": 0, "other": 0}
    try:
        with engine.connect() as connection:
            for table, group in TABLE_GROUPS.items():
                size = connection.execute(
                    text("SELECT pg_total_relation_size(CAST(:t AS regclass))"), {"t": table}
                )
                sizes[group] = int(size.scalar_one())
    finally:
        engine.dispose()
    sizes["total"] = pg_size(url)
    sizes["other"] = sizes["total"] - sizes["records"] - sizes["entries"] - sizes["sources"]
    return sizes


# --- the run ---------------------------------------------------------------------------------


@dataclass
class Step:
    label: str
    codes: int
    changed: int
    new_versions: int
    ingest_s: float
    diff_s: float
    changes: int
    sizes: dict[str, int]
    as_of_ms: float
    as_of_p99_ms: float


def run_backend(
    backend: str,
    url: str,
    measure: Callable[[str], dict[str, int]],
    workdir: Path,
    codes: int,
    count: int,
    change_rate: float,
    lookups: int,
) -> list[Step]:
    from tracker import api

    store = api.open_store(url)
    steps: list[Step] = []
    previous_label: str | None = None
    rng = random.Random(11)
    header = (
        f"{'release':>8} {'codes':>7} {'changed':>7} {'new ver':>7} {'ingest':>8} {'rec/s':>8} "
        f"{'diff':>7} {'changes':>7} {'db size':>10} {'+added':>10} {'+entries':>10} "
        f"{'+records':>10} {'+sources':>10} {'as-of p50':>9} {'p99':>7}"
    )
    print(f"\n### {backend}: {count} releases x {codes:,} codes, {change_rate:.0%} changing\n")
    print(header, flush=True)
    empty = measure(url)
    before = empty
    try:
        for release in releases(codes, count, change_rate):
            path = workdir / f"HCPC{release.label.replace('-', '_')}_ANWEB.txt"
            write_release(release.records, path)
            ingest_s, result = timed_call(api.ingest, store, path, release=release.label)
            path.unlink()
            diff_s, changes = 0.0, 0
            if previous_label is not None:
                diff_s, found = timed_call(api.diff, store, previous_label, release.label)
                changes = len(found.changes)
            sample = [
                (
                    rng.choice(release.records).code,
                    release.effective - timedelta(days=rng.randrange(3650)),
                )
                for _ in range(lookups)
            ]
            latencies = [timed_call(api.code_state, store, c, d)[0] for c, d in sample]
            sizes = measure(url)
            step = Step(
                release.label,
                len(release.records),
                release.changed,
                result.new_record_versions,
                ingest_s,
                diff_s,
                changes,
                sizes,
                median(latencies) * 1000,
                percentile(latencies, 0.99) * 1000,
            )
            steps.append(step)
            added = {k: sizes[k] - before.get(k, 0) for k in sizes}
            before = sizes
            print(
                f"{step.label:>8} {step.codes:>7,} {step.changed:>7,} {step.new_versions:>7,} "
                f"{step.ingest_s:>7.2f}s {step.codes / step.ingest_s:>8,.0f} "
                f"{step.diff_s:>6.2f}s {step.changes:>7,} {human_bytes(sizes['total']):>10} "
                f"{human_bytes(added['total']):>10} {human_bytes(added['entries']):>10} "
                f"{human_bytes(added['records']):>10} {human_bytes(added['sources']):>10} "
                f"{step.as_of_ms:>7.2f}ms {step.as_of_p99_ms:>5.1f}ms",
                flush=True,
            )
            previous_label = release.label
    finally:
        store.close()
    summarize(backend, steps, empty)
    return steps


def summarize(backend: str, steps: list[Step], empty: dict[str, int]) -> None:
    """Does storage grow with changed records, or with releases x codes? Print the evidence."""
    if len(steps) < 2:
        return
    first = steps[0]
    full = {k: first.sizes[k] - empty.get(k, 0) for k in first.sizes}
    later = steps[1:]
    growth = {
        key: median([b.sizes[key] - a.sizes[key] for a, b in itertools.pairwise(steps)])
        for key in ("total", "records", "entries", "sources")
    }
    versions = median([s.new_versions for s in later])
    codes = median([s.codes for s in later])
    per_version = growth["records"] / versions if versions else float("nan")
    per_entry = growth["entries"] / codes if codes else float("nan")
    changed_share = versions / codes
    copy_share = growth["total"] / full["total"] if full["total"] else float("nan")
    data_share = (growth["records"] + growth["entries"]) / max(1, full["records"] + full["entries"])
    print(f"\n{backend} storage check (medians over releases 2..{len(steps)}):")
    print(
        f"  first release (a full copy): {human_bytes(full['total'])}"
        f" (records {human_bytes(full['records'])}, entries {human_bytes(full['entries'])},"
        f" sources {human_bytes(full['sources'])})"
    )
    print(
        f"  each later release adds {human_bytes(growth['total'])} = {copy_share:.0%} of a full"
        f" copy, while {versions:,.0f} of {codes:,.0f} records ({changed_share:.1%}) are new"
        " versions"
    )
    print(
        f"    records:  {human_bytes(growth['records'])} = {per_version:,.0f} B per new record"
        " version (grows with changes)"
    )
    print(
        f"    entries:  {human_bytes(growth['entries'])} = {per_entry:,.0f} B per code per release"
        " (grows with releases x codes)"
    )
    print(
        f"    sources:  {human_bytes(growth['sources'])} per release (the compressed source file,"
        " kept by design)"
    )
    verdict = "yes" if data_share <= 2 * changed_share else "NO"
    print(
        f"  grows with changed records, not releases x codes? {verdict}: record data added per"
        f" release = {data_share:.1%} of a full copy vs {changed_share:.1%} of records changed"
        f"; time: ingest {first.ingest_s:.2f}s -> {steps[-1].ingest_s:.2f}s, diff"
        f" {steps[1].diff_s:.2f}s -> {steps[-1].diff_s:.2f}s, as-of p50"
        f" {first.as_of_ms:.2f}ms -> {steps[-1].as_of_ms:.2f}ms",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--codes", type=int, default=100_000)
    parser.add_argument("--releases", type=int, default=40)
    parser.add_argument("--change-rate", type=float, default=0.03)
    parser.add_argument("--lookups", type=int, default=200, help="as-of lookups per release")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args(argv)
    total = timed(lambda: _run(args))
    print(f"\nscale run finished in {total / 60:.1f} min", flush=True)
    return 0


def _run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="tracker-scale-") as temp:
        workdir = Path(temp)
        common = (workdir, args.codes, args.releases, args.change_rate, args.lookups)
        if args.backend in ("sqlite", "both"):
            db = workdir / "scale.db"

            def sqlite_sizes(_url: str) -> dict[str, int]:
                return sqlite_breakdown(db) if db.exists() else {}

            run_backend("SQLite", sqlite_url(db), sqlite_sizes, *common)
        if args.backend in ("postgresql", "both"):
            with pg_database("tracker_scale") as url:
                if url is None:
                    print("\nPostgreSQL: skipped, no server answers")
                else:
                    run_backend("PostgreSQL", url, pg_breakdown, *common)


if __name__ == "__main__":
    sys.exit(main())
