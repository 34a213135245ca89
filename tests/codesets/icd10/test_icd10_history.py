"""`tracker history` for ICD-10 codes: field changes by ICD-10's own fields, and a code the next
release leaves out reads as deleted (ICD-10 records carry no end date), checked against the
sample order files read by their layout."""

from __future__ import annotations

import zipfile
from pathlib import Path

from click.testing import CliRunner

from tests.conftest import SAMPLES
from tracker.cli import cli

SAMPLE_ZIPS = (SAMPLES / "icd10cm_FY2019_SAMPLE.zip", SAMPLES / "icd10cm_FY2020_SAMPLE.zip")


def _flags(path: Path) -> dict[str, str]:
    """Code -> billable flag, from the order file (code in 7-13, flag in 15)."""
    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist() if "order" in n and "addenda" not in n)
        lines = archive.read(name).decode("ascii").splitlines()
    return {line[6:13].strip(): line[14] for line in lines if line.strip()}


def _run(db: str, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--db", db, *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_history_of_icd10_codes(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'icd.db'}"
    _run(db, "ingest", *map(str, SAMPLE_ZIPS))
    old, new = (_flags(path) for path in SAMPLE_ZIPS)
    switched = sorted(code for code in old.keys() & new.keys() if old[code] != new[code])
    gone = sorted(old.keys() - new.keys())
    assert switched and gone

    code = switched[0]
    dotted = f"{code[:3]}.{code[3:]}" if len(code) > 3 else code
    out = _run(db, "history", dotted)
    assert "changed" in out and "billable" in out
    assert f"{old[code]} (" in out and f"{new[code]} (" in out

    ended = _run(db, "history", gone[0])
    assert "deleted" in ended and "FY2020" in ended
    assert "purged" not in ended
