"""CMS's corrections files: applied as a new issue of kind `correction`, or kept and listed.

Expectations come from reading the corrections workbooks here with python-calamine (their own
column names) and slicing the fixed-width release lines; never from the tracker's output.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import shared_path

from tracker import api
from tracker.attachments import AttachmentRole
from tracker.cli import cli
from tracker.release import ReleaseKind


def _rows(zip_path: Path, member: str) -> list[dict[str, object]]:
    """The corrections rows of one workbook member, keyed by the file's own column names."""
    import python_calamine

    with zipfile.ZipFile(zip_path) as archive:
        data = archive.read(member)
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    grid = book.get_sheet_by_name("Sheet1").to_python()
    header = next(i for i, row in enumerate(grid) if row and str(row[0]).strip() == "CODE")
    names = [str(cell).strip() for cell in grid[header]]
    return [
        dict(zip(names, row, strict=False))
        for row in grid[header + 1 :]
        if row and str(row[0]).strip()
    ]


def _text_records(data: bytes) -> dict[str, dict[str, str]]:
    """Per code: long description (all its lines), short description, XREF field, first line."""
    out: dict[str, dict[str, str]] = {}
    for raw in data.decode("cp1252").splitlines():
        line = raw.ljust(320)
        if not line[5:10].isdigit() or line[10] not in "3478":
            continue
        code = line[:5].strip()
        if line[10] in "37":
            out[code] = {"long": line[11:91], "short": line[91:119].strip(), "xref": line[204:229]}
        elif code in out:
            out[code]["long"] += " " + line[11:91]
    for record in out.values():
        record["long"] = " ".join(record["long"].split())
    return out


def _words(value: object) -> str:
    return " ".join(str(value).split())


def _eff(value: object) -> date:
    assert isinstance(value, datetime | date), value
    return value.date() if isinstance(value, datetime) else value


CASES = {
    "2017": (
        "2017/2017-Alpha-Numeric-HCPCS-File.zip",
        "HCPC17_CONTR_ANWEB.txt",
        "2017/2017-HCPCS-Alpha-Numeric-Corrections.zip",
        "hcpc2017_corrections_alpha.xlsx",
    ),
    "2018": (
        "2018/2018-Alpha-Numeric-HCPCS-File.zip",
        "HCPC2018_CONTR_ANWEB_disc.txt",
        "2018/2018-HCPCS-Alpha-Numeric-Corrections.zip",
        "V4_HCPC2018_Corrections_ANWEB.xlsx",  # the latest version, repeating V1-V3's rows
    ),
}


@pytest.mark.parametrize("year", sorted(CASES))
def test_real_corrections_apply_as_a_correction_issue(tmp_path: Path, year: str) -> None:
    release_name, text_member, corrections_name, member = CASES[year]
    release_path = shared_path("cms-hcpcs", *release_name.split("/"))
    corrections_path = shared_path("cms-hcpcs", *corrections_name.split("/"))
    with zipfile.ZipFile(release_path) as archive:
        base_text = _text_records(archive.read(text_member))
    rows = _rows(corrections_path, member)

    # Independently: which rows state their full result (and concern a code of the release).
    expected: dict[str, dict[str, object]] = {}
    for row in rows:
        action = _words(row["ACTION"]).lower()
        code = str(row["CODE"]).strip()
        if code not in base_text:
            continue
        revision = action.startswith("revise") and "desc" in action
        if revision or action.startswith("terminate"):
            expected[code] = row
        elif action.startswith("remove xref code"):
            target = action.split()[-1].upper()
            assert target in base_text[code]["xref"]
            expected[code] = row
    assert expected  # the real files do carry applicable rows

    db = tmp_path / "t.db"
    store = api.open_store(f"sqlite:///{db}")
    base = api.ingest(store, release_path).release
    result = api.ingest(store, corrections_path)
    corrected = result.release
    assert result.created
    assert (corrected.label, corrected.issue, corrected.kind) == (
        base.label,
        2,
        ReleaseKind.CORRECTION,
    )
    assert corrected.base_release_id == base.id
    assert corrected.effective_date == base.effective_date
    attachments = store.attachments(corrected)
    assert [(a.role, a.member) for a in attachments] == [(AttachmentRole.CORRECTIONS, member)]

    # The latest issue of the quarter is the correction; the diff holds exactly the codes.
    assert api.resolve(store, base.label).id == corrected.id
    diff = api.diff(store, f"{base.label}#1", f"{base.label}#2")
    assert sorted(change.code for change in diff.changes) == sorted(expected)
    for code, row in expected.items():
        record = api.show(store, code, release=f"{base.label}#2")[1]
        action = _words(row["ACTION"]).lower()
        if "desc" in action:
            if "long" in action:
                assert record.long_description == _words(row["LONG DESC"])
            else:
                assert record.long_description == base_text[code]["long"]
            if "short" in action:
                assert record.short_description == _words(row["SHORT DESC"])
        elif action.startswith("terminate"):
            assert record.termination_date == _eff(row["EFF DATE"]) - timedelta(days=1)
            assert record.action_code == "D"
        else:
            assert action.split()[-1].upper() not in record.xrefs

    # Every row not applied is listed with its code in the release's report.
    md = api.report(store, f"{base.label}#1", f"{base.label}#2", "md")
    for row in rows:
        code = str(row["CODE"]).strip()
        prefix = "applied" if code in expected else "not applied"
        assert f"- {prefix}: {code} \\|" in md

    # Ingesting the same corrections again changes nothing.
    again = api.ingest(store, corrections_path)
    assert not again.created and "nothing to do" in again.message
    assert len(api.releases(store)) == 2
    assert api.verify(store).ok
    store.close()

    out = CliRunner().invoke(cli, ["--db", f"sqlite:///{db}", "releases"]).output
    assert f"correction of {base.label}" in out


