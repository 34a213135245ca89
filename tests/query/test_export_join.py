"""The exported validity-interval table, joined in SQL, answers each claim as `tracker validate`.

A claims file of several thousand rows is generated over the real HCPCS releases: codes the
releases carry, unknown codes, codes typed in lower case or with spaces, and dates of service
on and beside every date that can move an answer (each record's added, termination and action
effective dates, each release's effective date), plus dates spread over the years. Every row is
validated by `tracker validate`, then answered by the join the README gives, on PostgreSQL
(through the store's own view `tracker_code_validity`), on DuckDB (over the exported Parquet
and CSV files) and on SQLite (the view again); every answer column must agree on every row.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import REAL_FILES, fresh_pg_database, shared_path
from tracker import api
from tracker.csvout import neutralize
from tracker.export import export_intervals, store_intervals

SEED = 20261202
SPREAD_ROWS = 2000
Answer = tuple[str, str, str, str, str]  # status, description, termination, replacements, release

# The README's join, for each engine: a code with no row is unknown.
JOIN_COLUMNS = """
    c.claim_id,
    coalesce(v.status, 'unknown') AS status,
    coalesce(v.meaning, '') AS meaning,
    v.termination_date,
    coalesce(v.replacements, '') AS replacements,
    coalesce(v.release, '') AS release
"""
VIEW_JOIN = f"""
SELECT {JOIN_COLUMNS}
FROM claims c
LEFT JOIN tracker_code_validity v
  ON v.code_set = 'hcpcs'
 AND v.code = upper(trim(c.hcpcs))
 AND c.dos BETWEEN v.valid_from AND v.valid_to
ORDER BY c.claim_id
"""


def _boundary_dates(url: str) -> tuple[list[str], list[str], list[date]]:
    """Every stored code, the codes some release dropped, and every date that can move an
    answer, read from the store's own columns and release rows (not from the exported table)."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:
        codes = sorted(
            connection.execute(text("SELECT DISTINCT code FROM snapshot_entries")).scalars()
        )
        dropped = sorted(
            connection.execute(text("SELECT DISTINCT code FROM snapshot_removals")).scalars()
        )
        # SQLite hands dates back as text, PostgreSQL as dates.
        dates: set[date] = {
            date.fromisoformat(str(found)[:10])
            for found in connection.execute(text("SELECT effective_date FROM releases")).scalars()
        }
        for column in ("added_date", "termination_date"):
            dates.update(
                date.fromisoformat(str(found)[:10])
                for found in connection.execute(
                    text(f"SELECT DISTINCT {column} FROM record_versions")
                ).scalars()
                if found is not None
            )
        for body in connection.execute(text("SELECT body FROM record_versions")).scalars():
            # The action effective date is kept only in the record's body.
            marker = '"action_effective_date": "'
            at = body.find(marker)
            if at < 0:
                marker = '"action_effective_date":"'
                at = body.find(marker)
            if at >= 0:
                dates.add(date.fromisoformat(body[at + len(marker) : at + len(marker) + 10]))
    engine.dispose()
    return codes, dropped, sorted(dates)


def _typed(code: str, rng: random.Random) -> str:
    """The code as a claims system might hold it."""
    choice = rng.random()
    if choice < 0.1:
        return code.lower()
    if choice < 0.15:
        return f" {code} "
    return code


