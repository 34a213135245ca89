"""CMS's fixed-width ICD-10 order file (`icd10cm_order_YYYY.txt`, `icd10pcs_order_YYYY.txt`).

Layout (CMS's `icd10OrderFiles.pdf`, both code sets): order number 1-5, code 7-13, flag 15
(`1` billable, `0` header), short title 17-76, long title 78 to the end. A release is ~97k lines
(CM), so lines are sliced, never matched with a regular expression per line.
"""

from __future__ import annotations

import gc
import re
from dataclasses import dataclass
from itertools import repeat
from pathlib import PurePosixPath

from tracker.errors import ParseError, SourceError

from .record import CodeSet, Icd10Record, build_record

# The file-name clue: CDC/CMS name order files `icd10cm_order_2024.txt`,
# `icd10pcs_order_2024.txt`, mid-year ones with a month (`icd10cm_order_2021jan.txt`).
ORDER_NAME = re.compile(r"^icd10(cm|pcs)_order_(\d{4})([a-z]*)\.txt$", re.IGNORECASE)

# Columns (0-based slices) of the layout above.
_ORDER = slice(0, 5)
_CODE = slice(6, 13)
_FLAG = 14
_SHORT = slice(16, 76)
_LONG_START = 77
_DETECT_SAMPLE = 200


@dataclass(frozen=True, slots=True)
class OrderFile:
    """The records of one order file, keyed by code, in file order."""

    name: str
    code_set: CodeSet
    records: dict[str, Icd10Record]

    @property
    def billable_count(self) -> int:
        return sum(1 for record in self.records.values() if record.billable)

    @property
    def header_count(self) -> int:
        return len(self.records) - self.billable_count


def code_set_from_name(name: str) -> CodeSet | None:
    """`icd10cm` / `icd10pcs` when the file name (any folder) is an order file's, else None."""
    match = ORDER_NAME.match(PurePosixPath(name.replace("\\", "/")).name)
    if match is None:
        return None
    return "icd10cm" if match[1].lower() == "cm" else "icd10pcs"


def _content_vote(code: str, flag: str) -> CodeSet | None:
    """What one code says about its code set, or None when it fits both.

    CM codes start with a letter followed by a digit; PCS codes are 7 characters (headers 3)
    and often start with a digit or have a letter second. A 7-character billable code whose
    first character is a letter and second a digit (`B020ZZZ`, `T74A1XA`) fits both.
    """
    if not code:
        return None
    if code[0].isdigit() or (len(code) > 1 and code[1].isalpha()):
        return "icd10pcs"
    if flag == "1" and len(code) != 7:
        return "icd10cm"
    if flag == "0" and len(code) != 3:
        return "icd10cm"
    return None


def detect(name: str, text: str) -> CodeSet:
    """The code set of an order file: its name first, then its first lines to confirm.

    Cheap: only the first few hundred lines are looked at. A name that says one code set over
    content that says the other is an error rather than a guess.
    """
    by_name = code_set_from_name(name)
    votes: set[CodeSet] = set()
    for line in text[: _DETECT_SAMPLE * 200].splitlines()[:_DETECT_SAMPLE]:
        vote = _content_vote(line[_CODE].rstrip(), line[_FLAG : _FLAG + 1])
        if vote is not None:
            votes.add(vote)
    if len(votes) > 1:
        raise SourceError(name, "mixes ICD-10-CM and ICD-10-PCS codes")
    by_content = next(iter(votes)) if votes else None
    if by_name and by_content and by_name != by_content:
        raise SourceError(name, f"named as {by_name} but its codes are {by_content} codes")
    found = by_content or by_name
    if found is None:
        raise SourceError(name, "not recognised as an ICD-10-CM or ICD-10-PCS order file")
    return found


def decode(name: str, data: bytes) -> str:
    """ASCII, strictly: a stray byte is reported with its line instead of being guessed at."""
    try:
        return data.decode("ascii")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ParseError(name, f"byte 0x{data[exc.start]:02x} is not ASCII", line) from None


def parse_order_file(name: str, data: bytes, code_set: CodeSet | None = None) -> OrderFile:
    """Every record of an order file, or a `file:line: problem` error for the first bad line.

    `code_set` is detected (see `detect`) when not given. Blank lines (a trailing one is common)
    are skipped; CRLF and LF both end lines.

    Speed: a release is ~97k lines, so the file is first checked column by column over all
    lines at once (comprehensions, set membership); only when one of these checks fails is it
    read again line by line, to name the first bad line.
    """
    text = decode(name, data)
    found = detect(name, text) if code_set is None else code_set
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    # ~100k records are built and all kept: a cyclic collection run meanwhile would only walk
    # them in vain (about a tenth of the parse time), so it waits until they are built.
    collecting = gc.isenabled()
    gc.disable()
    try:
        records = _parse_fast(lines, found)
        if records is None:
            records = _parse_slow(name, lines, found)
    finally:
        if collecting:
            gc.enable()
    if not records:
        raise SourceError(name, "holds no codes")
    return OrderFile(name, found, records)


