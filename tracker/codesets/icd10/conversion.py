"""Conversion tables: each new code and the code(s) it was previously assigned to.

CDC publishes one for ICD-10-CM each year (.xlsx, some years .csv): columns `Current code
assignment`, `Effective` (the year whose October 1 the code took effect, or a date for
mid-year codes), `Previous Code(s) Assignment`. The previous column is free text: one code,
lists (`E11.69 and R40.20`, `A, B; C`), ranges (`H02.101-H02.106`), a whole category
(`T40.- and …`) or `None`. CMS's ICD-10-PCS table has named columns, a `Change type`
(`New`, `Deleted`, `Revised`) and the effective year and month/day separately; `NoPCS` means
no predecessor. These links become the replaced-by answers for deleted codes.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from tracker.errors import ParseError, SourceError

from .record import CodeSet, Icd10Record

_CM_CODE = r"[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{0,4})?"
_CM_TOKEN = re.compile(rf"({_CM_CODE})(?:\s*-\s*({_CM_CODE})?)?")
_PCS_TOKEN = re.compile(r"\b([0-9A-HJ-NP-Z]{7})\b(?:\s*-\s*([0-9A-HJ-NP-Z]{7})\b)?")


@dataclass(frozen=True, slots=True)
class ConversionLink:
    """One row: `current` took over from `previous` codes and `ranges` (inclusive; an end
    that is a category covers its sub-codes, and a category written `T40.-` is (T40, T40))."""

    code_set: CodeSet
    current: str
    previous: tuple[str, ...]
    ranges: tuple[tuple[str, str], ...]
    previous_text: str
    effective: date | None
    change: str
    row: int

    def covers(self, code: str) -> bool:
        """Whether an old code is among this row's previous codes."""
        if code in self.previous:
            return True
        return any(
            start <= code and (code <= end or code.startswith(end)) for start, end in self.ranges
        )


def _plain(code: str) -> str:
    return code.replace(".", "").strip().upper()


def _previous(code_set: CodeSet, text: str) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    codes: list[str] = []
    ranges: list[tuple[str, str]] = []
    token = _CM_TOKEN if code_set == "icd10cm" else _PCS_TOKEN
    for match in token.finditer(text.upper()):
        start = _plain(match[1])
        has_dash = match[0].rstrip().endswith("-") or match[2] is not None
        if match[2]:
            ranges.append((start, _plain(match[2])))
        elif has_dash:
            ranges.append((start, start))
        else:
            codes.append(start)
    return tuple(codes), tuple(ranges)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _effective(year_cell: Any, month_day: Any, name: str, row: int) -> date | None:
    """October 1 of the year given (CDC: "Effective October 1" of that year), or the date."""
    if isinstance(year_cell, datetime):
        return year_cell.date()
    if isinstance(year_cell, date):
        return year_cell
    text = _cell_text(year_cell)
    if not text:
        return None
    if not text.isdigit() or len(text) != 4:
        raise ParseError(name, f"effective {text!r} is not a year or a date", row)
    month, day = 10, 1
    md = _cell_text(month_day)
    if md:
        parts = md.split(".")
        if len(parts) != 2 or not all(part.isdigit() for part in parts):
            raise ParseError(name, f"effective month/day {md!r} is not MM.DD", row)
        month, day = int(parts[0]), int(parts[1])
    try:
        return date(int(text), month, day)
    except ValueError:
        raise ParseError(name, f"effective {text} {md} is not a date", row) from None


def _rows(name: str, data: bytes) -> list[list[Any]]:
    if name.lower().endswith(".csv"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="strict")
        return [list(row) for row in csv.reader(io.StringIO(text))]
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        rows: list[list[Any]] = book.get_sheet_by_index(0).to_python()
    except Exception as exc:  # calamine raises its own types for every kind of bad workbook
        raise SourceError(name, f"cannot be read as a workbook ({exc})") from None
    return rows


def _column(header: list[str], *words: str, avoid: str = "") -> int | None:
    for index, title in enumerate(header):
        lowered = title.lower()
        if all(word in lowered for word in words) and not (avoid and avoid in lowered):
            return index
    return None


