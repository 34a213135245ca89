"""CMS's calendar and the period a file's action codes describe, representation vs change, and
codes born and retired inside a year: checked on the real releases, read raw by the tests."""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import CONSECUTIVE_PAIRS, RealReleases, shared_path

from tracker import api
from tracker.cli import cli
from tracker.codesets.hcpcs.calendar import (
    Quarter,
    Reference,
    between,
    missing_quarters,
    quarter_of,
    reference_from_records,
    reference_of,
)
from tracker.codesets.hcpcs.record import Record, RecordKind
from tracker.diff import ChangeKind, diff_records, diff_snapshots, diff_year
from tracker.release import Snapshot, adhoc_info

# --- Independent reading of the raw files --------------------------------------------------------


@dataclass(frozen=True)
class Raw:
    code: str
    added: date | None
    action_effective: date | None
    termination: date | None
    action: str
    processing_note: str
    anesthesia: str


def _date(text: Any) -> date | None:
    text = str(text).strip().removesuffix(".0")
    if not text:
        return None
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))


# label -> (file under cms-hcpcs, text member of the zip, or None for a loose file/workbook)
RAW_SOURCES: dict[str, tuple[str, str | None]] = {
    "2016": ("2016/HCPC2016_CONTR_ANWEB.txt", None),
    "2017": ("2017/2017-Alpha-Numeric-HCPCS-File.zip", "HCPC17_CONTR_ANWEB.txt"),
    "2018": ("2018/2018-Alpha-Numeric-HCPCS-File.zip", "HCPC2018_CONTR_ANWEB_disc.txt"),
    "2020-JAN": ("2020-JAN/2020-Alpha-Numeric-HCPCS-File.zip", "HCPC2020_ANWEB_w_disclaimer.txt"),
    "2020-APR": ("2020-APR/HCPC2020_APR_ANWEB.xlsx", None),
    "2020-JUL": ("2020-JUL/HCPC2020_JUL_ANWEB.xlsx", None),
    "2020-OCT": ("2020-OCT/HCPC2020_OCT_ANWEB.xlsx", None),
}
_RAW_CACHE: dict[str, dict[str, Raw]] = {}


def raw(label: str) -> dict[str, Raw]:
    """Each code's first record, sliced from the fixed-width text or read from the workbook."""
    if label in _RAW_CACHE:
        return _RAW_CACHE[label]
    relative, member = RAW_SOURCES[label]
    path = shared_path("cms-hcpcs", *relative.split("/"))
    out: dict[str, Raw] = {}
    if path.suffix == ".xlsx":
        from python_calamine import CalamineWorkbook

        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
        start = next(i for i, row in enumerate(rows) if str(row[0]).strip() == "HCPC")
        header = [str(name).strip() for name in rows[start]]
        col = {name: header.index(name) for name in header}
        for row in rows[start + 1 :]:
            if str(row[col["RECID"]]).strip().removesuffix(".0") not in ("3", "7"):
                continue
            code = str(row[col["HCPC"]]).strip()
            out[code] = Raw(
                code,
                _date(row[col["ADD DT"]]),
                _date(row[col["ACT EFF DT"]]),
                _date(row[col["TERM DT"]]),
                str(row[col["ACTION CD"]]).strip(),
                str(row[col["PROCNOTE"]]).strip(),
                str(row[col["ANEST_BU"]]).strip(),
            )
    else:
        data = path.read_bytes()
        if member is not None:
            data = zipfile.ZipFile(io.BytesIO(data)).read(member)
        for line in data.decode("latin-1").splitlines():
            line = line.ljust(320)
            if not (line[5:10].isdigit() and line[10] in "37"):
                continue
            code = line[:5].strip()
            out[code] = Raw(
                code,
                _date(line[268:276]),
                _date(line[276:284]),
                _date(line[284:292]),
                line[292].strip(),
                line[252:256].strip(),
                line[265:268].strip(),
            )
    _RAW_CACHE[label] = out
    return out


# --- The calendar ---------------------------------------------------------------------------------


def test_quarters_and_issues() -> None:
    assert quarter_of("2020-APR#2") == quarter_of("2020-APR") == Quarter(2020, 4)
    assert str(Quarter(2020, 1).previous()) == "2019-OCT"
    assert str(Quarter(2019, 10).next()) == "2020-JAN"
    assert [str(q) for q in between("2025-JAN", "2025-OCT")] == ["2025-APR", "2025-JUL"]
    assert between("2020-APR", "2020-APR#2") == ()  # a re-issue is not a new quarter
    assert missing_quarters(2020, {"2020-JAN", "2020-OCT"}) == ("2020-APR", "2020-JUL")
    # A month outside CMS's calendar refers to the last calendar quarter before it.
    assert reference_from_records("2020-MAR", ()).label == "2020-JAN"


