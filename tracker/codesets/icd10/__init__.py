"""ICD-10-CM (diagnoses) and ICD-10-PCS (inpatient procedures): CMS's yearly releases as records.

A library only: order-file and addenda parsers, the zip reader, version inference, CDC's
conversion tables and the comparison of two releases. Storage and commands live elsewhere.
"""

from .record import CODE_SETS, CodeSet, Icd10Record, display_code, normalize_code

__all__ = ["CODE_SETS", "CodeSet", "Icd10Record", "display_code", "normalize_code"]
