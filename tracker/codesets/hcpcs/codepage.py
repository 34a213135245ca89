"""A code's fields for people: each with its CMS label and decoded meaning, as the seed pages.

Labels follow CMS's record-layout names, so a user can match what they see here to CMS
documentation. Empty fields are left out: a page lists what the code has.
"""

from __future__ import annotations

from collections.abc import Iterator

from tracker.codesets.hcpcs.codetables import decode
from tracker.codesets.hcpcs.record import Record

LABELS: tuple[tuple[str, str], ...] = (
    ("long_description", "Code Description"),
    ("short_description", "Short Description"),
    ("pricing_indicators", "Pricing Indicator Code"),
    ("multiple_pricing_indicator", "Multiple Pricing Indicator Code"),
    ("cim_references", "Coverage Issues Manual Reference"),
    ("mcm_references", "Medicare Carriers Manual Reference"),
    ("statute", "Statute Number"),
    ("lab_certifications", "Lab Certification Code"),
    ("xrefs", "Cross Reference Code"),
    ("coverage", "Coverage Code"),
    ("asc_group", "ASC Payment Group Code"),
    ("asc_effective_date", "ASC Payment Group Effective Date"),
    ("mog_group", "MOG Payment Group Code"),
    ("mog_indicator", "MOG Payment Policy Indicator"),
    ("mog_effective_date", "MOG Effective Date"),
    ("processing_note", "Processing Note Number"),
    ("betos", "Berenson-Eggers Type Of Service Code"),
    ("types_of_service", "Type Of Service Code"),
    ("anesthesia_base_units", "Anesthesia Base Unit Quantity"),
    ("added_date", "Code Added Date"),
    ("action_effective_date", "Action Effective Date"),
    ("termination_date", "Termination Date"),
    ("action_code", "Action Code"),
)


def field_rows(record: Record) -> Iterator[tuple[str, str, str]]:
    """(label, value, meaning) for every non-empty field; repeated fields get `#n` labels."""
    for name, label in LABELS:
        value = getattr(record, name)
        if value is None or value == "" or value == ():
            continue
        values = value if isinstance(value, tuple) else (value,)
        for index, item in enumerate(values, start=1):
            text = item.isoformat() if hasattr(item, "isoformat") else str(item)
            numbered = f"{label} #{index}" if isinstance(value, tuple) else label
            meaning = ""
            if text and name in _DECODED:
                meaning = decode(name, text) or "(not in the CMS code table)"
            yield numbered, text, meaning


_DECODED = frozenset(
    {
        "pricing_indicators",
        "multiple_pricing_indicator",
        "lab_certifications",
        "coverage",
        "asc_group",
        "mog_group",
        "mog_indicator",
        "betos",
        "types_of_service",
        "action_code",
    }
)
