"""Editor debris in CMS's fixed-width files is repaired and recorded, never silently.

Each test takes real record lines from a CMS file in the shared folder at test time, injects
the debris CMS's files are known to carry (a stray byte before a code, a TAB standing for the
spaces an editor replaced, a record padded to 546 characters), and checks that the repaired
records equal the parse of the clean lines and that each repair is recorded with file and line.
"""

from __future__ import annotations

import re
import zipfile
from io import BytesIO

import pytest

from tracker.codesets.hcpcs.parsers import parse_source
from tracker.codesets.hcpcs.parsers.base import SourceFile
from tracker.codesets.hcpcs.parsers.fixedwidth import decode, split_lines
from tracker.errors import ParseError

from .conftest import RealFiles


def _record_lines(real: RealFiles, key: str, codes: int = 30) -> list[str]:
    """The first `codes` whole records (first line and continuations) of a real text file."""
    source = real.source(key)
    if source.name.endswith(".zip"):
        with zipfile.ZipFile(BytesIO(source.data)) as archive:
            name = next(n for n in archive.namelist() if _is_data_text(n))
            text = decode(archive.read(name))
    else:
        text = decode(source.data)
    lines = [line for line in split_lines(text) if len(line) > 10 and line[5:10].isdigit()]
    starts = [i for i, line in enumerate(lines) if line[10] in "37"]
    return lines[: starts[codes]]


def _is_data_text(name: str) -> bool:
    return "ANWEB" in name.upper() and name.upper().endswith(".TXT")


def _source(name: str, lines: list[str]) -> SourceFile:
    return SourceFile(name, ("\r\n".join(lines) + "\r\n").encode("cp1252"))


def _space_run(line: str, start: int, end: int, size: int) -> int:
    """Index of a run of `size` blanks inside 1-based positions start..end of `line`."""
    found = re.search(" " * size, line[start - 1 : end])
    assert found is not None, "no blank run to replace in this real line"
    return start - 1 + found.start()


@pytest.fixture(scope="module")
def lines_2016(real: RealFiles) -> list[str]:
    return _record_lines(real, "2016-txt")


@pytest.fixture(scope="module")
def lines_2018(real: RealFiles) -> list[str]:
    """2018 writes continuation lines at 320 characters, 2016 trims them to 91."""
    return _record_lines(real, "2018-zip")


def test_clean_lines_have_no_debris(lines_2016: list[str], lines_2018: list[str]) -> None:
    for lines in (lines_2016, lines_2018):
        assert not any("\t" in line or len(line) > 320 for line in lines)
        assert parse_source(_source("HCPC2016_CLEAN.txt", lines)).anomalies == ()


def test_stray_backtick_before_first_code(lines_2016: list[str]) -> None:
    clean = parse_source(_source("HCPC2016_ANWEB.txt", lines_2016))
    banner = ["HCPCS 2016 ANWEB", ""]
    dirty = [*banner, "`" + lines_2016[0], *lines_2016[1:]]
    repaired = parse_source(_source("HCPC2016_ANWEB.txt", dirty))
    assert repaired.records == clean.records
    code = lines_2016[0][0:5].strip()
    assert [(a.file, a.line, a.kind) for a in repaired.anomalies] == [
        ("HCPC2016_ANWEB.txt", 3, "stray-byte")
    ]
    assert f"removed '`' before code {code}" in repaired.anomalies[0].detail


@pytest.mark.parametrize("size", [2, 3])
@pytest.mark.parametrize("fixture", ["lines_2016", "lines_2018"])
def test_tab_in_long_description_of_first_line(
    request: pytest.FixtureRequest, fixture: str, size: int
) -> None:
    lines: list[str] = request.getfixturevalue(fixture)
    clean = parse_source(_source("HCPC_ANWEB.txt", lines))
    index = next(
        i
        for i, line in enumerate(lines)
        if line[10] in "37" and re.search(r"\S" + " " * size, line[11:91])
    )
    line = lines[index]
    at = _space_run(line, 13, 91, size)
    dirty = list(lines)
    dirty[index] = line[:at] + "\t" + line[at + size :]
    assert len(dirty[index]) == len(line) - size + 1
    repaired = parse_source(_source("HCPC_ANWEB.txt", dirty))
    assert repaired.records == clean.records
    (anomaly,) = repaired.anomalies
    assert (anomaly.line, anomaly.kind) == (index + 1, "tab")
    assert f"expanded to {size} spaces" in anomaly.detail
    assert line[0:5].strip() in anomaly.detail


