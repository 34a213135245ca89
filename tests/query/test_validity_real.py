"""Validity intervals on the real CMS releases: purges, reactivation, boundary dates, reuse.

Every expectation is worked out here from the raw files (fixed-width slices, 1-based: code
1-5, RIC 11, added date 269-276, action effective date 277-284, termination date 285-292,
action code 293; the 2020 quarters exist only as workbooks, read for their code column), not
from the tracker's output.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner

from tests.conftest import REAL_FILES, shared_path
from tracker import api
from tracker.cli import cli
from tracker.codesets.hcpcs.filenames import infer_label
from tracker.query import Status
from tracker.store import Store

RawRecord = dict[str, str]


def _first_lines(text: str) -> dict[str, RawRecord]:
    """First lines of each code (RIC 3 or 7), sliced by the layout's positions."""
    found: dict[str, RawRecord] = {}
    for line in text.splitlines():
        padded = line.ljust(320)
        if padded[10] not in "37" or not padded[5:10].isdigit():
            continue
        code = padded[0:5].strip()
        found[code] = {
            "long": padded[11:91].strip(),
            "xrefs": padded[204:229],
            "added": padded[268:276].strip(),
            "action_effective": padded[276:284].strip(),
            "termination": padded[284:292].strip(),
            "action": padded[292].strip(),
        }
    return found


def _raw_release(name: str) -> dict[str, RawRecord] | set[str]:
    """A release's records (text files) or just its codes (workbook-only quarters)."""
    path = shared_path("cms-hcpcs", *name.split("/"))
    if path.suffix == ".txt":
        return _first_lines(path.read_bytes().decode("latin-1"))
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            member = next(
                n for n in archive.namelist() if n.upper().endswith(".TXT") and "ANWEB" in n.upper()
            )
            return _first_lines(archive.read(member).decode("latin-1"))
    return _workbook_codes(path)


