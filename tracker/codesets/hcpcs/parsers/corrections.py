"""CMS's corrections files: the rows CMS publishes after a release to say what it got wrong.

CMS ships them as a zip of workbooks and listings (`hcpc2017_corrections_alpha.xlsx` + `.txt`;
`V1_…` to `V4_HCPC2018_Corrections_ANWEB.xlsx` + `.prn`, each version repeating the previous
one's rows), with columns that change by year (`CODE, ACTION, EFF DATE, SHORT DESC, LONG DESC,
TOS, BETOS, COV, PRICE…` one year, `HCPCS/MOD Code, Action, Short Description, Long
Description, Effective Date…` another) and free-text actions. This module only reads rows:
column names are matched through aliases (as the release workbook parser does), and the action
stays the text CMS wrote. What a row means is decided by `tracker.codesets.hcpcs.corrections`.

From a zip, the latest version is read (a `V<n>` or `_v<n>` in the member name), and of its
forms the workbook (the `.prn` listings cut long descriptions at their column width), else the
tab-separated text, else the `.prn` listing, whose rows are kept as raw text only.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

import python_calamine

from tracker.codesets.hcpcs.parsers.base import SourceFile, zip_member_problem, zip_names
from tracker.codesets.hcpcs.parsers.workbook import column_key
from tracker.codesets.hcpcs.record import CODE_PATTERN, MODIFIER_PATTERN, normalize_text
from tracker.errors import SourceError

# Canonical column -> the spellings CMS used (compared after `column_key`).
_ALIASES: dict[str, tuple[str, ...]] = {
    "code": ("code", "hcpcs", "hcpc", "hcpcscode", "hcpcsmodcode", "hcpcsmodifiercode", "hcpcmod"),
    "action": ("action", "actions", "actiontaken", "correction", "change"),
    "effective": ("effdate", "effectivedate", "effdt", "actioneffdate", "actioneffectivedate"),
    "short_description": ("shortdesc", "shortdescription", "shortdescript"),
    "long_description": ("longdesc", "longdescription", "longdescript", "description"),
    "types_of_service": ("tos", "typeofservice", "typesofservice"),
    "betos": ("betos",),
    "coverage": ("cov", "coverage"),
    "pricing": ("price", "pricing", "pricingindicator", "pi"),
    "processing_note": ("procnote", "processingnote"),
    "asc_group": ("ascind", "ascgroup", "ascindicator"),
    "lab_certification": ("lcedit", "labcert", "labcertification"),
}
ALIASES = {alias: canonical for canonical, names in _ALIASES.items() for alias in names}
_INCORPORATED = re.compile(
    r"(already|have been|has been|were|was|are)\s+(been\s+)?incorporated", re.IGNORECASE
)
_VERSION = re.compile(r"(?:^|[^a-z])v(\d{1,2})(?:[^a-z0-9]|$)", re.IGNORECASE)
_DATE_TEXT = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_KINDS = {".xlsx": 3, ".txt": 2, ".prn": 1}


@dataclass(frozen=True, slots=True)
class CorrectionRow:
    """One row as CMS wrote it: the code, the action text, and the values the row gives."""

    line: int
    code: str
    action: str
    effective: date | None
    values: dict[str, str] = field(default_factory=dict)
    # A `.prn` listing's row: only code and the raw rest of the line are known.
    raw: str = ""

    def describe(self) -> str:
        """The row as one line of text, for 'not applied: <row>' listings."""
        parts = [self.code, self.action or self.raw]
        if self.effective:
            parts.append(f"eff {self.effective.isoformat()}")
        parts += [f"{name}={value}" for name, value in self.values.items() if value]
        return " | ".join(part for part in parts if part)


@dataclass(frozen=True, slots=True)
class CorrectionsFile:
    name: str
    """The file given (a zip, or the loose file)."""
    member: str | None
    """The member read inside the zip."""
    rows: tuple[CorrectionRow, ...]
    incorporated: str | None
    """CMS's own words saying the corrections are already in the release file, if any."""
    listing_only: bool
    """A `.prn` listing: rows are raw text (columns cut short), never applied."""

    @property
    def display(self) -> str:
        return f"{self.name}!{self.member}" if self.member else self.name


def is_code(text: str) -> bool:
    return bool(CODE_PATTERN.match(text) or MODIFIER_PATTERN.match(text))


def is_corrections_name(name: str) -> bool:
    base = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return "correction" in base


def looks_like_corrections(source: SourceFile) -> bool:
    """By name (`…Corrections…`), or a zip holding corrections members, or a title row saying so."""
    if is_corrections_name(source.name):
        return True
    names = zip_names(source.data)
    if names is not None and not any(n.endswith("xl/workbook.xml") for n in names):
        return any(_is_member(n) for n in names)
    if names is None:
        head = source.data[:2048].decode("cp1252", errors="replace").upper()
        return "HCPCS CORRECTIONS" in head
    return False


def _is_member(name: str) -> bool:
    base = name.rsplit("/", 1)[-1].lower()
    return "correction" in base and base.endswith(tuple(_KINDS)) and "readme" not in base


def _version(name: str) -> int:
    match = _VERSION.search(name.rsplit("/", 1)[-1])
    return int(match[1]) if match else 0


