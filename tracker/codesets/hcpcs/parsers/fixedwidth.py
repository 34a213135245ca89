"""CMS fixed-width text (`HCPC2020_ANWEB.txt` and its variants back to 2012).

Records are found by content, not by line number: a record line has digits in positions 6-10
and a record id in 11. Lines before the first record are CMS's disclaimer block and are skipped;
any other non-blank line after records have begun is an error, because it means the file was
damaged. Lines are padded to 320 bytes before slicing, since CMS trims trailing blanks in some
years and on continuation lines.

CMS's own files carry editor debris, which is repaired and recorded as an `Anomaly` of the
release, never silently: a stray byte before the code (`` `  A1001007``), a TAB inside the long
description standing for the spaces an editor replaced (the number of spaces is the one that
brings the line back to the file's usual length for that kind of line, since tab stops differ
between files), and a record padded with blanks past 320 characters. A repaired line must then
parse (record id in 11, dates valid, action code known); a line that no repair, or more than
one, brings back to the layout is an error naming file and line.
"""

from __future__ import annotations

import codecs
import hashlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from tracker.codesets.base import Anomaly, ParsedRelease, SourceMember
from tracker.codesets.hcpcs.codetables import ACTION_CODES
from tracker.codesets.hcpcs.layout import (
    BY_NAME,
    DESCRIPTION,
    LAYOUT,
    RECORD_FIELDS,
    RECORD_LENGTH,
    LayoutField,
)
from tracker.codesets.hcpcs.parsers.base import (
    CONTINUATION_IDS,
    FIRST_LINE_IDS,
    SourceFile,
    fast_tuple,
    first_line_kind,
)
from tracker.codesets.hcpcs.parsers.build import RecordBuilder
from tracker.codesets.hcpcs.record import (
    CODE_PATTERN,
    MODIFIER_PATTERN,
    Record,
    RecordKind,
)
from tracker.errors import ParseError

# A first line must reach at least the end of the code added date (position 276) to carry
# its details.
MIN_FIRST_LINE = BY_NAME["added_date"].end
# Where a line says what it is: code, sequence number (digits on every record line), record id.
_CODE = BY_NAME["code"].span
_SEQUENCE = LAYOUT[1].span
_RECORD_ID = BY_NAME["kind"].start - 1
_ADDED_DATE = BY_NAME["added_date"].span
_ACTION_CODE = BY_NAME["action_code"].span
# At most this many stray bytes before a code are taken for debris; a TAB stands for at most
# this many spaces (the widest tab stop an editor uses).
MAX_STRAY = 3
MAX_TAB_WIDTH = 16


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
    return len(line) >= 11 and line[_SEQUENCE].isdigit()


@dataclass
class _Pending:
    line_number: int
    line: str
    kind: RecordKind
    code: str
    long_parts: list[str] = field(default_factory=list)


def _slots(field: LayoutField) -> Callable[[str], tuple[str, ...]]:
    """A repeated field's slots from its text, trailing blanks dropped."""
    width, count = field.width, field.slots
    parts = tuple(slice(i * width, (i + 1) * width) for i in range(count))

    def read(span: str) -> tuple[str, ...]:
        # Most repeated fields are blank, and skip slicing.
        if not span or span.isspace():
            return ()
        return fast_tuple(list(map(span.__getitem__, parts)))

    return read


# Each field's slice of a padded first line.
_BUILDER = RecordBuilder({field.name: field.span for field in RECORD_FIELDS}, _slots)


def record_from_line(line: str, kind: RecordKind, long_description: str) -> Record:
    """Build a record from a padded first line; raises ValueError naming the bad field."""
    return _BUILDER.build(line.__getitem__, line[_CODE].strip(), kind, long_description)


