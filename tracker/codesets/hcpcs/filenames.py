"""What CMS's HCPCS file names say: the release they announce and CMS's re-issue marker.

CMS has named its files inconsistently over the years (`HCPC2020_APR_ANWEB`, `HCPC17_CONTR_ANWEB`,
`12anweb`, `HCPC2013_A-N`, `2018-Alpha-Numeric-HCPCS-File.zip`), so each form it has used is one
pattern here; a label read off a name can always be overridden by the user. A release zip's
name and its data file's name may both announce the release; `label_from_names` reconciles them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tracker.codesets.hcpcs.labels import FIRST_YEAR, LAST_YEAR, ReleaseLabel
from tracker.errors import ReleaseError
from tracker.release import version_marker


def _year(digits: str) -> int:
    value = int(digits)
    return value if len(digits) == 4 else 2000 + value


# Ordered from most to least specific; each names the file forms CMS has used.
_NAME_PATTERNS = [
    # HCPC2020_APR_ANWEB.xlsx, HCPC2025_JAN_ANWEB_12172024, HCPC2020_ANWEB_w_disclaimer.txt,
    # HCPC17_CONTR_ANWEB.txt, HCPC2013_A-N, HCPC2026_JAN_SAMPLE.txt
    re.compile(r"HCPCS?(?P<year>\d{4}|\d{2})(?:[_\- ](?P<month>JAN|APR|JUL|OCT))?", re.IGNORECASE),
    # 2018-Alpha-Numeric-HCPCS-File.zip, 2020-APR-Alpha-Numeric...
    re.compile(
        r"^(?P<year>20\d{2})[_\- ](?:(?P<month>JAN|APR|JUL|OCT)[_\- ])?Alpha", re.IGNORECASE
    ),
    # 2017-HCPCS-Alpha-Numeric-Corrections.zip (CMS's corrections files of a year)
    re.compile(
        r"^(?P<year>20\d{2})[_\- ](?:(?P<month>JAN|APR|JUL|OCT)[_\- ])?HCPCS[_\- ]Alpha",
        re.IGNORECASE,
    ),
    # 12anweb.txt, 20anweb_v2.zip
    re.compile(r"^(?P<year>\d{2})(?P<month>)anweb", re.IGNORECASE),
    # jan20anweb.zip, apr2020anweb
    re.compile(r"^(?P<month>jan|apr|jul|oct)(?P<year>\d{4}|\d{2})anweb", re.IGNORECASE),
]


@dataclass(frozen=True, slots=True)
class FileName:
    """What a CMS file name says: the release, whether it named the quarter, CMS's marker."""

    label: ReleaseLabel
    month_named: bool
    marker: str | None


def read_file_name(file_name: str) -> FileName | None:
    """The release a CMS file name announces, or None when the name says nothing usable."""
    base = file_name.replace("\\", "/").rsplit("/", 1)[-1]
    for pattern in _NAME_PATTERNS:
        match = pattern.search(base)
        if match:
            year = _year(match["year"])
            if not FIRST_YEAR <= year <= LAST_YEAR:
                continue
            month = (match["month"] or "JAN").upper()
            return FileName(ReleaseLabel(year, month), bool(match["month"]), version_marker(base))
    return None


def infer_label(file_name: str) -> ReleaseLabel | None:
    """The release a CMS file name announces, or None when the name says nothing usable."""
    found = read_file_name(file_name)
    return found.label if found else None


def label_from_names(name: str) -> ReleaseLabel | None:
    """The release a file's name announces; for `zip!member` (a zip and its data member), what
    the two names together announce (see `reconcile`). None when no name says."""
    zip_name, _, member = name.rpartition("!")
    if not zip_name:
        return infer_label(name)
    outer = read_file_name(zip_name)
    inner = read_file_name(member)
    if outer is not None and inner is not None:
        return reconcile(zip_name, outer, member, inner)
    found = outer or inner
    return found.label if found is not None else None


def reconcile(zip_name: str, outer: FileName, member: str, inner: FileName) -> ReleaseLabel:
    """A zip's name and its data member's name may each announce the release.

    The member is the data itself, so a quarter it names decides over a zip name that names
    only a year (`HCPCS2026.zip` holding `HCPC2026_APR_ANWEB.txt` is 2026-APR). A member that
    names only a year leaves the quarter to the zip name. Different years, or two different
    quarters, cannot both be right: the file is refused, naming both, for `--release` to settle.
    """
    if outer.label.year == inner.label.year:
        if not inner.month_named:
            return outer.label
        if not outer.month_named or outer.label.month == inner.label.month:
            return inner.label
    raise ReleaseError(
        f"{zip_name}: the zip's name says {outer.label} but its data file {member} says"
        f" {inner.label}; give the release with --release"
    )
