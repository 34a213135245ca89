"""The CSV report's rows (`tracker.report.rows`): one per field change, codes added or removed
on one row, the year before its quarters, and CMS's companion files after the changes."""

from __future__ import annotations

import dataclasses
from datetime import date

from tracker.codesets.hcpcs.corrections import CorrectionsListing
from tracker.codesets.hcpcs.transreport import Disagreement, ReportCheck
from tracker.diff import diff_snapshots, diff_year
from tracker.report.rows import CSV_COLUMNS, diff_csv_rows, year_csv_rows

from .conftest import rec, snap

PROBE = rec("C1009", long_description="Probe, cardiac ablation")
JAN = snap("2026-JAN", rec("C1001"), rec("C1002", coverage="C"), PROBE)
APR = snap(
    "2026-APR",
    rec("C1001", termination_date=date(2026, 3, 31), xrefs=("C1009", "C1404"), action_code="D"),
    rec("C1002", coverage="", action_code="C"),
    rec("C1003", added_date=date(2026, 4, 1), action_code="A"),
    PROBE,
)


def as_dicts(rows: list[list[str]]) -> list[dict[str, str]]:
    assert all(len(row) == len(CSV_COLUMNS) for row in rows)
    return [dict(zip(CSV_COLUMNS, row, strict=True)) for row in rows]


def test_one_row_per_field_change_and_one_per_added_code() -> None:
    rows = as_dicts(diff_csv_rows(diff_snapshots(JAN, APR), new_snapshot=APR))
    by_key = {(row["code"], row["field"]): row for row in rows}
    added = by_key[("C1003", "")]
    assert (added["kind"], added["category"], added["declared_action"]) == ("added", "", "A")
    assert added["old_release"] == "2026-JAN" and added["new_release"] == "2026-APR"
    xrefs = by_key[("C1001", "xrefs")]
    assert (xrefs["old"], xrefs["new"]) == ("", "C1009; C1404")
    assert xrefs["new_meaning"] == "Probe, cardiac ablation; not in 2026-APR"
    # A value cleared is a blank cell, not the "—" the Markdown report shows.
    coverage = by_key[("C1002", "coverage")]
    assert (coverage["old"], coverage["new"]) == ("C", "")
    assert "Carrier judgment" in coverage["old_meaning"] and coverage["new_meaning"] == ""
    assert {row["code"] for row in rows} == {"C1001", "C1002", "C1003"}


def test_companion_files_follow_the_changes() -> None:
    diff = dataclasses.replace(
        diff_snapshots(JAN, APR),
        transaction_report=ReportCheck(
            release="2026-APR",
            report="HCPC2026_APR_TRANS.xlsx",
            codes_listed=3,
            disagreements=(Disagreement("C1002", "not_in_report", None, "C"),),
        ),
        corrections=(CorrectionsListing("2026-APR", "corr.txt", "", ("C1002 fixed",)),),
    )
    rows = as_dicts(diff_csv_rows(diff))
    report, correction = rows[-2:]
    assert (report["category"], report["code"], report["field"]) == (
        "transaction_report",
        "C1002",
        "not_in_report",
    )
    assert (report["old"], report["new"], report["long_description"]) == (
        "",
        "C",
        "HCPC2026_APR_TRANS.xlsx",
    )
    assert (correction["category"], correction["field"], correction["long_description"]) == (
        "corrections",
        "corr.txt",
        "C1002 fixed",
    )
    assert all(row["category"] not in {"transaction_report", "corrections"} for row in rows[:-2])


def test_year_rows_then_each_quarter() -> None:
    jul = snap("2026-JUL", *(APR.records(["C1001", "C1002", "C1009"]).values()))
    year = diff_year([JAN, APR, jul])
    rows = year_csv_rows(year, last_snapshot=jul)
    assert all(len(row) == 1 + len(CSV_COLUMNS) for row in rows)
    scopes = [row[0] for row in rows]
    assert scopes == sorted(scopes, key=["year", "quarter"].index)
    overall = [row for row in rows if row[0] == "year"]
    assert {(row[1], row[2]) for row in overall} == {("2026-JAN", "2026-JUL")}
    quarters = {(row[1], row[2]) for row in rows if row[0] == "quarter"}
    assert quarters == {("2026-JAN", "2026-APR"), ("2026-APR", "2026-JUL")}
    # C1003 came and went inside the year: in the quarters, not in the year as a whole.
    assert "C1003" not in {row[3] for row in overall}
    assert "C1003" in {row[3] for row in rows if row[0] == "quarter"}
