"""Date-of-service validation of claims files, streamed row by row.

A claims file can be far larger than memory, so it is read and written one row at a time;
only the code index (one release's worth of records) and a bounded cache of answers are held.
A row that cannot be checked (no code, a date in no known format) is reported with its line
number and marked `error` in the output; it never stops the run.
"""

from __future__ import annotations

import bisect
import csv
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import TextIO

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


def _answer(state: CodeState) -> tuple[str, ...]:
    meaning = state.meaning
    termination = state.termination_date
    return (
        state.status.value,
        meaning.long_description if meaning else "",
        termination.isoformat() if termination else "",
        " ".join(r.code for r in state.replacements),
        state.meaning_release.display if state.meaning_release else "",
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
    """Check every row's code on its date of service; append the answer columns to `rows_out`."""
    reader = csv.reader(rows_in)
    try:
        header = next(reader)
    except StopIteration:
        raise SourceError(source_name, "file is empty (no header row)", 1) from None
    except csv.Error as exc:
        raise SourceError(source_name, f"not a CSV file ({exc})", 1) from None
    code_at = _column(header, code_column, source_name)
    date_at = _column(header, date_column, source_name)
    writer = csv.writer(rows_out, lineterminator="\n") if rows_out is not None else None
    if writer is not None:
        writer.writerow([*header, *OUTPUT_COLUMNS])
    summary = ValidationSummary()
    answers: dict[tuple[str, str], tuple[str, ...]] = {}
    dates: dict[str, date] = {}
    # Answers are rendered once per interval state (the index keeps those states alive).
    rendered: dict[int, tuple[str, ...]] = {}
    statuses: dict[str, int] = {}
    active = Status.ACTIVE.value
    write = writer.writerow if writer is not None else None
    # The loop is the hot path of a million-row file: cached answers are looked up by the raw
    # cell text, and nothing is computed per row that the cache already holds.
    for line_number, row in _numbered(reader, source_name):
        try:
            key = (row[code_at], row[date_at])
        except IndexError:
            key = (
                row[code_at] if code_at < len(row) else "",
                row[date_at] if date_at < len(row) else "",
            )
        answer = answers.get(key)
        if answer is None:
            answer = _check(index, key[0], key[1], dates, rendered)
            if answer[0] != ERROR_STATUS:
                if len(answers) >= CACHE_LIMIT:
                    answers.clear()
                answers[key] = answer
        status = answer[0]
        statuses[status] = statuses.get(status, 0) + 1
        if status != active:
            if status == ERROR_STATUS:
                summary.bad_row_count += 1
                if len(summary.bad_rows) < BAD_ROWS_KEPT:
                    summary.bad_rows.append((line_number, answer[1]))
            else:
                summary.invalid_codes[key[0].strip().upper()] += 1
        if write is not None:
            write(row + list(answer))
    summary.statuses.update(statuses)
    summary.rows = sum(statuses.values())
    return summary


def _numbered(reader: Iterator[list[str]], source_name: str) -> Iterator[tuple[int, list[str]]]:
    line_number = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise SourceError(source_name, f"broken CSV ({exc})", line_number + 1) from None
        line_number += 1
        if row:
            yield line_number, row


def _check(
    index: CodeIndex,
    raw_code: str,
    raw_date: str,
    dates: dict[str, date],
    rendered: dict[int, tuple[str, ...]],
) -> tuple[str, ...]:
    code = raw_code.strip().upper()
    if not code:
        return (ERROR_STATUS, "no code", "", "", "")
    service_date = dates.get(raw_date)
    if service_date is None:
        try:
            service_date = parse_service_date(raw_date)
        except ValueError as exc:
            return (ERROR_STATUS, str(exc), "", "", "")
        dates[raw_date] = service_date
    starts, states = index.intervals(code)
    state = states[bisect.bisect_right(starts, service_date) - 1]
    answer = rendered.get(id(state))
    if answer is None:
        answer = rendered[id(state)] = _answer(state)
    return answer
