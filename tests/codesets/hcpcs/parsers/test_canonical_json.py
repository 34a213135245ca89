"""`Record.canonical_json` is hashed and stored: its fast path must equal the json module's."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import REAL_FILES, shared_path
from tracker.codesets.hcpcs.parsers import parse_source
from tracker.codesets.hcpcs.parsers.base import SourceFile
from tracker.codesets.hcpcs.record import Record, RecordKind


def reference(record: Record) -> str:
    return json.dumps(record.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@pytest.mark.parametrize("name", [REAL_FILES[0], REAL_FILES[2], REAL_FILES[4]])
def test_every_real_record(name: str) -> None:
    path = shared_path("cms-hcpcs", *name.split("/"))
    records = parse_source(SourceFile(path.name, path.read_bytes())).records
    assert records
    for record in records:
        assert record.canonical_json() == reference(record)
        assert Record.from_json(record.canonical_json()) == record


text = st.text(st.characters(codec="utf-8"), max_size=12)
strings = st.lists(text, max_size=4).map(tuple)
dates = st.one_of(st.none(), st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)))
records = st.builds(
    Record,
    code=text,
    kind=st.sampled_from(RecordKind),
    long_description=text,
    short_description=text,
    pricing_indicators=strings,
    multiple_pricing_indicator=text,
    cim_references=strings,
    mcm_references=strings,
    statute=text,
    lab_certifications=strings,
    xrefs=strings,
    coverage=text,
    asc_group=text,
    asc_effective_date=dates,
    mog_group=text,
    mog_indicator=text,
    mog_effective_date=dates,
    processing_note=text,
    betos=text,
    types_of_service=strings,
    anesthesia_base_units=st.one_of(st.none(), st.integers(), st.booleans()),
    added_date=dates,
    action_effective_date=dates,
    termination_date=dates,
    action_code=text,
)


@settings(max_examples=500, deadline=None)
@given(records)
def test_generated_records(record: Record) -> None:
    assert record.canonical_json() == reference(record)


def test_unexpected_types_take_the_general_path() -> None:
    odd = Record("A0001", RecordKind.PROCEDURE, "x", "y", xrefs=(1,), statute=None)  # type: ignore[arg-type]
    assert odd.canonical_json() == reference(odd)
