"""`tracker diff` and `tracker history` through the CLI, on the bundled samples."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import SAMPLES
from tracker import api
from tracker.cli import cli


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('diff') / 'tracker.db'}"
    store = api.open_store(url)
    for name in ("JAN", "APR", "JUL"):
        api.ingest(store, SAMPLES / f"HCPC2026_{name}_SAMPLE.txt")
    store.close()
    return url


def _raw_codes(path: Path) -> dict[str, str]:
    """Each code's first line (RIC 3 or 7 in column 11), read straight from the file."""
    lines = path.read_bytes().decode("latin-1").splitlines()
    return {line[:5].strip(): line for line in lines if line[10:11] in ("3", "7")}


def run(db: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--db", db, *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_diff_json_matches_the_documented_changes(db: str) -> None:
    code, out, _ = run(db, "diff", "2026-JAN", "2026-APR", "--format", "json")
    assert code == 0
    payload = json.loads(out)
    assert payload["schema_version"] == 1 and payload["consecutive"] is True
    kinds = {change["code"]: change["kind"] for change in payload["changes"]}
    assert kinds["A0227"] == kinds["J9399"] == "added"
    assert kinds["K0089"] == "purged"
    assert kinds["E0159"] == "terminated"
    assert kinds["J0599"] == kinds["K0999"] == kinds["G0599"] == "changed"
    a4999 = next(c for c in payload["changes"] if c["code"] == "A4999")
    assert a4999["flags"] == ["cosmetic"]
    assert payload["counts"]["by_kind"]["added"] == 2
    assert payload["counts"]["by_kind"]["purged"] == 1
    # A4999 changed its description under action N: the reconciliation says so.
    assert any(f["code"] == "A4999" for f in payload["findings"])


def test_diff_filters_by_category_and_prefix(db: str) -> None:
    code, out, _ = run(
        db, "diff", "2026-JAN", "2026-APR", "--format", "json", "--category", "payment"
    )
    assert code == 0
    assert [c["code"] for c in json.loads(out)["changes"]] == ["K0999"]
    code, out, _ = run(db, "diff", "2026-JAN", "2026-APR", "--format", "json", "--code-prefix", "j")
    # J0598 only had its action code reset (D -> N), which is a change in category `action`.
    assert {c["code"] for c in json.loads(out)["changes"]} == {"J0598", "J0599", "J9399"}


def test_diff_table_and_year(db: str) -> None:
    code, out, _ = run(db, "diff", "2026", "2026-JUL")
    assert code == 0
    first, second = out.splitlines()[:2]
    # JUL's action codes describe the changes since APR, which is stored: no reconciliation.
    assert first == (
        "2026-JAN (2026-01-01) → 2026-JUL (2026-07-01), reconciliation skipped: 2026-JUL's"
        " action codes describe changes since 2026-APR (a quarterly file declares the changes"
        " since the previous quarter), not since 2026-JAN; diff 2026-APR 2026-JUL to reconcile them"
    )
    assert "reconciliation:" not in out
    # The headline counts added codes apart from changed ones (read from the raw sample lines).
    jan, jul = (_raw_codes(SAMPLES / f"HCPC2026_{m}_SAMPLE.txt") for m in ("JAN", "JUL"))
    added = len(set(jul) - set(jan))
    assert added > 0 and second.startswith(f"{added} codes added, ")
    changed = sum(1 for code in set(jan) & set(jul) if jan[code] != jul[code])
    stated = re.match(r"\d+ codes added, (\d+) codes changed, (\d+) with only", second)
    assert stated is not None
    assert int(stated[1]) + int(stated[2]) == changed + len(set(jan) - set(jul))
    assert "K0089" in out and "purged" in out
    code, out, _ = run(db, "diff", "--year", "2026")
    assert code == 0
    assert "2026-JAN → 2026-APR:" in out and "2026-APR → 2026-JUL:" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["diff", "2026-JAN", "1999-APR"],
            "Error: release 1999-APR is not stored (stored: 2026-JAN, 2026-APR, 2026-JUL)\n",
        ),
        (
            ["diff", "2026-APR", "2026-APR"],
            "Error: 2026-APR and 2026-APR are the same release (2026-APR); name two\n",
        ),
        (
            ["diff", "2026-APR"],
            "Error: give two releases (tracker diff 2020-JAN 2020-APR) or --year 2020\n",
        ),
        (
            ["diff", "--year", "2019"],
            "Error: year 2019 needs at least two stored releases to diff (stored: none)\n",
        ),
        (["diff", "2026-XYZ", "2026-APR"], None),
        (["history", "Z9999"], "Error: code Z9999 is in none of the stored releases\n"),
    ],
)
def test_diff_errors_are_one_line(db: str, args: list[str], message: str | None) -> None:
    code, _, err = run(db, *args)
    assert code == 1
    assert err.startswith("Error: ") and err.count("\n") == 1
    if message:
        assert err == message


