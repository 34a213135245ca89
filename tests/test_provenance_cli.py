"""Through the CLI: repairs of CMS's files, CMS version markers, reinstating, zip names.

The files are the project's samples with debris injected or renamed the way CMS names
re-issues; every error is one line naming the file first, with exit code 1.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import SAMPLES
from tests.test_diff import SCHEMA_PATH, validate
from tracker.cli import cli

JAN = SAMPLES / "HCPC2026_JAN_SAMPLE.txt"
APR = SAMPLES / "HCPC2026_APR_SAMPLE.txt"


def run(db: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{db}", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def _with_stray_byte(source: Path, target: Path) -> int:
    """Copy `source` with a backtick before its first record; returns that line's number."""
    lines = source.read_bytes().split(b"\n")
    first = next(i for i, line in enumerate(lines) if line[5:10].isdigit())
    lines[first] = b"`" + lines[first]
    target.write_bytes(b"\n".join(lines))
    return first + 1


def test_repairs_shown_by_ingest_releases_verify_and_report(tmp_path: Path) -> None:
    db = tmp_path / "tracker.db"
    assert run(db, "ingest", str(JAN))[0] == 0
    debris = tmp_path / "HCPC2026_APR_SAMPLE.txt"
    line = _with_stray_byte(APR, debris)
    code, out, _ = run(db, "ingest", str(debris))
    assert code == 0
    assert out.startswith(f"{debris.name}: stored 2026-APR, effective 2026-04-01, ")
    assert out.rstrip().endswith("; 1 repair of CMS's file recorded")
    code, out, _ = run(db, "releases")
    header, *rows = out.splitlines()
    assert "repairs" in header
    apr = next(row for row in rows if row.startswith("2026-APR"))
    jan = next(row for row in rows if row.startswith("2026-JAN"))
    assert apr.rstrip().endswith(" 1") and not jan.rstrip().endswith(" 1")
    code, out, _ = run(db, "verify")
    assert code == 0
    assert f"repaired release 2026-APR: {debris.name}:{line}: stray-byte: removed '`'" in out
    assert out.splitlines()[-1].startswith("ok: 2 releases")
    code, out, _ = run(db, "report", "2026-JAN", "2026-APR", "--format", "json")
    assert code == 0
    document = json.loads(out)
    schema = json.loads(SCHEMA_PATH.read_text())
    validate(document, schema, schema)
    (anomaly,) = document["new"]["anomalies"]
    assert (anomaly["file"], anomaly["line"], anomaly["kind"]) == (debris.name, line, "stray-byte")
    assert "anomalies" not in document["old"]
    code, out, _ = run(db, "report", "2026-JAN", "2026-APR")
    assert f"- {debris.name}:{line}: stray-byte: removed" in out
    code, out, _ = run(db, "report", "2026-JAN", "2026-APR", "--format", "html")
    assert f"<li>{debris.name}:{line}: stray-byte: removed &#39;`&#39;" in out


def test_version_marker_shown_and_used(tmp_path: Path) -> None:
    db = tmp_path / "tracker.db"
    assert run(db, "ingest", str(JAN))[0] == 0
    renamed = tmp_path / "HCPC2026_JAN_SAMPLE_v2.txt"
    renamed.write_bytes(APR.read_bytes())
    code, out, _ = run(db, "ingest", str(renamed))
    assert code == 0
    assert out.startswith(f"{renamed.name}: stored 2026-JAN#2 (re-issue 2), CMS version v2,")
    code, out, _ = run(db, "releases")
    (row,) = [r for r in out.splitlines() if r.startswith("2026-JAN") and " 2 " in r]
    assert renamed.name in row and " v2" in row
    older = tmp_path / "HCPC2026_JAN_SAMPLE_v1.txt"
    older.write_bytes(JAN.read_bytes().rstrip(b"\r\n").rsplit(b"\r\n", 1)[0] + b"\r\n")
    before = db.read_bytes()
    code, _, err = run(db, "ingest", str(older))
    assert code == 1
    assert err == (
        f"Error: {older.name}: CMS version v1 is not later than 2026-JAN#2's version v2, and"
        " the content differs; pass --reissue to store it as issue 3 anyway\n"
    )
    assert db.read_bytes() == before
    code, out, _ = run(db, "report", "2026-JAN#1", "2026-JAN#2", "--format", "json")
    assert json.loads(out)["new"]["version_marker"] == "v2"
    assert "version_marker" not in json.loads(out)["old"]


def test_reinstate_cli(tmp_path: Path) -> None:
    db = tmp_path / "tracker.db"
    assert run(db, "ingest", str(JAN), str(APR))[0] == 0
    code, out, _ = run(db, "retract", "2026-APR", "--reason", "see [/link] wrong")
    assert (code, out) == (0, "retracted 2026-APR: see [/link] wrong\n")
    code, out, _ = run(db, "releases", "--all")
    assert "retracted: see [/link] wrong" in out
    code, _, err = run(db, "retract", "2026-APR", "--reason", "again")
    assert (code, err) == (1, "Error: release 2026-APR is already retracted\n")
    code, out, _ = run(db, "reinstate", "2026-APR", "--reason", "right file after all")
    assert (code, out) == (0, "reinstated 2026-APR: right file after all\n")
    code, out, _ = run(db, "releases")
    assert any(line.startswith("2026-APR") for line in out.splitlines())
    code, out, _ = run(db, "releases", "--all")
    assert "reinstated: right file after all" in out
    code, _, err = run(db, "reinstate", "2026-APR", "--reason", "twice")
    assert (code, err) == (
        1,
        "Error: release 2026-APR is not retracted; nothing to reinstate\n",
    )
    code, _, err = run(db, "reinstate", "2026-OCT", "--reason", "x")
    assert code == 1 and err.startswith("Error: release 2026-OCT is not stored")


@pytest.mark.parametrize(
    ("zip_name", "member", "expected"),
    [
        ("HCPCS2026.zip", "HCPC2026_APR_ANWEB.txt", "2026-APR"),
        ("HCPC2026_JUL_ANWEB.zip", "HCPC2026_ANWEB.txt", "2026-JUL"),
        (
            "HCPC2026_JUL_ANWEB.zip",
            "HCPC2026_OCT_ANWEB.txt",
            "Error: HCPC2026_JUL_ANWEB.zip: the zip's name says 2026-JUL but its data file"
            " HCPC2026_OCT_ANWEB.txt says 2026-OCT; give the release with --release\n",
        ),
    ],
)
def test_zip_name_and_member(tmp_path: Path, zip_name: str, member: str, expected: str) -> None:
    db = tmp_path / "tracker.db"
    archive = tmp_path / zip_name
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr(member, APR.read_bytes())
    code, out, err = run(db, "ingest", str(archive))
    if expected.startswith("Error:"):
        assert (code, err) == (1, expected)
        code, out, _ = run(db, "ingest", str(archive), "--release", "2026-OCT")
        assert code == 0 and "stored 2026-OCT" in out
    else:
        assert code == 0 and f"stored {expected}," in out
