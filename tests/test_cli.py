"""The CLI: thin over the API, one-line errors, exit code 1, database unchanged on failure."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import SAMPLES
from tracker.cli import cli

JAN = SAMPLES / "HCPC2026_JAN_SAMPLE.txt"
APR = SAMPLES / "HCPC2026_APR_SAMPLE.txt"


def run(db: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{db}", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "tracker.db"
    code, out, _ = run(path, "ingest", str(JAN))
    assert code == 0, out
    return path


def test_ingest_releases_show_verify(db: Path) -> None:
    code, out, _ = run(db, "ingest", str(APR))
    assert code == 0
    assert out.startswith(f"{APR.name}: stored 2026-APR, effective 2026-04-01, ")
    code, out, _ = run(db, "releases")
    assert code == 0
    lines = out.splitlines()
    assert "release" in lines[0] and "content" in lines[0]
    assert any(line.startswith("2026-JAN") and JAN.name in line for line in lines)
    assert any(line.startswith("2026-APR") and APR.name in line for line in lines)
    code, out, _ = run(db, "show", "s0353", "--release", "2026-JAN")
    assert code == 0
    assert out.splitlines()[0] == (
        "S0353  Treatment planning and care coordination management for cancer, initial treatment"
    )
    assert "Coverage Code                         I  — Not payable by Medicare" in out
    code, out, _ = run(db, "verify")
    assert (code, out) == (
        0,
        f"ok: 2 releases, {_record_versions(JAN, APR)} record versions verified\n",
    )


def _record_versions(*paths: Path) -> int:
    """Distinct (code, record) pairs across the files, read off the raw fixed-width lines: a
    code's lines without their sequence numbers (positions 6-10), which only order them."""
    versions: set[tuple[str, tuple[str, ...]]] = set()
    for path in paths:
        lines: dict[str, list[str]] = {}
        for line in path.read_text(encoding="latin-1").splitlines():
            if len(line) > 11 and line[10] in "3478":  # record ids of code lines
                lines.setdefault(line[0:5], []).append(line[:5] + line[10:].rstrip())
        versions.update((code, tuple(body)) for code, body in lines.items())
    return len(versions)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ingest", "missing.txt"], "Error: missing.txt: no such file or directory\n"),
        (["show", "S0353", "--release", "1999-JAN"], None),
        (["show", "Z9999"], "Error: code Z9999 is not in release 2026-JAN\n"),
        (["show", "S0353", "--release", "nonsense"], None),
        (["retract", "2026-JAN", "--reason", "  "], None),
    ],
)
def test_user_errors_are_one_line(
    db: Path, tmp_path: Path, args: list[str], message: str | None
) -> None:
    before = digest(db)
    code, _, err = run(db, *args)
    assert code == 1
    assert err.startswith("Error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    if message is not None:
        assert err == message
    assert digest(db) == before


def test_empty_directory_and_unknown_format(db: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    before = digest(db)
    code, _, err = run(db, "ingest", str(empty))
    assert (code, err) == (1, f"Error: {empty}: directory holds no files to ingest\n")
    notes = tmp_path / "notes.txt"
    notes.write_text("just some notes\nnothing to see\n")
    code, _, err = run(db, "ingest", str(notes), "--release", "2026-APR")
    assert code == 1
    assert err.startswith("Error: notes.txt: not a release of a code set the tracker knows")
    assert digest(db) == before


def test_db_upgrade_on_new_database(tmp_path: Path) -> None:
    code, out, _ = run(tmp_path / "new.db", "db", "upgrade")
    assert code == 0
    assert out.endswith("schema at revision 0006 (was empty)\n")
    code, out, _ = run(tmp_path / "new.db", "db", "upgrade")
    assert out.endswith("schema at revision 0006 (was 0006)\n")


def test_releases_on_empty_database(tmp_path: Path) -> None:
    code, out, _ = run(tmp_path / "new.db", "releases")
    assert (code, out) == (0, "no releases stored yet; run `tracker ingest FILE`\n")


def test_impact_and_serve_are_commands_of_the_tracker_group(db: Path, tmp_path: Path) -> None:
    """Both live in their own modules and are loaded only when asked for."""
    code, out, _ = run(db, "--help")
    assert code == 0
    listed = {line.split()[0] for line in out.split("Commands:")[1].splitlines() if line.strip()}
    assert {"impact", "serve"} <= listed
    codes = tmp_path / "codes.txt"
    codes.write_text("e0159\nJ9399\n", encoding="utf-8")
    run(db, "ingest", str(SAMPLES / "HCPC2026_APR_SAMPLE.txt"))
    code, out, err = run(db, "impact", str(codes), "--from", "2026-JAN", "--to", "2026-APR")
    assert (code, err) == (0, "")
    rows = {line.split()[1]: line.split()[0] for line in out.splitlines()[2:]}

    def first_lines(name: str) -> dict[str, str]:
        text = (SAMPLES / name).read_text(encoding="latin-1")
        return {line[:5].strip(): line for line in text.splitlines() if line[10:11] in "37"}

    jan, apr = first_lines("HCPC2026_JAN_SAMPLE.txt"), first_lines("HCPC2026_APR_SAMPLE.txt")
    # Read off the sample files: E0159 gains a termination date in APR; J9399 is new in APR.
    assert not jan["E0159"][284:292].strip() and apr["E0159"][284:292].strip()
    assert "J9399" not in jan and "J9399" in apr
    assert rows == {"E0159": "terminated", "J9399": "added"}
    code, out, _ = run(db, "serve", "--help")
    assert code == 0 and "--port" in out
