"""`tracker impact` on the real CMS releases, checked against the raw files read here.

The expectations come from an independent reading of CMS's files: the fixed-width text sliced
by the record layout (1-based: code 1-5, RIC 11, long description 12-91, XREF 205-229 as five
5-character fields, termination date 285-292), and for the 2020 quarters, which exist only as
workbooks, the sheet's cells read straight from the xlsx XML by their header names. Small
code lists and CSV files are written by the tests.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import click
import pytest
from click.testing import CliRunner

from tests.conftest import PROJECT_ROOT, REAL_FILES, shared_path
from tests.jsonschema_subset import validate
from tracker import api
from tracker.codelist import parse_codes, read_codes
from tracker.errors import SourceError
from tracker.impact import ImpactKind, impact, impact_context, impact_rows
from tracker.impact_command import EXIT_CHANGED, impact_command
from tracker.query import Status
from tracker.replacements import HopEnd
from tracker.store import Store

SCHEMA_PATH = PROJECT_ROOT / "tracker" / "schemas" / "impact.schema.json"

# --- The raw files, read independently --------------------------------------------------------

Raw = dict[str, dict[str, Any]]
_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _day(text: str) -> date | None:
    text = text.strip()
    return datetime.strptime(text, "%Y%m%d").date() if text else None


def _text_records(text: str) -> Raw:
    """First lines (RIC 3 or 7) of a fixed-width file, sliced by the layout."""
    found: Raw = {}
    for line in text.splitlines():
        padded = line.ljust(320)
        if padded[10] not in "37" or not padded[5:10].isdigit():
            continue
        xrefs = [padded[204 + 5 * i : 209 + 5 * i].strip() for i in range(5)]
        found[padded[0:5].strip()] = {
            "long": padded[11:91].strip(),
            "xrefs": [x for x in xrefs if x],
            "added": _day(padded[268:276]),
            "termination": _day(padded[284:292]),
        }
    return found


def _workbook_records(path: Path) -> Raw:
    """The sheet's rows from the header row named HCPC on, cells by header name."""
    with zipfile.ZipFile(path) as archive:
        shared = [
            "".join(t.text or "" for t in item.iter(f"{_NS}t"))
            for item in ElementTree.fromstring(archive.read("xl/sharedStrings.xml"))
        ]
        sheet = ElementTree.fromstring(archive.read("xl/worksheets/sheet1.xml"))
    header: dict[str, str] | None = None
    found: Raw = {}
    for row in sheet.iter(f"{_NS}row"):
        cells: dict[str, str] = {}
        for cell in row.iter(f"{_NS}c"):
            column = cell.get("r", "").rstrip("0123456789")
            if cell.get("t") == "s":
                value = shared[int(cell.findtext(f"{_NS}v") or "0")]
            elif cell.get("t") == "inlineStr":
                value = "".join(t.text or "" for t in cell.iter(f"{_NS}t"))
            else:
                value = cell.findtext(f"{_NS}v") or ""
            cells[column] = value
        if header is None:
            if cells.get("A", "").strip() == "HCPC":
                header = {name.strip(): column for column, name in cells.items()}
            continue

        named = {name: cells.get(column, "").strip() for name, column in header.items()}
        code = named["HCPC"]
        if not code or named["RECID"] not in ("3", "7"):
            continue
        xrefs = [named[f"XREF{i}"] for i in range(1, 6)]
        found[code] = {
            "long": named["LONG DESCRIPTION"],
            "xrefs": [x for x in xrefs if x],
            "termination": _day(named["TERM DT"]),
        }
    return found


def _read_raw(name: str) -> Raw:
    path = shared_path("cms-hcpcs", *name.split("/"))
    if path.suffix == ".txt":
        return _text_records(path.read_bytes().decode("latin-1"))
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            member = next(
                n for n in archive.namelist() if n.upper().endswith(".TXT") and "ANWEB" in n.upper()
            )
            return _text_records(archive.read(member).decode("latin-1"))
    return _workbook_records(path)


