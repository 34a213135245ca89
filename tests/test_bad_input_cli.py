"""Every malformed input, through the CLI, against a database that already holds a release.

Each case must end the same way: exactly one line `Error: <file>[:<line>|!<member>]: <problem>`
on stderr, nothing on stdout, exit code 1, no traceback, and the SQLite file byte for byte as
before. The committed corpus is `tests/data/bad/` (written by its `make_bad.py`); cases too
large to commit (a 10 MB line, a large zip bomb) or that are not files (a directory, a FIFO, a
missing path) are made here in the test's temporary folder.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import PROJECT_ROOT, SAMPLES
from tracker import api
from tracker.cli import cli

BAD_DIR = PROJECT_ROOT / "tests" / "data" / "bad"
JAN = SAMPLES / "HCPC2026_JAN_SAMPLE.txt"

NOT_A_RELEASE = (
    "not a release of a code set the tracker knows (expected CMS's HCPCS fixed-width text,"
    " workbook, release zip or per-code pages, or an ICD-10-CM/PCS order file or zip)"
)
RELEASE_COLUMNS = (
    "PRICE1-PRICE4, MULT_PI, CIM1-CIM3, MCM1-MCM3, STATUTE, LABCERT1-LABCERT8, XREF1-XREF5, COV,"
    " ASC_GRP, ASC_DT, OPPS, OPPS_PI, OPPS_DT, PROCNOTE, BETOS, TOS1-TOS5, ANEST_BU, ADD DT,"
    " ACT EFF DT, TERM DT"
)
RATIO = "compression ratio {}:1 exceeds 100:1 (zip bomb?)"

# The committed corpus: file name -> the message after `Error: `.
FILE_CASES: dict[str, str] = {
    "empty.txt": "empty.txt: file is empty",
    "garbage.bin": f"garbage.bin: {NOT_A_RELEASE}",
    "utf16.txt": "utf16.txt: text is UTF-16 encoded; CMS releases are single-byte text"
    " (ASCII or Windows-1252): save it as ANSI or UTF-8",
    "truncated.zip": "truncated.zip: truncated or corrupt zip (File is not a zip file)",
    "no_release.zip": "no_release.zip: no HCPCS release file inside"
    " (members: README.txt, notes.txt)",
    "two_releases.zip": "two_releases.zip: two candidate release files inside:"
    " HCPC_A.txt and HCPC_B.txt",
    "traversal.zip": "traversal.zip!../evil.txt: unsafe member path (absolute or containing '..')",
    # A member name made to clear the screen, start a new line and reverse the text: escaped.
    "hostile_name.zip": "hostile_name.zip!../\\x1b[2J\\x0aHCPC\\u202etxt.exe: unsafe member path"
    " (absolute or containing '..')",
    "encrypted.zip": "encrypted.zip!HCPC_SYNTH.txt: member is encrypted",
    # Found by the fuzzer: zipfile raised NotImplementedError, a traceback.
    "future_version.zip": "future_version.zip: truncated or corrupt zip (zip file version 8.4)",
    "bomb_ratio.zip": "bomb_ratio.zip!zeros.txt: " + RATIO.format(1027),
    "bomb_declared.zip": "bomb_declared.zip!huge.txt: declared size 4294967280 bytes exceeds"
    " the limit of 209715200 bytes",
    "bomb.xlsx": "bomb.xlsx!xl/worksheets/sheet1.xml: " + RATIO.format(752),
    "truncated.xlsx": "truncated.xlsx: workbook cannot be read (File is not a zip file)",
    "no_header.xlsx": "no_header.xlsx: no HCPCS release header row (missing columns HCPC, RECID, "
    + RELEASE_COLUMNS
    + ")",
    "missing_columns.xlsx": "missing_columns.xlsx:3: header row lacks required columns "
    + RELEASE_COLUMNS,
    "duplicate_code.txt": "duplicate_code.txt:3: code Z9001 appears twice (first on line 1)",
    "duplicate_code.xlsx": "duplicate_code.xlsx:4: code Z9001 appears twice (first on row 2)",
    "bad_date.txt": "bad_date.txt:1: Z9001: date '20191350' is not a calendar date",
    "bad_row.xlsx": "bad_row.xlsx:3: Z9002: date '20191350' is not a calendar date",
    "broken_ric.txt": "broken_ric.txt:2: record id 'X' is not 3, 4, 7 or 8",
    "unknown_ric.xlsx": "unknown_ric.xlsx:3: record id '5' is not 3, 4, 7 or 8",
    "truncated_record.txt": "truncated_record.txt:1: record for Z9001 is truncated"
    " (128 bytes, expected 320)",
    "orphan_continuation.txt": "orphan_continuation.txt:1: continuation line for 'Z9001'"
    " does not follow that code's first line",
    "page_without_code.txt": "page_without_code.txt:3: page has no HCPCS Code line before"
    " 'Code Description'",
}

TEN_MB = 10 * 1024 * 1024
# A first record line of the sample, to build records that are well formed up to the damage.
GOOD = next(line for line in JAN.read_bytes().split(b"\r\n") if line[5:11].isdigit())


def _member(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            archive.writestr(_member(name), data)
    return buffer.getvalue()


def _large_bomb(path: Path) -> str:
    """An honest archive (true sizes): 64 MB of zeros, refused by its ratio before inflating."""
    with zipfile.ZipFile(path, "w") as archive, archive.open(_member("HCPC_ZEROS.txt"), "w") as out:
        chunk = b"\0" * (1024 * 1024)
        for _ in range(64):
            out.write(chunk)
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("HCPC_ZEROS.txt")
    return f"{path.name}!HCPC_ZEROS.txt: " + RATIO.format(info.file_size // info.compress_size)


def _nested_bomb(path: Path) -> str:
    """A workbook bomb inside a release zip: the inner part is refused, named by both levels."""
    path.write_bytes(_zip([("HCPC_BOMB.xlsx", (BAD_DIR / "bomb.xlsx").read_bytes())]))
    return f"{path.name}!HCPC_BOMB.xlsx!xl/worksheets/sheet1.xml: " + RATIO.format(752)


def _long_record_line(path: Path) -> str:
    path.write_bytes(GOOD + b"\r\n" + GOOD[:11] + b"x" * TEN_MB + b"\r\n")
    return f"{path.name}:2: line is {TEN_MB + 11} characters long, a record has 320"


def _long_junk_line(path: Path) -> str:
    path.write_bytes(GOOD + b"\r\n" + b"A" * TEN_MB + b"\r\n")
    return f"{path.name}:2: line is not a record (no sequence number in 6-10)"


def _one_huge_line(path: Path) -> str:
    path.write_bytes(b"B" * TEN_MB)
    return f"{path.name}: {NOT_A_RELEASE}"


def _directory(path: Path) -> str:
    path.mkdir()
    (path / "notes.txt").write_bytes(b"Synthetic notes, no release here.\r\n")
    return f"{path.name}.zip: no HCPCS release file inside (members: notes.txt)"


def _empty_directory(path: Path) -> str:
    path.mkdir()
    return f"{path}: directory holds no files to ingest"


def _missing(path: Path) -> str:
    return f"{path}: no such file or directory"


def _fifo(path: Path) -> str:
    os.mkfifo(path)
    return f"{path}: is not a regular file (a device, pipe or socket)"


# Made at test time: name -> builder writing it (or not) and returning the expected message.
GENERATED: dict[str, Callable[[Path], str]] = {
    "bomb_large.zip": _large_bomb,
    "bomb_nested.zip": _nested_bomb,
    "long_record_line.txt": _long_record_line,
    "long_junk_line.txt": _long_junk_line,
    "one_huge_line.txt": _one_huge_line,
    "a_directory": _directory,
    "an_empty_directory": _empty_directory,
    "missing.txt": _missing,
    "a_fifo": _fifo,
}


@pytest.fixture(scope="module")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database holding one release, copied by each test so every case starts from it."""
    path = tmp_path_factory.mktemp("seeded") / "tracker.db"
    store = api.open_store(f"sqlite:///{path}")
    api.ingest(store, JAN)
    store.close()
    return path


