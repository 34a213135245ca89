"""ICD-10-CM (diagnoses) and ICD-10-PCS (inpatient procedures): CMS's yearly releases as records.

A library only: order-file and addenda parsers, the zip reader, version inference, CDC's
conversion tables and the comparison of two releases. Storage and commands live elsewhere.

    release = read_release("cms_2023_dx.zip")      # FY2023-APR, effective 2023-04-01
    release.order.records["E119"].display_code()   # "E11.9"
    compare(older.order.records, release.order.records)
"""

from .addenda import Addenda, AddendaEntry, AddendaSummary, parse_addenda
from .archive import Icd10Archive, Member, read_archive
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
    "Addenda",
    "AddendaEntry",
    "AddendaSummary",
    "CodeChange",
    "CodeSet",
    "ConversionLink",
    "Icd10Archive",
    "Icd10Record",
    "Icd10Release",
    "Member",
    "OrderFile",
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
