"""Per-code pages: their fields equal the same code in the CMS files."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest

from tracker.codesets.hcpcs.parsers import parse_source
from tracker.codesets.hcpcs.parsers.base import SourceFile
from tracker.codesets.hcpcs.parsers.seedpage import SeedPageParser
from tracker.codesets.hcpcs.record import Record, RecordKind
from tracker.errors import ParseError

from .conftest import REAL_FILES, RealFiles


def _seeds(real: RealFiles) -> dict[str, Record]:
    out: dict[str, Record] = {}
    for source in real.seed_sources():
        release = parse_source(source)
        assert release.parser == "seed-page"
        (record,) = release.records
        out[record.code] = record
    return out


def test_s0353_equals_the_2020_january_text(real: RealFiles) -> None:
    text = {r.code: r for r in real.release("2020-JAN-zip").records}
    assert _seeds(real)["S0353"] == text["S0353"]


@pytest.mark.parametrize("key", sorted(REAL_FILES))
def test_s0353_is_in_every_release(real: RealFiles, key: str) -> None:
    records = {r.code: r for r in real.release(key).records}
    assert records["S0353"] == _seeds(real)["S0353"]


def test_m1397_as_its_page_states(real: RealFiles) -> None:
    assert _seeds(real)["M1397"] == Record(
        code="M1397",
        kind=RecordKind.PROCEDURE,
        long_description="Patients with recurrence/disease progression",
        short_description="Pt w/ recur/prog",
        pricing_indicators=("00",),
        multiple_pricing_indicator="9",
        coverage="C",
        betos="Z2",
        types_of_service=("1",),
        anesthesia_base_units=0,
        added_date=date(2025, 1, 1),
        action_effective_date=date(2025, 1, 1),
        action_code="N",
    )


def test_zip_of_pages_is_one_release(real: RealFiles) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for source in real.seed_sources():
            archive.writestr(f"pages/{source.name}", source.data)
        archive.writestr("pages/README.txt", b"what these pages are\n")
    release = parse_source(SourceFile("pages.zip", buffer.getvalue()))
    assert release.parser == "seed-page"
    assert release.data_member == "pages/*"
    assert sorted(r.code for r in release.records) == ["M1397", "S0353"]
    assert [m.is_data for m in release.members].count(True) == 2


def _page(*lines: str) -> SourceFile:
    return SourceFile("page.txt", ("Title\n\n" + "\n".join(lines) + "\n").encode("utf-8"))


def test_modifier_page_and_every_layout_label() -> None:
    source = _page(
        "<i>HCPCS Code</i>\tZ1\tabout codes",
        "<i>Code Description</i>\tSynthetic &amp; modifier\tx",
        "<i>Short Description</i>\tSynthetic mod\tx",
        "<i>Pricing Indicator Code #2</i>\t13\tx",
        "<i>Pricing Indicator Code #2 Description</i>\tPrice established by carriers\tx",
        "<i>Coverage Issues Manual Reference Section Number #1</i>\t60-9\tx",
        "<i>Medicare Carriers Manual Reference Section Number #2</i>\t2049\tx",
        "<i>Statute Number</i>\t1833(t)\tx",
        "<i>Lab Certification Code #1</i>\t220\tx",
        "<i>Cross Reference Code #1</i>\tZ9002\tx",
        "<i>ASC Payment Group Code</i>\tYY\tx",
        "<i>ASC Payment Group Effective Date</i>\t20200101\tx",
        "<i>MOG Payment Group Code</i>\t001\tx",
        "<i>MOG Payment Policy Indicator</i>\t1\tx",
        "<i>MOG Effective Date</i>\t20200401\tx",
        "<i>Processing Note Number</i>\t0088\tx",
        "<i>Type Of Service Code #2</i>\tP\tx",
        "<i>Termination Date</i>\t20201231\tx",
        "<i>Status</i>\tActual\t",
    )
    (record,) = parse_source(source).records
    assert record == Record(
        code="Z1",
        kind=RecordKind.MODIFIER,
        long_description="Synthetic & modifier",
        short_description="Synthetic mod",
        pricing_indicators=("", "13"),
        cim_references=("60-9",),
        mcm_references=("", "2049"),
        statute="1833(t)",
        lab_certifications=("220",),
        xrefs=("Z9002",),
        asc_group="YY",
        asc_effective_date=date(2020, 1, 1),
        mog_group="001",
        mog_indicator="1",
        mog_effective_date=date(2020, 4, 1),
        processing_note="0088",
        types_of_service=("", "P"),
        termination_date=date(2020, 12, 31),
    )


def test_several_pages_in_one_file() -> None:
    source = _page(
        "<i>HCPCS Code</i>\tZ9001\tx",
        "<i>Code Description</i>\tFirst\tx",
        "<i>HCPCS Code</i>\tZ9002\tx",
        "<i>Code Description</i>\tSecond\tx",
    )
    assert [(r.code, r.long_description) for r in parse_source(source).records] == [
        ("Z9001", "First"),
        ("Z9002", "Second"),
    ]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (
            ("<i>HCPCS Code</i>\tZ9001\tx", "<i>Favourite Colour</i>\tblue\tx"),
            "page.txt:4: unknown field label 'Favourite Colour'",
        ),
        (("<i>HCPCS Code</i>\tZ90\tx",), "page.txt:3: HCPCS code 'Z90' is malformed"),
        (
            ("<i>HCPCS Code</i>\tZ9001\tx", "<i>Code Added Date</i>\t20191350\tx"),
            "page.txt:4: Z9001: date '20191350' is not a calendar date",
        ),
        (
            (
                "<i>HCPCS Code</i>\tZ9001\tx",
                "<i>Coverage Code</i>\tC\tx",
                "<i>Coverage Code</i>\tD\tx",
            ),
            "page.txt:5: Z9001: field 'Coverage Code' appears twice on the page (first on line 4)",
        ),
        (
            ("<i>HCPCS Code</i>\tZ9001\tx", "<i>Anesthesia Base Unit Quantity</i>\tone\tx"),
            "page.txt:4: Z9001: anesthesia base units 'one' is not a number",
        ),
    ],
)
def test_page_errors(lines: tuple[str, ...], message: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_source(_page(*lines))
    assert str(caught.value) == message


def test_detect() -> None:
    parser = SeedPageParser()
    assert parser.detect(_page("<i>HCPCS Code</i>\tZ9001\tx"))
    assert not parser.detect(SourceFile("x.txt", b"HCPCS Code Z9001"))
    assert not parser.detect(SourceFile("x.bin", b"\x00<i>HCPCS Code</i>\t"))
