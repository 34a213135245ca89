"""The parser protocol every source format implements.

A parser sees bytes and a display name, never the database. `detect` must be cheap (it looks at
the first few KB at most) and must not raise; `parse` yields `Record`s or raises `ParseError`
naming the file and line.
"""

from __future__ import annotations

import codecs
import io
import zipfile
from collections.abc import Iterator, Sequence
from typing import Protocol

from tracker.codesets.base import SourceFile
from tracker.codesets.hcpcs.record import CODE_PATTERN, MODIFIER_PATTERN, Record, RecordKind
from tracker.errors import ParseError

__all__ = ["Parser", "SourceFile"]


class Parser(Protocol):
    name: str
    version: str

    def detect(self, source: SourceFile) -> bool: ...

    def parse(self, source: SourceFile) -> Iterator[Record]: ...


# Zip safety limits, shared by the release-zip parser and the workbook parser (an .xlsx is a zip
# too). The largest real release file is ~3.6 MB and deflates at most ~13:1, so these leave wide
# room while keeping a hostile archive from exhausting memory.
MAX_MEMBER_SIZE = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
# Tiny members may legitimately compress far better (a file of blanks); only larger ones count.
RATIO_CHECK_FROM = 1024 * 1024
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def zip_member_problem(info: zipfile.ZipInfo) -> str | None:
    """Why a member must not be read, judged from its declared sizes alone (before any read)."""
    if info.file_size > MAX_MEMBER_SIZE:
        return f"declared size {info.file_size} bytes exceeds the limit of {MAX_MEMBER_SIZE} bytes"
    if info.file_size >= RATIO_CHECK_FROM and info.file_size > MAX_COMPRESSION_RATIO * max(
        info.compress_size, 1
    ):
        return (
            f"compression ratio {info.file_size // max(info.compress_size, 1)}:1 exceeds"
            f" {MAX_COMPRESSION_RATIO}:1 (zip bomb?)"
        )
    return None


def zip_names(data: bytes) -> list[str] | None:
    """Member names from the central directory, or None when the bytes are not a readable zip."""
    if data[:4] not in ZIP_MAGIC:
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, NotImplementedError, OSError, ValueError, EOFError):
        return None


def is_xlsx(data: bytes) -> bool:
    """An Office Open XML workbook: a zip whose central directory lists `xl/workbook.xml`.

    A damaged zip has no readable directory; then the member name in a local header decides,
    so a truncated workbook is still reported by the workbook parser rather than as a zip.
    """
    if data[:4] not in ZIP_MAGIC:
        return False
    names = zip_names(data)
    if names is not None:
        return "xl/workbook.xml" in names
    return b"xl/workbook.xml" in data


def looks_utf16(data: bytes) -> bool:
    """UTF-16 text (Notepad's "Unicode"): a UTF-16 byte-order mark, or ASCII with a NUL beside
    every character. No parser claims it (NUL bytes), so this only names the problem."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    head = data[:4096]
    if len(head) < 64:
        return False
    even, odd = head[0::2], head[1::2]
    return max(even.count(0), odd.count(0)) > 0.9 * len(odd) and min(
        even.count(0), odd.count(0)
    ) < 0.1 * len(odd)


def fast_text(value: str) -> str:
    """`record.normalize_text` without the regex: `str.split()` splits on exactly the characters
    `\\s` matches in a str pattern, so the result is identical; parsers call it ~200k times per
    release, where the regex dominated the run time."""
    return " ".join(value.split()) if value else ""


def fast_tuple(values: Sequence[str]) -> tuple[str, ...]:
    """`record.normalize_tuple` with `fast_text`: same result, a fraction of the cost."""
    if not any(values):
        return ()
    items = [" ".join(v.split()) if v else "" for v in values]
    while items and not items[-1]:
        items.pop()
    return tuple(items)


def one_line(exc: BaseException) -> str:
    """Library messages may span lines; ours must stay on one (see `tracker.errors`)."""
    return " ".join(str(exc).split()) or type(exc).__name__


# Record ids (RIC) of the CMS layout, shared by every format that keeps physical lines.
FIRST_LINE_IDS = {"3": RecordKind.PROCEDURE, "7": RecordKind.MODIFIER}
CONTINUATION_IDS = {"4": RecordKind.PROCEDURE, "8": RecordKind.MODIFIER}


def first_line_kind(location: str, record_id: str, code: str, line: int) -> RecordKind:
    """The kind a first line (RIC 3 or 7) announces, once its code has the right shape."""
    kind = FIRST_LINE_IDS[record_id]
    pattern = CODE_PATTERN if kind is RecordKind.PROCEDURE else MODIFIER_PATTERN
    if not pattern.match(code):
        raise ParseError(location, f"{kind.value} code {code!r} is malformed", line)
    return kind
