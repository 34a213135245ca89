"""Every real CMS release parses to the counts its README states, whatever its format."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections import Counter

import pytest

from tracker.codesets.hcpcs.record import RecordKind

from .conftest import REAL_FILES, RealFiles

# key: (procedures, modifiers), from shared/cms-hcpcs/README.md
COUNTS = {
    "2016-txt": (5956, 337),
    "2016-xlsx": (5956, 337),
    "2017-zip": (6155, 343),
    "2017-xlsx": (6155, 343),
    "2018-zip": (6205, 354),
    "2018-xlsx": (6205, 354),
    "2020-JAN-zip": (6710, 369),
    "2020-JAN-xls": (6710, 369),
    "2020-APR-xlsx": (6728, 369),
    "2020-JUL-xlsx": (6789, 369),
    "2020-OCT-xlsx": (6825, 371),
}
PARSER = {"txt": "cms-fixed-width", "zip": "cms-fixed-width", "xlsx": "cms-workbook"}
PARSER["xls"] = "cms-workbook"
# The zip parser must pick the complete fixed-width text over the workbook beside it.
CHOSEN = {
    "2017-zip": "HCPC17_CONTR_ANWEB.txt",
    "2018-zip": "HCPC2018_CONTR_ANWEB_disc.txt",
    "2020-JAN-zip": "HCPC2020_ANWEB_w_disclaimer.txt",
}


def test_every_real_file_is_covered() -> None:
    assert set(COUNTS) == set(REAL_FILES)


@pytest.mark.parametrize("key", sorted(COUNTS))
def test_counts(real: RealFiles, key: str) -> None:
    release = real.release(key)
    kinds = Counter(record.kind for record in release.records)
    assert (kinds[RecordKind.PROCEDURE], kinds[RecordKind.MODIFIER]) == COUNTS[key]
    assert release.parser == PARSER[key.rsplit("-", 1)[1]]


@pytest.mark.parametrize("key", sorted(CHOSEN))
def test_zip_chooses_text_and_hashes_every_member(real: RealFiles, key: str) -> None:
    release = real.release(key)
    assert release.data_member == CHOSEN[key]
    source = real.source(key)
    with zipfile.ZipFile(io.BytesIO(source.data)) as archive:
        expected = {
            info.filename: (info.file_size, hashlib.sha256(archive.read(info)).hexdigest())
            for info in archive.infolist()
        }
    assert {m.name: (m.size, m.sha256) for m in release.members} == expected
    assert [m.name for m in release.members if m.is_data] == [CHOSEN[key]]


def test_single_file_release_records_itself(real: RealFiles) -> None:
    release = real.release("2020-APR-xlsx")
    source = real.source("2020-APR-xlsx")
    assert release.data_member == "HCPC2020_APR_ANWEB.xlsx"
    assert [(m.name, m.size, m.sha256, m.is_data) for m in release.members] == [
        (source.name, len(source.data), hashlib.sha256(source.data).hexdigest(), True)
    ]


def test_workbook_continuation_row_is_joined(real: RealFiles) -> None:
    """2020 workbooks split G0503's long description over a RECID 4 row; the text has it whole."""
    by_code = {r.code: r for r in real.release("2020-OCT-xlsx").records}
    assert by_code["G0503"].long_description.endswith(
        "and relapse prevention planning with patients as they achieve remission of symptoms"
        " and/or other treatment goals and are prepared for discharge from active treatment"
    )


def test_modifier_codes_lose_their_alignment(real: RealFiles) -> None:
    """Modifiers are right-aligned (`   A1`), except 2020-OCT's J5, typed as a number row."""
    by_code = {r.code: r for r in real.release("2020-OCT-xlsx").records}
    assert by_code["A1"].kind is RecordKind.MODIFIER
    j5 = by_code["J5"]
    assert j5.kind is RecordKind.MODIFIER
    assert (j5.added_date.isoformat() if j5.added_date else None) == "2020-10-01"
    assert j5.action_code == "A"
