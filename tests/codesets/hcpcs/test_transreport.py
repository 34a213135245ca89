"""CMS's transaction reports, read in every shape CMS shipped them, agree with the releases."""

from __future__ import annotations

import io
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import REAL_RELEASES, RealReleases

from tracker.codesets.hcpcs.transreport import (
    action_letter,
    find_report_member,
    parse_transaction_report,
    read_transaction_report,
)
from tracker.errors import SourceError

# Every wording found in the reports of 2016, 2017, 2018 and 2020 (JAN, APR, JUL, OCT).
WORDINGS = {
    "Add": "A",
    "ADD": "A",
    "Change in both Coverage & Long Description": "B",
    "Coverage & Long Desc Change": "B",
    "Coverage and Long Description Change": "B",
    "Change in Long Description": "C",
    "Long Description Change": "C",
    "Long/Short Description Change": "C",
    "Long Description ChangePn soln nos 10 grams lipids": "C",  # .prn run-on
    "Discontinued": "D",
    "Change in Coverage": "F",
    "Coverage Change": "F",
    "No change": "N",
    "No Change": "N",
    "Change in Payment": "P",
    "Payment Change": "P",
    "Re-activated": "R",
    "Change in Short Description": "S",
    "Short Description Change": "S",
    "Short Description ChangRafs crs hi no scor no surv": "S",  # .prn cut short
    "Miscellaneous Change (BETOS or Type of Service": "T",
    "Misc Change (TOS, BETOS)": "T",
    "  no   CHANGE ": "N",
    "c": "C",
}


@pytest.mark.parametrize(("text", "letter"), sorted(WORDINGS.items()))
def test_action_letter(text: str, letter: str) -> None:
    assert action_letter(text) == letter


@pytest.mark.parametrize("text", ["", "Changed its mind", "Additional", "Q"])
def test_unknown_wording(text: str) -> None:
    assert action_letter(text) is None


def test_text_listing_and_errors() -> None:
    listing = b"HCPCS/Modifier Code\tType of Change\r\nA0021\tNo change\r\n   A1   ADD\r\n\r\n"
    assert parse_transaction_report("t.txt", listing) == {"A0021": "N", "A1": "A"}
    with pytest.raises(SourceError, match=r"t\.txt:3: unknown action wording"):
        parse_transaction_report("t.txt", b"HCPC\r\nA0021 No change\r\nA0022 Shuffled\r\n")
    with pytest.raises(SourceError, match=r"t\.txt:2: not a 'code  action' line"):
        parse_transaction_report("t.txt", b"HCPC\r\nthis is a footer\r\n")
    with pytest.raises(SourceError, match="no 'HCPC' header"):
        parse_transaction_report("t.txt", b"A0021 No change\r\n")


def test_a_code_listed_twice_keeps_its_change() -> None:
    # 2020-JUL's by-action sheet lists CS under both "Long/Short Description Change" and "No
    # Change"; the release file declares C.
    listing = b"HCPC ACTION\nCS No Change\nCS Long/Short Description Change\nCT No Change\n"
    assert parse_transaction_report("jul.prn", listing) == {"CS": "C", "CT": "N"}


def test_zip_member_choice() -> None:
    assert find_report_member(["a.txt", "HCPC18_Trans_Report_Alpha.xlsx", "x.prn"]) == (
        "HCPC18_Trans_Report_Alpha.xlsx"
    )
    assert find_report_member(["Changes_by_ActionCode.prn", "Changes_by_HCPC.prn"]) == (
        "Changes_by_HCPC.prn"
    )
    assert find_report_member(["HCPC2020_ANWEB.txt", "proc_notes.txt"]) is None
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("HCPC2099_ANWEB.txt", "not a report")
    with pytest.raises(SourceError, match="no transaction report inside"):
        parse_transaction_report("r.zip", buffer.getvalue())


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot read"):
        read_transaction_report(tmp_path / "nope.xlsx")


# Every report file CMS shipped, per release: (file under cms-hcpcs, zip member or None).
ALL_REPORTS: dict[str, list[tuple[str, str | None]]] = {
    "2016": [
        ("2016/HCPC2016_TransactionReport_Alpha.xlsx", None),
        ("2016/HCPC2016_TransReport_Changes_by_HCPCS_Code.txt", None),
        ("2016/HCPC2016_TransReport_Changes_by_Action_Code.txt", None),
    ],
    "2017": [
        ("2017/2017-Alpha-Numeric-HCPCS-File.zip", None),
        ("2017/2017-Alpha-Numeric-HCPCS-File.zip", "HCPCS2017_Trans Report_ChangesbyHCPC.prn"),
        ("2017/2017-Alpha-Numeric-HCPCS-File.zip", "HCPCS2017_Trans Report_ChangesbyAction.prn"),
    ],
    "2018": [
        ("2018/2018-Alpha-Numeric-HCPCS-File.zip", None),
        ("2018/2018-Alpha-Numeric-HCPCS-File.zip", "HCPC18_Trans_Report_Alpha_ChangesbyHCPC.prn"),
        (
            "2018/2018-Alpha-Numeric-HCPCS-File.zip",
            "HCPC18_Trans_Report_Alpha_ChangesbyAction.prn",
        ),
    ],
    "2020-JAN": [
        ("2020-JAN/2020-Alpha-Numeric-HCPCS-File.zip", None),
        ("2020-JAN/2020-Alpha-Numeric-HCPCS-File.zip", "Changes_by_HCPC.prn"),
        ("2020-JAN/2020-Alpha-Numeric-HCPCS-File.zip", "Changes_by_ActionCode.prn"),
    ],
    "2020-APR": [("2020-APR/HCPC2020_APR_TRANS_ALPHA.xlsx", None)],
    "2020-JUL": [("2020-JUL/HCPC2020_JUL_TRANS_ALPHA.xlsx", None)],
    "2020-OCT": [("2020-OCT/HCPC2020_OCT_TRANS_ALPHA.xlsx", None)],
}

# CMS's own files disagree here: the release lists a code its transaction report leaves out
# (both are N in the release file).
NOT_IN_REPORT = {"2016": {"DA": "N"}, "2018": {"L1": "N"}}


def test_every_release_is_covered() -> None:
    assert set(ALL_REPORTS) == set(REAL_RELEASES)


@pytest.mark.parametrize("label", sorted(ALL_REPORTS))
def test_report_counts_match_release_action_codes(
    real_releases: RealReleases, shared_file: Callable[..., Path], label: str
) -> None:
    records = real_releases.records(label)
    declared = {code: record.action_code for code, record in records.items()}
    expected = {code: a for code, a in declared.items() if code not in NOT_IN_REPORT.get(label, {})}
    for code, action in NOT_IN_REPORT.get(label, {}).items():
        assert declared[code] == action
    for relative, member in ALL_REPORTS[label]:
        report = read_transaction_report(shared_file("cms-hcpcs", *relative.split("/")), member)
        # Per code, and so per action count, the report says what the release file says.
        assert report == expected, (relative, member)
        assert Counter(report.values()) == Counter(expected.values())


def test_known_counts(real_releases: RealReleases) -> None:
    counts = {label: Counter(real_releases.report(label).values()) for label in ALL_REPORTS}
    assert counts["2017"] == Counter(
        {"N": 5902, "A": 278, "D": 147, "C": 124, "P": 38, "T": 4, "S": 2, "B": 1, "F": 1, "R": 1}
    )
    assert counts["2020-JUL"] == Counter({"N": 7083, "A": 61, "D": 9, "C": 4, "S": 1})
