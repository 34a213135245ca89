"""The server over databases it may only read: a read-only SQLite file opened by an
unprivileged user, and a PostgreSQL role granted SELECT only. Every page, API answer and FHIR
operation is the same as over a writable copy, and nothing is written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import PROJECT_ROOT
from tests.server.conftest import client
from tests.store.test_readonly import (  # noqa: F401  (fixtures)
    _listing,
    _read_only_copy,
    _table_digest,
    _unprivileged,
    open_folder,
    pg_reader,
    seeded,
)

HCPCS = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
PATHS = [
    "/",
    "/hcpcs/releases",
    "/hcpcs/diff?old=2026-JAN&new=2026-JUL&kind=changed",
    "/hcpcs/codes/E0159",
    "/hcpcs/search?q=seat",
    "/hcpcs/year/2026",
    "/api/hcpcs/releases",
    "/api/hcpcs/diff?old=2026-JAN&new=2026-APR",
    "/api/hcpcs/codes/E0159?on=2026-05-01",
    "/api/hcpcs/codes?on=2026-05-01&status=all",
    "/api/hcpcs/codes/E0159/history",
    f"/fhir/CodeSystem/$validate-code?url={HCPCS}&code=E0159&date=2026-05-01",
    f"/fhir/CodeSystem/$lookup?system={HCPCS}&code=S0353&date=2026-02-01",
    "/fhir/CodeSystem",
]
CLAIMS = "claim,hcpcs,dos\n1,S0353,2026-02-01\n2,E0159,2026-05-01\n"
# Run in a separate process (as an unprivileged user when the tests run as root): every answer.
SCRIPT = """
import json, sys
from fastapi.testclient import TestClient
from tracker.server import create_app
api = TestClient(create_app(sys.argv[1]), raise_server_exceptions=False)
out = [[p, api.get(p).status_code, api.get(p).text] for p in json.loads(sys.argv[2])]
r = api.post("/api/hcpcs/validate", content=sys.argv[3])
out.append(["validate", r.status_code, r.text])
print(json.dumps(out))
"""


def _answers_in_process(url: str) -> list[list[object]]:
    api = client(url)
    out: list[list[object]] = [[p, api.get(p).status_code, api.get(p).text] for p in PATHS]
    response = api.post("/api/hcpcs/validate", content=CLAIMS)
    out.append(["validate", response.status_code, response.text])
    return out


def test_read_only_sqlite(seeded: Path, open_folder: Path) -> None:  # noqa: F811
    db = _read_only_copy(seeded, open_folder, folder_read_only=True)
    expected = _answers_in_process(f"sqlite:///{seeded}")
    before = _listing(db.parent)
    result = subprocess.run(
        _unprivileged([sys.executable, "-c", SCRIPT, f"sqlite:///{db}", json.dumps(PATHS), CLAIMS]),
        cwd="/",
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout)
    assert [a[1] for a in answers] == [200] * len(answers)
    assert answers == expected
    assert _listing(db.parent) == before


def test_select_only_postgresql_role(pg_reader: tuple[str, str]) -> None:  # noqa: F811
    owner, reader_url = pg_reader
    before = _table_digest(owner)
    expected = _answers_in_process(owner)
    answers = _answers_in_process(reader_url)
    assert [a[1] for a in answers] == [200] * len(answers)
    assert answers == expected
    assert _table_digest(owner) == before
