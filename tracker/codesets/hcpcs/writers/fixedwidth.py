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
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from tracker.codesets.hcpcs.layout import (
    BY_NAME,
    DESCRIPTION,
    LAYOUT,
    LayoutField,
    Value,
)
from tracker.codesets.hcpcs.parsers.fixedwidth import looks_like_record
from tracker.codesets.hcpcs.record import Record, RecordKind

DESCRIPTION_WIDTH = DESCRIPTION.width
ENCODING = "cp1252"
NEWLINE = "\r\n"
_BLANK_DATE = " " * BY_NAME["added_date"].width
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


def _units(units: int | None, code: str) -> str:
    """Anesthesia base units right-aligned (`  0`), as CMS writes them."""
    if units is None:
        return " " * _UNITS.width
    if 0 <= units < 10**_UNITS.width:
        return f"{units:{_UNITS.width}d}"
    raise ValueError(f"{code}: {_UNITS.noun} {units} do not fit {_UNITS.width} digits")


def _writer(entry: LayoutField) -> Callable[[Any, str], str]:
    """How the value of a record field is written at its positions."""
    if entry.value is Value.DATE:
        return lambda value, _code: _date(value)
    if entry.value is Value.COUNT:
        return _units
    if entry.repeated:
        width, slots, noun = entry.width, entry.slots, entry.noun
        return lambda values, code: _repeated(values, width, slots, noun, code)
    width, noun = entry.width, entry.noun
    return lambda value, code: _fit(value, width, noun, code)


_UNITS = BY_NAME["anesthesia_base_units"]
# The fields after the long description's first slice that a record's values fill, each with
# its writer; `None` for filler, written blank.
_AFTER_DESCRIPTION = tuple(
    (entry, None if not entry.name else _writer(entry))
    for entry in LAYOUT[LAYOUT.index(DESCRIPTION) + 1 :]
)
# The first line must reach this position (see `format_record`).
_DETAILS_FROM = BY_NAME["added_date"].end


def format_record(record: Record) -> list[str]:
    """The physical lines of one record, without line endings: the first line, then continuations.

    Raises ValueError naming the code and field when a value does not fit its positions, so a
    bad record fails here rather than shifting every later field in the file.
    """
    code = record.code
    kind = record.kind
    if len(code) != _CODE_WIDTH[kind]:
        raise ValueError(f"{kind.value} code {code!r} is not {_CODE_WIDTH[kind]} characters")
    code_field = code.rjust(LAYOUT[0].width)
    first_id, continuation_id = _LINE_IDS[kind]
    slices = wrap_description(record.long_description)
    # The sequence number is the line's number in the record, then 00 (`00100`, `00200`...).
    parts = [
        code_field,
        f"{1:03d}00",
        first_id,
        slices[0].ljust(DESCRIPTION.width),
    ]
    for entry, write in _AFTER_DESCRIPTION:
        if write is None:
            parts.append(" " * entry.width * entry.slots)
        else:
            parts.append(write(getattr(record, entry.name), code))
    first = "".join(parts)
    if not first[_DETAILS_FROM - 1 :].strip():
        # The parser (like CMS's own readers) takes a first line that ends before position 276
        # for a truncated one, so a record must carry a date or action code there.
        raise ValueError(
            f"{code}: no added date, action effective date, termination date or action code"
        )
    lines = [first]
    for number, text in enumerate(slices[1:], start=2):
        lines.append(f"{code_field}{number:03d}00{continuation_id}{text}".ljust(DESCRIPTION.end))
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
