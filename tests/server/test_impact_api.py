"""`POST /api/impact` and the impact page, on the real releases and on the samples.

The expected kinds come from the raw CMS files read by the impact tests' own readers (not from
the tracker); the JSON is checked against the impact schema and against `tracker impact
--format json` for the same list.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.conftest import PROJECT_ROOT
from tests.jsonschema_subset import validate
from tests.server.conftest import client
from tests.test_impact import LABELS, Raw, raw  # noqa: F401  (the raw files, read independently)
from tracker.cli import cli
from tracker.server.impact_request import MAX_IMPACT_BYTES, MAX_IMPACT_CODES

SCHEMA = json.loads((PROJECT_ROOT / "tracker" / "schemas" / "impact.schema.json").read_text())


@pytest.fixture(scope="module")
def real(real_store_url: str) -> Any:
    return client(real_store_url)


@pytest.fixture(scope="module")
def samples(sample_url: str) -> Any:
    return client(sample_url)


def _kinds(body: dict[str, Any]) -> dict[str, str]:
    return {entry["code"]: entry["kind"] for entry in body["codes"]}


def test_acceptance_list_between_2020_jan_and_oct(real: Any, raw: dict[str, Raw]) -> None:  # noqa: F811
    jan, october = raw["2020-JAN"], raw["2020-OCT"]
    # Read from the files: C9053 new in 2020 and ended before October with J0791 its XREF;
    # G9668 carried by 2016 only (purged long before); ZZ999 in no file.
    assert "C9053" not in jan and october["C9053"]["xrefs"] == ["J0791"]
    assert october["C9053"]["termination"] < date(2020, 10, 1)
    assert "G9668" in raw["2016-JAN"] and all("G9668" not in raw[x] for x in LABELS[1:])
    assert all("ZZ999" not in release for release in raw.values())
    assert jan["CS"]["long"].split()[:2] != october["CS"]["long"].split()[:2]
    response = real.post(
        "/api/impact",
        json={"codes": ["G0202", "C9053", "CS", "G9668", "ZZ999"], "from": "2020-JAN"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    validate(body, SCHEMA, SCHEMA)
    assert (body["from"]["label"], body["to"]["label"]) == ("2020-JAN", "2020-OCT")
    assert _kinds(body) == {
        "G0202": "unchanged",  # terminated 2017: unchanged in 2020, status terminated
        "C9053": "added",
        "CS": "reused",
        "G9668": "absent",
        "ZZ999": "unknown",
    }
    c9053 = next(e for e in body["codes"] if e["code"] == "C9053")
    assert c9053["status"] == "terminated"
    assert "J0791" in json.dumps(c9053["replacements"])


def test_g0202_terminated_2017_to_2018_with_default_from(
    real: Any,
    raw: dict[str, Raw],  # noqa: F811
) -> None:
    after = raw["2018-JAN"]["G0202"]
    assert raw["2017-JAN"]["G0202"]["termination"] is None
    assert after["termination"] == date(2017, 12, 31) and after["xrefs"] == ["77067"]
    # The list as a text body, `to` in the query: `from` is the release before it.
    response = real.post(
        "/api/impact?to=2018-JAN",
        content="# fee schedule\nG0202\n",
        headers={"content-type": "text/plain"},
    )
    body = response.json()
    validate(body, SCHEMA, SCHEMA)
    assert body["from"]["label"] == "2017-JAN"
    assert _kinds(body) == {"G0202": "terminated"}
    assert "77067" in json.dumps(body["codes"][0]["replacements"])


def test_same_json_as_the_command(real: Any, real_store_url: str, tmp_path: Path) -> None:
    listing = tmp_path / "codes.txt"
    listing.write_text("C9053\nJ0791\nCS\nG9668\nE0l59\n")
    result = CliRunner().invoke(
        cli, ["--db", real_store_url, "impact", str(listing), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    expected = json.loads(result.stdout)
    served = real.post(
        "/api/impact", content=listing.read_bytes(), headers={"content-type": "text/plain"}
    ).json()
    # Only the source differs: the command names its file, the API the request.
    assert served["source"] == "codes"
    assert {**served, "source": None} == {**expected, "source": None}


def test_csv_upload_and_form(samples: Any) -> None:
    upload = samples.post(
        "/api/impact",
        files={"file": ("chargemaster.csv", b"Charge,HCPCS\n12,E0159\n13,S0353\n")},
        data={"column": "HCPCS", "from": "2026-JAN", "to": "2026-APR"},
    )
    assert upload.status_code == 200, upload.text
    body = upload.json()
    validate(body, SCHEMA, SCHEMA)
    assert body["source"] == "chargemaster.csv"
    assert _kinds(body) == {"E0159": "terminated", "S0353": "unchanged"}
    pasted = samples.post("/api/impact", data={"codes": "s0353\n"}).json()
    assert (pasted["from"]["label"], pasted["to"]["label"]) == ("2026-APR", "2026-JUL")
    assert _kinds(pasted) == {"S0353": "unchanged"}


@pytest.mark.parametrize(
    ("body", "content_type", "status", "words"),
    [
        (b"", "application/json", 400, "not JSON"),
        (b"[]", "application/json", 400, "JSON object"),
        (b'{"codes": 5}', "application/json", 400, "codes is required"),
        (b'{"codes": ["E0159"], "extra": 1}', "application/json", 400, "extra: not a field"),
        (b'{"codes": ["E0159"], "to": "2030-JAN"}', "application/json", 404, "not stored"),
        (
            b'{"codes": ["E0159"], "from": "2026-JUL", "to": "2026-JAN"}',
            "application/json",
            400,
            "effective after",
        ),
        (b'{"codes": ["E0159"], "to": "2026-JAN"}', "application/json", 400, "before it"),
        (b'{"codes": "a,b\\n1,E0159", "column": "c"}', "application/json", 400, "no column"),
        (b"\xff\xfe", "text/plain", 400, "UTF-8"),
        (b"# only a comment\n", "text/plain", 400, "no codes"),
        (b"E0159", "image/png", 415, "content type"),
        (b"E0159", "multipart/form-data", 400, "boundary"),
    ],
)
def test_bad_input_is_one_message(
    samples: Any, body: bytes, content_type: str, status: int, words: str
) -> None:
    response = samples.post("/api/impact", content=body, headers={"content-type": content_type})
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error"} and words in response.json()["error"]


def test_size_limits_are_413(samples: Any) -> None:
    large = b"E0159\n" * (MAX_IMPACT_BYTES // 6 + 1)
    response = samples.post("/api/impact", content=large, headers={"content-type": "text/plain"})
    assert response.status_code == 413 and "limit" in response.json()["error"]
    many = "\n".join(f"A{n:05d}" for n in range(MAX_IMPACT_CODES + 1)).encode()
    assert len(many) < MAX_IMPACT_BYTES
    response = samples.post("/api/impact", content=many, headers={"content-type": "text/plain"})
    assert response.status_code == 413 and f"limit is {MAX_IMPACT_CODES}" in response.text
    page = samples.post("/impact", files={"file": ("big.txt", large)})
    assert page.status_code == 413 and "limit" in page.text


def test_page_shows_the_kinds_and_a_shareable_link(samples: Any) -> None:
    form = samples.get("/impact")
    assert form.status_code == 200 and "<textarea" in form.text
    answer = samples.post("/impact", data={"codes": "E0159\nZZ999\n", "from": "2026-JAN"})
    assert answer.status_code == 200
    assert "1 terminated" in answer.text and "1 unknown" in answer.text
    assert 'href="/impact?' in answer.text
    shared = samples.get("/impact", params={"codes": "E0159\nZZ999", "from": "2026-JAN"})
    assert "1 terminated" in shared.text
    bad = samples.get("/impact", params={"codes": "E0159", "to": "2030-JAN"})
    assert bad.status_code == 404 and "2030-JAN" in bad.text and "Traceback" not in bad.text
    escaped = samples.post("/impact", data={"codes": "<script>x</script>"})
    assert "<script>x" not in escaped.text
    assert 'href="/impact?code_set=hcpcs"' in samples.get("/hcpcs/releases").text
