"""FHIR $lookup and $validate-code on the real releases, GET and POST, on SQLite and PostgreSQL.

Expected values come from reading CMS's files here (the workbook cells, the fixed-width text
sliced by its record layout), never from the tracker's own output. Every response body is
checked against the FHIR R4 models (`fhir.resources`, R4B package: the same CodeSystem
operations, Parameters and OperationOutcome as R4).
"""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from typing import Any

import pytest
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.codesystem import CodeSystem
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.parameters import Parameters
from python_calamine import CalamineWorkbook

from tests.server.conftest import client, shared

HCPCS = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"


# --- Independent readings of CMS's files -------------------------------------------------------


def _workbook_row(relative: str, code: str) -> dict[str, str]:
    rows = CalamineWorkbook.from_path(shared(*relative.split("/"))).get_sheet_by_index(0)
    table = rows.to_python()
    header = next(i for i, row in enumerate(table) if row and row[0] == "HCPC")
    names = [str(name) for name in table[header]]
    for row in table[header + 1 :]:
        if str(row[0]).strip() == code:
            return dict(zip(names, (str(cell) for cell in row), strict=False))
    raise AssertionError(f"{code} not in {relative}")


def _cms_day(text: str) -> date:
    return datetime.strptime(text.strip(), "%Y%m%d").date()


def _words(text: str) -> str:
    return " ".join(text.split())


def _text_description(lines: list[str], code: str) -> str | None:
    """A code's long description in a fixed-width file (record layout: code 1-5, sequence
    6-10, record id 11, long description 12-91; id 3/7 first line, 4/8 continuation)."""
    parts = [line[11:91] for line in lines if line[:5].strip() == code and line[10] in "3478"]
    return _words(" ".join(parts)) if parts else None


def _zip_lines(relative: str, member: str) -> list[str]:
    with zipfile.ZipFile(shared(*relative.split("/"))) as archive:
        return archive.read(member).decode("latin-1").splitlines()


# --- FHIR helpers -----------------------------------------------------------------------------


def _values(body: dict[str, Any]) -> dict[str, Any]:
    """Parameters as {name: value}; `property` parts as {"property:code": value}."""
    Parameters.model_validate(body)
    out: dict[str, Any] = {}
    for parameter in body["parameter"]:
        if parameter["name"] == "property":
            parts = {p["name"]: p for p in parameter["part"]}
            value = next(v for k, v in parts["value"].items() if k.startswith("value"))
            out.setdefault(f"property:{parts['code']['valueCode']}", []).append(value)
            continue
        values = [v for k, v in parameter.items() if k.startswith("value")]
        if values:
            out[parameter["name"]] = values[0]
    return out


def _ask(api: Any, operation: str, method: str, **params: str) -> tuple[int, dict[str, Any]]:
    path = f"/fhir/CodeSystem/${operation}"
    if method == "GET":
        response = api.get(path, params=params)
    else:
        kinds = {"system": "Uri", "url": "Uri", "code": "Code", "date": "DateTime"}
        parameter = []
        for name, value in params.items():
            kind = kinds.get(name, "String")
            if kind == "DateTime" and not value[:4].isdigit():
                kind = "String"  # a deliberately malformed date, still a valid Parameters
            parameter.append({"name": name, f"value{kind}": value})
        body = {"resourceType": "Parameters", "parameter": parameter}
        Parameters.model_validate(body)
        response = api.post(path, json=body, headers={"content-type": "application/fhir+json"})
    assert response.headers["content-type"].startswith("application/fhir+json")
    return response.status_code, response.json()


METHODS = ["GET", "POST"]


@pytest.fixture
def fhir(real_url: str) -> Any:
    return client(real_url)


