"""Date-of-service validation of claims files, streamed in chunks of rows.

A claim may carry several codes of one code set (an ICD-10-CM claim has up to twelve
diagnoses): each `code_column` is checked on the row's date of service and gets its own answer
columns, named after it (`dx1_status`, `dx1_meaning`, …; `NAMED_COLUMNS`). A run of one HCPCS
column keeps the answer columns it always had (`OUTPUT_COLUMNS`, `hcpcs_status`, …), byte for
byte. Codes are read in any case and with or without a dot; the answers show them as people
write them (ICD-10-CM `E11.9`). Code sets without end dates (ICD-10) say what a claim needs to
hear: `valid`, `header (not billable)`, `deleted` (with its last valid day and replacements),
`not yet valid`, `unknown`; HCPCS keeps its words (`active`, `terminated`, …).

A claims file can be far larger than memory, so it is read and written a bounded chunk of lines
at a time; only the code index (one release's worth of records) and bounded caches of answers
are held.
A row that cannot be checked (no code, a date in no known format, too few or too many fields,
a line over `LINE_LIMIT`) is reported with its physical line number and marked `error` in the
output, its message in `hcpcs_error`; it never stops the run. A quoted field that is never
closed would swallow the rest of the file as one row, so it stops the run naming its line.
"""

from __future__ import annotations

import bisect
import codecs
import csv
import io
import itertools
import operator
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TextIO, cast

from tracker.codesets.base import CodeSet
from tracker.csvout import neutralize
from tracker.dates import parse_service_date
from tracker.errors import SourceError
from tracker.query import CodeIndex, CodeState, Status
from tracker.validity import Closure

OUTPUT_COLUMNS = (
    "hcpcs_status",
    "hcpcs_description",
    "hcpcs_termination_date",
    "hcpcs_replacements",
    "hcpcs_release",
    "hcpcs_error",
)
# The answer columns of each code column when there are several (or the code set is not
# HCPCS), each prefixed by the column's name: `dx1_status`.
NAMED_COLUMNS = ("status", "meaning", "last_valid_day", "replacements", "release", "error")
ERROR_STATUS = "error"
# ICD-10's words for the shared statuses: a code is carried by the release in force or not.
ICD10_WORDS = {
    Status.ACTIVE: "valid",
    Status.NOT_BILLABLE: "header (not billable)",
    Status.REMOVED: "deleted",
    Status.TERMINATED: "deleted",
    Status.NOT_YET_EFFECTIVE: "not yet valid",
    Status.UNKNOWN: "unknown",
}
# Interval ends after which a code of a set without end dates is deleted.
_CLOSED = frozenset({Closure.REMOVED, Closure.TERMINATED})
# The statuses that let a claim through, in either vocabulary.
VALID_STATUSES = frozenset({Status.ACTIVE.value, ICD10_WORDS[Status.ACTIVE]})
CACHE_LIMIT = 50_000
BAD_ROWS_KEPT = 50
# The file is read this many characters of whole lines at a time (a few thousand rows): large
# enough that per-chunk costs vanish, small enough that memory stays flat.
CHUNK_CHARS = 1 << 17
# A physical line (or a row spanning lines) longer than this is not read into memory: the line
# is skipped and reported, so a file with a 1 GiB line still runs in bounded memory.
LINE_LIMIT = 1 << 20
# Bytes read at a time when checking which encoding a file is in.
_SCAN_BYTES = 1 << 20


@dataclass
class ValidationSummary:
    """What a run found. `statuses` counts each code checked (one per row with one code
    column; with several, every code given, plus one `error` per row that could not be
    checked), `invalid_codes` the codes as people write them."""

    rows: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    invalid_codes: Counter[str] = field(default_factory=Counter)
    bad_rows: list[tuple[int, str]] = field(default_factory=list)
    bad_row_count: int = 0
    columns: tuple[str, ...] = ()

    @property
    def invalid(self) -> int:
        """Codes (rows, with one code column) that would not pass on a claim."""
        return sum(n for status, n in self.statuses.items() if status not in VALID_STATUSES)

    @property
    def codes(self) -> int:
        """Codes checked (and rows that could not be)."""
        return sum(self.statuses.values())


