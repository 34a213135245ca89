"""Date-of-service validation of claims files, streamed in chunks of rows.

A claims file can be far larger than memory, so it is read and written a bounded chunk of lines
at a time; only the code index (one release's worth of records) and bounded caches of answers
are held.
A row that cannot be checked (no code, a date in no known format) is reported with its line
number and marked `error` in the output; it never stops the run.
"""

from __future__ import annotations

import bisect
import csv
import io
import itertools
import operator
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TextIO, cast

from tracker.csvout import neutralize
from tracker.errors import SourceError
from tracker.query import CodeIndex, CodeState, Status

OUTPUT_COLUMNS = (
    "hcpcs_status",
    "hcpcs_description",
    "hcpcs_termination_date",
    "hcpcs_replacements",
    "hcpcs_release",
)
ERROR_STATUS = "error"
CACHE_LIMIT = 50_000
BAD_ROWS_KEPT = 50
# The file is read this many characters of whole lines at a time (a few thousand rows): large
# enough that per-chunk costs vanish, small enough that memory stays flat.
CHUNK_CHARS = 1 << 17

_US = re.compile(r"^(\d{1,2})[/-](\d{1,2})[/-](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def parse_service_date(text: str) -> date:
    """ISO (`2020-04-15`, with or without a time), compact (`20200415`) or US (`4/15/2020`)."""
    value = text.strip()
    for pattern, order in ((_ISO, (0, 1, 2)), (_COMPACT, (0, 1, 2)), (_US, (2, 0, 1))):
        match = pattern.match(value)
        if match:
            parts = match.groups()
            year, month, day = (int(parts[i]) for i in order)
            try:
                return date(year, month, day)
            except ValueError:
                raise ValueError(f"date {text!r} is not a calendar date") from None
    raise ValueError(f"date {text!r} is not YYYY-MM-DD, YYYYMMDD or MM/DD/YYYY")


@dataclass
class ValidationSummary:
    rows: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    invalid_codes: Counter[str] = field(default_factory=Counter)
    bad_rows: list[tuple[int, str]] = field(default_factory=list)
    bad_row_count: int = 0

    @property
    def invalid(self) -> int:
        return self.rows - self.statuses.get(Status.ACTIVE.value, 0)


# An enum's `.value` goes through a Python-level descriptor; ~65,000 answers per run read it.
_STATUS_TEXT = {status: status.value for status in Status}
# A field holding none of these is written by the csv module exactly as it is.
_CSV_SPECIAL = re.compile(r'[,"\r\n\x00]')


def _answer(state: CodeState) -> tuple[str, ...]:
    meaning = state.meaning
    record = state.status_record
    termination = record.termination_date if record else None
    replacements = state.replacements
    release = state.meaning_release
    # The appended cells go through the shared CSV neutralizing (a description may start with
    # `=`); it is paid once per distinct answer, not per row. Input cells are copied as read.
    return (
        _STATUS_TEXT[state.status],
        neutralize(meaning.long_description) if meaning else "",
        termination.isoformat() if termination else "",
        " ".join([r.code for r in replacements]) if replacements else "",
        release.display if release else "",
    )


def _column(header: list[str], wanted: str, source_name: str) -> int:
    lowered = [name.strip().lower() for name in header]
    try:
        return lowered.index(wanted.strip().lower())
    except ValueError:
        columns = ", ".join(header) or "none"
        raise SourceError(source_name, f"no column {wanted!r} (columns: {columns})", 1) from None


def validate_claims(
    index: CodeIndex,
    rows_in: TextIO,
    rows_out: TextIO | None,
    *,
    code_column: str,
    date_column: str,
    source_name: str,
) -> ValidationSummary:
    """Check every row's code on its date of service; append the answer columns to `rows_out`.

    The output is, byte for byte, what `csv.writer(lineterminator="\n")` writes for each row
    `csv.reader` reads plus its answer columns. The csv module's per-field cost was most of a
    million-row run, so it is paid only where it can change the result: a line without a quote,
    NUL or stray CR reads as `line.split(",")`, and writing those fields back gives the line
    itself, so such a line is copied as text and followed by its answer columns, rendered once
    per distinct answer. The file is read in chunks of lines; a chunk of such lines is answered
    with C-level `map`s (no Python code per row), any other chunk line by line, its quoted lines
    through one `csv.reader` fed from the same file, so a quoted field spanning lines (even
    past the chunk) reads exactly as before.
    """
    feed = _LineFeed(rows_in)
    reader = csv.reader(feed)
    try:
        header = next(reader)
    except StopIteration:
        raise SourceError(source_name, "file is empty (no header row)", 1) from None
    except csv.Error as exc:
        raise SourceError(source_name, f"not a CSV file ({exc})", 1) from None
    code_at = _column(header, code_column, source_name)
    date_at = _column(header, date_column, source_name)
    run = _Run(index, reader, feed, rows_out, code_at, date_at, source_name)
    if rows_out is not None:
        rows_out.write(run.render([*header, *OUTPUT_COLUMNS]))
    while True:
        lines = rows_in.readlines(CHUNK_CHARS)
        if not lines:
            break
        if not run.chunk(lines):
            run.line_by_line(lines)
    summary = run.summary
    summary.rows = sum(summary.statuses.values())
    return summary


class _LineFeed:
    """The csv reader's input: the line handed back to it, then the rest of the chunk, then the
    file, so a quoted field may span lines past the chunk it started in."""

    __slots__ = ("_file", "_lines", "pushed")

    def __init__(self, file: Iterable[str]) -> None:
        self._file = iter(file)
        self._lines: Iterator[str] = self._file
        self.pushed: str | None = None

    def follow(self, chunk: Iterator[str]) -> None:
        self._lines = itertools.chain(chunk, self._file)

    def __iter__(self) -> _LineFeed:
        return self

    def __next__(self) -> str:
        line = self.pushed
        if line is None:
            return next(self._lines)
        self.pushed = None
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
    plain input line in the output. Compared by identity (`in` scans chunks for sentinels).
    """

    code: str
    starts: list[int]
    statuses: list[str]
    answers: list[tuple[str, ...]]
    suffixes: list[str]


_NO_CODE = _Entry("", [], [], [], [])
# Statuses that count a row's code as invalid (the summary's invalid_codes): not active, and
# not an error (a row that could not be checked names no code worth counting).
_INVALID = frozenset(status.value for status in Status) - {Status.ACTIVE.value}
_CODE = operator.attrgetter("code")
_STARTS = operator.attrgetter("starts")
_STATUSES = operator.attrgetter("statuses")
_SUFFIXES = operator.attrgetter("suffixes")


class _Answers:
    """Bounded caches from raw cell text to answers; cleared when full, so memory stays flat."""

    def __init__(self, index: CodeIndex, render: _Renderer) -> None:
        self.index = index
        self.render = render
        self.entries: dict[str, _Entry] = {}
        self.ordinals: dict[str, int] = {}
        self._by_code: dict[str, _Entry] = {}
        self._suffixes: dict[tuple[str, ...], str] = {}
        self._fields: dict[str, str] = {}

    def entry(self, raw_code: str) -> _Entry:
        code = raw_code.strip().upper()
        found = (self._by_code.get(code) or self._build(code)) if code else _NO_CODE
        if len(self.entries) >= CACHE_LIMIT:
            self.entries.clear()
        self.entries[raw_code] = found
        return found

    def _build(self, code: str) -> _Entry:
        starts, states = self.index.intervals(code)
        answers = [(), *map(_answer, states)]
        built = _Entry(
            code,
            [start.toordinal() for start in starts],
            [answer[0] if answer else "" for answer in answers],
            answers,
            ["", *map(self.suffix, answers[1:])],
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
        return _Entry(code, [0], ["", answer[0]], [(), answer], ["", self.render(("", *answer))])


def _error(message: str) -> tuple[str, ...]:
    return (ERROR_STATUS, neutralize(message), "", "", "")


class _Run:
    """One validation run: the caches, the summary so far and the output."""

    def __init__(
        self,
        index: CodeIndex,
        reader: Iterator[list[str]],
        feed: _LineFeed,
        rows_out: TextIO | None,
        code_at: int,
        date_at: int,
        source_name: str,
    ) -> None:
        self.render = _Renderer()
        self.answers = _Answers(index, self.render)
        self.reader = reader
        self.feed = feed
        self.write = rows_out.write if rows_out is not None else None
        self.code_at = code_at
        self.date_at = date_at
        self.both_at = max(code_at, date_at)
        self.source_name = source_name
        self.summary = ValidationSummary()
        self.line_number = 1  # of the last row read; rows are counted as csv.reader yields them
        self.size_limit = csv.field_size_limit()

    def chunk(self, lines: list[str]) -> bool:
        """Answer a chunk of plain lines without Python code per row; False if it is not one.

        Plain: no quote, NUL or CR other than a line end, no blank or short line, no field over
        the csv module's size limit (it would refuse the line).
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
        if len(text) > self.size_limit and max(map(len, bodies)) > self.size_limit:
            return False
        commas = list(map(str.count, bodies, itertools.repeat(",")))
        width = min(commas) + 1
        if width <= self.both_at:
            return False
        if width == max(commas) + 1:
            # Every row has `width` fields: one flat list of fields, and columns are slices of
            # it (no list per row, which would also wake the cyclic garbage collector).
            fields = ",".join(bodies).split(",")
            codes = fields[self.code_at :: width]
            dates = fields[self.date_at :: width]
            del fields
        else:
            rows = [body.split(",") for body in bodies]
            codes = list(map(operator.itemgetter(self.code_at), rows))
            dates = list(map(operator.itemgetter(self.date_at), rows))
            del rows
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

    def line_by_line(self, lines: list[str]) -> None:
        """A chunk the C-level path cannot take: plain lines are still split by hand, the rest
        read by the csv reader, which may read on past the chunk for a quoted field."""
        chunk = iter(lines)
        self.feed.follow(chunk)
        answers = self.answers
        summary = self.summary
        statuses = summary.statuses
        code_at, date_at, both_at = self.code_at, self.date_at, self.both_at
        parts: list[str] = []
        for line in chunk:
            fields: list[str]
            text = line.rstrip("\r\n")
            body: str | None = text
            if '"' in text or "\r" in text or "\x00" in text or len(text) > self.size_limit:
                self.feed.pushed = line
                try:
                    fields = next(self.reader)
                except StopIteration:  # pragma: no cover - a pushed line always yields a row
                    break
                except csv.Error as exc:
                    if self.write is not None and parts:
                        self.write("".join(parts))
                    raise SourceError(
                        self.source_name, f"broken CSV ({exc})", self.line_number + 1
                    ) from None
                self.line_number += 1
                if not fields:
                    continue
                body = None
            else:
                self.line_number += 1
                if not text:
                    continue
                fields = text.split(",")
            if len(fields) > both_at:
                raw_code, raw_date = fields[code_at], fields[date_at]
            else:
                raw_code = fields[code_at] if code_at < len(fields) else ""
                raw_date = fields[date_at] if date_at < len(fields) else ""
            entry = answers.entries.get(raw_code) or answers.entry(raw_code)
            answer = answers.answer(entry, raw_date)
            status = answer[0]
            statuses[status] += 1
            if status == ERROR_STATUS:
                summary.bad_row_count += 1
                if len(summary.bad_rows) < BAD_ROWS_KEPT:
                    summary.bad_rows.append((self.line_number, answer[1]))
            elif status in _INVALID:
                summary.invalid_codes[entry.code] += 1
            if self.write is not None:
                if body is None or status == ERROR_STATUS:
                    parts.append(self.render(fields + list(answer)))
                else:
                    parts.append(body + answers.suffix(answer))
        if self.write is not None and parts:
            self.write("".join(parts))
