"""Reports: golden files on the bundled samples, escaping, neutralized CSV, template overrides."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import SAMPLES
from tracker.codesets.base import snapshot_hash
from tracker.codesets.hcpcs.parsers import parse_source
from tracker.codesets.hcpcs.parsers.base import SourceFile
from tracker.csvout import neutralize
from tracker.diff import ChangeKind, ReleaseDiff, YearDiff, diff_snapshots, diff_year
from tracker.jsonout import diff_json
from tracker.release import Snapshot, adhoc_info
from tracker.report.build import build_report
from tracker.report.render import (
    ReportFormatError,
    TemplateProblem,
    markdown_escape,
    render_code,
    render_diff,
    render_year,
)
from tracker.report.rows import CSV_COLUMNS

from .conftest import rec, snap

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
SAMPLE_FILES = {
    "2026-JAN": "HCPC2026_JAN_SAMPLE.txt",
    "2026-APR": "HCPC2026_APR_SAMPLE.txt",
    "2026-JUL": "HCPC2026_JUL_SAMPLE.txt",
}


def sample_snapshot(label: str) -> Snapshot:
    """A sample release with the provenance an ingest would record (no store needed)."""
    path = SAMPLES / SAMPLE_FILES[label]
    data = path.read_bytes()
    parsed = parse_source(SourceFile(path.name, data))
    records = list(parsed.records)
    info = dataclasses.replace(
        adhoc_info(label, record_count=len(records)),
        source_name=path.name,
        source_sha256=hashlib.sha256(data).hexdigest(),
        content_sha256=snapshot_hash((r.code, r.content_hash()) for r in records),
        parser=parsed.parser,
        parser_version=parsed.parser_version,
    )
    return Snapshot.from_records(info, records)


@pytest.fixture(scope="module")
def samples() -> dict[str, Snapshot]:
    return {label: sample_snapshot(label) for label in SAMPLE_FILES}


@pytest.fixture(scope="module")
def sample_diff(samples: dict[str, Snapshot]) -> ReleaseDiff:
    return diff_snapshots(samples["2026-JAN"], samples["2026-APR"])


@pytest.fixture(scope="module")
def sample_year(samples: dict[str, Snapshot]) -> YearDiff:
    return diff_year(list(samples.values()))


def check_golden(name: str, text: str, update: bool) -> None:
    path = GOLDEN / name
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        return
    assert path.exists(), f"{path} is missing: run pytest --update-golden and review it"
    expected = path.read_bytes().decode("utf-8")
    assert text == expected, f"{name} differs from the golden file (pytest --update-golden)"


# --- Golden files ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["md", "html", "csv", "json"])
def test_release_report_golden(
    fmt: str, sample_diff: ReleaseDiff, samples: dict[str, Snapshot], update_golden: bool
) -> None:
    text = render_diff(sample_diff, fmt, new_snapshot=samples["2026-APR"])
    check_golden(f"report_2026-JAN_2026-APR.{fmt}", text, update_golden)


@pytest.mark.parametrize("fmt", ["md", "html", "csv", "json"])
def test_year_report_golden(
    fmt: str, sample_year: YearDiff, samples: dict[str, Snapshot], update_golden: bool
) -> None:
    text = render_year(sample_year, fmt, last_snapshot=samples["2026-JUL"])
    check_golden(f"year_2026.{fmt}", text, update_golden)


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_code_page_golden(fmt: str, samples: dict[str, Snapshot], update_golden: bool) -> None:
    snapshot = samples["2026-JAN"]
    record = snapshot.record("S0353")
    assert record is not None
    check_golden(f"code_S0353.{fmt}", render_code(snapshot.info, record, fmt), update_golden)


# --- Content and determinism -----------------------------------------------------------------


# Each process ingests the sample releases into its own store and prints the sha256 of every
# report it renders; hash seeds differ, so set and dict iteration orders differ between runs.
_RENDER_ALL = """
import hashlib, sys, tempfile
from pathlib import Path
from tracker import api
store = api.open_store(f"sqlite:///{Path(tempfile.mkdtemp()) / 'tracker.db'}")
for name in sys.argv[1:]:
    api.ingest(store, name)
for fmt in ("md", "html", "csv", "json"):
    pair = api.report(store, "2026-JAN", "2026-APR", fmt)
    year = api.report_year(store, 2026, fmt)
    for text in (pair, year):
        print(fmt, hashlib.sha256(text.encode("utf-8")).hexdigest())