def parse_conversion_table(name: str, data: bytes, code_set: CodeSet) -> list[ConversionLink]:
    """The links of a conversion table (.xlsx or .csv), or `file:row: problem`."""
    rows = _rows(name, data)
    start = next(
        (
            i
            for i, row in enumerate(rows)
            if row and _cell_text(row[0]).lower().startswith("current code")
        ),
        None,
    )
    if start is None:
        raise SourceError(name, "no 'Current code' header row: not a conversion table")
    header = [_cell_text(cell) for cell in rows[start]]
    current_col = 0
    previous_col = _column(header, "previous code")
    year_col = _column(header, "effective", avoid="month")
    md_col = _column(header, "month/day")
    change_col = _column(header, "change type")
    if previous_col is None or year_col is None:
        raise ParseError(name, "header lacks a previous-code or effective column", start + 1)
    links: list[ConversionLink] = []
    for index, row in enumerate(rows[start + 1 :], start=start + 2):
        cells = [*row, *[""] * (len(header) - len(row))]
        current_text = _cell_text(cells[current_col])
        if not current_text or current_text.lower() in ("nopcs", "none"):
            # No current code: a deletion without a successor gives no replaced-by link.
            continue
        current = _plain(current_text)
        valid = (
            current[:1].isalpha() and current[1:2].isdigit()
            if code_set == "icd10cm"
            else len(current) == 7
        )
        if not current.isalnum() or not valid:
            raise ParseError(name, f"{current_text!r} is not an {code_set} code", index)
        previous_text = _cell_text(cells[previous_col])
        previous, ranges = _previous(code_set, previous_text)
        links.append(
            ConversionLink(
                code_set=code_set,
                current=current,
                previous=previous,
                ranges=ranges,
                previous_text=previous_text,
                effective=_effective(
                    cells[year_col], cells[md_col] if md_col is not None else "", name, index
                ),
                change=_cell_text(cells[change_col]) if change_col is not None else "New",
                row=index,
            )
        )
    return links


def replaced_by(
    links: Iterable[ConversionLink],
    deleted: Iterable[str],
    old: Mapping[str, Icd10Record] | None = None,
) -> dict[str, list[str]]:
    """For each deleted code, the new codes whose previous assignment covers it.

    Exact previous codes are looked up in an index; only the few rows with ranges are scanned.
    `old`, the release the codes were deleted from, restricts the answer to codes it carried.
    "Revised" rows (a code renamed, not replaced) give no link.
    """
    exact: dict[str, list[str]] = {}
    ranged: list[ConversionLink] = []
    for link in links:
        if link.change.lower().startswith("revised"):
            continue
        for code in link.previous:
            exact.setdefault(code, []).append(link.current)
        if link.ranges:
            ranged.append(link)
    answer: dict[str, list[str]] = {}
    for code in deleted:
        if old is not None and code not in old:
            continue
        found = [*exact.get(code, []), *(link.current for link in ranged if link.covers(code))]
        answer[code] = [new for new in dict.fromkeys(found) if new != code]
    return answer


# A loose conversion table is told by its header row, not its name: CDC's and CMS's names vary
# (`ICD-10-CM-Conversion-Table-FY20-…-corrected.csv`, `icd10pcs_conversion_table_2022.xlsx`).
_TABLE_SUFFIXES = (".xlsx", ".csv")
_ZIP_MAGIC = b"PK\x03\x04"


def table_code_set(name: str, data: bytes) -> CodeSet | None:
    """The code set of a loose conversion table (.xlsx or .csv), or None when the file is not
    one; never raises. CMS's ICD-10-PCS table has a `Change type` column, CDC's CM table not."""
    if not name.lower().endswith(_TABLE_SUFFIXES):
        return None
    if name.lower().endswith(".csv") and data.startswith(_ZIP_MAGIC):
        return None
    try:
        rows = _rows(name, data)
    except Exception:  # detection must never raise, whatever the bytes
        return None
    for row in rows[:20]:
        if row and _cell_text(row[0]).lower().startswith("current code"):
            header = [_cell_text(cell) for cell in row]
            if _column(header, "previous code") is None:
                return None
            return "icd10pcs" if _column(header, "change type") is not None else "icd10cm"
    return None


def latest_effective(links: Iterable[ConversionLink]) -> date | None:
    """The latest effective date a table names: the version of the code set it was made for
    (CDC's tables are cumulative, each row dated by the update that brought its code)."""
    dates = [link.effective for link in links if link.effective is not None]
    return max(dates) if dates else None