@pytest.mark.parametrize("method", METHODS)
def test_c9053_valid_in_april_not_in_july_as_known_at_october(fhir: Any, method: str) -> None:
    october = _workbook_row("2020-OCT/HCPC2020_OCT_ANWEB.xlsx", "C9053")
    last_day = _cms_day(october["TERM DT"])
    first_day = _cms_day(october["ADD DT"])
    assert first_day <= date(2020, 4, 15) <= last_day < date(2020, 7, 15)
    display = _words(october["LONG DESCRIPTION"])
    status, body = _ask(
        fhir,
        "validate-code",
        method,
        url=HCPCS,
        code="C9053",
        date="2020-04-15",
        version="2020-OCT",
    )
    assert status == 200
    answer = _values(body)
    assert answer["result"] is True
    assert answer["display"] == display
    assert answer["system"] == HCPCS
    status, body = _ask(
        fhir,
        "validate-code",
        method,
        url=HCPCS,
        code="C9053",
        date="2020-07-15",
        version="2020-OCT",
    )
    answer = _values(body)
    assert status == 200 and answer["result"] is False
    assert "terminated" in answer["message"] and last_day.isoformat() in answer["message"]
    assert answer["version"] in {"2020-JUL", "2020-OCT"}  # the release whose record answered
    # Known at 2020-APR nothing had ended it yet: valid in July as far as April knew.
    status, body = _ask(
        fhir,
        "validate-code",
        method,
        url=HCPCS,
        code="C9053",
        date="2020-07-15",
        version="2020-APR",
    )
    assert _values(body)["result"] is True and _values(body)["version"] == "2020-APR"


@pytest.mark.parametrize("method", METHODS)
def test_lookup_gives_each_meaning_of_cs_on_its_own_dates(fhir: Any, method: str) -> None:
    old = _text_description(
        _zip_lines("2020-JAN/2020-Alpha-Numeric-HCPCS-File.zip", "HCPC2020_ANWEB_w_disclaimer.txt"),
        "CS",
    )
    april = _workbook_row("2020-APR/HCPC2020_APR_ANWEB.xlsx", "CS")
    new = _words(april["LONG DESCRIPTION"])
    assert old is not None and old != new
    new_from = _cms_day(april["ACT EFF DT"])
    before = new_from.replace(day=1) if new_from.day > 1 else date(2020, 2, 1)
    status, body = _ask(fhir, "lookup", method, system=HCPCS, code="CS", date=before.isoformat())
    assert status == 200
    answer = _values(body)
    assert answer["display"] == old
    assert answer["property:date"] == [before.isoformat()]
    status, body = _ask(fhir, "lookup", method, system=HCPCS, code="cs", date="2020-04-15")
    answer = _values(body)
    assert answer["display"] == new
    assert answer["version"] == "2020-APR"  # the release that answered
    assert answer["property:known-at"] == ["2020-OCT"]
    assert answer["name"] == "HCPCS Level II"


@pytest.mark.parametrize("method", METHODS)
def test_purged_code_is_valid_while_stored_and_removed_after(fhir: Any, method: str) -> None:
    lines_2016 = shared("2016", "HCPC2016_CONTR_ANWEB.txt").read_text("latin-1").splitlines()
    described = _text_description(lines_2016, "G9668")
    lines_2017 = _zip_lines("2017/2017-Alpha-Numeric-HCPCS-File.zip", "HCPC17_CONTR_ANWEB.txt")
    assert described is not None and _text_description(lines_2017, "G9668") is None
    status, body = _ask(fhir, "validate-code", method, url=HCPCS, code="G9668", date="2016-06-01")
    answer = _values(body)
    assert status == 200 and answer["result"] is True and answer["version"] == "2016-JAN"
    assert answer["display"] == described
    status, body = _ask(fhir, "validate-code", method, url=HCPCS, code="G9668", date="2017-06-01")
    answer = _values(body)
    assert answer["result"] is False and "removed" in answer["message"]
    # As known at 2016-JAN alone, nothing had dropped it.
    status, body = _ask(
        fhir,
        "validate-code",
        method,
        url=HCPCS,
        code="G9668",
        date="2017-06-01",
        version="2016-JAN",
    )
    assert _values(body)["result"] is True


@pytest.mark.parametrize("method", METHODS)
def test_display_mismatch_is_not_valid(fhir: Any, method: str) -> None:
    april = _workbook_row("2020-APR/HCPC2020_APR_ANWEB.xlsx", "C9053")
    short = _words(april["SHORT DESCRIPTION"])
    status, body = _ask(
        fhir, "validate-code", method, url=HCPCS, code="C9053", date="2020-04-15", display=short
    )
    assert _values(body)["result"] is True  # the short description is a display too
    status, body = _ask(
        fhir,
        "validate-code",
        method,
        url=HCPCS,
        code="C9053",
        date="2020-04-15",
        display="Injection, something else, 1 mg",
    )
    answer = _values(body)
    assert status == 200 and answer["result"] is False
    assert "Injection, something else, 1 mg" in answer["message"]
    assert answer["display"] == _words(april["LONG DESCRIPTION"])


