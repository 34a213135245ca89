"""One ICD-10-CM or ICD-10-PCS code as the order file gives it, and how codes are written.

The order number of the order file is deliberately not part of a record: CMS renumbers every
line each year, so keeping it would make every code look changed from one release to the next.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from tracker.errors import SourceError

CodeSet = Literal["icd10cm", "icd10pcs"]

# The canonical encoding (see `Icd10Record.canonical_json`) and the json module's own C string
# encoder for its fast path, which gives the same bytes for a `str` (and refuses anything else).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)
_ENCODE: Callable[[str], str] = json.encoder.encode_basestring_ascii
CODE_SETS: tuple[CodeSet, ...] = ("icd10cm", "icd10pcs")


def code_set_of(text: str) -> CodeSet:
    """`text` as a code set name, or a one-line error naming the ones that exist."""
    if text == "icd10cm":
        return "icd10cm"
    if text == "icd10pcs":
        return "icd10pcs"
    raise SourceError(text, f"unknown ICD-10 code set (expected one of {', '.join(CODE_SETS)})")


@dataclass(frozen=True, slots=True)
class Icd10Record:
    """A code of one release: identity is (code set, code); the rest is what can change."""

    code_set: CodeSet
    code: str
    billable: bool
    short_title: str
    long_title: str

    def display_code(self) -> str:
        """The code as people write it: ICD-10-CM with the dot after the 3rd character."""
        return display_code(self.code, self.code_set)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code_set": self.code_set,
            "code": self.code,
            "billable": self.billable,
            "short_title": self.short_title,
            "long_title": self.long_title,
        }

    def canonical_json(self) -> str:
        """Sorted keys, no spaces, ASCII escapes: the same record always gives the same bytes.

        Byte for byte `json.dumps(to_dict(), sort_keys=True, separators=(",", ":"),
        ensure_ascii=True)`, written field by field in sorted key order (each string through
        the json module's own C encoder): building and sorting a dict for each of a release's
        ~97k records was most of the cost of hashing it. A value of an unexpected type (a
        record built by hand) takes the json module's path, so the result never differs.
        """
        billable = self.billable
        if billable is True or billable is False:
            try:
                return (
                    f'{{"billable":{"true" if billable else "false"},'
                    f'"code":{_ENCODE(self.code)},'
                    f'"code_set":{_ENCODE(self.code_set)},'
                    f'"long_title":{_ENCODE(self.long_title)},'
                    f'"short_title":{_ENCODE(self.short_title)}}}'
                )
            except TypeError:
                pass
        return _CANONICAL.encode(self.to_dict())

    def content_hash(self) -> str:
        """sha256 of the canonical JSON, so stored records can be checked against their hash."""
        return hashlib.sha256(self.canonical_json().encode("ascii")).hexdigest()

    @classmethod
    def from_json(cls, text: str) -> Icd10Record:
        """The record `canonical_json` wrote; refuses missing, extra or mistyped fields."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise SourceError("record JSON", "not an object")
        expected = {"code_set", "code", "billable", "short_title", "long_title"}
        if set(data) != expected:
            raise SourceError("record JSON", f"fields {sorted(data)} are not {sorted(expected)}")
        code_set = code_set_of(str(data["code_set"]))
        if not isinstance(data["billable"], bool):
            raise SourceError("record JSON", "billable is not true/false")
        for key in ("code", "short_title", "long_title"):
            if not isinstance(data[key], str):
                raise SourceError("record JSON", f"{key} is not a string")
        return cls(
            code_set=code_set,
            code=normalize_code(data["code"], code_set),
            billable=data["billable"],
            short_title=data["short_title"],
            long_title=data["long_title"],
        )


def display_code(code: str, code_set: CodeSet) -> str:
    """`E119` → `E11.9`; 3-character CM codes and every PCS code have no dot."""
    if code_set == "icd10cm" and len(code) > 3:
        return f"{code[:3]}.{code[3:]}"
    return code


def normalize_code(text: str, code_set: CodeSet) -> str:
    """A code as typed (any case, with or without the CM dot, spaces around) as stored.

    Only the one dot CM codes are written with (after the 3rd character) is accepted; PCS codes
    have none. Anything else that is not a letter or digit is refused, since a claim file with
    `E11-9` or `E1.19` holds a typing error, not a code.
    """
    code = text.strip().upper()
    if code_set == "icd10cm" and "." in code:
        if code.index(".") != 3 or code.count(".") != 1:
            raise SourceError(text, "the dot of an ICD-10-CM code goes after the 3rd character")
        # "E11." (a category written with its dot) is still the code E11.
        code = code.replace(".", "")
    if not code or not code.isascii() or not code.isalnum():
        raise SourceError(text, f"not an {code_set} code")
    if code_set == "icd10cm":
        if not (3 <= len(code) <= 7 and code[0].isalpha() and code[1].isdigit()):
            raise SourceError(text, "not an ICD-10-CM code (letter, digit, then 1-5 characters)")
    elif not 1 <= len(code) <= 7:
        raise SourceError(text, "not an ICD-10-PCS code (at most 7 characters)")
    return code


# The order-file parser builds ~100k records per release. The frozen dataclass's generated
# `__init__` calls `object.__setattr__` once per field; setting the slots through their
# descriptors gives the same record (equal, same hash) in about half the time.
_new = object.__new__
_SET_CODE_SET = Icd10Record.__dict__["code_set"].__set__
_SET_CODE = Icd10Record.__dict__["code"].__set__
_SET_BILLABLE = Icd10Record.__dict__["billable"].__set__
_SET_SHORT = Icd10Record.__dict__["short_title"].__set__
_SET_LONG = Icd10Record.__dict__["long_title"].__set__


def build_record(
    code_set: CodeSet, code: str, billable: bool, short_title: str, long_title: str
) -> Icd10Record:
    """`Icd10Record(...)` for values already checked by a parser, built faster."""
    record: Icd10Record = _new(Icd10Record)
    _SET_CODE_SET(record, code_set)
    _SET_CODE(record, code)
    _SET_BILLABLE(record, billable)
    _SET_SHORT(record, short_title)
    _SET_LONG(record, long_title)
    return record
