"""CMS's real ICD-10 zips through `tracker ingest` and the as-of questions, in one store.

Every expected answer comes from an independent reading of the raw zips (`zipfile`, the
documented columns sliced by position, the addenda's `Add:` lines and summary read with a
regular expression), never from the tracker's parsers or its own output.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import SAMPLES, fresh_pg_database
from tracker import api, query
from tracker.errors import ParseError, ReleaseError
from tracker.store import Store

from .conftest import CM_SEQUENCE, PCS_SEQUENCE, README_COUNTS, icd10_path

# (flag, short title, long title) by code, as the order file gives them.
RawRelease = dict[str, tuple[str, str, str]]


def _member(archive: zipfile.ZipFile, addenda: bool) -> str:
    names = [
        name
        for name in archive.namelist()
        if name.lower().endswith(".txt")
        and "order" in name.rsplit("/", 1)[-1].lower()
        and ("addenda" in name.lower()) == addenda
    ]
    assert len(names) == 1, names
    return names[0]


def raw_release(name: str) -> RawRelease:
    """The order file of a shared zip, sliced by CMS's documented columns."""
    with zipfile.ZipFile(icd10_path(name)) as archive:
        lines = archive.read(_member(archive, addenda=False)).decode("ascii").splitlines()
    return {
        line[6:13].rstrip(): (line[14], line[16:76].rstrip(), line[77:].rstrip())
        for line in lines
        if line.strip()
    }


def raw_addenda(name: str) -> str:
    with zipfile.ZipFile(icd10_path(name)) as archive:
        return archive.read(_member(archive, addenda=True)).decode("ascii", "replace")


def summary_files(name: str) -> tuple[str, str]:
    """The order files the addenda summary leads from and to (`… codes in icd10cm_order_…`)."""
    found = re.findall(r"\d+\s+codes\s+in\s+(\S+\.txt)", raw_addenda(name))
    assert len(found) >= 2, found
    return found[0], found[1]


def added_codes(name: str) -> set[str]:
    """Codes on the addenda's `Add:` lines (`Add:`, the flag, the code, the titles)."""
    return {
        match[1] for match in re.finditer(r"^Add:\s+[01]\s+(\S+)", raw_addenda(name), re.MULTILINE)
    }


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """Every shared ICD-10 zip and one HCPCS sample, ingested through the API."""
    url = f"sqlite:///{tmp_path_factory.mktemp('icd10') / 'tracker.db'}"
    opened = api.open_store(url)
    for name in [*CM_SEQUENCE, *PCS_SEQUENCE]:
        api.ingest(opened, icd10_path(name))
    api.ingest(opened, SAMPLES / "HCPC2026_JAN_SAMPLE.txt")
    yield opened
    opened.close()


def _stored(store: Store, name: str) -> tuple[str, str]:
    """(code set, label) of the release stored from the shared file `name`."""
    found = [info for info in store.every_release() if info.source_name == name]
    assert len(found) == 1, name
    return found[0].code_set, found[0].label


@pytest.mark.parametrize("name", sorted(README_COUNTS))
def test_every_file_is_stored_with_the_readme_counts(store: Store, name: str) -> None:
    code_set, valid, headers = README_COUNTS[name]
    raw = raw_release(name)
    raw_valid = sum(1 for flag, _, _ in raw.values() if flag == "1")
    assert (raw_valid, len(raw) - raw_valid) == (valid, headers)
    stored_set, label = _stored(store, name)
    assert stored_set == code_set
    info = store.resolve(label, code_set)
    snapshot = store.snapshot(info)
    records = snapshot.records(snapshot.hashes)
    billable = sum(1 for record in records.values() if record.to_dict()["billable"])
    assert (billable, len(records) - billable) == (valid, headers)
    assert set(records) == set(raw)


def test_labels_follow_the_addenda_summaries(store: Store) -> None:
    """An October version's summary leads from the year before; a mid-year one from and to
    its own year's file (then April, or the month its file name says)."""
    for name in [*CM_SEQUENCE, *PCS_SEQUENCE]:
        if "errata" in name:
            continue
        origin, target = summary_files(name)
        year = re.search(r"(\d{4})", target)
        assert year is not None
        month = re.search(r"\d{4}([a-z]{3})\.txt$", target)
        if month is not None:
            expected = f"FY{year[1]}-{month[1].upper()}"
        elif re.search(r"(\d{4})", origin)[1] == year[1]:  # type: ignore[index]
            expected = f"FY{year[1]}-APR"
        else:
            expected = f"FY{year[1]}"
        assert _stored(store, name)[1] == expected, name


