"""Workbook cells that read blank without being blank: error values, formulas saved without
their value, merged cells. In a record row each is an error naming the workbook, sheet and
cell; elsewhere (CMS's merged disclaimer block above the header) they do not matter.

The workbooks are written here as raw XML (no spreadsheet library is needed): the smallest
workbook of `make_bad.xlsx_bytes`, with chosen cells replaced and merged ranges added.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

from tracker import api
from tracker.cli import cli
from tracker.codesets.hcpcs.parsers.base import SourceFile
from tracker.codesets.hcpcs.parsers.workbook import WorkbookParser, cell_name, read_sheet
from tracker.errors import ParseError

from .conftest import RealFiles

SHEET = "xl/worksheets/sheet1.xml"


def _patched(data: bytes, cells: dict[str, str], merges: tuple[str, ...] = ()) -> bytes:
    """`data` with the cells named in `cells` replaced by raw XML, and `merges` merged."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            body = source.read(info)
            if info.filename == SHEET:
                text = body.decode()
                for ref, xml in cells.items():
                    text, count = re.subn(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', xml, text)
                    if count == 0:
                        row = re.sub("[A-Z]+", "", ref)
                        text = text.replace(f'<row r="{row}">', f'<row r="{row}">{xml}', 1)
                if merges:
                    ranges = "".join(f'<mergeCell ref="{m}"/>' for m in merges)
                    text = text.replace(
                        "</sheetData>",
                        f'</sheetData><mergeCells count="{len(merges)}">{ranges}</mergeCells>',
                    )
                body = text.encode()
            archive.writestr(info, body)
    return out.getvalue()


def _book(make_bad: ModuleType, cells: dict[str, str], merges: tuple[str, ...] = ()) -> SourceFile:
    """Disclaimer row 1, header row 3, records Z9001 (row 4), Z9002 (row 5), Z9003 (row 6)."""
    row = make_bad.workbook_row
    rows = [
        ["Synthetic disclaimer text", "", ""],
        [],
        make_bad.HEADER_48,
        row("Z9001", **{"LONG DESCRIPTION": "First synthetic item"}),
        row("Z9002", **{"LONG DESCRIPTION": "Second synthetic item"}),
        row("Z9003", **{"LONG DESCRIPTION": "Third synthetic item"}),
    ]
    data = _patched(make_bad.xlsx_bytes(rows), cells, merges)
    return SourceFile("HCPC2020_APR_ANWEB.xlsx", data)


def _letter(make_bad: ModuleType, column: str) -> str:
    return cell_name(0, make_bad.HEADER_48.index(column))[:-1]


def _refusal(source: SourceFile) -> str:
    with pytest.raises(ParseError) as caught:
        list(WorkbookParser().parse(source))
    return str(caught.value)


@pytest.mark.parametrize("error", ["#N/A", "#REF!", "#VALUE!", "#DIV/0!"])
def test_an_error_value_in_a_record_row(make_bad: ModuleType, error: str) -> None:
    d = _letter(make_bad, "LONG DESCRIPTION")
    source = _book(make_bad, {f"{d}5": f'<c r="{d}5" t="e"><v>{error}</v></c>'})
    assert _refusal(source) == (
        f"HCPC2020_APR_ANWEB.xlsx: sheet 'A' cell {d}5 (LONG DESCRIPTION)"
        f" holds the error value {error}, not a value"
    )


def test_a_formula_without_its_value(make_bad: ModuleType) -> None:
    add = _letter(make_bad, "ADD DT")
    source = _book(make_bad, {f"{add}6": f'<c r="{add}6"><f>{add}5+1</f></c>'})
    assert _refusal(source) == (
        f"HCPC2020_APR_ANWEB.xlsx: sheet 'A' cell {add}6 (ADD DT) holds a formula"
        f" (={add}5+1) saved without its value; open and save the workbook in a spreadsheet"
        " program to compute it"
    )


def test_a_formula_with_its_saved_value_reads_that_value(make_bad: ModuleType) -> None:
    code = _letter(make_bad, "ACTION CD")
    source = _book(make_bad, {f"{code}5": f'<c r="{code}5" t="str"><f>LEFT("D",1)</f><v>D</v></c>'})
    records = list(WorkbookParser().parse(source))
    assert [(r.code, r.action_code) for r in records] == [
        ("Z9001", "N"),
        ("Z9002", "D"),
        ("Z9003", "N"),
    ]


@pytest.mark.parametrize("column", ["LONG DESCRIPTION", "ADD DT", "ACTION CD"])
def test_a_merged_cell_that_would_read_blank(make_bad: ModuleType, column: str) -> None:
    letter = _letter(make_bad, column)
    source = _book(make_bad, {}, merges=(f"{letter}4:{letter}5",))
    assert _refusal(source) == (
        f"HCPC2020_APR_ANWEB.xlsx: sheet 'A' cell {letter}5 ({column}) is merged into"
        f" {letter}4, so it reads blank; unmerge the cells and fill each"
    )


def test_merged_across_columns_names_the_first_covered_layout_cell(make_bad: ModuleType) -> None:
    long, short = _letter(make_bad, "LONG DESCRIPTION"), _letter(make_bad, "SHORT DESCRIPTION")
    source = _book(make_bad, {}, merges=(f"{long}6:{short}6",))
    assert _refusal(source) == (
        f"HCPC2020_APR_ANWEB.xlsx: sheet 'A' cell {short}6 (SHORT DESCRIPTION) is merged into"
        f" {long}6, so it reads blank; unmerge the cells and fill each"
    )


def test_cells_outside_the_records_do_not_matter(make_bad: ModuleType) -> None:
    """A merged disclaimer block (as CMS ships it), an error value above the header and a
    formula in a column the layout does not read: the records read as without them."""
    plain = list(WorkbookParser().parse(_book(make_bad, {})))
    extra = cell_name(0, len(make_bad.HEADER_48) + 2)[:-1]
    source = _book(
        make_bad,
        {"B1": '<c r="B1" t="e"><v>#N/A</v></c>', f"{extra}5": f'<c r="{extra}5"><f>A1</f></c>'},
        merges=("A1:C2",),
    )
    assert list(WorkbookParser().parse(source)) == plain


def test_hidden_cells_are_found_by_reading_the_sheet_xml(make_bad: ModuleType) -> None:
    """The sheet reader reports the cells calamine turns into blanks, at their positions."""
    source = _book(
        make_bad,
        {"A4": '<c r="A4" t="e"><v>#REF!</v></c>', "C6": '<c r="C6"><f>1/0</f></c>'},
        merges=("D4:D5",),
    )
    sheet = read_sheet(source)
    assert sheet.rows[3][0] == "" and sheet.rows[5][2] == ""
    assert sorted(sheet.hidden) == [(3, 0), (5, 2)]
    assert sheet.merged == [((3, 3), (4, 3))]


def test_real_workbooks_have_nothing_hidden_in_their_records(real: RealFiles) -> None:
    """CMS's workbooks merge only their disclaimer block, above the header; each still parses
    (tests/codesets/hcpcs/parsers/test_text_vs_workbook.py checks the records field by field)."""
    for relative in (
        "2020-APR/HCPC2020_APR_ANWEB.xlsx",
        "2020-JUL/HCPC2020_JUL_ANWEB.xlsx",
        "2020-OCT/HCPC2020_OCT_ANWEB.xlsx",
    ):
        source = real.load(relative)
        sheet = read_sheet(source)
        assert sheet.hidden == {}
        # An independent look at the XML: no formula or error cell, merges above row 10 only.
        with zipfile.ZipFile(io.BytesIO(source.data)) as archive:
            xml = archive.read(SHEET)
        assert b"<f>" not in xml and b't="e"' not in xml
        for match in re.finditer(rb'<mergeCell ref="[A-Z]+(\d+):[A-Z]+(\d+)"', xml):
            assert int(match.group(2)) < 10
        assert len(list(WorkbookParser().parse(source))) > 5000
    # The older .xls form: merges come from calamine; the disclaimer block is above the header.
    source = real.load(
        "2020-JAN/2020-Alpha-Numeric-HCPCS-File.zip", "HCPC2020_ANWEB_w_disclaimer.xls"
    )
    sheet = read_sheet(source)
    assert sheet.merged and all(bottom < 10 for (_top, _left), (bottom, _right) in sheet.merged)
    assert len(list(WorkbookParser().parse(source))) > 5000


def test_ingest_refuses_it_on_one_line_and_stores_nothing(
    make_bad: ModuleType, tmp_path: Path
) -> None:
    db = tmp_path / "tracker.db"
    store = api.open_store(f"sqlite:///{db}")
    store.close()
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    d = _letter(make_bad, "LONG DESCRIPTION")
    source = _book(make_bad, {f"{d}4": f'<c r="{d}4" t="e"><v>#N/A</v></c>'})
    path = tmp_path / source.name
    path.write_bytes(source.data)
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{db}", "ingest", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert (result.exit_code, result.stdout, result.stderr) == (
        1,
        "",
        f"Error: HCPC2020_APR_ANWEB.xlsx: sheet 'A' cell {d}4 (LONG DESCRIPTION)"
        " holds the error value #N/A, not a value\n",
    )
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
