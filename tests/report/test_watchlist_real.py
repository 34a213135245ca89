"""`tracker report … --watchlist CODES` on the real CMS releases, in every format.

The list holds the acceptance codes: G0202 (terminated 2017-12-31, replaced by 77067), C9053
(added and replaced by J0791 within 2020), CS (reused in 2020), G9976 (purged) and G02O2 (no
such code: letter O for zero). What the section must say of each is worked out here from the
raw files as `tests/test_impact.py` reads them (the fixed-width text sliced by CMS's layout:
long description, XREF and termination date columns; the 2020 quarters' workbooks from their
sheet XML), never from the tracker's own output.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.report.watchlist_formats import READERS, Section, section_comes_first, without_section
from tests.test_impact import LABELS, _read_raw
from tracker.cli import cli

Raw = dict[str, dict[str, Any]]
LISTED = ("G0202", "C9053", "CS", "G9976", "G02O2")
FORMATS = ("md", "html", "csv", "json")
# (command line releases, first and last raw release they compare)
CASES = {
    "2017-2018": (("2017", "2018"), ("2017-JAN", "2018-JAN")),
    "2020-JAN-OCT": (("2020-JAN", "2020-OCT"), ("2020-JAN", "2020-OCT")),
    "year-2020": (("--year", "2020"), ("2020-JAN", "2020-OCT")),
}


@pytest.fixture(scope="module")
def raw() -> dict[str, Raw]:
    from tests.conftest import REAL_FILES

    return {label: _read_raw(name) for label, name in zip(LABELS, REAL_FILES, strict=True)}


def _effective(label: str) -> date:
    year, month = label.split("-")
    return date(int(year), ("JAN", "APR", "JUL", "OCT").index(month) * 3 + 1, 1)


def _words(text: str) -> set[str]:
    return {word for word in re.findall(r"[a-z0-9]+", text.lower()) if len(word) > 3}


def _same_text(one: str, other: str) -> bool:
    """Equal as far as both go: the text reading keeps a first line's 80 characters of a long
    description, the workbook reading all of it."""
    one, other = " ".join(one.split()), " ".join(other.split())
    size = min(len(one), len(other))
    return one[:size] == other[:size]


def expected_section(raw: dict[str, Raw], old: str, new: str) -> Section:
    """Each listed code's kind, status on `new`'s date and replacements, from the raw files."""
    before, after, on = raw[old], raw[new], _effective(new)
    expected: Section = {}
    for code in LISTED:
        carrying = [label for label in LABELS if code in raw[label]]
        if not carrying:
            expected[code] = ("unknown", "unknown", "")
            continue
        if code not in before and code not in after:
            if LABELS.index(carrying[0]) > LABELS.index(new):
                # First published in a later release: not in force on `on` yet.
                expected[code] = ("not yet effective", "not yet effective", "")
                continue
            kind = "absent"
        elif code not in before:
            kind = "added"
        elif code not in after:
            kind = "removed"
        elif before[code]["termination"] is None and after[code]["termination"] is not None:
            kind = "terminated"
        elif not _same_text(before[code]["long"], after[code]["long"]):
            # A new meaning shares (almost) no word with the old one; a rewording does.
            shared = _words(before[code]["long"]) & _words(after[code]["long"])
            kind = "reused" if len(shared) <= 1 else "changed"
        else:
            assert before[code]["termination"] == after[code]["termination"], code
            assert before[code]["xrefs"] == after[code]["xrefs"], code
            kind = "unchanged"
        record = after.get(code) or raw[carrying[-1] if kind == "absent" else old][code]
        ended = record["termination"]
        if code not in after:
            status = "terminated" if ended is not None and ended < on else "removed"
        else:
            status = "terminated" if ended is not None and ended < on else "active"
        replacements = ""
        if status != "active" and record["xrefs"]:
            hops = []
            for xref in record["xrefs"]:
                if all(xref not in raw[label] for label in LABELS):
                    hops.append(f"{xref} (not in the code set)")
                else:
                    assert xref in after and after[xref]["termination"] is None, xref
                    hops.append(f"{xref} (active)")
            replacements = "replaced by " + "; ".join(hops)
        expected[code] = (kind, status, replacements)
    return expected


def test_the_raw_reading_gives_the_acceptance_kinds(raw: dict[str, Raw]) -> None:
    """The expectations are not vacuous: they name the kinds the issue's acceptance asks for."""
    assert expected_section(raw, "2017-JAN", "2018-JAN")["G0202"] == (
        "terminated",
        "terminated",
        "replaced by 77067 (not in the code set)",
    )
    later = expected_section(raw, "2020-JAN", "2020-OCT")
    assert later["C9053"] == ("added", "terminated", "replaced by J0791 (active)")
    assert later["CS"][0] == "reused"
    assert later["G02O2"] == ("unknown", "unknown", "")
    assert later["G9976"][:2] == ("absent", "removed")


@pytest.fixture(scope="module")
def reports(real_store_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Each case's report in each format with the watchlist, and the same without it."""
    folder = tmp_path_factory.mktemp("watch-real")
    listing = folder / "my-codes.txt"
    listing.write_text("# acceptance list\n" + "\n".join(LISTED) + "\n", encoding="utf-8")
    found: dict[str, str] = {}
    for case, (releases, _) in CASES.items():
        for fmt in FORMATS:
            for watched in (True, False):
                extra = ["--watchlist", str(listing)] if watched else []
                target = folder / f"{case}-{watched}.{fmt}"
                args = ["report", *releases, "--format", fmt, *extra, "-o", str(target)]
                result = CliRunner().invoke(cli, ["--db", real_store_url, *args])
                assert (result.exit_code, result.stderr) == (0, ""), result.output
                found[f"{case} {fmt} {watched}"] = Path(target).read_bytes().decode("utf-8")
    return found


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", list(CASES))
def test_section_matches_the_raw_files(
    reports: dict[str, str], raw: dict[str, Raw], case: str, fmt: str
) -> None:
    text = reports[f"{case} {fmt} True"]
    assert section_comes_first(fmt, text)
    section = READERS[fmt](text)
    assert list(section) == list(LISTED)
    old, new = CASES[case][1]
    assert section == expected_section(raw, old, new)
    # The rest of the report is the report without a watchlist.
    assert without_section(fmt, text) == reports[f"{case} {fmt} False"]


def test_unknown_code_gets_its_near_miss_in_every_format(reports: dict[str, str]) -> None:
    for case in CASES:
        for fmt in FORMATS:
            assert "did you mean G0202?" in reports[f"{case} {fmt} True"], (case, fmt)