# An enum's `.value` goes through a Python-level descriptor; ~65,000 answers per run read it.
_STATUS_TEXT = {status: status.value for status in Status}
# A field holding none of these is written by the csv module exactly as it is.
_CSV_SPECIAL = re.compile(r'[,"\r\n\x00]')


def _answer(code_set: CodeSet, state: CodeState) -> tuple[str, ...]:
    meaning = state.meaning
    record = state.status_record
    if code_set.has_end_dates:
        termination = code_set.record_dates(record).termination_date if record else None
        status = _STATUS_TEXT[state.status]
    else:
        # No end dates: the last valid day is where the interval closed (a deleted code's,
        # or a valid code's already known to be deleted by a later release).
        interval = state.interval
        ended = interval is not None and interval.closure in _CLOSED
        termination = interval.end if ended and interval is not None else None
        status = ICD10_WORDS[state.status]
    replacements = state.replacements
    release = state.meaning_release
    display = code_set.display_code
    # The appended cells go through the shared CSV neutralizing (a description may start with
    # `=`); it is paid once per distinct answer, not per row. Input cells are copied as read.
    return (
        status,
        neutralize(code_set.describe(meaning)) if meaning else "",
        termination.isoformat() if termination else "",
        " ".join([display(r.code) for r in replacements]) if replacements else "",
        release.display if release else "",
        "",
    )


def answer_columns(code_set: CodeSet, names: Sequence[str]) -> tuple[str, ...]:
    """The columns appended to each row: today's `hcpcs_*` for one HCPCS column, else each
    column's `NAMED_COLUMNS` prefixed by its name, in the order the columns were given."""
    if len(names) == 1 and code_set.has_end_dates:
        return OUTPUT_COLUMNS
    return tuple(f"{name}_{suffix}" for name in names for suffix in NAMED_COLUMNS)


def _column(header: list[str], wanted: str, source_name: str) -> int:
    lowered = [name.strip().lower() for name in header]
    try:
        return lowered.index(wanted.strip().lower())
    except ValueError:
        columns = ", ".join(header) or "none"
        raise SourceError(source_name, f"no column {wanted!r} (columns: {columns})", 1) from None


def claims_encoding(path: Path, encoding: str | None = None) -> str:
    """The encoding to read `path` in and write its annotated copy in.

    Given `encoding`, the whole file must decode in it. Otherwise UTF-8 if the file decodes as
    UTF-8 (`utf-8-sig` when it starts with a byte-order mark, `utf-16` with a UTF-16 one), else
    Windows-1252, else Latin-1 (which decodes any bytes): claims exported on Windows are often
    1252, and reading them as UTF-8 would turn every accented byte into U+FFFD. Each of these
    decodes and re-encodes to the same bytes, so pass-through columns keep their bytes.
    """
    if encoding is not None:
        try:
            name = codecs.lookup(encoding).name
        except LookupError:
            raise SourceError("--encoding", f"unknown encoding {encoding!r}") from None
    if not path.is_file():
        # A pipe (`<(zcat claims.csv.gz)`) can be read only once: no scan ahead.
        return name if encoding is not None else "utf-8-sig"
    with path.open("rb") as raw:
        start = raw.read(4)
    if encoding is not None:
        if name == "utf-8" and start.startswith(codecs.BOM_UTF8):
            name = "utf-8-sig"
        offset = _undecodable_at(path, name)
        if offset is not None:
            raise SourceError(
                path.name,
                f"not {encoding} text (byte {offset + 1} of the file)",
                _line_of(path, offset),
            )
        return name
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for name in ("utf-8", "cp1252"):
        if _undecodable_at(path, name) is None:
            return "utf-8-sig" if name == "utf-8" and start.startswith(codecs.BOM_UTF8) else name
    return "latin-1"


def output_encoding(encoding: str) -> str:
    """The annotated copy's encoding: the input's, without adding a byte-order mark."""
    return "utf-8" if encoding == "utf-8-sig" else encoding


