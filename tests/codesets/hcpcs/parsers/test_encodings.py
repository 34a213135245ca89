"""Text that is not plain cp1252 CRLF: byte-order marks, UTF-16, odd line breaks, long lines."""

from __future__ import annotations

import codecs

import pytest

from tests.conftest import SAMPLES
from tracker.codesets.hcpcs.parsers import parse_source
from tracker.codesets.hcpcs.parsers.base import SourceFile
from tracker.errors import ParseError

APR = (SAMPLES / "HCPC2026_APR_SAMPLE.txt").read_bytes()  # its first line is a record
UTF16 = (
    "utf16.txt: text is UTF-16 encoded; CMS releases are single-byte text (ASCII or"
    " Windows-1252): save it as ANSI or UTF-8"
)


def _records(data: bytes) -> tuple[object, ...]:
    return parse_source(SourceFile("HCPC_TEST.txt", data)).records


def test_utf8_byte_order_mark_keeps_the_first_record() -> None:
    """Read as cp1252, the mark shifted line 1 by three columns and its record was lost."""
    assert _records(codecs.BOM_UTF8 + APR) == _records(APR)


def test_utf8_resave_reads_the_same_records() -> None:
    assert _records(codecs.BOM_UTF8 + APR.decode("cp1252").encode("utf-8")) == _records(APR)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_is_named(encoding: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_source(SourceFile("utf16.txt", APR.decode("cp1252").encode(encoding)))
    assert str(caught.value) == UTF16


@pytest.mark.parametrize("newline", [b"\r\n", b"\n", b"\r"])
def test_line_endings(newline: bytes) -> None:
    assert _records(APR.replace(b"\r\n", newline)) == _records(APR)


@pytest.mark.parametrize("control", [b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e"])
def test_breaks_that_are_not_line_ends_do_not_split_a_record(control: bytes) -> None:
    """`str.splitlines` breaks at these; a record with one in its description stays whole."""
    lines = APR.split(b"\r\n")
    lines[0] = lines[0][:30] + control + lines[0][31:]
    records = _records(b"\r\n".join(lines))
    assert len(records) == len(_records(APR))


def test_record_line_longer_than_the_layout() -> None:
    lines = APR.split(b"\r\n")
    lines[1] = lines[1].ljust(320) + b"spill"
    with pytest.raises(ParseError) as caught:
        _records(b"\r\n".join(lines))
    assert str(caught.value) == "HCPC_TEST.txt:2: line is 325 characters long, a record has 320"
