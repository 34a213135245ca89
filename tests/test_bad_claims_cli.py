"""Hostile claims files through `tracker validate`: ragged rows, quotes that never close, other
encodings, fields and lines over the limits, rows spanning lines.

A row that cannot be checked is reported on stderr as `<file>:<physical line>: <problem>`,
marked `error` with its message in `hcpcs_error`, and kept aligned with the header; a file
that cannot be read as rows at all ends in one `Error: <file>:<line>: <problem>` line and exit
code 1. Either way the database and the claims file are byte for byte as before. Expected
outputs are read back with the csv module, not compared with the tracker's own output.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import PROJECT_ROOT, SAMPLES
from tracker import api
from tracker.cli import cli
from tracker.validate import LINE_LIMIT, OUTPUT_COLUMNS

DESCRIPTION = "Treatment planning and care coordination management for cancer, initial treatment"


@pytest.fixture(scope="module")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("claims") / "tracker.db"
    store = api.open_store(f"sqlite:///{path}")
    for name in ("JAN", "APR", "JUL"):
        api.ingest(store, SAMPLES / f"HCPC2026_{name}_SAMPLE.txt")
    store.close()
    return path


@pytest.fixture
def db(seeded_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "tracker.db"
    shutil.copy(seeded_db, path)
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _validate(db: Path, claims: Path, *options: str) -> tuple[int, str, str]:
    """Run `tracker validate`; the database and the claims file must come out unchanged."""
    before = (_digest(db), _digest(claims))
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{db}", "validate", str(claims), *options])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError("not a TrackerError") from result.exception
    assert (_digest(db), _digest(claims)) == before
    return result.exit_code, result.stdout, result.stderr


def _rows(path: Path, encoding: str = "utf-8") -> list[list[str]]:
    with path.open(newline="", encoding=encoding) as handle:
        return list(csv.reader(handle))


def test_ragged_rows_are_errors_and_stay_aligned(db: Path, tmp_path: Path) -> None:
    claims = tmp_path / "claims.csv"
    claims.write_text(
        "claim,hcpcs,dos,note\n"
        "1,S0353,2026-02-01,ok\n"
        "2,S0353,2026-02-01\n"
        "3,S0353,2026-02-01,a,b\n"
        "4,S0353,2026-02-01,ok\n"
    )
    out = tmp_path / "out.csv"
    code, stdout, stderr = _validate(db, claims, "-o", str(out))
    assert code == 0
    assert stderr == (
        f"{claims}:3: row has 3 fields, the header has 4\n"
        f"{claims}:4: row has 5 fields, the header has 4 (the extra fields are not copied)\n"
    )
    rows = _rows(out)
    assert rows[0] == ["claim", "hcpcs", "dos", "note", *OUTPUT_COLUMNS]
    assert {len(row) for row in rows} == {4 + len(OUTPUT_COLUMNS)}
    by_column = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [row["hcpcs_status"] for row in by_column] == ["active", "error", "error", "active"]
    assert by_column[1]["note"] == ""
    assert by_column[2]["note"] == "a"
    assert by_column[1]["hcpcs_error"] == "row has 3 fields, the header has 4"
    assert [row["hcpcs_description"] for row in by_column] == [DESCRIPTION, "", "", DESCRIPTION]
    assert "2 rows checked" not in stdout and "4 rows checked" in stdout


def test_unterminated_quote_is_an_error_naming_its_line(db: Path, tmp_path: Path) -> None:
    claims = tmp_path / "claims.csv"
    claims.write_text(
        "claim,hcpcs,dos,note\n"
        "1,S0353,2026-02-01,ok\n"
        '2,S0353,2026-02-01,"never closed\n'
        "3,S0353,2026-02-01,ok\n"
        "4,S0353,2026-02-01,ok\n"
    )
    assert _validate(db, claims) == (
        1,
        "",
        "Error: claims.csv:3: quoted field is never closed"
        " (it would run to the end of the file, line 5)\n",
    )


def test_unterminated_quote_in_a_large_file_stops_within_the_line_limit(
    db: Path, tmp_path: Path
) -> None:
    claims = tmp_path / "claims.csv"
    rows = (LINE_LIMIT // 20) + 10
    with claims.open("w") as handle:
        handle.write('claim,hcpcs,dos,note\n1,S0353,2026-02-01,"open\n')
        handle.write("2,S0353,2026-02-01,ok\n" * rows)
    assert _validate(db, claims) == (
        1,
        "",
        "Error: claims.csv:2: row is longer than 1,048,576 characters"
        " (a quoted field that is never closed?)\n",
    )


def test_error_lines_count_physical_lines(db: Path, tmp_path: Path) -> None:
    claims = tmp_path / "claims.csv"
    claims.write_text(
        "claim,hcpcs,dos,note\n"
        '1,S0353,2026-02-01,"one\ntwo\nthree"\n'
        "2,S0353,31/31/2026,x\n"
        '3,,2026-02-01,"a\r\nb"\n'
        "4,S0353,2026-02-01\n",
        newline="",
    )
    code, _stdout, stderr = _validate(db, claims)
    assert code == 0
    assert stderr == (
        f"{claims}:5: date '31/31/2026' is not a calendar date\n"
        f"{claims}:6: no code\n"
        f"{claims}:8: row has 3 fields, the header has 4\n"
    )


@pytest.mark.parametrize(
    ("encoding", "options"),
    [("cp1252", ()), ("latin-1", ()), ("cp1252", ("--encoding", "cp1252"))],
)
def test_single_byte_files_keep_their_bytes(
    db: Path, tmp_path: Path, encoding: str, options: tuple[str, ...]
) -> None:
    claims = tmp_path / "claims.csv"
    # 0x81 is not a Windows-1252 character, so the second file can only be Latin-1.
    name = "Jos\xe9 Mu\xf1oz \u20ac" if encoding == "cp1252" else "Jos\xe9 \x81"
    claims.write_bytes(f"claim,hcpcs,dos,patient\n1,S0353,2026-02-01,{name}\n".encode(encoding))
    out = tmp_path / "out.csv"
    code, _stdout, stderr = _validate(db, claims, "-o", str(out), *options)
    assert (code, stderr) == (0, "")
    written = out.read_bytes()
    assert f",{name},active,".encode(encoding) in written
    assert b"\xef\xbf\xbd" not in written  # no U+FFFD in UTF-8
    rows = _rows(out, encoding)
    assert rows[1][:4] == ["1", "S0353", "2026-02-01", name]


def test_utf8_stays_utf8(db: Path, tmp_path: Path) -> None:
    claims = tmp_path / "claims.csv"
    claims.write_bytes("\ufeffclaim,hcpcs,dos,patient\n1,S0353,2026-02-01,Jos\xe9\n".encode())
    out = tmp_path / "out.csv"
    assert _validate(db, claims, "-o", str(out))[0] == 0
    assert out.read_bytes().startswith(b"claim,hcpcs,dos,patient,hcpcs_status")
    assert b",Jos\xc3\xa9,active," in out.read_bytes()


def test_a_file_not_in_the_encoding_given(db: Path, tmp_path: Path) -> None:
    claims = tmp_path / "claims.csv"
    claims.write_bytes(
        b"claim,hcpcs,dos,patient\n1,S0353,2026-02-01,ok\n2,S0353,2026-02-01,Jos\xe9\n"
    )
    offset = claims.read_bytes().index(b"\xe9") + 1
    assert _validate(db, claims, "--encoding", "utf-8") == (
        1,
        "",
        f"Error: claims.csv:3: not utf-8 text (byte {offset} of the file)\n",
    )
    assert _validate(db, claims, "--encoding", "klingon") == (
        1,
        "",
        "Error: --encoding: unknown encoding 'klingon'\n",
    )


def test_a_field_over_the_csv_modules_limit_is_read(db: Path, tmp_path: Path) -> None:
    claims = tmp_path / "claims.csv"
    huge = "x" * (csv.field_size_limit() + 10)
    claims.write_text(
        f'claim,hcpcs,dos,note\n1,S0353,2026-02-01,"{huge}"\n2,S0353,2026-02-01,{huge}\n'
    )
    out = tmp_path / "out.csv"
    code, _stdout, stderr = _validate(db, claims, "-o", str(out))
    assert (code, stderr) == (0, "")
    with out.open(newline="") as handle:
        limit = csv.field_size_limit(len(huge) + 1)
        try:
            rows = list(csv.reader(handle))
        finally:
            csv.field_size_limit(limit)
    assert [row[3] for row in rows[1:]] == [huge, huge]
    assert [row[4] for row in rows[1:]] == ["active", "active"]


def test_a_line_over_the_limit_is_a_row_error(db: Path, tmp_path: Path) -> None:
    claims = tmp_path / "claims.csv"
    with claims.open("w", newline="") as handle:
        handle.write("claim,hcpcs,dos,note\n1,S0353,2026-02-01,ok\n")
        handle.write("2,S0353,2026-02-01," + "y" * (3 * LINE_LIMIT) + "\r\n")
        handle.write('3,S0353,2026-02-01,"' + "z" * LINE_LIMIT + '"\n')
        handle.write("4,S0353,2026-02-01,ok")
    out = tmp_path / "out.csv"
    code, _stdout, stderr = _validate(db, claims, "-o", str(out))
    assert code == 0
    assert stderr == (
        f"{claims}:3: line is longer than 1,048,576 characters; not read\n"
        f"{claims}:4: line is longer than 1,048,576 characters; not read\n"
    )
    rows = _rows(out)
    assert [row[:5] for row in rows[1:]] == [
        ["1", "S0353", "2026-02-01", "ok", "active"],
        ["", "", "", "", "error"],
        ["", "", "", "", "error"],
        ["4", "S0353", "2026-02-01", "ok", "active"],
    ]


MEASURE = """
import resource, sys
from tracker import api
store = api.open_store(sys.argv[1])
api.validate(store, sys.argv[2], sys.argv[3])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def test_a_huge_line_runs_in_bounded_memory(db: Path, tmp_path: Path) -> None:
    """A 200 MiB line costs no more memory than a small file (the line is never held)."""
    peaks = []
    for size in (10, 200 << 20):
        claims = tmp_path / f"claims_{size}.csv"
        with claims.open("w") as handle:
            handle.write("claim,hcpcs,dos,note\n1,S0353,2026-02-01,")
            block = "q" * (1 << 20)
            for _ in range(max(size >> 20, 0)):
                handle.write(block)
            handle.write("\n2,S0353,2026-02-01,ok\n")
        result = subprocess.run(
            [sys.executable, "-c", MEASURE, f"sqlite:///{db}", str(claims), str(tmp_path / "o")],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        peaks.append(int(result.stdout.strip()))
    small, large = peaks
    assert large < small + 30_000, peaks  # KiB


def test_summary_counts_and_output_are_consistent(db: Path, tmp_path: Path) -> None:
    """Every input row (error rows included) is one output row, in order."""
    claims = tmp_path / "claims.csv"
    body = io.StringIO()
    for number in range(500):
        fields = [str(number), "S0353", "2026-02-01", "n"]
        if number % 7 == 0:
            fields = fields[:2]
        elif number % 11 == 0:
            fields.append("extra")
        body.write(",".join(fields) + "\n")
    claims.write_text("claim,hcpcs,dos,note\n" + body.getvalue())
    out = tmp_path / "out.csv"
    assert _validate(db, claims, "-o", str(out))[0] == 0
    rows = _rows(out)
    assert [row[0] for row in rows[1:]] == [str(n) for n in range(500)]
    assert {len(row) for row in rows} == {4 + len(OUTPUT_COLUMNS)}


def test_a_pipe_is_read_once(db: Path, tmp_path: Path) -> None:
    """`tracker validate <(zcat claims.csv.gz)`: a pipe cannot be scanned ahead for its
    encoding, so it is read once, as UTF-8."""
    fifo = tmp_path / "claims.pipe"
    os.mkfifo(fifo)

    def feed() -> None:
        with fifo.open("w") as pipe:
            pipe.write("claim,hcpcs,dos\n1,S0353,2026-02-01\n2,ZZ999,2026-02-01\n")

    writer = threading.Thread(target=feed)
    writer.start()
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{db}", "validate", str(fifo)])
    writer.join(timeout=30)
    assert (result.exit_code, result.stderr) == (0, "")
    assert "2 rows checked" in result.stdout