# Pairs whose later release is an October version (checked below from the summary): a code
# in the earlier order file and not in the later one was deleted on October 1. (The other
# October version stored, PCS FY2021, deletes no code.)
OCTOBER_PAIRS = [
    ("cms_2019_dx.zip", "cms_2020_dx.zip", "icd10cm", 2020),
    ("cms_2019_pr.zip", "cms_2020_pr.zip", "icd10pcs", 2020),
]


@pytest.mark.parametrize(("older", "newer", "code_set", "year"), OCTOBER_PAIRS)
def test_a_code_deleted_in_fy_n_is_valid_on_september_30_only(
    store: Store, older: str, newer: str, code_set: str, year: int
) -> None:
    origin, target = summary_files(newer)
    assert str(year - 1) in origin and str(year) in target  # an October version
    before, after = raw_release(older), raw_release(newer)
    deleted = sorted(code for code, (flag, _, _) in before.items() if code not in after)
    assert deleted
    last_day, first_day = date(year - 1, 9, 30), date(year - 1, 10, 1)
    for code in deleted[:: max(1, len(deleted) // 10)]:
        flag = before[code][0]
        on_last = query.code_state(store, code, last_day, code_set=code_set)
        assert on_last.status is (
            query.Status.ACTIVE if flag == "1" else query.Status.NOT_BILLABLE
        ), code
        on_first = query.code_state(store, code, first_day, code_set=code_set)
        assert on_first.status is query.Status.REMOVED, code
        assert on_first.interval is not None and on_first.interval.end == last_day


def test_a_code_added_in_an_april_update_is_not_valid_in_march(store: Store) -> None:
    origin, target = summary_files("cms_2023_dx.zip")
    assert origin == target  # the April 2023 version: its addenda lead from October's file
    before, after = raw_release("cms_2022_dx.zip"), raw_release("cms_2023_dx.zip")
    april = sorted(
        code
        for code in added_codes("cms_2023_dx.zip")
        if code not in before and after.get(code, ("",))[0] == "1"
    )
    assert april
    for code in april:
        march = query.code_state(store, code, date(2023, 3, 31), code_set="icd10cm")
        assert march.status is query.Status.NOT_YET_EFFECTIVE, code
        first = query.code_state(store, code, date(2023, 4, 1), code_set="icd10cm")
        assert first.status is query.Status.ACTIVE, code


@pytest.mark.parametrize("name", ["cms_2024_dx.zip", "cms_2024_pr.zip"])
def test_a_header_is_never_valid_on_claims(store: Store, name: str) -> None:
    code_set, label = _stored(store, name)
    on = store.resolve(label, code_set).effective_date + timedelta(days=30)
    headers = sorted(code for code, (flag, _, _) in raw_release(name).items() if flag == "0")
    index = query.CodeIndex.load(store, code_set=code_set)
    for code in headers:
        state = index.state(code, on)
        assert state.status is query.Status.NOT_BILLABLE, code
        assert state.claim_status == "header, not billable"
    shown = api.code_state(store, headers[0].lower(), on)
    assert shown.status is query.Status.NOT_BILLABLE


def test_codes_as_of_counts_the_billable_codes_of_the_release_in_force(store: Store) -> None:
    raw = raw_release("cms_2022_dx.zip")  # FY2022-APR, in force on 2022-06-01
    billable = {code for code, (flag, _, _) in raw.items() if flag == "1"}
    listed = api.codes_as_of(store, "2022-06-01", code_set="icd10cm", billable_only=True)
    assert {state.code for state in listed} == billable
    headers = api.codes_as_of(store, "2022-06-01", code_set="icd10cm", status="not billable")
    assert {state.code for state in headers} == set(raw) - billable


def test_labels_and_codes_decide_the_code_set_or_the_user_must(store: Store) -> None:
    with pytest.raises(ReleaseError, match="--code-set icd10cm or --code-set icd10pcs"):
        api.resolve(store, "FY2019")
    with pytest.raises(ReleaseError, match="give --code-set"):
        api.codes_as_of(store, "2022-06-01")
    assert api.resolve(store, "FY2019", code_set="icd10pcs").code_set == "icd10pcs"
    assert api.resolve(store, "2026-JAN").code_set == "hcpcs"
    assert api.code_state(store, "e11.9", "2022-06-01").known_at.code_set == "icd10cm"
    assert api.code_state(store, "E119", "2022-06-01").code == "E119"
    pcs = next(code for code in raw_release("cms_2024_pr.zip") if len(code) == 7)
    assert api.code_state(store, pcs, "2024-06-01").known_at.code_set == "icd10pcs"
    listed = api.release_listing(store)
    assert listed[0].info.code_set == "hcpcs"
    assert {item.info.code_set for item in listed} == {"hcpcs", "icd10cm", "icd10pcs"}


def test_each_later_release_stores_only_what_changed(store: Store) -> None:
    """Records are content-addressed and a release stores its difference from the one stored
    before it: the rows added per release are the raw files' changes, not the whole file."""
    for sequence in (CM_SEQUENCE, PCS_SEQUENCE):
        previous: RawRelease | None = None
        for name in sequence:
            raw = raw_release(name)
            code_set, label = _stored(store, name)
            info = store.resolve(label, code_set)
            with store.engine.connect() as connection:
                entries, removals = (
                    connection.execute(
                        text(f"SELECT count(*) FROM {table} WHERE release_id = :id"),
                        {"id": info.id},
                    ).scalar_one()
                    for table in ("snapshot_entries", "snapshot_removals")
                )
            if previous is None:
                assert (entries, removals) == (len(raw), 0)
            else:
                changed = sum(1 for code, row in raw.items() if previous.get(code) != row)
                assert (entries, removals) == (changed, len(set(previous) - set(raw))), name
            previous = raw


def test_identical_content_under_a_new_label_is_a_release_with_no_change(
    tmp_path: Path,
) -> None:
    opened = api.open_store(f"sqlite:///{tmp_path / 'tracker.db'}")
    try:
        first = api.ingest(opened, icd10_path("cms_2024_dx.zip"))
        again = api.ingest(opened, icd10_path("cms_2024_dx.zip"), release="FY2024")
        assert (first.release.label, again.release.label) == ("FY2024-APR", "FY2024")
        assert again.created and again.new_record_versions == 0
        assert again.release.effective_date == date(2023, 10, 1)
        assert again.release.content_sha256 == first.release.content_sha256
    finally:
        opened.close()


def test_a_conversion_table_alone_is_refused_in_one_line(tmp_path: Path) -> None:
    opened = api.open_store(f"sqlite:///{tmp_path / 'tracker.db'}")
    try:
        table = icd10_path("ICD-10-CM-Conversion-Table-FY20-Effective-10-1-2019-corrected.csv")
        with pytest.raises(ParseError, match="is a conversion table"):
            api.ingest(opened, table)
        assert api.release_listing(opened) == []
    finally:
        opened.close()


def test_postgresql_stores_and_answers_the_same() -> None:
    with fresh_pg_database() as url:
        opened = api.open_store(url)
        try:
            for name in ("cms_2019_dx.zip", "cms_2020_dx.zip", "cms_2022_errata.zip"):
                api.ingest(opened, icd10_path(name))
            before, after = raw_release("cms_2019_dx.zip"), raw_release("cms_2020_dx.zip")
            deleted = sorted(code for code in before if code not in after)
            added = sorted(code for code in after if code not in before)
            state = api.code_state(opened, deleted[0], "2019-10-01")
            assert state.status is query.Status.REMOVED
            assert api.code_state(opened, deleted[0], "2019-09-30").status in (
                query.Status.ACTIVE,
                query.Status.NOT_BILLABLE,
            )
            assert api.code_state(opened, added[0], "2019-09-30").status is (
                query.Status.NOT_YET_EFFECTIVE
            )
            errata = api.resolve(opened, "FY2022-APR-ERRATA")
            assert (errata.code_set, errata.record_count) == (
                "icd10pcs",
                len(raw_release("cms_2022_errata.zip")),
            )
        finally:
            opened.close()
