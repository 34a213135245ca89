"""The committed sample releases parse, carry the seed codes exactly, and are reproducible."""

import importlib.util
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from types import ModuleType

import pytest

from tracker.codesets.hcpcs.codetables import decode
from tracker.codesets.hcpcs.parsers.base import SourceFile
from tracker.codesets.hcpcs.parsers.fixedwidth import FixedWidthParser
from tracker.codesets.hcpcs.record import Record, RecordKind

SNAPSHOTS = Path(__file__).resolve().parent.parent / "snapshots"
SAMPLES = ["HCPC2026_JAN_SAMPLE.txt", "HCPC2026_APR_SAMPLE.txt", "HCPC2026_JUL_SAMPLE.txt"]

# As the seed pages show them (../shared/seeds/); fields the pages do not show are blank.
SEED_RECORDS = {
    "S0353": Record(
        code="S0353",
        kind=RecordKind.PROCEDURE,
        long_description=(
            "Treatment planning and care coordination management for cancer, initial treatment"
        ),
        short_description="Cancer treatmentplan initial",
        pricing_indicators=("00",),
        multiple_pricing_indicator="9",
        coverage="I",
        betos="Z2",
        types_of_service=("9",),
        anesthesia_base_units=0,
        added_date=date(2012, 4, 1),
        action_effective_date=date(2012, 4, 1),
        action_code="N",
    ),
    "M1397": Record(
        code="M1397",
        kind=RecordKind.PROCEDURE,
        long_description="Patients with recurrence/disease progression",
        short_description="Pt w/ recur/prog",
        pricing_indicators=("00",),
        multiple_pricing_indicator="9",
        coverage="C",
        betos="Z2",
        types_of_service=("1",),
        anesthesia_base_units=0,
        added_date=date(2025, 1, 1),
        action_effective_date=date(2025, 1, 1),
        action_code="N",
    ),
}


def _parse(path: Path) -> dict[str, Record]:
    records = list(FixedWidthParser().parse(SourceFile(path.name, path.read_bytes())))
    by_code = {r.code: r for r in records}
    assert len(by_code) == len(records), "a code appears twice"
    return by_code


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_samples", SNAPSHOTS / "make_samples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_parses_and_carries_the_seed_codes(name: str) -> None:
    path = SNAPSHOTS / name
    data = path.read_bytes()
    assert FixedWidthParser().detect(SourceFile(name, data))
    records = _parse(path)
    assert 25 <= len(records) <= 40
    assert {code: records[code] for code in SEED_RECORDS} == SEED_RECORDS
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert {r.code[0] for r in records.values() if len(r.code) == 5} >= set("AEGJKLMQS")
    assert any(r.kind is RecordKind.MODIFIER for r in records.values())


def test_s0353_spans_a_continuation_line() -> None:
    lines = (SNAPSHOTS / SAMPLES[0]).read_bytes().split(b"\r\n")
    assert b"S035300200" + b"4" + b"treatment".ljust(80) in lines


def test_seed_pages_agree_with_the_expected_records(shared_file: Callable[..., Path]) -> None:
    """The hard-coded seed records above are what the pages say, field by field."""
    pages = {}
    for page in shared_file("seeds").glob("*.txt"):
        text = page.read_text("utf-8")
        rows = dict(re.findall(r"^<i>([^<]+)</i>\t([^\t]*)\t", text, re.MULTILINE))
        pages[rows["HCPCS Code"]] = rows
    for code, record in SEED_RECORDS.items():
        rows = pages[code]
        assert rows["Code Description"] == record.long_description
        assert rows["Short Description"] == record.short_description
        assert rows["Pricing Indicator Code #1"] == record.pricing_indicators[0]
        assert rows["Multiple Pricing Indicator Code"] == record.multiple_pricing_indicator
        assert rows["Coverage Code"] == record.coverage
        assert rows["Berenson-Eggers Type Of Service Code"] == record.betos
        assert rows["Type Of Service Code #1"] == record.types_of_service[0]
        assert int(rows["Anesthesia Base Unit Quantity"]) == record.anesthesia_base_units
        assert rows["Code Added Date"] == f"{record.added_date:%Y%m%d}"
        assert rows["Action Effective Date"] == f"{record.action_effective_date:%Y%m%d}"
        assert rows["Action Code"] == record.action_code
        assert rows["Coverage Code Description"] == decode("coverage", record.coverage)


def test_generator_output_is_reproducible(tmp_path: Path) -> None:
    written = _load_generator().main(tmp_path)
    assert sorted(p.name for p in written) == sorted(SAMPLES)
    for name in SAMPLES:
        assert (tmp_path / name).read_bytes() == (SNAPSHOTS / name).read_bytes(), name


def test_declared_changes_between_samples() -> None:
    """The README's change table, checked against the files it describes."""
    jan, apr, jul = (_parse(SNAPSHOTS / name) for name in SAMPLES)
    assert set(jan) - set(apr) == {"K0089"}
    assert set(apr) - set(jan) == {"A0227", "J9399"}
    assert set(jul) - set(apr) == {"K1039", "M1401"}
    assert set(apr) - set(jul) == set()
    for added in ("A0227", "J9399"):
        assert apr[added].action_code == "A"
        assert apr[added].added_date == date(2026, 4, 1)
    assert apr["E0159"].termination_date == date(2026, 3, 31)
    assert apr["E0159"].action_code == "D"
    assert set(apr["E0159"].xrefs) <= set(apr)
    declared = {
        code: (apr[code].action_code, apr[code].action_effective_date)
        for code in apr
        if apr[code].action_code != "N"
    }
    assert declared == {
        "A0227": ("A", date(2026, 4, 1)),
        "J9399": ("A", date(2026, 4, 1)),
        "E0159": ("D", date(2026, 4, 1)),
        "J0599": ("C", date(2026, 4, 1)),
        "L3999": ("S", date(2026, 4, 1)),
        "K0999": ("P", date(2026, 4, 1)),
        "G0599": ("F", date(2026, 4, 1)),
        "Q0599": ("T", date(2026, 4, 1)),
    }
    assert jan["A4999"].long_description != apr["A4999"].long_description
    assert jan["A4999"].long_description.lower() == apr["A4999"].long_description.lower()
    assert apr["A4999"].action_code == "N"
    assert jan["J0598"].termination_date == date(2025, 12, 31)
    assert jul["J0598"].termination_date is None
    assert {code for code in jul if jul[code].action_code != "N"} == {
        "K1039",
        "M1401",
        "J0598",
        "G0602",
        "ZC",
        "Q4399",
    }
    assert jul["J0598"].action_code == "R"
