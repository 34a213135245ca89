"""`tracker report` and `tracker codes` through the command line.

The report's expected bytes are the golden files, which the library-level report tests write
from snapshots built in memory; here the same releases go through `ingest`, the store and the
CLI, so a difference in either path shows. The code listing is checked against the sample
files read independently: the fixed-width lines sliced here by CMS's record layout.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import PROJECT_ROOT, SAMPLES
from tracker.cli import cli

GOLDEN = PROJECT_ROOT / "tests" / "golden"
SAMPLE_FILES = [SAMPLES / f"HCPC2026_{month}_SAMPLE.txt" for month in ("JAN", "APR", "JUL")]


def run(db: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{db}", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "tracker.db"
    code, out, err = run(path, "ingest", *map(str, SAMPLE_FILES))
    assert code == 0, out + err
    return path


@pytest.mark.parametrize("fmt", ["md", "html", "csv", "json"])
def test_report_of_a_release_pair_is_the_golden_report(db: Path, fmt: str) -> None:
    result = CliRunner().invoke(
        cli, ["--db", f"sqlite:///{db}", "report", "2026-JAN", "2026-APR", "--format", fmt]
    )
    assert (result.exit_code, result.stderr) == (0, "")
    expected = (GOLDEN / f"report_2026-JAN_2026-APR.{fmt}").read_bytes()
    assert result.stdout_bytes == expected


@pytest.mark.parametrize("fmt", ["md", "html", "csv", "json"])
def test_year_report_to_a_file_is_the_golden_report(db: Path, tmp_path: Path, fmt: str) -> None:
    target = tmp_path / f"year.{fmt}"
    code, out, err = run(db, "report", "--year", "2026", "--format", fmt, "-o", str(target))
    assert (code, err) == (0, "")
    expected = (GOLDEN / f"year_2026.{fmt}").read_bytes()
    assert target.read_bytes() == expected
    assert out == f"wrote {target} ({len(expected)} bytes)\n"


def test_report_of_a_release_not_stored_is_one_line(db: Path) -> None:
    code, out, err = run(db, "report", "2026-JAN", "2026-OCT")
    assert (code, out) == (1, "")
    assert err == "Error: release 2026-OCT is not stored (stored: 2026-JAN, 2026-APR, 2026-JUL)\n"


def _cms_date(text: str) -> date | None:
    text = text.strip()
    return date(int(text[:4]), int(text[4:6]), int(text[6:8])) if text.strip("0") else None


def _raw_records(path: Path) -> dict[str, tuple[str, date | None, date | None]]:
    """code -> (long description, added date, termination date), sliced from the raw lines."""
    records: dict[str, tuple[str, date | None, date | None]] = {}
    parts: dict[str, list[str]] = {}
    for line in path.read_text(encoding="latin-1").splitlines():
        if len(line) < 11:
            continue
        code, ric = line[0:5].strip(), line[10]
        parts.setdefault(code, []).append(line[11:91])
        if ric in "37":
            records[code] = ("", _cms_date(line[268:276]), _cms_date(line[284:292]))
    return {
        code: (" ".join(" ".join(parts[code]).split()), added, ended)
        for code, (_, added, ended) in records.items()
    }


def test_codes_as_of_a_date_as_known_at_a_release(db: Path) -> None:
    day = date(2026, 5, 1)
    code, out, err = run(
        db, "codes", "--as-of", day.isoformat(), "--known-at", "2026-APR", "--format", "csv"
    )
    assert (code, err) == (0, "")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["code", "status", "description", "termination_date", "release"]
    raw = _raw_records(SAMPLES / "HCPC2026_APR_SAMPLE.txt")
    expected = sorted(
        [code, "active", description, "", "2026-APR"]
        for code, (description, added, ended) in raw.items()
        if (added is None or added <= day) and (ended is None or ended >= day)
    )
    assert rows[1:] == expected
    assert len(expected) < len(raw)  # some codes were not active, so the filter was tested


def test_codes_with_a_prefix_lists_only_those(db: Path) -> None:
    code, out, _ = run(db, "codes", "--as-of", "2026-05-01", "--prefix", "j", "--format", "csv")
    assert code == 0
    codes = [row[0] for row in csv.reader(io.StringIO(out))][1:]
    assert codes and all(c.startswith("J") for c in codes)


def test_codes_with_a_bad_date_is_one_line(db: Path) -> None:
    code, out, err = run(db, "codes", "--as-of", "2026-13-01")
    assert code != 0 and out == ""
    assert err.startswith("Error: ") and err.count("\n") == 1
