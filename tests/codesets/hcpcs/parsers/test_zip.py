"""The release-zip parser: which member is the release, and refusing hostile archives."""

from __future__ import annotations

import io
import struct
import zipfile
from types import ModuleType

import pytest

from tracker.codesets.hcpcs.parsers import parse_source
from tracker.codesets.hcpcs.parsers.base import SourceFile
from tracker.codesets.hcpcs.parsers.cmszip import CmsZipParser, is_companion_file
from tracker.errors import ParseError

from .conftest import RealFiles


def _zip(make_bad: ModuleType, *members: tuple[str, bytes]) -> SourceFile:
    return SourceFile("release.zip", make_bad.zip_bytes(list(members)))


def _text(make_bad: ModuleType, *codes: str) -> bytes:
    return bytes(make_bad.text_file([make_bad.record_line(code) for code in codes]))


@pytest.mark.parametrize(
    "name",
    [
        "HCPCS2017_Trans Report_ChangesbyAction.prn",
        "HCPC18_Trans_Report_Alpha.xlsx",
        "HCPC2020_TRANS_ALPHA_w_disclaimer.xlsx",
        "Changes_by_HCPC.prn",
        "hcpc2017_corrections_alpha.txt",
        "V1_HCPC2018_Corrections_ANWEB.xlsx",
        "HCPCS17_recordlayout.txt",
        "proc_notes_2020.txt",
        "HCPC2020_README.txt",
        "__MACOSX/._HCPC2020_ANWEB.txt",
    ],
)
def test_companion_files(name: str) -> None:
    assert is_companion_file(name)


@pytest.mark.parametrize(
    "name", ["HCPC2020_ANWEB_w_disclaimer.txt", "HCPC17_CONTR_ANWEB.xlsx", "HCPC2020_APR_ANWEB"]
)
def test_release_files(name: str) -> None:
    assert not is_companion_file(name)


def test_text_preferred_and_companions_ignored(make_bad: ModuleType) -> None:
    source = _zip(
        make_bad,
        ("HCPC_TRANS_ALPHA.prn", _text(make_bad, "Z9009")),
        ("HCPC_ANWEB.txt", _text(make_bad, "Z9001", "Z9002")),
        ("HCPC_ANWEB.xlsx", make_bad.xlsx_bytes([make_bad.HEADER_48])),
    )
    release = parse_source(source)
    assert release.data_member == "HCPC_ANWEB.txt"
    assert [r.code for r in release.records] == ["Z9001", "Z9002"]
    assert [m.name for m in release.members if m.is_data] == ["HCPC_ANWEB.txt"]
    assert len(release.members) == 3


def test_workbook_when_no_text(make_bad: ModuleType) -> None:
    book = make_bad.xlsx_bytes([make_bad.HEADER_48, make_bad.workbook_row("Z9001")])
    trans = make_bad.xlsx_bytes([["HCPC/MOD", "ACTION CD", "SHORT DESCRIPTION"]])
    source = _zip(make_bad, ("HCPC_TRANS_ALPHA.xlsx", trans), ("HCPC_ANWEB.xlsx", book))
    release = parse_source(source)
    assert (release.parser, release.data_member) == ("cms-workbook", "HCPC_ANWEB.xlsx")


def test_two_workbooks_without_text(make_bad: ModuleType) -> None:
    book = make_bad.xlsx_bytes([make_bad.HEADER_48, make_bad.workbook_row("Z9001")])
    source = _zip(make_bad, ("A.xlsx", book), ("B.xls", book))
    with pytest.raises(ParseError) as caught:
        parse_source(source)
    assert str(caught.value) == "release.zip: two candidate release files inside: A.xlsx and B.xls"


def test_errors_inside_name_the_member(make_bad: ModuleType) -> None:
    broken = make_bad.text_file(
        [make_bad.record_line("Z9001"), make_bad.record_line("Z9002", added="20191350")]
    )
    with pytest.raises(ParseError) as caught:
        parse_source(_zip(make_bad, ("HCPC_ANWEB.txt", broken)))
    assert str(caught.value) == (
        "release.zip!HCPC_ANWEB.txt:2: Z9002: date '20191350' is not a calendar date"
    )


def test_duplicate_code_inside_names_the_member(make_bad: ModuleType) -> None:
    with pytest.raises(ParseError) as caught:
        parse_source(_zip(make_bad, ("HCPC_ANWEB.txt", _text(make_bad, "Z9001", "Z9001"))))
    assert str(caught.value) == (
        "release.zip!HCPC_ANWEB.txt:2: code Z9001 appears twice (first on line 1)"
    )


def test_absolute_member_path(make_bad: ModuleType) -> None:
    with pytest.raises(ParseError) as caught:
        parse_source(_zip(make_bad, ("/etc/HCPC.txt", _text(make_bad, "Z9001"))))
    assert str(caught.value) == (
        "release.zip!/etc/HCPC.txt: unsafe member path (absolute or containing '..')"
    )


def test_header_understating_the_size(make_bad: ModuleType) -> None:
    """A member that inflates past its declared size stops at that size and fails its CRC."""
    data = bytearray(make_bad.zip_bytes([("HCPC.txt", _text(make_bad, "Z9001", "Z9002"))]))
    for magic, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        struct.pack_into("<I", data, data.find(magic) + offset, 100)
    with pytest.raises(ParseError) as caught:
        parse_source(SourceFile("liar.zip", bytes(data)))
    assert str(caught.value) == (
        "liar.zip: truncated or corrupt zip (HCPC.txt: Bad CRC-32 for file 'HCPC.txt')"
    )


def test_huge_bomb_generated_at_test_time() -> None:
    """200 MB of zeros (200 KB zipped): refused from its header, before inflating a byte."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("zeros.txt", "w") as member,
    ):
        chunk = b"\0" * (1024 * 1024)
        for _ in range(201):
            member.write(chunk)
    with pytest.raises(ParseError) as caught:
        parse_source(SourceFile("bomb.zip", buffer.getvalue()))
    assert str(caught.value) == (
        "bomb.zip!zeros.txt: declared size 210763776 bytes exceeds the limit of 209715200 bytes"
    )


def test_empty_zip(make_bad: ModuleType) -> None:
    with pytest.raises(ParseError) as caught:
        parse_source(_zip(make_bad))
    assert str(caught.value) == "release.zip: no HCPCS release file inside (members: none)"


def test_detect_leaves_workbooks_alone(make_bad: ModuleType, real: RealFiles) -> None:
    parser = CmsZipParser()
    assert parser.detect(_zip(make_bad, ("a.txt", b"x")))
    assert not parser.detect(SourceFile("b.xlsx", make_bad.xlsx_bytes([["x"]])))
    assert not parser.detect(real.source("2020-APR-xlsx"))
    assert not parser.detect(SourceFile("c.txt", b"PK"))


def test_transaction_report_zip_is_not_a_release(real: RealFiles) -> None:
    """The 2018 corrections zip (V1-V4 .prn + .xlsx) holds no release."""
    source = real.load("2018/2018-HCPCS-Alpha-Numeric-Corrections.zip")
    with pytest.raises(ParseError) as caught:
        parse_source(source)
    assert str(caught.value).startswith(
        "2018-HCPCS-Alpha-Numeric-Corrections.zip: no HCPCS release file inside (members: "
        "HCPC2018_Corrections_README.txt, V1_HCPC2018_Corrections_ANWEB.prn,"
    )
