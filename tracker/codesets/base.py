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
therefore given by the code set, each column optional, and so is what a record declares about
its own validity (`RecordDates`) and whether a code in force may be billed (`claim_status`).

The values crossing the seam live here too: a source file, what a reader makes of it
(`ParsedRelease`: records, the members read, the repairs made), a label read into its parts
(`LabelParts`), and the hashes that are a record's and a snapshot's identity in the store.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, runtime_checkable


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


# The record type a shared value carries (`Snapshot[Record]`, `CodeState[CodeRecord]`). Its
# default (PEP 696, seen by the type checker only: Python 3.11's TypeVar has none) lets modules
# not yet written against one code set's record keep the plain names (`Snapshot`, `CodeState`).
if TYPE_CHECKING:
    from typing_extensions import TypeVar as DefaultingTypeVar

    from tracker.release import ReleaseInfo

    RecordT = DefaultingTypeVar("RecordT", bound=CodeRecord, default=Any, covariant=True)
else:
    RecordT = TypeVar("RecordT", bound=CodeRecord, covariant=True)


def hash_canonical(canonical_json: str) -> str:
    """sha256 of a record's canonical JSON: the record's identity in the store."""
    return hashlib.sha256(canonical_json.encode("utf-8")).hexdigest()


def hash_all_canonical(canonical_jsons: Iterable[str]) -> list[str]:
    """`hash_canonical` of each body, in order: the same hashes without a call per record."""
    sha256 = hashlib.sha256
    return [sha256(body.encode("utf-8")).hexdigest() for body in canonical_jsons]


def snapshot_hash(entries: Iterable[tuple[str, str]]) -> str:
    """Content hash of a whole snapshot from its (code, record hash) pairs, order-independent.

    The sha256 of every `code<TAB>hash<LF>` line in sorted order, fed to the digest as one
    buffer (the same bytes as line by line, without ~100k calls for an ICD-10 release).
    """
    lines = "".join([f"{code}\t{record_hash}\n" for code, record_hash in sorted(entries)])
    return hashlib.sha256(lines.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SourceMember:
    """One file of a source (a zip member, or the file itself): what was read, byte for byte."""

    name: str
    size: int
    sha256: str
    is_data: bool = False


@dataclass(frozen=True, slots=True)
class Anomaly:
    """A repair made while reading a publisher's file (a stray byte, a TAB inside a description).

    Published files carry editor debris; a parser brings such a line back to the layout and
    says so here, so the release records every repair instead of hiding it.
    """

    file: str
    line: int | None
    kind: str
    detail: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.kind}: {self.detail}"


@dataclass(frozen=True, slots=True)
class ParsedRelease(Generic[RecordT]):
    """What a code set's reader hands the store for one source: records plus where they came
    from (every member read, which one held the data, the repairs made), and the release the
    content names when it names one."""

    records: tuple[RecordT, ...]
    parser: str
    parser_version: str
    data_member: str
    members: tuple[SourceMember, ...] = field(default_factory=tuple)
    anomalies: tuple[Anomaly, ...] = field(default_factory=tuple)
    # The release the content itself names, when it names one (an ICD-10 addenda summary
    # leads to `icd10cm_order_2021jan.txt`): a better witness than the file's name, which
    # ingest falls back on (`CodeSet.infer_label`) when this is None. `--release` and
    # `--effective` override both.
    label: str | None = None
    effective_date: date | None = None


@dataclass(frozen=True, slots=True)
class LabelParts:
    """A release label as the user or a file name gave it, read by its code set."""

    label: str  # canonical: "2020-APR", "FY2024", "FY2023-APR"
    effective_date: date  # the first day it is in force
    kind: str  # a ReleaseKind value: "annual" | "quarterly" | "correction"
    issue: int | None  # "2020-APR#2" -> 2


@dataclass(frozen=True, slots=True)
class YearSpan:
    """A code set's year as its publisher counts it, for `diff --year` and `report --year`.

    HCPCS's year is the calendar year, opened by whatever releases take effect in it (its four
    quarters expected); ICD-10's is the federal fiscal year (FY2024 = 2023-10-01 ... 2024-09-30),
    opened by the release in force on its first day: the October release, or when that one is
    not stored the latest stored release still in force on October 1.
    """

    name: str  # as people write the year: "2026", "FY2024"
    start: date  # its first day
    end: date  # its last day
    # Whether the release in force on `start` opens the year even when it took effect earlier.
    opens_with_release_in_force: bool
    # The labels the publisher always issues in the year (HCPCS's quarters, ICD-10's October
    # release); those not stored are named in the year's output.
    expected: tuple[str, ...]
    # The label of the release that should open the year ('' when none is expected first).
    opening: str = ""

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