def write_claims(url: str, path: Path) -> int:
    """The generated claims file (claim_id, hcpcs, dos); its row count."""
    rng = random.Random(SEED)
    codes, dropped, boundaries = _boundary_dates(url)
    assert len(codes) > 7000 and len(boundaries) > 100, (len(codes), len(boundaries))
    assert dropped
    rows: list[tuple[str, date]] = []
    # Every boundary date, the day before and the day after, each on a few random codes.
    for boundary in boundaries:
        for shift in (-1, 0, 1):
            on = boundary + timedelta(days=shift)
            for code in rng.sample(codes, 3):
                rows.append((_typed(code, rng), on))
    # Codes with their own dates: each of a sample around its record's dates.
    for code in rng.sample(codes, 600):
        for year in (2005, 2015, 2016, 2017, 2018, 2019, 2020, 2021):
            rows.append((_typed(code, rng), date(year, rng.randint(1, 12), rng.randint(1, 28))))
    # Codes a release dropped (purged or no longer listed), before and after.
    for code in dropped:
        for year in (2016, 2018, 2019, 2021):
            rows.append((_typed(code, rng), date(year, 6, 15)))
    for _ in range(SPREAD_ROWS):
        on = date(2000, 1, 1) + timedelta(days=rng.randint(0, 365 * 25))
        rows.append((_typed(rng.choice(codes), rng), on))
    # Codes no release carries.
    for unknown in ("ZZZZ9", "A000", "J99999", "Q"):
        rows.append((unknown, date(2020, 5, 1)))
    rng.shuffle(rows)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["claim_id", "hcpcs", "dos"])
        for claim_id, (code, on) in enumerate(rows, start=1):
            writer.writerow([claim_id, code, on.isoformat()])
    return len(rows)


def validated(url: str, claims: Path, tmp_path: Path) -> dict[int, Answer]:
    """What `tracker validate` appends to each row, by claim id."""
    store = api.open_store(url)
    try:
        annotated = tmp_path / "annotated.csv"
        summary = api.validate(store, claims, annotated)
    finally:
        store.close()
    assert summary.bad_row_count == 0
    answers: dict[int, Answer] = {}
    with annotated.open(newline="", encoding="utf-8") as rows:
        for row in csv.DictReader(rows):
            answers[int(row["claim_id"])] = (
                row["hcpcs_status"],
                row["hcpcs_description"],
                row["hcpcs_termination_date"],
                row["hcpcs_replacements"],
                row["hcpcs_release"],
            )
    return answers


def _joined(rows: Iterator[tuple[object, ...]], *, neutralized: bool) -> dict[int, Answer]:
    """The join's rows as validate's answer columns (validate neutralizes descriptions; a
    Parquet file and a database hold them as read)."""
    answers: dict[int, Answer] = {}
    for claim_id, status, meaning, termination, replacements, release in rows:
        description = str(meaning) if neutralized else neutralize(str(meaning))
        ended = "" if termination is None else str(termination)
        answers[int(str(claim_id))] = (
            str(status),
            description,
            ended,
            str(replacements),
            str(release),
        )
    return answers


def assert_same(joined: dict[int, Answer], expected: dict[int, Answer], rows: int) -> None:
    assert len(expected) == rows
    assert joined.keys() == expected.keys()
    differing = [
        (claim_id, joined[claim_id], expected[claim_id])
        for claim_id in expected
        if joined[claim_id] != expected[claim_id]
    ]
    assert not differing, differing[:5]
    # The file exercises every status the releases can give, not only `active`.
    statuses = {answer[0] for answer in expected.values()}
    assert {"active", "terminated", "removed", "not yet effective", "unknown"} <= statuses


