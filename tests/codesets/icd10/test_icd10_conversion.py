"""CDC's and CMS's conversion tables: links checked against the raw cells."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from tracker.codesets.icd10.compare import compare
from tracker.codesets.icd10.conversion import parse_conversion_table, replaced_by

from .conftest import Loaded

FY19 = "ICD-10-CM-Conversion-Table-FY19-Effective-10-1-2018_FINAL.XLSX"
FY20 = "ICD-10-CM-Conversion-Table-FY20-Effective-10-1-2019-corrected.csv"
FY21 = "ICD-10-CM-Conversion-Table-FY2021-Jan-2021.xlsx"


def _raw_rows(path: Path) -> list[list[str]]:
    if path.suffix.lower() == ".csv":
        return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    return [[str(cell) for cell in row] for row in sheet]


@pytest.mark.parametrize("name", [FY19, FY20, FY21])
def test_links_equal_raw_cells(name: str, icd10_file: Callable[[str], Path]) -> None:
    path = icd10_file(name)
    links = {
        link.current: link for link in parse_conversion_table(name, path.read_bytes(), "icd10cm")
    }
    code = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")
    rows = [row for row in _raw_rows(path) if row and code.match(row[0].strip())]
    by_code = {row[0].strip(): row for row in rows}
    assert len(links) == len(by_code)
    for dotted in ("A04.71", "E11.11", "H02.151"):
        raw = by_code[dotted][2]
        link = links[dotted.replace(".", "")]
        assert link.previous_text == raw.strip()
    # One code, a list joined by "and", a range plus a code.
    assert links["A0471"].previous == ("A047",)
    assert set(links["E1111"].previous) == {"E1169", "R4020"}
    assert links["H02151"].ranges == (("H02101", "H02106"),)
    assert links["H02151"].covers("H02103") and not links["H02151"].covers("H02107")
    # "Effective October 1" of the year in the cell.
    year = by_code["A04.71"][1].split(".")[0]
    assert links["A0471"].effective == date(int(year), 10, 1)


def test_january_2021_dates(icd10_file: Callable[[str], Path]) -> None:
    path = icd10_file(FY21)
    raw = [row for row in _raw_rows(path) if row and row[1].startswith("2021-01-01")]
    assert raw, "the FY2021 table has rows dated January 1, 2021"
    links = {
        link.current: link for link in parse_conversion_table(FY21, path.read_bytes(), "icd10cm")
    }
    for row in raw:
        assert links[row[0].replace(".", "").strip()].effective == date(2021, 1, 1)


def test_pcs_table_in_errata_zip(icd10_release: Callable[[str], Loaded]) -> None:
    archive = icd10_release("cms_2022_errata.zip").archive
    assert archive.conversion_name and archive.conversion_data
    links = parse_conversion_table(archive.conversion_name, archive.conversion_data, "icd10pcs")
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(archive.conversion_data))
    raw = {
        row[0]: row for row in sheet.get_sheet_by_index(0).to_python()[1:] if row[0] == "XW023X7"
    }
    link = next(link for link in links if link.current == "XW023X7")
    month, day = (int(part) for part in raw["XW023X7"][7].split("."))
    assert link.previous == (raw["XW023X7"][3],)
    assert link.effective == date(int(raw["XW023X7"][2]), month, day) == date(2022, 4, 1)


def test_replaced_by_for_codes_deleted_in_fy2020(
    icd10_release: Callable[[str], Loaded], icd10_file: Callable[[str], Path]
) -> None:
    old, new = icd10_release("cms_2019_dx.zip"), icd10_release("cms_2020_dx.zip")
    changes = compare(old.order.records, new.order.records)
    # No longer valid on claims: deleted, or turned into a header (split into sub-codes).
    deleted = [c for c, ch in changes.items() if ch.kinds & {"deleted", "billable_to_header"}]
    path = icd10_file(FY20)
    links = parse_conversion_table(FY20, path.read_bytes(), "icd10cm")
    answer = replaced_by(links, deleted, old.order.records)
    # Each deleted code named alone in a row's previous cell: the row's code replaces it.
    raw: dict[str, set[str]] = {}
    for row in _raw_rows(path)[2:]:
        raw.setdefault(row[2].strip().replace(".", ""), set()).add(row[0].replace(".", ""))
    checked = [code for code in deleted if code in raw]
    assert len(checked) >= 10, checked
    for code in checked:
        assert raw[code] <= set(answer[code]), code
        assert all(new_code in new.order.records for new_code in raw[code])
