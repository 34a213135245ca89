"""Deleted ICD-10-CM codes and their replacements in every output, from CDC's real files.

FY2019 and FY2020 are ingested as published, with CDC's FY2020 conversion table (attached to
FY2020 by ingest). The expected deleted codes are read from the two order files with `zipfile`
(the code at positions 7-13 of each line), and each one's replacements from the conversion CSV
with the `csv` module: the FY2020 rows (effective October 1, 2019) whose previous codes name
the deleted code, alone or inside a range `H81.41-H81.43`. Neither reading uses the tracker.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.jsonschema_subset import validate
from tracker import api
from tracker.cli import cli
from tracker.store import Store

from .conftest import icd10_path

TABLE = "ICD-10-CM-Conversion-Table-FY20-Effective-10-1-2019-corrected.csv"
SCHEMA = json.loads(
    (Path(__file__).resolve().parents[3] / "tracker" / "schemas" / "diff.schema.json").read_text()
)


def _order_codes(path: Path) -> set[str]:
    """The codes of the order file inside a CMS zip (`icd10cm_order_YYYY.txt`, any folder)."""
    with zipfile.ZipFile(path) as archive:
        name = next(
            n
            for n in archive.namelist()
            if n.rsplit("/", 1)[-1].startswith("icd10cm_order_") and "addenda" not in n
        )
        text = archive.read(name).decode("ascii")
    return {line[6:13].strip() for line in text.splitlines() if line.strip()}


def _dotted(code: str) -> str:
    return f"{code[:3]}.{code[3:]}" if len(code) > 3 else code


def _named(previous: str) -> Iterator[tuple[str, str]]:
    """(first, last) of each code or range a 'Previous Code(s)' cell names, without dots."""
    for part in previous.replace(",", ";").split(";"):
        part = part.strip().replace(".", "")
        if not part:
            continue
        low, _, high = part.partition("-")
        yield low.strip(), (high.strip() or low.strip())


def _expected_replacements(table: Path, deleted: set[str]) -> dict[str, list[str]]:
    """deleted code (no dot) -> the new codes (with their dot, table order) naming it."""
    found: dict[str, list[str]] = {code: [] for code in deleted}
    with table.open(newline="", encoding="utf-8-sig") as handle:
        for row in csv.reader(handle):
            if len(row) < 3 or row[1].strip() != "2019":
                continue
            current = row[0].strip()
            for low, high in _named(row[2]):
                for code in deleted:
                    inside = low <= code <= high if low != high else code == low
                    if inside and current not in found[code]:
                        found[code].append(current)
    return found


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Store]]:
    old, new, table = (
        icd10_path("cms_2019_dx.zip"),
        icd10_path("cms_2020_dx.zip"),
        icd10_path(TABLE),
    )
    url = f"sqlite:///{tmp_path_factory.mktemp('icd10repl') / 'tracker.db'}"
    store = api.open_store(url)
    for path in (old, new, table):
        api.ingest(store, path)
    yield url, store
    store.close()


@pytest.fixture(scope="module")
def expected() -> dict[str, list[str]]:
    deleted = _order_codes(icd10_path("cms_2019_dx.zip")) - _order_codes(
        icd10_path("cms_2020_dx.zip")
    )
    assert deleted, "FY2020 deleted codes of FY2019"
    return _expected_replacements(icd10_path(TABLE), deleted)


def test_every_deleted_code_has_the_replacements_the_table_gives(
    stored: tuple[str, Store], expected: dict[str, list[str]]
) -> None:
    _url, store = stored
    data = json.loads(api.report(store, "FY2019", "FY2020", "json"))
    validate(data, SCHEMA, SCHEMA)
    deleted = {c["code"]: c["replaced_by"] for c in data["changes"] if c["kind"] == "deleted"}
    assert set(deleted) == set(expected)
    # The JSON writes codes as `code` is written (stored, no dot).
    assert {code: [_dotted(r) for r in codes] for code, codes in deleted.items()} == expected
    assert any(expected.values()), "the FY2020 table links some deleted code"
    for change in data["changes"]:
        if change["kind"] != "deleted":
            assert "replaced_by" not in change


def test_markdown_html_and_csv_list_them(
    stored: tuple[str, Store], expected: dict[str, list[str]]
) -> None:
    _url, store = stored
    markdown = api.report(store, "FY2019", "FY2020", "md")
    section = markdown.split("## Deleted codes", 1)[1].split("\n## ", 1)[0]
    for code, codes in expected.items():
        entry = section.split(f"**{_dotted(code)}**", 1)[1].split("\n- ", 1)[0]
        line = entry.split("replaced by: ", 1)[1].split("\n", 1)[0]
        shown = [item.split(" (", 1)[0] for item in line.split("; ")] if codes else []
        assert shown == codes, code
    html = api.report(store, "FY2019", "FY2020", "html")
    deleted_html = html.split('<section id="deleted">', 1)[1].split("</section>", 1)[0]
    for code, codes in expected.items():
        row = deleted_html.split(f'<td class="code">{_dotted(code)}</td>', 1)[1].split("</tr>")[0]
        assert [c for c in codes if f'<span class="code">{c}</span>' in row] == codes
    rows = list(csv.DictReader(io.StringIO(api.report(store, "FY2019", "FY2020", "csv"))))
    by_code = {row["code"]: row for row in rows if row["kind"] == "deleted"}
    assert {code: by_code[_dotted(code)]["new"] for code in expected} == {
        code: "; ".join(codes) for code, codes in expected.items()
    }
    assert all(by_code[_dotted(code)]["field"] == "replaced_by" for code in expected)


def test_diff_table_and_history_json(
    stored: tuple[str, Store], expected: dict[str, list[str]]
) -> None:
    url, _store = stored
    runner = CliRunner()
    table = runner.invoke(cli, ["--db", url, "diff", "FY2019", "FY2020"])
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    for code, codes in expected.items():
        at = next(i for i, line in enumerate(lines) if line.startswith(f"{_dotted(code)} "))
        if codes:
            follow = lines[at + 1].split()
            assert follow[:2] == ["replaced", "by"] and follow[2:] == codes, code
    code = next(code for code, codes in expected.items() if codes)
    history = runner.invoke(cli, ["--db", url, "history", code.lower(), "--format", "json"])
    assert history.exit_code == 0, history.output
    data = json.loads(history.output)
    assert data["code"] == _dotted(code)
    assert [item["code"] for item in data["replaced_by"]] == expected[code]
