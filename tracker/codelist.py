"""Reading a user's list of codes: a text file (one a line) or one column of a CSV.

A code list is what a billing team already has: a fee schedule exported from a spreadsheet, a
charge master, a value set kept in git. It is read as leniently as its content allows and as
strictly as its mistakes demand: comments and blank lines are skipped, a code listed twice is
kept once (and the repeat reported), and anything that makes the list unusable (no such file,
no codes, no such column, a malformed CSV line) is one error naming the file and line.

The encoding is detected as for claims files (`tracker.validate.claims_encoding`): UTF-8 with
or without a byte-order mark, UTF-16 with one, else Windows-1252, else Latin-1.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from tracker.errors import SourceError
from tracker.validate import claims_encoding

# Longer than any code of the code sets tracked (HCPCS 5, ICD-10-PCS 7, ICD-10-CM 8 with its
# dot): a longer entry is not a mistyped code but a wrong file (a release, a claims file).
MAX_CODE_LENGTH = 20


@dataclass(frozen=True, slots=True)
class ListedCode:
    """One code as listed, and the line it is first listed on."""

    code: str
    line: int


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A code listed more than once: the line kept and the lines ignored."""

    code: str
    line: int
    repeated_on: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class CodeList:
    source: str
    codes: tuple[ListedCode, ...]
    duplicates: tuple[Duplicate, ...] = ()
    column: str | None = None


def parse_codes(text: str, source: str = "<codes>", *, column: str | None = None) -> CodeList:
    """Codes from the text of a list: one code a line, or `column` of a CSV with a header."""
    rows = _csv_rows(text, source, column) if column is not None else _text_rows(text, source)
    kept: dict[str, ListedCode] = {}
    repeats: dict[str, list[int]] = {}
    for raw_code, line in rows:
        # Codes are case-insensitive: `g0202` in a charge master means G0202.
        code = raw_code.upper()
        if len(code) > MAX_CODE_LENGTH:
            shown = code[:MAX_CODE_LENGTH] + "…"
            raise SourceError(
                source, f"{shown!r} is not a code (longer than {MAX_CODE_LENGTH} characters)", line
            )
        if code in kept:
            repeats.setdefault(code, []).append(line)
        else:
            kept[code] = ListedCode(code, line)
    if not kept:
        where = f"column {column!r} holds" if column is not None else "the list holds"
        raise SourceError(source, f"{where} no codes (blank lines and # comments only)", 1)
    duplicates = tuple(
        Duplicate(code, kept[code].line, tuple(lines)) for code, lines in repeats.items()
    )
    return CodeList(source, tuple(kept.values()), duplicates, column)


def read_codes(path: str | Path, *, column: str | None = None) -> CodeList:
    """`parse_codes` on a file, its encoding detected; read errors are one line."""
    target = Path(path)
    name = str(path)
    try:
        if target.is_dir():
            raise SourceError(name, "is a directory, not a code list", 1)
        encoding = claims_encoding(target)
        data = target.read_bytes()
    except FileNotFoundError:
        raise SourceError(name, "no such file or directory", 1) from None
    except PermissionError:
        raise SourceError(name, "cannot read it (permission denied)", 1) from None
    except OSError as exc:
        raise SourceError(name, f"cannot read it ({exc.strerror or exc})", 1) from None
    if b"\x00" in data and not encoding.startswith("utf-16"):
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise SourceError(name, "holds NUL bytes: not a text or CSV code list", line)
    text = data.decode(encoding)
    return parse_codes(text, name, column=column)


def _text_rows(text: str, source: str) -> list[tuple[str, int]]:
    rows: list[tuple[str, int]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        entry = raw.split("#", 1)[0].strip()
        if not entry:
            continue
        if "," in entry or "\t" in entry or ";" in entry:
            raise SourceError(
                source,
                f"{entry[:40]!r} is not one code; for a CSV give the column with --column NAME",
                number,
            )
        rows.append((entry, number))
    return rows


def _csv_rows(text: str, source: str, column: str) -> list[tuple[str, int]]:
    # strict: an unclosed quote is an error, not a cell that swallows the rest of the file.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[str, int]] = []
    try:
        header: list[str] | None = None
        for record in reader:
            if header is None:
                if not any(cell.strip() for cell in record):
                    continue  # blank lines before the header
                header = record
                index = _column_index(header, column, source, reader.line_num)
                continue
            if not any(cell.strip() for cell in record):
                continue
            if index >= len(record):
                raise SourceError(
                    source,
                    f"{len(record)} cells, no value for column {column!r}"
                    f" (cell {index + 1} of the header)",
                    reader.line_num,
                )
            code = record[index].strip()
            if code and not code.startswith("#"):
                rows.append((code, reader.line_num))
    except csv.Error as exc:
        raise SourceError(source, f"not a readable CSV line ({exc})", reader.line_num) from None
    if header is None:
        raise SourceError(source, "is empty: a CSV code list needs a header row", 1)
    return rows


def _column_index(header: list[str], wanted: str, source: str, line: int) -> int:
    names = [name.strip().lstrip("\ufeff").lower() for name in header]
    try:
        return names.index(wanted.strip().lower())
    except ValueError:
        columns = ", ".join(repr(name.strip()) for name in header) or "none"
        raise SourceError(source, f"no column {wanted!r} (columns: {columns})", line) from None


__all__ = ["MAX_CODE_LENGTH", "CodeList", "Duplicate", "ListedCode", "parse_codes", "read_codes"]
