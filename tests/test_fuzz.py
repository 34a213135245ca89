"""Fuzzing every parser: `parse_source` returns a release or raises `TrackerError`, nothing else.

Inputs start from real material (record lines of the samples in `snapshots/` and, when the
shared folder is there, of CMS's 2018 text read straight from its zip; the seed pages; small
workbooks and release zips built here) and are then damaged the way downloads and hand edits
damage files: bytes flipped, inserted, deleted, lines truncated, shuffled or duplicated, layout
fields overwritten with awkward characters, zip headers and sheet XML corrupted.

Properties: the result is a release with records that hash, or a `TrackerError` whose message
is one line starting with the file name. Each example runs under an alarm, so a parser that
hangs fails instead of stalling the run.

The default is a bounded run for CI (a few seconds). `make fuzz` sets `TRACKER_FUZZ_EXAMPLES`
to run that many examples per target, and prints the number run.
"""

from __future__ import annotations

import io
import os
import random
import signal
import warnings
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SAMPLES, SHARED, load_make_bad
from tracker.codesets.base import ParsedRelease
from tracker.codesets.hcpcs.parsers import parse_source
from tracker.codesets.hcpcs.parsers.base import SourceFile
from tracker.errors import TrackerError

FUZZ_EXAMPLES = int(os.environ.get("TRACKER_FUZZ_EXAMPLES", "0"))
HANG_S = 20  # far above any parse of these inputs (milliseconds); reaching it means a hang


def _settings(ci_examples: int) -> settings:
    return settings(
        max_examples=FUZZ_EXAMPLES or ci_examples,
        deadline=None,  # the alarm guards against hangs; timing noise must not fail CI
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        # The damage is drawn, not the content: shrinking finds the minimal damage.
        derandomize=not FUZZ_EXAMPLES,
    )


MAKE_BAD = load_make_bad()


def _record_lines() -> list[bytes]:
    lines: list[bytes] = []
    for path in sorted(SAMPLES.glob("HCPC*_SAMPLE.txt")):
        lines += path.read_bytes().split(b"\r\n")
    real = SHARED / "cms-hcpcs" / "2018" / "2018-Alpha-Numeric-HCPCS-File.zip"
    if real.exists():
        with zipfile.ZipFile(real) as archive:
            text = archive.read("HCPC2018_CONTR_ANWEB_disc.txt").split(b"\r\n")
        # A spread of real lines: disclaimer, procedures, continuations, modifiers.
        rng = random.Random(2018)
        lines += text[:40] + [text[i] for i in sorted(rng.sample(range(len(text)), 2000))]
    return [line for line in lines if line]


RECORD_LINES = _record_lines()
SEED_PAGES = [p.read_bytes() for p in sorted((SHARED / "seeds").glob("*.txt"))] or [
    (
        b"Z9001\n\n<i>HCPCS Code</i>\tZ9001\tcode\n"
        b"<i>Code Description</i>\tSynthetic test item\tdescription\n"
        b"<i>Short Description</i>\tSynthetic item\tshort\n"
        b"<i>Code Added Date</i>\t20200101\tadded\n<i>Action Code</i>\tN\taction\n"
    )
]
# 1-based inclusive positions of layout fields whose parsing can fail.
FIELDS = [
    (1, 5),  # code
    (6, 10),  # sequence
    (11, 11),  # record id
    (120, 127),  # pricing indicators
    (231, 240),  # ASC group and date
    (245, 252),  # MOG date
    (266, 268),  # anesthesia base units
    (269, 276),  # added date
    (277, 284),  # action effective date
    (285, 292),  # termination date
]
AWKWARD = "0123456789 Z9A-.\t\x00\x0b\x0c\x1a\x1c\x85\xa0\xb2\xbd\ufeff\u202e\u0663ÿ"
COUNTS: Counter[str] = Counter()
PARSED: Counter[str] = Counter()  # examples that still parsed: damage the parsers tolerated


class Hang(Exception):
    pass


def _alarm(_signum: int, _frame: FrameType | None) -> None:
    raise Hang(f"a parse ran for more than {HANG_S} s")


def check(target: str, name: str, data: bytes) -> None:
    """The property every target shares."""
    COUNTS[target] += 1
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, HANG_S)
    try:
        release = parse_source(SourceFile(name, data))
    except TrackerError as exc:
        message = str(exc)
        assert message.startswith(name), message
        assert message.isprintable(), repr(message)
        return
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert isinstance(release, ParsedRelease)
    assert release.records
    for record in release.records:
        record.content_hash()
    PARSED[target] += 1


