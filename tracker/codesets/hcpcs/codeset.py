"""HCPCS Level II behind the `CodeSet` interface: the one object the shared machinery holds.

Everything here hands on to the modules of this package (the record, its parsers, CMS's file
names and code tables); it only says which of them answers which question of the interface.
"""

from __future__ import annotations

from datetime import date

from tracker.codesets.base import CodeRecord, CodeSet, SourceFile, StoredColumns
from tracker.codesets.hcpcs.codetables import FAMILY_ORDER, code_family
from tracker.codesets.hcpcs.filenames import infer_label
from tracker.codesets.hcpcs.layout import FIELDS
from tracker.codesets.hcpcs.parsers import PARSERS, parse_source
from tracker.codesets.hcpcs.record import (
    CODE_PATTERN,
    MODIFIER_PATTERN,
    ParsedRelease,
    Record,
)
from tracker.release import CODE_SET, parse_label

# Codes are 5 characters, modifiers 2.
CODE_WIDTH = 5


class Hcpcs:
    """CMS's HCPCS Level II code set: procedures and modifiers, released quarterly."""

    name = CODE_SET
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

    def parse(self, source: SourceFile) -> ParsedRelease:
        return parse_source(source)

    def decode_record(self, body: str) -> Record:
        return Record.from_json(body)

    def stored_columns(self, record: CodeRecord) -> StoredColumns:
        if not isinstance(record, Record):
            raise TypeError(f"not an HCPCS record: {type(record).__name__}")
        return StoredColumns(
            added_date=record.added_date,
            termination_date=record.termination_date,
            action_code=record.action_code,
        )

    def infer_label(self, file_name: str) -> str | None:
        label = infer_label(file_name)
        return str(label) if label is not None else None

    def effective_date(self, label: str) -> date:
        return parse_label(label)[0].effective_date

    def family(self, code: str) -> str:
        return code_family(code)

    @property
    def families(self) -> tuple[str, ...]:
        return FAMILY_ORDER


# Typed as the interface, so mypy checks that `Hcpcs` implements all of it.
HCPCS: CodeSet = Hcpcs()
