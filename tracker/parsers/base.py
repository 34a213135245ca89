"""The parser protocol every source format implements.

A parser sees bytes and a display name, never the database. `detect` must be cheap (it looks at
the first few KB at most) and must not raise; `parse` yields `Record`s or raises `ParseError`
naming the file and line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from tracker.record import Record


@dataclass(frozen=True, slots=True)
class SourceFile:
    """The bytes of one file and the name to use for it in messages (`zip!member` inside zips)."""

    name: str
    data: bytes


class Parser(Protocol):
    name: str
    version: str

    def detect(self, source: SourceFile) -> bool: ...

    def parse(self, source: SourceFile) -> Iterator[Record]: ...