@pytest.fixture(scope="module", autouse=True)
def _report_counts(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    total = sum(COUNTS.values())
    detail = ", ".join(
        f"{target} {count} ({PARSED[target]} parsed)" for target, count in sorted(COUNTS.items())
    )
    if reporter is not None and capture is not None and total:
        with capture.global_and_fixture_disabled():  # shown even without -s
            reporter.write_line(f"\nfuzz: {total} examples run ({detail})")


# --- damage -----------------------------------------------------------------------------------


@st.composite
def damaged(draw: st.DrawFn, data: bytes, max_ops: int = 4) -> bytes:
    """`data` with 0..max_ops byte-level injuries."""
    out = bytearray(data)
    for _ in range(draw(st.integers(0, max_ops))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "set"]))
        at = draw(st.integers(0, max(len(out) - 1, 0)))
        if op == "flip" and out:
            out[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del out[at : at + draw(st.integers(1, 64))]
        elif op == "truncate":
            del out[at:]
        elif op == "set" and out:
            out[at] = draw(st.sampled_from([0, 0x0A, 0x0D, 0x1A, 0x20, 0x30, 0x39, 0x80, 0xFF]))
    return bytes(out)


@st.composite
def text_release(draw: st.DrawFn) -> bytes:
    """Consecutive real lines, reshuffled and with layout fields overwritten."""
    start = draw(st.integers(0, len(RECORD_LINES) - 1))
    lines = [bytearray(line) for line in RECORD_LINES[start : start + draw(st.integers(1, 30))]]
    for _ in range(draw(st.integers(0, 3))):
        line = lines[draw(st.integers(0, len(lines) - 1))]
        op = draw(st.sampled_from(["field", "cut", "duplicate", "swap", "shuffle", "pad"]))
        if op == "field":
            first, last = draw(st.sampled_from(FIELDS))
            value = draw(st.text(AWKWARD, min_size=last - first + 1, max_size=last - first + 1))
            line[first - 1 : last] = value.encode("cp1252", errors="replace")
        elif op == "cut":
            del line[draw(st.integers(0, len(line))) :]
        elif op == "duplicate":
            lines.append(bytearray(line))
        elif op == "swap" and len(lines) > 1:
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "shuffle":
            lines = draw(st.permutations(lines))
        elif op == "pad":
            line.extend(draw(st.sampled_from([b" " * 40, b"x" * 40, b"\t", b"\x0c"])))
    newline = draw(st.sampled_from([b"\r\n", b"\n", b"\r"]))
    data = newline.join(bytes(line) for line in lines) + newline
    if draw(st.booleans()):
        data = draw(st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b"Disclaimer\r\n"])) + data
    return data


def _cell() -> st.SearchStrategy[str | float | int | None]:
    return st.one_of(
        st.none(),
        st.text(AWKWARD, max_size=12),
        st.sampled_from(["3", "4", "7", "8", "Z9001", "20191350", "20200101", "00"]),
        st.integers(-(2**40), 2**40),
        st.floats(allow_nan=True, allow_infinity=True),
    )


@st.composite
def workbook(draw: st.DrawFn) -> bytes:
    header = list(MAKE_BAD.HEADER_48)
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):
        op = draw(st.sampled_from(["drop", "rename", "twice"]))
        at = draw(st.integers(0, len(header) - 1))
        if op == "drop":
            del header[at]
        elif op == "rename":
            header[at] = draw(st.text(AWKWARD, max_size=8))
        else:
            header.append(header[at])
    rows: list[list[str | float | int | None]] = [list(header)]
    codes = draw(
        st.lists(st.sampled_from(["Z9001", "Z9002", "Z9003", "A1"]), max_size=4, unique=True)
    )
    if draw(st.integers(0, 5)) == 0:  # now and then a malformed or repeated code
        codes.append(draw(st.sampled_from(["ZZZZZ", "Z90", "Z9001", ""])))
    for code in codes:
        row: list[str | float | int | None] = list(MAKE_BAD.workbook_row(code))
        for _ in range(draw(st.sampled_from([0, 0, 1, 2, 3]))):
            row[draw(st.integers(0, len(row) - 1))] = draw(_cell())
        rows.append(row)
    data: bytes = MAKE_BAD.xlsx_bytes(rows, first_row=draw(st.integers(1, 12)))
    if draw(st.booleans()):
        return data
    # Damage the sheet XML inside a well-formed zip, or the zip itself.
    if draw(st.booleans()):
        return draw(damaged(data, max_ops=2))
    parts = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            body = archive.read(info)
            if info.filename == "xl/worksheets/sheet1.xml" or draw(st.integers(0, 9)) == 0:
                body = draw(damaged(body, max_ops=3))
            parts.append((info.filename, body))
    built: bytes = MAKE_BAD.zip_bytes(parts)
    return built


