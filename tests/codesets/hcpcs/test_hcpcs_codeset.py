"""The code-set seam: the registry, detection, and HCPCS's answers to the interface.

Checked against the real CMS files: detection on every release form CMS ships (text, workbook,
zip), the stored columns against the fixed-width positions of CMS's record layout sliced here
(positions 1-5 code, 11 record id, 269-276 added date, 285-292 termination date, 293 action
code), and a stored body decoding back to the very record it came from.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import REAL_FILES
from tracker.codesets import (
    CodeSetError,
    code_set_names,
    code_sets,
    detect_code_set,
    get_code_set,
)
from tracker.codesets.base import CodeRecord, LabelParts, SourceFile
from tracker.errors import ReleaseError


def test_registry_knows_hcpcs_by_name_in_any_case() -> None:
    assert "hcpcs" in code_set_names()
    assert get_code_set("HCPCS") is get_code_set("hcpcs")
    assert [code_set.name for code_set in code_sets()] == list(code_set_names())


def test_unknown_code_set_names_the_known_ones() -> None:
    with pytest.raises(CodeSetError, match=r"code set 'icd9' is not known \(known: hcpcs"):
        get_code_set("icd9")


@pytest.mark.parametrize("name", REAL_FILES)
def test_every_real_release_form_is_detected_as_hcpcs(
    shared_file: Callable[..., Path], name: str
) -> None:
    path = shared_file("cms-hcpcs", *name.split("/"))
    found = detect_code_set(SourceFile(path.name, path.read_bytes()))
    assert found is not None and found.name == "hcpcs"


@pytest.mark.parametrize(
    "data", [b"", b"claim_id,code,date\n1,J0598,2020-01-01\n", b"\x00\x01\x02" * 100]
)
def test_a_file_of_no_code_set_is_detected_as_none(data: bytes) -> None:
    assert detect_code_set(SourceFile("claims.csv", data)) is None


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("j0598", "J0598"), (" E0159 ", "E0159"), ("ga", "GA"), ("J059", None), ("E11.9", None)],
)
def test_hcpcs_codes_are_normalized_or_refused(typed: str, stored: str | None) -> None:
    hcpcs = get_code_set("hcpcs")
    assert hcpcs.normalize_code(typed) == stored
    if stored is not None:
        assert hcpcs.display_code(stored) == stored


def _cms_date(text: str) -> date | None:
    text = text.strip()
    if not text or set(text) == {"0"}:
        return None
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))


def test_stored_columns_and_bodies_agree_with_the_raw_fixed_width_file(
    shared_file: Callable[..., Path],
) -> None:
    path = shared_file("cms-hcpcs", "2016", "HCPC2016_CONTR_ANWEB.txt")
    data = path.read_bytes()
    hcpcs = get_code_set("hcpcs")
    parsed = hcpcs.parse(SourceFile(path.name, data))
    records = {record.code: record for record in parsed.records}
    # An independent reading: the first line of each code (record id 3 or 7).
    raw: dict[str, tuple[date | None, date | None, str]] = {}
    for line in data.decode("latin-1").splitlines():
        if len(line) >= 293 and line[10] in "37":
            code = line[0:5].strip()
            raw[code] = (_cms_date(line[268:276]), _cms_date(line[284:292]), line[292])
    assert set(raw) == set(records)
    terminated = 0
    for code, (added, terminated_on, action) in raw.items():
        record = records[code]
        columns = hcpcs.stored_columns(record)
        assert (columns.added_date, columns.termination_date, columns.action_code) == (
            added,
            terminated_on,
            action,
        ), code
        terminated += terminated_on is not None
        decoded = hcpcs.decode_record(record.canonical_json())
        assert isinstance(decoded, CodeRecord)
        assert decoded == record
    assert terminated > 0  # the check covered both active and terminated codes


def test_families_cover_every_real_code(shared_file: Callable[..., Path]) -> None:
    path = shared_file("cms-hcpcs", "2016", "HCPC2016_CONTR_ANWEB.txt")
    hcpcs = get_code_set("hcpcs")
    parsed = hcpcs.parse(SourceFile(path.name, path.read_bytes()))
    for record in parsed.records:
        family = hcpcs.family(record.code)
        assert family in hcpcs.families
        if len(record.code) == 2:
            assert family == "modifiers"
        elif record.code[0] == "J":
            assert family == "drugs"


# CMS's file-name forms over the years (ARCHITECTURE.md and the files in shared/cms-hcpcs), with
# the release each announces: the annual file is the JAN release of its year.
LABEL_TABLE = [
    ("HCPC2020_APR_ANWEB.xlsx", "2020-APR", date(2020, 4, 1)),
    ("HCPC2020_JUL_ANWEB.xlsx", "2020-JUL", date(2020, 7, 1)),
    ("HCPC2020_OCT_ANWEB.xlsx", "2020-OCT", date(2020, 10, 1)),
    ("HCPC2025_JAN_ANWEB_12172024.txt", "2025-JAN", date(2025, 1, 1)),
    ("HCPC2020_ANWEB_w_disclaimer.txt", "2020-JAN", date(2020, 1, 1)),
    ("HCPC2016_CONTR_ANWEB.txt", "2016-JAN", date(2016, 1, 1)),
    ("HCPC17_CONTR_ANWEB.txt", "2017-JAN", date(2017, 1, 1)),
    ("HCPC2013_A-N.txt", "2013-JAN", date(2013, 1, 1)),
    ("2018-Alpha-Numeric-HCPCS-File.zip", "2018-JAN", date(2018, 1, 1)),
    ("2020-APR-Alpha-Numeric-HCPCS-File.zip", "2020-APR", date(2020, 4, 1)),
    ("12anweb.txt", "2012-JAN", date(2012, 1, 1)),
    ("20anweb_v2.zip", "2020-JAN", date(2020, 1, 1)),
    ("jan20anweb.zip", "2020-JAN", date(2020, 1, 1)),
    ("oct2019anweb.zip", "2019-OCT", date(2019, 10, 1)),
    ("some/folder/HCPC2019_JUL_ANWEB_v3.xlsx", "2019-JUL", date(2019, 7, 1)),
    ("claims.csv", None, None),
    ("HCPC1970_JAN_ANWEB.txt", None, None),
    ("release.txt", None, None),
]


@pytest.mark.parametrize(("file_name", "label", "effective"), LABEL_TABLE)
def test_label_inference_from_cms_file_names(
    file_name: str, label: str | None, effective: date | None
) -> None:
    hcpcs = get_code_set("hcpcs")
    assert hcpcs.infer_label(file_name) == label
    if label is not None:
        assert hcpcs.effective_date(label) == effective


# A release zip's name and its data member's name, read together (`zip!member`): a quarter
# the member names decides over a zip that names only a year, a member naming only a year
# leaves the quarter to the zip, and two names that disagree are refused naming both.
ZIP_MEMBER_TABLE = [
    ("HCPCS2026.zip!HCPC2026_APR_ANWEB.txt", "2026-APR"),
    ("2020-APR-Alpha-Numeric-HCPCS-File.zip!HCPC2020_ANWEB.txt", "2020-APR"),
    ("HCPC2020_JUL_ANWEB.zip!HCPC2020_JUL_ANWEB.xlsx", "2020-JUL"),
    ("download.zip!HCPC2019_OCT_ANWEB.txt", "2019-OCT"),
    ("HCPC2018_ANWEB.zip!readme.txt", "2018-JAN"),
    ("download.zip!data.txt", None),
]


@pytest.mark.parametrize(("names", "label"), ZIP_MEMBER_TABLE)
def test_label_inference_from_a_zip_and_its_data_member(names: str, label: str | None) -> None:
    assert get_code_set("hcpcs").infer_label(names) == label


@pytest.mark.parametrize(
    ("names", "zip_says", "member_says"),
    [
        ("HCPC2019_ANWEB.zip!HCPC2020_ANWEB.txt", "2019-JAN", "2020-JAN"),
        ("HCPC2020_APR_ANWEB.zip!HCPC2020_JUL_ANWEB.txt", "2020-APR", "2020-JUL"),
    ],
)
def test_a_zip_and_member_that_disagree_are_refused_naming_both(
    names: str, zip_says: str, member_says: str
) -> None:
    zip_name, member = names.split("!")
    expected = (
        f"{zip_name}: the zip's name says {zip_says} but its data file {member} says"
        f" {member_says}; give the release with --release"
    )
    with pytest.raises(ReleaseError) as raised:
        get_code_set("hcpcs").infer_label(names)
    assert str(raised.value) == expected


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("2020-APR", LabelParts("2020-APR", date(2020, 4, 1), "quarterly", None)),
        ("2020", LabelParts("2020-JAN", date(2020, 1, 1), "annual", None)),
        (" 2020-jul ", LabelParts("2020-JUL", date(2020, 7, 1), "quarterly", None)),
        ("2020-APR#2", LabelParts("2020-APR", date(2020, 4, 1), "quarterly", 2)),
        ("2021-JAN#1", LabelParts("2021-JAN", date(2021, 1, 1), "annual", 1)),
    ],
)
def test_labels_are_read_into_their_parts(text: str, parts: LabelParts) -> None:
    assert get_code_set("hcpcs").parse_label(text) == parts


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "FY2024",
            "release 'FY2024' is not a label like 2020-APR, 2020 (the annual file) or 2020-APR#2",
        ),
        ("2020-XYZ", "release '2020-XYZ' is not a label like 2020-APR"),
        ("0000", "release '0000': year 0 is not in 1980-2100"),
        ("2020-APR#0", "release '2020-APR#0': issue numbers start at 1"),
        ("2020-APR#99999999999", "release '2020-APR#99999999999': issue number is too large"),
    ],
)
def test_bad_labels_are_refused_saying_what_a_label_looks_like(text: str, message: str) -> None:
    with pytest.raises(ReleaseError) as raised:
        get_code_set("hcpcs").parse_label(text)
    assert str(raised.value).startswith(message)


def test_record_answers_agree_with_the_raw_fixed_width_file(
    shared_file: Callable[..., Path],
) -> None:
    """Dates, description and cross-references as the code set gives them to as-of answers,
    against the raw first line of each code (positions 12-91 the start of the long description,
    205-209 the first XREF, 269-276 added, 285-292 terminated, 293 the action code)."""
    path = shared_file("cms-hcpcs", "2016", "HCPC2016_CONTR_ANWEB.txt")
    hcpcs = get_code_set("hcpcs")
    data = path.read_bytes()
    records = {r.code: r for r in hcpcs.parse(SourceFile(path.name, data)).records}
    checked = 0
    for line in data.decode("latin-1").splitlines():
        if len(line) < 293 or line[10] not in "37":
            continue
        record = records[line[0:5].strip()]
        dates = hcpcs.record_dates(record)
        assert (dates.added_date, dates.termination_date, dates.action_code) == (
            _cms_date(line[268:276]),
            _cms_date(line[284:292]),
            line[292],
        )
        assert hcpcs.describe(record).startswith(" ".join(line[11:91].split()))
        first_xref = line[204:209].strip()
        assert hcpcs.replaced_by(record)[:1] == ((first_xref,) if first_xref else ())
        assert hcpcs.claim_status(record) is None
        checked += 1
    assert checked == len(records)
