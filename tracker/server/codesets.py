"""The code sets the server answers for, in one table: adding a code set is one entry.

`system` is the canonical URI HL7's terminology (terminology.hl7.org) gives the code system,
the `url`/`system` a FHIR client sends. `served` says whether the store holds this code set's
releases; a code set that is known but not served answers 404 with a message saying so, and
one served with no release stored answers 404 "no releases of ... are stored".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CodeSet:
    key: str  # the store's `code_set` value and the path segment (/api/hcpcs/...)
    title: str
    system: str
    publisher: str
    served: bool


CODE_SETS: tuple[CodeSet, ...] = (
    CodeSet(
        "hcpcs",
        "HCPCS Level II",
        "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
        "Centers for Medicare & Medicaid Services",
        served=True,
    ),
    CodeSet(
        "icd10cm",
        "ICD-10-CM",
        "http://hl7.org/fhir/sid/icd-10-cm",
        "National Center for Health Statistics",
        served=True,
    ),
    CodeSet(
        "icd10pcs",
        "ICD-10-PCS",
        "http://www.cms.gov/Medicare/Coding/ICD10",
        "Centers for Medicare & Medicaid Services",
        served=True,
    ),
)

BY_KEY = {code_set.key: code_set for code_set in CODE_SETS}
BY_SYSTEM = {code_set.system: code_set for code_set in CODE_SETS}
SERVED = tuple(code_set for code_set in CODE_SETS if code_set.served)