@pytest.fixture
def db(seeded_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "tracker.db"
    shutil.copy(seeded_db, path)
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run_cli(db: Path, source: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{db}", "ingest", str(source)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{source.name}: not a TrackerError") from result.exception
    return result.exit_code, result.stdout, result.stderr


def _assert_refused(db: Path, source: Path, message: str, before: str) -> None:
    code, out, err = _run_cli(db, source)
    assert (code, out, err) == (1, "", f"Error: {message}\n")
    assert _digest(db) == before


def test_every_committed_case_is_pinned() -> None:
    on_disk = {p.name for p in BAD_DIR.iterdir() if p.is_file() and p.suffix != ".py"}
    assert on_disk == set(FILE_CASES)


@pytest.mark.parametrize("name", sorted(FILE_CASES))
def test_committed_case(db: Path, name: str) -> None:
    _assert_refused(db, BAD_DIR / name, FILE_CASES[name], _digest(db))


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_case(db: Path, tmp_path: Path, name: str) -> None:
    before = _digest(db)
    source = tmp_path / "inputs" / name
    source.parent.mkdir()
    message = GENERATED[name](source)
    _assert_refused(db, source, message, before)


def test_every_issue_case_is_covered() -> None:
    """The issue's list of hostile inputs, each mapped to the case(s) that stand for it."""
    issue_cases = {
        "empty file": ["empty.txt"],
        "binary garbage": ["garbage.bin"],
        "truncated zip": ["truncated.zip", "truncated.xlsx", "future_version.zip"],
        "zip with no release file": ["no_release.zip"],
        "zip with two candidate release files": ["two_releases.zip"],
        "zip member path traversal": ["traversal.zip", "hostile_name.zip"],
        "zip bomb": ["bomb_ratio.zip", "bomb_declared.zip", "bomb.xlsx", "bomb_large.zip"],
        "workbook with no header row": ["no_header.xlsx"],
        "header with missing columns": ["missing_columns.xlsx"],
        "duplicate codes in one release": ["duplicate_code.txt", "duplicate_code.xlsx"],
        "invalid dates": ["bad_date.txt", "bad_row.xlsx"],
        "unknown RIC": ["broken_ric.txt", "unknown_ric.xlsx"],
        "a 10 MB line": ["long_record_line.txt", "long_junk_line.txt", "one_huge_line.txt"],
        "wrong encoding": ["utf16.txt"],
        "a directory": ["a_directory", "an_empty_directory"],
        "a missing path": ["missing.txt"],
    }
    known = set(FILE_CASES) | set(GENERATED)
    for cases in issue_cases.values():
        assert set(cases) <= known


SUBPROCESS_CASES = ["empty.txt", "hostile_name.zip", "duplicate_code.xlsx", "long_record_line.txt"]


def test_through_a_real_process(db: Path, tmp_path: Path) -> None:
    """The installed entry point behaves the same: one line on stderr, exit 1, nothing written."""
    before = _digest(db)
    runs = []
    for name in SUBPROCESS_CASES:
        copy = tmp_path / f"{name}.db"
        shutil.copy(db, copy)
        if name in FILE_CASES:
            source, message = BAD_DIR / name, FILE_CASES[name]
        else:
            source = tmp_path / name
            message = GENERATED[name](source)
        process = subprocess.Popen(
            [sys.executable, "-m", "tracker.cli", "--db", f"sqlite:///{copy}", "ingest", source],
            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        runs.append((copy, message, process))
    for copy, message, process in runs:
        out, err = process.communicate(timeout=120)
        assert (process.returncode, out, err.decode()) == (1, b"", f"Error: {message}\n")
        assert _digest(copy) == before


def test_database_that_is_not_one(tmp_path: Path) -> None:
    """A `--db` file holding something else is refused on one line and left untouched."""
    path = tmp_path / "notes.db"
    path.write_bytes(b"Synthetic notes, not a database.\n" * 200)
    before = _digest(path)
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{path}", "ingest", str(JAN)])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: sqlite:///{path}: cannot open database (file is not a database);"
        " give a tracker database file, or a new file path to create one\n",
    )
    assert _digest(path) == before
