"""The GET fast path of `$validate-code`/`$lookup`: the same bytes as the routed answer, and
remembered answers dropped when the stored releases change."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tests.conftest import SAMPLES
from tests.server.conftest import client
from tracker import api
from tracker.server.fastpath import TerminologyFastPath

HCPCS = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
QUERIES = [
    f"/fhir/CodeSystem/$validate-code?url={HCPCS}&code=E0159&date=2026-03-15",
    f"/fhir/CodeSystem/$validate-code?url={HCPCS}&code=e0159&date=2026-05-01&version=2026-APR",
    f"/fhir/CodeSystem/$validate-code?url={HCPCS}&code=E0159&display=Seat%20lift",
    f"/fhir/CodeSystem/$validate-code?url={HCPCS}&code=ZZ999",
    f"/fhir/CodeSystem/$validate-code?url={HCPCS}&code=E0159&date=15/03/2026",
    f"/fhir/CodeSystem/$validate-code?url={HCPCS}&code=E0159&version=2030-JAN",
    f"/fhir/CodeSystem/$validate-code?url={HCPCS}&code=E0159&code=E0160",
    "/fhir/CodeSystem/$validate-code?url=http://example.org&code=E0159",
    "/fhir/CodeSystem/$validate-code?code=E0159&colour=blue",
    f"/fhir/CodeSystem/$lookup?system={HCPCS}&code=E0159&date=2026-03-15",
    f"/fhir/CodeSystem/$lookup?system={HCPCS}&code=ZZ999",
    f"/fhir/CodeSystem/$lookup?system={HCPCS}&code=S0353&property=status&property=valid",
]


def test_fast_path_answers_as_the_routes_do(sample_url: str) -> None:
    routed = client(sample_url, remembered=0)
    fast = client(sample_url)
    for _ in range(2):  # computed, then remembered
        for query in QUERIES:
            expected, got = routed.get(query), fast.get(query)
            assert (got.status_code, got.content) == (expected.status_code, expected.content)
            assert got.headers["content-type"] == expected.headers["content-type"]
    layer = _fast_path(fast)
    hits = layer.hits
    statuses = {fast.get(query).status_code for query in QUERIES}
    assert statuses == {200, 400, 404}
    # Remembered now, all but the version not stored (left to the application each time).
    assert layer.hits - hits == len(QUERIES) - 1


def _fast_path(test_client: Any) -> TerminologyFastPath:
    """The middleware instance in the application's stack (built on the first request)."""
    layer = test_client.app.middleware_stack
    while not isinstance(layer, TerminologyFastPath):
        layer = layer.app
    return layer


def test_remembered_answers_follow_new_releases(tmp_path: Path) -> None:
    db = tmp_path / "tracker.db"
    url = f"sqlite:///{db}"
    store = api.open_store(url)
    for name in ("JAN", "APR"):
        api.ingest(store, SAMPLES / f"HCPC2026_{name}_SAMPLE.txt")
    fast = client(url)
    fast.app.state.answers.ttl = 0  # check the release list on every question
    query = f"/fhir/CodeSystem/$validate-code?url={HCPCS}&code=E0159&date=2026-05-01"
    before = fast.get(query).json()
    assert fast.get(query).json() == before
    assert "as known at 2026-APR" in str(before)
    api.ingest(store, SAMPLES / "HCPC2026_JUL_SAMPLE.txt")
    store.close()
    after = fast.get(query).json()
    assert "as known at 2026-JUL" in str(after)
    shutil.rmtree(tmp_path, ignore_errors=True)