def _release(path: Path) -> None:
    """A small fixed-width release: A0001, A0002 (XREF A0009), A0003."""

    def line(code: str, text: str, xref: str = "") -> str:
        body = f"{code:<5}001003{text:<80}{text[:28]:<28}".ljust(204) + f"{xref:<25}"
        return (body.ljust(268) + "20000101" + "20200101" + " " * 8 + "N").ljust(320)

    lines = [
        line("A0001", "First code"),
        line("A0002", "Second code", "A0009"),
        line("A0003", "Third"),
    ]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="cp1252")


def _cli(db: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{db}", *args])
    return result.exit_code, result.output


HEADER = (
    "HCPCS/MOD Code\tAction\tShort Description\tLong Description\tEffective Date\tTOS\tBETOS"
    "\tCoverage\tPricing\r\n"
)


def test_other_columns_and_free_text_actions(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    _release(tmp_path / "HCPC2020_ANWEB.txt")
    assert _cli(db, "ingest", str(tmp_path / "HCPC2020_ANWEB.txt"))[0] == 0
    corrections = tmp_path / "HCPC2020_Corrections.txt"
    corrections.write_text(
        "2020 HCPCS CORRECTIONS\r\n\r\n"
        + HEADER
        + "A0001\tTerminate\t\t\t4/1/2020\t\t\t\t\r\n"
        + "A0002\tDo not terminate\t\t\t\t\t\t\t\r\n"
        + "A0002\tThe xref code has been removed\t\t\t\t\t\t\t\r\n"
        + "A0003\tRevise TOS\t\t\t1/1/2020\t1\t\t\t\r\n"
        + "A0003\tAdd date s/b 1/1/2020\t\t\t\t\t\t\t\r\n"
        + "A0003\tRevise Long Description\t\t\t1/1/2020\t\t\t\t\r\n"
        + "A0002\tRevise Short Description\tNew short\t\t1/1/2020\t\t\t\t\r\n",
        encoding="cp1252",
    )
    code, out = _cli(db, "ingest", str(corrections))
    assert code == 0, out
    assert "stored 2020-JAN#2" in out
    code, out = _cli(db, "diff", "2020-JAN#1", "2020-JAN#2", "--format", "json")
    payload = json.loads(out)
    changed = {c["code"]: {f["field"]: f["new"] for f in c["fields"]} for c in payload["changes"]}
    assert changed == {
        "A0001": {
            "termination_date": "2020-03-31",
            "action_effective_date": "2020-04-01",
            "action_code": "D",
        },
        "A0002": {"short_description": "New short"},
    }
    rows = payload["corrections"][0]["rows"]
    not_applied = [
        [part.split(" (")[0] for part in row.split(" | ")[:2]]
        for row in rows
        if row.startswith("not applied")
    ]
    assert not_applied == [
        ["not applied: A0002", "Do not terminate"],
        ["not applied: A0002", "The xref code has been removed"],
        ["not applied: A0003", "Revise TOS"],
        ["not applied: A0003", "Add date s/b 1/1/2020"],
        ["not applied: A0003", "Revise Long Description"],
    ]


def test_nothing_applicable_is_kept_and_listed(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    _release(tmp_path / "HCPC2020_ANWEB.txt")
    _cli(db, "ingest", str(tmp_path / "HCPC2020_ANWEB.txt"))
    quarter = tmp_path / "HCPC2020_APR_ANWEB.txt"
    _release(quarter)
    quarter.write_text(quarter.read_text().replace("First code", "First kode"), encoding="cp1252")
    _cli(db, "ingest", str(quarter))
    corrections = tmp_path / "HCPC2020_APR_Corrections.txt"
    corrections.write_text(HEADER + "A0001\tRevise TOS\t\t\t4/1/2020\t1\t\t\t\r\n")
    code, out = _cli(db, "ingest", str(corrections))
    assert code == 0 and "recorded with 2020-APR, not applied" in out
    code, out = _cli(db, "releases")
    assert "correction" not in out
    code, out = _cli(db, "report", "2020-JAN", "2020-APR")
    assert "not applied: A0001 \\| Revise TOS" in out


def test_already_incorporated_is_recorded_not_applied(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    _release(tmp_path / "HCPC2020_ANWEB.txt")
    _cli(db, "ingest", str(tmp_path / "HCPC2020_ANWEB.txt"))
    corrections = tmp_path / "HCPC2020_Corrections.txt"
    corrections.write_text(
        "These corrections have already been incorporated into the 2020 file\r\n"
        + HEADER
        + "A0001\tTerminate\t\t\t4/1/2020\t\t\t\t\r\n"
    )
    code, out = _cli(db, "ingest", str(corrections))
    assert code == 0 and "already incorporated" in out
    store = api.open_store(f"sqlite:///{db}")
    (only,) = api.releases(store)
    (attachment,) = store.attachments(only)
    assert attachment.role is AttachmentRole.CORRECTIONS
    assert attachment.note is not None and "already incorporated" in attachment.note
    assert api.show(store, "A0001")[1].termination_date is None
    store.close()


def test_odd_rows_are_listed_and_a_file_without_header_refused(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    _release(tmp_path / "HCPC2020_ANWEB.txt")
    _cli(db, "ingest", str(tmp_path / "HCPC2020_ANWEB.txt"))
    corrections = tmp_path / "HCPC2020_Corrections.txt"
    corrections.write_text(
        HEADER
        + "A0001\tTerminate\t\t\t31/31/2020\t\t\t\t\r\n"
        + "* see note\tTerminate\t\t\t1/1/2020\t\t\t\t\r\n"
    )
    code, out = _cli(db, "ingest", str(corrections))
    assert code == 0 and "recorded with 2020-JAN, not applied" in out
    store = api.open_store(f"sqlite:///{db}")
    (listing,) = api.corrections_listings(store, api.resolve(store, "2020"))
    assert [row.split(" (")[-1] for row in listing.rows] == [
        "MM/DD/YYYY))",
        "not an HCPCS code)",
    ]
    assert "effective=31/31/2020" in listing.rows[0]
    store.close()
    headless = tmp_path / "HCPC2020_Corrections_2.txt"
    headless.write_text("A0001\tTerminate\t1/1/2020\r\n")
    code, out = _cli(db, "ingest", str(headless))
    assert code != 0
    assert out.startswith("Error: HCPC2020_Corrections_2.txt: no header row")


def test_lineage_and_attachments_on_each_database(tmp_path: Path, db_url: str) -> None:
    _release(tmp_path / "HCPC2020_ANWEB.txt")
    corrections = tmp_path / "HCPC2020_Corrections.txt"
    corrections.write_text(HEADER + "A0003\tRevise Short Description\tThird short\t\t\t\t\t\t\r\n")
    report = tmp_path / "HCPC2020_TransReport.txt"
    report.write_text("HCPC\tType of Change\r\nA0001\tNo change\r\nA0002\tNo change\r\n")
    store = api.open_store(db_url)
    base = api.ingest(store, tmp_path / "HCPC2020_ANWEB.txt").release
    corrected = api.ingest(store, corrections).release
    # Ingested after the correction, the report still goes with the data file it describes.
    assert api.ingest(store, report).release.id == base.id
    assert corrected.base_release_id == base.id and corrected.kind is ReleaseKind.CORRECTION
    assert [a.role for a in store.attachments(base)] == [AttachmentRole.TRANSACTION_REPORT]
    assert [a.role for a in store.attachments(corrected)] == [AttachmentRole.CORRECTIONS]
    assert store.attachment_bytes(store.attachments(corrected)[0]) == corrections.read_bytes()
    # The correction is checked against its base's report and data file: A0003 (N) unlisted.
    check = api.report_check(store, corrected)
    assert check is not None and check.release == base.display and not check.disagreements
    assert api.show(store, "A0003")[1].short_description == "Third short"
    assert api.verify(store).ok
    store.close()


@pytest.mark.parametrize("version", ["V1", "V4"])
def test_prn_listing_rows_are_kept_never_applied(version: str) -> None:
    from tracker.codesets.hcpcs.corrections import apply_corrections
    from tracker.codesets.hcpcs.parsers.base import SourceFile
    from tracker.codesets.hcpcs.parsers.corrections import read_corrections

    path = shared_path("cms-hcpcs", "2018", "2018-HCPCS-Alpha-Numeric-Corrections.zip")
    member = f"{version}_HCPC2018_Corrections_ANWEB"
    with zipfile.ZipFile(path) as archive:
        listing = archive.read(f"{member}.prn")
    parsed = read_corrections(SourceFile(f"{member}.prn", listing))
    workbook_codes = [str(row["CODE"]).strip() for row in _rows(path, f"{member}.xlsx")]
    assert [row.code for row in parsed.rows] == workbook_codes
    applied = apply_corrections(parsed, {})
    assert all(not outcome.applied for outcome in applied.outcomes)
    assert all(".prn" in outcome.reason for outcome in applied.outcomes)
