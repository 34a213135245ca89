"""ICD-10-CM and ICD-10-PCS through `tracker serve`: FHIR `$lookup`/`$validate-code`, the JSON
API and the pages, on the real CMS files.

The expected answers come from the order files read here by their published layout (code
columns 7-13, the valid-for-submission flag in 15, short title 17-76, long title from 78), not
from the tracker. The store is built once for the module from three ICD-10-CM releases (FY2019,
FY2020, and the January 2021 version) and two ICD-10-PCS releases (FY2019, FY2020).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.parameters import Parameters

from tests.conftest import shared_path
from tests.server.conftest import client
from tracker import api

CM = "http://hl7.org/fhir/sid/icd-10-cm"
PCS = "http://www.cms.gov/Medicare/Coding/ICD10"
FILES = {
    ("icd10cm", "FY2019"): "cms_2019_dx.zip",
    ("icd10cm", "FY2020"): "cms_2020_dx.zip",
    ("icd10cm", "FY2021-JAN"): "cms_2021_dx.zip",
    ("icd10pcs", "FY2019"): "cms_2019_pr.zip",
    ("icd10pcs", "FY2020"): "cms_2020_pr.zip",
}

Order = dict[str, tuple[bool, str, str]]


def _order_file(name: str) -> Order:
    """code -> (billable, short title, long title), from the zip's order file."""
    with zipfile.ZipFile(shared_path("icd10", name)) as archive:
        member = next(
            n
            for n in archive.namelist()
            if Path(n).name.lower().startswith(("icd10cm_order_", "icd10pcs_order_"))
            and "addenda" not in n.lower()
        )
        text = archive.read(member).decode("latin-1")
    found: Order = {}
    for line in text.splitlines():
        if len(line) < 17:
            continue
        found[line[6:13].strip()] = (line[14] == "1", line[16:76].strip(), line[77:].strip())
    return found


@pytest.fixture(scope="module")
def raw() -> dict[tuple[str, str], Order]:
    return {key: _order_file(name) for key, name in FILES.items()}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    paths = [shared_path("icd10", name) for name in FILES.values()]
    url = f"sqlite:///{tmp_path_factory.mktemp('icd10') / 'tracker.db'}"
    store = api.open_store(url)
    for path in paths:
        api.ingest(store, path)
    store.close()
    yield client(url)


def _values(body: dict[str, Any]) -> dict[str, Any]:
    """Parameters (checked against the FHIR R4 model) as {name: value}; properties by code."""
    Parameters.model_validate(body)
    out: dict[str, Any] = {}
    for parameter in body["parameter"]:
        if parameter["name"] == "property":
            parts = {p["name"]: p for p in parameter["part"]}
            value = next(v for k, v in parts["value"].items() if k.startswith("value"))
            out[f"property:{parts['code']['valueCode']}"] = value
            continue
        values = [v for k, v in parameter.items() if k.startswith("value")]
        if values:
            out[parameter["name"]] = values[0]
    return out


def _validate(served: Any, system: str, code: str, **params: str) -> dict[str, Any]:
    response = served.get(
        "/fhir/CodeSystem/$validate-code", params={"url": system, "code": code, **params}
    )
    assert response.status_code == 200, response.text
    return _values(response.json())


def _dotted(code: str) -> str:
    return f"{code[:3]}.{code[3:]}" if len(code) > 3 else code


def test_a_billable_cm_code_with_its_dot(served: Any, raw: dict[tuple[str, str], Order]) -> None:
    billable, _, title = raw[("icd10cm", "FY2021-JAN")]["E119"]
    assert billable
    answer = _validate(served, CM, "E11.9", date="2021-02-01")
    assert answer["result"] is True
    assert (answer["code"], answer["display"]) == ("E11.9", title)
    assert answer["version"] in {"FY2019", "FY2020", "FY2021-JAN"}
    # Typed without the dot and in lower case: the same code.
    assert _validate(served, CM, "e119", date="2021-02-01")["result"] is True
    assert _validate(served, CM, "E11.9", display="not its title")["result"] is False


def test_a_cm_header_is_not_valid_on_claims(served: Any, raw: dict[tuple[str, str], Order]) -> None:
    headers = [c for c, (b, _, _) in raw[("icd10cm", "FY2021-JAN")].items() if not b]
    for code in (headers[0], "E11"):
        assert raw[("icd10cm", "FY2021-JAN")][code][0] is False
        answer = _validate(served, CM, _dotted(code))
        assert answer["result"] is False
        assert "header, not billable" in answer["message"]
        assert answer["display"] == raw[("icd10cm", "FY2021-JAN")][code][2]


