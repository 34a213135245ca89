"""CMS fixed-width text (`HCPC2020_ANWEB.txt` and its variants back to 2012).

Records are found by content, not by line number: a record line has digits in positions 6-10
and a record id in 11. Lines before the first record are CMS's disclaimer block and are skipped;
any other non-blank line after records have begun is an error, because it means the file was
damaged. Lines are padded to 320 bytes before slicing, since CMS trims trailing blanks in some
years and on continuation lines.
"""

from __future__ import annotations

import codecs
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field

from tracker.errors import ParseError
from tracker.parsers.base import (
    CONTINUATION_IDS,
    FIRST_LINE_IDS,
    SourceFile,
    fast_text,
    fast_tuple,
    first_line_kind,
)
from tracker.record import (
    Record,
    RecordKind,
    parse_asc_fields,
    parse_base_units,
    parse_cms_date,
)

RECORD_LENGTH = 320
# A first line must reach at least the code added date (position 276) to carry its details.
MIN_FIRST_LINE = 276


def decode(data: bytes) -> str:
    """CMS text is cp1252 in practice; bytes cp1252 leaves undefined fall back to latin-1.

    A file re-saved as UTF-8 by an editor starts with a byte-order mark; read as cp1252 it would
    shift the first line by three characters and silently lose the record on it, so such a file
    is read as the UTF-8 it declares (undecodable bytes are kept visible as U+FFFD).
    """
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def split_lines(text: str) -> list[str]:
    """Lines end at CR LF, LF or CR only.

    `str.splitlines` also breaks at form feeds, file separators and NEL, which a damaged or
    hostile description may carry; breaking there would cut a record in two.
    """
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def looks_like_record(line: str) -> bool:
    return len(line) >= 11 and line[5:10].isdigit()


def _slice(line: str, start: int, end: int) -> str:
    """1-based inclusive positions, as the CMS layout documents them."""
    return line[start - 1 : end]


@dataclass
class _Pending:
    line_number: int
    line: str
    kind: RecordKind
    code: str
    long_parts: list[str] = field(default_factory=list)


# Dates repeat thousands of times per release (a few hundred distinct values): parse each once.
_cms_date = functools.lru_cache(maxsize=4096)(parse_cms_date)


def _group(start: int, width: int, count: int) -> tuple[slice, tuple[slice, ...]]:
    """A repeated field's whole span and each slot's slice (1-based start, as documented)."""
    first = start - 1
    parts = tuple(slice(first + i * width, first + (i + 1) * width) for i in range(count))
    return slice(first, first + width * count), parts


_PRICE = _group(120, 2, 4)
_CIM = _group(129, 6, 3)
_MCM = _group(147, 8, 3)
_LABCERT = _group(181, 3, 8)
_XREF = _group(205, 5, 5)
_TOS = _group(261, 1, 5)


def _slots(line: str, group: tuple[slice, tuple[slice, ...]]) -> tuple[str, ...]:
    """A repeated field's slots, trailing blanks dropped; most are blank and skip slicing."""
    span = line[group[0]]
    if not span or span.isspace():
        return ()
    return fast_tuple(list(map(line.__getitem__, group[1])))


def record_from_line(line: str, kind: RecordKind, long_description: str) -> Record:
    """Build a record from a padded first line; raises ValueError naming the bad field.

    Slices are written 0-based here (`line[230:232]` is layout positions 231-232): a function
    call per field was a third of the parse.
    """
    asc_group, asc_date = parse_asc_fields(line[230:232], line[232:240])
    return Record(
        code=line[0:5].strip(),
        kind=kind,
        long_description=fast_text(long_description),
        short_description=fast_text(line[91:119]),
        pricing_indicators=_slots(line, _PRICE),
        multiple_pricing_indicator=line[127:128].strip(),
        cim_references=_slots(line, _CIM),
        mcm_references=_slots(line, _MCM),
        statute=fast_text(line[170:180]),
        lab_certifications=_slots(line, _LABCERT),
        xrefs=_slots(line, _XREF),
        coverage=line[229:230].strip(),
        asc_group=asc_group,
        asc_effective_date=asc_date,
        mog_group=line[240:243].strip(),
        mog_indicator=line[243:244].strip(),
        mog_effective_date=_cms_date(line[244:252]),
        processing_note=line[252:256].strip(),
        betos=line[256:259].strip(),
        types_of_service=_slots(line, _TOS),
        anesthesia_base_units=parse_base_units(line[265:268]),
        added_date=_cms_date(line[268:276]),
        action_effective_date=_cms_date(line[276:284]),
        termination_date=_cms_date(line[284:292]),
        action_code=line[292:293].strip(),
    )


class FixedWidthParser:
    name = "cms-fixed-width"
    version = "1"

    def detect(self, source: SourceFile) -> bool:
        head = decode(source.data[:16384])
        lines = split_lines(head)[:60]
        hits = sum(
            1
            for line in lines
            if looks_like_record(line) and line[10:11] in "3478" and len(line.rstrip()) >= 20
        )
        return hits >= 1 and b"\x00" not in source.data[:16384]

    def parse(self, source: SourceFile) -> Iterator[Record]:
        if b"\x00" in source.data:
            raise ParseError(source.name, "binary content (NUL bytes), not CMS fixed-width text")
        pending: _Pending | None = None
        seen_record = False
        first_line_of: dict[str, int] = {}
        for number, raw in enumerate(split_lines(decode(source.data)), start=1):
            line = raw.rstrip("\x1a")
            if not line.strip():
                continue
            if not looks_like_record(line):
                if seen_record:
                    raise ParseError(
                        source.name, "line is not a record (no sequence number in 6-10)", number
                    )
                continue
            seen_record = True
            if len(line) > RECORD_LENGTH and not line[RECORD_LENGTH:].isspace():
                raise ParseError(
                    source.name,
                    f"line is {len(line)} characters long, a record has {RECORD_LENGTH}",
                    number,
                )
            record_id = line[10]
            code = line[0:5].strip()
            if record_id in FIRST_LINE_IDS:
                if pending is not None:
                    yield self._finish(source, pending)
                kind = first_line_kind(source.name, record_id, code, number)
                if len(line.rstrip()) < MIN_FIRST_LINE:
                    raise ParseError(
                        source.name,
                        f"record for {code} is truncated ({len(line.rstrip())} bytes,"
                        f" expected {RECORD_LENGTH})",
                        number,
                    )
                if code in first_line_of:
                    raise ParseError(
                        source.name,
                        f"code {code} appears twice (first on line {first_line_of[code]})",
                        number,
                    )
                first_line_of[code] = number
                pending = _Pending(number, line.ljust(RECORD_LENGTH), kind, code)
                pending.long_parts.append(_slice(line, 12, 91))
            elif record_id in CONTINUATION_IDS:
                if pending is None or pending.code != code:
                    raise ParseError(
                        source.name,
                        f"continuation line for {code!r} does not follow that code's first line",
                        number,
                    )
                pending.long_parts.append(_slice(line, 12, 91))
            else:
                raise ParseError(
                    source.name, f"record id {record_id!r} is not 3, 4, 7 or 8", number
                )
        if pending is not None:
            yield self._finish(source, pending)
        if not seen_record:
            raise ParseError(source.name, "no HCPCS records found")

    @staticmethod
    def _finish(source: SourceFile, pending: _Pending) -> Record:
        try:
            return record_from_line(
                pending.line, pending.kind, " ".join(p.strip() for p in pending.long_parts)
            )
        except ValueError as exc:
            raise ParseError(source.name, f"{pending.code}: {exc}", pending.line_number) from None