_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _workbook_codes(path: Path) -> set[str]:
    """The values of column A of the workbook's first sheet (the HCPC column)."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        shared = []
        if "xl/sharedStrings.xml" in names:
            for item in ElementTree.fromstring(archive.read("xl/sharedStrings.xml")):
                shared.append("".join(t.text or "" for t in item.iter(f"{_NS}t")))
        sheet = ElementTree.fromstring(archive.read("xl/worksheets/sheet1.xml"))
    codes = set()
    for cell in sheet.iter(f"{_NS}c"):
        reference = cell.get("r", "")
        if not (reference.startswith("A") and reference[1:].isdigit()):
            continue
        if cell.get("t") == "s":
            value = shared[int(cell.findtext(f"{_NS}v") or "0")]
        elif cell.get("t") == "inlineStr":
            value = "".join(t.text or "" for t in cell.iter(f"{_NS}t"))
        else:
            value = cell.findtext(f"{_NS}v") or ""
        if value.strip():
            codes.add(value.strip())
    return codes


@pytest.fixture(scope="module")
def raw() -> list[tuple[str, date, dict[str, RawRecord] | set[str]]]:
    """(label, effective date, content) of each real release, in order."""
    out = []
    for name in REAL_FILES:
        label = infer_label(name.rsplit("/", 1)[-1]) or infer_label(name.split("/")[0])
        assert label is not None
        out.append((str(label), label.effective_date, _raw_release(name)))
    return out


@pytest.fixture(scope="module")
def store(real_store_url: str) -> Iterator[Store]:
    opened = api.open_store(real_store_url)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def db(real_store_url: str) -> str:
    return real_store_url


def _day(text: str) -> date:
    return datetime.strptime(text, "%Y%m%d").date()


def _purge(
    raw: list[tuple[str, date, dict[str, RawRecord] | set[str]]], code: str
) -> tuple[str, str, date]:
    """(last release carrying `code`, the release after it, its effective date) by reading the
    raw files; checks the code never comes back and had no termination date."""
    carrying = [index for index, (_, _, content) in enumerate(raw) if code in content]
    assert carrying and carrying == list(range(carrying[0], carrying[-1] + 1))
    last = carrying[-1]
    assert last + 1 < len(raw), f"{code} is in the latest release"
    content = raw[last][2]
    assert isinstance(content, dict) and content[code]["termination"] == ""
    return raw[last][0], raw[last + 1][0], raw[last + 1][1]


@pytest.mark.parametrize("code", ["G9668", "G9976", "G9977"])
def test_purged_code_is_removed_from_the_release_that_drops_it(
    db: str, store: Store, raw: list[tuple[str, date, dict[str, RawRecord] | set[str]]], code: str
) -> None:
    last_seen, dropped_by, dropped_on = _purge(raw, code)
    before = api.code_state(store, code, dropped_on - timedelta(days=1))
    assert before.status is Status.ACTIVE
    on = api.code_state(store, code, dropped_on)
    assert on.status is Status.REMOVED
    later = api.code_state(store, code, date(2020, 11, 15))
    assert later.status is Status.REMOVED
    assert later.interval is not None and later.interval.closed_by is not None
    assert (later.interval.last_seen.label, later.interval.closed_by.label) == (
        last_seen,
        dropped_by,
    )
    # Not removed as known at the release that last carried it: nothing said so yet.
    assert api.code_state(store, code, date(2020, 11, 15), known_at=last_seen).status is (
        Status.ACTIVE
    )
    # CLI: show --as-of and codes --as-of say the same.
    runner = CliRunner()
    shown = runner.invoke(cli, ["--db", db, "show", code, "--as-of", "2020-11-15"])
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0] == f"{code} on 2020-11-15: removed (as known at 2020-OCT)"
    assert lines[1].startswith(f"removed: last seen in {last_seen}, absent from {dropped_by}")
    listed = runner.invoke(
        cli,
        ["--db", db, "codes", "--as-of", dropped_on.isoformat(), "--prefix", code,
         "--status", "removed", "--format", "csv"],
    )  # fmt: skip
    assert listed.exit_code == 0, listed.output
    rows = list(csv.DictReader(io.StringIO(listed.output)))
    assert [(row["code"], row["status"]) for row in rows] == [(code, "removed")]
    active = runner.invoke(
        cli, ["--db", db, "codes", "--as-of", dropped_on.isoformat(), "--prefix", code]
    )
    assert f"\n{code} " not in "\n" + active.output


def test_validate_reports_purged_and_reactivated_codes(
    db: str,
    store: Store,
    raw: list[tuple[str, date, dict[str, RawRecord] | set[str]]],
    tmp_path: Path,
) -> None:
    _, _, g9668_dropped = _purge(raw, "G9668")
    _, _, g9976_dropped = _purge(raw, "G9976")
    s3854 = {label: content["S3854"] for label, _, content in raw[:2] if isinstance(content, dict)}
    ended = _day(s3854["2016-JAN"]["termination"])
    back = _day(s3854["2017-JAN"]["action_effective"])
    rows = [
        ("G9668", g9668_dropped - timedelta(days=1), "active"),
        ("G9668", g9668_dropped, "removed"),
        ("G9976", g9976_dropped - timedelta(days=1), "active"),
        ("G9976", g9976_dropped + timedelta(days=200), "removed"),
        ("S3854", ended, "active"),
        ("S3854", ended + timedelta(days=1), "terminated"),
        ("S3854", back - timedelta(days=1), "terminated"),
        ("S3854", back, "active"),
    ]
    claims = tmp_path / "claims.csv"
    claims.write_text(
        "id,hcpcs,dos\n" + "".join(f"{n},{c},{d.isoformat()}\n" for n, (c, d, _) in enumerate(rows))
    )
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(cli, ["--db", db, "validate", str(claims), "-o", str(out)])
    assert result.exit_code == 0, result.output
    with out.open(newline="") as handle:
        answers = [row["hcpcs_status"] for row in csv.DictReader(handle)]
    assert answers == [status for _, _, status in rows]
    # The bulk index and the single-code lookup agree row by row.
    for code, day, status in rows:
        assert api.code_state(store, code, day).status.value == status


def test_reactivation_keeps_the_gap(
    db: str, store: Store, raw: list[tuple[str, date, dict[str, RawRecord] | set[str]]]
) -> None:
    by_label = {label: content for label, _, content in raw if isinstance(content, dict)}
    first, second = by_label["2016-JAN"]["S3854"], by_label["2017-JAN"]["S3854"]
    assert first["termination"] and second["action"] == "R" and not second["termination"]
    ended, back = _day(first["termination"]), _day(second["action_effective"])
    assert api.code_state(store, "S3854", date(2016, 3, 1)).status is Status.TERMINATED
    assert api.code_state(store, "S3854", ended).status is Status.ACTIVE
    assert api.code_state(store, "S3854", ended + timedelta(days=1)).status is Status.TERMINATED
    assert api.code_state(store, "S3854", back - timedelta(days=1)).status is Status.TERMINATED
    assert api.code_state(store, "S3854", back).status is Status.ACTIVE
    intervals = api.validity(store, "S3854")
    assert [(i.start, i.end) for i in intervals] == [
        (_day(first["added"]), ended),
        (back, None),
    ]
    assert [i.opened_by.label for i in intervals] == ["2016-JAN", "2017-JAN"]
    # As known at 2016-JAN the code was simply terminated.
    known_2016 = api.code_state(store, "S3854", back, known_at="2016")
    assert known_2016.status is Status.TERMINATED
    # CLI: the gap and both intervals are shown by show --as-of and history.
    runner = CliRunner()
    shown = runner.invoke(cli, ["--db", db, "show", "S3854", "--as-of", "2016-03-01"])
    assert shown.output.splitlines()[:2] == [
        "S3854 on 2016-03-01: terminated (as known at 2020-OCT)",
        f"terminated: last valid day {ended.isoformat()}",
    ]
    history = runner.invoke(cli, ["--db", db, "history", "S3854"])
    assert history.exit_code == 0, history.output
    assert f"valid {_day(first['added']).isoformat()} to {ended.isoformat()}" in history.output
    assert f"valid {back.isoformat()} to open  re-activated (2017-JAN)" in history.output


def test_termination_date_is_the_last_valid_day(
    db: str, store: Store, raw: list[tuple[str, date, dict[str, RawRecord] | set[str]]]
) -> None:
    content = raw[2][2]  # 2018-JAN: C9483 ends there, replaced by J9022
    assert raw[2][0] == "2018-JAN" and isinstance(content, dict)
    ended = _day(content["C9483"]["termination"])
    xrefs = content["C9483"]["xrefs"]
    replacement = xrefs[0:5].strip()
    last_day = api.code_state(store, "C9483", ended)
    assert last_day.status is Status.ACTIVE and last_day.termination_date == ended
    assert api.code_state(store, "C9483", ended + timedelta(days=1)).status is Status.TERMINATED
    # Before the termination date, as known later: active, ending after that day.
    runner = CliRunner()
    early = ended - timedelta(days=100)
    shown = runner.invoke(cli, ["--db", db, "show", "C9483", "--as-of", early.isoformat()])
    first = shown.output.splitlines()[0]
    assert first == (
        f"C9483 on {early.isoformat()}: active, ends after {ended.isoformat()}"
        " (as known at 2020-OCT)"
    )
    assert "terminated" not in first
    after = runner.invoke(
        cli, ["--db", db, "show", "C9483", "--as-of", (ended + timedelta(1)).isoformat()]
    )
    assert f"replaced by: {replacement}" in after.output


def test_reused_code_shows_the_dates_of_the_meaning_in_force(
    store: Store, raw: list[tuple[str, date, dict[str, RawRecord] | set[str]]]
) -> None:
    by_label = {label: content for label, _, content in raw if isinstance(content, dict)}
    old, new = by_label["2018-JAN"]["G9890"], by_label["2020-JAN"]["G9890"]
    old_added, new_added = _day(old["added"]), _day(new["added"])
    assert new_added > old_added and old["long"][:40] != new["long"][:40]
    before = api.code_state(store, "G9890", new_added - timedelta(days=1))
    after = api.code_state(store, "G9890", new_added)
    assert (before.status, after.status) == (Status.ACTIVE, Status.ACTIVE)
    assert before.meaning is not None and before.meaning.long_description.startswith(old["long"])
    assert after.meaning is not None and after.meaning.long_description.startswith(new["long"])
    assert before.status_record is not None and after.status_record is not None
    assert before.status_record.added_date == old_added
    assert after.status_record.added_date == new_added
    assert api.code_state(store, "G9890", old_added - timedelta(days=1)).status is (
        Status.NOT_YET_EFFECTIVE
    )
    intervals = api.validity(store, "G9890")
    assert [(i.start, i.end) for i in intervals] == [
        (old_added, new_added - timedelta(days=1)),
        (new_added, None),
    ]


def test_show_a_code_no_longer_in_the_latest_release(
    db: str, store: Store, raw: list[tuple[str, date, dict[str, RawRecord] | set[str]]]
) -> None:
    # C9279: terminated long ago, dropped from a later file; its XREF names the replacement.
    last_seen, _, _ = _purge_terminated(raw, "C9279")
    content = raw[[label for label, _, _ in raw].index(last_seen)][2]
    assert isinstance(content, dict)
    replacement = content["C9279"]["xrefs"][0:5].strip()
    ended = _day(content["C9279"]["termination"])
    view = api.code_view(store, "C9279")
    assert not view.current and view.release.label == last_seen
    assert [r.code for r in view.replacements] == [replacement]
    result = CliRunner().invoke(cli, ["--db", db, "show", "C9279"])
    assert result.exit_code == 0, result.output
    assert (
        f"terminated {ended.isoformat()}: last seen in {last_seen}, not in 2020-OCT"
        in result.output.splitlines()[1]
    )
    assert f"replaced by: {replacement}" in result.output
    # A purged active code: removed.
    last_seen, dropped_by, _ = _purge(raw, "G9668")
    result = CliRunner().invoke(cli, ["--db", db, "show", "G9668"])
    assert result.exit_code == 0, result.output
    assert f"removed: last seen in {last_seen}, not in 2020-OCT" in result.output
    assert f"absent from {dropped_by}" in result.output


def _purge_terminated(
    raw: list[tuple[str, date, dict[str, RawRecord] | set[str]]], code: str
) -> tuple[str, str, date]:
    carrying = [index for index, (_, _, content) in enumerate(raw) if code in content]
    last = carrying[-1]
    content = raw[last][2]
    assert isinstance(content, dict) and content[code]["termination"]
    return raw[last][0], raw[last + 1][0], raw[last + 1][1]


def test_termination_set_later_applies_retroactively(
    store: Store, raw: list[tuple[str, date, dict[str, RawRecord] | set[str]]]
) -> None:
    # G6030: no termination date in the 2016 file; the 2017 file ends it on 2015-12-31 (under N).
    by_label = {label: content for label, _, content in raw if isinstance(content, dict)}
    assert by_label["2016-JAN"]["G6030"]["termination"] == ""
    ended = _day(by_label["2017-JAN"]["G6030"]["termination"])
    day = ended + timedelta(days=40)
    assert api.code_state(store, "G6030", day, known_at="2016").status is Status.ACTIVE
    assert api.code_state(store, "G6030", day).status is Status.TERMINATED
    assert api.code_state(store, "G6030", ended).status is Status.ACTIVE


def test_bulk_answers_match_single_lookups(real_store_url: str) -> None:
    """The step functions bulk validation bisects give the answer of a direct lookup."""
    import bisect

    from tracker.query import CodeIndex

    store = api.open_store(real_store_url)
    try:
        index = CodeIndex.load(store)
        days = [date(2016, 3, 1), date(2016, 12, 31), date(2017, 1, 1), date(2020, 1, 1)]
        for code in index.codes():
            starts, states = index.intervals(code)
            for day in days:
                bulk = states[bisect.bisect_right(starts, day) - 1]
                single = index.state(code, day)
                assert (bulk.status, bulk.meaning) == (single.status, single.meaning), (code, day)
    finally:
        store.close()
