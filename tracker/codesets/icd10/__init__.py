"""ICD-10-CM (diagnoses) and ICD-10-PCS (inpatient procedures): CMS's yearly releases as records.

Order-file and addenda parsers, the zip reader, version inference, CDC's conversion tables, the
comparison of two releases, a writer of small CM releases, and the two code sets behind the
shared `CodeSet` interface (`ICD10CM`, `ICD10PCS`). Storage and commands live elsewhere.

    release = read_release("cms_2023_dx.zip")      # FY2023-APR, effective 2023-04-01
    release.order.records["E119"].display_code()   # "E11.9"
    compare(older.order.records, release.order.records)
"""

from .addenda import Addenda, AddendaEntry, AddendaSummary, parse_addenda
from .archive import Icd10Archive, Member, read_archive
from .codeset import ICD10CM, ICD10PCS, Icd10Cm, Icd10Pcs, ParsedIcd10
from .compare import (
    CodeChange,
    Reconciliation,
    SectionCounts,
    SummaryCheck,
    check_summary,
    compare,
    events,
    reconcile,
    section_counts,
)
from .conversion import ConversionLink, parse_conversion_table, replaced_by
from .orderfile import OrderFile, detect, parse_order_file
from .record import CODE_SETS, CodeSet, Icd10Record, display_code, normalize_code
from .release import Icd10Release, read_release
from .version import VersionInfo, infer_version

__all__ = [
    "CODE_SETS",
    "ICD10CM",
    "ICD10PCS",
    "Addenda",
    "AddendaEntry",
    "AddendaSummary",
    "CodeChange",
    "CodeSet",
    "ConversionLink",
    "Icd10Archive",
    "Icd10Cm",
    "Icd10Pcs",
    "Icd10Record",
    "Icd10Release",
    "Member",
    "OrderFile",
    "ParsedIcd10",
    "Reconciliation",
    "SectionCounts",
    "SummaryCheck",
    "VersionInfo",
    "check_summary",
    "compare",
    "detect",
    "display_code",
    "events",
    "infer_version",
    "normalize_code",
    "parse_addenda",
    "parse_conversion_table",
    "parse_order_file",
    "read_archive",
    "read_release",
    "reconcile",
    "replaced_by",
    "section_counts",
]
