"""Claims with ICD-10-CM diagnoses, validated against CDC's real releases and conversion table.

The expected answers come from reading the raw files here, not from the tracker: each order
file sliced by CMS's layout (code in columns 7-13, the billable flag in 15, the long title from
78), the release in force on a date being the latest one effective on or before it (FY2019
from 2018-10-01, FY2020 from 2019-10-01, the January 2021 version from 2021-01-01), and the
replacements of a deleted code the rows of CDC's FY2020 conversion table (read with the csv
module) whose previous assignment is exactly that code.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.conftest import shared_path
from tracker import api
from tracker.query import CodeIndex
from tracker.store import Store
from tracker.validate import validate_claims

RELEASES = (
    ("cms_2019_dx.zip", date(2018, 10, 1)),
    ("cms_2020_dx.zip", date(2019, 10, 1)),
    ("cms_2021_dx.zip", date(2021, 1, 1)),
)
TABLE = "ICD-10-CM-Conversion-Table-FY20-Effective-10-1-2019-corrected.csv"
RawFile = dict[str, tuple[str, str]]


def _order_file(name: str) -> RawFile:
    """code → (flag, long title) of the order file inside a CDC zip."""
    with zipfile.ZipFile(shared_path("icd10", name)) as archive:
        (member,) = [n for n in archive.namelist() if re.search(r"icd10cm_order_\d{4}\w*\.txt$", n)]
        text = archive.read(member).decode("ascii")
    return {line[6:13].strip(): (line[14], line[77:].strip()) for line in text.splitlines()}


@pytest.fixture(scope="module")
def raw() -> list[tuple[date, RawFile]]:
    return [(effective, _order_file(name)) for name, effective in RELEASES]


@pytest.fixture(scope="module")
def table() -> list[list[str]]:
    data = shared_path("icd10", TABLE).read_bytes().decode("utf-8-sig", errors="replace")
    return list(csv.reader(io.StringIO(data)))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    url = f"sqlite:///{tmp_path_factory.mktemp('icd10claims') / 'tracker.db'}"
    opened = api.open_store(url)
    for name, _ in RELEASES:
        api.ingest(opened, shared_path("icd10", name))
    api.ingest(opened, shared_path("icd10", TABLE))
    yield opened
    opened.close()


def _dotted(code: str) -> str:
    return f"{code[:3]}.{code[3:]}" if len(code) > 3 else code


def _expected(
    raw: list[tuple[date, RawFile]], table: list[list[str]], code: str, on: date
) -> tuple[str, str, str, str]:
    """(status, meaning, last valid day, replacements) from the raw files alone."""
    in_force = [index for index, (effective, _) in enumerate(raw) if effective <= on]
    carried = [index for index, (_, codes) in enumerate(raw) if code in codes]
    if not carried:
        return ("unknown", "", "", "")
    now = in_force[-1] if in_force else None

    def end_of(start: int) -> tuple[str, str]:
        """The last valid day and replacements where the run of files from `start` ends."""
        dropped = next((k for k in range(start, len(raw)) if code not in raw[k][1]), None)
        if dropped is None:
            return "", ""
        window = (raw[dropped - 1][0], raw[dropped][0])
        replacements = [
            row[0]
            for row in table
            if row[2:3] == [_dotted(code)]
            and row[1].isdigit()
            and window[0] < date(int(row[1]), 10, 1) <= window[1]
        ]
        return (raw[dropped][0] - timedelta(days=1)).isoformat(), " ".join(replacements)

    if now is not None and now in carried:
        flag, title = raw[now][1][code]
        status = "valid" if flag == "1" else "header (not billable)"
        return (status, title, *end_of(now))
    if now is None or carried[0] > now:
        return ("not yet valid", raw[carried[0]][1][code][1], *end_of(carried[0]))
    last = max(index for index in carried if index <= now)
    return ("deleted", raw[last][1][code][1], *end_of(last))


def test_a_claims_file_mixing_valid_header_deleted_and_not_yet_valid_codes(
    store: Store, raw: list[tuple[date, RawFile]], table: list[list[str]], tmp_path: Path
) -> None:
    fy2019, fy2020, jan2021 = (codes for _, codes in raw)
    deleted = sorted(set(fy2019) - set(fy2020))
    added = sorted(set(jan2021) - set(fy2020))
    header = next(code for code, (flag, _) in fy2020.items() if flag == "0")
    billable = next(code for code, (flag, _) in fy2020.items() if flag == "1" and len(code) > 4)
    with_links = [code for code in deleted if any(row[2:3] == [_dotted(code)] for row in table)]
    assert with_links and added  # the files hold both kinds
    gone, new = with_links[0], added[0]
    mid_2020, mid_2021 = date(2020, 6, 1), date(2021, 6, 1)
    last_day = date(2019, 9, 30)
    # (dx1 as written, dx2 as written, date): dotted and not, any case, blanks in dx2.
    rows = [
        (billable.lower(), _dotted(header), mid_2020),
        (_dotted(gone), "", mid_2020),
        (gone.lower(), _dotted(billable).lower(), last_day),
        (_dotted(new), gone, mid_2020),
        (new, "ZZZ.99", mid_2021),
    ]
    claims = tmp_path / "claims.csv"
    with claims.open("w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["claim", "dx1", "dx2", "dos"])
        for number, (dx1, dx2, on) in enumerate(rows, start=1):
            writer.writerow([number, dx1, dx2, on.isoformat()])
    index = CodeIndex.load(store, code_set="icd10cm")
    written = io.StringIO()
    with claims.open(newline="") as rows_in:
        summary = validate_claims(
            index,
            rows_in,
            written,
            code_column=["dx1", "dx2"],
            date_column="dos",
            source_name=claims.name,
        )
    result = list(csv.reader(io.StringIO(written.getvalue())))
    suffixes = ("status", "meaning", "last_valid_day", "replacements", "release", "error")
    assert result[0] == [
        "claim",
        "dx1",
        "dx2",
        "dos",
        *(f"dx1_{s}" for s in suffixes),
        *(f"dx2_{s}" for s in suffixes),
    ]
    statuses: dict[str, int] = {}
    for (dx1, dx2, on), line in zip(rows, result[1:], strict=True):
        assert line[:4] == [line[0], dx1, dx2, on.isoformat()]  # input cells as written
        for written_code, cells in ((dx1, line[4:10]), (dx2, line[10:16])):
            if not written_code:
                assert cells == [""] * 6
                continue
            code = written_code.replace(".", "").upper()
            status, meaning, ended, replacements = _expected(raw, table, code, on)
            statuses[status] = statuses.get(status, 0) + 1
            assert cells[:4] == [status, meaning, ended, replacements], (written_code, on)
            assert cells[5] == ""
            assert bool(cells[4]) is (status != "unknown")
    assert dict(summary.statuses) == statuses
    assert {"valid", "header (not billable)", "deleted", "not yet valid", "unknown"} <= set(
        statuses
    )
    assert summary.rows == len(rows)
    assert summary.invalid == sum(n for s, n in statuses.items() if s != "valid")
    # Invalid codes are named as people write them.
    assert _dotted(gone) in summary.invalid_codes


def test_a_blank_principal_diagnosis_is_an_error_row(store: Store, tmp_path: Path) -> None:
    index = CodeIndex.load(store, code_set="icd10cm")
    written = io.StringIO()
    summary = validate_claims(
        index,
        io.StringIO("dx1,dx2,dos\n,E11.9,2020-06-01\nE11.9,,2020-13-01\n"),
        written,
        code_column=["dx1", "dx2"],
        date_column="dos",
        source_name="claims.csv",
    )
    lines = written.getvalue().splitlines()
    assert lines[1].startswith(",E11.9,2020-06-01,error,,,,,no code,error,")
    assert summary.bad_rows[0] == (2, "no code")
    assert summary.bad_row_count == 2 and summary.statuses["error"] == 2