def choose_member(names: list[str]) -> str | None:
    """The latest version's best form among a corrections zip's members."""
    candidates = [n for n in names if _is_member(n)]
    if not candidates:
        return None

    def rank(name: str) -> tuple[int, int, str]:
        suffix = "." + name.rsplit(".", 1)[-1].lower()
        return (_version(name), _KINDS.get(suffix, 0), name)

    return max(candidates, key=rank)


def read_corrections(source: SourceFile) -> CorrectionsFile:
    """The rows of a corrections file or zip; SourceError when none can be read."""
    names = zip_names(source.data)
    if names is not None and not any(n.endswith("xl/workbook.xml") for n in names):
        member = choose_member(names)
        if member is None:
            raise SourceError(source.name, "no corrections file inside the zip")
        with zipfile.ZipFile(io.BytesIO(source.data)) as archive:
            texts: list[str] = []
            for info in archive.infolist():
                problem = zip_member_problem(info)
                if problem:
                    raise SourceError(f"{source.name}!{info.filename}", problem)
                if info.filename.lower().endswith(".txt") and not _is_member(info.filename):
                    texts.append(archive.read(info).decode("cp1252", errors="replace"))
            inner = _read_member(SourceFile(f"{source.name}!{member}", archive.read(member)))
        said = inner.incorporated or _incorporated(texts)
        return CorrectionsFile(source.name, member, inner.rows, said, inner.listing_only)
    return _read_member(source)


def _incorporated(texts: list[str]) -> str | None:
    for text in texts:
        for line in text.splitlines():
            if _INCORPORATED.search(line):
                return normalize_text(line)
    return None


def _read_member(source: SourceFile) -> CorrectionsFile:
    lower = source.name.lower()
    if lower.endswith(".prn"):
        return _read_listing(source)
    if source.data[:4] == b"PK\x03\x04":
        try:
            workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(source.data))
            grid: list[list[object]] = []
            for sheet in workbook.sheet_names:
                grid = [list(row) for row in workbook.get_sheet_by_name(sheet).to_python()]
                if _header_index(grid) is not None:
                    break
        except Exception as exc:  # calamine raises several unrelated types for damaged files
            raise SourceError(source.name, f"not a readable workbook ({exc})") from None
    else:
        text = source.data.decode("cp1252", errors="replace")
        grid = [list(row) for row in csv.reader(io.StringIO(text), delimiter="\t")]
    return _from_grid(source.name, grid)


def _header_index(grid: list[list[object]]) -> int | None:
    for index, row in enumerate(grid[:30]):
        found = {ALIASES.get(column_key(str(cell))) for cell in row if str(cell).strip()}
        if {"code", "action"} <= found:
            return index
    return None


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.strftime("%m/%d/%Y")
    return normalize_text(str(value))


def _date(value: object) -> date | None:
    """A cell's date, or None when it holds no date CMS's way (the raw text stays in the row)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    match = _DATE_TEXT.match(_cell(value))
    if match:
        try:
            return date(int(match[3]), int(match[1]), int(match[2]))
        except ValueError:
            return None
    return None


def _from_grid(name: str, grid: list[list[object]]) -> CorrectionsFile:
    header = _header_index(grid)
    if header is None:
        raise SourceError(name, "no header row naming a code and an action column")
    columns: dict[str, int] = {}
    for index, cell in enumerate(grid[header]):
        canonical = ALIASES.get(column_key(str(cell)))
        if canonical and canonical not in columns:
            columns[canonical] = index
    said = _incorporated([" ".join(_cell(c) for c in row) for row in grid])
    rows: list[CorrectionRow] = []
    for number, row in enumerate(grid[header + 1 :], start=header + 2):

        def get(column: str, row: list[object] = row) -> object:
            index = columns.get(column)
            return row[index] if index is not None and index < len(row) else None

        code = _cell(get("code")).upper()
        action = _cell(get("action"))
        if not code and not action:
            continue
        if not is_code(code) and _INCORPORATED.search(" ".join(_cell(c) for c in row)):
            continue
        # Anything else is kept as CMS wrote it (a note row, a date in words): the row is then
        # listed as not applied, never guessed at and never dropped.
        effective = _date(get("effective"))
        values = {
            column: _cell(get(column))
            for column in columns
            if column not in ("code", "action") and (column != "effective" or effective is None)
        }
        rows.append(CorrectionRow(number, code, action, effective, values))
    if not rows:
        raise SourceError(name, "no correction rows")
    return CorrectionsFile(name, None, tuple(rows), said, listing_only=False)


def _read_listing(source: SourceFile) -> CorrectionsFile:
    """A `.prn` listing: fixed columns whose text runs together; rows kept as raw text."""
    text = source.data.decode("cp1252", errors="replace")
    rows: list[CorrectionRow] = []
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        parts = line.strip().split(None, 1)
        if not parts or parts[0].upper() != parts[0]:
            continue
        code = parts[0]
        if is_code(code) and len(parts) == 2:
            rows.append(CorrectionRow(number, code, "", None, {}, raw=normalize_text(parts[1])))
    if not rows:
        raise SourceError(source.name, "no correction rows")
    return CorrectionsFile(source.name, None, tuple(rows), _incorporated([text]), True)
