"""The workbook parser on small hand-built workbooks: layouts, names, cell types, errors."""

from __future__ import annotations

from datetime import date
from types import ModuleType

import pytest

from tracker.codesets.hcpcs.parsers import parse_source
from tracker.codesets.hcpcs.parsers.base import SourceFile
from tracker.codesets.hcpcs.parsers.fixedwidth import FixedWidthParser
from tracker.codesets.hcpcs.parsers.workbook import (
    WorkbookParser,
    cell_text,
    column_key,
    describe_columns,
)
from tracker.errors import ParseError

from .conftest import RealFiles

OLD_HEADER = [
    "HCPCS", "Seq Num", "RIC", "Long Description", "Short Description",
    "PI1", "PI2", "PI3", "PI4", "MPI", "CIM1", "CIM2", "CIM3", "MCM1", "MCM2", "MCM3",
    "Statute", *[f"Lab Cert{i}" for i in range(1, 9)], *[f"X-Ref{i}" for i in range(1, 6)],
    "Coverage", "ASC Grp", "ASC Eff Dt", "OPPS", "OPPS PI", "OPPS Dt", "Proc Note", "BETOS",
    *[f"TOS{i}" for i in range(1, 6)], "Anes Base Units", "Code Add Date", "Action Eff Date",
    "Term Date", "Action Code",
]  # fmt: skip


def _xlsx(make_bad: ModuleType, rows: list[list[object]], first_row: int = 1) -> SourceFile:
    return SourceFile("book.xlsx", make_bad.xlsx_bytes(rows, first_row=first_row))


def test_header_below_disclaimers_and_numbers_read_as_text(make_bad: ModuleType) -> None:
    row = make_bad.workbook_row
    rows = [
        ["Disclaimer: synthetic."],
        [],
        make_bad.HEADER_48,
        row(
            "Z9001",
            **{"ADD DT": 20200401.0, "ACT EFF DT": 20200401, "PRICE1": 0, "XREF1": 100.0},
        ),
        row("   Z1"),
        row("Z2", RECID=7.0),
    ]
    records = list(WorkbookParser().parse(_xlsx(make_bad, rows, first_row=9)))
    assert [(r.code, r.kind.value) for r in records] == [
        ("Z9001", "procedure"),
        ("Z1", "modifier"),
        ("Z2", "modifier"),
    ]
    first = records[0]
    assert first.added_date is not None and first.added_date.isoformat() == "2020-04-01"
    assert first.pricing_indicators == ("00",)
    assert first.xrefs == ("00100",)
    assert first.anesthesia_base_units == 0


def test_one_row_per_line_with_old_names_equals_the_text(make_bad: ModuleType) -> None:
    """An old-style workbook and the fixed-width text of the same records agree field by field."""
    line = make_bad.record_line
    text = make_bad.text_file(
        [
            line("Z9001", long="Synthetic item whose description runs over two lines"),
            line("Z9001", ric="4", seq="00200", long="of the fixed-width layout", first_line=False),
            line("   Z1", ric="7", long="Synthetic modifier"),
            line("   Z1", ric="8", seq="00200", long="continued", first_line=False),
        ]
    )
    expected = list(FixedWidthParser().parse(SourceFile("t.txt", text)))
    values = {
        "PRICE1": "00",
        "MULT_PI": "9",
        "COV": "C",
        "BETOS": "Z2",
        "TOS1": "1",
        "ANEST_BU": "  0",
        "ADD DT": "20200101",
        "ACT EFF DT": "20200101",
        "ACTION CD": "N",
    }

    def first(code: str, ric: str, long: str, short: str) -> list[object]:
        mapped = dict(zip(make_bad.HEADER_48, OLD_HEADER, strict=True))
        cells = dict.fromkeys(OLD_HEADER, "")
        cells.update({mapped[k]: v for k, v in values.items()})
        cells.update({"HCPCS": code, "Seq Num": "0010", "RIC": ric})
        cells.update({"Long Description": long, "Short Description": short})
        return [cells[c] for c in OLD_HEADER]

    rows: list[list[object]] = [
        OLD_HEADER,
        first(
            "Z9001",
            "3",
            "Synthetic item whose description runs over two lines",
            "Synthetic test item",
        ),
        ["Z9001", "0020", "4", "of the fixed-width layout"],
        first("   Z1", "7", "Synthetic modifier", "Synthetic test item"),
        ["", "0020", "8", "continued"],
    ]
    assert list(WorkbookParser().parse(_xlsx(make_bad, rows))) == expected


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [["HCPC", "RECID", "LONG DESCRIPTION", "SHORT DESCRIPTION", "HCPCS"]],
            "book.xlsx:1: header row names column HCPC twice",
        ),
        ([["RECID"], ["7"]], "book.xlsx: no HCPCS release header row (missing columns HCPC, "),
    ],
)
def test_header_errors(make_bad: ModuleType, rows: list[list[object]], message: str) -> None:
    with pytest.raises(ParseError) as caught:
        list(WorkbookParser().parse(_xlsx(make_bad, rows)))
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        (["Z9002", "0020", "4", "orphan"], "book.xlsx:2: continuation row for 'Z9002' does not"),
        (["Z9002", "0010", "X", "what"], "book.xlsx:2: record id 'X' is not 3, 4, 7 or 8"),
        (["Z90", "0010", "3", "short code"], "book.xlsx:2: procedure code 'Z90' is malformed"),
    ],
)
def test_row_errors(make_bad: ModuleType, bad_row: list[object], message: str) -> None:
    rows = [make_bad.HEADER_48, bad_row, make_bad.workbook_row("Z9001")]
    with pytest.raises(ParseError) as caught:
        list(WorkbookParser().parse(_xlsx(make_bad, rows)))
    assert str(caught.value).startswith(message)


def test_date_in_a_text_column_is_refused() -> None:
    """Excel turns `60-9` into a date; the layout text is lost, so the row is refused."""
    assert cell_text(date(2020, 4, 1), "ADD DT") == "20200401"
    with pytest.raises(ValueError, match="column CIM1 holds a date"):
        cell_text(date(2020, 4, 1), "CIM1")
    assert cell_text(2100.1, "MCM1") == "2100.1"
    assert cell_text(7.0, "RECID") == "7"


def test_transaction_report_is_refused(real: RealFiles) -> None:
    with pytest.raises(ParseError) as caught:
        parse_source(real.load("2020-APR/HCPC2020_APR_TRANS_ALPHA.xlsx"))
    assert str(caught.value).startswith(
        "HCPC2020_APR_TRANS_ALPHA.xlsx: no HCPCS release header row (missing columns HCPC, RECID,"
    )


def test_unreadable_workbook() -> None:
    with pytest.raises(ParseError) as caught:
        parse_source(SourceFile("old.xls", b"\xd0\xcf\x11\xe0" + b"\x00" * 100))
    assert str(caught.value).startswith("old.xls: workbook cannot be read (")


def test_detect(make_bad: ModuleType) -> None:
    parser = WorkbookParser()
    assert parser.detect(_xlsx(make_bad, [["x"]]))
    assert parser.detect(SourceFile("a.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"))
    assert not parser.detect(SourceFile("a.zip", make_bad.zip_bytes([("a.txt", b"x")])))
    assert not parser.detect(SourceFile("a.txt", b"HCPC,SEQNUM"))


def test_names_and_messages() -> None:
    assert column_key("X-Ref1") == column_key("xref 1") == "xref1"
    assert describe_columns(["TOS2", "TOS1", "COV", "PRICE4", "TOS3"]) == "PRICE4, COV, TOS1-TOS3"