def test_a_code_added_in_january_2021_honours_date_and_version(
    served: Any, raw: dict[tuple[str, str], Order]
) -> None:
    before, after = raw[("icd10cm", "FY2020")], raw[("icd10cm", "FY2021-JAN")]
    added = sorted(c for c, (b, _, _) in after.items() if b and c not in before)
    assert added
    code = added[0]
    assert _validate(served, CM, code, date="2021-02-01")["result"] is True
    early = _validate(served, CM, code, date="2020-06-01")
    assert early["result"] is False and "not yet effective" in early["message"]
    unknown = _validate(served, CM, code, date="2021-02-01", version="FY2020")
    assert unknown["result"] is False and "not a code of ICD-10-CM" in unknown["message"]
    response = served.get(
        "/fhir/CodeSystem/$lookup", params={"system": CM, "code": code, "version": "FY2020"}
    )
    assert response.status_code == 404
    OperationOutcome.model_validate(response.json())
    found = _values(
        served.get("/fhir/CodeSystem/$lookup", params={"system": CM, "code": code}).json()
    )
    assert found["display"] == after[code][2] and found["version"] == "FY2021-JAN"


def test_a_code_deleted_in_fy2020_as_known_then_and_before(
    served: Any, raw: dict[tuple[str, str], Order]
) -> None:
    old, new = raw[("icd10cm", "FY2019")], raw[("icd10cm", "FY2020")]
    deleted = sorted(c for c, (b, _, _) in old.items() if b and c not in new)
    assert deleted
    code = deleted[0]
    assert _validate(served, CM, code, date="2019-06-01")["result"] is True
    gone = _validate(served, CM, code, date=str(date(2019, 11, 1)))
    assert gone["result"] is False and "removed" in gone["message"]
    assert gone["display"] == old[code][2] and gone["version"] == "FY2019"
    # As known at FY2019, nothing said the code would go.
    assert _validate(served, CM, code, date="2019-11-01", version="FY2019")["result"] is True


def test_pcs_lookup_and_the_shared_label(served: Any, raw: dict[tuple[str, str], Order]) -> None:
    pcs = raw[("icd10pcs", "FY2020")]
    code = next(c for c, (b, _, _) in pcs.items() if b)
    response = served.get(
        "/fhir/CodeSystem/$lookup", params={"system": PCS, "code": code, "version": "FY2020"}
    )
    found = _values(response.json())
    assert (found["name"], found["display"]) == ("ICD-10-PCS", pcs[code][2])
    assert found["property:status"] == "active" and found["property:known-at"] == "FY2020"
    # FY2020 is also an ICD-10-CM label: each system reads its own release.
    cm = _values(
        served.get(
            "/fhir/CodeSystem/$lookup", params={"system": CM, "code": "E119", "version": "FY2020"}
        ).json()
    )
    assert cm["name"] == "ICD-10-CM" and cm["display"] == raw[("icd10cm", "FY2020")]["E119"][2]
    header = next(c for c, (b, _, _) in pcs.items() if not b)
    answer = _validate(served, PCS, header)
    assert answer["result"] is False and "header, not billable" in answer["message"]


def test_json_api_and_pages(served: Any, raw: dict[tuple[str, str], Order]) -> None:
    title = raw[("icd10cm", "FY2021-JAN")]["E119"][2]
    state = served.get("/api/icd10cm/codes/E11.9", params={"on": "2021-02-01"}).json()
    assert (state["code"], state["display_code"], state["status"]) == ("E119", "E11.9", "active")
    assert state["meaning"]["long_title"] == title
    header = served.get("/api/icd10cm/codes/E11", params={"on": "2021-02-01"}).json()
    assert header["valid"] is False and header["claim_status"] == "header, not billable"
    releases = served.get("/api/icd10pcs/releases").json()
    assert [r["label"] for r in releases] == ["FY2019", "FY2020"]
    assert [r["record_count"] for r in releases] == [
        len(raw[("icd10pcs", label)]) for label in ("FY2019", "FY2020")
    ]
    page = served.get("/icd10cm/codes/E11.9")
    assert page.status_code == 200 and "E11.9" in page.text and title in page.text
    search = served.get("/icd10cm/search", params={"q": "e11.9"}, follow_redirects=False)
    assert search.headers["location"] == "/icd10cm/codes/E119"
    words = served.get("/icd10cm/search", params={"q": title}).text
    assert ">E11.9</a>" in words
    assert served.get("/icd10cm/releases").status_code == 200
    # ICD-10 diffs are served (tests/server/test_icd10_diff_impact.py checks them in full).
    diff = served.get("/api/icd10cm/diff", params={"old": "FY2019", "new": "FY2020"})
    assert diff.status_code == 200, diff.text
    deleted = {c["code"] for c in diff.json()["changes"] if c["kind"] == "deleted"}
    assert deleted == set(raw[("icd10cm", "FY2019")]) - set(raw[("icd10cm", "FY2020")])