def _undecodable_at(path: Path, encoding: str) -> int | None:
    """The offset of the first byte that does not decode in `encoding`, or None."""
    decoder = codecs.getincrementaldecoder(encoding)()
    ascii_safe = codecs.lookup(encoding).name in ("utf-8", "cp1252", "iso8859-1")
    offset = 0
    with path.open("rb") as raw:
        while True:
            block = raw.read(_SCAN_BYTES)
            pending = len(decoder.getstate()[0])
            if not (ascii_safe and not pending and block.isascii()):
                try:
                    decoder.decode(block, final=not block)
                except UnicodeDecodeError as exc:
                    return max(offset - pending + exc.start, 0)
            if not block:
                return None
            offset += len(block)


def _line_of(path: Path, offset: int) -> int:
    """The physical line holding byte `offset`."""
    lines = 1
    with path.open("rb") as raw:
        while offset > 0:
            block = raw.read(min(_SCAN_BYTES, offset))
            if not block:
                break
            lines += block.count(b"\n")
            offset -= len(block)
    return lines


def validate_claims(
    index: CodeIndex,
    rows_in: TextIO,
    rows_out: TextIO | None,
    *,
    code_column: str | Sequence[str],
    date_column: str,
    source_name: str,
) -> ValidationSummary:
    """Check every row's code(s) on its date of service; append the answer columns to
    `rows_out`. `code_column` is one column or several; with several, the first must hold a
    code on every row and the others may be blank (a claim's secondary diagnoses).

    For a well-formed file the output is, byte for byte, what `csv.writer(lineterminator="\n")`
    writes for each row `csv.reader` reads plus its answer columns. The csv module's per-field
    cost was most of a million-row run, so it is paid only where it can change the result: a
    line without a quote, NUL or stray CR reads as `line.split(",")`, and writing those fields
    back gives the line itself, so such a line is copied as text and followed by its answer
    columns, rendered once per distinct answer. The file is read in chunks of lines; a chunk of
    such lines, all as wide as the header, is answered with C-level `map`s (no Python code per
    row), any other chunk line by line, its quoted lines through one `csv.reader` fed from the
    same lines, so a quoted field spanning lines (even past the chunk) reads exactly as before.

    Rows are kept aligned with the header: a row with too few fields is padded, one with too
    many cut to the header's width, and either is an `error` row.
    """
    limit = csv.field_size_limit()
    # Rows are bounded by LINE_LIMIT here, so the csv module's own (smaller) field limit would
    # only turn a long but bounded field into a failure.
    csv.field_size_limit(max(limit, LINE_LIMIT + 1))
    try:
        columns = (code_column,) if isinstance(code_column, str) else tuple(code_column)
        if not columns:
            raise SourceError(source_name, "no code column given")
        return _validate(index, rows_in, rows_out, columns, date_column, source_name)
    finally:
        csv.field_size_limit(limit)


def _validate(
    index: CodeIndex,
    rows_in: TextIO,
    rows_out: TextIO | None,
    code_columns: tuple[str, ...],
    date_column: str,
    source_name: str,
) -> ValidationSummary:
    lines = _Lines(rows_in)
    feed = _LineFeed(lines)
    reader = csv.reader(feed)
    first = lines.chunk()
    if not first:
        raise SourceError(source_name, "file is empty (no header row)", 1)
    chunk = iter(first)
    feed.follow(chunk)
    feed.start(next(chunk))
    if feed.pushed is _OVERLONG:
        raise SourceError(source_name, f"header row is longer than {LINE_LIMIT:,} characters", 1)
    try:
        header = next(reader)
    except (csv.Error, _RowTooLong):
        raise SourceError(source_name, "not a CSV file (no readable header row)", 1) from None
    if feed.ended_inside:
        raise SourceError(source_name, "header row has a quoted field that is never closed", 1)
    code_ats = [_column(header, name, source_name) for name in code_columns]
    if len(set(code_ats)) != len(code_ats):
        raise SourceError(source_name, "a code column is given twice", 1)
    date_at = _column(header, date_column, source_name)
    names = tuple(header[at].strip() for at in code_ats)
    run = _Run(index, reader, feed, rows_out, len(header), code_ats, date_at, source_name)
    run.line_number = feed.taken
    if rows_out is not None:
        rows_out.write(run.render([*header, *answer_columns(index.code_set, names)]))
    rest = list(chunk)
    if rest and not run.chunk(rest):
        run.line_by_line(rest)
    while True:
        more = lines.chunk()
        if not more:
            break
        if not run.chunk(more):
            run.line_by_line(more)
    summary = run.summary
    summary.rows = run.rows if run.multi else sum(summary.statuses.values())
    summary.columns = names
    display = index.code_set.display_code
    summary.invalid_codes = Counter(
        {display(code): count for code, count in summary.invalid_codes.items()}
    )
    return summary


