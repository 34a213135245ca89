"""`tracker impact` on the real ICD-10-CM and ICD-10-PCS files, checked against the raw files.

The expectations come from reading CMS's and CDC's files here, not from the tracker: the order
files by their published layout (code in columns 7-13, the valid-for-submission flag in 15,
short title 17-76, long title from 78), the order addenda's `Revise from:` / `Revise to:`,
`Delete:` and `Add:` lines, and CDC's FY2020 conversion table (each new code, the year its
October 1 took effect, and the previous code(s) or ranges it was assigned to). The store holds
ICD-10-CM FY2019, FY2020 and the January 2021 version with the FY2020 conversion table, and
ICD-10-PCS FY2019 and FY2020, so labels such as FY2020 belong to two code sets.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.conftest import PROJECT_ROOT, shared_path
from tests.jsonschema_subset import validate
from tracker import api
from tracker.cli import cli
from tracker.codelist import parse_codes
from tracker.errors import ReleaseError
from tracker.impact import ImpactKind, impact, impact_rows
from tracker.query import Status
from tracker.store import Store

SCHEMA_PATH = PROJECT_ROOT / "tracker" / "schemas" / "impact.schema.json"
CM_ZIPS = {
    "FY2019": "cms_2019_dx.zip",
    "FY2020": "cms_2020_dx.zip",
    "FY2021-JAN": "cms_2021_dx.zip",
}
PCS_ZIPS = {"FY2019": "cms_2019_pr.zip", "FY2020": "cms_2020_pr.zip"}
CONVERSION = "ICD-10-CM-Conversion-Table-FY20-Effective-10-1-2019-corrected.csv"

# --- The raw files, read independently --------------------------------------------------------

Order = dict[str, tuple[bool, str, str]]


def _member(zip_name: str, prefix: str, addenda: bool) -> str:
    with zipfile.ZipFile(shared_path("icd10", zip_name)) as archive:
        name = next(
            n
            for n in archive.namelist()
            if Path(n).name.lower().startswith(prefix) and ("addenda" in n.lower()) == addenda
        )
        return archive.read(name).decode("latin-1")


def _order(zip_name: str) -> Order:
    """code (no dot) -> (billable, short title, long title)."""
    prefix = "icd10cm_order_" if "_dx" in zip_name else "icd10pcs_order_"
    found: Order = {}
    for line in _member(zip_name, prefix, addenda=False).splitlines():
        if len(line) >= 17:
            found[line[6:13].strip()] = (line[14] == "1", line[16:76].strip(), line[77:].strip())
    return found


def _addenda(zip_name: str) -> list[tuple[str, bool, str, str, str]]:
    """(action, flag, code, short title, long title) per line of the CM order addenda."""
    lines = []
    for line in _member(zip_name, "icd10cm_order_addenda", addenda=True).splitlines():
        action, sep, rest = line.partition(":")
        if not sep or action.strip() not in ("Add", "Delete", "Revise from", "Revise to"):
            continue
        body = rest.strip()
        flag, code = body[0], body[2:].split()[0]
        # After the flag and the code (padded to 8), a 60-wide short title, then the long one.
        start = line.index(body) + 2 + 8
        lines.append(
            (
                action.strip(),
                flag == "1",
                code,
                line[start : start + 60].strip(),
                line[start + 61 :].strip(),
            )
        )
    return lines


def _dotted(code: str) -> str:
    return f"{code[:3]}.{code[3:]}" if len(code) > 3 else code


def _conversion(year: str) -> dict[str, list[str]]:
    """previous code (dotted) -> the new codes (dotted) CDC's table gives for it, for the rows
    effective October 1 of `year`; a previous range `A-B` names every code from A to B."""
    text = shared_path("icd10", CONVERSION).read_text(encoding="latin-1")
    rows = list(csv.reader(io.StringIO(text)))
    header = next(i for i, row in enumerate(rows) if row and row[0].startswith("Current code"))
    ranges: list[tuple[str, str, str]] = []
    for row in rows[header + 1 :]:
        if len(row) < 3 or row[1].strip() != year:
            continue
        for previous in row[2].split(";"):
            first, _, last = previous.strip().partition("-")
            ranges.append((first.strip(), (last or first).strip(), row[0].strip()))
    codes = _order(CM_ZIPS["FY2019"])
    linked: dict[str, list[str]] = {}
    for code in (_dotted(c) for c in codes):
        for first, last, new in ranges:
            if (
                len(code) == len(first)
                and first <= code <= last
                and new not in linked.get(code, [])
            ):
                linked.setdefault(code, []).append(new)
    return linked


@pytest.fixture(scope="module")
def raw() -> dict[str, Order]:
    return {label: _order(name) for label, name in CM_ZIPS.items()}


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('icdimpact') / 'tracker.db'}"
    store = api.open_store(url)
    for name in [*CM_ZIPS.values(), CONVERSION, *PCS_ZIPS.values()]:
        api.ingest(store, shared_path("icd10", name))
    store.close()
    return url


@pytest.fixture(scope="module")
def store(store_url: str) -> Iterator[Store]:
    opened = api.open_store(store_url)
    yield opened
    opened.close()


def _cm(store: Store, codes: list[str], **kwargs: Any) -> Any:
    kwargs.setdefault("from_release", "FY2019")
    kwargs.setdefault("to_release", "FY2020")
    return impact(store, codes, code_set="icd10cm", **kwargs)


# --- Kinds against the raw files ---------------------------------------------------------------


def test_deleted_code_is_replaced_by_the_conversion_table_codes(
    store: Store, raw: dict[str, Order]
) -> None:
    gone = sorted(set(raw["FY2019"]) - set(raw["FY2020"]))
    assert gone, "FY2020 deletes codes of FY2019"
    links = _conversion("2019")
    for code in gone:
        report = _cm(store, [_dotted(code)])
        entry = report.entries[0]
        assert entry.kind is ImpactKind.DELETED, code
        assert entry.code == _dotted(code)
        data = entry.to_dict()
        assert data["status"] == "deleted"
        assert data["last_valid"] == "2019-09-30"
        expected = links.get(_dotted(code), [])
        assert expected, f"the FY2020 table names replacements of {code}"
        # Each replacement valid on 2019-10-01 is billable in the FY2020 order file.
        valid = [new for new in expected if raw["FY2020"][new.replace(".", "")][0]]
        assert data["replacements"]["valid_ends"] == valid
        assert entry.changed


def test_revised_titles_are_changed_with_old_and_new(store: Store, raw: dict[str, Order]) -> None:
    lines = _addenda(CM_ZIPS["FY2020"])
    revised = [
        (before, after)
        for before, after in itertools.pairwise(lines)
        if before[0] == "Revise from" and after[0] == "Revise to" and before[2] == after[2]
    ]
    assert revised
    before, after = revised[0]
    code = before[2]
    assert raw["FY2019"][code][2] == before[4] and raw["FY2020"][code][2] == after[4]
    entry = _cm(store, [code]).entries[0]
    assert entry.kind is ImpactKind.CHANGED
    assert entry.code == _dotted(code) and entry.to_dict()["listed"] == code
    fields = {fc.field: (fc.old, fc.new) for fc in entry.fields}
    assert fields["long_title"] == (before[4], after[4])
    assert "title" in entry.categories
    assert entry.description == after[4]


def test_billable_to_header_names_the_more_specific_codes(
    store: Store, raw: dict[str, Order]
) -> None:
    lines = _addenda(CM_ZIPS["FY2020"])
    deleted_billable = {code for action, flag, code, *_ in lines if action == "Delete" and flag}
    added_header = {code for action, flag, code, *_ in lines if action == "Add" and not flag}
    became_header = sorted(deleted_billable & added_header)
    assert became_header
    code = became_header[0]
    assert raw["FY2019"][code][0] and not raw["FY2020"][code][0]
    entry = _cm(store, [code]).entries[0]
    assert entry.kind is ImpactKind.CHANGED
    assert [(fc.field, fc.old, fc.new) for fc in entry.fields] == [("billable", True, False)]
    assert entry.status is Status.NOT_BILLABLE
    assert impact_rows(_cm(store, [code]))[0].status == "header, not billable"
    assert "billable: billable → header" in entry.details()
    assert list(entry.split_into) == _conversion("2019")[_dotted(code)]


def test_header_in_both_releases_is_unchanged_and_not_billable(
    store: Store, raw: dict[str, Order]
) -> None:
    header = next(
        code
        for code, (billable, *_) in sorted(raw["FY2019"].items())
        if not billable and raw["FY2020"].get(code) == raw["FY2019"][code]
    )
    entry = _cm(store, [header]).entries[0]
    assert entry.kind is ImpactKind.UNCHANGED
    assert entry.to_dict()["status"] == "not billable"
    assert entry.to_dict()["claim_status"] == "header, not billable"
    assert not entry.changed


def test_dotless_and_dotted_are_one_code_shown_with_the_dot(
    store: Store, raw: dict[str, Order]
) -> None:
    code = next(c for c, (billable, *_) in sorted(raw["FY2020"].items()) if billable and len(c) > 4)
    listed = parse_codes(f"{code}\n{_dotted(code).lower()}\n", "dx.txt")
    report = _cm(store, listed)
    assert [e.code for e in report.entries] == [_dotted(code)]
    assert report.entries[0].kind is ImpactKind.UNCHANGED
    assert report.entries[0].to_dict()["listed"] == code
    assert [(d.code, d.line, d.repeated_on) for d in report.duplicates] == [
        (_dotted(code), 1, (2,))
    ]


def test_unknown_codes_suggest_the_dot_and_zero(store: Store, raw: dict[str, Order]) -> None:
    every = set().union(*raw.values())
    with_zero = next(c for c in sorted(raw["FY2020"]) if "0" in c[2:] and len(c) > 4)
    letter_o = with_zero[:2] + with_zero[2:].replace("0", "O", 1)
    assert letter_o not in every
    misplaced = with_zero[:2] + "." + with_zero[2:]  # the dot one place early
    nowhere = "Z" + "9" * 6
    assert nowhere not in every
    report = _cm(store, [_dotted(letter_o), misplaced, nowhere])
    kinds = [e.kind for e in report.entries]
    assert kinds == [ImpactKind.UNKNOWN] * 3
    assert _dotted(with_zero) in report.entries[0].suggestions
    assert _dotted(with_zero) in report.entries[1].suggestions
    assert report.entries[2].suggestions == ()
    assert f"did you mean {_dotted(with_zero)}" in report.entries[1].details()


def test_code_of_a_later_release_is_not_yet_effective(store: Store, raw: dict[str, Order]) -> None:
    new = sorted(set(raw["FY2021-JAN"]) - set(raw["FY2020"]) - set(raw["FY2019"]))
    entry = _cm(store, [new[0]]).entries[0]
    assert entry.kind is ImpactKind.NOT_YET_EFFECTIVE
    assert "valid from 2021-01-01" in entry.note


def test_added_code_between_the_releases(store: Store, raw: dict[str, Order]) -> None:
    added = sorted(set(raw["FY2020"]) - set(raw["FY2019"]))
    entry = _cm(store, [added[0]]).entries[0]
    assert entry.kind is ImpactKind.ADDED and entry.description == raw["FY2020"][added[0]][2]


def test_pcs_deleted_code(store: Store) -> None:
    old, new = _order(PCS_ZIPS["FY2019"]), _order(PCS_ZIPS["FY2020"])
    gone = sorted(set(old) - set(new))
    report = impact(
        store, [gone[0]], from_release="FY2019", to_release="FY2020", code_set="icd10pcs"
    )
    entry = report.entries[0]
    assert report.new.code_set == "icd10pcs"
    assert entry.kind is ImpactKind.DELETED and entry.code == gone[0]
    assert entry.to_dict()["status"] == "deleted"


# --- Choosing the code set, the command, the JSON ---------------------------------------------


def test_codes_decide_the_code_set_of_an_ambiguous_label(
    store: Store, raw: dict[str, Order]
) -> None:
    cm_code = next(iter(sorted(raw["FY2020"])))
    report = impact(store, [_dotted(cm_code)], to_release="FY2020")
    assert report.new.code_set == "icd10cm" and report.old.label == "FY2019"
    pcs_code = next(iter(sorted(_order(PCS_ZIPS["FY2020"]))))
    assert impact(store, [pcs_code], to_release="FY2020").new.code_set == "icd10pcs"
    with pytest.raises(ReleaseError, match="--code-set"):
        impact(store, ["NOTACODE"], to_release="FY2020")


def test_command_json_matches_the_schema(store_url: str, tmp_path: Path) -> None:
    listed = tmp_path / "dx.txt"
    listed.write_text("# a value set\nH81.41\nB9621\nD81.3\nE11.9\nE1.19\n", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "--db",
            store_url,
            "impact",
            str(listed),
            "--from",
            "FY2019",
            "--to",
            "FY2020",
            "--code-set",
            "icd10cm",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    validate(data, schema, schema)
    assert data["to"]["code_set"] == "icd10cm"
    assert set(data["counts"]) == {
        "unchanged",
        "changed",
        "reused",
        "added",
        "deleted",
        "not_yet_effective",
        "absent",
        "unknown",
    }
    assert [c["code"] for c in data["codes"]] == ["H81.41", "B96.21", "D81.3", "E11.9", "E1.19"]
    failing = runner.invoke(
        cli, ["--db", store_url, "impact", str(listed), "--to", "FY2020", "--fail-on-change"]
    )
    assert failing.exit_code == 2, failing.output
    assert "FY2019 → FY2020" in failing.output and "deleted" in failing.output


def test_report_watchlist_for_icd10(store_url: str, tmp_path: Path) -> None:
    listed = tmp_path / "dx.txt"
    # CDC's FY2020 table assigns H81.4 to the range H81.41-H81.43 (read in the deleted test).
    listed.write_text("H8141\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        [
            "--db",
            store_url,
            "report",
            "FY2019",
            "FY2020",
            "--code-set",
            "icd10cm",
            "--watchlist",
            str(listed),
            "--format",
            "md",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "H81.41" in result.output and "replaced by H81.4" in result.output
