"""CMS's transaction reports: the action each code got, as CMS listed it beside the release.

They are the independent oracle for a diff of release N-1 -> N, so they are read here and never
by the diff. CMS ships them as workbooks (one row per code; sheets "Changes by HCPCS Code" and
"Changes by Action Code" hold the same rows in two orders) and as text listings (.txt with tabs,
.prn in fixed columns that the action words overflow). The words vary by year ('Add', 'ADD',
'Change in Long Description', 'Long Description Change', 'Misc Change (TOS, BETOS)', 'No
change'...) and the .prn listings cut them short ('Short Description Chang'), so a word is
recognised by its beginning; an unknown word is an error rather than a guess.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import python_calamine

from tracker.errors import SourceError

# Patterns over the lower-cased, whitespace-collapsed action text, tried in order and anchored
# at its start. B first: its words contain F's.
_ACTION_WORDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), letter)
    for pattern, letter in (
        (r"change in both coverage|coverage (&|and) long", "B"),
        # 2020-JUL's CS: the release file declares C for both descriptions changing.
        (r"long/short desc", "C"),
        (r"change in long desc|long desc(ription)? chang", "C"),
        (r"change in short desc|short desc(ription)? chang", "S"),
        (r"change in coverage|coverage chang", "F"),
        (r"change in payment|payment chang", "P"),
        (r"misc(ellaneous)?\.? chang", "T"),
        (r"no chang", "N"),
        (r"add(ed)?\b", "A"),
        (r"discontinu", "D"),
        (r"re-?activat", "R"),
        (r"[abcdfnprst]$", ""),  # a bare action letter
    )
)
_CODE = re.compile(r"^(?:[A-Z0-9]{5}|[A-Z0-9]{2})$")
_TEXT_LINE = re.compile(r"^\s*([A-Z0-9]{5}|[A-Z0-9]{2})(?:\t|\s+)(\S.*?)\s*$")
_XLSX_MEMBER = "[Content_Types].xml"


def action_letter(text: str) -> str | None:
    """The action letter a transaction report's wording stands for, or None if unknown."""
    words = " ".join(text.lower().split())
    for pattern, letter in _ACTION_WORDS:
        if pattern.match(words):
            return letter or words.upper()
    return None


def read_transaction_report(
    path: str | os.PathLike[str], member: str | None = None
) -> dict[str, str]:
    """Code -> declared action letter from a report file, or from a release zip holding one."""
    location = Path(path)
    try:
        data = location.read_bytes()
    except OSError as exc:
        raise SourceError(str(location), f"cannot read: {exc.strerror or exc}") from None
    return parse_transaction_report(location.name, data, member=member)


def parse_transaction_report(name: str, data: bytes, member: str | None = None) -> dict[str, str]:
    """Like `read_transaction_report`, from bytes; `name` is used in messages and for the type."""
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if _XLSX_MEMBER in names:
                return _read_workbook(name, data)
            chosen = member or find_report_member(names)
            if chosen is None or chosen not in names:
                raise SourceError(
                    name, f"no transaction report inside (members: {', '.join(names)})"
                )
            return parse_transaction_report(f"{name}!{chosen}", archive.read(chosen))
    return _read_text(name, data)


def find_report_member(names: list[str]) -> str | None:
    """The transaction report among a release zip's members: the workbook, else a listing."""

    def score(member: str) -> int:
        base = member.rsplit("/", 1)[-1].lower()
        is_report = "trans" in base or ("changes" in base and "hcpc" in base)
        if not is_report:
            return 0
        if base.endswith(".xlsx"):
            return 3
        if base.endswith((".prn", ".txt")):
            return 2 if "hcpc" in base else 1
        return 0

    ranked = sorted((score(member), member) for member in names)
    best = [member for value, member in ranked if value == ranked[-1][0] and value > 0]
    return best[0] if best else None


def _add(out: dict[str, str], code: str, letter: str) -> None:
    """Record a code's action; a code listed twice keeps the change over 'No Change'.

    2020-JUL's "Changes by Action Code" sheet lists CS twice (C and N); the release file says C.
    """
    if out.get(code, "N") == "N":
        out[code] = letter


def _read_workbook(name: str, data: bytes) -> dict[str, str]:
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises several unrelated types for damaged files
        raise SourceError(name, f"not a readable workbook ({exc})") from None
    sheets = list(workbook.sheet_names)
    by_code = [s for s in sheets if "hcpc" in s.lower()]
    by_action = [s for s in sheets if "action" in s.lower() and "key" not in s.lower()]
    candidates = by_code + by_action + [s for s in sheets if s not in by_code + by_action]
    for sheet in candidates:
        rows = workbook.get_sheet_by_name(sheet).to_python()
        header = next(
            (
                i
                for i, row in enumerate(rows)
                if row and str(row[0]).strip().upper().startswith("HCPC")
            ),
            None,
        )
        if header is None:
            continue
        titles = [str(cell).strip().lower() for cell in rows[header]]
        column = next(
            (i for i, title in enumerate(titles) if title in ("action cd", "type of change")), 1
        )
        out: dict[str, str] = {}
        for number, row in enumerate(rows[header + 1 :], start=header + 2):
            code = str(row[0]).strip() if row else ""
            text = str(row[column]).strip() if len(row) > column else ""
            if not code and not text:
                continue
            where = f"{name}!{sheet}"
            if not _CODE.match(code):
                raise SourceError(where, f"{code!r} is not an HCPCS code or modifier", number)
            letter = action_letter(text)
            if letter is None:
                raise SourceError(where, f"unknown action wording {text!r}", number)
            _add(out, code, letter)
        return out
    raise SourceError(name, "no sheet with an 'HCPC' header row")


