"""What every code set gives the shared machinery, and the values that cross the seam.

The store, the diff engine, as-of and history, claims validation, reports and the CLI are
shared by every code set; what differs between code sets (the record layout, the source files
and how to read them, the labels and calendar of releases, what the publisher declares changed,
the families a report groups codes by) lives in one package per code set, behind `CodeSet`.

The interface is deliberately small and made of plain values, so that code sets with very
different records fit it: HCPCS Level II records carry added and termination dates and a
declared action code; ICD-10-CM and ICD-10-PCS records carry neither (a code's validity ends
where the next release in force no longer carries it), are up to seven characters, and are
shown with a dot (CM). What the store indexes beside a record's body (`StoredColumns`) is
therefore given by the code set, each column optional.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class SourceFile:
    """The bytes of one file and the name to use for it in messages (`zip!member` inside zips)."""

    name: str
    data: bytes


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a code set's record, as the diff and the pages need it."""

    name: str  # attribute of the record and key of its to_dict()
    label: str  # for people: "Long description"
    category: str  # the diff's category for a change of this field
    repeated: bool = False  # a tuple whose positions matter


@runtime_checkable
class CodeRecord(Protocol):
    """One code's record in one release, as every code set's record type provides it.

    `canonical_json` is byte-stable (its sha256 is the record's identity in the store) and
    `to_dict` is its JSON-ready form; the store never looks inside either.
    """

    @property
    def code(self) -> str: ...

    def canonical_json(self) -> str: ...

    def to_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class StoredColumns:
    """What the store keeps beside a record's body, for queries that must not decode it.

    A code set whose records have no such value (ICD-10 has no added or termination date and
    no per-record declared action) leaves the dates None and the action code empty.
    """

    added_date: date | None = None
    termination_date: date | None = None
    action_code: str = ""


class ParsedSource(Protocol):
    """What a code set's reader hands the store for one source file."""

    @property
    def records(self) -> Sequence[CodeRecord]: ...

    @property
    def parser(self) -> str: ...

    @property
    def parser_version(self) -> str: ...

    @property
    def data_member(self) -> str: ...


class CodeSet(Protocol):
    """One code set: its name, its codes, its source files, its records and its releases."""

    # Stored in `releases.code_set` and accepted by `--code-set`: `hcpcs`, `icd10cm`, `icd10pcs`.
    name: str
    # For people: "HCPCS Level II".
    title: str
    # The longest code, in its stored form (no dot); the store's code columns hold the widest.
    code_width: int
    # Whether records carry their own end date (HCPCS's termination date). Without one, a
    # code's validity interval closes where the next release in force no longer carries it.
    has_end_dates: bool
    # Every field the diff compares (the code excluded), in the order pages and diffs show them.
    fields: tuple[FieldSpec, ...]

    def normalize_code(self, text: str) -> str | None:
        """A code as a user typed it (any case, with or without a dot) in its stored form, or
        None when it cannot be a code of this set."""
        ...

    def display_code(self, code: str) -> str:
        """A stored code as people read it (ICD-10-CM: `E11.9`; HCPCS: unchanged)."""
        ...

    def detect(self, source: SourceFile) -> bool:
        """Cheap and never raising: does this file belong to this code set?"""
        ...

    def parse(self, source: SourceFile) -> ParsedSource:
        """The release a source file holds; raises `ParseError` naming the file and line."""
        ...

    def decode_record(self, body: str) -> CodeRecord:
        """A stored body (the record's canonical JSON) back to its record."""
        ...

    def stored_columns(self, record: CodeRecord) -> StoredColumns:
        """The columns the store indexes beside `record`'s body."""
        ...

    def infer_label(self, file_name: str) -> str | None:
        """The release label a publisher's file name announces (`2020-APR`, `FY2024`), or None."""
        ...

    def effective_date(self, label: str) -> date:
        """The first day a release label is in force; raises `ReleaseError` for a bad label."""
        ...

    def family(self, code: str) -> str:
        """The report family of a code (HCPCS: by first letter; ICD-10-PCS: by section)."""
        ...

    @property
    def families(self) -> tuple[str, ...]:
        """Every family, in the order reports list them."""
        ...
