"""`tracker report … --watchlist CODES` on the sample releases, through the command line.

The sample files go through `ingest` and the store as in `tests/test_cli_report_codes.py`. What
the "Your codes" section must say is read here from the raw fixed-width files, sliced by CMS's
record layout (1-based: code 1-5, sequence 6-10, RIC 11, long description 12-91 on the first
and continuation lines, XREF 205-229 as five 5-character fields, added date 269-276, action
effective date 277-284, termination date 285-292, action code 293), not from the tracker. The
rest of the report must be the golden report, byte for byte.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import PROJECT_ROOT, SAMPLES
from tests.jsonschema_subset import validate
from tests.report.watchlist_formats import (
    READERS,
    Section,
    csv_table,
    section_comes_first,
    without_section,
)
from tracker.cli import cli

GOLDEN = PROJECT_ROOT / "tests" / "golden"
SCHEMAS = PROJECT_ROOT / "tracker" / "schemas"
FORMATS = ("md", "html", "csv", "json")
MONTHS = ("JAN", "APR", "JUL")
SAMPLE_FILES = [SAMPLES / f"HCPC2026_{month}_SAMPLE.txt" for month in MONTHS]
# Listed as a billing team might: a comment, lower case, a code no release has.
LISTED = ("E0159", "J0599", "A0227", "K0089", "S0353", "ZZ999", "K1039")
WATCHLIST_TEXT = (
    "# seat lifts, drugs, transport\nE0159\nj0599\nA0227  # van\nK0089\nS0353\nZZ999\nK1039\n"
)


# --- The raw files, read independently --------------------------------------------------------


@dataclass(frozen=True)
class Raw:
    long: str
    xrefs: tuple[str, ...]
    added: date | None
    termination: date | None
    content: str
    """The record's lines with sequence number, action code and action date blanked."""


def _day(text: str) -> date | None:
    text = text.strip()
    return date(int(text[:4]), int(text[4:6]), int(text[6:8])) if text.strip("0") else None


def raw_release(month: str) -> dict[str, Raw]:
    lines: dict[str, list[str]] = {}
    for line in (
        (SAMPLES / f"HCPC2026_{month}_SAMPLE.txt").read_bytes().decode("cp1252").split("\r\n")
    ):
        if len(line) > 10 and line[10] in "3478" and line[5:10].isdigit():
            lines.setdefault(line[0:5].strip(), []).append(line)
    found = {}
    for code, parts in lines.items():
        first = parts[0].ljust(320)
        found[code] = Raw(
            long=" ".join(" ".join(part[11:91] for part in parts).split()),
            xrefs=tuple(
                x for x in (first[204 + 5 * i : 209 + 5 * i].strip() for i in range(5)) if x
            ),
            added=_day(first[268:276]),
            termination=_day(first[284:292]),
            content="\n".join(
                part[:5] + part[10:276] + " " * 8 + part[284:292] + " " + part[293:]
                for part in (parts[0].ljust(320), *parts[1:])
            ),
        )
    return found


@pytest.fixture(scope="module")
def raw() -> dict[str, dict[str, Raw]]:
    return {month: raw_release(month) for month in MONTHS}


def expected_section(raw: dict[str, dict[str, Raw]], old: str, new: str) -> Section:
    """What the section says of each listed code, from the two raw releases: the kind by what
    the raw records show, the status on the later release's date, the replacements named by
    its XREF field (each checked to be in force then)."""
    before, after = raw[old], raw[new]
    on = date(2026, MONTHS.index(new) * 3 + 1, 1)
    expected: Section = {}
    for code in LISTED:
        if all(code not in release for release in raw.values()):
            expected[code] = ("unknown", "unknown", "")
            continue
        if code not in before and code not in after:
            # Only in a later release, added after this one's date: published ahead.
            later = next(release[code] for release in raw.values() if code in release)
            assert later.added is not None and later.added > on
            expected[code] = ("not yet effective", "not yet effective", "")
            continue
        if code not in before:
            kind = "added"
        elif code not in after:
            kind = "removed"
        elif before[code].termination is None and after[code].termination is not None:
            kind = "terminated"
        elif before[code].long != after[code].long:
            kind = "changed"
        else:
            assert before[code].content == after[code].content, code
            kind = "unchanged"
        record = after.get(code) or before[code]
        ended = record.termination is not None and record.termination < on
        status = "terminated" if ended else "active"
        replacements = ""
        if ended and record.xrefs:
            assert all(after[x].termination is None for x in record.xrefs)
            replacements = "replaced by " + "; ".join(f"{x} (active)" for x in record.xrefs)
        expected[code] = (kind, status, replacements)
    return expected


# --- The command line ---------------------------------------------------------------------------