def rec(code: str, **fields: Any) -> Record:
    base: dict[str, Any] = {
        "code": code,
        "kind": RecordKind.PROCEDURE,
        "long_description": f"Test {code}",
        "short_description": f"Test {code}",
        "added_date": date(2010, 1, 1),
        "action_effective_date": date(2010, 1, 1),
        "action_code": "N",
    }
    base.update(fields)
    return Record(**base)


def test_january_reference_read_from_its_a_codes() -> None:
    # Recent era: every A added on January 1 (or from October 1 on: late October additions).
    recent = [
        rec("X0001", added_date=date(2025, 1, 1), action_code="A"),
        rec("X0002", added_date=date(2024, 10, 1), action_code="A"),
        rec("X0003", added_date=date(2024, 11, 15), action_code="A"),
        rec("X0004", added_date=date(2024, 4, 1), action_code="N"),  # not declared A
    ]
    assert reference_from_records("2025-JAN", recent).label == "2024-OCT"
    # Old era: an A added in the previous year's July quarter: the whole previous year.
    annual = [*recent, rec("X0005", added_date=date(2024, 7, 1), action_code="A")]
    assert reference_from_records("2025-JAN", annual).label == "2024-JAN"
    # A January file without any A declares the changes since October.
    assert reference_from_records("2025-JAN", []).label == "2024-OCT"
    # Quarterly files: the previous quarter, whatever their A codes; a re-issue likewise.
    assert reference_from_records("2025-APR", annual).label == "2025-JAN"
    assert reference_from_records("2025-OCT#3", ()).label == "2025-JUL"


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("2016", "2015-JAN"),
        ("2017", "2016-JAN"),
        ("2018", "2017-JAN"),
        ("2020-JAN", "2019-JAN"),
        ("2020-APR", "2020-JAN"),
        ("2020-JUL", "2020-APR"),
        ("2020-OCT", "2020-JUL"),
    ],
)
def test_reference_of_real_releases(real_releases: RealReleases, label: str, expected: str) -> None:
    assert reference_of(real_releases.snapshot(label)).label == expected
    if quarter_of(label).month != 1:
        return
    # The raw file shows why: codes declared A that were added during the previous year,
    # before its October quarter (so carried by an April or July file already).
    year = quarter_of(label).year
    earlier = {
        r.code
        for r in raw(label).values()
        if r.action == "A" and r.added and date(year - 1, 1, 1) <= r.added < date(year - 1, 10, 1)
    }
    assert earlier
    # CMS's transaction report, an independent declaration, lists those codes as added too.
    report = real_releases.report(label)
    assert {code for code in earlier if report.get(code) == "A"} == earlier


# --- Reconciliation only against the reference, through the store -------------------------------


@pytest.mark.parametrize(("old", "new"), CONSECUTIVE_PAIRS)
def test_real_reference_pairs_are_reconciled(real_store_url: str, old: str, new: str) -> None:
    store = api.open_store(real_store_url)
    try:
        result = api.diff(store, old, new)
    finally:
        store.close()
    assert result.reconciled and result.reconciliation.reference == str(quarter_of(old))
    assert result.reconciliation.missing == () and result.reconciliation.reason == ""


def test_2018_to_2020_names_the_missing_releases_and_finds_nothing(
    real_store_url: str, real_releases: RealReleases
) -> None:
    store = api.open_store(real_store_url)
    try:
        result = api.diff(store, "2018", "2020-JAN")
        jan_oct = api.diff(store, "2020-JAN", "2020-OCT")
    finally:
        store.close()
    assert not result.reconciled and result.findings == ()
    reconciliation = result.reconciliation
    assert reconciliation.reference == "2019-JAN"
    assert reconciliation.missing == (
        "2018-APR",
        "2018-JUL",
        "2018-OCT",
        "2019-JAN",
        "2019-APR",
        "2019-JUL",
        "2019-OCT",
    )
    assert "2019-JAN" in reconciliation.reason and "not stored" in reconciliation.reason
    # Reconciling against 2018 anyway is what produced the false findings.
    forced = diff_snapshots(
        real_releases.snapshot("2018"),
        real_releases.snapshot("2020-JAN"),
        reference=Reference("2018-JAN", "forced"),
    )
    assert len(forced.findings) > 400
    # JUL is stored: OCT is not reconciled against JAN, and nothing is missing.
    assert not jan_oct.reconciled and jan_oct.findings == ()
    assert jan_oct.reconciliation.missing == ()
    assert "diff 2020-JUL 2020-OCT to reconcile" in jan_oct.reconciliation.reason


