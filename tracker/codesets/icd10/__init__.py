"""ICD-10-CM (diagnoses) and ICD-10-PCS (inpatient procedures): CMS's yearly releases as records.

Order-file and addenda parsers, the zip reader, version inference, CDC's conversion tables, the
comparison of two releases, a writer of small CM releases, and the two code sets behind the
shared `CodeSet` interface (`ICD10CM`, `ICD10PCS`). Storage and commands live elsewhere.

    release = read_release("cms_2023_dx.zip")      # FY2023-APR, effective 2023-04-01
    release.order.records["E119"].display_code()   # "E11.9"
    compare(older.order.records, release.order.records)   # the writer's record comparison
"""

from .addenda import Addenda, AddendaEntry, AddendaSummary, parse_addenda
from .archive import Icd10Archive, Member, read_archive
from .codeset import ICD10CM, ICD10PCS, Icd10Cm, Icd10Pcs, ParsedIcd10
from .compare import (
    AddendaCheck,
    RecordChange,
    SectionCounts,
    addenda_from_source,
    check_declared,
    compare,
    decide,
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
    "AddendaCheck",
    "AddendaEntry",
    "AddendaSummary",
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
    "RecordChange",
    "SectionCounts",
    "VersionInfo",
    "addenda_from_source",
    "check_declared",
    "compare",
    "decide",
    "detect",
    "display_code",
    "infer_version",
    "normalize_code",
    "parse_addenda",
    "parse_conversion_table",
    "parse_order_file",
    "read_archive",
    "read_release",
    "replaced_by",
    "section_counts",
]
