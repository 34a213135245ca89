"""The validity-interval table: every code's answers as rows a claims table joins against.

`tracker validate` answers a claim from the code's answers as a step function of the date of
service (`CodeIndex.intervals`): the answer changes only at a release's effective date, an
action effective date, or where a validity interval starts or ends. This module writes that
same step function out, one row per stretch of days with one answer, so a database or a lake
can validate claims where they live:

    SELECT ... FROM claims c
    LEFT JOIN intervals v ON v.code = upper(trim(c.code))
                         AND c.dos BETWEEN v.valid_from AND v.valid_to

gives each claim row the status, meaning, termination date, replacements and release that
`tracker validate` writes for it (no row: `unknown`). Nothing is re-derived here: the rows are
read off `CodeIndex`, the same object validation answers from, so the table and the command
cannot disagree. Adjacent stretches with the same answer are merged.

The rows cover every day: the first starts on 0001-01-01 and the last ends on 9999-12-31 (open),
so a plain BETWEEN finds exactly one row for a known code on any date, on any engine.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from tracker.codesets import DEFAULT_CODE_SET
from tracker.csvout import CsvWriter
from tracker.errors import TrackerError
from tracker.query import CodeIndex, CodeState

if TYPE_CHECKING:
    from tracker.store import Store

ExportFormat = Literal["csv", "parquet"]
FORMATS: tuple[ExportFormat, ...] = ("csv", "parquet")
FILE_SUFFIXES: dict[str, ExportFormat] = {".parquet": "parquet", ".pq": "parquet"}

# The first and last day a row can cover: a row open at either end carries these, so every
# engine can join with BETWEEN (no NULL bound). Both are valid DATE values in PostgreSQL,
# DuckDB, Spark and Parquet.
FIRST_DAY = date(1, 1, 1)
LAST_DAY = date(9999, 12, 31)

COLUMNS = (
    "code_set",
    "code",
    "valid_from",
    "valid_to",
    "status",
    "meaning",
    "termination_date",
    "replacements",
    "release",
    "known_at",
)

PARQUET_HINT = "pip install 'hcpcs-tracker[parquet]'"


class ExportError(TrackerError):
    """An export that cannot be written as asked."""


@dataclass(frozen=True, slots=True)
class IntervalRow:
    """Days `valid_from`..`valid_to` (inclusive) on which `code` has one answer.

    The columns are those `tracker validate` appends to a claim: `status`; `meaning`, the long
    description in force; `termination_date` of the record the status comes from;
    `replacements`, the codes it names instead (space-separated); `release`, the release the
    meaning comes from. `known_at` is the release K the table was computed as known at.
    """

    code_set: str
    code: str
    valid_from: date
    valid_to: date
    status: str
    meaning: str
    termination_date: date | None
    replacements: str
    release: str
    known_at: str


@dataclass(frozen=True, slots=True)
class ExportSummary:
    code_set: str
    known_at: str
    codes: int
    rows: int
    seconds: float
    target: str
    fmt: ExportFormat


def _answer(index: CodeIndex, state: CodeState) -> tuple[str, str, date | None, str, str]:
    """What a claim on a day of the stretch gets: as `tracker validate` appends it."""
    code_set = index.code_set
    meaning = state.meaning
    record = state.status_record
    termination = code_set.record_dates(record).termination_date if record else None
    release = state.meaning_release
    return (
        state.status.value,
        code_set.describe(meaning) if meaning else "",
        termination,
        " ".join(replacement.code for replacement in state.replacements),
        release.display if release else "",
    )


def interval_rows(index: CodeIndex) -> Iterator[IntervalRow]:
    """Every code's stretches of days with one answer, codes in order, stretches by date."""
    code_set = index.code_set.name
    known_at = index.known_at.display
    for code in sorted(index.timelines):
        starts, states = index.intervals(code)
        answers = [_answer(index, state) for state in states]
        ends = [start - timedelta(days=1) for start in starts[1:]] + [LAST_DAY]
        at = 0
        while at < len(starts):
            following = at + 1
            while following < len(starts) and answers[following] == answers[at]:
                following += 1
            status, meaning, termination, replacements, release = answers[at]
            yield IntervalRow(
                code_set,
                code,
                max(starts[at], FIRST_DAY),
                ends[following - 1],
                status,
                meaning,
                termination,
                replacements,
                release,
                known_at,
            )
            at = following


def _iso(value: date | None) -> str:
    return value.isoformat() if value is not None else ""