def _read_text(name: str, data: bytes) -> dict[str, str]:
    text = data.decode("cp1252", errors="replace")
    lines = re.split(r"\r\n|\r|\n", text)
    header = next(
        (i for i, line in enumerate(lines) if line.strip().upper().startswith("HCPC")), None
    )
    if header is None:
        raise SourceError(name, "no 'HCPC' header line: not a transaction report")
    out: dict[str, str] = {}
    for number, line in enumerate(lines[header + 1 :], start=header + 2):
        if not line.strip():
            continue
        match = _TEXT_LINE.match(line)
        if not match:
            raise SourceError(name, f"not a 'code  action' line: {line.strip()[:60]!r}", number)
        code, rest = match.groups()
        letter = action_letter(rest)
        if letter is None:
            raise SourceError(name, f"unknown action wording {rest[:40]!r}", number)
        _add(out, code, letter)
    if not out:
        raise SourceError(name, "no codes listed")
    return out


# --- Recognizing a report, and comparing it with the data file it accompanies ---------------

_REPORT_NAME = re.compile(r"trans(action)?[ _\-]*rep|_trans_|changes[ _\-]*by[ _\-]*(hcpc|action)")
_REPORT_EXTENSIONS = (".xlsx", ".txt", ".prn")


def is_report_name(name: str) -> bool:
    """Whether a file name is one of CMS's transaction report names.

    `HCPC2016_TransactionReport_Alpha.xlsx`, `HCPCS2017_Trans Report_ChangesbyHCPC.prn`,
    `HCPC2020_APR_TRANS_ALPHA.xlsx`, `Changes_by_HCPC.prn`, `HCPC2016_TransReport_…txt`.
    """
    base = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return base.endswith(_REPORT_EXTENSIONS) and bool(_REPORT_NAME.search(base))


def looks_like_report(name: str, data: bytes) -> bool:
    """A loose file that is a transaction report: by its name, else by its content.

    By content: a text whose header line starts with `HCPC` and names the action column
    ("Type of Change", "Action"), followed by `code  action words` lines: a data file starts
    with a record (or CMS's disclaimer) instead.
    """
    if is_report_name(name):
        return True
    if data[:4] == b"PK\x03\x04":
        return False  # workbooks and zips are told apart by name (release zips hold reports)
    head = data[:4096].decode("cp1252", errors="replace")
    for line in head.splitlines():
        words = line.strip().lower()
        if not words:
            continue
        return words.startswith("hcpc") and ("type of change" in words or "action" in words)
    return False


# The kinds of disagreement, in the order the report lists them.
NOT_IN_FILE = "not_in_file"
NOT_IN_REPORT = "not_in_report"
DIFFERENT_ACTION = "different_action"
DISAGREEMENT_TITLES = {
    NOT_IN_FILE: "listed by the report, not in the data file",
    NOT_IN_REPORT: "changed in the data file (action code not N), not listed by the report",
    DIFFERENT_ACTION: "a different action letter",
}


@dataclass(frozen=True, slots=True)
class Disagreement:
    code: str
    kind: str
    report_action: str | None
    file_action: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "kind": self.kind,
            "report_action": self.report_action,
            "file_action": self.file_action,
        }


@dataclass(frozen=True, slots=True)
class ReportCheck:
    """A release's transaction report against its own data file."""

    release: str
    report: str
    codes_listed: int
    disagreements: tuple[Disagreement, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "release": self.release,
            "report": self.report,
            "codes_listed": self.codes_listed,
            "disagreements": [d.to_dict() for d in self.disagreements],
        }


def compare_with_file(
    release: str, report_name: str, report: Mapping[str, str], actions: Mapping[str, str]
) -> ReportCheck:
    """Where CMS's report and CMS's data file (code -> action code) disagree.

    A code only the file holds, declared N, is not a disagreement: reports list changes, and
    some leave out a code with no change (2016's DA, 2018's L1).
    """
    found: list[Disagreement] = []
    for code in sorted(report.keys() | actions.keys()):
        listed, held = report.get(code), actions.get(code)
        if held is None:
            found.append(Disagreement(code, NOT_IN_FILE, listed, None))
        elif listed is None:
            if held != "N":
                found.append(Disagreement(code, NOT_IN_REPORT, None, held))
        elif listed != held:
            found.append(Disagreement(code, DIFFERENT_ACTION, listed, held))
    return ReportCheck(release, report_name, len(report), tuple(found))
