"""The one normalized HCPCS record, its canonical form and content hash.

Every parser produces `Record`s and nothing else, so that the text file, the workbook and the
per-code pages of the same release compare equal field by field. Normalization happens here,
once: descriptions are whitespace-normalized, dates become `date`, repeated fields become tuples
with trailing blanks dropped (their position still matters, so inner blanks are kept).

Two physical-layout fields are deliberately not part of a record: the sequence number and the
record id (RIC). They only order and type the physical lines of one code (the text file writes
`00100`, the workbook `0010`), so keeping them would make the same release differ by format.
Whether a record is a modifier is kept, as `kind`.
"""

from __future__ import annotations

import dataclasses
import json
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from tracker.codesets.base import hash_canonical
from tracker.codesets.hcpcs.layout import DATE_FIELDS, RECORD_FIELDS, TUPLE_FIELDS


class RecordKind(StrEnum):
    PROCEDURE = "procedure"
    MODIFIER = "modifier"


_WHITESPACE = re.compile(r"\s+")
CODE_PATTERN = re.compile(r"^[A-Z0-9]{5}$")
MODIFIER_PATTERN = re.compile(r"^[A-Z0-9]{2}$")


def normalize_text(value: str | None) -> str:
    """Collapse every run of whitespace (tabs, NBSP, CR/LF included) to one space and trim."""
    if not value:
        return ""
    return _WHITESPACE.sub(" ", value).strip()


def normalize_tuple(values: Iterable[str | None]) -> tuple[str, ...]:
    """Strip each value and drop trailing blanks; inner blanks keep their slot."""
    items = [normalize_text(v) for v in values]
    while items and not items[-1]:
        items.pop()
    return tuple(items)