# Release label -> the file of REAL_FILES it comes from.
LABELS = ("2016-JAN", "2017-JAN", "2018-JAN", "2020-JAN", "2020-APR", "2020-JUL", "2020-OCT")


@pytest.fixture(scope="module")
def raw() -> dict[str, Raw]:
    assert len(LABELS) == len(REAL_FILES)
    return {label: _read_raw(name) for label, name in zip(LABELS, REAL_FILES, strict=True)}


@pytest.fixture(scope="module")
def store(real_store_url: str) -> Iterator[Store]:
    opened = api.open_store(real_store_url)
    yield opened
    opened.close()


def _effective(label: str) -> date:
    year, month = label.split("-")
    return date(int(year), ("JAN", "APR", "JUL", "OCT").index(month) * 3 + 1, 1)


# --- The acceptance list ------------------------------------------------------------------------


def test_g0202_terminated_2017_to_2018_replaced_by_77067(store: Store, raw: dict[str, Raw]) -> None:
    before, after = raw["2017-JAN"]["G0202"], raw["2018-JAN"]["G0202"]
    assert before["termination"] is None
    assert after["termination"] == date(2017, 12, 31) and after["xrefs"] == ["77067"]
    assert all("77067" not in release for release in raw.values())  # a CPT code
    report = impact(store, ["G0202"], from_release="2017", to_release="2018")
    (entry,) = report.entries
    assert (report.old.label, report.new.label) == ("2017-JAN", "2018-JAN")
    assert entry.kind is ImpactKind.TERMINATED and entry.status is Status.TERMINATED
    assert "lifecycle" in entry.categories and "crosswalk" in entry.categories
    assert entry.chain is not None
    assert [hop.code for hop in entry.chain.start.next] == after["xrefs"]
    assert entry.chain.start.termination_date == after["termination"]
    assert entry.chain.start.next[0].end is HopEnd.OUTSIDE
    assert entry.chain.text() == "replaced by 77067 (not in the code set)"
    assert report.changed


def test_c9053_added_and_replaced_by_j0791_within_2020(store: Store, raw: dict[str, Raw]) -> None:
    assert "C9053" not in raw["2020-JAN"] and "J0791" not in raw["2020-JAN"]
    october = raw["2020-OCT"]
    ended = october["C9053"]["termination"]
    assert ended is not None and ended < _effective("2020-OCT")
    assert october["C9053"]["xrefs"] == ["J0791"] and october["J0791"]["termination"] is None
    report = impact(store, ["C9053", "J0791"], from_release="2020-JAN", to_release="2020-OCT")
    c9053, j0791 = report.entries
    assert c9053.kind is ImpactKind.ADDED and c9053.status is Status.TERMINATED
    assert c9053.chain is not None and c9053.chain.valid_ends == ("J0791",)
    assert c9053.chain.text() == "replaced by J0791 (active)"
    assert (j0791.kind, j0791.status, j0791.chain) == (ImpactKind.ADDED, Status.ACTIVE, None)
    # In April, C9053 was new and valid; J0791 came in July.
    april = raw["2020-APR"]
    assert april["C9053"]["termination"] is None and "J0791" not in april
    early = impact(store, ["C9053", "J0791"], from_release="2020-JAN", to_release="2020-APR")
    assert [(e.kind, e.status) for e in early.entries] == [
        (ImpactKind.ADDED, Status.ACTIVE),
        (ImpactKind.NOT_YET_EFFECTIVE, Status.NOT_YET_EFFECTIVE),
    ]
    # Added is not a change of a listed code: nothing to fail on.
    assert not early.changed


