"""`tracker.terminal`: how the CLI lays out its answers, checked on answers built by hand.

The commands' whole outputs are checked through the CLI (test_cli.py, test_diff_cli.py,
test_cli_report_codes.py); here each layout rule on its own, with the expected text written
out by hand.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import pytest
from rich.table import Table
from rich.text import Text

from tracker import terminal
from tracker.codesets.hcpcs.record import Record, RecordKind
from tracker.diff import diff_snapshots
from tracker.release import Snapshot, adhoc_info
from tracker.validate import ValidationSummary
from tracker.verify import VerifyReport


def _plain(lines: list[Text]) -> list[str]:
    return [line.plain for line in lines]


def test_columns_align_and_trim_each_line() -> None:
    table = terminal.columns(("code", "description"), [["A1", "x"], ["G0101", "a longer one"]])
    assert table == ("code   description\n-----  ------------\nA1     x\nG0101  a longer one")


def test_columns_print_file_content_as_written_but_escaped() -> None:
    """Markup stays literal; a control character cannot reach the terminal."""
    table = terminal.columns(("d",), [["[red]x[/red]"], ["bell\x07"]])
    lines = table.splitlines()
    assert lines[2] == "[red]x[/red]"
    assert "\x07" not in table and lines[3].startswith("bell")


def test_columns_with_no_rows_keep_the_header() -> None:
    assert terminal.columns(("code", "status"), []) == "code  status\n----  ------"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "—"),
        ("", "—"),
        ((), "—"),
        (("A", "B"), "A B"),
        (["A4216", "A4217"], "A4216 A4217"),
        (date(2026, 4, 1), "2026-04-01"),
        (7, "7"),
        ("x" * 60, "x" * 60),
        ("x" * 61, "x" * 59 + "…"),
    ],
)
def test_short_cells(value: object, expected: str) -> None:
    assert terminal.short(value) == expected


def test_short_cuts_at_the_width_asked() -> None:
    assert terminal.short("abcdef", width=4) == "abc…"


def test_verify_lines_when_all_is_well() -> None:
    report = VerifyReport(releases_checked=3, record_versions_checked=41)
    out, err, summary = terminal.verify_lines(report)
    assert (out, err) == ([], [])
    assert summary == "ok: 3 releases, 41 record versions verified"


def test_verify_lines_with_repairs_and_problems() -> None:
    report = VerifyReport(
        releases_checked=2,
        record_versions_checked=10,
        problems=["release 2026-JAN: snapshot content hash does not match"],
        repairs=["release 2016-JAN: line 7: a TAB read as spaces"],
    )
    out, err, summary = terminal.verify_lines(report)
    assert _plain(out) == ["repaired release 2016-JAN: line 7: a TAB read as spaces"]
    assert _plain(err) == ["MISMATCH release 2026-JAN: snapshot content hash does not match"]
    assert summary == (
        "1 problems found in 2 releases, 10 record versions (repairs of CMS's files on record: 1)"
    )


def test_validation_summary_counts_most_first_and_caps_bad_rows() -> None:
    summary = ValidationSummary(
        rows=25,
        statuses=Counter({"unknown": 3, "active": 10, "error": 12}),
        invalid_codes=Counter({"Z9999": 2, "Z9998": 1}),
        bad_rows=[(line, "date 'x' is not a date") for line in range(2, 14)],
        bad_row_count=12,
    )
    out, err = terminal.validation_summary(summary, claims="claims.csv", output="out.csv")
    assert _plain(out) == [
        "25 rows checked, written to out.csv",
        "  error                      12",
        "  active                     10",
        "  unknown                     3",
        "top invalid codes: Z9999 (2), Z9998 (1)",
    ]
    assert _plain(err)[0] == "claims.csv:2: date 'x' is not a date"
    assert len(err) == terminal.BAD_ROWS_SHOWN + 1
    assert _plain(err)[-1] == "… and 2 more rows that could not be checked"


def test_validation_summary_without_output_or_problems() -> None:
    summary = ValidationSummary(rows=1, statuses=Counter({"active": 1}))
    out, err = terminal.validation_summary(summary, claims="c.csv", output=None)
    assert _plain(out) == ["1 rows checked", "  active                      1"]
    assert err == []


def _record(code: str, **fields: Any) -> Record:
    base: dict[str, Any] = {
        "code": code,
        "kind": RecordKind.PROCEDURE,
        "long_description": f"Injection, test drug {code}, 1 mg",
        "short_description": f"Inj test {code}",
        "added_date": date(2010, 1, 1),
        "action_effective_date": date(2010, 1, 1),
        "action_code": "N",
    }
    base.update(fields)
    return Record(**base)


def test_diff_blocks_of_a_small_diff() -> None:
    """January holds J0001 and J0002; April rewords J0001 and adds J0003."""
    jan = [_record("J0001"), _record("J0002")]
    apr = [
        _record(
            "J0001",
            long_description="Injection, test drug J0001, 2 mg",
            action_code="C",
            action_effective_date=date(2026, 4, 1),
        ),
        _record("J0002"),
        _record("J0003", action_code="A", added_date=date(2026, 4, 1)),
    ]
    result = diff_snapshots(
        Snapshot.from_records(adhoc_info("2026-JAN"), jan),
        Snapshot.from_records(adhoc_info("2026-APR"), apr),
    )
    blocks = terminal.diff_blocks(result)
    head, counts, table, listing = blocks[:4]
    assert isinstance(head, str) and head.startswith(
        "2026-JAN (2026-01-01) → 2026-APR (2026-04-01), "
    )
    assert counts == (
        "1 codes added, 1 codes changed, 0 with only the action code or its date changed,"
        " 1 unchanged"
    )
    assert isinstance(table, Table)
    assert isinstance(listing, str)
    rows = [line.split() for line in listing.splitlines()]
    assert rows[0] == ["code", "kind", "field", "old", "new", "flags"]
    codes = [row[0] for row in rows[2:] if row[0].startswith("J")]
    assert codes == ["J0001", "J0003"]
    assert any("1 mg" in line and "2 mg" in line for line in listing.splitlines())