@dataclass(frozen=True, slots=True)
class Record:
    """One HCPCS procedure or modifier as of one release.

    Field names follow the CMS record layout (`tracker.codesets.hcpcs.layout`, which says
    where each one is read from and written to); `tracker.codesets.hcpcs.codetables` decodes
    the coded values.
    """

    code: str
    kind: RecordKind
    long_description: str
    short_description: str
    pricing_indicators: tuple[str, ...] = ()
    multiple_pricing_indicator: str = ""
    cim_references: tuple[str, ...] = ()
    mcm_references: tuple[str, ...] = ()
    statute: str = ""
    lab_certifications: tuple[str, ...] = ()
    xrefs: tuple[str, ...] = ()
    coverage: str = ""
    asc_group: str = ""
    asc_effective_date: date | None = None
    mog_group: str = ""
    mog_indicator: str = ""
    mog_effective_date: date | None = None
    processing_note: str = ""
    betos: str = ""
    types_of_service: tuple[str, ...] = ()
    anesthesia_base_units: int | None = None
    added_date: date | None = None
    action_effective_date: date | None = None
    termination_date: date | None = None
    action_code: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready mapping: dates as ISO strings, tuples as lists."""
        out: dict[str, Any] = {}
        for name in _PLAIN_FIELDS:
            out[name] = getattr(self, name)
        for name in _DATE_FIELD_ORDER:
            value = getattr(self, name)
            out[name] = value.isoformat() if value is not None else None
        for name in _TUPLE_FIELD_ORDER:
            out[name] = list(getattr(self, name))
        out["kind"] = self.kind.value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Record:
        """Inverse of `to_dict`; unknown keys are an error, so stored data never drifts silently."""
        unknown = data.keys() - _FIELD_SET
        if unknown:
            raise ValueError(f"unknown record fields: {', '.join(sorted(unknown))}")
        kwargs = dict(data)
        for name in _DATE_FIELD_ORDER:
            value = kwargs.get(name)
            if value is not None:
                kwargs[name] = date.fromisoformat(value) if value else None
        for name in _TUPLE_FIELD_ORDER:
            if name in kwargs:
                kwargs[name] = tuple(kwargs[name])
        if "kind" in kwargs:
            kind = kwargs["kind"]
            # A dict lookup: calling the enum costs more than the rest of this method.
            kwargs["kind"] = (
                _KINDS[kind] if type(kind) is str and kind in _KINDS else RecordKind(kind)
            )
        return cls(**kwargs)

    @classmethod
    def from_json(cls, body: str) -> Record:
        """A stored body (canonical JSON) back to its record."""
        return cls.from_dict(_DECODE(body))

    def canonical_json(self) -> str:
        """The byte-stable serialization that the content hash is computed over.

        Equal, byte for byte, to encoding `to_dict()` with sorted keys; written field by field
        (each value through the json module's own string encoder) because building the dict
        and sorting its keys was most of the cost, paid once per record of every release. A
        value of an unexpected type takes the general path, so the result never differs.
        """
        try:
            return (
                "{"
                + ",".join(map(operator.add, _KEYS, map(operator.call, _ENCODERS, _VALUES(self))))
                + "}"
            )
        except (TypeError, AttributeError, ValueError):
            return _CANONICAL.encode(self.to_dict())

    def content_hash(self) -> str:
        return hash_canonical(self.canonical_json())

    @property
    def is_terminated(self) -> bool:
        return self.termination_date is not None


FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Record))
# The record and its layout declare the same fields, in the same order.
assert tuple(field.name for field in RECORD_FIELDS) == FIELD_NAMES, "Record and layout differ"
_DATE_FIELD_ORDER = tuple(name for name in FIELD_NAMES if name in DATE_FIELDS)
_TUPLE_FIELD_ORDER = tuple(name for name in FIELD_NAMES if name in TUPLE_FIELDS)
_PLAIN_FIELDS = tuple(
    name for name in FIELD_NAMES if name not in DATE_FIELDS | TUPLE_FIELDS | {"kind"}
)
_FIELD_SET = frozenset(FIELD_NAMES)
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_DECODE = json.JSONDecoder().decode
# The encoder `_CANONICAL` uses for strings (the C one when available).
_ENCODE_STR: Callable[[str], str] = json.encoder.encode_basestring


def _encode_date(value: date | None) -> str:
    return "null" if value is None else _ENCODE_STR(value.isoformat())


def _encode_strings(values: tuple[str, ...]) -> str:
    return "[" + ",".join(map(_ENCODE_STR, values)) + "]"


def _encode_count(value: int | None) -> str:
    if value is None:
        return "null"
    if type(value) is not int:  # bool, or an int subclass: the general path decides
        raise TypeError(f"unexpected {type(value).__name__}")
    return int.__repr__(value)


def _encode_kind(value: RecordKind) -> str:
    return _ENCODE_STR(value.value)


def _encoder(name: str) -> Callable[[Any], str]:
    if name in DATE_FIELDS:
        return _encode_date
    if name in TUPLE_FIELDS:
        return _encode_strings
    if name == "kind":
        return _encode_kind
    if name == "anesthesia_base_units":
        return _encode_count
    return _ENCODE_STR


# Canonical JSON in key order: each field's `"name":` and the encoder of its value.
_SORTED_FIELDS = tuple(sorted(FIELD_NAMES))
_KEYS = tuple(_ENCODE_STR(name) + ":" for name in _SORTED_FIELDS)
_ENCODERS = tuple(_encoder(name) for name in _SORTED_FIELDS)
_VALUES = operator.attrgetter(*_SORTED_FIELDS)
_KINDS = {kind.value: kind for kind in RecordKind}


def parse_cms_date(raw: str | None) -> date | None:
    """`YYYYMMDD` (the CMS layout) to a date; blank or all-zero means no date.

    Raises ValueError with the offending text so parsers can report file and line.
    """
    text = (raw or "").strip()
    if not text or set(text) == {"0"}:
        return None
    if len(text) != 8 or not text.isdigit():
        raise ValueError(f"date {text!r} is not YYYYMMDD")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        raise ValueError(f"date {text!r} is not a calendar date") from None


def parse_asc_fields(group: str | None, date_text: str | None) -> tuple[str, date | None]:
    """ASC payment group and its effective date, repairing a shift CMS shipped.

    The 2018 annual file (text and workbook alike) carries five codes (C9488, C9745-C9748) whose
    ASC date starts two positions early, in the group's slot: group `20`, date `170401`. When
    the two halves only make sense together as one YYYYMMDD, they are read that way, so the
    record carries the date CMS meant and no phantom group `20`.
    """
    group_text = (group or "").strip()
    date_raw = (date_text or "").strip()
    if len(group_text) == 2 and len(date_raw) == 6 and (group_text + date_raw).isdigit():
        try:
            return "", parse_cms_date(group_text + date_raw)
        except ValueError:
            pass
    return group_text, parse_cms_date(date_raw)


def parse_base_units(raw: str | None) -> int | None:
    text = (raw or "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise ValueError(f"anesthesia base units {text!r} is not a number")
    return int(text)
