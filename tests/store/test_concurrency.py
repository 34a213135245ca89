"""Ingests racing each other, as real processes on SQLite and PostgreSQL.

Two kinds of race. Plain `python -m tracker.cli ingest` processes started together, as users
would; their imports take longer than their database work, so they only overlap roughly. And
tight races: processes that import the CLI once, then run one command per wave, each wave
released by a barrier file so that every process reaches the database within a millisecond of
the others. Every race must end with no duplicate release, no partial snapshot, and each loser
told so on one line (a no-op message, or `Error: ...`), never a traceback.

`TRACKER_RACE_ROUNDS` sets how many rounds of tight waves run (default 3).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT, SAMPLES
from tracker import api
from tracker.codesets.hcpcs.parsers import parse_source

JAN = SAMPLES / "HCPC2026_JAN_SAMPLE.txt"
APR = SAMPLES / "HCPC2026_APR_SAMPLE.txt"
JUL = SAMPLES / "HCPC2026_JUL_SAMPLE.txt"
ROUNDS = int(os.environ.get("TRACKER_RACE_ROUNDS", "3"))
TIMEOUT_S = 120

# Imports the CLI once, says it is ready, then runs wave i's command when `go-i` appears and
# writes [exit code, stdout, stderr]. An exception other than click's exits is a traceback,
# exactly as `python -m tracker.cli` would print it.
HARNESS = """
import contextlib, io, json, sys, time, traceback
from pathlib import Path
from tracker.cli import cli
work, me, url, waves = Path(sys.argv[1]), sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
(work / f"ready-{me}").touch()
for wave, args in enumerate(waves):
    go = work / f"go-{wave}"
    while not go.exists():
        time.sleep(0.001)
    if args is None:
        continue
    out, err, code = io.StringIO(), io.StringIO(), 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            cli.main(["--db", url, *args], prog_name="tracker")
        except SystemExit as exc:
            code = exc.code or 0
        except BaseException:
            traceback.print_exc()
            code = 99
    result = json.dumps([code, out.getvalue(), err.getvalue()])
    partial = work / f"partial-{wave}-{me}"
    partial.write_text(result)
    partial.rename(work / f"result-{wave}-{me}.json")
