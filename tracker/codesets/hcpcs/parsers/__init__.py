"""Source formats and the registry that picks one.

`parse_source` is the single entry point: it asks each parser, in order, whether it recognises
the bytes, parses with the first that does, and checks what every release must satisfy (at
least one record, no code twice). Order matters: containers (zip) first, then binary formats,
then text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from tracker.codesets.base import ParsedRelease, SourceMember
from tracker.codesets.hcpcs.parsers.base import Parser, SourceFile, looks_utf16
from tracker.codesets.hcpcs.parsers.cmszip import CmsZipParser
from tracker.codesets.hcpcs.parsers.fixedwidth import FixedWidthParser
from tracker.codesets.hcpcs.parsers.seedpage import SeedPageParser
from tracker.codesets.hcpcs.parsers.workbook import WorkbookParser
from tracker.codesets.hcpcs.record import Record
from tracker.errors import ParseError

PARSERS: list[Parser] = [CmsZipParser(), WorkbookParser(), FixedWidthParser(), SeedPageParser()]


def find_parser(source: SourceFile, parsers: Sequence[Parser] | None = None) -> Parser:
    for parser in parsers if parsers is not None else PARSERS:
        if parser.detect(source):
            return parser
    if not source.data:
        raise ParseError(source.name, "file is empty")
    if looks_utf16(source.data):
        raise ParseError(
            source.name,
            "text is UTF-16 encoded; CMS releases are single-byte text (ASCII or Windows-1252):"
            " save it as ANSI or UTF-8",
        )
    raise ParseError(
        source.name,
        "not a release of a code set the tracker knows (expected CMS's HCPCS fixed-width text,"
        " workbook, release zip or per-code pages, or an ICD-10-CM/PCS order file or zip)",
    )


def check_unique(source_name: str, records: Sequence[Record]) -> None:
    seen: set[str] = set()
    for index, record in enumerate(records, start=1):
        if record.code in seen:
            raise ParseError(source_name, f"code {record.code} appears twice (record {index})")
        seen.add(record.code)


def parse_source(source: SourceFile) -> ParsedRelease:
    """Parse one source file into a release; containers report which member held the data."""
    parser = find_parser(source)
    parse_release = getattr(parser, "parse_release", None)
    if parse_release is not None:
        release: ParsedRelease = parse_release(source)
        where = source.name if release.data_member == source.name else None
        check_unique(where or f"{source.name}!{release.data_member}", release.records)
        return release
    records = tuple(parser.parse(source))
    if not records:
        raise ParseError(source.name, "no HCPCS records found")
    check_unique(source.name, records)
    member = SourceMember(
        name=source.name,
        size=len(source.data),
        sha256=hashlib.sha256(source.data).hexdigest(),
        is_data=True,
    )
    return ParsedRelease(
        records=records,
        parser=parser.name,
        parser_version=parser.version,
        data_member=source.name,
        members=(member,),
    )
