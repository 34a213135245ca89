"""The ICD-10 code sets on CMS's real zips, checked against independent readings of the raw files.

The raw readings here use only `zipfile` and string slicing of CMS's documented columns, not
the tracker's parsers.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tracker.codesets.base import SourceFile
from tracker.codesets.icd10.codeset import ICD10CM, ICD10PCS
from tracker.codesets.icd10.families import CM_CHAPTERS, PCS_SECTIONS

from .conftest import CM_SEQUENCE, PCS_SEQUENCE, README_COUNTS

ALL = sorted(README_COUNTS)


def raw_order_lines(path: Path) -> list[str]:
    """The order file's lines, found as the one member named like CMS's order files."""
    with zipfile.ZipFile(path) as archive:
        names = [
            n for n in archive.namelist() if n.rsplit("/", 1)[-1].lower().startswith("icd10")
            and "_order_" in n.lower() and "addenda" not in n.lower() and n.endswith(".txt")
        ]  # fmt: skip
        assert len(names) == 1, names
        text = archive.read(names[0]).decode("ascii")
    return [line for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("name", ALL)
def test_detect_and_parse_every_shared_file(name: str, icd10_file: Callable[[str], Path]) -> None:
    path = icd10_file(name)
    source = SourceFile(name, path.read_bytes())
    code_set, valid, headers = README_COUNTS[name]
    assert (ICD10CM.detect(source), ICD10PCS.detect(source)) == (
        code_set == "icd10cm", code_set == "icd10pcs",
    )  # fmt: skip
    parsed = (ICD10CM if code_set == "icd10cm" else ICD10PCS).parse(source)
    billable = sum(1 for r in parsed.records if r.billable)
    assert (billable, len(parsed.records) - billable) == (valid, headers)
    raw = raw_order_lines(path)
    assert [r.code for r in parsed.records] == [line[6:13].rstrip() for line in raw]
    assert parsed.addenda is not None and parsed.label is not None
    assert [m.is_data for m in parsed.members].count(True) == 1


@pytest.mark.parametrize("name", PCS_SEQUENCE)
def test_pcs_section_names_match_the_header_titles(
    name: str, icd10_file: Callable[[str], Path]
) -> None:
    """Each header's long title starts with its section's name (section 0, Medical and
    Surgical, excepted: CMS starts those with the body system), and every section is used."""
    sections_seen: set[str] = set()
    for line in raw_order_lines(icd10_file(name)):
        code, flag, long_title = line[6:13].rstrip(), line[14], line[77:]
        sections_seen.add(code[0])
        assert ICD10PCS.family(code) == PCS_SECTIONS[code[0]]
        if flag != "0":
            continue
        first = long_title.split(",")[0]
        if code[0] == "0":
            assert first not in PCS_SECTIONS.values(), line
        else:
            assert first == PCS_SECTIONS[code[0]], line
    assert sections_seen == set(PCS_SECTIONS)


@pytest.mark.parametrize("name", CM_SEQUENCE)
def test_cm_chapters_cover_every_category(name: str, icd10_file: Callable[[str], Path]) -> None:
    """CDC's order files carry no chapter rows, so the chapter ranges are checked against the
    categories: each category lies in exactly one chapter, every chapter holds categories, the
    chapters come in file order, and each range's ends are real categories (the U00-U85 range
    is mostly reserved: only a few U categories, such as U07, are in the files)."""
    categories = [line[6:13].rstrip() for line in raw_order_lines(icd10_file(name))]
    categories = [c for c in categories if len(c) == 3]
    order = []
    for category in categories:
        holding = [c for c in CM_CHAPTERS if c[0] <= category <= c[1]]
        assert len(holding) == 1, category
        assert ICD10CM.family(category) == holding[0][2]
        if not order or order[-1] != holding[0]:
            order.append(holding[0])
    # Chapter 22 (U) is empty before U07 (COVID-19) came in April 2020.
    assert order == [c for c in CM_CHAPTERS if c in order]
    assert {c[0] for c in CM_CHAPTERS if c not in order} <= {"U00"}
    present = set(categories)
    for start, end, _ in CM_CHAPTERS:
        if start != "U00":
            assert start in present and end in present, (start, end)
