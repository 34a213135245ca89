"""A record from the raw text of its fields, by the layout: one mapping for every reader.

The text parser picks a field by slicing a line, the workbook and page parsers by taking a
cell; each gives the builder its keys (a slice per field, a cell index per column) and how it
splits a repeated field into slots, and the builder turns text into values the same way for
all of them, so the same release read from any form gives equal records.

The fields are picked and converted in one pass of C-level `map`s, in layout order (which is
`Record`'s order): a Python function call per field was a third of the parse of a release.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping
from typing import Any

from tracker.codesets.hcpcs.layout import RECORD_FIELDS, LayoutField, Value
from tracker.codesets.hcpcs.parsers.base import fast_text
from tracker.codesets.hcpcs.record import (
    Record,
    RecordKind,
    parse_asc_fields,
    parse_base_units,
    parse_cms_date,
)

# Dates repeat thousands of times per release (a few hundred distinct values): parse each once.
_cms_date = functools.lru_cache(maxsize=4096)(parse_cms_date)

# Given by the parser, which has read and checked them from the lines of the record.
_FROM_PARSER = ("code", "kind", "long_description")
# Read together (see `parse_asc_fields`): their text is kept until both are known.
_ASC = ("asc_group", "asc_effective_date")
_CONVERT: Mapping[Value, Callable[[str], Any]] = {
    Value.CODE: str.strip,
    Value.TEXT: fast_text,
    Value.DATE: _cms_date,
    Value.COUNT: parse_base_units,
}


def _unchanged(text: str) -> str:
    return text


class RecordBuilder:
    """Builds records from one reader's keys and its way of reading a repeated field."""

    def __init__(
        self,
        keys: Mapping[str, Any],
        slots: Callable[[LayoutField], Callable[[Any], tuple[str, ...]]],
    ) -> None:
        """`keys`: for every field of the layout but code, kind and long description, what the
        reader's `pick` is called with to get its text (its slots, for a repeated field);
        `slots(field)`: what turns that into the field's tuple of values."""
        fields = [field for field in RECORD_FIELDS if field.name not in _FROM_PARSER]
        names = [field.name for field in fields]
        self._keys = [keys[name] for name in names]
        self._converters = [
            slots(field)
            if field.repeated
            else _unchanged
            if field.name in _ASC
            else _CONVERT[field.value]
            for field in fields
        ]
        self._asc_group, self._asc_date = (names.index(name) for name in _ASC)

    def build(
        self, pick: Callable[[Any], Any], code: str, kind: RecordKind, long_description: str
    ) -> Record:
        """The record; raises ValueError naming the field whose text is not a valid value."""
        values = list(map(operator.call, self._converters, map(pick, self._keys)))
        group, date = self._asc_group, self._asc_date
        values[group], values[date] = parse_asc_fields(values[group], values[date])
        return Record(code, kind, fast_text(long_description), *values)