@pytest.mark.parametrize("fixture", ["lines_2016", "lines_2018"])
def test_tab_in_continuation_line(request: pytest.FixtureRequest, fixture: str) -> None:
    lines: list[str] = request.getfixturevalue(fixture)
    clean = parse_source(_source("HCPC_ANWEB.txt", lines))
    index = next(
        i for i, line in enumerate(lines) if line[10] in "48" and re.search(r"\S  ", line[11:91])
    )
    line = lines[index]
    at = _space_run(line, 13, 91, 2)
    dirty = list(lines)
    dirty[index] = line[:at] + "\t" + line[at + 2 :]
    repaired = parse_source(_source("HCPC_ANWEB.txt", dirty))
    assert repaired.records == clean.records
    assert [(a.line, a.kind) for a in repaired.anomalies] == [(index + 1, "tab")]


def test_tab_that_fits_several_ways_is_an_error(lines_2016: list[str]) -> None:
    """Continuation lines of varying length give no usual length: any number of spaces keeps
    the description inside the layout, so the TAB cannot be expanded without guessing."""
    trimmed = [line.rstrip() if line[10] in "48" else line for line in lines_2016]
    index = next(
        i for i, line in enumerate(trimmed) if line[10] in "48" and re.search(r"\S \S", line[11:])
    )
    at = trimmed[index].index(" ", 12)
    dirty = list(trimmed)
    dirty[index] = trimmed[index][:at] + "\t" + trimmed[index][at + 1 :]
    with pytest.raises(ParseError) as caught:
        parse_source(_source("HCPC_ANWEB.txt", dirty))
    message = str(caught.value)
    assert message.startswith(f"HCPC_ANWEB.txt:{index + 1}: TAB at position {at + 1}: ambiguous")


def test_tab_that_no_expansion_fits_is_an_error(lines_2016: list[str]) -> None:
    """A TAB added without replacing any blank leaves the line one too long for every width."""
    index = next(i for i, line in enumerate(lines_2016) if line[10] in "37")
    dirty = list(lines_2016)
    dirty[index] = lines_2016[index][:40] + "\t" + lines_2016[index][40:]
    with pytest.raises(ParseError) as caught:
        parse_source(_source("HCPC_ANWEB.txt", dirty))
    assert str(caught.value) == (
        f"HCPC_ANWEB.txt:{index + 1}: TAB at position 41: no number of spaces brings the line"
        " back to the usual length of 320"
    )


def test_record_padded_to_546(lines_2016: list[str]) -> None:
    clean = parse_source(_source("HCPC_ANWEB.txt", lines_2016))
    index = next(i for i, line in enumerate(lines_2016) if line[10] in "37" and i > 5)
    dirty = list(lines_2016)
    dirty[index] = lines_2016[index].ljust(546)
    repaired = parse_source(_source("HCPC_ANWEB.txt", dirty))
    assert repaired.records == clean.records
    (anomaly,) = repaired.anomalies
    assert (anomaly.line, anomaly.kind) == (index + 1, "padding")
    assert "546 characters" in anomaly.detail


def test_debris_inside_a_release_zip_names_the_member(lines_2016: list[str]) -> None:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("HCPC2016_CONTR_ANWEB.txt", _source("x", ["`" + lines_2016[0]]).data)
    repaired = parse_source(SourceFile("2016-Alpha-Numeric-HCPCS-File.zip", buffer.getvalue()))
    assert [(a.file, a.line, a.kind) for a in repaired.anomalies] == [
        ("2016-Alpha-Numeric-HCPCS-File.zip!HCPC2016_CONTR_ANWEB.txt", 1, "stray-byte")
    ]


@pytest.mark.parametrize("key", ["2016-txt", "2017-zip", "2018-zip", "2020-JAN-zip"])
def test_real_files_ingest_without_repairs(real: RealFiles, key: str) -> None:
    """The real files here carry no debris (read independently: no TAB in a record line, none
    longer than 320, every record line starts with its code), so nothing is repaired."""
    source = real.source(key)
    if source.name.endswith(".zip"):
        with zipfile.ZipFile(BytesIO(source.data)) as archive:
            name = next(n for n in archive.namelist() if _is_data_text(n))
            raw = decode(archive.read(name))
    else:
        raw = decode(source.data)
    records = [line for line in split_lines(raw) if len(line) > 10 and line[5:10].isdigit()]
    assert records and not any("\t" in line or len(line) > 320 for line in records)
    assert all(line[0].isalnum() or line[0] == " " for line in records)
    assert real.release(key).anomalies == ()
