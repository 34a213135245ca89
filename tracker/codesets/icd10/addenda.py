"""The order addenda: CDC's and CMS's own list of what changed, and CDC's summary counts.

Lines start with a 13-character action (`Add:`, `Delete:`, `Revise from:`, `Revise to:`).
ICD-10-CM lines then carry the flag, a blank and the code padded to 7 (`1 C43111  `); ICD-10-PCS
lines carry the code alone (`001U072 `): the flag is not written, and the code's length tells a
header (3 characters) from a billable code (7). Titles follow in the order file's widths (short
60, a blank, long to the end).

After the lines, both code sets end with a summary per section (`Headers`, `Codes`):

      72184 codes in icd10cm_order_2020.txt
      72621 codes in icd10cm_order_2021jan.txt
        496 additions
         59 deletions
         47 revisions
    of which
         47 revisions to both long and short titles ...

The two file names tell which version the addenda lead from and to (see `version`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from tracker.errors import ParseError

from .orderfile import decode

Action = Literal["add", "delete", "revise"]

_ACTIONS = {"Add:": "add", "Delete:": "delete", "Revise from:": "from", "Revise to:": "to"}
_WIDTH = 13
_SHORT_WIDTH = 60


@dataclass(frozen=True, slots=True)
class AddendaEntry:
    """One declared change. `billable` is None for PCS lines, which do not carry the flag.

    A revision holds the titles before (`old_*`) and after; an addition or deletion only the
    titles of its line (in `short_title`/`long_title`).
    """

    action: Action
    code: str
    billable: bool | None
    short_title: str
    long_title: str
    line: int
    old_short_title: str | None = None
    old_long_title: str | None = None
    old_billable: bool | None = None


@dataclass(slots=True)
class SummarySection:
    """One section (`Headers` or `Codes`) of the summary."""

    from_count: int | None = None
    from_file: str | None = None
    to_count: int | None = None
    to_file: str | None = None
    additions: int | None = None
    deletions: int | None = None
    revisions: int | None = None
    both_titles: int | None = None
    long_only: int | None = None
    short_only: int | None = None


@dataclass(slots=True)
class AddendaSummary:
    """CDC's summary; sections absent from the file stay None."""

    headers: SummarySection | None = None
    codes: SummarySection | None = None


@dataclass(slots=True)
class Addenda:
    name: str
    entries: list[AddendaEntry] = field(default_factory=list)
    summary: AddendaSummary | None = None

    def declared(self, action: Action) -> list[AddendaEntry]:
        return [entry for entry in self.entries if entry.action == action]


def _entry_fields(name: str, number: int, rest: str) -> tuple[bool | None, str, str, str]:
    """(flag, code, short title, long title) of what follows the action column."""
    if len(rest) > 2 and rest[1] == " " and rest[0] in "01":
        billable: bool | None = rest[0] == "1"
        rest = rest[2:]
    else:
        billable = None
    code = rest[:7].strip()
    if not code or not code.isalnum():
        raise ParseError(name, f"no code where the addenda line should have one: {code!r}", number)
    if rest[7:8] not in ("", " "):
        raise ParseError(name, f"code {rest[:8]!r} is longer than 7 characters", number)
    short = rest[8 : 8 + _SHORT_WIDTH].rstrip()
    long_title = rest[8 + _SHORT_WIDTH + 1 :].strip()
    return billable, code.upper(), short, long_title


def _summary_line(section: SummarySection, text: str, name: str, number: int) -> None:
    count_text, _, what = text.strip().partition(" ")
    if not count_text.isdigit():
        if text.strip() == "of which":
            return
        raise ParseError(name, f"summary line not understood: {text.strip()!r}", number)
    count = int(count_text)
    words = what.split()
    if len(words) == 3 and words[0] in ("codes", "headers") and words[1] == "in":
        if section.from_count is None:
            section.from_count, section.from_file = count, words[2]
        else:
            section.to_count, section.to_file = count, words[2]
        return
    slot = {
        "additions": "additions",
        "deletions": "deletions",
        "revisions": "revisions",
        "revisions to both long and short titles": "both_titles",
        "revisions to long title only": "long_only",
        "revisions to short title only": "short_only",
    }.get(" ".join(words))
    if slot is None:
        raise ParseError(name, f"summary line not understood: {text.strip()!r}", number)
    setattr(section, slot, count)


def parse_addenda(name: str, data: bytes) -> Addenda:
    """The declared changes and the summary, or `file:line: problem` for a line not understood.

    A `Revise from:` must be followed by the `Revise to:` of the same code.
    """
    text = decode(name, data)
    result = Addenda(name)
    pending: tuple[int, bool | None, str, str, str] | None = None
    section: SummarySection | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        head = line[:_WIDTH].strip()
        if head in _ACTIONS and section is None:
            kind = _ACTIONS[head]
            billable, code, short, long_title = _entry_fields(name, number, line[_WIDTH:])
            if kind == "to":
                if pending is None or pending[2] != code:
                    raise ParseError(
                        name, f"'Revise to:' of {code} without its 'Revise from:'", number
                    )
                _, old_billable, _, old_short, old_long = pending
                result.entries.append(
                    AddendaEntry(
                        "revise", code, billable, short, long_title, number,
                        old_short, old_long, old_billable,
                    )
                )  # fmt: skip
                pending = None
                continue
            if pending is not None:
                raise ParseError(
                    name, f"'Revise from:' of {pending[2]} has no 'Revise to:'", number
                )
            if kind == "from":
                pending = (number, billable, code, short, long_title)
            else:
                action: Action = "add" if kind == "add" else "delete"
                result.entries.append(
                    AddendaEntry(action, code, billable, short, long_title, number)
                )
            continue
        if pending is not None:
            raise ParseError(name, f"'Revise from:' of {pending[2]} has no 'Revise to:'", number)
        if not stripped:
            continue
        if stripped in ("Headers", "Codes"):
            section = SummarySection()
            if result.summary is None:
                result.summary = AddendaSummary()
            if stripped == "Headers":
                result.summary.headers = section
            else:
                result.summary.codes = section
            continue
        if section is None:
            raise ParseError(name, f"line not understood: {stripped[:40]!r}", number)
        _summary_line(section, line, name, number)
    if pending is not None:
        raise ParseError(name, f"'Revise from:' of {pending[2]} has no 'Revise to:'", pending[0])
    return result