def test_cs_is_reused_in_2020_april(store: Store, raw: dict[str, Raw]) -> None:
    old, new = raw["2020-JAN"]["CS"]["long"], raw["2020-APR"]["CS"]["long"]
    words = {w for w in re.findall(r"[a-z0-9]+", old.lower()) if len(w) > 3}
    assert "covid-19" in new.lower() and "covid" not in old.lower()
    assert len(words & set(re.findall(r"[a-z0-9]+", new.lower()))) <= 1
    report = impact(store, ["CS"], from_release="2020-JAN", to_release="2020-APR")
    (entry,) = report.entries
    assert entry.kind is ImpactKind.REUSED and "reused" in entry.flags
    assert entry.status is Status.ACTIVE and report.changed
    assert " ".join(entry.description.split()) == " ".join(new.split())  # type: ignore[union-attr]
    long = next(fc for fc in entry.fields if fc.field == "long_description")
    # The raw reading takes the first line's 80 characters of the old description.
    assert " ".join(long.old.split()).startswith(" ".join(old.split()))


@pytest.mark.parametrize("code", ["G9668", "G9976"])
def test_purged_code_is_removed_between_the_releases_that_drop_it(
    store: Store, raw: dict[str, Raw], code: str
) -> None:
    carrying = [label for label in LABELS if code in raw[label]]
    last = carrying[-1]
    dropped_by = LABELS[LABELS.index(last) + 1]
    assert raw[last][code]["termination"] is None
    report = impact(store, [code], from_release=last, to_release=dropped_by)
    (entry,) = report.entries
    assert entry.kind is ImpactKind.REMOVED and entry.status is Status.REMOVED
    assert entry.chain is not None
    assert [hop.code for hop in entry.chain.start.next] == raw[last][code]["xrefs"]
    assert report.changed
    # Later pairs: gone from both releases, still removed on the later one's date.
    later = impact(store, [code], from_release="2020-JUL", to_release="2020-OCT")
    assert (later.entries[0].kind, later.entries[0].status) == (ImpactKind.ABSENT, Status.REMOVED)
    assert f"last in {last}" in later.entries[0].note


def test_codes_published_ahead_are_not_yet_effective(store: Store, raw: dict[str, Raw]) -> None:
    """The 2018 file carries modifiers added from later in 2018 (found here, not assumed)."""
    ahead = sorted(
        code
        for code, record in raw["2018-JAN"].items()
        if record["added"] is not None and record["added"] > _effective("2018-JAN")
    )
    assert ahead, "the 2018 file has codes added after its effective date"
    report = impact(store, ahead, from_release="2017", to_release="2018")
    for entry in report.entries:
        assert entry.code not in raw["2017-JAN"]
        assert (entry.kind, entry.status) == (
            ImpactKind.NOT_YET_EFFECTIVE,
            Status.NOT_YET_EFFECTIVE,
        ), entry.code
        assert entry.note == f"valid from {raw['2018-JAN'][entry.code]['added'].isoformat()}"
    # By the next release they are in force and unchanged.
    later = impact(store, ahead, from_release="2018", to_release="2020-JAN")
    assert all(entry.status is Status.ACTIVE for entry in later.entries)


def test_codes_are_case_insensitive(store: Store) -> None:
    report = impact(store, [" g0202 "], from_release="2017", to_release="2018")
    assert [(entry.code, entry.kind) for entry in report.entries] == [
        ("G0202", ImpactKind.TERMINATED)
    ]


def test_unknown_codes_get_near_misses(store: Store, raw: dict[str, Raw]) -> None:
    everywhere = set().union(*raw.values())
    at_october = set(raw["2020-OCT"])
    for typo in ("G02O2", "G02 02", "J079I", "J791"):
        assert typo not in everywhere
    report = impact(store, ["G02O2", "G02 02", "J079I", "J791", "ZZZZZZZ"])
    by_code = {entry.code: entry for entry in report.entries}
    assert all(entry.kind is ImpactKind.UNKNOWN for entry in report.entries)
    assert by_code["G02O2"].suggestions == ("G0202",)  # letter O for zero
    assert by_code["G02 02"].suggestions == ("G0202",)  # a space
    assert by_code["J079I"].suggestions == ("J0791",)  # letter I for one
    # A dropped character: every suggestion is a stored code with one character more.
    dropped = by_code["J791"].suggestions
    assert "J0791" in dropped
    for suggestion in dropped:
        assert suggestion in everywhere
        assert any(suggestion[:i] + suggestion[i + 1 :] == "J791" for i in range(5))
    # Codes of the later release come first.
    ranks = [0 if s in at_october else 1 for s in dropped]
    assert ranks == sorted(ranks)
    assert by_code["ZZZZZZZ"].suggestions == ()
    assert "did you mean G0202?" in by_code["G02O2"].details()