store.close()
"""


def test_same_input_same_bytes_in_separate_processes() -> None:
    files = [str(SAMPLES / f"HCPC2026_{month}_SAMPLE.txt") for month in ("JAN", "APR", "JUL")]
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", _RENDER_ALL, *files],
            capture_output=True,
            text=True,
            env=env,
            check=True,
            timeout=300,
        )
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    assert len(outputs[0].splitlines()) == 8 and len(set(outputs[0].splitlines())) == 8


def test_json_is_the_diffs_own_dict(sample_diff: ReleaseDiff) -> None:
    text = render_diff(sample_diff, "json")
    assert text.endswith("}\n")
    assert json.loads(text) == json.loads(json.dumps(diff_json(sample_diff)))


def test_year_json_holds_every_diff(sample_year: YearDiff) -> None:
    data = json.loads(render_year(sample_year, "json"))
    assert [r["display"] for r in data["releases"]] == ["2026-JAN", "2026-APR", "2026-JUL"]
    assert data["overall"] == json.loads(json.dumps(diff_json(sample_year.overall)))
    assert len(data["steps"]) == 2


def test_markdown_content(sample_diff: ReleaseDiff, samples: dict[str, Snapshot]) -> None:
    text = render_diff(sample_diff, "md", new_snapshot=samples["2026-APR"])
    # Every added code with its full long description and added date.
    for change in sample_diff.by_kind(ChangeKind.ADDED):
        assert change.new is not None
        assert f"**{change.code}** (added {change.new.added_date})" in text
        assert markdown_escape(change.new.long_description) in text
    # The discontinued code, its date and its replacements decoded from the new release.
    assert "**E0159** terminated 2026-03-31" in text
    assert "E0161 (Seat lift mechanism, electric, with integrated battery backup" in text
    # Decoded values, cosmetic changes apart, the purged code not called a termination.
    assert "| K0999 | Pricing Indicator Code | 46 (Carrier priced" in text
    assert "### Cosmetic description changes (1)" in text
    assert "**K0089** (added 2012-01-01; was discontinued 2024-12-31)" in text
    assert "\n\n\n" not in text


def test_without_snapshot_replacements_say_so(sample_diff: ReleaseDiff) -> None:
    text = render_diff(sample_diff, "md")
    assert "E0161 (description not loaded); E0162 (description not loaded)" in text


def test_year_markdown_has_quarters(sample_year: YearDiff) -> None:
    text = render_year(sample_year, "md")
    assert "| 2026-JAN → 2026-APR | 2 | 1 | 0 | 10 | 1 |" in text
    assert "- re-activated (1): J0598" in text
    assert "## Codes born and retired inside the year (0)" in text


def test_view_counts_match_diff(sample_diff: ReleaseDiff) -> None:
    view = build_report(sample_diff)
    by_kind = sample_diff.counts_by_kind()
    assert {row.kind: row.total for row in view.kinds} == {k.value: n for k, n in by_kind.items()}
    assert sum(row.total for row in view.families) == len(sample_diff.changes)
    for bar in view.family_chart.bars:
        assert sum(segment.value for segment in bar.segments) == bar.total
        end = bar.segments[-1].x + bar.segments[-1].width
        assert view.family_chart.label_width < end <= view.family_chart.width


def test_unknown_format() -> None:
    diff = diff_snapshots(snap("2026-JAN"), snap("2026-APR"))
    with pytest.raises(ReportFormatError, match="'pdf' is not one of md, html, csv, json"):
        render_diff(diff, "pdf")


# --- Hostile descriptions --------------------------------------------------------------------

HOSTILE = "Kit <script>alert('x')</script> & co, {{ 7*7 }} {% if 1 %}x{% endif %} | *bold*"
FORMULA = '=HYPERLINK("http://example.invalid","click")'


@pytest.fixture(scope="module")
def hostile_diff() -> ReleaseDiff:
    old = snap("2026-JAN", rec("A0001"), rec("A0002", short_description="+SUM(A1)"))
    new = snap(
        "2026-APR",
        rec("A0001", long_description=HOSTILE, action_code="C"),
        rec("A0002", short_description="-1+2", action_code="S"),
        rec("A0003", long_description=FORMULA, added_date=date(2026, 4, 1), action_code="A"),
        rec("A0004", long_description=HOSTILE, added_date=date(2026, 4, 1), action_code="A"),
    )
    return diff_snapshots(old, new)


def test_html_escapes_descriptions(hostile_diff: ReleaseDiff) -> None:
    text = render_diff(hostile_diff, "html")
    assert "<script" not in text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co" in text
    assert "{{ 7*7 }}" in text
    assert "{% if 1 %}" in text
    assert ">49<" not in text and " 49 " not in text


def test_markdown_prints_template_syntax_literally(hostile_diff: ReleaseDiff) -> None:
    text = render_diff(hostile_diff, "md")
    assert "{{ 7\\*7 }} {% if 1 %}x{% endif %} \\| \\*bold\\*" in text
    assert "\\<script\\>" in text


def test_csv_neutralizes_formulas(hostile_diff: ReleaseDiff) -> None:
    rows = list(csv.reader(io.StringIO(render_diff(hostile_diff, "csv"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    cells = [cell for row in rows[1:] for cell in row]
    assert "'" + FORMULA in cells
    assert FORMULA not in cells
    assert "'+SUM(A1)" in cells and "'-1+2" in cells
    for cell in cells:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("A0001", "A0001"),
        ("2026-04-01", "2026-04-01"),
        ("", ""),
    ],
)
def test_neutralize(cell: str, expected: str) -> None:
    assert neutralize(cell) == expected


def test_csv_has_a_row_per_field_change(sample_diff: ReleaseDiff) -> None:
    rows = list(csv.DictReader(io.StringIO(render_diff(sample_diff, "csv"))))
    assert len(rows) == sum(max(1, len(change.fields)) for change in sample_diff.changes)
    assert {row["code"] for row in rows} == {change.code for change in sample_diff.changes}


# --- Templates -------------------------------------------------------------------------------


def test_user_template_overrides_report(sample_diff: ReleaseDiff, tmp_path: Path) -> None:
    (tmp_path / "report.md.j2").write_text(
        "Custom: {{ report.new.display }} has {{ report.added|length }} new codes\n"
    )
    text = render_diff(sample_diff, "md", user_templates=tmp_path)
    assert text == "Custom: 2026-APR has 2 new codes\n"
    # Templates the folder does not override still come from the project.
    assert render_diff(sample_diff, "html", user_templates=tmp_path).startswith("<!DOCTYPE html>")


def test_user_template_can_use_the_shipped_macros(sample_diff: ReleaseDiff, tmp_path: Path) -> None:
    (tmp_path / "report.md.j2").write_text(
        '{% import "_macros.md.j2" as m %}Added:\n{{ m.added(report.added) }}'
    )
    text = render_diff(sample_diff, "md", user_templates=tmp_path)
    assert text.startswith("Added:\n- **A0227** (added 2026-04-01)")


def test_broken_template_syntax_is_one_line(sample_diff: ReleaseDiff, tmp_path: Path) -> None:
    (tmp_path / "report.md.j2").write_text("# Title\n\n{% for x in report.added %}\n")
    with pytest.raises(TemplateProblem) as info:
        render_diff(sample_diff, "md", user_templates=tmp_path)
    message = str(info.value)
    assert "\n" not in message
    assert re.fullmatch(r".*report\.md\.j2:\d+: .*", message), message
    assert message.startswith(str(tmp_path / "report.md.j2"))


def test_template_runtime_error_names_the_line(sample_diff: ReleaseDiff, tmp_path: Path) -> None:
    (tmp_path / "report.md.j2").write_text("line one\nline two\n{{ report.no_such_thing }}\n")
    with pytest.raises(TemplateProblem) as info:
        render_diff(sample_diff, "md", user_templates=tmp_path)
    message = str(info.value)
    assert "\n" not in message
    where = tmp_path / "report.md.j2"
    assert message == f"{where}:3: 'tracker.report.views.ReportView object' has no attribute" + (
        " 'no_such_thing'"
    )


def test_missing_template_folder(sample_diff: ReleaseDiff, tmp_path: Path) -> None:
    with pytest.raises(TemplateProblem, match="template folder does not exist"):
        render_diff(sample_diff, "md", user_templates=tmp_path / "nowhere")


def test_html_is_self_contained(sample_year: YearDiff) -> None:
    text = render_year(sample_year, "html")
    assert "<script" not in text
    assert "<link" not in text and "@import" not in text and "url(" not in text
    assert " src=" not in text
    # The only URL is the SVG namespace, which is a name, not a fetch.
    assert set(re.findall(r"https?://[^\s\"']+", text)) == {"http://www.w3.org/2000/svg"}
    assert text.count("<svg") == 2
    assert "@media print" in text


def test_description_highlight(sample_diff: ReleaseDiff) -> None:
    text = render_diff(sample_diff, "html")
    assert "Injection, sample biologic agent<ins> (not a biosimilar)</ins>, 10 mg" in text