@pytest.fixture(scope="module")
def claims_on_sqlite(
    real_store_url: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, int, dict[int, Answer]]:
    folder = tmp_path_factory.mktemp("claims")
    claims = folder / "claims.csv"
    rows = write_claims(real_store_url, claims)
    assert rows > 5000
    return claims, rows, validated(real_store_url, claims, folder)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_duckdb_join_over_the_exported_file_matches_validate(
    real_store_url: str,
    claims_on_sqlite: tuple[Path, int, dict[int, Answer]],
    tmp_path: Path,
    fmt: str,
) -> None:
    duckdb = pytest.importorskip("duckdb") if not _on_ci() else __import__("duckdb")
    claims, rows, expected = claims_on_sqlite
    table = tmp_path / f"intervals.{fmt}"
    store = api.open_store(real_store_url)
    try:
        summary = export_intervals(store, table, "parquet" if fmt == "parquet" else "csv")
    finally:
        store.close()
    assert summary.rows > summary.codes > 7000
    if fmt == "parquet":
        source = f"read_parquet('{table}')"
    else:
        source = (
            f"read_csv('{table}', header = true, all_varchar = true, quote = '\"', escape = '\"')"
        )
    connection = duckdb.connect()
    connection.execute(
        f"CREATE TABLE claims AS SELECT * FROM read_csv('{claims}', header = true,"
        " columns = {'claim_id': 'INTEGER', 'hcpcs': 'VARCHAR', 'dos': 'DATE'})"
    )
    connection.execute(
        "CREATE VIEW tracker_code_validity AS SELECT code_set, code,"
        " CAST(valid_from AS DATE) AS valid_from, CAST(valid_to AS DATE) AS valid_to, status,"
        " meaning, CAST(nullif(CAST(termination_date AS VARCHAR), '') AS DATE)"
        " AS termination_date, replacements, release"
        f" FROM {source}"
    )
    found = connection.execute(VIEW_JOIN).fetchall()
    joined = _joined(iter(found), neutralized=fmt == "csv")
    assert_same(joined, expected, rows)


@pytest.mark.slow
def test_sqlite_view_join_matches_validate(
    real_store_url: str,
    claims_on_sqlite: tuple[Path, int, dict[int, Answer]],
    tmp_path: Path,
) -> None:
    claims, rows, expected = claims_on_sqlite
    copy = tmp_path / "tracker.db"
    copy.write_bytes(Path(real_store_url.removeprefix("sqlite:///")).read_bytes())
    url = f"sqlite:///{copy}"
    store = api.open_store(url)
    try:
        first = store_intervals(store)
        again = store_intervals(store)
    finally:
        store.close()
    assert first.written and not again.written and again.generation == first.generation
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text("CREATE TEMP TABLE claims (claim_id INTEGER, hcpcs TEXT, dos DATE)")
        )
        connection.execute(
            text("INSERT INTO claims VALUES (:claim_id, :hcpcs, :dos)"), _claim_rows(claims)
        )
        found = connection.execute(text(VIEW_JOIN)).all()
    engine.dispose()
    assert_same(_joined(iter(map(tuple, found)), neutralized=False), expected, rows)


@pytest.mark.slow
@pytest.mark.postgres
def test_postgresql_view_join_matches_validate(tmp_path: Path) -> None:
    paths = [shared_path("cms-hcpcs", *name.split("/")) for name in REAL_FILES]
    with fresh_pg_database("tracker_export") as url:
        store = api.open_store(url)
        try:
            for path in paths:
                api.ingest(store, path)
            stored = store_intervals(store)
        finally:
            store.close()
        assert stored.written and stored.rows > 7000
        claims = tmp_path / "claims.csv"
        rows = write_claims(url, claims)
        expected = validated(url, claims, tmp_path)
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(
                text("CREATE TEMP TABLE claims (claim_id integer, hcpcs text, dos date)")
            )
            connection.execute(
                text("INSERT INTO claims VALUES (:claim_id, :hcpcs, :dos)"),
                _claim_rows(claims),
            )
            found = connection.execute(text(VIEW_JOIN)).all()
        engine.dispose()
    assert_same(_joined(iter(map(tuple, found)), neutralized=False), expected, rows)


def _claim_rows(claims: Path) -> list[dict[str, object]]:
    with claims.open(newline="", encoding="utf-8") as rows:
        return [
            {
                "claim_id": int(row["claim_id"]),
                "hcpcs": row["hcpcs"],
                "dos": date.fromisoformat(row["dos"]),
            }
            for row in csv.DictReader(rows)
        ]


def _on_ci() -> bool:
    import os

    return os.environ.get("CI", "").lower() == "true"