def test_mixed_list_keeps_order_and_counts(store: Store, raw: dict[str, Raw]) -> None:
    codes = ["G0202", "C9053", "CS", "G9976", "G02O2", "J0791"]
    report = impact(store, codes, from_release="2020-JAN", to_release="2020-OCT")
    assert [entry.code for entry in report.entries] == codes
    kinds = [entry.kind for entry in report.entries]
    assert kinds == [
        ImpactKind.UNCHANGED,  # terminated since 2017, in both files
        ImpactKind.ADDED,
        ImpactKind.REUSED,
        ImpactKind.ABSENT,
        ImpactKind.UNKNOWN,
        ImpactKind.ADDED,
    ]
    assert report.entries[0].status is Status.TERMINATED
    assert report.entries[0].chain is not None
    assert report.entries[0].chain.text() == "replaced by 77067 (not in the code set)"
    counts = report.counts()
    assert sum(counts.values()) == len(codes) and counts[ImpactKind.ADDED] == 2
    # Every HCPCS kind, zero included; `deleted` is ICD-10's word and not one of them.
    assert set(counts) == set(ImpactKind) - {ImpactKind.DELETED}
    rows = impact_rows(report)
    assert [row.code for row in rows] == codes
    assert rows[1].replacements == "replaced by J0791 (active)"


def test_default_releases_are_the_latest_two(store: Store) -> None:
    report = impact(store, ["A0021"])
    assert (report.old.label, report.new.label) == (LABELS[-2], LABELS[-1])
    only_to = impact(store, ["A0021"], to_release="2020-JAN")
    assert only_to.old.label == "2018-JAN"


# --- JSON and its schema ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def mixed_json(store: Store) -> dict[str, Any]:
    listed = parse_codes("G0202\nC9053\nCS\nG9976\nG02O2\nJ0791\nCS\n", "list.txt")
    report = impact(store, listed, from_release="2020-JAN", to_release="2020-OCT")
    data: dict[str, Any] = json.loads(json.dumps(report.to_dict()))
    return data


def test_json_matches_schema(schema: dict[str, Any], mixed_json: dict[str, Any]) -> None:
    validate(mixed_json, schema, schema)
    assert [c["code"] for c in mixed_json["codes"]] == [
        "G0202",
        "C9053",
        "CS",
        "G9976",
        "G02O2",
        "J0791",
    ]
    assert mixed_json["duplicates"] == [{"code": "CS", "line": 3, "repeated_on": [7]}]
    assert mixed_json["codes"][1]["replacements"]["valid_ends"] == ["J0791"]
    assert mixed_json["changed"] is True


def test_schema_validator_rejects(schema: dict[str, Any], mixed_json: dict[str, Any]) -> None:
    for mutate in (
        lambda d: d.update(schema_version=2),
        lambda d: d["codes"][0].update(kind="moved"),
        lambda d: d["codes"][0].update(status="fine"),
        lambda d: d.update(surprise=1),
        lambda d: d["from"].pop("label"),
        lambda d: d["counts"].pop("unknown"),
        lambda d: d["codes"][1]["replacements"]["start"].update(end="elsewhere"),
    ):
        bad = json.loads(json.dumps(mixed_json))
        mutate(bad)
        with pytest.raises(AssertionError):
            validate(bad, schema, schema)


# --- Code lists ---------------------------------------------------------------------------------