"""


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str

    @property
    def stored(self) -> bool:
        return self.code == 0 and ": stored 20" in self.out

    @property
    def noop(self) -> bool:
        return self.code == 0 and "identical content is already stored as" in self.out


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}


def _check_one_line(outcome: Outcome) -> None:
    assert "Traceback" not in outcome.err, outcome.err
    if outcome.code != 0:
        assert outcome.code == 1, outcome
        assert outcome.err.startswith("Error: ") and outcome.err.count("\n") == 1, outcome


def _wait_for(paths: list[Path]) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not all(p.exists() for p in paths):
        assert time.monotonic() < deadline, [p.name for p in paths if not p.exists()]
        time.sleep(0.005)


def _tight_races(
    work: Path, url: str, waves: list[list[list[str] | None]]
) -> list[list[Outcome | None]]:
    """Run waves[i][p] in process p, all processes of a wave released at the same instant."""
    work.mkdir()
    count = len(waves[0])
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                HARNESS,
                str(work),
                str(p),
                url,
                json.dumps([wave[p] for wave in waves]),
            ],
            env=_env(),
        )
        for p in range(count)
    ]
    try:
        _wait_for([work / f"ready-{p}" for p in range(count)])
        results: list[list[Outcome | None]] = []
        for index, wave in enumerate(waves):
            (work / f"go-{index}").touch()
            files = [work / f"result-{index}-{p}.json" for p in range(count) if wave[p]]
            _wait_for(files)
            row: list[Outcome | None] = []
            for p in range(count):
                if wave[p] is None:
                    row.append(None)
                    continue
                outcome = Outcome(*json.loads((work / f"result-{index}-{p}.json").read_text()))
                _check_one_line(outcome)
                row.append(outcome)
            results.append(row)
        for process in processes:
            assert process.wait(timeout=TIMEOUT_S) == 0
        return results
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()


_COUNTS: dict[str, int] = {}


def _records_in(source_name: str) -> int:
    if not _COUNTS:
        for path in (JAN, APR, JUL):
            _COUNTS[path.name] = len(parse_source(api.read_source(path)).records)
    return _COUNTS[source_name.replace("_COPY", "")]


def _check_store(url: str, expected: dict[str, list[int]]) -> None:
    """Stored releases (label -> issues) are exactly `expected`, each whole; verify passes."""
    store = api.open_store(url)
    try:
        found: dict[str, list[int]] = {}
        for info in api.releases(store, include_retracted=True):
            found.setdefault(info.label, []).append(info.issue)
            assert len(store.snapshot_hashes(info)) == info.record_count
            assert info.record_count == _records_in(info.source_name)
        assert found == expected
        report = api.verify(store)
        assert report.ok, report.problems
    finally:
        store.close()


def test_cli_processes_started_together(db_url: str) -> None:
    """Three `python -m tracker.cli ingest` at once on a database nobody has created yet."""
    paths = [JAN, JAN, APR]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "tracker.cli", "--db", db_url, "ingest", str(path)],
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for path in paths
    ]
    outcomes = []
    for process in processes:
        out, err = process.communicate(timeout=TIMEOUT_S)
        outcomes.append(Outcome(process.returncode, out, err))
    for outcome in outcomes:
        _check_one_line(outcome)
    assert outcomes[2].stored, outcomes
    assert sum(o.stored for o in outcomes[:2]) == 1, outcomes
    assert sum(o.noop for o in outcomes[:2]) == 1, outcomes
    _check_store(db_url, {"2026-JAN": [1], "2026-APR": [1]})


def test_tight_races(db_url: str, tmp_path: Path) -> None:
    other = tmp_path / "HCPC2026_JUL_SAMPLE_COPY.txt"
    shutil.copy(JUL, other)
    waves: list[list[list[str] | None]] = []
    for round_ in range(ROUNDS):
        year = 2030 + round_
        ingest = ["ingest", "--release"]
        waves += [
            # The same release three times (the first wave also races on creating the schema).
            [[*ingest, f"{year}-JAN", str(JAN)]] * 3 + [["releases"]],
            # Different releases at once, the stored one again, and a reader.
            [
                [*ingest, f"{year}-APR", str(APR)],
                [*ingest, f"{year}-JUL", str(JUL)],
                [*ingest, f"{year}-JAN", str(JAN)],
                ["verify", "--no-reparse"],
            ],
            # The same label with different content: one wins, the other is refused.
            [[*ingest, f"{year}-OCT", str(APR)], [*ingest, f"{year}-OCT", str(other)], None, None],
            # Re-issues at once: identical ones collapse, a different one gets the next issue.
            [
                [*ingest, f"{year}-OCT", "--reissue", str(JAN)],
                [*ingest, f"{year}-OCT", "--reissue", str(JAN)],
                [*ingest, f"{year}-OCT", "--reissue", str(APR)],
                None,
            ],
        ]
    results = _tight_races(tmp_path / "race", db_url, waves)
    expected: dict[str, list[int]] = {}
    for round_ in range(ROUNDS):
        year = 2030 + round_
        same, different, label, reissues = results[4 * round_ : 4 * round_ + 4]
        assert sum(o.stored for o in same[:3] if o) == 1, same
        assert sum(o.noop for o in same[:3] if o) == 2, same
        assert same[3] is not None and same[3].code == 0
        assert [o.stored for o in different[:2] if o] == [True, True], different
        assert different[2] is not None and different[2].noop, different
        assert different[3] is not None and different[3].code == 0, different[3]
        outcomes = [o for o in label if o]
        winner = next(o for o in outcomes if o.stored)
        loser = next(o for o in outcomes if not o.stored)
        assert f"release {year}-OCT is already stored (issue 1" in loser.err, loser
        assert loser.err.endswith("pass --reissue to store it as issue 2\n"), loser
        jan = [o for o in reissues[:2] if o]
        assert sum(o.stored for o in jan) == 1 and sum(o.noop for o in jan) == 1, reissues
        apr = reissues[2]
        assert apr is not None
        # APR content is already issue 1 when it won the previous wave; else a new issue.
        assert apr.noop if str(APR.name) in winner.out else apr.stored, (winner, apr)
        oct_issues = [1, 2] if apr.noop else [1, 2, 3]
        expected.update(
            {f"{year}-JAN": [1], f"{year}-APR": [1], f"{year}-JUL": [1], f"{year}-OCT": oct_issues}
        )
    _check_store(db_url, expected)


def test_writer_locked_out_gets_a_clear_error(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite still locked by another writer after the busy timeout: one line, nothing stored."""
    import hashlib
    import sqlite3

    from click.testing import CliRunner

    from tracker.cli import cli
    from tracker.store import database

    store = api.open_store(sqlite_url)
    api.ingest(store, JAN)
    store.close()
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    monkeypatch.setattr(database, "SQLITE_BUSY_TIMEOUT_S", 0.2)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = CliRunner().invoke(cli, ["--db", sqlite_url, "ingest", str(APR)])
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.exit_code == 1, result.output
    assert result.stderr == (
        f"Error: {APR.name}: the database could not store the release (database is locked);"
        " nothing was stored, try again\n"
    )
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
