"""ICD-10 release labels (`FY2024`, `FY2023-APR`, `FY2024#2`) and what a file name says of one.

A fiscal year FY N takes effect on October 1 of year N-1; a mid-year version is named by its
month (`FY2021-JAN` = 2021-01-01, `FY2023-APR` = 2023-04-01); CMS's errata to a mid-year
version add `-ERRATA` (`FY2022-APR-ERRATA`). The `FY` prefix is required: a bare `2024` is a
HCPCS label, and requiring the prefix keeps the two code sets' labels apart.

File names are the weakest evidence of a version (CDC names the April 2023 file like the
October one), so `infer_label_from_name` is only the fallback: a parsed release's label comes
from its addenda summary (see `version`).
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from tracker.codesets.base import FieldSpec, LabelParts
from tracker.errors import ReleaseError

from .record import CodeSet
from .version import MONTHS, month_date

__all__ = ["FieldSpec", "LabelParts", "infer_label_from_name", "parse_label"]

# ICD-10-CM and ICD-10-PCS order files exist from the drafts of the 2010s; a year outside
# these is a typo (`FY0224`, `FY20244`), refused so every date derived from a label is sane.
FIRST_FISCAL_YEAR, LAST_FISCAL_YEAR = 2009, 2100
# Issues are stored as 32-bit integers (PostgreSQL `integer`).
MAX_ISSUE = 2**31 - 1

ANNUAL, QUARTERLY, CORRECTION = "annual", "quarterly", "correction"

_LABEL = re.compile(
    r"^FY(?P<year>\d{4})(?:-(?P<month>[A-Z]{3}))?(?P<errata>-ERRATA)?(?:#(?P<issue>\d+))?$"
)


def parse_label(text: str) -> LabelParts:
    """`FY2024`, `fy2023-apr`, `FY2022-APR-ERRATA`, `FY2024#2` as their canonical parts.

    `FY2024-OCT` is the October version, written `FY2024`. A bad label raises `ReleaseError`
    with one line saying what a label looks like.
    """
    match = _LABEL.match(text.strip().upper())
    month_name = match["month"] if match else None
    if match is None or (month_name is not None and month_name.lower() not in MONTHS):
        raise ReleaseError(
            f"release {text!r} is not an ICD-10 label like FY2024, FY2023-APR, "
            "FY2022-APR-ERRATA or FY2024#2"
        )
    year = int(match["year"])
    if not FIRST_FISCAL_YEAR <= year <= LAST_FISCAL_YEAR:
        raise ReleaseError(
            f"release {text!r}: fiscal year {year} is outside "
            f"{FIRST_FISCAL_YEAR}-{LAST_FISCAL_YEAR}"
        )
    issue = int(match["issue"]) if match["issue"] is not None else None
    if issue is not None and not 1 <= issue <= MAX_ISSUE:
        raise ReleaseError(f"release {text!r}: issue {issue} is not between 1 and {MAX_ISSUE}")
    month = MONTHS[month_name.lower()] if month_name else 10
    errata = match["errata"] is not None
    label = f"FY{year}"
    if month != 10:
        label += f"-{month_name}"
    if errata:
        label += "-ERRATA"
    kind = CORRECTION if errata else (ANNUAL if month == 10 else QUARTERLY)
    return LabelParts(label, month_date(year, month), kind, issue)


# What a file name can say: the fiscal year and, for mid-year files, the month.
#   icd10cm_order_2021jan.txt, order_addenda_2024.txt, icd10pcs_order_2022.txt
#   2024-code-descriptions-tabular-order.zip, 2024-icd-10-pcs-order-file.zip
#   cms_2024_dx.zip, cms_2022_errata.zip (the public copies' names)
#   icd10cm_FY2020_SAMPLE.zip, ICD-10-CM-Conversion-Table-FY2021-Jan-2021.xlsx
_MONTH = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
_NAME_PATTERNS = (
    re.compile(rf"order(?:_addenda)?_(?P<year>\d{{4}})(?P<month>{_MONTH})?", re.I),
    re.compile(rf"FY[-_ ]?(?P<year>\d{{4}})(?:[-_ ](?P<month>{_MONTH})(?![a-z]))?", re.I),
    re.compile(r"^cms_(?P<year>\d{4})_(?:dx|pr|errata)\b", re.I),
    re.compile(r"^(?P<year>\d{4})[-_ ](?:code[-_ ]descriptions|icd[-_ ]?10)", re.I),
)
# Names that say which code set they hold, so the other code set does not claim them.
_NAMES_CM = re.compile(r"icd[-_ ]?10[-_ ]?cm|_dx\b", re.I)
PCS_NAME = re.compile(r"icd[-_ ]?10[-_ ]?pcs|_pr\b", re.I)


def infer_label_from_name(file_name: str, code_set: CodeSet) -> str | None:
    """The label a file name announces for `code_set`, or None when it says nothing usable.

    A name that names the other code set (`icd10pcs_…`, `cms_2024_pr.zip` for ICD-10-CM)
    gives None. `errata` in the name gives the April errata of the fiscal year, as `version`
    assumes when no announcement says otherwise.
    """
    base = PurePosixPath(file_name.replace("\\", "/")).name
    other = PCS_NAME if code_set == "icd10cm" else _NAMES_CM
    if other.search(base):
        return None
    for pattern in _NAME_PATTERNS:
        match = pattern.search(base)
        if match is None:
            continue
        year = int(match["year"])
        if not FIRST_FISCAL_YEAR <= year <= LAST_FISCAL_YEAR:
            continue
        month = (match.groupdict().get("month") or "").upper()
        if "errata" in base.lower():
            return f"FY{year}-{month or 'APR'}-ERRATA"
        return f"FY{year}-{month}" if month and month != "OCT" else f"FY{year}"
    return None
