"""HCPCS Level II behind the `CodeSet` interface: the one object the shared machinery holds.

Everything here hands on to the modules of this package (the record, its parsers, CMS's file
names, labels and code tables); it only says which of them answers which question of the
interface.
"""

from __future__ import annotations

from datetime import date

from tracker.codesets.base import (
    CodeRecord,
    CodeSet,
    LabelParts,
    ParsedRelease,
    RecordDates,
    SourceFile,
    StoredColumns,
    YearSpan,
)
from tracker.codesets.hcpcs.calendar import year_quarters
from tracker.codesets.hcpcs.codetables import FAMILY_ORDER, code_family
from tracker.codesets.hcpcs.filenames import label_from_names
from tracker.codesets.hcpcs.labels import label_parts, parse_label
from tracker.codesets.hcpcs.layout import FIELDS
from tracker.codesets.hcpcs.parsers import PARSERS, parse_source
from tracker.codesets.hcpcs.record import CODE_PATTERN, MODIFIER_PATTERN, Record

# Codes are 5 characters, modifiers 2.
CODE_WIDTH = 5


def _record(record: CodeRecord) -> Record:
    if not isinstance(record, Record):
        raise TypeError(f"not an HCPCS record: {type(record).__name__}")
    return record


class Hcpcs:
    """CMS's HCPCS Level II code set: procedures and modifiers, released quarterly."""

    name = "hcpcs"
    title = "HCPCS Level II"
    code_width = CODE_WIDTH
    has_end_dates = True
    fields = FIELDS

    def normalize_code(self, text: str) -> str | None:
        code = text.strip().upper()
        if CODE_PATTERN.match(code) or MODIFIER_PATTERN.match(code):
            return code
        return None

    def display_code(self, code: str) -> str:
        return code

    def detect(self, source: SourceFile) -> bool:
        return any(parser.detect(source) for parser in PARSERS)

    def parse(self, source: SourceFile) -> ParsedRelease[Record]:
        return parse_source(source)

    def decode_record(self, body: str) -> Record:
        return Record.from_json(body)

    def stored_columns(self, record: CodeRecord) -> StoredColumns:
        hcpcs = _record(record)
        return StoredColumns(
            added_date=hcpcs.added_date,
            termination_date=hcpcs.termination_date,
            action_code=hcpcs.action_code,
        )

    def infer_label(self, file_name: str) -> str | None:
        label = label_from_names(file_name)
        return str(label) if label is not None else None

    def parse_label(self, text: str) -> LabelParts:
        return label_parts(text)

    def effective_date(self, label: str) -> date:
        return parse_label(label)[0].effective_date

    def claim_status(self, record: CodeRecord) -> str | None:
        # Every carried HCPCS code may be billed while it is valid; its dates say when.
        return None

    def record_dates(self, record: CodeRecord) -> RecordDates:
        # The record carries the dates itself, under the names `RecordDates` reads.
        return _record(record)

    def describe(self, record: CodeRecord) -> str:
        return _record(record).long_description

    def replaced_by(self, record: CodeRecord) -> tuple[str, ...]:
        return _record(record).xrefs

    def family(self, code: str) -> str:
        return code_family(code)

    @property
    def families(self) -> tuple[str, ...]:
        return FAMILY_ORDER

    def year_span(self, year: int) -> YearSpan:
        # The calendar year: the releases taking effect in it, its four quarters expected.
        return YearSpan(
            name=str(year),
            start=date(year, 1, 1),
            end=date(year, 12, 31),
            opens_with_release_in_force=False,
            expected=tuple(str(quarter) for quarter in year_quarters(year)),
        )


# Typed as the interface, so mypy checks that `Hcpcs` implements all of it.
HCPCS: CodeSet = Hcpcs()
