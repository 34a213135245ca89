"""Hostile text inside descriptions travels as data: parse -> store -> `tracker show`.

Template syntax is never evaluated (`{{ 7*7 }}` prints as written, not 49) and markup is not
interpreted. Control characters and bidi overrides are stored byte for byte (the store is
evidence: it holds what the file said) and `tracker show` prints them as visible escapes
(`\x1b`, `\u202e`), so they can neither drive the terminal nor reorder what is read.
Whitespace-like controls are normalized by design (a form feed reads as one space), and must
not split the record they sit in.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import SAMPLES, load_make_bad
from tracker import api
from tracker.cli import cli
from tracker.codesets.hcpcs.parsers import parse_source
from tracker.codesets.hcpcs.record import Record
from tracker.codesets.hcpcs.writers.fixedwidth import write_release
from tracker.errors import printable

JAN = SAMPLES / "HCPC2026_JAN_SAMPLE.txt"
MAKE_BAD = load_make_bad()

# code -> (long description, short description), all encodable in cp1252 (the text's charset).
TEXT_HOSTILE: dict[str, tuple[str, str]] = {
    "S0353": ("Total {{ 7*7 }} and {% for x in range(3) %}x{% endfor %} {# c #}", "{{ 7*7 }}"),
    "M1397": ("<script>alert('x')</script> <b onmouseover=x>&amp; ${7*7} #{7*7}", "<i>x</i>"),
    "G0599": ("Bell \x07 escape \x1b[31mred\x1b[0m delete \x7f start \x01 end", "\x1b]0;title\x07"),
}
# Whitespace-like controls: read back as one space each, without splitting the line.
TEXT_WHITESPACE = {"E0159": ("Form\x0cfeed and file\x1cseparator", "Form\x0cfeed")}
# Bidi controls and zero-width characters need Unicode: they come in through a workbook.
WORKBOOK_HOSTILE = {
    "Z9001": (
        "Invoice \u202egpj.exe\u202c and \u2066isolate\u2069 \u200bzero\u200dwidth",
        "\u202eabc",
    )
}


def _run(db: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--db", db, *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def _records_with(changes: dict[str, tuple[str, str]]) -> list[Record]:
    records = list(parse_source(api.read_source(JAN)).records)
    by_code = {r.code: i for i, r in enumerate(records)}
    for code, (long, short) in changes.items():
        if code not in by_code:
            pytest.fail(f"{code} is not in the JAN sample")
        records[by_code[code]] = dataclasses.replace(
            records[by_code[code]], long_description=long, short_description=short
        )
    return records


@pytest.fixture
def hostile_db(tmp_path: Path) -> str:
    codes = {**TEXT_HOSTILE, **TEXT_WHITESPACE}
    path = tmp_path / "HCPC2026_APR_HOSTILE.txt"
    write_release(_records_with(codes), path)
    workbook = tmp_path / "HCPC2026_JUL_HOSTILE.xlsx"
    (long, short) = WORKBOOK_HOSTILE["Z9001"]
    workbook.write_bytes(
        MAKE_BAD.xlsx_bytes(
            [
                MAKE_BAD.HEADER_48,
                MAKE_BAD.workbook_row(
                    "Z9001", **{"LONG DESCRIPTION": long, "SHORT DESCRIPTION": short}
                ),
            ]
        )
    )
    db = f"sqlite:///{tmp_path / 'tracker.db'}"
    for source in (path, workbook):
        code, _, err = _run(db, "ingest", str(source))
        assert code == 0, err
    return db


def test_pool_has_the_codes() -> None:
    codes = {r.code for r in parse_source(api.read_source(JAN)).records}
    assert set(TEXT_HOSTILE) | set(TEXT_WHITESPACE) <= codes


def _stored(db: str, code: str, release: str) -> Record:
    store = api.open_store(db)
    try:
        return api.show(store, code, release=release)[1]
    finally:
        store.close()


@pytest.mark.parametrize("code", sorted(TEXT_HOSTILE))
def test_text_release_shows_literally(hostile_db: str, code: str) -> None:
    long, short = TEXT_HOSTILE[code]
    record = _stored(hostile_db, code, "2026-APR")
    assert (record.long_description, record.short_description) == (long, short)
    status, out, err = _run(hostile_db, "show", code, "--release", "2026-APR")
    assert status == 0, err
    assert out.splitlines()[0] == f"{code}  {printable(long)}"
    assert any(
        line.startswith("Short Description ") and line.endswith(f"  {printable(short)}")
        for line in out.splitlines()
    ), out
    assert "\x1b" not in out and "\x07" not in out
    if "7*7" in long:
        assert "49" not in out


def test_jinja_and_markup_print_as_written(hostile_db: str) -> None:
    _, out, _ = _run(hostile_db, "show", "S0353", "--release", "2026-APR")
    assert out.splitlines()[0] == (
        "S0353  Total {{ 7*7 }} and {% for x in range(3) %}x{% endfor %} {# c #}"
    )
    _, out, _ = _run(hostile_db, "show", "M1397", "--release", "2026-APR")
    assert "<script>alert('x')</script> <b onmouseover=x>&amp; ${7*7} #{7*7}" in out


def test_whitespace_controls_do_not_split_records(hostile_db: str) -> None:
    status, out, _ = _run(hostile_db, "show", "E0159", "--release", "2026-APR")
    assert status == 0
    assert out.splitlines()[0] == "E0159  Form feed and file separator"


def test_workbook_bidi_controls_are_stored_and_shown_escaped(hostile_db: str) -> None:
    long, short = WORKBOOK_HOSTILE["Z9001"]
    record = _stored(hostile_db, "Z9001", "2026-JUL")
    assert (record.long_description, record.short_description) == (long, short)
    status, out, err = _run(hostile_db, "show", "Z9001", "--release", "2026-JUL")
    assert status == 0, err
    assert out.splitlines()[0] == (
        "Z9001  Invoice \\u202egpj.exe\\u202c and \\u2066isolate\\u2069 \u200bzero\u200dwidth"
    )
    assert "\u202e" not in out and "\\u202eabc" in out


def test_hostile_store_verifies(hostile_db: str) -> None:
    status, out, _ = _run(hostile_db, "verify")
    assert (status, out.split(":")[0]) == (0, "ok")