def test_text_list_comments_blanks_and_duplicates() -> None:
    listed = parse_codes("# my codes\n\nG0202  # mammography\n CS\nG0202\n\nCS\n", "x.txt")
    assert [(c.code, c.line) for c in listed.codes] == [("G0202", 3), ("CS", 4)]
    assert [(d.code, d.line, d.repeated_on) for d in listed.duplicates] == [
        ("G0202", 3, (5,)),
        ("CS", 4, (7,)),
    ]


def test_csv_list_in_cp1252_with_column(tmp_path: Path) -> None:
    path = tmp_path / "fees.csv"
    path.write_bytes(
        'Description,HCPCS\r\nCafé visit,G0202\r\nblank,\r\n"a, b",CS\r\n'.encode("cp1252")
    )
    listed = read_codes(path, column="hcpcs")
    assert [(c.code, c.line) for c in listed.codes] == [("G0202", 2), ("CS", 4)]
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbfcode\nJ0791\n")
    assert [c.code for c in read_codes(bom, column="code").codes] == ["J0791"]


@pytest.mark.parametrize(
    ("content", "column", "expected"),
    [
        ("", None, ":1: the list holds no codes"),
        ("# nothing\n\n", None, ":1: the list holds no codes"),
        ("code\n", "code", ":1: column 'code' holds no codes"),
        ("a,b\nG0202,CS\n", "code", ":1: no column 'code' (columns: 'a', 'b')"),
        ("a,b\n1\n", "b", ":2: 1 cells, no value for column 'b'"),
        ("G0202\nG0202,CS\n", None, ":2: 'G0202,CS' is not one code"),
        ("G0202\n" + "X" * 30 + "\n", None, ":2: 'XXXXXXXXXXXXXXXXXXXX…' is not a code"),
        ('code\n"G0202\n', "code", ":2: not a readable CSV line"),
    ],
)
def test_bad_lists_are_one_line_errors(
    tmp_path: Path, content: str, column: str | None, expected: str
) -> None:
    path = tmp_path / "list.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        read_codes(path, column=column)
    message = str(caught.value)
    assert message.startswith(str(path) + expected), message
    assert "\n" not in message


# --- The command --------------------------------------------------------------------------------


@click.group()
@click.option("--db", required=True)
@click.pass_context
def _cli(ctx: click.Context, db: str) -> None:
    ctx.obj = {"db": db}


_cli.add_command(impact_command)


def _run(real_store_url: str, *args: str) -> Any:
    return CliRunner().invoke(_cli, ["--db", real_store_url, "impact", *args])


def test_command_table_json_csv(real_store_url: str, tmp_path: Path) -> None:
    codes = tmp_path / "codes.txt"
    codes.write_text("G0202\nC9053\nCS\n[RED]G9976[/RED]\n=1+2\n", encoding="utf-8")
    table = _run(real_store_url, str(codes), "--from", "2020-JAN", "--to", "2020-OCT")
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0].startswith("2020-JAN → 2020-OCT (statuses on 2020-10-01): 5 codes:")
    assert any(line.startswith("added") and "replaced by J0791 (active)" in line for line in lines)
    assert any("[RED]G9976[/RED]" in line for line in lines)  # printed as written, no markup
    data = json.loads(
        _run(real_store_url, str(codes), "--to", "2020-OCT", "--format", "json").output
    )
    assert data["from"]["label"] == "2020-JUL" and data["source"] == str(codes)
    out = _run(real_store_url, str(codes), "--format", "csv", "--from", "2020-JAN")
    assert out.exit_code == 0
    rows = out.output.splitlines()
    assert rows[0] == "kind,code,status,description,details,replacements"
    assert rows[-1].startswith("unknown,'=1+2,unknown")  # a formula is neutralized


