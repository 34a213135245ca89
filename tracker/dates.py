"""Dates of service as people and claims files write them: ISO, compact and US forms.

One reading for every place a date of service comes in (`tracker show --as-of`, `tracker codes
--as-of`, the date column of a claims file), so the same text means the same day everywhere.
"""

from __future__ import annotations

import re
from datetime import date

_US = re.compile(r"^(\d{1,2})[/-](\d{1,2})[/-](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def parse_service_date(text: str) -> date:
    """ISO (`2020-04-15`, with or without a time), compact (`20200415`) or US (`4/15/2020`)."""
    value = text.strip()
    for pattern, order in ((_ISO, (0, 1, 2)), (_COMPACT, (0, 1, 2)), (_US, (2, 0, 1))):
        match = pattern.match(value)
        if match:
            parts = match.groups()
            year, month, day = (int(parts[i]) for i in order)
            try:
                return date(year, month, day)
            except ValueError:
                raise ValueError(f"date {text!r} is not a calendar date") from None
    raise ValueError(f"date {text!r} is not YYYY-MM-DD, YYYYMMDD or MM/DD/YYYY")
