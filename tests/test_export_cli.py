"""`tracker export intervals`: its files, its errors, and the store's append-only generations."""

from __future__ import annotations

import builtins
import csv
import itertools
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from tests.conftest import SAMPLES
from tracker import api
from tracker.cli import cli
from tracker.export import FIRST_DAY, LAST_DAY

JAN = SAMPLES / "HCPC2026_JAN_SAMPLE.txt"
APR = SAMPLES / "HCPC2026_APR_SAMPLE.txt"


def run(db: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{db}", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "tracker.db"
    code, out, _ = run(path, "ingest", str(JAN), str(APR))
    assert code == 0, out
    return path


def test_csv_rows_cover_every_day_once_per_code(db: Path, tmp_path: Path) -> None:
    target = tmp_path / "intervals.csv"
    code, out, _ = run(db, "export", "intervals", "-o", str(target))
    assert code == 0
    assert out.startswith(f"{target}: ") and "as known at 2026-APR, csv)" in out
    with target.open(newline="", encoding="utf-8") as rows:
        by_code: dict[str, list[dict[str, str]]] = {}
        for row in csv.DictReader(rows):
            by_code.setdefault(row["code"], []).append(row)
    assert by_code
    for rows_of_code in by_code.values():
        # Contiguous from the first day to the last: exactly one row on any date.
        assert rows_of_code[0]["valid_from"] == FIRST_DAY.isoformat()
        assert rows_of_code[-1]["valid_to"] == LAST_DAY.isoformat()
        for before, after in itertools.pairwise(rows_of_code):
            assert before["valid_to"] < after["valid_from"]
            assert (before["status"], before["release"], before["meaning"]) != (
                after["status"],
                after["release"],
                after["meaning"],
            ) or before["termination_date"] != after["termination_date"]
    # E0159 is terminated 2026-03-31 in the April file, replaced by E0161 and E0162.
    ends = [row for row in by_code["E0159"] if row["status"] == "terminated"]
    assert ends[0]["valid_from"] == "2026-04-01"
    assert ends[0]["replacements"] == "E0161 E0162"


def test_output_is_required_for_a_file(db: Path) -> None:
    code, _, err = run(db, "export", "intervals", "--format", "csv")
    assert code == 1
    assert err == "Error: -o FILE is required for --format csv or parquet\n"


def test_database_format_takes_no_file(db: Path, tmp_path: Path) -> None:
    code, _, err = run(
        db, "export", "intervals", "--format", "database", "-o", str(tmp_path / "x.csv")
    )
    assert code == 1
    assert err.startswith("Error: --format database writes the store's own table")


def test_parquet_without_pyarrow_is_one_line(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_import = builtins.__import__

    def refuse(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "pyarrow" or name.startswith("pyarrow."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", refuse)
    target = tmp_path / "intervals.parquet"
    code, _, err = run(db, "export", "intervals", "-o", str(target))
    assert code == 1
    assert err == (
        "Error: --format parquet needs pyarrow, which is not installed"
        " (pip install 'hcpcs-tracker[parquet]')\n"
    )
    assert not target.exists()


def test_unknown_known_at_is_one_line(db: Path, tmp_path: Path) -> None:
    code, _, err = run(db, "export", "intervals", "--known-at", "1999", "-o", str(tmp_path / "x"))
    assert code == 1
    assert err.startswith("Error: ") and err.count("\n") == 1


def test_generations_are_append_only_and_written_when_knowledge_changes(db_url: str) -> None:
    store = api.open_store(db_url)
    try:
        api.ingest(store, JAN)
        view = "tracker_code_validity"
        from tracker.export import store_intervals

        first = store_intervals(store)
        assert first.written and first.known_at == "2026-JAN"
        assert not store_intervals(store).written
        api.ingest(store, APR)
        second = store_intervals(store)
        assert second.written and second.generation > first.generation
        assert second.known_at == "2026-APR"
    finally:
        store.close()
    engine = create_engine(db_url)
    with engine.connect() as connection:
        shown = connection.execute(text(f"SELECT DISTINCT known_at, generation FROM {view}")).all()
        assert [tuple(row) for row in shown] == [("2026-APR", second.generation)]
        for statement in (
            "UPDATE validity_intervals SET status = 'active'",
            "DELETE FROM validity_intervals",
            "UPDATE validity_generations SET known_at = 'x'",
            "DELETE FROM validity_generations",
        ):
            with pytest.raises(DBAPIError, match="append-only"):
                connection.execute(text(statement))
            connection.rollback()
    engine.dispose()