class FixedWidthParser:
    name = "cms-fixed-width"
    version = "1"

    def detect(self, source: SourceFile) -> bool:
        head = decode(source.data[:16384])
        lines = split_lines(head)[:60]
        hits = sum(
            1
            for line in lines
            if (looks_like_record(line) and line[10:11] in "3478" and len(line.rstrip()) >= 20)
            or _stray_prefix(line) is not None
        )
        return hits >= 1 and b"\x00" not in source.data[:16384]

    def parse(self, source: SourceFile) -> Iterator[Record]:
        """Records only; `parse_release` also returns the repairs made (what ingest stores)."""
        yield from self.read(source)[0]

    def parse_release(self, source: SourceFile) -> ParsedRelease:
        records, anomalies = self.read(source)
        if not records:
            raise ParseError(source.name, "no HCPCS records found")
        member = SourceMember(
            name=source.name,
            size=len(source.data),
            sha256=hashlib.sha256(source.data).hexdigest(),
            is_data=True,
        )
        return ParsedRelease(
            records=tuple(records),
            parser=self.name,
            parser_version=self.version,
            data_member=source.name,
            members=(member,),
            anomalies=tuple(anomalies),
        )

    def read(self, source: SourceFile) -> tuple[list[Record], list[Anomaly]]:
        """Every record of the file and every repair made to read it."""
        anomalies: list[Anomaly] = []
        records = list(self._records(source, anomalies))
        return records, anomalies

    def _records(self, source: SourceFile, anomalies: list[Anomaly]) -> Iterator[Record]:
        if b"\x00" in source.data:
            raise ParseError(source.name, "binary content (NUL bytes), not CMS fixed-width text")
        pending: _Pending | None = None
        seen_record = False
        first_line_of: dict[str, int] = {}
        lines = split_lines(decode(source.data))
        usual: dict[bool, int | None] | None = None
        for number, raw in enumerate(lines, start=1):
            line = raw.rstrip("\x1a")
            if not line.strip():
                continue
            # A record starts with its code (letters, digits, blanks for a modifier's padding);
            # anything else in front is debris when what follows fits the layout.
            stray = None if line[0] == " " or line[0].isalnum() else _stray_prefix(line)
            if stray is not None:
                line = line[len(stray) :]
                anomalies.append(
                    Anomaly(
                        source.name,
                        number,
                        "stray-byte",
                        f"removed {stray!r} before code {line[_CODE].strip()}",
                    )
                )
            if not looks_like_record(line):
                if seen_record:
                    raise ParseError(
                        source.name, "line is not a record (no sequence number in 6-10)", number
                    )
                continue
            seen_record = True
            if "\t" in line:
                if usual is None:
                    usual = _usual_lengths(lines)
                line = _expand_tab(source.name, number, line, usual, anomalies)
            if len(line) > RECORD_LENGTH:
                if not line[RECORD_LENGTH:].isspace():
                    raise ParseError(
                        source.name,
                        f"line is {len(line)} characters long, a record has {RECORD_LENGTH}",
                        number,
                    )
                anomalies.append(
                    Anomaly(
                        source.name,
                        number,
                        "padding",
                        f"record padded with blanks to {len(line)} characters;"
                        f" blanks after position {RECORD_LENGTH} dropped",
                    )
                )
                line = line[:RECORD_LENGTH]
            record_id = line[_RECORD_ID]
            code = line[_CODE].strip()
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
                pending.long_parts.append(line[DESCRIPTION.span])
            elif record_id in CONTINUATION_IDS:
                if pending is None or pending.code != code:
                    raise ParseError(
                        source.name,
                        f"continuation line for {code!r} does not follow that code's first line",
                        number,
                    )
                pending.long_parts.append(line[DESCRIPTION.span])
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


# --- Repairing editor debris ------------------------------------------------------------------


def _code_fits(line: str) -> bool:
    """Code, sequence number and record id in place, as a record line of the layout has them."""
    if not looks_like_record(line) or line[_RECORD_ID] not in "3478":
        return False
    pattern = MODIFIER_PATTERN if line[_RECORD_ID] in "78" else CODE_PATTERN
    return pattern.match(line[_CODE].strip()) is not None