def run(db: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{db}", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("watch") / "tracker.db"
    code, out, err = run(path, "ingest", *map(str, SAMPLE_FILES))
    assert code == 0, out + err
    return path


@pytest.fixture(scope="module")
def watchlist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lists") / "my-codes.txt"
    path.write_text(WATCHLIST_TEXT, encoding="utf-8")
    return path


def test_the_raw_reading_covers_every_kind(raw: dict[str, dict[str, Raw]]) -> None:
    """The listed codes are not all alike: the checks below would catch a wrong kind."""
    kinds = {kind for kind, _, _ in expected_section(raw, "JAN", "APR").values()}
    assert kinds == {
        "terminated",
        "changed",
        "added",
        "removed",
        "unchanged",
        "unknown",
        "not yet effective",
    }
    assert raw["APR"]["E0159"].xrefs == ("E0161", "E0162")


@pytest.mark.parametrize("fmt", FORMATS)
def test_pair_report_opens_with_your_codes(
    db: Path, watchlist: Path, raw: dict[str, dict[str, Raw]], fmt: str
) -> None:
    code, out, err = run(
        db, "report", "2026-JAN", "2026-APR", "--watchlist", str(watchlist), "--format", fmt
    )
    assert (code, err) == (0, "")
    assert section_comes_first(fmt, out)
    section = READERS[fmt](out)
    assert list(section) == list(LISTED)  # the list's order
    assert section == expected_section(raw, "JAN", "APR")
    golden = (GOLDEN / f"report_2026-JAN_2026-APR.{fmt}").read_bytes().decode("utf-8")
    assert without_section(fmt, out) == golden


@pytest.mark.parametrize("fmt", FORMATS)
def test_year_report_opens_with_your_codes(
    db: Path, watchlist: Path, raw: dict[str, dict[str, Raw]], tmp_path: Path, fmt: str
) -> None:
    target = tmp_path / f"year.{fmt}"
    code, out, err = run(
        db, "report", "--year", "2026", "--watchlist", str(watchlist), "--format", fmt,
        "-o", str(target),
    )  # fmt: skip
    assert (code, err) == (0, "") and out.startswith(f"wrote {target} (")
    text = target.read_bytes().decode("utf-8")
    assert section_comes_first(fmt, text)
    # The year's section compares its first release with its last.
    assert READERS[fmt](text) == expected_section(raw, "JAN", "JUL")
    assert without_section(fmt, text) == (GOLDEN / f"year_2026.{fmt}").read_bytes().decode("utf-8")


def test_year_csv_rows_of_your_codes_are_in_the_year_scope(db: Path, watchlist: Path) -> None:
    code, out, _ = run(
        db, "report", "--year", "2026", "--watchlist", str(watchlist), "--format", "csv"
    )
    header, rows = csv_table(out)
    assert code == 0 and header[:3] == ["section", "scope", "old_release"]
    mine = [row for row in rows if row[0] == "your_codes"]
    assert [row[1:4] for row in mine] == [["year", "2026-JAN", "2026-JUL"]] * len(LISTED)


def test_json_section_is_the_impact_document(db: Path, watchlist: Path) -> None:
    """Under `watchlist`: the JSON of `tracker impact` for the same list and releases (key
    order aside), valid against the impact schema the diff schema points to."""
    code, out, _ = run(
        db, "report", "2026-JAN", "2026-APR", "--watchlist", str(watchlist), "--format", "json"
    )
    assert code == 0
    section = json.loads(out)["watchlist"]
    code, alone, _ = run(
        db, "impact", str(watchlist), "--from", "2026-JAN", "--to", "2026-APR", "--format", "json"
    )
    assert code == 0 and section == json.loads(alone)
    impact_schema = json.loads((SCHEMAS / "impact.schema.json").read_text(encoding="utf-8"))
    validate(section, impact_schema, impact_schema)
    diff_schema = json.loads((SCHEMAS / "diff.schema.json").read_text(encoding="utf-8"))
    assert diff_schema["properties"]["watchlist"]["$ref"] == "impact.schema.json"
    rest = json.loads(out)
    rest.pop("watchlist")
    validate(rest, diff_schema, diff_schema)
    assert [entry["line"] for entry in section["codes"]] == [2, 3, 4, 5, 6, 7, 8]


def test_csv_watchlist_with_column(
    db: Path, tmp_path: Path, raw: dict[str, dict[str, Raw]]
) -> None:
    listing = tmp_path / "fees.csv"
    rows = [f"{code},{n}.00" for n, code in enumerate(LISTED)]
    listing.write_text("Code,Fee\r\n" + "\r\n".join(rows) + "\r\n", encoding="utf-8")
    code, out, err = run(
        db, "report", "2026-JAN", "2026-APR", "--watchlist", str(listing), "--column", "code",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert READERS["md"](out) == expected_section(raw, "JAN", "APR")


def test_duplicates_are_noted_in_the_section(db: Path, tmp_path: Path) -> None:
    listing = tmp_path / "twice.txt"
    listing.write_text("E0159\nS0353\nE0159\n", encoding="utf-8")
    code, out, _ = run(db, "report", "2026-JAN", "2026-APR", "--watchlist", str(listing))
    assert code == 0
    assert "- E0159 is listed again on line 3 (kept from line 1).\n" in out
    code, page, _ = run(
        db, "report", "2026-JAN", "2026-APR", "--watchlist", str(listing), "--format", "html"
    )
    assert "<li>E0159 is listed again on line 3 (kept from line 1).</li>" in page


# --- Errors: one line naming the file, nothing written ------------------------------------------


def _bad_lists(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing yet\n\n", encoding="utf-8")
    nul = tmp_path / "binary.txt"
    nul.write_bytes(b"E0159\n\x00\x01")
    folder = tmp_path / "folder"
    folder.mkdir()
    return {
        "missing": (tmp_path / "nope.txt", "1: no such file or directory"),
        "empty": (empty, "1: the list holds no codes (blank lines and # comments only)"),
        "binary": (nul, "2: holds NUL bytes: not a text or CSV code list"),
        "folder": (folder, "1: is a directory, not a code list"),
    }


@pytest.mark.parametrize("case", ["missing", "empty", "binary", "folder"])
@pytest.mark.parametrize("year", [False, True])
def test_bad_watchlist_is_one_line_and_writes_nothing(
    db: Path, tmp_path: Path, case: str, year: bool
) -> None:
    path, problem = _bad_lists(tmp_path)[case]
    releases = ["--year", "2026"] if year else ["2026-JAN", "2026-APR"]
    target = tmp_path / "out" / "report.md"
    target.parent.mkdir()
    code, out, err = run(db, "report", *releases, "--watchlist", str(path), "-o", str(target))
    assert (code, out) == (1, "")
    assert err == f"Error: {path}:{problem}\n"
    assert list(target.parent.iterdir()) == []  # no report, no temporary file left


def test_unreadable_watchlist_is_one_line_and_keeps_the_old_report(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listing = tmp_path / "locked.txt"
    listing.write_text("E0159\n", encoding="utf-8")
    target = tmp_path / "report.md"
    target.write_text("last week's report\n", encoding="utf-8")
    real_read = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        # Permission bits do not stop every user (root), so the refusal is the OS's answer.
        if self == listing:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    code, out, err = run(
        db, "report", "2026-JAN", "2026-APR", "--watchlist", str(listing), "-o", str(target)
    )
    assert (code, out) == (1, "")
    assert err == f"Error: {listing}:1: cannot read it (permission denied)\n"
    assert target.read_text(encoding="utf-8") == "last week's report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["locked.txt", "report.md"]


def test_column_needs_a_watchlist(db: Path) -> None:
    code, out, err = run(db, "report", "2026-JAN", "2026-APR", "--column", "code")
    assert (code, out) == (1, "")
    assert err == "Error: --column names the column of a CSV --watchlist; give --watchlist\n"


def test_missing_column_names_the_file(db: Path, tmp_path: Path) -> None:
    listing = tmp_path / "fees.csv"
    listing.write_text("HCPCS,Fee\nE0159,1\n", encoding="utf-8")
    code, out, err = run(
        db, "report", "2026-JAN", "2026-APR", "--watchlist", str(listing), "--column", "code"
    )
    assert (code, out) == (1, "")
    assert err == f"Error: {listing}:1: no column 'code' (columns: 'HCPCS', 'Fee')\n"


def test_later_release_first_is_refused_with_a_watchlist(db: Path, watchlist: Path) -> None:
    code, out, err = run(db, "report", "2026-APR", "2026-JAN", "--watchlist", str(watchlist))
    assert (code, out) == (1, "")
    assert err == (
        'Error: --watchlist: 2026-APR is effective after 2026-JAN; the "Your codes" section'
        " needs the earlier release first\n"
    )
    # Without a watchlist the reversed report still works as before.
    assert run(db, "report", "2026-APR", "2026-JAN")[0] == 0


def test_output_over_the_watchlist_is_refused(db: Path, watchlist: Path) -> None:
    before = watchlist.read_bytes()
    code, out, err = run(
        db, "report", "2026-JAN", "2026-APR", "--watchlist", str(watchlist), "-o", str(watchlist)
    )
    assert (code, out) == (1, "")
    assert err == f"Error: {watchlist}: is the input {watchlist}; write the output elsewhere\n"
    assert watchlist.read_bytes() == before


def test_section_renders_in_the_sandbox_of_user_templates(
    db: Path, watchlist: Path, raw: dict[str, dict[str, Raw]], tmp_path: Path
) -> None:
    """With --templates the report renders in Jinja's sandbox; the section's data is plain."""
    (tmp_path / "templates").mkdir()
    for fmt in ("md", "html"):
        code, out, err = run(
            db, "report", "2026-JAN", "2026-APR", "--watchlist", str(watchlist),
            "--templates", str(tmp_path / "templates"), "--format", fmt,
        )  # fmt: skip
        assert (code, err) == (0, "")
        assert READERS[fmt](out) == expected_section(raw, "JAN", "APR")
