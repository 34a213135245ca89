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
from tracker.codesets.base import CodeRecord, SourceFile


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