def test_fail_on_change(real_store_url: str, tmp_path: Path) -> None:
    changed = tmp_path / "changed.txt"
    changed.write_text("CS\n", encoding="utf-8")
    steady = tmp_path / "steady.txt"
    steady.write_text("J0791\nG02O2\n", encoding="utf-8")
    common = ("--from", "2020-JAN", "--to", "2020-APR", "--fail-on-change")
    assert _run(real_store_url, str(changed), *common).exit_code == EXIT_CHANGED == 2
    assert _run(real_store_url, str(steady), *common).exit_code == 0
    assert (
        _run(real_store_url, str(changed), "--from", "2020-JAN", "--to", "2020-APR").exit_code == 0
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("missing.txt",), "Error: {dir}/missing.txt:1: no such file or directory"),
        (("codes.txt", "--to", "2019"), "Error: --to 2019: release 2019-JAN is not stored"),
        (("codes.txt", "--from", "2021-APR"), "Error: --from 2021-APR: release 2021-APR is not"),
        (("codes.txt", "--column", "code"), "Error: {dir}/codes.txt:1: no column 'code'"),
        (("empty.txt",), "Error: {dir}/empty.txt:1: the list holds no codes"),
        (
            ("codes.txt", "--from", "2020-OCT", "--to", "2020-JAN"),
            "Error: --from 2020-OCT is effective after --to 2020-JAN",
        ),
    ],
)
def test_command_errors_are_one_line(
    real_store_url: str, tmp_path: Path, args: tuple[str, ...], expected: str
) -> None:
    (tmp_path / "codes.txt").write_text("G0202\n", encoding="utf-8")
    (tmp_path / "empty.txt").write_text("# none\n", encoding="utf-8")
    full = [str(tmp_path / a) if a.endswith(".txt") else a for a in args]
    result = _run(real_store_url, *full)
    assert result.exit_code == 1
    assert result.output.startswith(expected.format(dir=tmp_path)), result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


# --- Report partials ----------------------------------------------------------------------------


def test_partials_render_the_rows_escaped(store: Store) -> None:
    from tracker.report.render import environment

    report = impact(store, ["C9053", "<B>|X"], from_release="2020-JAN", to_release="2020-OCT")
    env = environment()
    markdown = env.get_template("_impact.md.j2").render(**impact_context(report))
    assert "## Your codes" in markdown
    assert "| added | C9053 | terminated |" in markdown
    assert "replaced by J0791 (active)" in markdown
    assert "\\<B\\>\\|X" in markdown
    html = env.get_template("_impact.html.j2").render(**impact_context(report))
    assert '<section id="your-codes">' in html and "&lt;B&gt;|X" in html and "<B>|X" not in html


# --- `tracker show CODE --as-of D`: the chain on the date ---------------------------------------


def _show(url: str, code: str, on: date) -> list[str]:
    from tracker.cli import cli

    result = CliRunner().invoke(cli, ["--db", url, "show", code, "--as-of", on.isoformat()])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_show_as_of_follows_g0202_and_c9053(real_store_url: str, raw: dict[str, Raw]) -> None:
    # G0202: terminated 2017-12-31 naming 77067, which no Level II file carries (a CPT code).
    after = raw["2018-JAN"]["G0202"]
    (replacement,) = after["xrefs"]
    assert all(replacement not in release for release in raw.values())
    day = after["termination"] + timedelta(days=1)
    lines = _show(real_store_url, "g0202", day)
    assert f"replaced by {replacement} (not in the code set)" in lines
    # C9053: ended within 2020 naming J0791, valid from the October file on.
    october = raw["2020-OCT"]
    (successor,) = october["C9053"]["xrefs"]
    assert october[successor]["termination"] is None
    lines = _show(real_store_url, "C9053", _effective("2020-OCT"))
    assert f"replaced by: {successor}  {october[successor]['long']}" in lines
    assert f"replaced by {successor} (active)" in lines
    # On its last valid day C9053 is valid: its replacement is named, no chain is followed.
    lines = _show(real_store_url, "C9053", october["C9053"]["termination"])
    assert f"replaced by: {successor}  {october[successor]['long']}" in lines
    assert not any(line.startswith("replaced by ") for line in lines)
