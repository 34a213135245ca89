"""The one HCPCS layout table, checked against CMS's own record layout and workbook header.

CMS ships the layout as a report (`HCPCS2016_recordlayout.txt`: each field's name, length,
first and last position, and `OCCURS MIN: n` for a repeated one); it is read here with a regex
of its own, independently of the table, and every position the parsers and the writer use must
agree with it. The workbook header is read straight from CMS's 2020-APR workbook.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import python_calamine

from tracker.codesets.hcpcs import HCPCS
from tracker.codesets.hcpcs.codepage import LABELS
from tracker.codesets.hcpcs.layout import FIELDS, LAYOUT, RECORD_LENGTH, Value
from tracker.codesets.hcpcs.parsers.workbook import COLUMNS
from tracker.codesets.hcpcs.record import Record
from tracker.diff import Category

# `  9.   HCPCS Pricing Indicator Code` then `   2    120    121    CHAR`, maybe `OCCURS MIN: 4`
# further down, before the next numbered entry.
_ENTRY = re.compile(
    r"^\s+\d+\.\s+(?P<name>.+?)\s*(?:CHAR|NUM|GRP)?\s*\n\s+(?P<length>\d+)\s+(?P<begin>\d+)"
    r"\s+(?P<end>\d+)(?P<rest>.*?)(?=^\s+\d+\.\s|\Z)",
    re.MULTILINE | re.DOTALL,
)


@dataclasses.dataclass(frozen=True)
class CmsField:
    name: str
    length: int
    begin: int
    end: int
    occurs: int


def _cms_layout(path: Path) -> list[CmsField]:
    text = path.read_text(encoding="cp1252")
    fields = []
    for match in _ENTRY.finditer(text):
        occurs = re.search(r"OCCURS MIN:\s*(\d+)", match["rest"])
        fields.append(
            CmsField(
                name=match["name"],
                length=int(match["length"]),
                begin=int(match["begin"]),
                end=int(match["end"]),
                occurs=int(occurs.group(1)) if occurs else 1,
            )
        )
    return fields


@pytest.fixture(scope="module")
def cms_layout(shared_file: Callable[..., Path]) -> list[CmsField]:
    fields = _cms_layout(shared_file("cms-hcpcs", "2016", "HCPCS2016_recordlayout.txt"))
    assert len(fields) > 25, "the layout report was not read"
    return fields


def test_every_field_sits_where_cms_layout_puts_it(cms_layout: list[CmsField]) -> None:
    # The record (320) and its code redefinition group (code, filler, modifier) start at 1 too;
    # the first entry at a position is the field.
    by_begin: dict[int, CmsField] = {}
    for cms in cms_layout:
        by_begin.setdefault(cms.begin, cms)
    for field in LAYOUT:
        cms = by_begin[field.start]
        assert (field.width, field.slots) == (cms.length, cms.occurs), (field.label, cms)
        if field.value is Value.DATE:
            assert "Date" in cms.name, (field.label, cms.name)
    # Nothing of CMS's is left out (inside the code, CMS redefines it as filler and modifier).
    after_code = {cms.begin for cms in cms_layout if cms.begin > LAYOUT[0].end}
    assert after_code <= {field.start for field in LAYOUT}
    assert RECORD_LENGTH == max(cms.end for cms in cms_layout) == 320


def test_code_page_labels_are_cms_names(cms_layout: list[CmsField]) -> None:
    cms_names = {cms.name.removeprefix("HCPCS ") for cms in cms_layout}
    # CMS's per-code pages call the long description "Code Description" and leave "Section
    # Number" off the manual references.
    renamed = {
        "Code Description": "Long Description",
        "Coverage Issues Manual Reference": "Coverage Issues Manual Reference Section Number",
        "Medicare Carriers Manual Reference": "Medicare Carriers Manual Reference Section Number",
    }
    for _name, label in LABELS:
        assert renamed.get(label, label) in cms_names, label


def test_workbook_columns_are_cms_header(shared_file: Callable[..., Path]) -> None:
    path = shared_file("cms-hcpcs", "2020-APR", "HCPC2020_APR_ANWEB.xlsx")
    rows = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    header = next(row for row in rows if row and row[0] == "HCPC")
    assert tuple(header) == COLUMNS


def test_record_and_layout_declare_the_same_fields_in_order() -> None:
    record_fields = [field.name for field in dataclasses.fields(Record)]
    assert record_fields == [field.name for field in LAYOUT if field.name]


def test_code_set_fields_are_every_field_but_the_code_with_a_diff_category() -> None:
    assert HCPCS.fields == FIELDS
    assert [spec.name for spec in FIELDS] == [
        field.name for field in dataclasses.fields(Record) if field.name != "code"
    ]
    for spec in FIELDS:
        assert Category(spec.category).value == spec.category
    repeated = {spec.name for spec in FIELDS if spec.repeated}
    # Every tuple-valued attribute of a record, and nothing else, is repeated.
    tuples = {field.name for field in dataclasses.fields(Record) if "tuple" in str(field.type)}
    assert repeated == tuples
