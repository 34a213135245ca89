"""One small synthetic file per malformed input (tests/data/bad/, made by make_bad.py)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from tracker.errors import ParseError
from tracker.parsers import parse_source
from tracker.parsers.base import SourceFile

from .conftest import BAD_DIR

NOT_A_RELEASE = (
    "not a CMS HCPCS release (expected the fixed-width text, the workbook, the release zip"
    " or per-code pages)"
)
RELEASE_COLUMNS = (
    "PRICE1-PRICE4, MULT_PI, CIM1-CIM3, MCM1-MCM3, STATUTE, LABCERT1-LABCERT8, XREF1-XREF5, COV,"
    " ASC_GRP, ASC_DT, OPPS, OPPS_PI, OPPS_DT, PROCNOTE, BETOS, TOS1-TOS5, ANEST_BU, ADD DT,"
    " ACT EFF DT, TERM DT"
)
EXPECTED = {
    "empty.txt": "empty.txt: file is empty",
    "garbage.bin": f"garbage.bin: {NOT_A_RELEASE}",
    "truncated.zip": "truncated.zip: truncated or corrupt zip (File is not a zip file)",
    "no_release.zip": "no_release.zip: no HCPCS release file inside"
    " (members: README.txt, notes.txt)",
    "two_releases.zip": "two_releases.zip: two candidate release files inside:"
    " HCPC_A.txt and HCPC_B.txt",
    "traversal.zip": "traversal.zip!../evil.txt: unsafe member path (absolute or containing '..')",
    "bomb_ratio.zip": "bomb_ratio.zip!zeros.txt: compression ratio 1027:1 exceeds 100:1"
    " (zip bomb?)",
    "bomb_declared.zip": "bomb_declared.zip!huge.txt: declared size 4294967280 bytes exceeds"
    " the limit of 209715200 bytes",
    "no_header.xlsx": "no_header.xlsx: no HCPCS release header row (missing columns HCPC, RECID, "
    + RELEASE_COLUMNS
    + ")",
    "missing_columns.xlsx": "missing_columns.xlsx:3: header row lacks required columns "
    + RELEASE_COLUMNS,
    "bad_row.xlsx": "bad_row.xlsx:3: Z9002: date '20191350' is not a calendar date",
    "broken_ric.txt": "broken_ric.txt:2: record id 'X' is not 3, 4, 7 or 8",
    "truncated_record.txt": "truncated_record.txt:1: record for Z9001 is truncated"
    " (128 bytes, expected 320)",
    "bad_date.txt": "bad_date.txt:1: Z9001: date '20191350' is not a calendar date",
    "orphan_continuation.txt": "orphan_continuation.txt:1: continuation line for 'Z9001'"
    " does not follow that code's first line",
    "duplicate_code.txt": "duplicate_code.txt: code Z9001 appears twice (record 2)",
    "page_without_code.txt": "page_without_code.txt:3: page has no HCPCS Code line before"
    " 'Code Description'",
}


def test_every_bad_file_has_an_expected_message() -> None:
    on_disk = {p.name for p in BAD_DIR.iterdir() if p.suffix != ".py" and p.is_file()}
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_input_message(name: str) -> None:
    path = BAD_DIR / name
    with pytest.raises(ParseError) as caught:
        parse_source(SourceFile(path.name, path.read_bytes()))
    assert str(caught.value) == EXPECTED[name]


def test_committed_files_match_the_generator(make_bad: ModuleType) -> None:
    """The files are generated, never hand-edited (zips aside: their bytes depend on zlib)."""
    for name, data in make_bad.cases().items():
        if Path(name).suffix in {".zip", ".xlsx"}:
            continue
        assert (BAD_DIR / name).read_bytes() == data, name