def run(db: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--db", db, *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout


def test_cli_diff_says_why_it_did_not_reconcile(real_store_url: str) -> None:
    code, out = run(real_store_url, "diff", "2018", "2020-JAN")
    assert code == 0
    first = out.splitlines()[0]
    assert "reconciliation skipped: 2020-JAN's action codes describe changes since 2019-JAN" in (
        first
    )
    assert first.endswith("2019-APR, 2019-JUL and 2019-OCT are not stored")
    assert "reconciliation:" not in out  # no findings listed
    code, out = run(real_store_url, "diff", "2018", "2020-JAN", "--format", "json")
    payload = json.loads(out)
    assert payload["findings"] == [] and payload["consecutive"] is False
    assert payload["reconciliation"]["reconciled"] is False
    assert payload["reconciliation"]["reference"] == "2019-JAN"
    assert "2019-JAN" in payload["reconciliation"]["missing"]
    code, out = run(real_store_url, "diff", "2020-JAN", "2020-APR", "--format", "json")
    payload = json.loads(out)
    assert payload["reconciliation"]["reconciled"] is True and payload["findings"]
    code, out = run(real_store_url, "report", "2018", "2020-JAN")
    assert "Reconciliation skipped: 2020-JAN's action codes describe changes since 2019-JAN" in out
    assert "2018-APR, 2018-JUL, 2018-OCT, 2019-JAN, 2019-APR, 2019-JUL and 2019-OCT are not" in out
    assert "### Declared by CMS but not seen" not in out


def test_year_lists_missing_quarters(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = api.open_store(url)
    try:
        for name in (
            "2020-JAN/2020-Alpha-Numeric-HCPCS-File.zip",
            "2020-JUL/HCPC2020_JUL_ANWEB.xlsx",
        ):
            api.ingest(store, shared_path("cms-hcpcs", *name.split("/")))
        year = api.diff_year(store, 2020)
    finally:
        store.close()
    assert year.missing == ("2020-APR", "2020-OCT")
    (step,) = year.steps
    assert not step.reconciled and step.findings == ()
    assert step.reconciliation.missing == ("2020-APR",)
    code, out = run(url, "diff", "--year", "2020")
    assert code == 0 and "not stored in 2020: 2020-APR, 2020-OCT" in out
    code, out = run(url, "report", "--year", "2020")
    assert "CMS releases of this year that are not stored: 2020-APR, 2020-OCT." in out
    code, out = run(url, "report", "--year", "2020", "--format", "json")
    assert json.loads(out)["missing"] == ["2020-APR", "2020-OCT"]


# --- Representation is not change --------------------------------------------------------------


def test_representation_differences_are_not_changes() -> None:
    assert diff_records(rec("A0001", anesthesia_base_units=0), rec("A0001")) is None
    assert diff_records(rec("A0001", processing_note="0000"), rec("A0001")) is None
    assert diff_records(rec("A0001"), rec("A0001", action_effective_date=None)) is None
    # Real values still differ.
    change = diff_records(
        rec("A0001", anesthesia_base_units=0), rec("A0001", anesthesia_base_units=5)
    )
    assert change is not None and [fc.field for fc in change.fields] == ["anesthesia_base_units"]
    old = Snapshot.from_records(
        adhoc_info("2020-JAN"), [rec("A0001", processing_note="0000"), rec("A0002")]
    )
    new = Snapshot.from_records(
        adhoc_info("2020-APR"),
        [rec("A0001"), rec("A0002", processing_note="0000", coverage="M", action_code="F")],
    )
    diff = diff_snapshots(old, new)
    assert [c.code for c in diff.changes] == ["A0002"] and diff.unchanged_count == 1
    assert [c.code for c in diff.representation_only] == ["A0001"]
    assert [fc.field for fc in diff.changes[0].fields] == ["coverage", "action_code"]
    assert [fc.field for fc in diff.changes[0].representation] == ["processing_note"]
    assert diff.findings == ()
    assert diff.summary_counts()["representation_only"] == 1


def test_real_processing_note_and_blank_action_dates(real_releases: RealReleases) -> None:
    jan, apr = raw("2020-JAN"), raw("2020-APR")
    notes = {
        code
        for code in jan.keys() & apr.keys()
        if jan[code].processing_note != apr[code].processing_note
        and {jan[code].processing_note, apr[code].processing_note} <= {"", "0000"}
    }
    assert notes  # 0000 in the January text, blank in the April workbook
    diff = real_releases.diff("2020-JAN", "2020-APR")
    for code in notes:
        change = diff.change(code)
        assert change is None or change.field("processing_note") is None
        assert not diff.findings_for(code)
    old = raw("2018")
    blank = {
        code
        for code, r in jan.items()
        if code in old and r.action_effective is None and old[code].action_effective is not None
    }
    assert blank
    step = real_releases.diff("2018", "2020-JAN", consecutive=False)
    for code in blank:
        change = step.change(code)
        assert change is None or change.field("action_effective_date") is None


def test_headline_counts_do_not_mix_kinds(real_releases: RealReleases) -> None:
    jan, apr = raw("2020-JAN"), raw("2020-APR")
    diff = real_releases.diff("2020-JAN", "2020-APR")
    summary = diff.summary_counts()
    assert summary["added"] == len(apr.keys() - jan.keys())
    assert summary["added"] + summary["changed"] + summary["action_only"] == len(diff.changes)
    # Action-code-only codes: APR reset JAN's actions to N, nothing else about them moved.
    assert summary["action_only"] > 0
    for change in diff.changes:
        if change.kind is ChangeKind.CHANGED and {fc.field for fc in change.fields} <= {
            "action_code",
            "action_effective_date",
        }:
            assert jan[change.code].action != apr[change.code].action or (
                jan[change.code].action_effective != apr[change.code].action_effective
            )


def test_year_report_shows_the_action_of_the_quarter(real_store_url: str) -> None:
    apr, jul, oct_ = raw("2020-APR"), raw("2020-JUL"), raw("2020-OCT")
    # Codes CMS declared C in April and left alone afterwards (N in July and October).
    codes = sorted(
        code
        for code, r in apr.items()
        if r.action == "C" and jul[code].action == "N" and oct_[code].action == "N"
    )
    assert codes
    store = api.open_store(real_store_url)
    try:
        text = api.report_year(store, 2020)
    finally:
        store.close()
    for code in codes:
        assert re.search(
            rf"\*\*{code}\*\* (long|short)( description)? \(action C in 2020-APR\)", text
        ), code


# --- Born and retired inside the year ------------------------------------------------------------


def test_born_and_retired_by_the_latest_record() -> None:
    def snap(label: str, *records: Record) -> Snapshot:
        return Snapshot.from_records(adhoc_info(label), records)

    born = {"added_date": date(2020, 4, 1)}
    jan = snap("2020-JAN", rec("F0001"))
    apr = snap("2020-APR", rec("F0001"), rec("F0002", **born), rec("F0003", **born))
    # The next annual file terminates F0002 retroactively inside 2020, and rewrites F0003's
    # added date back to 2019 (so it was not born in 2020) while terminating it.
    later = snap(
        "2021-JAN",
        rec("F0001"),
        rec("F0002", **born, termination_date=date(2020, 12, 31), action_code="D"),
        rec(
            "F0003",
            added_date=date(2019, 11, 15),
            termination_date=date(2020, 12, 31),
            action_code="D",
        ),
    )
    assert diff_year([jan, apr]).transient == ()
    (item,) = diff_year([jan, apr], latest=later).transient
    assert (item.code, item.ended, item.ended_in) == ("F0002", ChangeKind.TERMINATED, "2021-JAN")


def _independent_transient(year: int, labels: list[str]) -> set[str]:
    """Codes whose latest raw record has its added and termination dates in `year`, or that
    were added in the year and vanished without a termination."""
    latest: dict[str, Raw] = {}
    for label in labels:
        latest.update(raw(label))
    last = raw(labels[-1])
    out = set()
    for code, r in latest.items():
        if r.added is None or r.added.year != year:
            continue
        ended = r.termination.year == year if r.termination else code not in last
        if ended:
            out.add(code)
    return out


def test_real_year_2020_born_and_retired(real_releases: RealReleases, real_store_url: str) -> None:
    labels = ["2020-JAN", "2020-APR", "2020-JUL", "2020-OCT"]
    year = diff_year([real_releases.snapshot(label) for label in labels])
    found = {t.code for t in year.transient}
    assert found == _independent_transient(2020, labels)
    # Added on January 1, 2020 and in the year's first release: they belong to 2020.
    assert {"C9054", "C9055", "G1000", "J9199"} <= found
    # C9058's added date was rewritten back to 2019-11-15: not born in 2020.
    assert raw("2020-OCT")["C9058"].added == date(2019, 11, 15) and "C9058" not in found
    assert year.missing == ()
    code, out = run(real_store_url, "diff", "--year", "2020")
    assert code == 0
    born = out.split("born and ended inside the year:")[1]
    assert {line.split()[0] for line in born.strip().splitlines()} == found
