"""Replacement chains: a discontinued code's replacements followed to codes valid on a date.

CMS fills the XREF fields of a discontinued HCPCS code with the code(s) to use instead; for
ICD-10 the conversion tables say which new codes took over a deleted one (`tracker.crosswalk`).
Both reach a hop as `CodeState.replacements`, so one walk serves every code set. The code
named there may itself have ended since (G0202 → 77067 is one hop; a temporary C code replaced by
a J code that is later replaced again is two), so one XREF lookup does not answer "what do I
bill on this date". This module follows the links transitively, each hop judged on the same date
and as known at the same release (`api.code_state`), until it reaches a code that is valid then.

Real cross-references are not always well-formed chains, so the walk never trusts them:
- a code with several replacements branches, and every branch is followed;
- a replacement already on the path (A → B → A) is a *cycle*: reported, not followed again;
- a replacement that itself ended with no replacement of its own is a *dead end*;
- a replacement that no stored release holds is *outside the code set* (most often a CPT code,
  HCPCS Level I, which CMS's Level II files name but do not carry): reported as such, not
  treated as an error, since it is the usual way CMS moves a service to CPT.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from tracker import query
from tracker.codesets import DEFAULT_CODE_SET, get_code_set
from tracker.codesets.base import CodeSet
from tracker.errors import ReleaseError
from tracker.query import CodeState, Status
from tracker.store import Store

# A chain longer than this is refused as malformed data rather than walked further; real
# chains are one or two hops.
MAX_DEPTH = 25


class HopEnd(StrEnum):
    """Why the walk stops at a hop, or `replaced` when it goes on through its replacements."""

    VALID = "valid"
    """The code is active on the date: the end the chain is looking for."""
    NOT_YET_EFFECTIVE = "not yet effective"
    """The code exists but starts after the date."""
    REPLACED = "replaced"
    """The code ended and names replacements, which are the next hops."""
    DEAD_END = "dead end"
    """The code ended and names no replacement."""
    CYCLE = "cycle"
    """The code is already on the path from the start: not followed again."""
    OUTSIDE = "outside the code set"
    """No stored release holds the code (e.g. a CPT code named as a Level II replacement)."""
    TOO_DEEP = "too deep"
    """The chain exceeded `MAX_DEPTH` hops."""


_ENDED = frozenset({Status.TERMINATED, Status.REMOVED})


@dataclass(frozen=True, slots=True)
class Hop:
    """One code of a chain, its status on the chain's date, and the hops it leads to."""

    code: str
    status: Status
    end: HopEnd
    description: str | None = None
    termination_date: date | None = None
    next: tuple[Hop, ...] = ()

    @property
    def status_text(self) -> str:
        """`terminated 2017-12-31`, `active`, `removed`, `not in the code set`."""
        if self.end is HopEnd.OUTSIDE:
            return "not in the code set"
        if self.status is Status.TERMINATED and self.termination_date is not None:
            return f"terminated {self.termination_date.isoformat()}"
        return self.status.value

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "status": "outside" if self.end is HopEnd.OUTSIDE else self.status.value,
            "end": self.end.value,
            "description": self.description,
            "termination_date": (
                self.termination_date.isoformat() if self.termination_date else None
            ),
            "next": [hop.to_dict() for hop in self.next],
        }


@dataclass(frozen=True, slots=True)
class ReplacementChain:
    """The tree of replacements from `start` on `on`, as known at `known_at` (None: latest)."""

    start: Hop
    on: date
    known_at: str | None = None
    # Codes are shown as people write them (ICD-10-CM `E11.9`).
    code_set: str = DEFAULT_CODE_SET

    def paths(self) -> list[tuple[Hop, ...]]:
        """Every branch from the start to where it stops, in XREF order."""
        return list(_paths(self.start, ()))

    @property
    def replaced(self) -> bool:
        """Whether the start code names any replacement."""
        return bool(self.start.next)

    @property
    def valid_ends(self) -> tuple[str, ...]:
        """The codes valid on the date that the chain reaches, each once, in branch order."""
        found: list[str] = []
        for path in self.paths():
            last = path[-1]
            if last.end is HopEnd.VALID and last.code not in found and len(path) > 1:
                found.append(last.code)
        return tuple(found)

    @property
    def cycles(self) -> tuple[tuple[str, ...], ...]:
        """Each branch that comes back to a code already on it, as its codes."""
        return tuple(
            tuple(hop.code for hop in path) for path in self.paths() if path[-1].end is HopEnd.CYCLE
        )

    @property
    def dead_ends(self) -> tuple[str, ...]:
        """Replacements (not the start) that ended with no replacement of their own."""
        return tuple(
            path[-1].code
            for path in self.paths()
            if len(path) > 1 and path[-1].end is HopEnd.DEAD_END
        )

    def text(self) -> str:
        """`replaced by X → Y (active)`, branches joined by `; `; empty when nothing replaces
        the start code."""
        if not self.start.next:
            return ""
        display = get_code_set(self.code_set).display_code
        branches = []
        for path in self.paths():
            codes = " → ".join(display(hop.code) for hop in path[1:])
            branches.append(f"{codes} ({_end_text(path[-1], display)})")
        return "replaced by " + "; ".join(branches)

    def to_dict(self) -> dict[str, Any]:
        return {
            "on": self.on.isoformat(),
            "start": self.start.to_dict(),
            "text": self.text(),
            "valid_ends": list(self.valid_ends),
            "cycles": [list(cycle) for cycle in self.cycles],
            "dead_ends": list(self.dead_ends),
        }