def write_csv_rows(rows: Iterator[IntervalRow], stream: Any) -> int:
    """The rows as CSV (dates ISO, empty for none), cells neutralized as every CSV the project
    writes; the count written."""
    import csv

    csv.writer(stream, lineterminator="\n").writerow(COLUMNS)
    writer = CsvWriter(stream, lineterminator="\n")
    count = 0
    for row in rows:
        writer.writerow(
            (
                row.code_set,
                row.code,
                row.valid_from.isoformat(),
                row.valid_to.isoformat(),
                row.status,
                row.meaning,
                _iso(row.termination_date),
                row.replacements,
                row.release,
                row.known_at,
            )
        )
        count += 1
    return count


def _pyarrow() -> Any:
    """pyarrow and its Parquet module, or a one-line error saying how to install them."""
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise ExportError(
            f"--format parquet needs pyarrow, which is not installed ({PARQUET_HINT})"
        ) from None
    return pyarrow


def parquet_table(rows: Iterator[IntervalRow]) -> Any:
    """The rows as a pyarrow Table: dates as DATE, text as UTF-8, values as read (a Parquet
    file is not opened by a spreadsheet, so nothing is neutralized)."""
    pa = _pyarrow()
    columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}
    appenders = [columns[name].append for name in COLUMNS]
    for row in rows:
        for append, name in zip(appenders, COLUMNS, strict=True):
            append(getattr(row, name))
    types = {
        "valid_from": pa.date32(),
        "valid_to": pa.date32(),
        "termination_date": pa.date32(),
    }
    schema = pa.schema(
        [
            pa.field(
                name,
                types.get(name, pa.string()),
                nullable=name == "termination_date",
            )
            for name in COLUMNS
        ]
    )
    return pa.table(columns, schema=schema)


def export_intervals(
    store: Store,
    target: str | Path,
    fmt: ExportFormat,
    *,
    known_at: str | None = None,
    code_set: str = DEFAULT_CODE_SET,
) -> ExportSummary:
    """Write the validity-interval table of `code_set` as known at `known_at` (default: the
    latest release) to `target`, whole or not at all."""
    from tracker.codesets import get_code_set
    from tracker.outputfile import open_output, sqlite_file, write_failure

    name = get_code_set(code_set).name
    if fmt not in FORMATS:
        raise ExportError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    if fmt == "parquet":
        _pyarrow()  # before any work: a missing extra is said at once
    started = time.perf_counter()
    index = CodeIndex.load(store, known_at, name)
    database = sqlite_file(store.engine.url)
    rows = interval_rows(index)
    if fmt == "csv":
        with open_output(target, database=database, newline="") as stream:
            count = write_csv_rows(rows, stream)
    else:
        import pyarrow.parquet as pq

        table = parquet_table(rows)
        count = table.num_rows
        with open_output(target, database=database) as stream:
            stream.flush()
            try:
                pq.write_table(table, stream.buffer, compression="zstd")
            except OSError as exc:
                raise write_failure(target, exc) from None
    return ExportSummary(
        code_set=name,
        known_at=index.known_at.display,
        codes=len(index.timelines),
        rows=count,
        seconds=time.perf_counter() - started,
        target=str(target),
        fmt=fmt,
    )


@dataclass(frozen=True, slots=True)
class StoredTable:
    """The outcome of writing the table into the store: the generation the view now shows."""

    code_set: str
    known_at: str
    generation: int
    rows: int
    written: bool  # False: the latest generation was computed from the same releases
    seconds: float


def store_intervals(store: Store, *, code_set: str = DEFAULT_CODE_SET) -> StoredTable:
    """Bring the store's `tracker_code_validity` view up to date for `code_set`, as known at
    the latest release: a new generation when the releases known (or the tracker version)
    changed since the latest one, else nothing."""
    from tracker import __version__
    from tracker.codesets import get_code_set
    from tracker.store.validity_table import latest_generation, write_generation

    name = get_code_set(code_set).name
    started = time.perf_counter()
    index = CodeIndex.load(store, None, name)
    releases_known = ",".join(str(info.id) for info in index.releases)
    latest = latest_generation(store, name)
    if (
        latest is not None
        and latest.releases_known == releases_known
        and latest.tracker_version == __version__
    ):
        return StoredTable(
            name,
            latest.known_at,
            latest.id,
            latest.row_count,
            False,
            time.perf_counter() - started,
        )
    values = (
        (
            row.code,
            row.valid_from,
            row.valid_to,
            row.status,
            row.meaning,
            row.termination_date,
            row.replacements,
            row.release,
        )
        for row in interval_rows(index)
    )
    generation = write_generation(store, name, index.known_at, releases_known, __version__, values)
    return StoredTable(
        name,
        generation.known_at,
        generation.id,
        generation.row_count,
        True,
        time.perf_counter() - started,
    )