class _Overlong(str):
    """Stands for a physical line over LINE_LIMIT that was skipped, not read into memory.

    Its text is a NUL, so the chunk path (which refuses NULs) hands it to the line path."""

    __slots__ = ()


_OVERLONG = _Overlong("\x00")


class _Lines:
    """The file's physical lines (ends kept; `\n`, `\r\n` or a lone `\r`, as `csv.reader`
    sees them), a bounded chunk at a time, each line at most LINE_LIMIT characters.

    `chunk()` returns the next lines; iterating takes one line at a time from the same place
    (the csv reader reading on past a chunk for a quoted field).
    """

    def __init__(self, file: TextIO) -> None:
        self._file = file
        self._tail = ""  # an incomplete last line, or one ending in CR (an LF may follow)
        self._skipping = False  # inside an overlong line, reading on to its end
        self._skip_lf = False  # an overlong line ended in CR at the end of a block
        self._eof = False
        self._rest: list[str] = []
        self._at = 0

    def chunk(self) -> list[str]:
        if self._at < len(self._rest):
            lines = self._rest[self._at :] if self._at else self._rest
            self._rest, self._at = [], 0
            return lines
        while not self._eof:
            lines = self._read()
            if lines:
                return lines
        return []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        while self._at >= len(self._rest):
            if self._eof:
                raise StopIteration
            self._rest, self._at = self._read(), 0
        line = self._rest[self._at]
        self._at += 1
        return line

    def _read(self) -> list[str]:
        data = self._file.read(CHUNK_CHARS)
        if not data:
            self._eof = True
            tail, self._tail = self._tail, ""
            if self._skipping:
                self._skipping = False
                return [_OVERLONG]
            return [tail] if tail else []
        if self._skip_lf:
            self._skip_lf = False
            if data.startswith("\n"):
                data = data[1:]
        lines: list[str] = []
        if self._skipping:
            ends = [at for at in (data.find("\n"), data.find("\r")) if at >= 0]
            if not ends:
                return []
            end = min(ends)
            if data[end] == "\r":
                if end + 1 == len(data):
                    self._skip_lf = True
                elif data[end + 1] == "\n":
                    end += 1
            data = data[end + 1 :]
            self._skipping = False
            lines.append(_OVERLONG)
        text = self._tail + data if self._tail else data
        self._tail = ""
        found = io.StringIO(text, newline="").readlines()
        if found:
            last = found[-1]
            if last[-1] not in "\r\n" or last[-1] == "\r":
                self._tail = found.pop()
        if len(text) > LINE_LIMIT:
            found = [_OVERLONG if len(line) > LINE_LIMIT else line for line in found]
            if len(self._tail) > LINE_LIMIT:
                tail, self._tail = self._tail, ""
                if tail[-1] == "\r":
                    self._skip_lf = True
                    found.append(_OVERLONG)
                else:
                    self._skipping = True
        if lines:
            lines.extend(found)
            return lines
        return found


class _RowTooLong(Exception):
    """A row spanning lines grew past LINE_LIMIT (a quote never closed, most likely)."""


