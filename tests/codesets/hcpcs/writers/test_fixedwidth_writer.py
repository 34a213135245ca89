"""The writer is the parser's inverse: parse(render(record)) == record, generated and real."""

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.codesets.hcpcs.parsers.base import SourceFile
from tracker.codesets.hcpcs.parsers.fixedwidth import FixedWidthParser
from tracker.codesets.hcpcs.record import Record, RecordKind, normalize_text, normalize_tuple
from tracker.codesets.hcpcs.writers.fixedwidth import (
    format_record,
    render_release,
    wrap_description,
    write_release,
)

# Printable cp1252 characters that are not whitespace: what CMS text can hold once normalized.
VISIBLE = st.characters(codec="cp1252", exclude_categories=("Cc", "Cf", "Zs", "Zl", "Zp"))
CODE_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

words = st.text(VISIBLE, min_size=1, max_size=24)
long_descriptions = st.lists(words, max_size=30).map(" ".join)


def text(width: int) -> st.SearchStrategy[str]:
    """Whitespace-normalized text that fits `width` characters (normalizing only shortens)."""
    return st.text(st.one_of(VISIBLE, st.just(" ")), max_size=width).map(normalize_text)


def token(width: int) -> st.SearchStrategy[str]:
    """A value without spaces of at most `width` characters (codes, indicators), maybe blank."""
    return st.text(VISIBLE, max_size=width)


def repeated(width: int, count: int) -> st.SearchStrategy[tuple[str, ...]]:
    # normalize_tuple drops trailing blanks, as the parser does; inner blanks keep their slot.
    return st.lists(token(width), max_size=count).map(normalize_tuple)


some_dates = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))
dates = st.one_of(st.none(), some_dates)


@st.composite
def records(draw: st.DrawFn) -> Record:
    kind = draw(st.sampled_from(RecordKind))
    width = 5 if kind is RecordKind.PROCEDURE else 2
    code = draw(st.text(st.sampled_from(CODE_CHARS), min_size=width, max_size=width))
    return Record(
        code=code,
        kind=kind,
        long_description=draw(long_descriptions),
        short_description=draw(text(28)),
        pricing_indicators=draw(repeated(2, 4)),
        multiple_pricing_indicator=draw(token(1)),
        cim_references=draw(repeated(6, 3)),
        mcm_references=draw(repeated(8, 3)),
        statute=draw(text(10)),
        lab_certifications=draw(repeated(3, 8)),
        xrefs=draw(repeated(5, 5)),
        coverage=draw(token(1)),
        asc_group=draw(token(2)),
        asc_effective_date=draw(dates),
        mog_group=draw(token(3)),
        mog_indicator=draw(token(1)),
        mog_effective_date=draw(dates),
        processing_note=draw(token(4)),
        betos=draw(token(3)),
        types_of_service=draw(repeated(1, 5)),
        anesthesia_base_units=draw(st.one_of(st.none(), st.integers(0, 999))),
        # Every CMS record has an added date; the parser needs something from position 276 on.
        added_date=draw(some_dates),
        action_effective_date=draw(dates),
        termination_date=draw(dates),
        action_code=draw(token(1)),
    )


def parse(data: bytes) -> list[Record]:
    return list(FixedWidthParser().parse(SourceFile("rendered.txt", data)))


@settings(max_examples=200, deadline=None)
@given(records())
def test_round_trip_of_generated_records(record: Record) -> None:
    assert parse(render_release([record])) == [record]


@settings(max_examples=30, deadline=None)
@given(st.lists(records(), min_size=1, max_size=8, unique_by=lambda r: r.code))
def test_round_trip_of_a_generated_release(release: list[Record]) -> None:
    assert parse(render_release(release)) == release


@given(records())
def test_line_shapes(record: Record) -> None:
    lines = format_record(record)
    assert len(lines[0]) == 320
    assert all(len(line) == 91 for line in lines[1:])
    first_id, continuation_id = ("3", "4") if record.kind is RecordKind.PROCEDURE else ("7", "8")
    assert lines[0][5:11] == f"00100{first_id}"
    for number, line in enumerate(lines[1:], start=2):
        assert line[:5] == lines[0][:5]
        assert line[5:11] == f"{number:03d}00{continuation_id}"
    if record.kind is RecordKind.MODIFIER:
        assert lines[0][:5] == f"   {record.code}"


def test_long_description_spans_continuation_lines_at_word_boundaries() -> None:
    long = "Treatment planning and care coordination management for cancer, initial treatment"
    record = Record(
        code="S0353",
        kind=RecordKind.PROCEDURE,
        long_description=long,
        short_description="x",
        added_date=date(2012, 4, 1),
    )
    lines = format_record(record)
    assert lines[0][11:91].rstrip() == (
        "Treatment planning and care coordination management for cancer, initial"
    )
    assert lines[1] == "S035300200" + "4" + "treatment".ljust(80)


def test_wrap_cuts_a_word_longer_than_a_line() -> None:
    assert wrap_description("a " + "x" * 170) == ["a", "x" * 80, "x" * 80, "x" * 10]
    assert wrap_description("") == [""]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"short_description": "x" * 29}, "short description"),
        ({"pricing_indicators": ("00",) * 5}, "pricing indicators has 5 values"),
        ({"anesthesia_base_units": 1000}, "anesthesia base units"),
        ({"code": "S035"}, "procedure code 'S035' is not 5 characters"),
        ({"added_date": None}, "no added date"),
    ],
)
def test_values_that_do_not_fit_are_refused(change: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {
        "code": "S0353",
        "kind": RecordKind.PROCEDURE,
        "long_description": "d",
        "short_description": "s",
        "added_date": date(2012, 4, 1),
    }
    fields.update(change)
    with pytest.raises(ValueError, match=message):
        format_record(Record(**fields))  # type: ignore[arg-type]


def test_write_release_uses_crlf_cp1252_and_a_preamble(tmp_path: Path) -> None:
    record = Record(
        code="A0001",
        kind=RecordKind.PROCEDURE,
        long_description="Caf\u00e9 \u2019quoted\u2019 text",
        short_description="Short",
        added_date=date(2026, 1, 1),
    )
    path = tmp_path / "release.txt"
    size = write_release([record], path, preamble=["Disclaimer \u2019line\u2019", ""])
    data = path.read_bytes()
    assert size == len(data)
    assert data.startswith(b"Disclaimer \x92line\x92\r\n\r\nA000100100")
    assert data.endswith(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert data == render_release([record], preamble=["Disclaimer \u2019line\u2019", ""])
    assert parse(data) == [record]


def test_a_preamble_line_that_looks_like_a_record_is_refused() -> None:
    with pytest.raises(ValueError, match="preamble line 1"):
        render_release([], preamble=["   A1001007 not a disclaimer"])


def test_round_trip_of_the_real_2016_file(shared_file: Callable[..., Path]) -> None:
    path = shared_file("cms-hcpcs", "2016", "HCPC2016_CONTR_ANWEB.txt")
    original = list(FixedWidthParser().parse(SourceFile(path.name, path.read_bytes())))
    assert len(original) == 5956 + 337
    assert parse(render_release(original)) == original
