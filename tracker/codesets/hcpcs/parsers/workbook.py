"""CMS release workbook (`HCPC2020_APR_ANWEB.xlsx`, `HCPC2020_ANWEB_w_disclaimer.xls`, ...).

The workbook carries the same fields as the fixed-width text, one column each, and must yield
the very same records, so every value goes through the same normalization as the text parser.
Three things differ from the text and are handled here:

- The header row is found by content, because CMS puts disclaimer rows above it in some years
  (the header sits on row 1, 8 or 11). Column names changed over the years (`RECID` / `RIC`,
  `PRICE1` / `PI1`, `ADD DT` / `Code Add Date`), so names are matched through an alias table,
  ignoring case, spaces and punctuation.
- Older workbooks hold one row per physical line of the text file, and recent ones still split a
  description longer than a cell into a continuation row (record id 4 or 8). Such rows extend the
  previous code's long description, exactly like continuation lines in the text.
- Excel turns some cells into numbers or dates (`20201001.0`, RECID `7.0`). They are read back as
  the text the layout defines; code-like columns get their leading zeros back.
- A cell can read blank without being blank: an error value (`#N/A`, `#REF!`), a formula saved
  without its value, a cell merged into its neighbour. In a record row such a cell is an error
  naming the sheet and cell, never a silently empty field.

CMS's transaction-report workbooks look similar (HCPC/MOD, ACTION CD, descriptions) but are not
releases: they have no release header row and are refused with the columns they lack.
"""

from __future__ import annotations

import io
import operator
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from xml.etree import ElementTree

import python_calamine

from tracker.codesets.hcpcs.layout import LAYOUT, RECORD_FIELDS, LayoutField, Value
from tracker.codesets.hcpcs.parsers.base import (
    CONTINUATION_IDS,
    FIRST_LINE_IDS,
    SourceFile,
    fast_tuple,
    first_line_kind,
    is_xlsx,
    one_line,
    zip_member_problem,
)
from tracker.codesets.hcpcs.parsers.build import RecordBuilder
from tracker.codesets.hcpcs.record import Record, RecordKind
from tracker.errors import ParseError

OLE2_MAGIC = b"\xd0\xcf\x11\xe0"
# Disclaimer blocks are about ten rows; a header further down than this is not a release header.
HEADER_SCAN_ROWS = 100
# A row is taken for the header once it names the code column and this many known columns.
MIN_HEADER_COLUMNS = 4

_ONLY_STR = {str}
# Workbook parts read to find the first sheet's XML are a few KiB; anything larger is not one.
_SMALL_PART = 1 << 20
# A cell element of a sheet (any namespace prefix), its attributes and its content.
_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.DOTALL)
_REF = re.compile(rb'\br="([A-Z]+)([0-9]+)"')
_ERROR_TYPE = re.compile(rb'\bt="e"')
_FORMULA = re.compile(rb"<(?:\w+:)?f\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?f>)", re.DOTALL)
_VALUE = re.compile(rb"<(?:\w+:)?v\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?v>)", re.DOTALL)


# Layout fields that have a workbook column, in order; a repeated entry's columns by name.
_WITH_COLUMNS = tuple(entry for entry in LAYOUT if entry.column)
_GROUPS = {entry.name: entry.columns for entry in _WITH_COLUMNS if entry.repeated}
PRICE = _GROUPS["pricing_indicators"]
CIM = _GROUPS["cim_references"]
MCM = _GROUPS["mcm_references"]
LABCERT = _GROUPS["lab_certifications"]
XREF = _GROUPS["xrefs"]
TOS = _GROUPS["types_of_service"]

# The 48 column names of the current layout, in order: the canonical names used in messages.
COLUMNS: tuple[str, ...] = tuple(column for entry in _WITH_COLUMNS for column in entry.columns)
# The sequence number only orders physical lines; a workbook without it loses nothing.
REQUIRED: tuple[str, ...] = tuple(
    column for entry in _WITH_COLUMNS if entry.name for column in entry.columns
)
DATE_COLUMNS = frozenset(
    column for entry in _WITH_COLUMNS if entry.value is Value.DATE for column in entry.columns
)
# Columns whose values are zero-padded codes: a number Excel made of them gets its zeros back.
ZERO_PADDED: dict[str, int] = {
    column: entry.zero_pad for entry in _WITH_COLUMNS if entry.zero_pad for column in entry.columns
}


