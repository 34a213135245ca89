"""`make bench`: the tracker measured beside the tools a user would otherwise use, in one run.

Figures, in the order printed:
  1. raw files -> classified report: tracker (fresh SQLite store, ingest both releases, diff,
     HTML report) against pandas `read_excel` + datacompy's compare and report, on the same two
     releases, alternating runs, medians and the ratio; in-process and as whole commands.
  2. ingest of each real release, in-process and as a whole `tracker ingest` command.
  3. diff of each consecutive pair, in-process.
  4. as-of lookups (median, p99) and claims validation rows/s, on SQLite and PostgreSQL.
  5. interpreter start and `tracker --help`.
  6-7. ICD-10-CM and ICD-10-PCS (`bench/icd10.py`): ingest of one FY beside a plain-Python
     floor, diff of two FYs, storage per release, loading every shared release.
Targets are printed beside the figures; a missed target is reported, never a failure.

`--quick` runs on the bundled samples in `snapshots/` only, with one repetition, to keep this
script runnable in the test suite; its numbers mean nothing.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import itertools
import json
import random
import sys
import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from benchlib import (
    CMS,
    SAMPLES,
    Row,
    copy_sqlite,
    ensure_bytecode,
    median,
    percentile,
    pg_database,
    print_table,
    run_command,
    sqlite_url,
    timed,
    timed_call,
    tracker_command,
    verdict,
)

# label, file the tracker ingests (as CMS ships it)
REAL_RELEASES: tuple[tuple[str, str], ...] = (
    ("2016", "2016/HCPC2016_CONTR_ANWEB.txt"),
    ("2017", "2017/2017-Alpha-Numeric-HCPCS-File.zip"),
    ("2018", "2018/2018-Alpha-Numeric-HCPCS-File.zip"),
    ("2020-JAN", "2020-JAN/2020-Alpha-Numeric-HCPCS-File.zip"),
    ("2020-APR", "2020-APR/HCPC2020_APR_ANWEB.xlsx"),
    ("2020-JUL", "2020-JUL/HCPC2020_JUL_ANWEB.xlsx"),
    ("2020-OCT", "2020-OCT/HCPC2020_OCT_ANWEB.xlsx"),
)
SAMPLE_RELEASES: tuple[tuple[str, str], ...] = (
    ("2026-JAN", "HCPC2026_JAN_SAMPLE.txt"),
    ("2026-APR", "HCPC2026_APR_SAMPLE.txt"),
    ("2026-JUL", "HCPC2026_JUL_SAMPLE.txt"),
)


@dataclass(frozen=True)
class ReportPair:
    """One raw-files -> report comparison: what each side reads for the same two releases.

    Both sides read the same release pair. Where CMS ships a zip, the tracker ingests the zip as
    shipped (it reads the fixed-width text inside, the complete form) and the peer reads the
    workbook inside the same zip, from memory.
    """

    name: str
    tracker_files: tuple[Path, Path]
    peer_specs: tuple[str, str]


def real_pairs() -> list[ReportPair]:
    z17 = CMS / "2017/2017-Alpha-Numeric-HCPCS-File.zip"
    z18 = CMS / "2018/2018-Alpha-Numeric-HCPCS-File.zip"
    apr = CMS / "2020-APR/HCPC2020_APR_ANWEB.xlsx"
    jul = CMS / "2020-JUL/HCPC2020_JUL_ANWEB.xlsx"
    return [
        ReportPair("2020-APR -> 2020-JUL (both xlsx)", (apr, jul), (str(apr), str(jul))),
        ReportPair(
            "2017 -> 2018 (zips; peer: xlsx in zip)",
            (z17, z18),
            (f"{z17}!HCPC17_CONTR_ANWEB.xlsx", f"{z18}!HCPC2018_CONTR_ANWEB_disc.xlsx"),
        ),
    ]


@dataclass
class Results:
    """Every figure of a run, also written as JSON (`--json`) for the README and comparisons."""

    tables: dict[str, list[Row]] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    # False under --in-process-only: no subprocess is timed (the smoke test's few seconds).
    commands: bool = True


def have_peer() -> bool:
    return all(importlib.util.find_spec(name) for name in ("pandas", "datacompy"))


def rate(count: float, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s" if seconds > 0 else "n/a"


def secs(value: float) -> str:
    return f"{value:.3f} s"


def millis(value: float) -> str:
    return f"{value * 1000:.2f} ms"


# --- 5. interpreter start and `tracker --help` ----------------------------------------------


def measure_start(runs: int, results: Results) -> float:
    if not results.commands:
        results.tables["5. CLI start"] = [Row("interpreter start, tracker --help", "skipped")]
        return 0.0
    bare: list[float] = []
    helped: list[float] = []
    for _ in range(runs):
        bare.append(run_command([sys.executable, "-c", "pass"]))
        helped.append(run_command([*tracker_command(), "--help"]))
    python_start, help_time = median(bare), median(helped)
    results.figures["python_start_s"] = python_start
    results.figures["tracker_help_s"] = help_time
    results.tables["5. CLI start"] = [
        Row("python -c pass (interpreter start)", secs(python_start)),
        Row(
            "tracker --help (start + CLI imports)",
            secs(help_time),
            target="<= 0.3 s",
            verdict=verdict(help_time <= 0.3),
        ),
        Row("  of which CLI imports", secs(help_time - python_start)),
    ]
    return python_start


# --- 1. raw files -> classified report ------------------------------------------------------


def cli_has_report() -> bool:
    """`tracker report` is wired in the CLI (it is being added alongside this benchmark)."""
    from tracker import cli

    return "report" in cli.cli.commands


# Used for the whole-command sequence while `tracker report` is not in the CLI: the same
# library call a `report` command would make, in a process of its own.
_REPORT_SNIPPET = """
import sys
from pathlib import Path
from tracker import api
from tracker.report.render import render_diff
url, old, new, out = sys.argv[1:5]
store = api.open_store(url)
diff = api.diff(store, old, new)
html = render_diff(diff, "html", new_snapshot=store.snapshot(store.resolve(new)))
Path(out).write_text(html, encoding="utf-8")
store.close()
"""


def tracker_report_inprocess(files: Sequence[Path], out: Path, workdir: Path) -> list[str]:
    from tracker import api
    from tracker.report.render import render_diff

    db = workdir / f"report-{uuid.uuid4().hex[:8]}.db"
    store = api.open_store(sqlite_url(db))
    try:
        labels = [api.ingest(store, path).release.label for path in files]
        diff = api.diff(store, labels[0], labels[1])
        snapshot = store.snapshot(store.resolve(labels[1]))
        out.write_text(render_diff(diff, "html", new_snapshot=snapshot), encoding="utf-8")
    finally:
        store.close()
    db.unlink()
    return labels


def tracker_report_commands(
    files: Sequence[Path], labels: Sequence[str], out: Path, workdir: Path, use_cli: bool
) -> Callable[[], None]:
    def sequence() -> None:
        db = workdir / f"report-{uuid.uuid4().hex[:8]}.db"
        url = sqlite_url(db)
        run_command([*tracker_command(), "--db", url, "ingest", *map(str, files)])
        if use_cli:
            report = ["report", *labels[:2], "--format", "html", "-o", str(out)]
            run_command([*tracker_command(), "--db", url, *report])
        else:
            run_command(
                [sys.executable, "-c", _REPORT_SNIPPET, url, labels[0], labels[1], str(out)]
            )
        db.unlink()

    return sequence


def peer_command(specs: Sequence[str], out: Path) -> Callable[[], None]:
    script = Path(__file__).with_name("peer.py")

    def command() -> None:
        run_command([sys.executable, str(script), specs[0], specs[1], "-o", str(out)])

    return command


def alternate(contenders: dict[str, Callable[[], object]], runs: int) -> dict[str, float]:
    """Median wall time of each contender, run in turns whose order flips every round.

    Flipping the order keeps a warm cache or a busy neighbour from always favouring the same
    side.
    """
    times: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for round_number in range(runs):
        order = names if round_number % 2 == 0 else list(reversed(names))
        for name in order:
            times[name].append(timed(contenders[name]))
    return {name: median(values) for name, values in times.items()}


def measure_reports(
    pairs: Sequence[ReportPair], runs: int, workdir: Path, with_peer: bool, results: Results
) -> None:
    rows: list[Row] = []
    use_cli = cli_has_report()
    results.figures["report_via"] = "tracker report" if use_cli else "python -c (api + render_diff)"
    import peer

    for pair in pairs:
        html = workdir / "tracker-report.html"
        text = workdir / "peer-report.txt"
        # Warm-up: imports, template compilation and the page cache are not what is measured.
        labels = tracker_report_inprocess(pair.tracker_files, html, workdir)
        inprocess: dict[str, Callable[[], object]] = {
            "tracker": partial(tracker_report_inprocess, pair.tracker_files, html, workdir)
        }
        commands: dict[str, Callable[[], object]] = {
            "tracker": tracker_report_commands(pair.tracker_files, labels, html, workdir, use_cli)
        }
        if with_peer:
            peer.run(pair.peer_specs[0], pair.peer_specs[1], text)
            inprocess["peer"] = partial(peer.run, pair.peer_specs[0], pair.peer_specs[1], text)
            commands["peer"] = peer_command(pair.peer_specs, text)
        modes = [("in-process", inprocess), ("whole commands", commands)]
        for mode, contenders in modes if results.commands else modes[:1]:
            medians = alternate(contenders, runs)
            mine = medians["tracker"]
            other = medians.get("peer")
            ratio = other / mine if other else None
            results.figures[f"report {pair.name} {mode}"] = medians
            rows.append(
                Row(
                    f"{pair.name}, {mode}",
                    secs(mine),
                    secs(other) if other else "skipped",
                    f"{ratio:.1f}x" if ratio else "",
                    ">= 5x faster",
                    verdict(ratio >= 5 if ratio else None),
                )
            )
        results.figures[f"report {pair.name} sizes"] = {
            "html_bytes": html.stat().st_size,
            "peer_bytes": text.stat().st_size if text.exists() else 0,
        }
    results.tables["1. raw files -> classified report (tracker vs pandas + datacompy)"] = rows


# --- 2. ingest -------------------------------------------------------------------------------


def measure_ingest(
    releases: Sequence[tuple[str, Path]],
    runs: int,
    python_start: float,
    workdir: Path,
    results: Results,
) -> Path:
    """Ingest every release in order into fresh stores; returns the last full store's file.

    In-process times exclude opening the store (Alembic's migration of a new database, shown
    on its own row). Each whole `tracker ingest` command runs against a copy of the store as it
    stood before that release, so it pays what a user's next ingest pays, migrations aside.
    """
    from tracker import api

    per_release: dict[str, list[float]] = {label: [] for label, _ in releases}
    counts: dict[str, int] = {}
    opens: list[float] = []
    stages: dict[str, Path] = {}
    store_file = workdir / "none.db"
    for run_number in range(runs + 1):  # the first run warms imports up and is not counted
        store_file = workdir / f"ingest-{run_number}.db"
        start_open, store = timed_call(api.open_store, sqlite_url(store_file))
        previous: Path | None = None
        for label, path in releases:
            if run_number == 0:
                stages[label] = previous if previous is not None else workdir / "empty.db"
            seconds, result = timed_call(api.ingest, store, path)
            counts[label] = result.release.record_count
            if run_number > 0:
                per_release[label].append(seconds)
            if run_number == 0:
                previous = workdir / f"stage-{label}.db"
                store.close()
                copy_sqlite(store_file, previous)
        store.close()
        if run_number > 0:
            opens.append(start_open)
    rows = [Row("open a new SQLite store (schema migration)", secs(median(opens)))]
    for label, path in releases:
        seconds = median(per_release[label])
        results.figures[f"ingest {label} in-process s"] = seconds
        rows.append(
            Row(
                f"ingest {label} ({counts[label]:,} codes), in-process",
                f"{secs(seconds)} ({rate(counts[label], seconds)})",
            )
        )
        if not results.commands:
            continue
        whole: list[float] = []
        for _ in range(runs):
            target = workdir / f"cmd-{uuid.uuid4().hex[:8]}.db"
            if stages[label].exists():
                copy_sqlite(stages[label], target)
            whole.append(
                run_command([*tracker_command(), "--db", sqlite_url(target), "ingest", str(path)])
            )
            target.unlink()
        command = median(whole)
        beyond = command - python_start
        results.figures[f"ingest {label} command s"] = command
        rows.append(
            Row(
                f"  tracker ingest {path.name} (whole command; beyond interpreter start)",
                f"{secs(command)}; {secs(beyond)}",
                target="<= 0.5 s beyond start",
                verdict=verdict(beyond <= 0.5),
            )
        )
    results.tables["2. ingest (SQLite)"] = rows
    return store_file


# --- 3. diff ---------------------------------------------------------------------------------


def measure_diffs(store_url: str, labels: Sequence[str], runs: int, results: Results) -> None:
    from tracker import api

    store = api.open_store(store_url)
    rows: list[Row] = []
    try:
        for old, new in itertools.pairwise(labels):
            changed = len(api.diff(store, old, new).changes)  # also the warm-up
            seconds = median([timed_call(api.diff, store, old, new)[0] for _ in range(runs)])
            results.figures[f"diff {old} {new} s"] = seconds
            rows.append(
                Row(
                    f"diff {old} -> {new} ({changed:,} changes), in-process",
                    secs(seconds),
                    target="<= 0.3 s",
                    verdict=verdict(seconds <= 0.3),
                )
            )
    finally:
        store.close()
    results.tables["3. diff of consecutive releases (SQLite)"] = rows


# --- 4. as-of lookups and validation ------------------------------------------------------------


def write_claims(path: Path, codes: Sequence[str], rows: int, seed: int = 6) -> None:
    """A claims file as a clearinghouse would send it: mostly valid codes, some junk, mixed dates.

    Dates span the stored releases and beyond, so every status (active, not yet effective,
    terminated, unknown) occurs.
    """
    rng = random.Random(seed)
    first = date(2015, 6, 1)
    span = (date(2021, 6, 30) - first).days
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["claim_id", "hcpcs", "dos", "units"])
        for number in range(rows):
            code = rng.choice(codes) if rng.random() < 0.97 else f"Z{rng.randrange(10000):04d}"
            day = first + timedelta(days=rng.randrange(span))
            text = day.isoformat() if rng.random() < 0.9 else f"{day.month}/{day.day}/{day.year}"
            writer.writerow([f"C{number:08d}", code, text, rng.randrange(1, 5)])


def lookup_sample(codes: Sequence[str], count: int, seed: int = 7) -> list[tuple[str, date]]:
    rng = random.Random(seed)
    first = date(2015, 6, 1)
    span = (date(2021, 6, 30) - first).days
    return [(rng.choice(codes), first + timedelta(days=rng.randrange(span))) for _ in range(count)]


def measure_queries(
    backend: str,
    store_url: str,
    lookups: int,
    claims: Path,
    claim_rows: int,
    runs: int,
    workdir: Path,
    results: Results,
) -> list[Row]:
    from tracker import api
    from tracker.query import CodeIndex

    store = api.open_store(store_url)
    try:
        codes = list(api.codes_as_of(store, date(2020, 1, 1), status="all"))
        sample = lookup_sample([state.code for state in codes] + ["ZZZZZ"], lookups)
        for code, day in sample[:20]:  # warm-up: connection pool, statement caches
            api.code_state(store, code, day)
        latencies = [timed_call(api.code_state, store, code, day)[0] for code, day in sample]
        out = workdir / "validated.csv"
        validation = [timed_call(api.validate, store, claims, out) for _ in range(runs)]
        load = median([timed_call(CodeIndex.load, store)[0] for _ in range(runs)])
    finally:
        store.close()
    p50, p99 = median(latencies), percentile(latencies, 0.99)
    seconds = median([elapsed for elapsed, _ in validation])
    rows = validation[-1][1].rows
    throughput = rows / seconds
    results.figures[f"as-of {backend}"] = {"median_s": p50, "p99_s": p99, "lookups": lookups}
    results.figures[f"validate {backend}"] = {
        "rows": rows,
        "seconds": seconds,
        "rows_per_s": throughput,
        "index_load_s": load,
    }
    return [
        Row(
            f"as-of lookup, {backend} (api.code_state, {lookups:,} random code/date), median",
            millis(p50),
            target="<= 2 ms",
            verdict=verdict(p50 <= 0.002),
        ),
        Row(f"as-of lookup, {backend}, p99", millis(p99)),
        Row(
            f"validate {claim_rows:,} claim rows, {backend} (api.validate, CSV out)",
            f"{rate(rows, seconds)} ({secs(seconds)})",
            target=">= 200,000/s",
            verdict=verdict(throughput >= 200_000),
        ),
        Row(f"  of which loading the code index, {backend}", secs(load)),
    ]


def ingest_all(store_url: str, releases: Sequence[tuple[str, Path]]) -> float:
    from tracker import api

    store = api.open_store(store_url)
    try:
        return timed(lambda: [api.ingest(store, path) for _, path in releases])
    finally:
        store.close()


# --- quick mode: workbooks for the peer from the bundled samples -----------------------------


def sample_workbooks(workdir: Path) -> tuple[str, str] | None:
    """Two small workbooks in CMS's column layout, written from the samples, for the peer.

    Only `--quick` uses them, so the peer's code path stays exercised without CMS's files.
    """
    try:
        import pandas as pd
    except ImportError:
        return None
    from tracker.codesets.hcpcs.parsers import parse_source
    from tracker.codesets.hcpcs.parsers.base import SourceFile

    specs: list[str] = []
    for _, name in SAMPLE_RELEASES[:2]:
        path = SAMPLES / name
        parsed = parse_source(SourceFile(name=path.name, data=path.read_bytes()))
        frame = pd.DataFrame(
            [
                {
                    "HCPC": record.code,
                    "SEQNUM": "0010",
                    "LONG DESCRIPTION": record.long_description,
                    "SHORT DESCRIPTION": record.short_description,
                    "COV": record.coverage,
                    "TERM DT": record.termination_date,
                    "ACTION CD": record.action_code,
                }
                for record in parsed.records
            ]
        )
        target = workdir / path.with_suffix(".xlsx").name
        frame.to_excel(target, index=False, engine="openpyxl")
        specs.append(str(target))
    return specs[0], specs[1]


# --- main ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="bundled samples, one repetition")
    parser.add_argument("--runs", type=int, help="repetitions per figure (default 5, quick 1)")
    parser.add_argument("--lookups", type=int, help="as-of lookups (default 2,000)")
    parser.add_argument("--claims", type=int, help="claim rows to validate (default 200,000)")
    parser.add_argument("--no-pg", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--no-peer", action="store_true", help="skip pandas + datacompy")
    parser.add_argument("--no-icd10", action="store_true", help="skip the ICD-10 sections")
    parser.add_argument(
        "--in-process-only", action="store_true", help="skip whole-command (subprocess) figures"
    )
    parser.add_argument("--json", type=Path, help="also write every figure here")
    parser.add_argument("--markdown", type=Path, help="also write the tables here")
    args = parser.parse_args(argv)

    runs = args.runs or (1 if args.quick else 5)
    lookups = args.lookups or (50 if args.quick else 2000)
    claim_rows = args.claims or (2000 if args.quick else 1_000_000)
    with_peer = not args.no_peer and have_peer()

    if args.quick:
        releases = [(label, SAMPLES / name) for label, name in SAMPLE_RELEASES]
    else:
        missing = [name for _, name in REAL_RELEASES if not (CMS / name).exists()]
        if missing:
            print(f"missing under {CMS}: {', '.join(missing)} (set TRACKER_SHARED)")
            return 2
        releases = [(label, CMS / name) for label, name in REAL_RELEASES]

    results = Results(commands=not args.in_process_only)
    ensure_bytecode()
    with tempfile.TemporaryDirectory(prefix="tracker-bench-") as temp:
        workdir = Path(temp)
        print(f"tracker benchmark: {'quick (samples)' if args.quick else CMS}; runs={runs}")
        python_start = measure_start(max(runs, 3) if not args.quick else 1, results)

        if args.quick:
            peer_specs = sample_workbooks(workdir) if with_peer else None
            files = (releases[0][1], releases[1][1])
            pairs = [
                ReportPair(
                    "samples 2026-JAN -> 2026-APR",
                    files,
                    peer_specs or ("", ""),
                )
            ]
            with_peer = with_peer and peer_specs is not None
        else:
            pairs = real_pairs()
        measure_reports(pairs, runs, workdir, with_peer, results)

        store_file = measure_ingest(releases, runs, python_start, workdir, results)
        labels = [label for label, _ in releases]
        measure_diffs(sqlite_url(store_file), labels, runs, results)

        from tracker import api
        from tracker.query import CodeIndex

        store = api.open_store(sqlite_url(store_file))
        codes = CodeIndex.load(store).codes()
        store.close()
        claims = workdir / "claims.csv"
        write_claims(claims, list(codes), claim_rows)
        query_rows = measure_queries(
            "SQLite", sqlite_url(store_file), lookups, claims, claim_rows, runs, workdir, results
        )
        if not args.no_pg:
            with pg_database() as pg_url:
                if pg_url is None:
                    query_rows.append(Row("PostgreSQL", "skipped: no server answers"))
                else:
                    seconds = ingest_all(pg_url, releases)
                    query_rows.append(
                        Row(f"ingest all {len(releases)} releases, PostgreSQL", secs(seconds))
                    )
                    query_rows += measure_queries(
                        "PostgreSQL", pg_url, lookups, claims, claim_rows, runs, workdir, results
                    )
        results.tables["4. as-of lookups and claims validation"] = query_rows

        if not args.no_icd10:
            import icd10

            results.tables.update(
                icd10.measure(
                    runs, workdir, results.figures, quick=args.quick, commands=results.commands
                )
            )

    print()
    print(f"peer: pandas.read_excel(engine='calamine') + datacompy; {peer_versions()}")
    print(f"tracker report step: {results.figures['report_via']}")
    markdown = [f"peer: {peer_versions()}; report step: {results.figures['report_via']}\n"]
    order = sorted(results.tables)
    for title in order:
        markdown.append(print_table(title, results.tables[title]))
    if args.markdown:
        args.markdown.write_text("\n".join(markdown), encoding="utf-8")
    if args.json:
        payload = {
            "figures": results.figures,
            "tables": {t: [vars(r) for r in rows] for t, rows in results.tables.items()},
        }
        args.json.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
    return 0


def peer_versions() -> str:
    if not have_peer():
        return "pandas/datacompy not installed (peer skipped)"
    import datacompy
    import pandas

    return f"pandas {pandas.__version__}, datacompy {datacompy.__version__}"


if __name__ == "__main__":
    sys.exit(main())