def test_different_code_sets_are_refused() -> None:
    from dataclasses import replace

    from tracker.diff import diff_snapshots
    from tracker.errors import ReleaseError
    from tracker.release import Snapshot, adhoc_info

    old = Snapshot.from_records(adhoc_info("2026-JAN"), [])
    new = Snapshot.from_records(replace(adhoc_info("2026-APR"), code_set="icd10"), [])
    with pytest.raises(ReleaseError):
        diff_snapshots(old, new)


def test_history_json(db: str) -> None:
    code, out, _ = run(db, "history", "J0598", "--format", "json")
    assert code == 0
    payload = json.loads(out)
    events = [(e["release"], e["event"]) for e in payload["events"]]
    assert events == [
        ("2026-JAN", "first seen"),
        ("2026-APR", "changed"),
        ("2026-JUL", "reactivated"),
    ]


def test_show_as_of_on_samples(db: str, tmp_path: Path) -> None:
    code, out, _ = run(db, "show", "E0159", "--as-of", "2026-05-01")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "E0159 on 2026-05-01: terminated (as known at 2026-JUL)"
    assert lines[1] == "terminated: last valid day 2026-03-31"
    assert lines[2].startswith("replaced by: E0161")


def test_filter_year_narrows_every_part_of_the_year(db: str) -> None:
    """`api.filter_year` keeps the year as a whole, each quarter and the codes born and retired
    inside the year to the asked prefix; `diff --year --format json` prints exactly that."""
    from tracker.diff import Category
    from tracker.jsonout import dump_json, year_json

    store = api.open_store(db)
    try:
        year = api.diff_year(store, 2026)
        filtered = api.filter_year(year, prefix=" j")
        payments = api.filter_year(year, categories=[Category.PAYMENT])
    finally:
        store.close()
    jan = _raw_codes(SAMPLES / "HCPC2026_JAN_SAMPLE.txt")
    apr = _raw_codes(SAMPLES / "HCPC2026_APR_SAMPLE.txt")
    # Codes CMS's APR file has and its JAN file lacks, read from the files themselves.
    born = {code for code in set(apr) - set(jan) if code.startswith("J")}
    assert born and born <= {c.code for c in filtered.steps[0].changes}
    assert len(filtered.steps) == len(year.steps) == 2
    for whole, part in zip(
        (year.overall, *year.steps), (filtered.overall, *filtered.steps), strict=True
    ):
        expected = [c.code for c in whole.changes if c.code.startswith("J")]
        assert [c.code for c in part.changes] == expected
    assert all(item.code.startswith("J") for item in filtered.transient)
    assert {c.code for c in payments.overall.changes} < {c.code for c in year.overall.changes}
    code, out, _ = run(db, "diff", "--year", "2026", "--format", "json", "--code-prefix", " j")
    assert code == 0 and out == dump_json(year_json(filtered))


def test_show_prints_the_api_code_page(db: str) -> None:
    """`tracker show` prints `api.code_page`; a code gone from the latest release says so."""
    jan = _raw_codes(SAMPLES / "HCPC2026_JAN_SAMPLE.txt")
    jul = _raw_codes(SAMPLES / "HCPC2026_JUL_SAMPLE.txt")
    gone = sorted(set(jan) - set(jul))[0]
    store = api.open_store(db)
    try:
        page = api.code_page(store, gone)
        current = api.code_page(store, sorted(jul)[0], release="2026-JUL")
    finally:
        store.close()
    assert "not in 2026-JUL" in page and gone in page
    assert "not in 2026-JUL" not in current
    assert run(db, "show", gone) == (0, page, "")
