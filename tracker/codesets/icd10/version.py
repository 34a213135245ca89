"""Which version of an ICD-10 code set a file is: its label and effective date, with evidence.

A fiscal year FY N takes effect on October 1 of year N-1 (FY2024 = 2023-10-01). Mid-year
versions take effect on their own date and are labelled `FY2021-JAN` (2021-01-01),
`FY2023-APR` (2023-04-01). The file names alone do not tell: CDC names a mid-year file like the
October one (`icd10cm_order_2023.txt`). The addenda summary does, in two ways:

- it names the version it leads to with a month (`icd10cm_order_2021jan.txt`): that month;
- it leads from and to files of the same fiscal year (`72748 codes in icd10cm_order_2022.txt`,
  `72750 codes in icd10cm_order_2022.txt`): a mid-year version whose month is not written.
  Since 2020 CMS's and CDC's mid-year updates take effect on April 1 (the January 2021 update
  is the exception, and its file says `jan`), so April is inferred and the evidence says it
  was inferred. An October version's addenda lead from the previous year's file.

Errata. CMS's PCS errata (a zip with an `ERRATA_…docx` announcement and addenda without a
summary) adds codes to a mid-year version after its publication. The FY2022 one adds 2 codes
(XW023X7, XW023Y7) to the April 2022 version's 7; its announcement reads "MS-DRGs Version 39.1
Effective April 1, 2022", and CMS's conversion table in the same zip gives all 9 codes the
effective month/day 04.01 of 2022. So the errata takes effect on the date its announcement
names (April 1, 2022, the same day as the version it corrects, which it replaces), and is
labelled `FY2022-APR-ERRATA`. Without an announcement, the date falls back to April 1 of the
fiscal year, as for other mid-year versions. `label`/`effective` arguments override everything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import PurePosixPath

from tracker.errors import SourceError

from .addenda import AddendaSummary

MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_FILE_VERSION = re.compile(r"order_(\d{4})([a-z]*)\.txt$", re.I)
_EFFECTIVE = re.compile(
    r"effective\s+(?:for\s+discharges\s+on\s+or\s+after\s+)?"
    r"(january|february|march|april|may|june|july|august|september|october|november|december)"
    r"\s+(\d{1,2}),\s*(\d{4})",
    re.I,
)
_MID_YEAR_MONTH = 4


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """The inferred version; `evidence` says, in words, what each part was inferred from."""

    fiscal_year: int
    label: str
    effective: date
    mid_year: bool
    errata: bool
    evidence: tuple[str, ...]


def october_start(fiscal_year: int) -> date:
    return date(fiscal_year - 1, 10, 1)


def month_date(fiscal_year: int, month: int) -> date:
    """The first day of `month` within a fiscal year (October-December fall in the year before)."""
    return date(fiscal_year - 1 if month >= 10 else fiscal_year, month, 1)


def _file_version(name: str | None) -> tuple[int, str] | None:
    if not name:
        return None
    match = _FILE_VERSION.search(PurePosixPath(name.replace("\\", "/")).name)
    if match is None:
        return None
    return int(match[1]), match[2].lower()


def _label(fiscal_year: int, month: int | None, errata: bool) -> str:
    label = f"FY{fiscal_year}"
    if month is not None and month != 10:
        label += "-" + next(key for key, value in MONTHS.items() if value == month).upper()
    return label + ("-ERRATA" if errata else "")


def infer_version(
    order_name: str,
    summary: AddendaSummary | None = None,
    source_name: str | None = None,
    member_names: tuple[str, ...] = (),
    announcement: str | None = None,
    label: str | None = None,
    effective: date | None = None,
) -> VersionInfo:
    """The version of an order file from its name, its addenda summary and its zip.

    `label` and `effective` override the inference (and are recorded as the evidence).
    """
    evidence: list[str] = []
    named = _file_version(order_name) or _file_version(source_name)
    section = None
    if summary is not None:
        section = summary.codes or summary.headers
    target = _file_version(section.to_file) if section else None
    origin = _file_version(section.from_file) if section else None
    if named is not None:
        fiscal_year = named[0]
        evidence.append(f"fiscal year {fiscal_year} from the file name {order_name}")
    elif target is not None:
        fiscal_year = target[0]
        evidence.append(f"fiscal year {fiscal_year} from the addenda summary ({target})")
    else:
        raise SourceError(order_name, "no fiscal year in the file name or the addenda summary")

    month: int | None = None
    suffix = (target[1] if target else "") or (named[1] if named else "")
    if suffix[:3] in MONTHS:
        month = MONTHS[suffix[:3]]
        evidence.append(f"month {suffix} from the version file named in the addenda summary")
    elif section is not None and origin is not None and target is not None:
        if origin[0] == target[0]:
            month = _MID_YEAR_MONTH
            evidence.append(
                f"the addenda summary leads from and to {section.to_file} "
                f"({section.from_count} → {section.to_count} codes): a mid-year version; "
                "April inferred (CMS/CDC mid-year updates take effect April 1)"
            )
            if (section.additions, section.deletions, section.revisions) == (0, 0, 0):
                evidence.append(
                    "the summary declares no change: the content equals the version it "
                    "leads from (a release of its own with zero changes)"
                )
        else:
            month = 10
            evidence.append(
                f"the addenda summary leads from {section.from_file} to {section.to_file}: "
                "the October version"
            )

    names = [name for name in (source_name, *member_names) if name]
    errata = any("errata" in PurePosixPath(name).name.lower() for name in names)
    announced: date | None = None
    if errata:
        evidence.append("errata: a file name says ERRATA")
        found = _EFFECTIVE.search(announcement or "")
        if found is not None:
            announced = date(int(found[3]), MONTHS[found[1][:3].lower()], int(found[2]))
            evidence.append(f"effective {announced.isoformat()} from the announcement")
            month = announced.month
        elif month is None:
            month = _MID_YEAR_MONTH
            evidence.append("no announced date: April 1 of the fiscal year, as mid-year updates")
    if month is None:
        month = 10
        evidence.append("no addenda summary: the October version of the fiscal year assumed")

    inferred_label = _label(fiscal_year, month, errata)
    inferred_effective = announced or month_date(fiscal_year, month)
    if label is not None:
        evidence.append(f"label {label} given (inferred {inferred_label})")
    if effective is not None:
        evidence.append(f"effective {effective.isoformat()} given (inferred {inferred_effective})")
    return VersionInfo(
        fiscal_year=fiscal_year,
        label=label or inferred_label,
        effective=effective or inferred_effective,
        mid_year=month != 10,
        errata=errata,
        evidence=tuple(evidence),
    )
