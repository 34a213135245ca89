"""ICD-10 conversion tables as replaced-by links, on small releases and tables the tests write.

Each release is a loose ICD-10-CM order file written by the project's writer
(`tracker.codesets.icd10.writer`); each conversion table a CSV in CDC's layout. The expected
links and chains follow from the rows written below.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracker import api, query
from tracker.codesets.icd10.conversion import parse_conversion_table
from tracker.codesets.icd10.record import Icd10Record
from tracker.codesets.icd10.writer import order_file
from tracker.crosswalk import Crosswalk
from tracker.errors import ReleaseError
from tracker.query import Status
from tracker.replacements import HopEnd, replacement_chain
from tracker.store import Store


def _code(code: str) -> Icd10Record:
    return Icd10Record("icd10cm", code, True, f"Short {code}", f"Long title of {code}")


# FY2019 → FY2020: A00.0 → A00.1, D00.0 → D00.1; FY2021: A00.1 → A00.2, D00.1 dropped with
# no row (a dead end), B00.0 dropped with no row. K00.0 is named as a previous code in 2019
# but stays valid (a split that kept the code): it is never replaced.
RELEASES = {
    "2019": ["A000", "B000", "D000", "K000"],
    "2020": ["A001", "B000", "D001", "K000", "K001"],
    "2021": ["A002", "K000", "K001"],
}
HEADER = "Current code assignment,Effective October 1,Previous Code(s) Assignment\n"
FY2020_ROWS = "A00.1,2019,A00.0\nD00.1,2019,D00.0\nK00.1,2019,K00.0\n"
FY2021_ROWS = FY2020_ROWS + "A00.2,2020,A00.1\n"


def _ingest(url: str, folder: Path) -> Store:
    store = api.open_store(url)
    for year, codes in RELEASES.items():
        path = folder / f"icd10cm_order_{year}.txt"
        path.write_bytes(order_file(_code(code) for code in codes))
        api.ingest(store, path)
    for name, rows in (("FY20", FY2020_ROWS), ("FY21", FY2021_ROWS)):
        table = folder / f"ICD-10-CM-Conversion-Table-{name}.csv"
        table.write_text("Conversion table for new codes\n" + HEADER + rows)
        result = api.ingest(store, table)
        assert result.created and "conversion table attached to" in result.message
    return store


@pytest.fixture
def store(sqlite_url: str, tmp_path: Path) -> Store:
    opened = _ingest(sqlite_url, tmp_path)
    yield opened  # type: ignore[misc]
    opened.close()


def test_tables_attach_to_the_release_of_their_latest_date(store: Store) -> None:
    releases = query.knowledge_releases(store, None, "icd10cm")
    by_label = {info.label: info for info in releases}
    assert {a.name for a in store.attachments(by_label["FY2020"])} == {
        "ICD-10-CM-Conversion-Table-FY20.csv"
    }
    assert {a.name for a in store.attachments(by_label["FY2021"])} == {
        "ICD-10-CM-Conversion-Table-FY21.csv"
    }


def test_a_deleted_code_is_replaced_by_the_rows_naming_it(store: Store) -> None:
    state = query.code_state(store, "a00.0", date(2020, 6, 1), code_set="icd10cm")
    assert state.status is Status.REMOVED
    assert [(r.code, r.description) for r in state.replacements] == [("A001", "Long title of A001")]
    # A code named as a previous assignment but still carried is not replaced.
    kept = query.code_state(store, "K000", date(2021, 6, 1), code_set="icd10cm")
    assert kept.status is Status.ACTIVE and kept.replacements == ()
    # B00.0 ended with no row naming it.
    gone = query.code_state(store, "B000", date(2021, 6, 1), code_set="icd10cm")
    assert gone.status is Status.REMOVED and gone.replacements == ()


def test_chains_follow_conversion_links(store: Store) -> None:
    chain = replacement_chain(store, "A00.0", date(2021, 6, 1), code_set="icd10cm")
    assert chain.text() == "replaced by A00.1 → A00.2 (active)"
    assert chain.valid_ends == ("A002",)
    dead = replacement_chain(store, "d000", date(2021, 6, 1), code_set="icd10cm")
    assert dead.dead_ends == ("D001",)
    assert dead.paths()[0][-1].end is HopEnd.DEAD_END
    # In 2020 the first hop is still valid.
    assert replacement_chain(store, "A000", date(2020, 6, 1), code_set="icd10cm").text() == (
        "replaced by A00.1 (active)"
    )


def test_bulk_answers_carry_the_links(store: Store) -> None:
    index = query.CodeIndex.load(store, code_set="icd10cm")
    assert [r.code for r in index.state("A001", date(2021, 6, 1)).replacements] == ["A002"]
    _starts, states = index.intervals("A000")
    assert [r.code for r in states[-1].replacements] == ["A001"]


def test_a_table_for_no_stored_release_is_refused(store: Store, tmp_path: Path) -> None:
    table = tmp_path / "ICD-10-CM-Conversion-Table-FY25.csv"
    table.write_text(HEADER + "A00.9,2024,A00.2\n")
    with pytest.raises(ReleaseError, match="no stored icd10cm release takes effect on 2024-10-01"):
        api.ingest(store, table)


def test_cli_ingest_of_a_table_says_where_it_went(sqlite_url: str, tmp_path: Path) -> None:
    from tracker.cli import cli

    _ingest(sqlite_url, tmp_path).close()
    again = CliRunner().invoke(
        cli, ["--db", sqlite_url, "ingest", str(tmp_path / "ICD-10-CM-Conversion-Table-FY20.csv")]
    )
    assert again.exit_code == 0, again.output
    assert "already attached to FY2020" in again.output


def test_revised_rows_and_windows() -> None:
    data = (
        b"Current code(s) assignment,Effective year,Previous code(s) assignment,Change type,"
        b"Effective month/day [MM.DD]\n"
        b"0016070,2019,0016071,New,10.01\n"
        b"0016072,2019,0016071,Revised,10.01\n"
        b"0016073,2021,0016071,Deleted,04.01\n"
    )
    links = parse_conversion_table("t.csv", data, "icd10pcs")
    crosswalk = Crosswalk(links)
    assert crosswalk.replacements("0016071", None, None) == ("0016070", "0016073")
    assert crosswalk.replacements("0016071", date(2018, 10, 1), date(2019, 10, 1)) == ("0016070",)
    assert crosswalk.replacements("0016071", date(2019, 10, 1), date(2021, 4, 1)) == ("0016073",)


def test_replacements_between_two_releases(store: Store) -> None:
    from tracker.crosswalk import replacements_between

    by_label = {i.label: i for i in query.knowledge_releases(store, None, "icd10cm")}
    fy19, fy20, fy21 = by_label["FY2019"], by_label["FY2020"], by_label["FY2021"]
    assert replacements_between(store, fy19, fy20, ["A000", "D000", "B000"]) == {
        "A000": ("A001",),
        "D000": ("D001",),
    }
    assert replacements_between(store, fy20, fy21, ["A001", "D001", "B000"]) == {"A001": ("A002",)}


def test_show_history_and_validate_name_the_replacements(sqlite_url: str, tmp_path: Path) -> None:
    from tracker.cli import cli

    _ingest(sqlite_url, tmp_path).close()

    def run(*args: str) -> str:
        result = CliRunner().invoke(cli, ["--db", sqlite_url, *args, "--code-set", "icd10cm"])
        assert result.exit_code in (0, 2), result.output
        return result.output

    replaced = "replaced by: A00.1  Long title of A001"
    assert replaced in run("history", "a000").splitlines()
    assert replaced in run("show", "A00.0").splitlines()
    dated = run("show", "A00.0", "--as-of", "2021-06-01").splitlines()
    assert replaced in dated and "replaced by A00.1 → A00.2 (active)" in dated
    claims = tmp_path / "claims.csv"
    claims.write_text("dx1,dx2,dos\nA00.0,a002,2021-06-01\nk00.0,,2021-06-01\n")
    out = tmp_path / "checked.csv"
    summary = run(
        "validate", str(claims), "--code-column", "dx1", "--code-column", "dx2", "-o", str(out)
    )
    assert "2 rows checked" in summary and "3 codes in columns dx1, dx2" in summary
    lines = out.read_text().splitlines()
    assert lines[1].split(",")[3:8] == [
        "deleted",
        "Long title of A000",
        "2019-09-30",
        "A00.1",
        "FY2019",
    ]
    assert lines[1].split(",")[9:11] == ["valid", "Long title of A002"]
    assert lines[2].split(",")[3] == "valid" and lines[2].endswith(",,,,,,")
