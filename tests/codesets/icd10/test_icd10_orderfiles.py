"""Every real order file parses with CDC/CMS's counts, checked against a plain reading."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tracker.codesets.icd10.orderfile import detect, parse_order_file
from tracker.errors import SourceError

from .conftest import README_COUNTS, Loaded


@pytest.mark.parametrize("name", sorted(README_COUNTS))
def test_counts_match_readme_and_plain_reading(
    name: str, icd10_release: Callable[[str], Loaded]
) -> None:
    code_set, valid, headers = README_COUNTS[name]
    loaded = icd10_release(name)
    # Independent reading: the flag is the 15th character of each non-blank line.
    flags = [line[14:15] for line in loaded.raw_order.splitlines() if line.strip()]
    assert (flags.count(b"1"), flags.count(b"0")) == (valid, headers)
    assert loaded.order.code_set == code_set
    assert (loaded.order.billable_count, loaded.order.header_count) == (valid, headers)


@pytest.mark.parametrize("name", ["cms_2021_dx.zip", "cms_2021_pr.zip"])
def test_records_equal_sliced_lines(name: str, icd10_release: Callable[[str], Loaded]) -> None:
    loaded = icd10_release(name)
    lines = [line for line in loaded.raw_order.decode("ascii").splitlines() if line.strip()]
    assert len(lines) == len(loaded.order.records)
    for line in lines[::487]:
        code = line[6:13].strip()
        record = loaded.order.records[code]
        assert record.billable == (line[14] == "1")
        assert record.short_title == line[16:76].strip()
        assert record.long_title == line[77:].strip()


@pytest.mark.parametrize("name", sorted(README_COUNTS))
def test_code_set_detected_from_content_alone(
    name: str, icd10_release: Callable[[str], Loaded]
) -> None:
    loaded = icd10_release(name)
    # A name that gives no clue: the content decides.
    text = loaded.raw_order.decode("ascii")
    assert detect("release.txt", text) == README_COUNTS[name][0]


def test_name_contradicting_content_is_refused(icd10_release: Callable[[str], Loaded]) -> None:
    loaded = icd10_release("cms_2024_dx.zip")
    with pytest.raises(SourceError, match=r"^icd10pcs_order_2024\.txt: named as icd10pcs"):
        parse_order_file("icd10pcs_order_2024.txt", loaded.raw_order)


def test_loose_order_file_from_disk(icd10_file: Callable[[str], Path], tmp_path: Path) -> None:
    with zipfile.ZipFile(icd10_file("cms_2019_pr.zip")) as archive:
        data = archive.read("icd10pcs_order_2019.txt")
    loose = tmp_path / "icd10pcs_order_2019.txt"
    loose.write_bytes(data.replace(b"\r\n", b"\n"))  # LF endings parse the same
    parsed = parse_order_file(loose.name, loose.read_bytes())
    assert parsed.code_set == "icd10pcs"
    assert (parsed.billable_count, parsed.header_count) == README_COUNTS["cms_2019_pr.zip"][1:]
