"""Per-code pages (the format of `../shared/seeds/`): one HCPCS record per page.

A page is prose around lines of the form `<i>Label</i>\\tvalue\\tdescription`, where the labels
are the field names of the CMS record layout without their `HCPCS` prefix, repeated fields
numbered `#1`, `#2`... Each label is mapped to the workbook column it stands for, and the record
is built by the workbook parser's own field mapping, so a page compares equal, field by field,
with the same code read from a CMS file. Labels that only decode a code for people (`Coverage
Code Description`) and page metadata (`Status`, `Last Update Date`) are skipped; any other label
is an error, because silently dropping a field would make the record wrong without a trace.

A file normally holds one page; when it holds several, each `HCPCS Code` line starts a new one.
A directory of pages is stored as a zip of them, which the release-zip parser reads as one
release.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from tracker.codesets.hcpcs.layout import LAYOUT
from tracker.codesets.hcpcs.parsers.base import SourceFile
from tracker.codesets.hcpcs.parsers.fixedwidth import decode, split_lines
from tracker.codesets.hcpcs.parsers.workbook import DATE_COLUMNS, REQUIRED, record_from_values
from tracker.codesets.hcpcs.record import (
    CODE_PATTERN,
    MODIFIER_PATTERN,
    Record,
    RecordKind,
    parse_base_units,
    parse_cms_date,
)
from tracker.errors import ParseError

_LABELLED = re.compile(r"^<i>(?P<label>[^<]*)</i>\t(?P<rest>.*)$")
_DETECT_MARKS = ("<i>HCPCS Code</i>\t", "<i>Code Description</i>\t")
CODE_COLUMN = LAYOUT[0].column
# Layout fields a page may show that are not part of a record, and page metadata.
IGNORED = frozenset(
    {"sequencenumber", "recordidentificationcode", "status", "lastupdatedate", "filler"}
)


def label_key(label: str) -> str:
    """`HCPCS Pricing Indicator Code #1` and `Pricing indicator code 1` are the same field."""
    key = re.sub(r"[^a-z0-9]", "", label.lower())
    if key.startswith("hcpcs") and key != "hcpcscode":
        key = key[len("hcpcs") :]
    return key


def _labels() -> dict[str, str]:
    """Page label key -> the workbook column it stands for, from the layout's page labels."""
    table: dict[str, str] = {}
    for entry in LAYOUT:
        if not entry.repeated:
            for key in entry.page_labels:
                table[key] = entry.column
            continue
        for prefix in entry.page_labels:
            # An unnumbered label means the first of the group.
            table[prefix] = entry.columns[0]
            for number, column in enumerate(entry.columns, start=1):
                table[f"{prefix}{number}"] = column
    return table


LABELS: dict[str, str] = _labels()


@dataclass
class _Page:
    line_number: int
    code: str
    values: dict[str, str]
    lines: dict[str, int] = field(default_factory=dict)


class SeedPageParser:
    name = "seed-page"
    version = "1"

    def detect(self, source: SourceFile) -> bool:
        head = source.data[:16384]
        if b"\x00" in head:
            return False
        text = head.decode("utf-8", errors="replace")
        return any(mark in text for mark in _DETECT_MARKS)

    def parse(self, source: SourceFile) -> Iterator[Record]:
        if b"\x00" in source.data:
            raise ParseError(source.name, "binary content (NUL bytes), not a per-code page")
        try:
            text = source.data.decode("utf-8")
        except UnicodeDecodeError:
            text = decode(source.data)
        page: _Page | None = None
        for number, line in enumerate(split_lines(text), start=1):
            match = _LABELLED.match(line.strip("\r\ufeff"))
            if match is None:
                continue
            label = " ".join(match["label"].split())
            value = html.unescape(match["rest"].split("\t", 1)[0]).strip()
            key = label_key(label)
            column = LABELS.get(key)
            if column is None:
                if key in IGNORED or key.endswith("description"):
                    continue
                raise ParseError(source.name, f"unknown field label {label!r}", number)
            if column == CODE_COLUMN:
                if page is not None:
                    yield self._finish(source, page)
                page = self._start(source, value, number)
                continue
            if page is None:
                raise ParseError(
                    source.name, f"page has no HCPCS Code line before {label!r}", number
                )
            if column in page.lines:
                raise ParseError(
                    source.name,
                    f"{page.code}: field {label!r} appears twice on the page"
                    f" (first on line {page.lines[column]})",
                    number,
                )
            try:
                if column in DATE_COLUMNS:
                    parse_cms_date(value)
                elif column == "ANEST_BU":
                    parse_base_units(value)
            except ValueError as exc:
                raise ParseError(source.name, f"{page.code}: {exc}", number) from None
            page.values[column] = value
            page.lines[column] = number
        if page is not None:
            yield self._finish(source, page)

    @staticmethod
    def _start(source: SourceFile, code: str, number: int) -> _Page:
        if not (CODE_PATTERN.match(code) or MODIFIER_PATTERN.match(code)):
            raise ParseError(source.name, f"HCPCS code {code!r} is malformed", number)
        values = dict.fromkeys(REQUIRED, "")
        values[CODE_COLUMN] = code
        return _Page(number, code, values, {CODE_COLUMN: number})

    @staticmethod
    def _finish(source: SourceFile, page: _Page) -> Record:
        kind = RecordKind.MODIFIER if len(page.code) == 2 else RecordKind.PROCEDURE
        try:
            return record_from_values(page.values, kind, page.values["LONG DESCRIPTION"])
        except ValueError as exc:
            raise ParseError(source.name, f"{page.code}: {exc}", page.line_number) from None
