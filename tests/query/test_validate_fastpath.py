"""The split-by-hand paths of claims validation against the csv module, byte for byte.

`validate_claims` copies plain lines as text and answers whole chunks with C-level maps; the
reference below is the straightforward implementation (csv.reader in, csv.writer out, one
answer per row from `CodeIndex.state`). Both must write the same bytes and the same summary,
and fail with the same message on the same line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SAMPLES
from tracker import api, validate
from tracker.errors import SourceError
from tracker.query import CodeIndex
from tracker.validate import (
    BAD_ROWS_KEPT,
    ERROR_STATUS,
    OUTPUT_COLUMNS,
    ValidationSummary,
    parse_service_date,
    validate_claims,
)


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CodeIndex]:
    url = f"sqlite:///{tmp_path_factory.mktemp('fast') / 'tracker.db'}"
    store = api.open_store(url)
    for name in ("JAN", "APR", "JUL"):
        api.ingest(store, SAMPLES / f"HCPC2026_{name}_SAMPLE.txt")
    yield CodeIndex.load(store)
    store.close()


class _Counted:
    """The file's physical lines, counted, noting when the csv reader asks past the end."""

    def __init__(self, rows_in: io.TextIOBase) -> None:
        self._lines = iter(rows_in)
        self.count = 0
        self.exhausted = False

    def __iter__(self) -> _Counted:
        return self

    def __next__(self) -> str:
        try:
            line = next(self._lines)
        except StopIteration:
            self.exhausted = True
            raise
        self.count += 1
        return line


def reference(index: CodeIndex, rows_in: io.TextIOBase, rows_out: io.StringIO) -> object:
    """The csv module end to end; returns the summary or the error raised."""
    lines = _Counted(rows_in)
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        return ("error", "file is empty (no header row)", 1)
    width = len(header)
    code_at = [h.strip().lower() for h in header].index("hcpcs")
    date_at = [h.strip().lower() for h in header].index("dos")
    writer = csv.writer(rows_out, lineterminator="\n")
    writer.writerow([*header, *OUTPUT_COLUMNS])
    summary = ValidationSummary()
    statuses: dict[str, int] = {}
    while True:
        first = lines.count + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        if lines.exhausted:
            return (
                "error",
                "quoted field is never closed (it would run to the end of the file,"
                f" line {lines.count})",
                first,
            )
        if not row:
            continue
        code = row[code_at].strip().upper() if len(row) == width else ""
        raw_date = row[date_at] if len(row) == width else ""
        answer: tuple[str, ...]
        if len(row) != width:
            problem = f"row has {len(row)} fields, the header has {width}"
            if len(row) > width:
                problem += " (the extra fields are not copied)"
            row = (row + [""] * width)[:width]
            answer = (ERROR_STATUS, "", "", "", "", problem)
        elif not code:
            answer = (ERROR_STATUS, "", "", "", "", "no code")
        else:
            try:
                answer = validate._answer(
                    index.code_set, index.state(code, parse_service_date(raw_date))
                )
            except ValueError as exc:
                answer = (ERROR_STATUS, "", "", "", "", str(exc))
        status = answer[0]
        statuses[status] = statuses.get(status, 0) + 1
        if status == ERROR_STATUS:
            summary.bad_row_count += 1
            if len(summary.bad_rows) < BAD_ROWS_KEPT:
                summary.bad_rows.append((first, answer[-1]))
        elif status != "active":
            summary.invalid_codes[code] += 1
        writer.writerow(row + list(answer))
    summary.statuses.update(statuses)
    summary.rows = sum(statuses.values())
    summary.columns = (header[code_at].strip(),)
    return summary


def fast(index: CodeIndex, rows_in: io.TextIOBase, rows_out: io.StringIO) -> object:
    try:
        return validate_claims(
            index,
            rows_in,  # type: ignore[arg-type]
            rows_out,
            code_column="hcpcs",
            date_column="dos",
            source_name="claims.csv",
        )
    except SourceError as exc:
        return ("error", exc.problem, exc.line)


def _summary(result: object) -> object:
    if isinstance(result, ValidationSummary):
        return (
            result.rows,
            list(result.statuses.items()),
            list(result.invalid_codes.items()),
            result.bad_rows,
            result.bad_row_count,
        )
    return result


def assert_same(index: CodeIndex, data: bytes, tmp_path: Path) -> None:
    """Both implementations on the same file, opened the way `api.validate` opens it."""
    path = tmp_path / "claims.csv"
    path.write_bytes(data)
    outputs = []
    for implementation in (reference, fast):
        out = io.StringIO(newline="")
        encoding = validate.claims_encoding(path)
        with path.open(newline="", encoding=encoding) as rows_in:
            result = implementation(index, rows_in, out)
        outputs.append(
            (_summary(result), out.getvalue() if isinstance(result, ValidationSummary) else None)
        )
    assert outputs[1] == outputs[0]


