"""Every coded value CMS actually ships decodes, and decodes as CMS's per-code pages show it."""

import re
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from tracker.codesets.hcpcs.codetables import (
    ACTION_CODES,
    FAMILY_ORDER,
    TABLES,
    ActionCode,
    code_family,
    decode,
)
from tracker.codesets.hcpcs.parsers.base import SourceFile
from tracker.codesets.hcpcs.parsers.fixedwidth import FixedWidthParser
from tracker.codesets.hcpcs.record import Record

# Values seen in the real files that the record layout does not define. Measured on the 2016
# and 2020-JAN text files: there are none; a new one must be added here deliberately.
UNDEFINED_IN_LAYOUT: dict[str, set[str]] = {}

REAL_FILES = {
    "2016": ("cms-hcpcs/2016/HCPC2016_CONTR_ANWEB.txt", None),
    "2020-JAN": (
        "cms-hcpcs/2020-JAN/2020-Alpha-Numeric-HCPCS-File.zip",
        "HCPC2020_ANWEB_w_disclaimer.txt",
    ),
}


def _read(shared_file: Callable[..., Path], release: str) -> list[Record]:
    relative, member = REAL_FILES[release]
    path = shared_file(*relative.split("/"))
    if member is None:
        data = path.read_bytes()
        name = path.name
    else:
        with zipfile.ZipFile(path) as archive:
            data = archive.read(member)
        name = f"{path.name}!{member}"
    return list(FixedWidthParser().parse(SourceFile(name, data)))


def _observed(records: Iterable[Record]) -> dict[str, set[str]]:
    seen: dict[str, set[str]] = {name: set() for name in TABLES}
    for r in records:
        seen["action"].add(r.action_code)
        seen["coverage"].add(r.coverage)
        seen["pricing_indicator"].update(r.pricing_indicators)
        seen["multiple_pricing_indicator"].add(r.multiple_pricing_indicator)
        seen["lab_certification"].update(r.lab_certifications)
        seen["betos"].add(r.betos)
        seen["type_of_service"].update(r.types_of_service)
        seen["asc_group"].add(r.asc_group)
        seen["mog_group"].add(r.mog_group)
        seen["mog_indicator"].add(r.mog_indicator)
    # Blank means "no value" (modifiers carry no BETOS, most codes no lab certification), except
    # for the ASC group, where the layout defines blank; keep it there so it is checked too.
    for name, values in seen.items():
        if name != "asc_group":
            values.discard("")
    return seen


@pytest.fixture(scope="module", params=sorted(REAL_FILES))
def observed(
    request: pytest.FixtureRequest, shared_file: Callable[..., Path]
) -> dict[str, set[str]]:
    return _observed(_read(shared_file, request.param))


def test_every_value_in_the_real_files_decodes(observed: dict[str, set[str]]) -> None:
    undecoded = {
        name: {v for v in values if decode(name, v) is None} for name, values in observed.items()
    }
    undecoded = {name: values for name, values in undecoded.items() if values}
    assert undecoded == UNDEFINED_IN_LAYOUT


def test_the_real_files_exercise_the_tables(observed: dict[str, set[str]]) -> None:
    """Guard against a vacuous pass: the files must actually carry values for the main tables."""
    for name in ("action", "coverage", "pricing_indicator", "betos", "type_of_service"):
        assert len(observed[name]) >= 5, name
    assert observed["lab_certification"]
    assert {ActionCode(v) for v in observed["action"]} >= {ActionCode.ADD, ActionCode.DISCONTINUE}


SEED_DESCRIPTIONS = [
    (
        "pricing_indicator",
        "00",
        "Service not separately priced by part B (e.g., services not covered, bundled, used by"
        " part a only, etc.)",
    ),
    (
        "multiple_pricing_indicator",
        "9",
        "Not applicable as HCPCS not priced separately by part B (pricing indicator is 00) or"
        " value is not established (pricing indicator is '99')",
    ),
    ("coverage", "I", "Not payable by Medicare"),
    ("coverage", "C", "Carrier judgment"),
    ("betos", "Z2", "Undefined codes"),
    ("betos", "O1E", "Other drugs"),
    ("type_of_service", "9", "Other medical items or services"),
    ("type_of_service", "1", "Medical care"),
    ("action", "N", "No maintenance for this code"),
]


@pytest.mark.parametrize(("table", "value", "expected"), SEED_DESCRIPTIONS)
def test_seed_page_descriptions_decode_exactly(table: str, value: str, expected: str) -> None:
    assert decode(table, value) == expected


# A seed page row: `<i>Label</i>\tvalue\thelp`; the decoded meaning is the row whose label is the
# code's label plus " Description".
_SEED_ROW = re.compile(r"^<i>(?P<label>[^<]+)</i>\t(?P<value>[^\t]*)\t", re.MULTILINE)
_SEED_TABLES = {
    "Pricing Indicator Code #1": "pricing_indicator",
    "Multiple Pricing Indicator Code": "multiple_pricing_indicator",
    "Coverage Code": "coverage",
    "Berenson-Eggers Type Of Service Code": "betos",
    "Type Of Service Code #1": "type_of_service",
    "Action Code": "action",
}


def test_every_seed_page_decoding_matches(shared_file: Callable[..., Path]) -> None:
    pages = sorted(shared_file("seeds").glob("*.txt"))
    assert pages
    checked = 0
    for page in pages:
        rows = {m["label"]: m["value"] for m in _SEED_ROW.finditer(page.read_text("utf-8"))}
        for label, table in _SEED_TABLES.items():
            if label in rows:
                assert decode(table, rows[label]) == rows[f"{label} Description"], (page, label)
                checked += 1
    assert checked >= 2 * len(_SEED_TABLES)


def test_action_codes_are_the_layout_table() -> None:
    assert {a.value for a in ActionCode} == set(ACTION_CODES)
    assert ActionCode("N").description == "No maintenance for this code"
    assert ActionCode.REACTIVATE.description == (
        "Re-activate discontinued/deleted procedure or modifier code"
    )


def test_decode_accepts_record_field_names_and_strips() -> None:
    assert decode("types_of_service", "9") == decode("type_of_service", "9")
    assert decode("action_code", " N ") == "No maintenance for this code"
    assert decode("asc_group", "YY") is not None
    assert decode("asc_group", "") == "Not approved for ASC"


def test_decode_unknown_value_is_none_and_unknown_table_raises() -> None:
    assert decode("coverage", "X") is None
    assert decode("betos", "") is None
    with pytest.raises(KeyError, match="no code table 'colour'"):
        decode("colour", "A")


def test_no_table_description_is_blank_or_unnormalized() -> None:
    for name, table in TABLES.items():
        for value, text in table.items():
            assert text and text == " ".join(text.split()), (name, value)
            assert "e.G." not in text


@pytest.mark.parametrize(
    ("code", "family"),
    [
        ("A0021", "transport"),
        ("B4034", "enteral/parenteral"),
        ("E0100", "durable medical equipment"),
        ("G0008", "professional temporary"),
        ("J0120", "drugs"),
        ("K0001", "DME temporary"),
        ("L3000", "orthotics/prosthetics"),
        ("M1397", "quality and other"),
        ("Q0035", "temporary"),
        ("S0353", "private-payer temporary"),
        ("V2020", "vision/hearing"),
        ("A1", "modifiers"),
        ("GA", "modifiers"),
        ("   A1", "modifiers"),
        ("D0120", "other"),
        ("", "other"),
    ],
)
def test_code_family(code: str, family: str) -> None:
    assert code_family(code) == family
    assert family in FAMILY_ORDER