MEMBER_NAMES = [
    "HCPC2020_ANWEB.txt",
    "HCPC2020_ANWEB.xlsx",
    "HCPC_TRANS.txt",
    "../HCPC.txt",
    "/abs/HCPC.txt",
    "C:\\HCPC.txt",
    "dir\\..\\HCPC.txt",
    "__MACOSX/._HCPC.txt",
    "pages/Z9001.txt",
    "README.txt",
    "HCPC\n\u202e.txt",
    "",
]


@st.composite
def release_zip(draw: st.DrawFn) -> bytes:
    good = MAKE_BAD.text_file([MAKE_BAD.record_line("Z9001"), MAKE_BAD.record_line("Z9002")])
    contents = st.sampled_from(
        [
            good,
            MAKE_BAD.xlsx_bytes([MAKE_BAD.HEADER_48, MAKE_BAD.workbook_row("Z9001")]),
            SEED_PAGES[0],
            b"",
            b"\0" * 2048,
            b"Synthetic readme.\r\n",
        ]
    )
    # Mostly one plausible release member among companions, so that parsing gets past the names.
    names = st.one_of(st.sampled_from(MEMBER_NAMES[:3]), st.sampled_from(MEMBER_NAMES))
    members = draw(st.lists(st.tuples(names, contents), min_size=0, max_size=4))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate member names are part of the fuzz
        for name, data in members:
            info = zipfile.ZipInfo(name or "x", (2020, 1, 1, 0, 0, 0))
            info.compress_type = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
            archive.writestr(info, draw(damaged(data, max_ops=1)))
    if draw(st.booleans()):
        return buffer.getvalue()
    return draw(damaged(buffer.getvalue(), max_ops=3))


MAGIC = [
    b"",
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"<i>HCPCS Code</i>\t",
    b"   ZA001007",
]


# --- targets ----------------------------------------------------------------------------------


@settings(_settings(600))
@given(text_release())
def test_fixed_width_text(data: bytes) -> None:
    check("text", "HCPC_FUZZ.txt", data)


@settings(_settings(400))
@given(st.data())
def test_raw_bytes_of_real_lines(data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(RECORD_LINES) - 1))
    base = b"\r\n".join(RECORD_LINES[start : start + 8]) + b"\r\n"
    check("text-bytes", "HCPC_FUZZ.txt", data.draw(damaged(base, max_ops=6)))


@settings(_settings(250))
@given(workbook())
def test_workbook(data: bytes) -> None:
    check("workbook", "HCPC_FUZZ.xlsx", data)


@settings(_settings(300))
@given(release_zip())
def test_release_zip(data: bytes) -> None:
    check("zip", "HCPC_FUZZ.zip", data)


@settings(_settings(300))
@given(st.data())
def test_seed_page(data: st.DataObject) -> None:
    page = data.draw(st.sampled_from(SEED_PAGES))
    lines = page.split(b"\n")
    if data.draw(st.booleans()):
        lines = data.draw(st.permutations(lines))
    check("page", "Z9001.txt", data.draw(damaged(b"\n".join(lines), max_ops=4)))


@settings(_settings(300))
@given(st.sampled_from(MAGIC), st.binary(max_size=512))
def test_magic_then_garbage(magic: bytes, tail: bytes) -> None:
    check("garbage", "HCPC_FUZZ.bin", magic + tail)


def test_shared_lines_are_used_when_present() -> None:
    """On CI the real 2018 lines must be in the pool, not silently absent."""
    if os.environ.get("CI", "").lower() == "true":
        assert len(RECORD_LINES) > 2000
    assert Path(SAMPLES).exists()
