"""CMS fixed-width text, written the way CMS writes it, so `FixedWidthParser` reads it back.

The writer exists for three callers: the round-trip tests (parse(render(record)) == record),
the sample releases in `snapshots/`, and synthetic releases for the scale benchmark. The last
one is why rendering is plain string concatenation with no per-field objects.

Layout choices copy the real files: first lines are the full 320 bytes; continuation lines stop
after the description slice (91 bytes) as in every release since 2016; anesthesia base units are
right-aligned (`  0`); lines end in CRLF; the text is cp1252.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path

from tracker.codesets.hcpcs.parsers.fixedwidth import looks_like_record
from tracker.codesets.hcpcs.record import Record, RecordKind

RECORD_LENGTH = 320
DESCRIPTION_WIDTH = 80
ENCODING = "cp1252"
NEWLINE = "\r\n"
_BLANK_DATE = " " * 8
_TRAILING_FILLER = " " * 27
_LINE_IDS = {RecordKind.PROCEDURE: ("3", "4"), RecordKind.MODIFIER: ("7", "8")}
_CODE_WIDTH = {RecordKind.PROCEDURE: 5, RecordKind.MODIFIER: 2}
# Lines written per file.write call: large enough to amortize the call, small enough that a
# synthetic release of millions of records never sits in memory whole.
_WRITE_BATCH = 4096


def _fit(value: str, width: int, name: str, code: str) -> str:
    if len(value) > width:
        raise ValueError(f"{code}: {name} {value!r} is longer than {width} characters")
    return value.ljust(width)


def _repeated(values: tuple[str, ...], width: int, count: int, name: str, code: str) -> str:
    if len(values) > count:
        raise ValueError(f"{code}: {name} has {len(values)} values, the layout holds {count}")
    return "".join(_fit(v, width, name, code) for v in values).ljust(width * count)


def _date(value: date | None) -> str:
    # Not strftime: it does not zero-pad years before 1000 on every platform.
    if value is None:
        return _BLANK_DATE
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


def wrap_description(text: str, width: int = DESCRIPTION_WIDTH) -> list[str]:
    """Split a long description at word boundaries into slices of at most `width` characters.

    The parser joins slices with one space, so breaking at a space loses nothing. A single word
    longer than a slice (CMS has none) has to be cut inside the word, and then reads back with a
    space in it; that is the one description this layout cannot carry.
    """
    if len(text) <= width:
        return [text]
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) <= width:
            current = f"{current} {word}"
            continue
        if current:
            lines.append(current)
        while len(word) > width:
            lines.append(word[:width])
            word = word[width:]
        current = word
    if current or not lines:
        lines.append(current)
    return lines


def format_record(record: Record) -> list[str]:
    """The physical lines of one record, without line endings: the first line, then continuations.

    Raises ValueError naming the code and field when a value does not fit its positions, so a
    bad record fails here rather than shifting every later field in the file.
    """
    code = record.code
    kind = record.kind
    if len(code) != _CODE_WIDTH[kind]:
        raise ValueError(f"{kind.value} code {code!r} is not {_CODE_WIDTH[kind]} characters")
    code_field = code.rjust(5)
    first_id, continuation_id = _LINE_IDS[kind]
    slices = wrap_description(record.long_description)
    units = record.anesthesia_base_units
    if units is None:
        units_field = "   "
    elif 0 <= units <= 999:
        units_field = f"{units:3d}"
    else:
        raise ValueError(f"{code}: anesthesia base units {units} do not fit 3 digits")
    first = "".join(
        (
            code_field,
            "00100",
            first_id,
            slices[0].ljust(DESCRIPTION_WIDTH),
            _fit(record.short_description, 28, "short description", code),
            _repeated(record.pricing_indicators, 2, 4, "pricing indicators", code),
            _fit(record.multiple_pricing_indicator, 1, "multiple pricing indicator", code),
            _repeated(record.cim_references, 6, 3, "coverage issues manual references", code),
            _repeated(record.mcm_references, 8, 3, "carriers manual references", code),
            _fit(record.statute, 10, "statute", code),
            _repeated(record.lab_certifications, 3, 8, "lab certifications", code),
            _repeated(record.xrefs, 5, 5, "cross-references", code),
            _fit(record.coverage, 1, "coverage", code),
            _fit(record.asc_group, 2, "ASC group", code),
            _date(record.asc_effective_date),
            _fit(record.mog_group, 3, "MOG group", code),
            _fit(record.mog_indicator, 1, "MOG indicator", code),
            _date(record.mog_effective_date),
            _fit(record.processing_note, 4, "processing note", code),
            _fit(record.betos, 3, "BETOS", code),
            " ",
            _repeated(record.types_of_service, 1, 5, "types of service", code),
            units_field,
            _date(record.added_date),
            _date(record.action_effective_date),
            _date(record.termination_date),
            _fit(record.action_code, 1, "action code", code),
            _TRAILING_FILLER,
        )
    )
    if not first[275:].strip():
        # The parser (like CMS's own readers) takes a first line that ends before position 276
        # for a truncated one, so a record must carry a date or action code there.
        raise ValueError(
            f"{code}: no added date, action effective date, termination date or action code"
        )
    lines = [first]
    for number, text in enumerate(slices[1:], start=2):
        lines.append(f"{code_field}{number:03d}00{continuation_id}{text}".ljust(91))
    return lines


def iter_lines(records: Iterable[Record], preamble: Sequence[str] = ()) -> Iterator[str]:
    """Every line of a release: the preamble (CMS's disclaimer block), then the records."""
    for number, line in enumerate(preamble, start=1):
        if "\r" in line or "\n" in line or looks_like_record(line):
            raise ValueError(f"preamble line {number} would be read as a record or split: {line!r}")
        yield line
    for record in records:
        yield from format_record(record)


def render_release(records: Iterable[Record], preamble: Sequence[str] = ()) -> bytes:
    """The whole file as bytes, CRLF after every line (the last one included), cp1252."""
    lines = list(iter_lines(records, preamble))
    if not lines:
        return b""
    return (NEWLINE.join(lines) + NEWLINE).encode(ENCODING)


def write_release(
    records: Iterable[Record],
    path: str | os.PathLike[str],
    preamble: Sequence[str] = (),
) -> int:
    """Write a release file and return its size in bytes; records are streamed in batches.

    A text that cp1252 cannot encode raises UnicodeEncodeError (a ValueError) rather than being
    replaced, because a silently altered description would no longer round-trip.
    """
    size = 0
    batch: list[str] = []
    with Path(path).open("wb") as out:
        for line in iter_lines(records, preamble):
            batch.append(line)
            if len(batch) >= _WRITE_BATCH:
                size += out.write((NEWLINE.join(batch) + NEWLINE).encode(ENCODING))
                batch.clear()
        if batch:
            size += out.write((NEWLINE.join(batch) + NEWLINE).encode(ENCODING))
    return size
