"""A code's fields for people: each with its CMS label and decoded meaning, as the seed pages.

Labels follow CMS's record-layout names (`tracker.codesets.hcpcs.layout`), so a user can match
what they see here to CMS documentation. Empty fields are left out: a page lists what the code
has.
"""

from __future__ import annotations

from collections.abc import Iterator

from tracker.codesets.hcpcs.codetables import decode
from tracker.codesets.hcpcs.layout import PAGE_FIELDS
from tracker.codesets.hcpcs.record import Record

# (field, label) in page order, for callers that label fields themselves.
LABELS: tuple[tuple[str, str], ...] = tuple((field.name, field.label) for field in PAGE_FIELDS)


def field_rows(record: Record) -> Iterator[tuple[str, str, str]]:
    """(label, value, meaning) for every non-empty field; repeated fields get `#n` labels."""
    for field in PAGE_FIELDS:
        name, label = field.name, field.label
        value = getattr(record, name)
        if value is None or value == "" or value == ():
            continue
        values = value if isinstance(value, tuple) else (value,)
        for index, item in enumerate(values, start=1):
            text = item.isoformat() if hasattr(item, "isoformat") else str(item)
            numbered = f"{label} #{index}" if isinstance(value, tuple) else label
            meaning = ""
            if text and field.table:
                meaning = decode(field.table, text) or "(not in the CMS code table)"
            yield numbered, text, meaning
