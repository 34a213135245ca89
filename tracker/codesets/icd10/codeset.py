"""ICD-10-CM and ICD-10-PCS behind the `CodeSet` interface: the objects the shared machinery holds.

Both code sets share one reader (the order file, its addenda, a conversion table) and differ in
their codes (CM: `E11.9`, shown with a dot; PCS: seven characters), their report families
(chapters, sections) and which order files they accept. Everything here hands on to the modules
of this package; it only says which of them answers which question of the interface.

Labels. A parsed release carries the label its content names (`ParsedIcd10.label`, inferred
from the addenda summary, which names the version file it leads to, e.g.
`icd10cm_order_2021jan.txt`); `infer_label` reads a file name only and is the fallback for a
loose order file or a zip without addenda.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import PurePosixPath

from tracker.codesets.base import (
    NO_DATES,
    CodeRecord,
    CodeSet,
    FieldSpec,
    LabelParts,
    ParsedRelease,
    RecordDates,
    SourceFile,
    StoredColumns,
    YearSpan,
)
from tracker.errors import ParseError, SourceError

from .addenda import Addenda
from .archive import CONVERSION_NAME, MAX_MEMBER_BYTES
from .conversion import ConversionLink
from .families import CM_FAMILIES, PCS_FAMILIES, cm_family, pcs_family
from .labels import PCS_NAME, infer_label_from_name, parse_label
from .orderfile import sniff
from .record import CodeSet as Icd10Name
from .record import Icd10Record
from .record import normalize_code as strict_normalize
from .release import ZIP_MAGIC, read_parts
from .version import VersionInfo

PARSER_ZIP = "icd10-zip"
PARSER_ORDER = "icd10-order-file"
# Raised when what the parser reads or how it reads it changes, so stored releases can tell.
PARSER_VERSION = "1"

HEADER_STATUS = "header, not billable"
NO_COLUMNS = StoredColumns()

# Compared fields of a record (the code is its identity, so not among them).
FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("billable", "Billable", "status"),
    FieldSpec("short_title", "Short title", "title"),
    FieldSpec("long_title", "Long title", "title"),
)

# How much of each zip member `detect` reads: the first lines of an order file are enough.
_SNIFF_BYTES = 80_000
_SNIFF_MEMBERS = 64
# Letters PCS never uses (they look like 1 and 0).
_PCS_REFUSED = frozenset("IO")


@dataclass(frozen=True, slots=True)
class ParsedIcd10(ParsedRelease[Icd10Record]):
    """What the reader hands the store for one ICD-10 source, with what came with it.

    The shared fields say what the store keeps (records, members, the label and effective date
    the content names); `addenda` are the declared changes (CDC's/CMS's `Add:`/`Delete:`/
    `Revise` lines and summary), `conversion` the conversion table's links (each new code to
    its previous codes), `version` the inferred label and effective date with the evidence for
    them (None when neither the file's name nor its addenda tell it: a label must then be given
    by whoever stores it). The ICD-10 reader repairs nothing (it refuses a bad line instead),
    so `anomalies` is always empty.
    """

    code_set: Icd10Name = field(kw_only=True)
    version: VersionInfo | None = field(default=None, kw_only=True)
    addenda: Addenda | None = field(default=None, kw_only=True)
    conversion: tuple[ConversionLink, ...] = field(default=(), kw_only=True)


def _zip_verdicts(data: bytes) -> set[Icd10Name | None]:
    """What each text member of a zip says it is (order files only give a code set)."""
    verdicts: set[Icd10Name | None] = set()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = [i for i in archive.infolist() if not i.is_dir()][:_SNIFF_MEMBERS]
        for info in infos:
            if not info.filename.lower().endswith(".txt") or info.file_size > MAX_MEMBER_BYTES:
                continue
            with archive.open(info) as handle:
                head = handle.read(_SNIFF_BYTES)
            found = sniff(head, complete=len(head) >= info.file_size)
            if found is not None:
                verdicts.add(found)
    return verdicts


def sniff_source(source: SourceFile) -> Icd10Name | None:
    """The ICD-10 code set of a loose order file or a zip holding one, from content; never raises.

    A zip holding order files of both code sets belongs to neither.
    """
    try:
        if source.data.startswith(ZIP_MAGIC):
            verdicts = _zip_verdicts(source.data)
            return next(iter(verdicts)) if len(verdicts) == 1 else None
        return sniff(source.data)
    except Exception:  # detection must never raise, whatever the bytes
        return None


def conversion_table_of(source: SourceFile) -> Icd10Name | None:
    """The code set of a loose conversion table (CDC's `ICD-10-CM-Conversion-Table-….xlsx`,
    CMS's PCS one), told by its name, or None; never raises.

    Such a table is not a release (it lists each new code's previous codes, not the code set),
    so it is recognised only to be refused with a message saying what it is.
    """
    base = PurePosixPath(source.name.replace("\\", "/")).name
    if CONVERSION_NAME.search(base) is None or sniff_source(source) is not None:
        return None
    return "icd10pcs" if PCS_NAME.search(base) else "icd10cm"


class Icd10CodeSet:
    """One of the two ICD-10 code sets; `Icd10Cm` and `Icd10Pcs` say which."""

    # `name` is the interface's plain string; `code_set` the same name, typed for this package.
    name: str
    code_set: Icd10Name
    title: str
    code_width = 7
    has_end_dates = False
    fields: tuple[FieldSpec, ...] = FIELDS

    def normalize_code(self, text: str) -> str | None:
        raise NotImplementedError

    def display_code(self, code: str) -> str:
        return code

    def detect(self, source: SourceFile) -> bool:
        found = sniff_source(source)
        if found is None:
            found = conversion_table_of(source)
        return found == self.code_set

    def parse(self, source: SourceFile) -> ParsedIcd10:
        if conversion_table_of(source) is not None:
            raise ParseError(
                source.name,
                "is a conversion table (each new code and its previous codes), not a release;"
                " ingest the release it belongs to (the order file or the zip CMS publishes)",
            )
        parts = read_parts(source.name, source.data)
        if parts.order.code_set != self.code_set:
            raise ParseError(source.name, f"holds {parts.order.code_set} codes, not {self.name}")
        try:
            version: VersionInfo | None = parts.version()
        except SourceError:
            version = None
        zipped = source.data.startswith(ZIP_MAGIC)
        return ParsedIcd10(
            records=tuple(parts.order.records.values()),
            parser=PARSER_ZIP if zipped else PARSER_ORDER,
            parser_version=PARSER_VERSION,
            data_member=parts.data_member,
            members=parts.members,
            label=version.label if version is not None else None,
            effective_date=version.effective if version is not None else None,
            code_set=parts.order.code_set,
            version=version,
            addenda=parts.addenda,
            conversion=parts.conversion,
        )

    def decode_record(self, body: str) -> Icd10Record:
        record = Icd10Record.from_json(body)
        if record.code_set != self.name:
            raise ParseError("record JSON", f"a {record.code_set} record, not {self.name}")
        return record

    def _own(self, record: CodeRecord) -> Icd10Record:
        if not isinstance(record, Icd10Record) or record.code_set != self.name:
            raise TypeError(f"not an {self.name} record: {type(record).__name__}")
        return record

    def stored_columns(self, record: CodeRecord) -> StoredColumns:
        self._own(record)
        # No added or termination dates and no per-record action: validity ends where the
        # next release in force no longer carries the code. One shared (frozen) value, since
        # the store asks for every record of a ~97k-line release.
        return NO_COLUMNS

    def claim_status(self, record: CodeRecord) -> str | None:
        """None when the code is valid on claims; why not otherwise (a header)."""
        return None if self._own(record).billable else HEADER_STATUS

    def record_dates(self, record: CodeRecord) -> RecordDates:
        # No added or termination dates: validity follows the releases that carry the code.
        self._own(record)
        return NO_DATES

    def describe(self, record: CodeRecord) -> str:
        return self._own(record).long_title

    def replaced_by(self, record: CodeRecord) -> tuple[str, ...]:
        # Records name no replacements; CDC's conversion tables and the addenda do.
        self._own(record)
        return ()

    def infer_label(self, file_name: str) -> str | None:
        return infer_label_from_name(file_name, self.code_set)

    def parse_label(self, text: str) -> LabelParts:
        return parse_label(text)

    def effective_date(self, label: str) -> date:
        return parse_label(label).effective_date

    def family(self, code: str) -> str:
        raise NotImplementedError

    @property
    def families(self) -> tuple[str, ...]:
        raise NotImplementedError

    def year_span(self, year: int) -> YearSpan:
        # The federal fiscal year: FY N runs from October 1 of N-1 to September 30 of N and
        # opens with the October release (or the latest one before it, still in force then).
        opening = f"FY{year}"
        return YearSpan(
            name=opening,
            start=date(year - 1, 10, 1),
            end=date(year, 9, 30),
            opens_with_release_in_force=True,
            expected=(opening,),
            opening=opening,
        )


class Icd10Cm(Icd10CodeSet):
    """CDC's ICD-10-CM: diagnoses, three to seven characters, shown with a dot (`E11.9`)."""

    name = "icd10cm"
    code_set: Icd10Name = "icd10cm"
    title = "ICD-10-CM"

    def normalize_code(self, text: str) -> str | None:
        try:
            code = strict_normalize(text, "icd10cm")
        except SourceError:
            return None
        # Letter, digit, letter or digit, then up to four letters or digits.
        if not (code[0].isalpha() and code[1].isdigit() and 3 <= len(code) <= 7):
            return None
        return code

    def display_code(self, code: str) -> str:
        return f"{code[:3]}.{code[3:]}" if len(code) > 3 else code

    def family(self, code: str) -> str:
        return cm_family(code)

    @property
    def families(self) -> tuple[str, ...]:
        return CM_FAMILIES


class Icd10Pcs(Icd10CodeSet):
    """CMS's ICD-10-PCS: inpatient procedures, seven characters (headers three), no dot."""

    name = "icd10pcs"
    code_set: Icd10Name = "icd10pcs"
    title = "ICD-10-PCS"

    def normalize_code(self, text: str) -> str | None:
        code = text.strip().upper()
        # Seven characters; the three-character headers of the order file are codes of the
        # set too (never valid on claims), so `show 0DT` finds one.
        if len(code) not in (3, 7) or not code.isascii() or not code.isalnum():
            return None
        if _PCS_REFUSED & set(code):
            return None
        return code

    def family(self, code: str) -> str:
        return pcs_family(code)

    @property
    def families(self) -> tuple[str, ...]:
        return PCS_FAMILIES


# Typed as the interface, so mypy checks that both implement all of it.
ICD10CM: CodeSet = Icd10Cm()
ICD10PCS: CodeSet = Icd10Pcs()
