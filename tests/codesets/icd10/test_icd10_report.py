"""ICD-10 diffs in every report format, from two real releases: the JSON against its schema,
the Markdown/HTML sections and wording, the CSV's rows, the codes with their dot."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.jsonschema_subset import validate
from tracker.diff import ChangeKind, ReleaseDiff
from tracker.jsonout import diff_json
from tracker.report.render import render_diff

from .conftest import Loaded
from .test_icd10_changes import _raw_flags, diff_pair

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[3] / "tracker" / "schemas" / "diff.schema.json").read_text()
)


@pytest.fixture(scope="module")
def cm_pair(icd10_release: Callable[[str], Loaded]) -> tuple[ReleaseDiff, Loaded, Loaded]:
    return diff_pair("cms_2019_dx.zip", "cms_2020_dx.zip", icd10_release)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("cms_2019_dx.zip", "cms_2020_dx.zip"),
        ("cms_2022_dx.zip", "cms_2023_dx.zip"),
        ("cms_2022_pr.zip", "cms_2022_errata.zip"),
    ],
)
def test_json_matches_the_schema(
    old: str, new: str, icd10_release: Callable[[str], Loaded]
) -> None:
    result = diff_pair(old, new, icd10_release)[0]
    data = json.loads(render_diff(result, "json"))
    validate(data, SCHEMA, SCHEMA)
    assert data["old"]["code_set"] == data["new"]["code_set"] == result.code_set
    assert set(data["counts"]["by_kind"]) == {"added", "deleted", "changed", "unchanged"}
    assert data["addenda"]["comparable"] is result.reconciled
    assert data == json.loads(json.dumps(diff_json(result)))


def test_markdown_and_html_say_what_changed(cm_pair: tuple[ReleaseDiff, Loaded, Loaded]) -> None:
    result, old, new = cm_pair
    old_flags, new_flags = _raw_flags(old.raw_order), _raw_flags(new.raw_order)
    deleted = sorted(old_flags.keys() - new_flags.keys())
    for fmt in ("md", "html"):
        text = render_diff(result, fmt)
        assert "ICD-10-CM changes FY2019 → FY2020" in text
        assert f"Deleted codes ({len(deleted)})" in text
        assert "Billable ↔ header" in text and "Reconciliation with the addenda" in text
        # CM codes with their dot, the chapter families, no HCPCS wording.
        assert all(f"{code[:3]}.{code[3:]}" in text for code in deleted if len(code) > 3)
        assert "Diseases of the circulatory system" in text
        assert "action code" not in text and "CMS's action codes" not in text


def test_csv_rows_are_the_field_changes(cm_pair: tuple[ReleaseDiff, Loaded, Loaded]) -> None:
    result = cm_pair[0]
    rows = list(csv.DictReader(io.StringIO(render_diff(result, "csv"))))
    changes = [row for row in rows if row["category"] != "addenda"]
    added = {row["code"] for row in changes if row["kind"] == "added"}
    assert len(added) == result.counts_by_kind()[ChangeKind.ADDED]
    assert all("." in code for code in added if len(code) > 4)
    switched = [row for row in changes if row["field"] == "billable"]
    assert switched and all({row["old"], row["new"]} == {"0", "1"} for row in switched)
    assert not [row for row in rows if row["category"] == "addenda"]  # reconciled, no findings
