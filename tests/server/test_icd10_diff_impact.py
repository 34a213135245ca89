"""ICD-10 diffs and impact through `tracker serve`: the diff page, `/api/<code set>/diff`, the
impact page and `POST /api/impact`, on the real files.

Expected sets come from the order files and CDC's FY2020 conversion table read by the CLI
impact tests' own readers (not from the tracker); the API's JSON is also checked to be the
CLI's (`tracker diff --format json`, `tracker impact --format json`) for the same question.
The store holds ICD-10-CM FY2019 and FY2020 with the FY2020 conversion table and ICD-10-PCS
FY2019 and FY2020, so each label belongs to two code sets.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.conftest import PROJECT_ROOT, shared_path
from tests.jsonschema_subset import validate
from tests.server.conftest import client
from tests.test_impact_icd10 import (
    CM_ZIPS,
    CONVERSION,
    PCS_ZIPS,
    Order,
    _conversion,
    _dotted,
    _order,
)
from tracker import api
from tracker.cli import cli

SCHEMA = json.loads((PROJECT_ROOT / "tracker" / "schemas" / "impact.schema.json").read_text())


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("icdserve") / "tracker.db"
    store = api.open_store(f"sqlite:///{path}")
    for name in [CM_ZIPS["FY2019"], CM_ZIPS["FY2020"], CONVERSION, *PCS_ZIPS.values()]:
        api.ingest(store, shared_path("icd10", name))
    store.close()
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def served(url: str) -> Any:
    return client(url)


@pytest.fixture(scope="module")
def cm() -> dict[str, Order]:
    return {label: _order(CM_ZIPS[label]) for label in ("FY2019", "FY2020")}


def _cli_json(url: str, *args: str) -> Any:
    result = CliRunner().invoke(cli, ["--db", url, *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.parametrize("code_set", ["icd10cm", "icd10pcs"])
def test_api_diff_is_the_cli_json_and_matches_the_order_files(
    served: Any, url: str, code_set: str
) -> None:
    zips = CM_ZIPS if code_set == "icd10cm" else PCS_ZIPS
    old, new = _order(zips["FY2019"]), _order(zips["FY2020"])
    response = served.get(f"/api/{code_set}/diff", params={"old": "FY2019", "new": "FY2020"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == _cli_json(
        url, "diff", "FY2019", "FY2020", "--code-set", code_set, "--format", "json"
    )
    assert body["old"]["code_set"] == body["new"]["code_set"] == code_set
    kinds: dict[str, set[str]] = {}
    for change in body["changes"]:
        kinds.setdefault(change["kind"], set()).add(change["code"])
    assert kinds["deleted"] == set(old) - set(new)
    assert kinds["added"] == set(new) - set(old)
    flipped = {code for code in set(old) & set(new) if old[code][0] != new[code][0]}
    assert flipped <= kinds["changed"]


def test_diff_page_lists_icd10_changes_with_filters(served: Any, cm: dict[str, Order]) -> None:
    gone = sorted(set(cm["FY2019"]) - set(cm["FY2020"]))
    page = served.get("/icd10cm/diff", params={"old": "FY2019", "new": "FY2020"})
    assert page.status_code == 200, page.text
    assert "ICD-10-CM: FY2019 → FY2020" in page.text
    assert "Addenda checked against FY2019" in page.text
    deleted = served.get(
        "/icd10cm/diff", params={"old": "FY2019", "new": "FY2020", "kind": "deleted"}
    )
    assert f"{len(gone)} of " in deleted.text
    for code in gone:
        # Shown with the dot, linked by the stored code.
        assert f'href="/icd10cm/codes/{code}">{_dotted(code)}</a>' in deleted.text
    header = next(c for c in sorted(cm["FY2019"]) if cm["FY2019"][c][0] and not cm["FY2020"][c][0])
    status = served.get(
        "/icd10cm/diff",
        params={"old": "FY2019", "new": "FY2020", "category": "status", "q": _dotted(header)},
    )
    assert "1 of " in status.text and "<del>billable</del> → <ins>header</ins>" in status.text
    # The chapter filter: only codes of the chapter of blood diseases (D50-D89) are left.
    chapter = served.get(
        "/icd10cm/diff",
        params={
            "old": "FY2019",
            "new": "FY2020",
            "family": "Diseases of the blood and blood-forming organs and certain disorders"
            " involving the immune mechanism",
        },
    )
    codes = re.findall(r'href="/icd10cm/codes/([A-Z0-9]+)"', chapter.text)
    assert codes and all(code[0] == "D" and "50" <= code[1:3] <= "89" for code in codes)


def test_api_impact_for_icd10cm_is_the_cli_json(
    served: Any, url: str, tmp_path: Path, cm: dict[str, Order]
) -> None:
    gone = sorted(set(cm["FY2019"]) - set(cm["FY2020"]))[0]
    listed = [_dotted(gone), "E119", "Z9999999"]
    response = served.post(
        "/api/impact",
        json={"codes": listed, "code_set": "icd10cm", "from": "FY2019", "to": "FY2020"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    validate(body, SCHEMA, SCHEMA)
    assert [(c["code"], c["kind"]) for c in body["codes"]] == [
        (_dotted(gone), "deleted"),
        ("E11.9", "unchanged" if cm["FY2019"]["E119"] == cm["FY2020"]["E119"] else "changed"),
        ("Z9999999", "unknown"),
    ]
    valid = [c for c in _conversion("2019")[_dotted(gone)] if cm["FY2020"][c.replace(".", "")][0]]
    assert body["codes"][0]["replacements"]["valid_ends"] == valid
    codes = tmp_path / "dx.txt"
    codes.write_text("\n".join(listed) + "\n", encoding="utf-8")
    expected = _cli_json(
        url, "impact", str(codes), "--from", "FY2019", "--to", "FY2020", "--format", "json"
    )
    assert {**body, "source": None} == {**expected, "source": None}


def test_api_impact_for_icd10pcs_defaults_to_the_latest_two(served: Any) -> None:
    old, new = _order(PCS_ZIPS["FY2019"]), _order(PCS_ZIPS["FY2020"])
    gone = sorted(set(old) - set(new))[0]
    response = served.post("/api/impact", json={"codes": [gone], "code_set": "icd10pcs"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["from"]["code_set"], body["from"]["label"], body["to"]["label"]) == (
        "icd10pcs",
        "FY2019",
        "FY2020",
    )
    assert body["codes"][0]["kind"] == "deleted"


def test_impact_page_with_icd10cm_chosen(served: Any, cm: dict[str, Order]) -> None:
    gone = sorted(set(cm["FY2019"]) - set(cm["FY2020"]))[0]
    page = served.post(
        "/impact",
        data={"code_set": "icd10cm", "from": "FY2019", "to": "FY2020", "codes": gone},
    )
    assert page.status_code == 200, page.text
    assert '<option value="icd10cm" selected>' in page.text
    assert f'<td class="code">{_dotted(gone)}</td><td>deleted</td>' in page.text
    assert "1 deleted" in page.text
    wrong = served.post("/impact", data={"code_set": "icd10cm", "from": "2020-JAN", "codes": gone})
    assert wrong.status_code in (400, 404) and 'class="error"' in wrong.text
