"""Claims validation: streaming, per-row answers, bad rows reported, counts against a reference."""

from __future__ import annotations

import csv
import itertools
import random
import subprocess
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import PROJECT_ROOT, REAL_FILES, SAMPLES, shared_path
from tracker import api
from tracker.cli import cli
from tracker.codesets.hcpcs.filenames import infer_label
from tracker.codesets.hcpcs.parsers import parse_source
from tracker.codesets.hcpcs.parsers.base import SourceFile
from tracker.codesets.hcpcs.record import Record
from tracker.dates import parse_service_date


@pytest.fixture
def sample_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = api.open_store(url)
    for name in ("JAN", "APR", "JUL"):
        api.ingest(store, SAMPLES / f"HCPC2026_{name}_SAMPLE.txt")
    store.close()
    return url


def test_dates_in_iso_us_and_compact_forms() -> None:
    assert parse_service_date("2020-04-15") == date(2020, 4, 15)
    assert parse_service_date("2020-04-15T10:00:00") == date(2020, 4, 15)
    assert parse_service_date("4/15/2020") == date(2020, 4, 15)
    assert parse_service_date("04-15-2020") == date(2020, 4, 15)
    assert parse_service_date("20200415") == date(2020, 4, 15)
    for bad in ("2020-13-01", "15/15/2020", "yesterday", ""):
        with pytest.raises(ValueError):
            parse_service_date(bad)


