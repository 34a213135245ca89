"""The CLI bad-input suite, part two: what a careless or hostile user types around the store.

Output files (`-o`), text that looks like terminal markup, CSV cells that look like formulas,
output devices that fail, arguments out of range, templates that fail or reach for Python
internals. Every refusal is exactly one line `Error: <file or argument>: <problem>` with exit
code 1, and afterwards the database and every file that existed before are byte for byte as they
were (checked over the whole test folder, symbolic links included), with no temporary file left.
The kill tests interrupt real processes while they hold a large output open.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import PROJECT_ROOT, SAMPLES
from tracker import api
from tracker.cli import cli
from tracker.codesets.hcpcs.parsers import parse_source
from tracker.codesets.hcpcs.writers.fixedwidth import write_release
from tracker.outputfile import TEMP_MARK

JAN = SAMPLES / "HCPC2026_JAN_SAMPLE.txt"
APR = SAMPLES / "HCPC2026_APR_SAMPLE.txt"
FORMULA = '=HYPERLINK("http://example.invalid/x","click")'
FORMULA_CODE = "A0382"


def _raw_record_codes(path: Path) -> list[str]:
    """Codes of the sample read straight from the fixed-width lines (code in columns 1-5,
    record id `3` in column 11 on a code's first line), not through the tracker's parser."""
    codes = []
    for line in path.read_bytes().split(b"\r\n"):
        if len(line) > 11 and line[5:10].isdigit() and line[10:11] == b"3":
            codes.append(line[:5].decode("ascii"))
    return codes


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """JAN and APR of the samples, plus 2026-JUL whose code A0382 has a formula description."""
    folder = tmp_path_factory.mktemp("seeded")
    path = folder / "tracker.db"
    store = api.open_store(f"sqlite:///{path}")
    api.ingest(store, JAN)
    api.ingest(store, APR)
    records = [
        dataclasses.replace(r, long_description=FORMULA) if r.code == FORMULA_CODE else r
        for r in parse_source(api.read_source(APR)).records
    ]
    hostile = folder / "HCPC2026_JUL_FORMULA.txt"
    write_release(records, hostile)
    api.ingest(store, hostile)
    store.close()
    return path


@pytest.fixture
def work(seeded: Path, tmp_path: Path) -> Path:
    """A folder holding a copy of the database (`tracker.db`) and a small claims file."""
    shutil.copy(seeded, tmp_path / "tracker.db")
    code = _raw_record_codes(JAN)[0]
    (tmp_path / "claims.csv").write_text(
        f"hcpcs,dos\n{code},2026-02-01\n{FORMULA_CODE},2026-08-01\n"
    )
    return tmp_path


def _snapshot(folder: Path) -> dict[str, str]:
    """Every entry under `folder`: a file's sha256, a link's target, a folder's mode."""
    state = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        if path.is_symlink():
            state[key] = "link:" + os.readlink(path)
        elif path.is_file():
            mode = oct(path.stat().st_mode & 0o7777)
            state[key] = hashlib.sha256(path.read_bytes()).hexdigest() + mode
        else:
            state[key] = "dir"
    return state


def _run(work: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{work / 'tracker.db'}", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args}: not a one-line error") from result.exception
    return result.exit_code, result.stdout, result.stderr


def _refused(work: Path, args: list[str], message: str) -> None:
    before = _snapshot(work)
    assert _run(work, *args) == (1, "", f"Error: {message}\n")
    assert _snapshot(work) == before


# --- 1. Output files ------------------------------------------------------------------------


def test_validate_output_is_the_database(work: Path) -> None:
    db = work / "tracker.db"
    _refused(
        work,
        ["validate", str(work / "claims.csv"), "-o", str(db)],
        f"{db}: is the database in use ({db}); write the output elsewhere",
    )


def test_report_output_is_the_database_or_its_journal(work: Path) -> None:
    db = work / "tracker.db"
    for target in (db, Path(f"{db}-wal")):
        _refused(
            work,
            ["report", "2026", "2026-APR", "-o", str(target)],
            f"{target}: is the database in use ({db}); write the output elsewhere",
        )


@pytest.mark.parametrize("link", ["same", "hard", "symbolic"])
def test_validate_output_is_the_input(work: Path, link: str) -> None:
    claims = work / "claims.csv"
    target = claims
    if link == "hard":
        target = work / "hard.csv"
        os.link(claims, target)
    elif link == "symbolic":
        target = work / "sub" / "symbolic.csv"
        target.parent.mkdir()
        target.symlink_to("../claims.csv")
    _refused(
        work,
        ["validate", str(claims), "-o", str(target)],
        f"{target}: is the input {claims}; write the output elsewhere",
    )


def test_report_output_inside_the_templates_folder(work: Path) -> None:
    templates = work / "templates"
    templates.mkdir()
    (templates / "report.md.j2").write_text("{{ report }}\n")
    target = templates / "report.md.j2"
    _refused(
        work,
        ["report", "2026", "2026-APR", "--templates", str(templates), "-o", str(target)],
        f"{target}: is inside the input folder {templates}; write it elsewhere",
    )


def test_failed_header_check_keeps_the_old_output(work: Path) -> None:
    """The header is checked after the output was opened: the old file must survive."""
    (work / "out.csv").write_text("an earlier run\n")
    (work / "no_code.csv").write_text("code,dos\nA0382,2026-02-01\n")
    _refused(
        work,
        ["validate", str(work / "no_code.csv"), "-o", str(work / "out.csv")],
        "no_code.csv:1: no column 'hcpcs' (columns: code, dos)",
    )


def test_failed_report_keeps_the_old_output(work: Path) -> None:
    """The output is opened before the report is built; an unknown release then fails."""
    (work / "report.md").write_text("an earlier report\n")
    _refused(
        work,
        ["report", "2026", "2030-APR", "-o", str(work / "report.md")],
        "release 2030-APR is not stored (stored: 2026-JAN, 2026-APR, 2026-JUL)",
    )


def test_exception_while_writing_keeps_the_old_output(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C (KeyboardInterrupt) after part of the output is written."""
    import tracker.api

    real = tracker.api.validate_claims

    def interrupted(*args: object, **kwargs: object) -> object:
        real(*args, **kwargs)  # type: ignore[arg-type]
        raise KeyboardInterrupt

    monkeypatch.setattr(tracker.api, "validate_claims", interrupted)
    (work / "out.csv").write_text("an earlier run\n")
    before = _snapshot(work)
    code, out, err = _run(work, "validate", str(work / "claims.csv"), "-o", str(work / "out.csv"))
    assert (code, out, err) == (1, "", "\nAborted!\n")
    assert _snapshot(work) == before


def test_output_replaced_whole_keeping_its_mode_and_links(work: Path) -> None:
    """A successful run replaces the old file, keeps its permissions, writes through a
    symbolic link (the link stays), and leaves no temporary file."""
    out = work / "out.csv"
    out.write_text("an earlier run\n")
    out.chmod(0o640)
    link = work / "latest.csv"
    link.symlink_to("out.csv")
    code, stdout, err = _run(work, "validate", str(work / "claims.csv"), "-o", str(link))
    assert (code, err) == (0, ""), err
    assert stdout.splitlines()[0] == f"2 rows checked, written to {link}"
    assert link.is_symlink() and os.readlink(link) == "out.csv"
    assert out.stat().st_mode & 0o7777 == 0o640
    rows = list(csv.reader(io.StringIO(out.read_text())))
    assert rows[0][:2] == ["hcpcs", "dos"] and len(rows) == 3
    assert not [p for p in work.iterdir() if TEMP_MARK in p.name]
    new = work / "new.csv"
    assert _run(work, "validate", str(work / "claims.csv"), "-o", str(new))[0] == 0
    umask = os.umask(0)
    os.umask(umask)
    assert new.stat().st_mode & 0o7777 == 0o666 & ~umask


def test_output_in_a_missing_folder(work: Path) -> None:
    target = work / "missing" / "out.md"
    _refused(
        work,
        ["report", "2026", "2026-APR", "-o", str(target)],
        f"{target}: cannot write the output (its folder does not exist)",
    )


# --- 11. An output that is a folder names the output ----------------------------------------


def test_validate_output_is_a_folder(work: Path) -> None:
    folder = work / "somedir"
    folder.mkdir()
    _refused(
        work,
        ["validate", str(work / "claims.csv"), "-o", str(folder)],
        f"{folder}: is a directory; give a file name for the output",
    )


# --- Kill tests: a real process interrupted while it holds a large output open --------------


def _temp_files(folder: Path, name: str) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(f".{name}{TEMP_MARK}")]


def _start(work: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tracker.cli", "--db", f"sqlite:///{work / 'tracker.db'}", *args],
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_for_temp(folder: Path, name: str, process: subprocess.Popen[bytes], size: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        temps = _temp_files(folder, name)
        if temps and temps[0].stat().st_size >= size:
            return
        if process.poll() is not None:
            break
        time.sleep(0.002)
    process.kill()
    pytest.fail(f"{name}: the process ended before it was writing ({process.communicate()})")


@pytest.fixture(scope="module")
def big_claims(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two million claim rows (about 40 MB of output): seconds of writing to interrupt."""
    path = tmp_path_factory.mktemp("claims") / "big.csv"
    codes = _raw_record_codes(JAN)[:8]
    block = "".join(f"{code},2026-02-{day:02d}\n" for code in codes for day in range(1, 26))
    with path.open("w") as out:
        out.write("hcpcs,dos\n")
        for _ in range(2_000_000 // (len(codes) * 25)):
            out.write(block)
    return path


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_killed_validate_keeps_the_old_output(work: Path, big_claims: Path, how: int) -> None:
    out = work / "out.csv"
    out.write_text("an earlier run\n")
    before = _snapshot(work)
    process = _start(work, "validate", str(big_claims), "-o", str(out))
    _wait_for_temp(work, "out.csv", process, size=1 << 20)
    process.send_signal(how)
    process.communicate(timeout=120)
    assert process.returncode != 0
    strays = _temp_files(work, "out.csv")
    if how == signal.SIGKILL:
        # Nothing can run after SIGKILL: a recognisable temporary file may stay beside it.
        for stray in strays:
            stray.unlink()
    else:
        assert strays == []
    assert _snapshot(work) == before


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_killed_report_keeps_the_old_output(work: Path, how: int) -> None:
    """A user template that renders tens of megabytes: interrupted while the output is open."""
    templates = work / "templates"
    templates.mkdir()
    (templates / "report.md.j2").write_text(
        "{% for i in range(3000) %}{% for j in range(3000) %}row {{ i }} {{ j }}\n"
        "{% endfor %}{% endfor %}"
    )
    out = work / "report.md"
    out.write_text("an earlier report\n")
    before = _snapshot(work)
    args = ["report", "2026", "2026-APR", "--templates", str(templates), "-o", str(out)]
    process = _start(work, *args)
    _wait_for_temp(work, "report.md", process, size=0)
    time.sleep(0.3)
    process.send_signal(how)
    process.communicate(timeout=120)
    assert process.returncode == {signal.SIGINT: 1, signal.SIGTERM: 143}.get(how, -9)
    strays = _temp_files(work, "report.md")
    if how == signal.SIGKILL:
        for stray in strays:
            stray.unlink()
    else:
        assert strays == []
    assert _snapshot(work) == before


# --- 2. Text is printed as written, never read as markup ------------------------------------


def test_markup_in_a_reason_a_file_name_and_a_code(work: Path) -> None:
    reason = "see [/link] and [bold]this[/bold] :smile:"
    assert _run(work, "retract", "2026-JUL", "--reason", reason) == (
        0,
        f"retracted 2026-JUL: {reason}\n",
        "",
    )
    code, out, err = _run(work, "releases", "--all")
    assert (code, err) == (0, "")
    assert out.splitlines()[-1].rstrip().endswith(f"│ retracted: {reason}")
    assert "HCPC2026_JUL_FORMULA.txt │" in out.splitlines()[-1]

    named = work / "HCPC2026_OCT[red].txt"
    shutil.copy(APR, named)
    code, out, err = _run(work, "ingest", str(named))
    assert (code, err) == (0, "")
    assert out.startswith("HCPC2026_OCT[red].txt: stored 2026-OCT,")
    code, out, _ = _run(work, "releases")
    assert "HCPC2026_OCT[red].txt" in out

    claims = work / "markup.csv"
    claims.write_text("hcpcs,dos\n[/X],2026-02-01\n[red]Y,2026-02-01\n")
    code, out, err = _run(work, "validate", str(claims))
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == "top invalid codes: [/X] (1), [RED]Y (1)"


# --- 3. Every CSV the project writes neutralizes formulas -----------------------------------


def _csv_cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_codes_csv_neutralizes_a_formula(work: Path) -> None:
    code, out, err = _run(
        work, "codes", "--as-of", "2026-08-01", "--format", "csv", "--prefix", FORMULA_CODE
    )
    assert (code, err) == (0, "")
    rows = _csv_cells(out)
    assert rows[1][:3] == [FORMULA_CODE, "active", "'" + FORMULA]


def test_validate_output_neutralizes_a_formula(work: Path) -> None:
    out = work / "out.csv"
    code, _, err = _run(work, "validate", str(work / "claims.csv"), "-o", str(out))
    assert (code, err) == (0, "")
    rows = _csv_cells(out.read_text())
    header = rows[0]
    assert rows[2][header.index("hcpcs_description")] == "'" + FORMULA
    # Input cells are the user's own data and come back as read.
    assert rows[2][:2] == [FORMULA_CODE, "2026-08-01"]


def test_report_csv_neutralizes_a_formula(work: Path) -> None:
    out = work / "report.csv"
    code, _, err = _run(work, "report", "2026-APR", "2026-JUL", "--format", "csv", "-o", str(out))
    assert (code, err) == (0, "")
    rows = _csv_cells(out.read_text())
    header = rows[0]
    cells = [row[header.index("long_description")] for row in rows[1:]]
    assert "'" + FORMULA in cells and FORMULA not in cells


# --- 6. Output devices that fail; a closed pipe stays quiet ---------------------------------


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_full_device(work: Path) -> None:
    before = _snapshot(work)
    runs = {
        "validate -o": (
            ["validate", str(work / "claims.csv"), "-o", "/dev/full"],
            "/dev/full: cannot write the output (no space left on device)",
        ),
        "codes csv": (
            ["codes", "--as-of", "2026-02-01", "--format", "csv"],
            "standard output: cannot write (no space left on device)",
        ),
        "diff json": (
            ["diff", "2026", "2026-APR", "--format", "json"],
            "standard output: cannot write (no space left on device)",
        ),
    }
    with open("/dev/full", "wb") as full:
        processes = {
            name: subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tracker.cli",
                    "--db",
                    f"sqlite:///{work / 'tracker.db'}",
                    *args,
                ],
                env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
                stdout=full if name != "validate -o" else subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for name, (args, _) in runs.items()
        }
        for name, process in processes.items():
            _, err = process.communicate(timeout=120)
            assert (process.returncode, err.decode()) == (1, f"Error: {runs[name][1]}\n"), name
    assert _snapshot(work) == before


def test_closed_pipe_is_quiet(work: Path) -> None:
    db = f"sqlite:///{work / 'tracker.db'}"
    command = f"{sys.executable} -m tracker.cli --db {db} diff 2026 2026-JUL | head -1"
    result = subprocess.run(
        ["sh", "-c", command],
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        timeout=120,
    )
    assert result.stderr == b""
    assert result.stdout.decode().startswith("2026-JAN (2026-01-01) → 2026-JUL (2026-07-01)")


# --- 8. Arguments out of range --------------------------------------------------------------

ARGUMENT_CASES: dict[str, tuple[list[str], str]] = {
    "year 0": (
        ["ingest", str(APR), "--release", "0000", "--reissue"],
        "release '0000': year 0 is not in 1980-2100",
    ),
    "year 0 quarter": (
        ["diff", "0000-APR", "2026"],
        "release '0000-APR': year 0 is not in 1980-2100",
    ),
    "year 9999": (
        ["show", "A0382", "--release", "9999-OCT"],
        "release '9999-OCT': year 9999 is not in 1980-2100",
    ),
    "issue 0": (["diff", "2026#0", "2026-APR"], "release '2026#0': issue numbers start at 1"),
    "issue -1": (
        ["diff", "2026#-1", "2026-APR"],
        "release '2026#-1' is not a label like 2020-APR, 2020 (the annual file) or 2020-APR#2",
    ),
    "huge issue": (
        ["codes", "--as-of", "2026-02-01", "--known-at", "2026#99999999999"],
        "release '2026#99999999999': issue number is too large",
    ),
    "effective 0001": (
        ["ingest", str(APR), "--release", "2027-JAN", "--effective", "0001-01-01"],
        "--effective '0001-01-01': more than a year away from release 2027-JAN"
        " (a correction is effective within a year of its label)",
    ),
    "effective 9999": (
        ["ingest", str(APR), "--release", "2027-JAN", "--effective", "9999-12-31"],
        "--effective '9999-12-31': more than a year away from release 2027-JAN"
        " (a correction is effective within a year of its label)",
    ),
    "effective Feb 30": (
        ["ingest", str(APR), "--release", "2027-JAN", "--effective", "2020-02-30"],
        "--effective '2020-02-30': not a date as YYYY-MM-DD",
    ),
    "as-of Feb 30": (
        ["codes", "--as-of", "2020-02-30"],
        "--as-of date '2020-02-30' is not a calendar date",
    ),
    "as-of year 0": (
        ["show", "A0382", "--as-of", "0000-01-01"],
        "--as-of date '0000-01-01' is not a calendar date",
    ),
}


@pytest.mark.parametrize("name", sorted(ARGUMENT_CASES))
def test_argument_out_of_range(work: Path, name: str) -> None:
    args, message = ARGUMENT_CASES[name]
    _refused(work, args, message)


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_extreme_service_dates_are_answered(work: Path, day: str) -> None:
    """The calendar's first and last days are dates of service like any other."""
    before = _snapshot(work)
    code, out, err = _run(work, "show", FORMULA_CODE, "--as-of", day)
    assert (code, err) == (0, "")
    assert out.splitlines()[0].startswith(f"{FORMULA_CODE} on {day}: ")
    assert _snapshot(work) == before


# --- 9. Templates: render errors in one line, user templates sandboxed ----------------------

TEMPLATE_CASES: dict[str, tuple[str, str]] = {
    "division by zero": ("first line\n{{ 1/0 }}\n", "2: ZeroDivisionError: division by zero"),
    "recursive macro": (
        "{% macro loop(n) %}{{ loop(n) }}{% endmacro %}\n\n{{ loop(1) }}\n",
        "1: RecursionError: maximum recursion depth exceeded",
    ),
    "python internals": (
        "{{ ''.__class__.__mro__[1].__subclasses__() }}\n",
        "1: access to attribute '__class__' of 'str' object is unsafe.",
    ),
    "function globals": (
        "{{ lipsum.__globals__ }}\n",
        "1: access to attribute '__globals__' of 'function' object is unsafe.",
    ),
}


@pytest.mark.parametrize("name", sorted(TEMPLATE_CASES))
def test_template_failure(work: Path, name: str) -> None:
    source, message = TEMPLATE_CASES[name]
    templates = work / "templates"
    templates.mkdir()
    (templates / "report.md.j2").write_text(source)
    out = work / "report.md"
    out.write_text("an earlier report\n")
    before = _snapshot(work)
    args = ["report", "2026", "2026-APR", "--templates", str(templates), "-o", str(out)]
    code, stdout, err = _run(work, *args)
    assert (code, stdout) == (1, "")
    expected = f"Error: {templates / 'report.md.j2'}:{message}"
    # Python words its recursion message differently by call site; the start is fixed.
    assert err.startswith(expected) and err.count("\n") == 1 and err.endswith("\n"), err
    assert _snapshot(work) == before


def test_bundled_templates_render_the_same_in_the_sandbox(work: Path) -> None:
    """An empty user folder switches to the sandbox: the bundled reports must not change."""
    empty = work / "empty"
    empty.mkdir()
    for fmt in ("md", "html"):
        plain = _run(work, "report", "2026", "2026-JUL", "--format", fmt)
        sandboxed = _run(
            work, "report", "2026", "2026-JUL", "--format", fmt, "--templates", str(empty)
        )
        assert plain[0] == 0 and plain == sandboxed


def test_markup_in_a_path_on_a_terminal(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal a spinner names the file being ingested; `[/x]` in its path is text."""
    from rich.console import Console

    import tracker.cli

    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=500, markup=False, emoji=False)
    monkeypatch.setattr(tracker.cli, "err_console", terminal)
    folder = work / "a["
    folder.mkdir()
    source = work / "a[/x]HCPC2026_OCT.txt"
    shutil.copy(APR, source)
    code, out, err = _run(work, "ingest", str(source))
    assert (code, err) == (0, "")
    assert out.startswith("x]HCPC2026_OCT.txt: stored 2026-OCT,")
    assert "a[/x]HCPC2026_OCT.txt" in screen.getvalue()


def test_real_release_csv_keeps_every_description(tmp_path: Path) -> None:
    """On a real CMS file, the shared CSV writer changes a description only when it starts like
    a formula: every cell is the raw file's description (read here from the fixed-width slices,
    positions 12-91 of a code's lines), with a `'` in front exactly in that case."""
    from tests.conftest import shared_path
    from tracker.csvout import FORMULA_START

    source = shared_path("cms-hcpcs", "2016", "HCPC2016_CONTR_ANWEB.txt")
    raw: dict[str, list[str]] = {}
    for line in source.read_bytes().decode("cp1252").split("\r\n"):
        if len(line) > 11 and line[5:10].isdigit() and line[10] in "3478":
            raw.setdefault(line[:5].strip(), []).append(line[11:91])
    expected = {code: " ".join(" ".join(parts).split()) for code, parts in raw.items()}
    db = f"sqlite:///{tmp_path / 'tracker.db'}"
    assert CliRunner().invoke(cli, ["--db", db, "ingest", str(source)]).exit_code == 0
    result = CliRunner().invoke(
        cli, ["--db", db, "codes", "--as-of", "2016-01-01", "--status", "all", "--format", "csv"]
    )
    assert result.exit_code == 0, result.stderr
    rows = _csv_cells(result.stdout)[1:]
    assert len(rows) == len(expected)
    for code, _status, description, *_ in rows:
        want = expected[code]
        if want.startswith(FORMULA_START):
            want = "'" + want
        assert " ".join(description.split()) == want, code
