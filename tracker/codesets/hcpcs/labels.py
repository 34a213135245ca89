"""HCPCS release labels: `YYYY-MON`, the annual file being the `JAN` release of its year.

`2020` alone means `2020-JAN`; `2020-APR#2` names the second issue of a quarter. The label
gives the effective date (the first day of its month) and the kind (annual or quarterly).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from tracker.codesets.base import LabelParts
from tracker.errors import ReleaseError
from tracker.release import MAX_ISSUE, ReleaseKind

QUARTER_MONTHS = {"JAN": 1, "APR": 4, "JUL": 7, "OCT": 10}
MONTH_NAMES = {
    "JAN": 1,
    "FEB": 2,
    "MAR": 3,
    "APR": 4,
    "MAY": 5,
    "JUN": 6,
    "JUL": 7,
    "AUG": 8,
    "SEP": 9,
    "OCT": 10,
    "NOV": 11,
    "DEC": 12,
}
# HCPCS Level II dates from the 1980s; a label outside these years is a typo (`0000`, `20200`),
# and refusing it keeps every date derived from a label inside the calendar.
FIRST_YEAR, LAST_YEAR = 1980, 2100

_LABEL = re.compile(r"^(?P<year>\d{4})(?:-(?P<month>[A-Za-z]{3}))?(?:#(?P<issue>\d+))?$")


@dataclass(frozen=True, slots=True, order=True)
class ReleaseLabel:
    year: int
    month: str

    def __str__(self) -> str:
        return f"{self.year}-{self.month}"

    @property
    def effective_date(self) -> date:
        return date(self.year, MONTH_NAMES[self.month], 1)

    @property
    def kind(self) -> ReleaseKind:
        return ReleaseKind.ANNUAL if self.month == "JAN" else ReleaseKind.QUARTERLY

    def parts(self, issue: int | None = None) -> LabelParts:
        return LabelParts(str(self), self.effective_date, self.kind.value, issue)


def parse_label(text: str) -> tuple[ReleaseLabel, int | None]:
    """`2020-APR`, `2020` (= `2020-JAN`) or `2020-APR#2` (issue 2) -> label and issue."""
    match = _LABEL.match(text.strip())
    if not match or (match["month"] and match["month"].upper() not in MONTH_NAMES):
        raise ReleaseError(
            f"release {text!r} is not a label like 2020-APR, 2020 (the annual file) or 2020-APR#2"
        )
    month = (match["month"] or "JAN").upper()
    year = int(match["year"])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ReleaseError(f"release {text!r}: year {year} is not in {FIRST_YEAR}-{LAST_YEAR}")
    issue = int(match["issue"]) if match["issue"] else None
    if issue is not None and issue < 1:
        raise ReleaseError(f"release {text!r}: issue numbers start at 1")
    if issue is not None and issue > MAX_ISSUE:
        raise ReleaseError(f"release {text!r}: issue number is too large")
    return ReleaseLabel(year, month), issue


def label_parts(text: str) -> LabelParts:
    """`parse_label` as the code-set interface gives it."""
    label, issue = parse_label(text)
    return label.parts(issue)