class _LineFeed:
    """The csv reader's input: the line handed to it, then the rest of the chunk, then the
    file, so a quoted field may span lines past the chunk it started in.

    It counts the physical lines each row takes and its length, so rows are reported by their
    first physical line and a row cannot grow past LINE_LIMIT, and notes when a row ran into the
    end of the file (only a quoted field left open does that).
    """

    __slots__ = ("_file", "_lines", "ended_inside", "pushed", "row_chars", "taken")

    def __init__(self, file: Iterator[str]) -> None:
        self._file = file
        self._lines: Iterator[str] = file
        self.pushed: str | None = None
        self.taken = 0
        self.row_chars = 0
        self.ended_inside = False

    def follow(self, chunk: Iterator[str]) -> None:
        self._lines = itertools.chain(chunk, self._file)

    def start(self, line: str) -> None:
        """The next row starts with `line`."""
        self.pushed = line
        self.taken = 0
        self.row_chars = 0
        self.ended_inside = False

    def __iter__(self) -> _LineFeed:
        return self

    def __next__(self) -> str:
        line = self.pushed
        if line is None:
            try:
                line = next(self._lines)
            except StopIteration:
                self.ended_inside = True
                raise
        else:
            self.pushed = None
        self.taken += 1
        self.row_chars += len(line)
        if line is _OVERLONG or self.row_chars > LINE_LIMIT:
            raise _RowTooLong
        return line


class _Renderer:
    """One row as `csv.writer(lineterminator="\n")` writes it, as a string."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\n")

    def __call__(self, row: Sequence[str]) -> str:
        buffer = self._buffer
        buffer.seek(0)
        buffer.truncate()
        self._writer.writerow(row)
        return buffer.getvalue()


@dataclass(eq=False, slots=True)
class _Entry:
    """One code's answers as a step function of the date of service (as a date ordinal).

    `bisect_right(starts, ordinal)` is the index into the other lists (slot 0 is unused), and
    `suffixes[i]` is `,` plus the CSV text of `answers[i]` plus the line end: what follows a
    plain input line in the output; `pieces[i]` the same without the line end (one code
    column's part when there are several). Compared by identity (`in` scans chunks for
    sentinels).
    """

    code: str
    starts: list[int]
    statuses: list[str]
    answers: list[tuple[str, ...]]
    suffixes: list[str]
    pieces: list[str] = field(default_factory=list)


_NO_CODE = _Entry("", [], [], [], [])
# A blank secondary code column (several columns): nothing to check, empty answer cells.
_BLANK_ANSWER = ("",) * len(NAMED_COLUMNS)
_BLANK = _Entry(
    "",
    [date.min.toordinal()],
    ["", ""],
    [(), _BLANK_ANSWER],
    ["", "," * len(NAMED_COLUMNS) + "\n"],
    ["", "," * len(NAMED_COLUMNS)],
)
# Statuses that count a row's code as invalid (the summary's invalid_codes): not valid, and
# not an error (a row that could not be checked names no code worth counting).
_INVALID = (
    frozenset(status.value for status in Status) | frozenset(ICD10_WORDS.values())
) - VALID_STATUSES
_CODE = operator.attrgetter("code")
_STARTS = operator.attrgetter("starts")
_STATUSES = operator.attrgetter("statuses")
_SUFFIXES = operator.attrgetter("suffixes")
_PIECES = operator.attrgetter("pieces")


class _Answers:
    """Bounded caches from raw cell text to answers; cleared when full, so memory stays flat."""

    def __init__(self, index: CodeIndex, render: _Renderer) -> None:
        self.index = index
        self.code_set = index.code_set
        self.render = render
        self.entries: dict[str, _Entry] = {}
        self.ordinals: dict[str, int] = {}
        self._by_code: dict[str, _Entry] = {}
        self._suffixes: dict[tuple[str, ...], str] = {}
        self._fields: dict[str, str] = {}

    def entry(self, raw_code: str) -> _Entry:
        code = raw_code.strip().upper()
        if code:
            # `e11.9` and `E119` are one code; text that is no code stays as typed (unknown).
            code = self.code_set.normalize_code(code) or code
        found = (self._by_code.get(code) or self._build(code)) if code else _NO_CODE
        if len(self.entries) >= CACHE_LIMIT:
            self.entries.clear()
        self.entries[raw_code] = found
        return found

    def _build(self, code: str) -> _Entry:
        starts, states = self.index.intervals(code)
        code_set = self.code_set
        answers = [(), *(_answer(code_set, state) for state in states)]
        suffixes = ["", *map(self.suffix, answers[1:])]
        built = _Entry(
            code,
            [start.toordinal() for start in starts],
            [answer[0] if answer else "" for answer in answers],
            answers,
            suffixes,
            [suffix[:-1] for suffix in suffixes],
        )
        if len(self._by_code) >= CACHE_LIMIT:
            self._by_code.clear()
        self._by_code[code] = built
        return built

    def suffix(self, answer: tuple[str, ...]) -> str:
        suffix = self._suffixes.get(answer)
        if suffix is None:
            if len(self._suffixes) >= CACHE_LIMIT:
                self._suffixes.clear()
            # The csv module quotes each field on its own and joins them: render per field,
            # since one description recurs in many answers.
            suffix = self._suffixes[answer] = "," + ",".join(map(self._field, answer)) + "\n"
        return suffix

    def _field(self, value: str) -> str:
        """One field as the csv module writes it within a row."""
        field = self._fields.get(value)
        if field is None:
            if len(self._fields) >= CACHE_LIMIT:
                self._fields.clear()
            # Nothing to quote: written as it is; else as the csv module writes it.
            special = _CSV_SPECIAL.search(value)
            field = self._fields[value] = self.render(("", value))[1:-1] if special else value
        return field

    def ordinal(self, raw_date: str) -> int | str:
        """The date's ordinal, or why it is not a date."""
        ordinal = self.ordinals.get(raw_date)
        if ordinal is None:
            try:
                ordinal = parse_service_date(raw_date).toordinal()
            except ValueError as exc:
                return str(exc)
            if len(self.ordinals) >= CACHE_LIMIT:
                self.ordinals.clear()
            self.ordinals[raw_date] = ordinal
        return ordinal

    def answer(self, entry: _Entry, raw_date: str) -> tuple[str, ...]:
        if not entry.code:
            return _error("no code")
        ordinal = self.ordinal(raw_date)
        if isinstance(ordinal, str):
            return _error(ordinal)
        return entry.answers[bisect.bisect_right(entry.starts, ordinal)]

    def error_entry(self, code: str, answer: tuple[str, ...]) -> _Entry:
        """A one-row entry for an error answer, found at ordinal 0, so chunks stay uniform."""
        suffix = self.render(("", *answer))
        return _Entry(code, [0], ["", answer[0]], [(), answer], ["", suffix], ["", suffix[:-1]])


