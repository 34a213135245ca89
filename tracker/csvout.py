"""The one way the project writes CSV: every cell a spreadsheet would run as a formula is
neutralized.

A spreadsheet treats a cell starting with `=`, `+`, `-` or `@` as a formula (and tab or CR too,
which some strip before looking), so a CMS description `=HYPERLINK(…)` opened in a report, a
code listing or an annotated claims file could run. Such a cell gets a leading `'` (the OWASP
CSV-injection advice): the value stays readable, and spreadsheets show it as text. The report,
`tracker codes --format csv` and the columns `tracker validate` appends all go through here.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import TextIO

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralize(cell: str) -> str:
    """A cell that no spreadsheet will run as a formula."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


class CsvWriter:
    """`csv.writer` whose rows are neutralized cell by cell."""

    def __init__(self, stream: TextIO, *, lineterminator: str = "\r\n") -> None:
        self._writer = csv.writer(stream, lineterminator=lineterminator)

    def writerow(self, row: Iterable[str]) -> None:
        self._writer.writerow([neutralize(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[str]]) -> None:
        for row in rows:
            self.writerow(row)


def write_csv(
    header: Iterable[str], rows: Iterable[Iterable[str]], *, lineterminator: str = "\r\n"
) -> str:
    """A whole CSV document as text: the header as given, every row neutralized."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=lineterminator).writerow(list(header))
    CsvWriter(buffer, lineterminator=lineterminator).writerows(rows)
    return buffer.getvalue()