class RecordDates(Protocol):
    """What a record declares about its own validity, for as-of answers.

    HCPCS records carry all of it (added and termination dates, the declared action and the
    day it took effect); a code set without such fields answers `NO_DATES`, and a code's
    validity then follows the releases that carry it.
    """

    @property
    def added_date(self) -> date | None: ...

    @property
    def termination_date(self) -> date | None: ...

    @property
    def action_code(self) -> str: ...

    @property
    def action_effective_date(self) -> date | None: ...


@dataclass(frozen=True, slots=True)
class NoDates:
    """`RecordDates` of a record that declares none."""

    added_date: date | None = None
    termination_date: date | None = None
    action_code: str = ""
    action_effective_date: date | None = None


NO_DATES = NoDates()


@dataclass(frozen=True, slots=True)
class StoredColumns:
    """What the store keeps beside a record's body, for queries that must not decode it.

    A code set whose records have no such value (ICD-10 has no added or termination date and
    no per-record declared action) leaves the dates None and the action code empty.
    """

    added_date: date | None = None
    termination_date: date | None = None
    action_code: str = ""


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

    def parse(self, source: SourceFile) -> ParsedRelease[CodeRecord]:
        """The release a source file holds; raises `ParseError` naming the file and line."""
        ...

    def decode_record(self, body: str) -> CodeRecord:
        """A stored body (the record's canonical JSON) back to its record."""
        ...

    def stored_columns(self, record: CodeRecord) -> StoredColumns:
        """The columns the store indexes beside `record`'s body."""
        ...

    def infer_label(self, file_name: str) -> str | None:
        """The release label a publisher's file name announces (`2020-APR`, `FY2024`), or None.

        `file_name` may be `zip!member` (a zip and the member that held the data): then both
        names are read, and a `ReleaseError` names them when they announce different releases.
        """
        ...

    def parse_label(self, text: str) -> LabelParts:
        """A label as a user typed it (`2020-APR`, `2020-APR#2`) read into its parts; raises
        `ReleaseError` saying what a label of this code set looks like."""
        ...

    def effective_date(self, label: str) -> date:
        """The first day a release label is in force; raises `ReleaseError` for a bad label."""
        ...

    def claim_status(self, record: CodeRecord) -> str | None:
        """None when the code may be billed on a claim, else a short reason (an ICD-10-CM
        category: "header, not billable")."""
        ...

    def record_dates(self, record: CodeRecord) -> RecordDates:
        """What `record` declares about its validity (`NO_DATES` when records declare none)."""
        ...

    def describe(self, record: CodeRecord) -> str:
        """The record's description as people read it (its long description or title)."""
        ...

    def replaced_by(self, record: CodeRecord) -> tuple[str, ...]:
        """The codes the record names as its replacements (HCPCS's cross-references)."""
        ...

    def family(self, code: str) -> str:
        """The report family of a code (HCPCS: by first letter; ICD-10-PCS: by section)."""
        ...

    @property
    def families(self) -> tuple[str, ...]:
        """Every family, in the order reports list them."""
        ...

    def year_span(self, year: int) -> YearSpan:
        """The year `year` as the publisher counts it (see `YearSpan`)."""
        ...


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """Whether a diff's new release was reconciled against its old one, and if not, why.

    `missing` is set when the reference is not stored: it names it and every calendar release
    the diff skips over that is not stored either. It is empty when reconciled, when the
    reference is stored (the reason then says which diff reconciles), and when the store is
    not known (an in-memory diff).
    """

    reconciled: bool
    reference: str
    basis: str
    reason: str
    missing: tuple[str, ...] = ()


def not_requested(old: ReleaseInfo, new: ReleaseInfo) -> Reconciliation:
    """The decision of a diff that was asked not to reconcile."""
    return Reconciliation(
        False, "", "", f"reconciliation not requested for {old.display} -> {new.display}"
    )
