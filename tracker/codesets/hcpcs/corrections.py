"""Applying CMS's corrections to the release they correct, only where a row is unambiguous.

A corrections row's action is free text ("Revise Long Desc", "Terminate code", "Remove xref
code Q0080", "Change ASC Ind/ASC eff date", "DELETE", "Should not have been updated - revert
back to 2017 description", "DO NOT ADD…"). Only actions whose result the row states in full are
applied:

- a description revision ("revise/change … long/short desc…") whose new text the row gives
  (both texts for "long & short");
- a termination ("terminate", not "do not terminate") with an effective date E: the code's
  termination date becomes E − 1 day, its action D effective E, as CMS's release files record
  every discontinuation (last valid day the day before the action takes effect);
- "remove xref code X" when the record holds X as a cross-reference.

Everything else (an addition, whose other fields the row does not give; "DELETE" without a
date; "revert back to 2017 description"; indicator changes in columns the row cannot tie to a
layout field…) is listed as not applied, with the reason, and never guessed.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tracker.codesets.hcpcs.parsers.corrections import CorrectionRow, CorrectionsFile, is_code
from tracker.codesets.hcpcs.record import Record

_NEGATED = re.compile(r"^(do not|don't|not)\b")
_REVISE = re.compile(r"^(revise|change|correct|update)")
_LONG = re.compile(r"long")
_SHORT = re.compile(r"short")
_DESC = re.compile(r"desc")
_TERMINATE = re.compile(r"^(terminate|discontinue)")
_REMOVE_XREF = re.compile(r"^remove\s+x-?ref(?:erence)?\s+(?:code\s+)?([A-Z0-9]{5})\b", re.I)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one corrections row."""

    row: CorrectionRow
    applied: bool
    reason: str
    """Why not applied; for an applied row, what was changed."""
    changed: bool = False
    """Applied and the record differs from the base (False: the base already held it)."""

    def describe(self) -> str:
        state = "applied" if self.applied else "not applied"
        return f"{state}: {self.row.describe()} ({self.reason})"


@dataclass(frozen=True, slots=True)
class Application:
    corrections: CorrectionsFile
    records: dict[str, Record]
    """The base release's records with every applicable row applied."""
    outcomes: tuple[Outcome, ...]

    @property
    def changed_codes(self) -> list[str]:
        return sorted({o.row.code for o in self.outcomes if o.changed})

    @property
    def not_applied(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.applied]


def _words(text: str) -> str:
    return " ".join(text.lower().replace("&", " and ").split())


def _plan(row: CorrectionRow, record: Record | None, listing: bool) -> Record | str:
    """The corrected record, or the reason the row cannot be applied unambiguously."""
    if listing:
        return "a .prn listing cuts its columns short; ingest the workbook or text form"
    action = _words(row.action)
    if not is_code(row.code):
        return "not an HCPCS code"
    if _NEGATED.search(action):
        return "the action says what not to do; nothing to apply"
    if record is None:
        return "the code is not in the release corrected"
    if _REVISE.match(action) and _DESC.search(action):
        wants_long, wants_short = bool(_LONG.search(action)), bool(_SHORT.search(action))
        if not (wants_long or wants_short):
            return "the action does not say which description"
        new_long = row.values.get("long_description", "")
        new_short = row.values.get("short_description", "")
        if (wants_long and not new_long) or (wants_short and not new_short):
            return "the row does not give the new description text"
        return dataclasses.replace(
            record,
            long_description=new_long if wants_long else record.long_description,
            short_description=new_short if wants_short else record.short_description,
        )
    if _TERMINATE.match(action):
        if row.effective is None:
            return "a termination without an effective date (MM/DD/YYYY)"
        return dataclasses.replace(
            record,
            termination_date=row.effective - timedelta(days=1),
            action_effective_date=row.effective,
            action_code="D",
        )
    xref = _REMOVE_XREF.match(row.action.strip())
    if xref:
        target = xref[1].upper()
        if target not in record.xrefs:
            return f"the record holds no cross-reference {target}"
        kept = tuple(code for code in record.xrefs if code != target)
        return dataclasses.replace(record, xrefs=kept)
    return "no rule applies this action unambiguously"


def apply_corrections(corrections: CorrectionsFile, base: Mapping[str, Record]) -> Application:
    """Apply each row in file order to the base release's records (later rows see earlier)."""
    records = dict(base)
    outcomes: list[Outcome] = []
    for row in corrections.rows:
        current = records.get(row.code)
        planned = _plan(row, current, corrections.listing_only)
        if isinstance(planned, str):
            outcomes.append(Outcome(row, applied=False, reason=planned))
            continue
        records[row.code] = planned
        changed = planned != base.get(row.code)
        what = "changed" if changed else "already so in the release"
        outcomes.append(Outcome(row, applied=True, reason=what, changed=changed))
    return Application(corrections, records, tuple(outcomes))


@dataclass(frozen=True, slots=True)
class CorrectionsListing:
    """A corrections file kept with a release, and what became of each of its rows."""

    release: str
    file: str
    note: str
    rows: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "release": self.release,
            "file": self.file,
            "note": self.note,
            "rows": list(self.rows),
        }