def _stray_prefix(line: str) -> str | None:
    """The stray bytes before a code (neither letter, digit nor blank), if removing them leaves a
    record line whose code, sequence number and record id fit the layout."""
    for size in range(1, MAX_STRAY + 1):
        prefix = line[:size]
        if not prefix or any(ch.isalnum() or ch == " " for ch in prefix):
            return None
        if _code_fits(line[size:]):
            return prefix
    return None


def _usual_lengths(lines: Sequence[str]) -> dict[bool, int | None]:
    """The length most record lines of the file have, for first lines and continuation lines.

    CMS writes each kind of line at one length per file (320, or trimmed to 293 and 91); a
    length only counts as usual when most lines without a TAB have it.
    """
    counts: dict[bool, Counter[int]] = {True: Counter(), False: Counter()}
    for raw in lines:
        line = raw.rstrip("\x1a")
        if "\t" not in line and looks_like_record(line) and line[_RECORD_ID] in "3478":
            counts[line[_RECORD_ID] in "37"][len(line)] += 1
    usual: dict[bool, int | None] = {}
    for first, counter in counts.items():
        common = counter.most_common(1)
        total = sum(counter.values())
        usual[first] = common[0][0] if common and 2 * common[0][1] > total else None
    return usual


def _consistent(line: str, *, blank_filler: bool) -> bool:
    """Does the repaired line read as the layout: record id, dates and action code valid?

    Without a usual length to go by, the filler after the action code must be blank too.
    """
    if not _code_fits(line) or len(line) > RECORD_LENGTH:
        return False
    if line[_RECORD_ID] in "48":
        return "\t" not in line and not line[DESCRIPTION.end :].strip()
    padded = line.ljust(RECORD_LENGTH)
    if len(line.rstrip()) < MIN_FIRST_LINE or padded[_ADDED_DATE].strip() == "":
        return False
    action = padded[_ACTION_CODE].strip()
    if action and action not in ACTION_CODES:
        return False
    if blank_filler and padded[_ACTION_CODE.stop :].strip():
        return False
    try:
        record_from_line(padded, FIRST_LINE_IDS[line[_RECORD_ID]], "")
    except ValueError:
        return False
    return True


def _expand_tab(
    file: str,
    number: int,
    line: str,
    usual: dict[bool, int | None],
    anomalies: list[Anomaly],
) -> str:
    """Replace the TAB(s) with the spaces that bring the line back to the layout, or fail.

    Candidates: a single TAB as 1-16 spaces; several TABs as the editor's tab stops of width
    1-16 would expand them. Those of the file's usual length for the kind of line that parse
    consistently are kept; exactly one distinct line must remain.
    """
    expected = usual[line[_RECORD_ID] in "37"]
    tabs = line.count("\t")
    candidates: dict[str, int] = {}
    for width in range(1, MAX_TAB_WIDTH + 1):
        candidate = line.replace("\t", " " * width) if tabs == 1 else line.expandtabs(width)
        if expected is not None and len(candidate) != expected:
            continue
        if _consistent(candidate, blank_filler=expected is None):
            candidates.setdefault(candidate, width)
    where = f"TAB{'s' if tabs > 1 else ''} at position {line.index(chr(9)) + 1}"
    if not candidates:
        length = f"the usual length of {expected}" if expected else "a consistent layout"
        raise ParseError(
            file, f"{where}: no number of spaces brings the line back to {length}", number
        )
    if len(candidates) > 1:
        widths = ", ".join(str(w) for w in candidates.values())
        raise ParseError(
            file,
            f"{where}: ambiguous, several expansions fit the layout"
            f" ({'spaces' if tabs == 1 else 'tab widths'} {widths})",
            number,
        )
    repaired, width = next(iter(candidates.items()))
    what = f"{width} space{'s' if width > 1 else ''}" if tabs == 1 else f"tab stops of {width}"
    anomalies.append(
        Anomaly(
            file,
            number,
            "tab",
            f"{where} in the record of {repaired[_CODE].strip()} expanded to {what}"
            f" (line length {len(line)} -> {len(repaired)})",
        )
    )
    return repaired
