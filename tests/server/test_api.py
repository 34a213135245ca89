"""The JSON API on the sample releases: each answer against the sample files read here, the
committed OpenAPI document, error shapes, size limits, and no stack trace ever."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PROJECT_ROOT, SAMPLES
from tests.server.conftest import client
from tracker.cli import cli

OPENAPI = PROJECT_ROOT / "tracker" / "server" / "openapi.json"


def _sample(quarter: str) -> dict[str, str]:
    """code -> long description of a sample file (fixed width: code 1-5, id 11, text 12-91)."""
    out: dict[str, str] = {}
    for line in (SAMPLES / f"HCPC2026_{quarter}_SAMPLE.txt").read_text("latin-1").splitlines():
        code = line[:5].strip()
        if code and line[10] in "37":
            out[code] = " ".join(line[11:91].split())
        elif code and line[10] in "48":
            out[code] = f"{out[code]} {' '.join(line[11:91].split())}".strip()
    return out


@pytest.fixture(scope="module")
def api(sample_url: str) -> Any:
    return client(sample_url)


def test_releases_list_the_three_samples(api: Any) -> None:
    body = api.get("/api/hcpcs/releases").json()
    assert [r["label"] for r in body] == ["2026-JAN", "2026-APR", "2026-JUL"]
    assert [r["record_count"] for r in body] == [len(_sample(q)) for q in ("JAN", "APR", "JUL")]
    assert body[0]["source_name"] == "HCPC2026_JAN_SAMPLE.txt"


def test_diff_is_the_json_of_the_diff_command(api: Any, sample_url: str) -> None:
    from click.testing import CliRunner

    served = api.get("/api/hcpcs/diff", params={"old": "2026-JAN", "new": "2026-APR"}).json()
    result = CliRunner().invoke(
        cli, ["--db", sample_url, "diff", "2026-JAN", "2026-APR", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert served == json.loads(result.stdout)
    jan, apr = _sample("JAN"), _sample("APR")
    added = {c["code"] for c in served["changes"] if c["kind"] == "added"}
    assert added == set(apr) - set(jan)


def test_code_state_and_history(api: Any) -> None:
    jan = _sample("JAN")
    body = api.get("/api/hcpcs/codes/s0353", params={"on": "2026-05-01"}).json()
    assert body["status"] == "active" and body["valid"] is True
    assert body["meaning"]["long_description"] == jan["S0353"]
    history = api.get("/api/hcpcs/codes/S0353/history").json()
    assert history[0]["release"] == "2026-JAN" and history[0]["kind"] == "first seen"
    known = api.get("/api/hcpcs/codes/A0227", params={"on": "2026-05-01", "known_at": "2026-JAN"})
    assert known.json()["status"] == "unknown"  # added in April: January did not know it


def test_codes_as_of_a_date(api: Any) -> None:
    body = api.get("/api/hcpcs/codes", params={"on": "2026-05-01", "status": "all"}).json()
    every = set(_sample("JAN")) | set(_sample("APR")) | set(_sample("JUL"))
    assert {row["code"] for row in body} == every


def test_validate_streams_the_annotated_csv(api: Any) -> None:
    claims = "claim,hcpcs,dos\n1,S0353,2026-02-01\n2,ZZ999,2026-02-01\n"
    response = api.post("/api/hcpcs/validate", content=claims, headers={"content-type": "text/csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["claim"], r["hcpcs_status"]) for r in rows] == [("1", "active"), ("2", "unknown")]
    assert response.headers["x-tracker-invalid"] == "1"


def test_too_large_csv_is_413_with_a_message(sample_url: str) -> None:
    small = client(sample_url, max_body=1000)
    claims = "claim,hcpcs,dos\n" + "1,S0353,2026-02-01\n" * 200
    response = small.post("/api/hcpcs/validate", content=claims)
    assert response.status_code == 413
    assert "larger than the limit of 1000 bytes" in response.json()["error"]

    def chunked():  # type: ignore[no-untyped-def]
        for _ in range(200):
            yield b"1,S0353,2026-02-01\n"

    response = small.post("/api/hcpcs/validate", content=chunked())
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/api/hcpcs/codes/S0353?on=2026-13-01", 400, "on"),
        ("/api/hcpcs/codes/S0353", 400, "on"),
        ("/api/hcpcs/codes/S0353?on=2026-05-01&known_at=1999-JAN", 404, "1999-JAN"),
        ("/api/hcpcs/diff?old=2026-JAN&new=2030-JAN", 404, "2030-JAN"),
        ("/api/hcpcs/diff?old=2026-JAN&new=2026-JAN", 400, "same release"),
        ("/api/hcpcs/codes/ZZ999/history", 404, "ZZ999"),
        ("/api/icd10pcs/releases", 404, "ICD-10-PCS"),
        ("/api/nosuch/releases", 400, "code_set"),
        ("/api/hcpcs/codes/S0%3Cb%3E/history", 400, "letters and digits"),
    ],
)
def test_errors_are_one_json_message(api: Any, path: str, status: int, words: str) -> None:
    response = api.get(path)
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ["error"] and words in body["error"]


def test_unexpected_failure_is_500_without_a_trace(sample_url: str, monkeypatch: Any) -> None:
    from tracker.server import library

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internal detail /etc/passwd")

    monkeypatch.setattr(library, "history_json", broken)
    for path in ("/api/hcpcs/codes/S0353/history", "/hcpcs/codes/S0353"):
        response = client(sample_url).get(path)
        assert response.status_code == 500
        assert "secret" not in response.text and "Traceback" not in response.text
    assert client(sample_url).get("/api/hcpcs/codes/S0353/history").json() == {
        "error": "the server could not answer this request (logged)"
    }


def test_served_openapi_is_the_committed_one(api: Any, update_golden: bool) -> None:
    served = api.get("/api/openapi.json").json()
    if update_golden:
        OPENAPI.write_text(json.dumps(served, indent=2, sort_keys=True) + "\n")
    assert served == json.loads(OPENAPI.read_text())


def test_serve_binds_loopback_by_default() -> None:
    from tracker.server.command import serve

    options = {param.name: param.default for param in serve.params}
    assert options["host"] == "127.0.0.1" and options["port"] == 8000


def test_no_endpoint_writes(sample_url: str, tmp_path: Path) -> None:
    """Every page and API answer, the database file byte for byte unchanged."""
    import hashlib

    db = Path(sample_url.removeprefix("sqlite:///"))
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    api = client(sample_url)
    for path in (
        "/",
        "/hcpcs/releases",
        "/hcpcs/diff?old=2026-JAN&new=2026-JUL",
        "/hcpcs/codes/E0159",
        "/hcpcs/search?q=wheelchair",
        "/hcpcs/year/2026",
        "/api/hcpcs/codes?on=2026-05-01",
    ):
        assert api.get(path).status_code == 200, path
    api.post("/api/hcpcs/validate", content="claim,hcpcs,dos\n1,S0353,2026-02-01\n")
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_serve_command_runs_uvicorn_on_the_store(sample_url: str, monkeypatch: Any) -> None:
    """The command as the CLI group will hold it: the db from `ctx.obj`, loopback by default,
    the answers warmed before the first request."""
    import click
    import uvicorn
    from click.testing import CliRunner

    from tracker.server.command import serve

    seen: dict[str, Any] = {}

    def fake_run(app: Any, **kwargs: Any) -> None:
        seen.update(kwargs, app=app)

    monkeypatch.setattr(uvicorn, "run", fake_run)

    @click.group()
    @click.pass_context
    def group(ctx: click.Context) -> None:
        ctx.obj = {"db": sample_url}

    group.add_command(serve)
    result = CliRunner().invoke(group, ["serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert (seen["host"], seen["port"]) == ("127.0.0.1", 8123)
    answers = seen["app"].state.answers
    assert answers.ready(answers.known_at(None))


def test_a_release_ingested_while_serving_is_seen(sqlite_url: str) -> None:
    from tracker import api as library_api

    store = library_api.open_store(sqlite_url)
    library_api.ingest(store, SAMPLES / "HCPC2026_JAN_SAMPLE.txt")
    served = client(sqlite_url)
    served.app.state.answers.ttl = 0  # recheck the release list on every question
    path = "/api/hcpcs/codes/A0227?on=2026-05-01"
    assert served.get(path).json()["status"] == "unknown"
    library_api.ingest(store, SAMPLES / "HCPC2026_APR_SAMPLE.txt")
    store.close()
    answer = served.get(path).json()
    assert (answer["status"], answer["known_at"]) == ("active", "2026-APR")
    assert answer["meaning"]["long_description"] == _sample("APR")["A0227"]


def test_repairs_of_cms_file_are_shown_with_the_release(tmp_path: Path) -> None:
    """A release whose file needed a repair (a stray backtick before the first record, as in an
    older CMS file) lists it on the releases page and in the API, escaped."""
    from tracker import api as library_api

    lines = (SAMPLES / "HCPC2026_JAN_SAMPLE.txt").read_bytes().split(b"\n")
    first = next(i for i, line in enumerate(lines) if line[5:10].isdigit())
    code = lines[first][:5].decode().strip()
    lines[first] = b"`" + lines[first]
    debris = tmp_path / "HCPC2026_JAN_SAMPLE.txt"
    debris.write_bytes(b"\n".join(lines))
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = library_api.open_store(url)
    library_api.ingest(store, debris)
    store.close()
    served = client(url)
    (anomaly,) = served.get("/api/hcpcs/releases").json()[0]["anomalies"]
    assert anomaly.startswith(f"{debris.name}:{first + 1}: stray-byte:")
    assert code in anomaly
    page = served.get("/hcpcs/releases").text
    assert "1 repair made while reading" in page
    assert f"{debris.name}:{first + 1}: stray-byte:" in page
