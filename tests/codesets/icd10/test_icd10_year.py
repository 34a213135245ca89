"""Year mode for ICD-10: the fiscal year (October 1 to September 30), opened by the release in
force on October 1, with each mid-year update; HCPCS keeps its calendar year.

Releases are small ICD-10-CM order files the test writes with the project's writer, each
ingested under the label given; what each year covers follows from those labels and dates.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracker import api
from tracker.cli import cli
from tracker.codesets import get_code_set
from tracker.codesets.icd10.record import Icd10Record
from tracker.codesets.icd10.writer import order_file
from tracker.errors import ReleaseError
from tracker.report.render import environment
from tracker.report.views import FindingRow
from tracker.resources import resource_dir
from tracker.store import Store

# label -> codes carried. J00.1 appears in the January update of FY2024 and is gone by April:
# added and deleted inside the fiscal year.
RELEASES = {
    "FY2023": ["A000", "B000"],
    "FY2023-APR": ["A000", "B000", "C000"],
    "FY2024": ["A000", "C000", "D000"],
    "FY2024-JAN": ["A000", "C000", "D000", "J001"],
    "FY2024-APR": ["A000", "C000", "D000", "E000"],
    "FY2025": ["A000", "E000"],
}
HCPCS_WORDS = ("action code", "xref", "hcpcs", "cms quarterly", "quarter")


def _record(code: str) -> Icd10Record:
    return Icd10Record("icd10cm", code, True, f"Short {code}", f"Long title of {code}")


def _store(folder: Path, labels: list[str]) -> tuple[str, Store]:
    url = f"sqlite:///{folder / 'tracker.db'}"
    store = api.open_store(url)
    for label in labels:
        path = folder / f"order_{label}.txt"
        path.write_bytes(order_file(_record(code) for code in RELEASES[label]))
        api.ingest(store, path, release=label, code_set="icd10cm")
    return url, store


@pytest.fixture
def full(tmp_path: Path) -> Iterator[tuple[str, Store]]:
    url, store = _store(tmp_path, list(RELEASES))
    yield url, store
    store.close()


def test_the_spans_of_a_year() -> None:
    fiscal = get_code_set("icd10cm").year_span(2024)
    assert (fiscal.name, fiscal.start, fiscal.end) == (
        "FY2024",
        date(2023, 10, 1),
        date(2024, 9, 30),
    )
    assert fiscal.expected == ("FY2024",) and fiscal.opens_with_release_in_force
    calendar = get_code_set("hcpcs").year_span(2026)
    assert (calendar.name, calendar.start, calendar.end) == (
        "2026",
        date(2026, 1, 1),
        date(2026, 12, 31),
    )
    assert calendar.expected == ("2026-JAN", "2026-APR", "2026-JUL", "2026-OCT")
    assert not calendar.opens_with_release_in_force


def test_a_fiscal_year_runs_from_its_october_release_to_its_last_update(
    full: tuple[str, Store],
) -> None:
    _url, store = full
    year = api.diff_year(store, 2024, code_set="icd10cm")
    assert [info.label for info in year.releases] == ["FY2024", "FY2024-JAN", "FY2024-APR"]
    assert [(s.old.label, s.new.label) for s in year.steps] == [
        ("FY2024", "FY2024-JAN"),
        ("FY2024-JAN", "FY2024-APR"),
    ]
    assert year.missing == () and year.opening_note == ""
    overall = year.overall.counts_by_kind()
    assert (overall[next(k for k in overall if k.value == "added")], len(year.overall.changes)) == (
        1,
        1,
    )
    assert [(t.code, t.first_seen, t.ended_in) for t in year.transient] == [
        ("J001", "FY2024-JAN", "FY2024-APR")
    ]


def test_a_year_without_its_october_release_opens_with_the_one_in_force(tmp_path: Path) -> None:
    _url, store = _store(tmp_path, ["FY2023", "FY2023-APR", "FY2024-APR"])
    try:
        year = api.diff_year(store, 2024, code_set="icd10cm")
        assert [info.label for info in year.releases] == ["FY2023-APR", "FY2024-APR"]
        assert year.missing == ("FY2024",)
        assert "FY2024 (effective 2023-10-01) is not stored" in year.opening_note
        assert "opens with FY2023-APR" in year.opening_note
        for fmt in ("md", "html"):
            assert "FY2024 (effective 2023-10-01) is not stored" in api.report_year(
                store, 2024, fmt, code_set="icd10cm"
            )
        data = json.loads(api.report_year(store, 2024, "json", code_set="icd10cm"))
        assert "not stored" in data["opening_note"]
    finally:
        store.close()


def test_a_year_with_one_release_says_what_to_diff(tmp_path: Path) -> None:
    _url, store = _store(tmp_path, ["FY2023", "FY2024"])
    try:
        with pytest.raises(ReleaseError, match="tracker diff FY2023 FY2024"):
            api.diff_year(store, 2024, code_set="icd10cm")
    finally:
        store.close()


def test_the_cli_and_every_format_speak_icd10(full: tuple[str, Store]) -> None:
    url, _store = full
    runner = CliRunner()
    table = runner.invoke(cli, ["--db", url, "diff", "--year", "2024", "--code-set", "icd10cm"])
    assert table.exit_code == 0, table.output
    assert table.output.startswith("FY2024: 2023-10-01 … 2024-09-30, FY2024 → FY2024-APR\n")
    assert "FY2024 → FY2024-JAN: 1 added" in table.output
    assert "J00.1  FY2024-JAN → deleted in FY2024-APR" in table.output
    for fmt in ("md", "html", "csv"):
        result = runner.invoke(
            cli, ["--db", url, "report", "--year", "2024", "--code-set", "icd10cm", "--format", fmt]
        )
        assert result.exit_code == 0, result.output
        assert "FY2024" in result.output
        lowered = result.output.lower()
        assert [word for word in HCPCS_WORDS if word in lowered] == [], fmt
    pair = runner.invoke(cli, ["--db", url, "report", "FY2024", "FY2024-APR", "--format", "md"])
    assert [word for word in HCPCS_WORDS if word in pair.output.lower()] == []


def test_cosmetic_findings_say_what_declares_the_changes() -> None:
    row = FindingRow("E119", "", "seen_not_declared", "not_declared", "", "", "x", True, False)
    for ext in ("md", "html"):
        source = (
            f'{{% import "_macros.{ext}.j2" as m %}}{{{{ m.findings([], rows, false, wording) }}}}'
        )
        template = environment().from_string(source)
        icd = template.render(rows=[row], wording="the addenda do not declare")
        assert "that the addenda do not declare." in icd and "action code" not in icd
        default = environment().from_string(
            f'{{% import "_macros.{ext}.j2" as m %}}{{{{ m.findings([], rows, false) }}}}'
        )
        assert "that the action code does not declare." in default.render(rows=[row])
    # Every ICD-10 template passes the addenda wording and names no HCPCS-only notion.
    folder = resource_dir("templates")
    for path in sorted(Path(folder).glob("*icd10*.j2")):
        text = path.read_text().lower()
        assert [word for word in HCPCS_WORDS if word in text] == [], path.name
        assert "m.findings(" not in text or "the addenda do not declare" in text, path.name


def test_each_step_of_a_fiscal_year_is_reconciled_as_its_diff_is(
    tmp_path: Path, icd10_file: Callable[[str], Path]
) -> None:
    """FY2021 on the real files: FY2020 (in force on 2020-10-01) → FY2021-JAN, whose addenda
    count from FY2020; the year's step reconciles them exactly as `tracker diff` does."""
    store = api.open_store(f"sqlite:///{tmp_path / 'tracker.db'}")
    try:
        for name in ("cms_2020_dx.zip", "cms_2021_dx.zip"):
            api.ingest(store, icd10_file(name))
        plain = api.diff(store, "FY2020", "FY2021-JAN", code_set="icd10cm")
        year = api.diff_year(store, 2021, code_set="icd10cm")
        (step,) = year.steps
        assert plain.reconciled and step.reconciled and year.overall.reconciled
        assert step.reconciliation == plain.reconciliation
        assert step.findings == plain.findings
    finally:
        store.close()