def _parse_fast(lines: list[str], code_set: CodeSet) -> dict[str, Icd10Record] | None:
    """The records when every line passes the column checks, else None (see `_parse_slow`).

    Each check joins one column of every line into a single string and tests it with one
    C-level string method, rather than testing ~97k lines one by one in Python.
    """
    count = len(lines)
    if not count or min(map(len, lines)) <= _LONG_START:
        return None
    blanks = " " * count
    # Columns 1-8 of every line: the order number, a blank and the code's first two characters.
    head = "".join([line[:8] for line in lines])
    if head[5::8] != blanks or not "".join([head[i::8] for i in range(5)]).isdigit():
        return None
    if "".join([line[76] for line in lines]) != blanks:
        return None
    middle = "".join([line[13:16] for line in lines])
    flags = middle[1::3]
    if middle[0::3] != blanks or middle[2::3] != blanks or set(flags) - {"0", "1"}:
        return None
    codes = [line[_CODE].rstrip() for line in lines]
    if len(set(codes)) != count or min(map(len, codes)) < 3:
        return None
    joined = "".join(codes)
    if not joined.isascii() or not joined.isalnum() or joined != joined.upper():
        return None
    if code_set == "icd10cm":
        if not head[6::8].isalpha() or not head[7::8].isdigit():
            return None
    else:
        # The distinct (flag, code length) pairs: a billable PCS code has exactly 7 characters.
        pairs = set(zip(flags, map(len, codes), strict=True))
        if any(flag == "1" and size != 7 for flag, size in pairs):
            return None
    shorts = [line[_SHORT].rstrip() for line in lines]
    longs = [line[_LONG_START:].rstrip() for line in lines]
    if not all(shorts) or not all(longs):
        return None
    billables = map("1".__eq__, flags)
    records = map(build_record, repeat(code_set), codes, billables, shorts, longs)
    return dict(zip(codes, records, strict=True))


def _parse_slow(name: str, lines: list[str], code_set: CodeSet) -> dict[str, Icd10Record]:
    """Line by line, raising `file:line: problem` for the first line that breaks the layout."""
    is_cm = code_set == "icd10cm"
    records: dict[str, Icd10Record] = {}
    for number, line in enumerate(lines, start=1):
        if len(line) <= _LONG_START:
            if not line.strip():
                continue
            raise ParseError(
                name, f"line is {len(line)} characters, shorter than the layout", number
            )
        if line[5] != " " or line[13] != " " or line[15] != " " or line[76] != " ":
            raise ParseError(name, "columns out of place (no blank at 6, 14, 16 or 77)", number)
        if not line[_ORDER].isdigit():
            raise ParseError(name, f"order number {line[_ORDER]!r} is not 5 digits", number)
        code = line[_CODE].rstrip()
        if not code:
            raise ParseError(name, "blank code", number)
        if not code.isalnum() or code != code.upper():
            raise ParseError(name, f"code {code!r} is not upper-case letters and digits", number)
        flag = line[_FLAG]
        if flag != "1" and flag != "0":
            raise ParseError(name, f"flag {flag!r} of {code} is neither 1 nor 0", number)
        if len(code) < 3:
            raise ParseError(name, f"code {code} is shorter than 3 characters", number)
        if is_cm:
            if not code[0].isalpha() or not code[1].isdigit():
                raise ParseError(name, f"code {code} is not an ICD-10-CM code", number)
        elif flag == "1" and len(code) != 7:
            raise ParseError(name, f"billable code {code} is not 7 characters", number)
        if code in records:
            raise ParseError(name, f"code {code} appears twice", number)
        short = line[_SHORT].rstrip()
        long_title = line[_LONG_START:].rstrip()
        if not short or not long_title:
            raise ParseError(name, f"code {code} has a blank title", number)
        records[code] = Icd10Record(code_set, code, flag == "1", short, long_title)
    return records


def _layout_line(line: str) -> bool:
    """Whether one line has the order file's shape (number, blank, code, blank, flag, blank)."""
    return (
        len(line) > _LONG_START
        and line[_ORDER].isdigit()
        and line[5] == " "
        and line[_CODE].rstrip().isalnum()
        and line[13] == " "
        and line[_FLAG] in "01"
        and line[15] == " "
    )


def sniff(data: bytes, complete: bool = True) -> CodeSet | None:
    """The code set of what looks like an order file, from its first lines; never raises.

    Only the content decides (file names are not looked at): every non-blank line of the first
    few hundred must have the layout, and the codes' shapes must all point to one code set
    (see `_content_vote`). Anything else, including a file mixing the two, gives None.
    `complete` is False when `data` is only the start of a file (its last line may be cut).
    """
    head = data[: _DETECT_SAMPLE * 400]
    try:
        text = head.decode("ascii")
    except UnicodeDecodeError:
        return None
    lines = [line for line in text.splitlines()[:_DETECT_SAMPLE] if line.strip()]
    # The last line of a cut head may itself be cut.
    checked = lines if complete and len(head) == len(data) else lines[:-1]
    if not checked or not all(_layout_line(line) for line in checked):
        return None
    votes = {_content_vote(line[_CODE].rstrip(), line[_FLAG]) for line in checked}
    votes.discard(None)
    return next(iter(votes)) if len(votes) == 1 else None