def _end_text(hop: Hop, display: Callable[[str], str]) -> str:
    if hop.end is HopEnd.CYCLE:
        return f"cycle: {display(hop.code)} is already on this chain"
    if hop.end is HopEnd.DEAD_END:
        return f"{hop.status_text}, no replacement: dead end"
    if hop.end is HopEnd.TOO_DEEP:
        return f"stopped after {MAX_DEPTH} hops"
    return hop.status_text


def _paths(hop: Hop, before: tuple[Hop, ...]) -> Iterator[tuple[Hop, ...]]:
    path = (*before, hop)
    if not hop.next:
        yield path
        return
    for following in hop.next:
        yield from _paths(following, path)


def replacement_chain(
    store: Store,
    code: str,
    on: str | date,
    known_at: str | None = None,
    code_set: str = DEFAULT_CODE_SET,
) -> ReplacementChain:
    """Follow `code`'s replacements on `on`, as known at release `known_at` (default: latest).

    Each hop's status is `query.code_state` on the same date and knowledge, so a chain answers
    the same question as `tracker show CODE --as-of D` asked of every code on it.
    """
    codes = get_code_set(code_set)
    if isinstance(on, date):
        day = on
    else:
        try:
            day = date.fromisoformat(on)
        except ValueError:
            raise ReleaseError(f"{on!r} is not a date (YYYY-MM-DD)") from None
    states: dict[str, CodeState] = {}

    def state(name: str) -> CodeState:
        if name not in states:
            states[name] = query.code_state(store, name, day, known_at, code_set)
        return states[name]

    def walk(name: str, path: tuple[str, ...]) -> Hop:
        found = state(name)
        description = _description(codes, found)
        termination = found.termination_date if found.status is Status.TERMINATED else None
        if name in path:
            return Hop(name, found.status, HopEnd.CYCLE, description, termination)
        if found.status is Status.UNKNOWN:
            return Hop(name, found.status, HopEnd.OUTSIDE)
        if found.status is Status.ACTIVE:
            return Hop(name, found.status, HopEnd.VALID, description, termination)
        if found.status is Status.NOT_YET_EFFECTIVE:
            return Hop(name, found.status, HopEnd.NOT_YET_EFFECTIVE, description, termination)
        targets = _unique(r.code for r in found.replacements if r.code and r.code != name)
        if not targets:
            return Hop(name, found.status, HopEnd.DEAD_END, description, termination)
        if len(path) >= MAX_DEPTH:
            return Hop(name, found.status, HopEnd.TOO_DEEP, description, termination)
        following = tuple(walk(target, (*path, name)) for target in targets)
        return Hop(name, found.status, HopEnd.REPLACED, description, termination, following)

    start = walk(codes.normalize_code(code) or code.strip().upper(), ())
    return ReplacementChain(start=start, on=day, known_at=known_at, code_set=codes.name)


def _description(codes: CodeSet, state: CodeState) -> str | None:
    record = state.meaning or state.known
    return codes.describe(record) if record is not None else None


def _unique(codes: Iterator[str] | Any) -> tuple[str, ...]:
    seen: list[str] = []
    for code in codes:
        if code not in seen:
            seen.append(code)
    return tuple(seen)


__all__ = ["MAX_DEPTH", "Hop", "HopEnd", "ReplacementChain", "replacement_chain"]