TRICKY = (
    "\ufeffclaim,HCPCS,DOS,note\r\n"
    "1,S0353,2026-02-01,plain\r\n"
    '2,"S0353",02/01/2026,"quoted, with comma"\r\n'
    '3,E0159,2026-05-01,"spans\r\ntwo lines"\r\n'
    '4,e0159 ,2026-05-01,"has ""quotes"" inside"\n'
    "\r\n"
    "5,ZZ999,2026-02-01\n"
    "6,,2026-02-01,no code\n"
    "7,S0353\n"
    "8\n"
    "9,S0353,31/31/2026,bad date\n"
    "10,M1397,2024-06-01,x\r"
    "11,M1397,2024-06-01,bare CR before\n"
    '12,S0353,2026-02-01,"closed quote\nrunning, on\n'
    '13,S0353,2026-02-01,to the next row"\n'
    "14,S0353,2026-02-01,too,many\n"
)
UNTERMINATED = '15,S0353,2026-02-01,"never closed\n16,S0353,2026-02-01,x\n'


def test_an_unterminated_quote_stops_the_run(index: CodeIndex, tmp_path: Path) -> None:
    assert_same(index, (TRICKY + UNTERMINATED).encode(), tmp_path)
    path = tmp_path / "claims.csv"
    with path.open(newline="") as rows_in:
        assert fast(index, rows_in, io.StringIO()) == (
            "error",
            "quoted field is never closed (it would run to the end of the file, line 20)",
            19,
        )


def test_tricky_file_matches_the_csv_module(index: CodeIndex, tmp_path: Path) -> None:
    assert_same(index, TRICKY.encode(), tmp_path)


def test_nul_and_invalid_utf8_match(index: CodeIndex, tmp_path: Path) -> None:
    data = b"claim,hcpcs,dos\n1,S0353,2026-02-01\n2,S03\x0053,2026-02-01\n3,S0353\xff,2026-02-01\n"
    assert_same(index, data, tmp_path)


@pytest.mark.parametrize("chunk", [1, 7, 40, 1 << 17])
def test_chunk_boundaries_do_not_matter(
    index: CodeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """Quoted fields spanning lines across chunk ends, plain and mixed chunks, many rows."""
    monkeypatch.setattr(validate, "CHUNK_CHARS", chunk)
    plain = "".join(f"{i},S0353,2026-0{1 + i % 9}-1{i % 10}\n" for i in range(300))
    data = (TRICKY + plain + '999,E0159,2026-05-01,"a\n\nb"\n' + plain).encode()
    assert_same(index, data, tmp_path)
    assert_same(index, data.replace(b"\n", b"\r\n"), tmp_path)


def test_a_field_over_the_csv_modules_limit_is_read(
    index: CodeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The csv module refuses a field over its limit (128 KiB); validation reads it, plain or
    quoted, and leaves the module's limit as it found it."""
    monkeypatch.setattr(validate, "CHUNK_CHARS", 16)
    limit = csv.field_size_limit()
    huge = "x" * (limit + 1)
    data = (
        f"claim,hcpcs,dos,note\n1,S0353,2026-02-01,{huge}\n"
        f'2,S0353,2026-02-01,"{huge}\n{huge}"\n3,S0353,2026-02-01,x\n'
    )
    csv.field_size_limit(validate.LINE_LIMIT)
    try:
        assert_same(index, data.encode(), tmp_path)
    finally:
        csv.field_size_limit(limit)
    with (tmp_path / "claims.csv").open(newline="") as rows_in:
        result = fast(index, rows_in, io.StringIO())
    assert isinstance(result, ValidationSummary)
    assert dict(result.statuses) == {"active": 3}
    assert csv.field_size_limit() == limit


def test_unknown_codes_are_not_kept_by_the_index(index: CodeIndex) -> None:
    _starts, states = index.intervals("ZZ123")
    assert [state.status.value for state in states] == ["unknown"]
    assert "ZZ123" not in index._intervals


cells = st.sampled_from(
    [
        "S0353",
        "s0353 ",
        "E0159",
        "M1397",
        "ZZ999",
        "",
        " ",
        "2026-02-01",
        "5/1/2026",
        "31/31/2026",
        "2024-06-01",
        "a,b",
        '"',
        '""',
        '"q"',
        "x\ny",
        "x\r\ny",
        "\r",
        "\x00",
        "é",
        "\u2028",
    ]
)
row = st.lists(cells, min_size=0, max_size=5).map(",".join)
ending = st.sampled_from(["\n", "\r\n", "\r"])


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=st.lists(st.tuples(row, ending), max_size=25), chunk=st.sampled_from([1, 30, 1 << 17]))
def test_any_text_matches_the_csv_module(
    index: CodeIndex, tmp_path: Path, lines: list[tuple[str, str]], chunk: int
) -> None:
    original = validate.CHUNK_CHARS
    validate.CHUNK_CHARS = chunk
    try:
        text = "claim,hcpcs,dos\n" + "".join(body + end for body, end in lines)
        assert_same(index, text.encode(), tmp_path)
    finally:
        validate.CHUNK_CHARS = original