def column_key(name: str) -> str:
    """Case, spaces and punctuation do not distinguish CMS column names (`X-Ref1` = `XREF1`)."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _aliases() -> dict[str, str]:
    table = {column_key(c): c for c in COLUMNS}
    for entry in _WITH_COLUMNS:
        if entry.repeated:
            for number, canonical in enumerate(entry.columns, start=1):
                for prefix in entry.aliases:
                    table[f"{prefix}{number}"] = canonical
        else:
            for alias in entry.aliases:
                table[alias] = entry.column
    return table


ALIASES: dict[str, str] = _aliases()


def describe_columns(names: Sequence[str]) -> str:
    """`PRICE1, PRICE2, PRICE3` reads as `PRICE1-PRICE3`, keeping long lists short in messages."""
    out: list[str] = []
    ordered = sorted(names, key=COLUMNS.index)
    i = 0
    while i < len(ordered):
        j = i
        base = ordered[i].rstrip("0123456789")
        while (
            j + 1 < len(ordered)
            and base != ordered[i]
            and ordered[j + 1].rstrip("0123456789") == base
            and COLUMNS.index(ordered[j + 1]) == COLUMNS.index(ordered[j]) + 1
        ):
            j += 1
        out.append(ordered[i] if j == i else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ", ".join(out)


def map_header(row: Sequence[Any]) -> tuple[dict[str, int], list[str]]:
    """Known columns of a candidate header row, and any column named twice."""
    found: dict[str, int] = {}
    twice: list[str] = []
    for index, cell in enumerate(row):
        if not isinstance(cell, str):
            continue
        canonical = ALIASES.get(column_key(cell))
        if canonical is None:
            continue
        if canonical in found:
            twice.append(canonical)
        else:
            found[canonical] = index
    return found, twice


def cell_text(value: Any, column: str) -> str:
    """The text the CMS layout defines for a cell, whatever type Excel gave it.

    Raises ValueError naming the column when the cell cannot stand for layout text.
    """
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        raise ValueError(f"column {column} holds a boolean ({value})")
    if isinstance(value, int | float):
        if isinstance(value, float) and not value.is_integer():
            if column in ZERO_PADDED or column in DATE_COLUMNS:
                raise ValueError(f"column {column} holds a fraction ({value!r})")
            return repr(value)
        text = str(int(value))
        width = ZERO_PADDED.get(column)
        return text.zfill(width) if width else text
    if isinstance(value, datetime | date):
        if column in DATE_COLUMNS:
            return value.strftime("%Y%m%d")
        raise ValueError(f"column {column} holds a date ({value.isoformat()}), expected text")
    raise ValueError(f"column {column} holds an unexpected {type(value).__name__} ({value})")


@dataclass
class _Pending:
    row_number: int
    code: str
    kind: RecordKind
    values: dict[str, str]
    long_parts: list[str] = field(default_factory=list)


# Positions in a tuple of REQUIRED cells, so a record is built from one C-level pick of the
# row's values instead of ~50 separate dict lookups.
_REQUIRED_VALUES = operator.itemgetter(*REQUIRED)
_AT = {name: position for position, name in enumerate(REQUIRED)}


def _key(entry: LayoutField) -> int | slice:
    """Where a entry's cell (a repeated entry's run of cells) sits among the REQUIRED cells."""
    start = _AT[entry.columns[0]]
    if not entry.repeated:
        return start
    assert REQUIRED[start : start + entry.slots] == entry.columns
    return slice(start, start + entry.slots)


def _slots(_field: LayoutField) -> Callable[[Sequence[str]], tuple[str, ...]]:
    return fast_tuple


_BUILDER = RecordBuilder({entry.name: _key(entry) for entry in RECORD_FIELDS}, _slots)


def record_from_values(values: dict[str, str], kind: RecordKind, long_description: str) -> Record:
    """Same field-by-field mapping as the fixed-width parser; raises ValueError on a bad value."""
    cells: tuple[str, ...] = _REQUIRED_VALUES(values)
    return _BUILDER.build(cells.__getitem__, cells[0].strip(), kind, long_description)


@dataclass
class Sheet:
    """The first sheet: its rows (row i is spreadsheet row i + 1), and what reads blank there
    without being blank: merged ranges ((first row, first col), (last row, last col)), 0-based,
    and cells holding an error value or a formula without a saved value, by (row, col)."""

    name: str
    rows: list[list[Any]]
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    hidden: dict[tuple[int, int], str] = field(default_factory=dict)


def read_rows(source: SourceFile) -> list[list[Any]]:
    """All rows of the first sheet, row i being spreadsheet row i + 1 (leading blanks kept)."""
    return read_sheet(source).rows


def read_sheet(source: SourceFile) -> Sheet:
    """The first sheet, with the cells that read blank without being blank."""
    xlsx = is_xlsx(source.data)
    if xlsx:
        _check_xlsx_members(source)
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(source.data))
        if not workbook.sheet_names:
            raise ParseError(source.name, "workbook has no sheet")
        sheet = workbook.get_sheet_by_index(0)
        rows: list[list[Any]] = sheet.to_python(skip_empty_area=False)
        merged = list(sheet.merged_cell_ranges or [])
    except ParseError:
        raise
    except Exception as exc:  # calamine raises several unrelated types for damaged files
        raise ParseError(source.name, f"workbook cannot be read ({one_line(exc)})") from None
    hidden = _hidden_cells(source) if xlsx else {}
    return Sheet(sheet.name, rows, merged, hidden)


def _first_sheet_part(archive: zipfile.ZipFile) -> str | None:
    """The zip member holding the first sheet (the one calamine reads), from the workbook's
    sheet list and its relationships; None if they cannot be followed."""
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rel_id = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    try:
        infos = {info.filename: info for info in archive.infolist()}
        parts = ("xl/workbook.xml", "xl/_rels/workbook.xml.rels")
        if any(name not in infos or infos[name].file_size > _SMALL_PART for name in parts):
            return None
        book = ElementTree.fromstring(archive.read(parts[0]))
        first = book.find(f"{main}sheets/{main}sheet")
        if first is None:
            return None
        wanted = first.get(rel_id)
        for relation in ElementTree.fromstring(archive.read(parts[1])):
            if relation.get("Id") == wanted:
                target = relation.get("Target") or ""
                name = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                name = posixpath.normpath(name)
                return name if name in infos else None
    except (ElementTree.ParseError, KeyError, OSError, zipfile.BadZipFile, ValueError):
        return None
    return None


def _hidden_cells(source: SourceFile) -> dict[tuple[int, int], str]:
    """Cells of the first sheet that calamine reads as blank although they are not: error
    values and formulas saved without their value. Only read when the sheet has either."""
    try:
        with zipfile.ZipFile(io.BytesIO(source.data)) as archive:
            part = _first_sheet_part(archive)
            if part is None:
                return {}
            xml = archive.read(part)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return {}
    # A formula with text closes with `</f>` (a self-closing shared one refers to such a
    # master); longer patterns are scanned faster. Most workbooks have neither kind.
    if b"</f>" not in xml and b":f>" not in xml and b't="e"' not in xml:
        return {}
    hidden: dict[tuple[int, int], str] = {}
    for match in _CELL.finditer(xml):
        attributes, content = match.group(1), match.group(2) or b""
        ref = _REF.search(attributes)
        if ref is None:
            continue
        value = _VALUE.search(content)
        saved = value.group(1) if value is not None else None
        if _ERROR_TYPE.search(attributes):
            shown = (saved or b"an error").decode("utf-8", "replace")
            what = f"holds the error value {shown}, not a value"
        else:
            formula = _FORMULA.search(content)
            if formula is None or value is not None:
                continue
            text = (formula.group(1) or b"").decode("utf-8", "replace")
            what = (
                f"holds a formula (={text}) saved without its value"
                if text
                else ("holds a formula saved without its value")
            )
            what += "; open and save the workbook in a spreadsheet program to compute it"
        letters, number = ref.group(1).decode(), int(ref.group(2))
        hidden[(number - 1, _column_index(letters))] = what
    return hidden


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def cell_name(row: int, column: int) -> str:
    """`D12` for 0-based (11, 3)."""
    letters = ""
    number = column + 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row + 1}"


def check_blank_cells(
    source: SourceFile, sheet: Sheet, header_index: int, columns: dict[str, int]
) -> None:
    """Refuse a record row whose layout cell reads blank without being blank.

    Rows below the header and the columns the layout reads are checked; merges and error cells
    elsewhere (CMS's disclaimer block above the header is merged) do not matter.
    """
    by_index = {index: name for name, index in columns.items()}
    problems: list[tuple[int, int, str]] = []
    for (row, column), what in sheet.hidden.items():
        if row > header_index and column in by_index:
            problems.append((row, column, what))
    rows = sheet.rows
    for (top, left), (bottom, right) in sheet.merged:
        anchor = rows[top][left] if top < len(rows) and left < len(rows[top]) else None
        if anchor is None or anchor == "":
            continue  # blank merged into blank: every cell reads as it is
        for row in range(max(top, header_index + 1), bottom + 1):
            for column in range(left, right + 1):
                if (row, column) != (top, left) and column in by_index:
                    what = f"is merged into {cell_name(top, left)}, so it reads blank;"
                    problems.append((row, column, f"{what} unmerge the cells and fill each"))
    if problems:
        row, column, what = min(problems)
        raise ParseError(
            source.name,
            f"sheet {sheet.name!r} cell {cell_name(row, column)} ({by_index[column]}) {what}",
        )


def _check_xlsx_members(source: SourceFile) -> None:
    """An .xlsx is a zip; refuse a hostile one before calamine inflates it."""
    try:
        with zipfile.ZipFile(io.BytesIO(source.data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, NotImplementedError, OSError, ValueError, EOFError) as exc:
        raise ParseError(source.name, f"workbook cannot be read ({one_line(exc)})") from None
    for info in infos:
        problem = zip_member_problem(info)
        if problem is not None:
            raise ParseError(f"{source.name}!{info.filename}", problem)


def find_header(source: SourceFile, rows: Sequence[Sequence[Any]]) -> tuple[int, dict[str, int]]:
    """Index of the header row and its column positions; ParseError if there is none."""
    best: dict[str, int] = {}
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        found, twice = map_header(row)
        if "HCPC" in found and len(found) >= MIN_HEADER_COLUMNS:
            if twice:
                raise ParseError(
                    source.name,
                    f"header row names column {describe_columns(sorted(set(twice)))} twice",
                    index + 1,
                )
            missing = [c for c in REQUIRED if c not in found]
            if missing:
                raise ParseError(
                    source.name,
                    f"header row lacks required columns {describe_columns(missing)}",
                    index + 1,
                )
            return index, found
        if len(found) > len(best):
            best = found
    missing = [c for c in REQUIRED if c not in best]
    raise ParseError(
        source.name,
        f"no HCPCS release header row (missing columns {describe_columns(missing)})",
    )


class WorkbookParser:
    name = "cms-workbook"
    version = "1"

    def detect(self, source: SourceFile) -> bool:
        return source.data[:4] == OLE2_MAGIC or is_xlsx(source.data)

    def parse(self, source: SourceFile) -> Iterator[Record]:
        sheet = read_sheet(source)
        rows = sheet.rows
        header_index, columns = find_header(source, rows)
        check_blank_cells(source, sheet, header_index, columns)
        # Picks, in C, every cell a first row carries (SEQNUM only orders lines: not read).
        take = operator.itemgetter(*(columns[c] for c in REQUIRED))
        code_at, recid_at, long_at = columns["HCPC"], columns["RECID"], columns["LONG DESCRIPTION"]
        width = max(columns.values()) + 1
        pending: _Pending | None = None
        seen_record = False
        first_row_of: dict[str, int] = {}
        for number in range(header_index + 2, len(rows) + 1):
            row = rows[number - 1]
            if not any(row):
                continue
            if len(row) < width:
                row = [*row, *[""] * (width - len(row))]
            try:
                code = cell_text(row[code_at], "HCPC").strip()
                record_id = cell_text(row[recid_at], "RECID").strip()
            except ValueError as exc:
                raise ParseError(source.name, str(exc), number) from None
            seen_record = True
            if record_id in FIRST_LINE_IDS:
                if pending is not None:
                    yield self._finish(source, pending)
                kind = first_line_kind(source.name, record_id, code, number)
                if code in first_row_of:
                    raise ParseError(
                        source.name,
                        f"code {code} appears twice (first on row {first_row_of[code]})",
                        number,
                    )
                first_row_of[code] = number
                cells = take(row)
                try:
                    if set(map(type, cells)) == _ONLY_STR:
                        values = dict(zip(REQUIRED, cells, strict=True))
                    else:
                        values = {c: cell_text(v, c) for c, v in zip(REQUIRED, cells, strict=True)}
                except ValueError as exc:
                    raise ParseError(source.name, f"{code}: {exc}", number) from None
                values["HCPC"] = code
                pending = _Pending(number, code, kind, values, [values["LONG DESCRIPTION"]])
            elif record_id in CONTINUATION_IDS:
                if pending is None or (code and code != pending.code):
                    raise ParseError(
                        source.name,
                        f"continuation row for {code!r} does not follow that code's first row",
                        number,
                    )
                try:
                    pending.long_parts.append(cell_text(row[long_at], "LONG DESCRIPTION"))
                except ValueError as exc:
                    raise ParseError(source.name, f"{pending.code}: {exc}", number) from None
            else:
                raise ParseError(
                    source.name, f"record id {record_id!r} is not 3, 4, 7 or 8", number
                )
        if pending is not None:
            yield self._finish(source, pending)
        if not seen_record:
            raise ParseError(
                source.name, "no HCPCS records found below the header row", header_index + 1
            )

    @staticmethod
    def _finish(source: SourceFile, pending: _Pending) -> Record:
        try:
            return record_from_values(
                pending.values,
                pending.kind,
                " ".join(p.strip() for p in pending.long_parts),
            )
        except ValueError as exc:
            raise ParseError(source.name, f"{pending.code}: {exc}", pending.row_number) from None