def _outcome(status: int, body: dict[str, Any], expected: int) -> str:
    assert status == expected, body
    outcome = OperationOutcome.model_validate(body)
    return str(outcome.issue[0].diagnostics)


@pytest.mark.parametrize("method", METHODS)
def test_bad_parameters_are_400_and_unknown_system_404(fhir: Any, method: str) -> None:
    assert "date" in _outcome(
        *_ask(fhir, "validate-code", method, url=HCPCS, code="C9053", date="15/04/2020"), 400
    )
    assert "code" in _outcome(*_ask(fhir, "lookup", method, system=HCPCS), 400)
    assert "url" in _outcome(*_ask(fhir, "validate-code", method, code="C9053"), 400)
    assert "frobnicate" in _outcome(
        *_ask(fhir, "lookup", method, system=HCPCS, code="C9053", frobnicate="1"), 400
    )
    assert "http://example.org/x" in _outcome(
        *_ask(fhir, "lookup", method, system="http://example.org/x", code="C9053"), 404
    )
    # ICD-10-CM is a code set the server knows but does not hold yet.
    assert "ICD-10-CM" in _outcome(*_ask(fhir, "lookup", method, system=ICD10CM, code="A00"), 404)
    assert "2019-JAN" in _outcome(
        *_ask(fhir, "lookup", method, system=HCPCS, code="C9053", version="2019-JAN"), 404
    )
    assert "ZZ999" in _outcome(*_ask(fhir, "lookup", method, system=HCPCS, code="ZZ999"), 404)


def test_post_that_is_not_parameters_is_400(fhir: Any) -> None:
    response = fhir.post("/fhir/CodeSystem/$lookup", content=b"{not json")
    _outcome(response.status_code, response.json(), 400)
    response = fhir.post("/fhir/CodeSystem/$lookup", json={"resourceType": "Patient"})
    _outcome(response.status_code, response.json(), 400)


def test_metadata_and_code_system_resources(fhir: Any) -> None:
    metadata = fhir.get("/fhir/metadata")
    assert metadata.status_code == 200
    statement = CapabilityStatement.model_validate(metadata.json())
    assert statement.fhirVersion == "4.0.1"
    listing = fhir.get("/fhir/CodeSystem", params={"url": HCPCS}).json()
    versions = [entry["resource"]["version"] for entry in listing["entry"]]
    assert versions == [
        "2016-JAN",
        "2017-JAN",
        "2018-JAN",
        "2020-JAN",
        "2020-APR",
        "2020-JUL",
        "2020-OCT",
    ]
    for entry in listing["entry"]:
        CodeSystem.model_validate(entry["resource"])
    one = fhir.get("/fhir/CodeSystem/hcpcs-2020-apr").json()
    resource = CodeSystem.model_validate(one)
    april = CalamineWorkbook.from_path(shared("2020-APR", "HCPC2020_APR_ANWEB.xlsx"))
    table = april.get_sheet_by_index(0).to_python()
    header = next(i for i, row in enumerate(table) if row and row[0] == "HCPC")
    codes = {str(row[0]).strip() for row in table[header + 1 :] if str(row[0]).strip()}
    assert resource.count == len(codes)
    assert resource.url == HCPCS and resource.version == "2020-APR"


def test_sqlite_and_postgresql_give_the_same_answers(real_store_url: str, real_pg_url: str) -> None:
    questions = [
        ("validate-code", {"url": HCPCS, "code": "C9053", "date": "2020-07-15"}),
        ("validate-code", {"url": HCPCS, "code": "G9668", "date": "2017-06-01"}),
        ("lookup", {"system": HCPCS, "code": "CS", "date": "2020-02-01"}),
        ("lookup", {"system": HCPCS, "code": "CS", "date": "2020-04-15", "version": "2020-APR"}),
        ("lookup", {"system": HCPCS, "code": "C9483", "date": "2018-03-01"}),
    ]
    sqlite, postgresql = client(real_store_url), client(real_pg_url)
    for operation, params in questions:
        path = f"/fhir/CodeSystem/${operation}"
        assert sqlite.get(path, params=params).json() == postgresql.get(path, params=params).json()
