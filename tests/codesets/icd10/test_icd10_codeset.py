"""The `icd10cm` and `icd10pcs` code sets behind the CodeSet interface, on small written files."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest

from tracker.codesets.base import SourceFile, StoredColumns
from tracker.codesets.icd10.codeset import ICD10CM, ICD10PCS, Icd10Cm, Icd10Pcs, ParsedIcd10
from tracker.codesets.icd10.families import CM_CHAPTERS, OTHER_FAMILY
from tracker.codesets.icd10.labels import LabelParts
from tracker.codesets.icd10.record import Icd10Record
from tracker.errors import ParseError, ReleaseError

CM = Icd10Cm()
PCS = Icd10Pcs()


def line(order: int, code: str, flag: str, short: str, long: str) -> str:
    return f"{order:05d} {code:<7} {flag} {short:<60} {long}"


CM_FILE = "\r\n".join(
    [
        line(1, "E11", "0", "Type 2 diabetes mellitus", "Type 2 diabetes mellitus"),
        line(2, "E119", "1", "Type 2 diabetes mellitus without complications",
             "Type 2 diabetes mellitus without complications"),
    ]
).encode() + b"\r\n"  # fmt: skip
PCS_FILE = "\n".join(
    [
        line(1, "001", "0", "Central Nervous System and Cranial Nerves, Bypass",
             "Central Nervous System and Cranial Nerves, Bypass"),
        line(2, "0016070", "1", "Bypass Cereb Vent to Nasophar with Autol Sub, Open Approach",
             "Bypass Cerebral Ventricle to Nasopharynx with Autologous Tissue Substitute, "
             "Open Approach"),
    ]
).encode()  # fmt: skip


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_identity() -> None:
    assert (CM.name, CM.title, CM.code_width, CM.has_end_dates) == (
        "icd10cm", "ICD-10-CM", 7, False,
    )  # fmt: skip
    assert (PCS.name, PCS.title, PCS.code_width, PCS.has_end_dates) == (
        "icd10pcs", "ICD-10-PCS", 7, False,
    )  # fmt: skip
    assert ICD10CM.name == "icd10cm" and ICD10PCS.name == "icd10pcs"
    assert [(f.name, f.category, f.repeated) for f in CM.fields] == [
        ("billable", "status", False),
        ("short_title", "title", False),
        ("long_title", "title", False),
    ]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("E11.9", "E119"), ("e119", "E119"), (" e11.9 ", "E119"), ("E11", "E119"[:3]),
     ("E11.", "E11"), ("T7840XA", "T7840XA"), ("t78.40xa", "T7840XA"), ("O9A.11", "O9A11"),
     ("E1.19", None), ("E11-9", None), ("119", None), ("E1", None), ("E11.9.1", None),
     ("E1190000", None), ("EE11", None), ("", None), ("É11", None)],
)  # fmt: skip
def test_cm_normalize(typed: str, stored: str | None) -> None:
    assert CM.normalize_code(typed) == stored


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("0016070", "0016070"), ("0dtj0zz", "0DTJ0ZZ"), (" XW023X7 ", "XW023X7"), ("0DT", "0DT"),
     ("00I6070", None), ("0O16070", None), ("001.6070", None), ("00160701", None), ("0016", None),
     ("", None)],
)  # fmt: skip
def test_pcs_normalize(typed: str, stored: str | None) -> None:
    assert PCS.normalize_code(typed) == stored


def test_display() -> None:
    assert CM.display_code("E119") == "E11.9"
    assert CM.display_code("T7840XA") == "T78.40XA"
    assert CM.display_code("I10") == "I10"
    assert PCS.display_code("0016070") == "0016070"


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("FY2024", LabelParts("FY2024", date(2023, 10, 1), "annual", None)),
        ("fy2024-oct", LabelParts("FY2024", date(2023, 10, 1), "annual", None)),
        ("FY2023-APR", LabelParts("FY2023-APR", date(2023, 4, 1), "quarterly", None)),
        ("FY2021-JAN", LabelParts("FY2021-JAN", date(2021, 1, 1), "quarterly", None)),
        ("FY2024#2", LabelParts("FY2024", date(2023, 10, 1), "annual", 2)),
        (
            "FY2022-APR-ERRATA",
            LabelParts("FY2022-APR-ERRATA", date(2022, 4, 1), "correction", None),
        ),
        ("FY2025-NOV", LabelParts("FY2025-NOV", date(2024, 11, 1), "quarterly", None)),
    ],
)
def test_parse_label(text: str, parts: LabelParts) -> None:
    assert CM.parse_label(text) == parts
    assert PCS.effective_date(text) == parts.effective_date


@pytest.mark.parametrize("text", ["2024", "FY24", "FY2024-XYZ", "FY0024", "FY2024#0", "FY2024-"])
def test_bad_labels_raise_one_line(text: str) -> None:
    with pytest.raises(ReleaseError) as caught:
        CM.parse_label(text)
    assert "\n" not in str(caught.value) and repr(text) in str(caught.value)


@pytest.mark.parametrize(
    ("name", "cm", "pcs"),
    [
        ("icd10cm_order_2021jan.txt", "FY2021-JAN", None),
        ("icd10pcs_order_2024.txt", None, "FY2024"),
        ("2024-code-descriptions-tabular-order.zip", "FY2024", "FY2024"),
        ("cms_2023_dx.zip", "FY2023", None),
        ("cms_2023_pr.zip", None, "FY2023"),
        ("cms_2022_errata.zip", "FY2022-APR-ERRATA", "FY2022-APR-ERRATA"),
        ("dir/icd10cm_FY2020_SAMPLE.zip", "FY2020", None),
        ("ICD-10-CM-Conversion-Table-FY2021-Jan-2021.xlsx", "FY2021-JAN", None),
        ("order_addenda_2024.txt", "FY2024", "FY2024"),
        ("claims.csv", None, None),
        ("HCPC2026_JAN_SAMPLE.txt", None, None),
    ],
)
def test_infer_label(name: str, cm: str | None, pcs: str | None) -> None:
    assert (CM.infer_label(name), PCS.infer_label(name)) == (cm, pcs)


def test_detect_by_content_not_name() -> None:
    # Loose files, named wrongly on purpose.
    assert CM.detect(SourceFile("icd10pcs_order_2030.txt", CM_FILE))
    assert not PCS.detect(SourceFile("icd10pcs_order_2030.txt", CM_FILE))
    assert PCS.detect(SourceFile("x.txt", PCS_FILE)) and not CM.detect(
        SourceFile("x.txt", PCS_FILE)
    )
    # Zips with the order file deep in a folder, beside other members.
    cm_zip = zipped({"a b (c)/d/notes.txt": b"hello\r\n", "a b (c)/d/whatever.txt": CM_FILE})
    assert CM.detect(SourceFile("r.zip", cm_zip)) and not PCS.detect(SourceFile("r.zip", cm_zip))
    pcs_zip = zipped({"x/y.pdf": b"%PDF", "x/icd10pcs_order_2030.txt": PCS_FILE})
    assert PCS.detect(SourceFile("r", pcs_zip)) and not CM.detect(SourceFile("r", pcs_zip))
    both = zipped({"a.txt": CM_FILE, "b.txt": PCS_FILE})
    assert not CM.detect(SourceFile("r.zip", both)) and not PCS.detect(SourceFile("r.zip", both))


@pytest.mark.parametrize(
    "data",
    [b"", b"PK\x03\x04garbage", b"\xff\xfe\x00", b"HCPC line\r\n", b"E119 Type 2 diabetes\n",
     CM_FILE.replace(b"00002 E119", b"00002\tE119")],
)  # fmt: skip
def test_detect_never_raises_and_refuses_other_files(data: bytes) -> None:
    assert not CM.detect(SourceFile("f", data)) and not PCS.detect(SourceFile("f", data))


def test_parse_loose_and_zip() -> None:
    parsed = CM.parse(SourceFile("icd10cm_order_2030.txt", CM_FILE))
    assert isinstance(parsed, ParsedIcd10)
    assert [r.code for r in parsed.records] == ["E11", "E119"]
    assert (parsed.parser, parsed.parser_version, parsed.data_member) == (
        "icd10-order-file", "1", "icd10cm_order_2030.txt",
    )  # fmt: skip
    assert (parsed.label, parsed.effective_date, parsed.anomalies) == (
        "FY2030",
        date(2029, 10, 1),
        (),
    )
    assert parsed.addenda is None and parsed.conversion == ()
    assert [(m.name, m.size, m.is_data) for m in parsed.members] == [
        ("icd10cm_order_2030.txt", len(CM_FILE), True)
    ]
    data = zipped({"f/icd10pcs_order_2031.txt": PCS_FILE, "f/readme.pdf": b"%PDF"})
    parsed = PCS.parse(SourceFile("r.zip", data))
    assert (parsed.parser, parsed.data_member, parsed.label) == (
        "icd10-zip", "f/icd10pcs_order_2031.txt", "FY2031",
    )  # fmt: skip
    assert [(m.name, m.is_data) for m in parsed.members] == [
        ("f/icd10pcs_order_2031.txt", True), ("f/readme.pdf", False),
    ]  # fmt: skip


def test_parse_refuses_the_other_code_set_and_names_zip_member_line() -> None:
    with pytest.raises(ParseError, match=r"^f\.txt: holds icd10cm codes, not icd10pcs$"):
        PCS.parse(SourceFile("f.txt", CM_FILE))
    broken = CM_FILE.replace(b"00002 E119    1", b"00002 E119    x")
    with pytest.raises(ParseError, match=r"^r\.zip!d/icd10cm_order_2030\.txt:2: flag 'x'"):
        CM.parse(SourceFile("r.zip", zipped({"d/icd10cm_order_2030.txt": broken})))


def test_records_decode_columns_and_claim_status() -> None:
    header = Icd10Record("icd10cm", "E11", False, "Type 2", "Type 2 diabetes")
    code = Icd10Record("icd10cm", "E119", True, "T2 w/o", "Type 2 without")
    assert CM.decode_record(code.canonical_json()) == code
    assert CM.stored_columns(code) == StoredColumns(None, None, "")
    assert (CM.claim_status(code), CM.claim_status(header)) == (None, "header, not billable")
    with pytest.raises(ParseError):
        PCS.decode_record(code.canonical_json())
    with pytest.raises(TypeError):
        PCS.stored_columns(code)


@pytest.mark.parametrize(
    ("code", "chapter"),
    [("A000", "A00"), ("B99", "A00"), ("C4A0", "C00"), ("D3A00", "C00"), ("D49", "C00"),
     ("D50", "D50"), ("D89", "D50"), ("E119", "E00"), ("H59", "H00"), ("H60", "H60"),
     ("M1A0", "M00"), ("O9A11", "O00"), ("S7200XA", "S00"), ("T88", "S00"), ("U071", "U00"),
     ("V00", "V00"), ("Y99", "V00"), ("Z3A00", "Z00")],
)  # fmt: skip
def test_cm_chapters(code: str, chapter: str) -> None:
    title = next(title for start, _, title in CM_CHAPTERS if start == chapter)
    assert CM.family(code) == title
    assert CM.family(CM.display_code(code)) == title


def test_families_lists() -> None:
    assert len(CM.families) == 23 and CM.families[-1] == OTHER_FAMILY
    assert CM.family("D4A") == OTHER_FAMILY  # between D49 and D50: in no chapter
    assert len(PCS.families) == 18 and PCS.families[-1] == OTHER_FAMILY
    assert PCS.family("0016070") == "Medical and Surgical"
    assert PCS.family("XW023X7") == "New Technology"
    assert PCS.family("E000000") == OTHER_FAMILY