def test_validate_cli_annotates_rows_and_reports_bad_ones(sample_db: str, tmp_path: Path) -> None:
    claims = tmp_path / "claims.csv"
    claims.write_text(
        "claim,HCPCS,DOS\n"
        "1,S0353,2026-02-01\n"
        "2,s0353,02/01/2026\n"
        "3,ZZ999,2026-02-01\n"
        "4,,2026-02-01\n"
        "5,S0353,31/31/2026\n"
        "6,E0159,2026-05-01\n"
        "7,M1397,2024-06-01\n"
    )
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(
        cli,
        [
            "--db",
            sample_db,
            "validate",
            str(claims),
            "--code-column",
            "hcpcs",
            "--date-column",
            "dos",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert [r["hcpcs_status"] for r in rows] == [
        "active",
        "active",
        "unknown",
        "error",
        "error",
        "terminated",
        "not yet effective",
    ]
    assert rows[0]["hcpcs_description"] == (
        "Treatment planning and care coordination management for cancer, initial treatment"
    )
    # The message of a row that cannot be checked has a column of its own.
    assert (rows[3]["hcpcs_description"], rows[3]["hcpcs_error"]) == ("", "no code")
    assert rows[4]["hcpcs_error"] == "date '31/31/2026' is not a calendar date"
    assert {r["hcpcs_error"] for r in rows if r["hcpcs_status"] != "error"} == {""}
    assert rows[5]["hcpcs_termination_date"] == "2026-03-31"
    assert rows[5]["hcpcs_replacements"] == "E0161 E0162"
    assert "7 rows checked" in result.stdout
    assert f"{claims}:5: no code" in result.stderr
    assert f"{claims}:6: date '31/31/2026' is not a calendar date" in result.stderr
    failing = CliRunner().invoke(
        cli, ["--db", sample_db, "validate", str(claims), "--fail-on-invalid"]
    )
    assert failing.exit_code == 2


def test_missing_column_is_a_one_line_error(sample_db: str, tmp_path: Path) -> None:
    claims = tmp_path / "claims.csv"
    claims.write_text("code,date\nS0353,2026-02-01\n")
    result = CliRunner().invoke(cli, ["--db", sample_db, "validate", str(claims)])
    assert result.exit_code == 1
    assert result.stderr == "Error: claims.csv:1: no column 'hcpcs' (columns: code, date)\n"


# --- Real releases: counts against an independent, slow reference -----------------------------


def _reference_timelines() -> tuple[list[date], dict[str, list[tuple[int, Record]]]]:
    """Each code's records per release, read straight from the CMS files (no store)."""
    effective: list[date] = []
    timelines: dict[str, list[tuple[int, Record]]] = {}
    for position, name in enumerate(REAL_FILES):
        path = shared_path("cms-hcpcs", *name.split("/"))
        label = infer_label(path.name)
        assert label is not None
        effective.append(label.effective_date)
        for record in parse_source(SourceFile(path.name, path.read_bytes())).records:
            timelines.setdefault(record.code, []).append((position, record))
    return effective, timelines


def _reference_status(
    effective: list[date], timeline: list[tuple[int, Record]], on: date
) -> tuple[str, str]:
    if not timeline:
        return "unknown", ""
    known = timeline[-1][1]
    # Meaning: latest release effective on or before the date, else the first carrying it;
    # then any later declared change already in effect.
    meaning_at = 0
    for index, (position, _) in enumerate(timeline):
        if effective[position] <= on:
            meaning_at = index
    for index in range(meaning_at + 1, len(timeline)):
        record = timeline[index][1]
        previous_release = effective[timeline[index - 1][0]]
        if (
            record.action_code not in ("", "N")
            and record.action_effective_date is not None
            and previous_release < record.action_effective_date <= on
        ):
            meaning_at = index
    meaning = timeline[meaning_at][1]
    # A reused code (added date rewritten later) means the new thing from its new added date.
    for _, record in timeline[meaning_at + 1 :]:
        if (
            record.added_date
            and meaning.added_date
            and record.added_date > meaning.added_date
            and on >= record.added_date
        ):
            meaning = record
            break
    decider = (
        meaning
        if meaning.added_date and known.added_date and known.added_date > meaning.added_date
        else known
    )
    if decider.added_date and on < decider.added_date:
        status = "not yet effective"
    elif decider.termination_date and on > decider.termination_date:
        status = "terminated"
    else:
        status = "active"
    # Purged: absent from the release after its last one, with no termination before then.
    positions = [position for position, _ in timeline]
    # No code vanishes and comes back within these releases (that case has tests of its own).
    assert positions == list(range(positions[0], positions[-1] + 1)), positions
    if positions[-1] + 1 < len(effective):
        dropped = effective[positions[-1] + 1]
        ended = decider.termination_date
        if on >= dropped and not (ended is not None and ended < dropped):
            status = "removed"
    # Re-activated (action R after a termination): the days between stay terminated.
    for (_, before), (_, after) in itertools.pairwise(timeline):
        ended, back = before.termination_date, after.action_effective_date
        if after.action_code == "R" and ended and back and ended < on < back:
            status = "terminated"
    return status, meaning.long_description


def _write_claims(path: Path, codes: list[str], rows: int, seed: int) -> None:
    rng = random.Random(seed)
    start = date(2015, 6, 1)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["claim_id", "hcpcs", "dos", "billed"])
        for number in range(rows):
            code = rng.choice(codes) if rng.random() < 0.98 else "ZZ999"
            day = start + timedelta(days=rng.randrange(2000))
            text = day.isoformat() if number % 2 else f"{day.month}/{day.day}/{day.year}"
            writer.writerow([number, code, text, "10.00"])


def test_bulk_validation_matches_the_reference(real_store_url: str, tmp_path: Path) -> None:
    effective, timelines = _reference_timelines()
    claims = tmp_path / "claims.csv"
    _write_claims(claims, sorted(timelines), 100_000, seed=7)
    out = tmp_path / "out.csv"
    store = api.open_store(real_store_url)
    summary = api.validate(store, claims, out)
    store.close()
    expected: Counter[str] = Counter()
    with claims.open(newline="") as source, out.open(newline="") as annotated:
        for number, (row, answer) in enumerate(
            zip(csv.DictReader(source), csv.DictReader(annotated), strict=True)
        ):
            status, description = _reference_status(
                effective, timelines.get(row["hcpcs"], []), parse_service_date(row["dos"])
            )
            expected[status] += 1
            if number % 97 == 0:  # a sample of rows checked field by field
                assert (answer["hcpcs_status"], answer["hcpcs_description"]) == (
                    status,
                    description,
                ), row
    assert summary.rows == 100_000
    assert dict(summary.statuses) == dict(expected)
    assert summary.invalid_codes["ZZ999"] == expected_unknown(claims)


def expected_unknown(claims: Path) -> int:
    with claims.open(newline="") as handle:
        return sum(1 for row in csv.DictReader(handle) if row["hcpcs"] == "ZZ999")


MEASURE = """
import resource, sys
from tracker import api
store = api.open_store(sys.argv[1])
api.validate(store, sys.argv[2], sys.argv[3])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def test_memory_stays_flat_as_the_file_grows(real_store_url: str, tmp_path: Path) -> None:
    store = api.open_store(real_store_url)
    codes = [state.code for state in api.codes_as_of(store, "2020-06-01", status="all")]
    store.close()
    peaks = []
    for rows in (20_000, 300_000):
        claims = tmp_path / f"claims_{rows}.csv"
        _write_claims(claims, codes, rows, seed=rows)
        result = subprocess.run(
            [sys.executable, "-c", MEASURE, real_store_url, str(claims), str(tmp_path / "o.csv")],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        peaks.append(int(result.stdout.strip()))
    small, large = peaks
    # Fifteen times the rows may not cost more than a bounded cache's worth of memory (KiB).
    assert large < small + 40_000, peaks