def _error(message: str) -> tuple[str, ...]:
    """A row that cannot be checked: the message has its own column, never a description's."""
    return (ERROR_STATUS, "", "", "", "", neutralize(message))


class _Run:
    """One validation run: the caches, the summary so far and the output."""

    def __init__(
        self,
        index: CodeIndex,
        reader: Iterator[list[str]],
        feed: _LineFeed,
        rows_out: TextIO | None,
        width: int,
        code_ats: Sequence[int],
        date_at: int,
        source_name: str,
    ) -> None:
        self.render = _Renderer()
        self.answers = _Answers(index, self.render)
        self.reader = reader
        self.feed = feed
        self.write = rows_out.write if rows_out is not None else None
        self.width = width
        self.code_ats = tuple(code_ats)
        self.code_at = self.code_ats[0]
        # Several code columns: each row's codes are answered column by column.
        self.multi = len(self.code_ats) > 1
        self.rows = 0  # data rows read (several code columns: statuses count codes)
        self.date_at = date_at
        self.source_name = source_name
        self.summary = ValidationSummary()
        self.line_number = 1  # physical lines read so far

    def chunk(self, lines: list[str]) -> bool:
        """Answer a chunk of plain lines without Python code per row; False if it is not one.

        Plain: no quote, NUL or CR other than a line end, no blank line, every line as wide as
        the header (a skipped overlong line is a NUL, so it is not plain either).
        """
        text = "".join(lines)
        if '"' in text or "\x00" in text:
            return False
        if "\r" in text:
            text = text.replace("\r\n", "\n")
            if "\r" in text:
                return False
        bodies = text.split("\n")
        if text.endswith("\n"):
            bodies.pop()
        if len(bodies) != len(lines) or "" in bodies:
            return False
        width = self.width
        commas = text.count(",")
        if commas != (width - 1) * len(bodies):
            return False
        if width > 1 and min(map(str.count, bodies, itertools.repeat(","))) != width - 1:
            return False
        if self.multi:
            return self._chunk_columns(bodies)
        # Every row has `width` fields: one flat list of fields, and columns are slices of it
        # (no list per row, which would also wake the cyclic garbage collector).
        fields = ",".join(bodies).split(",")
        codes = fields[self.code_at :: width]
        dates = fields[self.date_at :: width]
        del fields
        answers = self.answers
        cached = list(map(answers.entries.get, codes))
        entries: list[_Entry] = (
            [
                entry if entry is not None else answers.entry(code)
                for entry, code in zip(cached, codes, strict=True)
            ]
            if None in cached
            else cast(list[_Entry], cached)
        )
        ordinals: list[int | None] = list(map(answers.ordinals.get, dates))
        errors: list[tuple[int, str]] = []
        if None in ordinals or _NO_CODE in entries:
            for at, (entry, ordinal) in enumerate(zip(entries, ordinals, strict=True)):
                if ordinal is not None and entry is not _NO_CODE:
                    continue
                found = answers.ordinal(dates[at]) if entry.code else "no code"
                if isinstance(found, int):
                    ordinals[at] = found
                    continue
                answer = _error(found)
                entries[at] = answers.error_entry(entry.code, answer)
                ordinals[at] = 0
                errors.append((at, found))
        found_at = list(map(bisect.bisect_right, map(_STARTS, entries), ordinals))
        statuses = list(map(operator.getitem, map(_STATUSES, entries), found_at))
        summary = self.summary
        summary.statuses.update(statuses)
        summary.invalid_codes.update(
            itertools.compress(map(_CODE, entries), map(_INVALID.__contains__, statuses))
        )
        for at, message in errors:
            summary.bad_row_count += 1
            if len(summary.bad_rows) < BAD_ROWS_KEPT:
                summary.bad_rows.append((self.line_number + at + 1, message))
        self.line_number += len(bodies)
        if self.write is not None:
            out = bodies * 2  # every other slot replaced below: no string built per row
            out[1::2] = map(operator.getitem, map(_SUFFIXES, entries), found_at)
            out[::2] = bodies
            self.write("".join(out))
        return True

    def _chunk_columns(self, bodies: list[str]) -> bool:
        """`chunk` for several code columns: each column answered with C-level `map`s, the
        row's parts joined once. A chunk with a row that cannot be checked (no principal code,
        a bad date) is left to the line path, which says why row by row."""
        width = self.width
        fields = ",".join(bodies).split(",")
        dates = fields[self.date_at :: width]
        answers = self.answers
        ordinals: list[int | None] = list(map(answers.ordinals.get, dates))
        if None in ordinals:
            for at, ordinal in enumerate(ordinals):
                if ordinal is None:
                    found = answers.ordinal(dates[at])
                    if isinstance(found, str):
                        return False
                    ordinals[at] = found
        summary = self.summary
        parts: list[list[str]] = [bodies]
        for position, code_at in enumerate(self.code_ats):
            codes = fields[code_at::width]
            entries = [
                answers.entries.get(code) or answers.entry(code) if code else _BLANK
                for code in codes
            ]
            if position == 0 and (_NO_CODE in entries or _BLANK in entries):
                return False
            entries = [_BLANK if entry is _NO_CODE else entry for entry in entries]
            found_at = list(map(bisect.bisect_right, map(_STARTS, entries), ordinals))
            statuses = list(map(operator.getitem, map(_STATUSES, entries), found_at))
            summary.statuses.update(statuses)
            summary.invalid_codes.update(
                itertools.compress(map(_CODE, entries), map(_INVALID.__contains__, statuses))
            )
            parts.append(list(map(operator.getitem, map(_PIECES, entries), found_at)))
        summary.statuses.pop("", None)
        self.rows += len(bodies)
        self.line_number += len(bodies)
        if self.write is not None:
            parts.append(["\n"] * len(bodies))
            self.write("".join(map("".join, zip(*parts, strict=True))))
        return True

    def _row_columns(self, fields: list[str], problem: str, first: int) -> str:
        """One row's answer parts for several code columns (the line path); counts them."""
        answers = self.answers
        summary = self.summary
        self.rows += 1
        if not problem and not fields[self.code_at].strip():
            problem = "no code"
        ordinal: int | str = problem or answers.ordinal(fields[self.date_at])
        if isinstance(ordinal, str):
            summary.statuses[ERROR_STATUS] += 1
            summary.bad_row_count += 1
            if len(summary.bad_rows) < BAD_ROWS_KEPT:
                summary.bad_rows.append((first, ordinal))
            answer = _error(ordinal)
            return "".join(answers.suffix(answer)[:-1] for _ in self.code_ats)
        pieces = []
        for code_at in self.code_ats:
            raw = fields[code_at]
            entry = (answers.entries.get(raw) or answers.entry(raw)) if raw.strip() else _BLANK
            at = bisect.bisect_right(entry.starts, ordinal)
            status = entry.statuses[at]
            if status:
                summary.statuses[status] += 1
                if status in _INVALID:
                    summary.invalid_codes[entry.code] += 1
            pieces.append(entry.pieces[at])
        return "".join(pieces)

    def line_by_line(self, lines: list[str]) -> None:
        """A chunk the C-level path cannot take: plain lines are still split by hand, the rest
        read by the csv reader, which may read on past the chunk for a quoted field."""
        chunk = iter(lines)
        feed = self.feed
        feed.follow(chunk)
        answers = self.answers
        summary = self.summary
        statuses = summary.statuses
        width, code_at, date_at = self.width, self.code_at, self.date_at
        parts: list[str] = []
        for line in chunk:
            fields: list[str]
            first = self.line_number + 1
            problem = ""
            text = line.rstrip("\r\n")
            body: str | None = text
            if line is _OVERLONG:
                self.line_number += 1
                fields = [""] * width
                problem = f"line is longer than {LINE_LIMIT:,} characters; not read"
                body = None
            elif '"' in text or "\r" in text or "\x00" in text:
                feed.start(line)
                try:
                    fields = next(self.reader)
                except _RowTooLong:
                    self._flush(parts)
                    raise SourceError(
                        self.source_name,
                        f"row is longer than {LINE_LIMIT:,} characters"
                        " (a quoted field that is never closed?)",
                        first,
                    ) from None
                except csv.Error as exc:
                    fields = [""] * width
                    problem = f"unreadable CSV row ({exc})"
                self.line_number += feed.taken
                if feed.ended_inside:
                    self._flush(parts)
                    raise SourceError(
                        self.source_name,
                        "quoted field is never closed (it would run to the end of the file,"
                        f" line {self.line_number})",
                        first,
                    )
                if not fields:
                    continue
                body = None
            else:
                self.line_number += 1
                if not text:
                    continue
                fields = text.split(",")
            if len(fields) != width and not problem:
                problem = f"row has {len(fields)} fields, the header has {width}"
                if len(fields) > width:
                    problem += " (the extra fields are not copied)"
                    del fields[width:]
                else:
                    fields += [""] * (width - len(fields))
            if self.multi:
                row_answer = self._row_columns(fields, problem, first)
                if self.write is not None:
                    # A plain line is copied as read; a repaired or quoted row is written back.
                    row = self.render(fields)[:-1] if body is None or problem else body
                    parts.append(row + row_answer + "\n")
                continue
            if problem:
                entry = _NO_CODE
                answer = _error(problem)
            else:
                raw_code, raw_date = fields[code_at], fields[date_at]
                entry = answers.entries.get(raw_code) or answers.entry(raw_code)
                answer = answers.answer(entry, raw_date)
            status = answer[0]
            statuses[status] += 1
            if status == ERROR_STATUS:
                summary.bad_row_count += 1
                if len(summary.bad_rows) < BAD_ROWS_KEPT:
                    summary.bad_rows.append((first, answer[-1]))
            elif status in _INVALID:
                summary.invalid_codes[entry.code] += 1
            if self.write is not None:
                if body is None or status == ERROR_STATUS:
                    parts.append(self.render(fields + list(answer)))
                else:
                    parts.append(body + answers.suffix(answer))
        self._flush(parts)

    def _flush(self, parts: list[str]) -> None:
        if self.write is not None and parts:
            self.write("".join(parts))
            parts.clear()
