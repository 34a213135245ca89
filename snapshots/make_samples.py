"""Write the three sample releases of `snapshots/` (2026 JAN, APR, JUL) in CMS's fixed-width layout.

The samples are the project's own: small enough to read by eye, yet carrying one of every kind of
change a real quarter brings (see README.md here for the table). S0353 and M1397 are exactly as
CMS's per-code pages show them; every other description is invented, so nothing here is cut from
a CMS file. Each release is built from the previous one by named edits, so the changes between
releases are visible in this script, not only in the output.

Run `python snapshots/make_samples.py [OUT_DIR]` (default: this folder); the output is
byte-for-byte reproducible, which `tests/test_samples.py` checks.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from tracker.codesets.hcpcs.record import Record, RecordKind
from tracker.codesets.hcpcs.writers.fixedwidth import write_release

JAN = date(2026, 1, 1)
APR = date(2026, 4, 1)
JUL = date(2026, 7, 1)

FILE_NAMES = {
    "JAN": "HCPC2026_JAN_SAMPLE.txt",
    "APR": "HCPC2026_APR_SAMPLE.txt",
    "JUL": "HCPC2026_JUL_SAMPLE.txt",
}

# Like CMS's annual file, the January sample opens with a few lines of notice text, including a
# tab and a non-breaking space, so readers must find records by content, not by line number.
JAN_PREAMBLE = (
    "Sample HCPCS Level II release written by the hcpcs-tracker project for tests and demos.",
    "",
    "This is not a CMS file.\tS0353 and M1397 are shown as CMS publishes them; every other",
    "description,\u00a0indicator and date in this file is invented for illustration.",
    "",
    "",
)


def procedure(
    code: str,
    long_description: str,
    short_description: str,
    *,
    added: date,
    pricing: tuple[str, ...] = ("00",),
    multiple_pricing: str = "9",
    coverage: str = "C",
    betos: str = "Z2",
    types_of_service: tuple[str, ...] = ("1",),
    action: str = "N",
    action_effective: date | None = None,
    terminated: date | None = None,
    xrefs: tuple[str, ...] = (),
    statute: str = "",
    processing_note: str = "",
    asc_group: str = "",
    asc_effective: date | None = None,
) -> Record:
    return Record(
        code=code,
        kind=RecordKind.PROCEDURE,
        long_description=long_description,
        short_description=short_description,
        pricing_indicators=pricing,
        multiple_pricing_indicator=multiple_pricing,
        statute=statute,
        xrefs=xrefs,
        coverage=coverage,
        asc_group=asc_group,
        asc_effective_date=asc_effective,
        processing_note=processing_note,
        betos=betos,
        types_of_service=types_of_service,
        anesthesia_base_units=0,
        added_date=added,
        action_effective_date=action_effective or added,
        termination_date=terminated,
        action_code=action,
    )


def modifier(
    code: str,
    long_description: str,
    short_description: str,
    *,
    added: date,
    action: str = "N",
    action_effective: date | None = None,
) -> Record:
    # CMS's modifiers carry no pricing, BETOS, type of service or base units; coverage is C.
    return Record(
        code=code,
        kind=RecordKind.MODIFIER,
        long_description=long_description,
        short_description=short_description,
        coverage="C",
        added_date=added,
        action_effective_date=action_effective or added,
        action_code=action,
    )


# The two codes of the seed pages, field for field.
S0353 = procedure(
    "S0353",
    "Treatment planning and care coordination management for cancer, initial treatment",
    "Cancer treatmentplan initial",
    added=date(2012, 4, 1),
    coverage="I",
    types_of_service=("9",),
)
M1397 = procedure(
    "M1397",
    "Patients with recurrence/disease progression",
    "Pt w/ recur/prog",
    added=date(2025, 1, 1),
    coverage="C",
    types_of_service=("1",),
)


def january() -> list[Record]:
    """The annual release: its action codes are relative to the last quarter of 2025."""
    return [
        modifier(
            "ZA",
            "Service furnished under a sample care demonstration arrangement",
            "Sample demo arrangement",
            added=date(2019, 1, 1),
        ),
        modifier(
            "ZB",
            "Item supplied as a no-cost replacement under the manufacturer's warranty",
            "Warranty replacement item",
            added=date(2021, 7, 1),
        ),
        modifier(
            "ZC",
            "Second identical service on the same day by the same clinician, documented as"
            " medically necessary in the record",
            "Repeat same-day service",
            added=date(2023, 1, 1),
        ),
        procedure(
            "A0382",
            "Basic life support transport, disposable supply pack, per trip",
            "BLS disposable supply pack",
            added=date(2003, 1, 1),
            pricing=("52",),
            multiple_pricing="A",
            betos="O1A",
            types_of_service=("D",),
        ),
        procedure(
            "A4999",
            "Disposable supply kit, sterile, for home wound irrigation, per kit",
            "Home wound irrigation kit",
            added=date(2016, 1, 1),
            pricing=("34",),
            multiple_pricing="A",
            coverage="D",
            betos="D1A",
            types_of_service=("P",),
        ),
        procedure(
            "A9599",
            "Single-use skin marker for imaging localization, sterile, each",
            "Imaging skin marker, each",
            added=date(2026, 1, 1),
            coverage="I",
            types_of_service=("9",),
            action="A",
        ),
        procedure(
            "E0159",
            "Seat lift mechanism, electric, for use with patient-owned furniture",
            "Seat lift mech electric",
            added=date(2010, 1, 1),
            pricing=("32",),
            multiple_pricing="A",
            coverage="D",
            betos="D1E",
            types_of_service=("P", "R"),
        ),
        procedure(
            "E0161",
            "Seat lift mechanism, electric, with integrated battery backup, for use with"
            " patient-owned furniture",
            "Seat lift w battery backup",
            added=date(2024, 1, 1),
            pricing=("32",),
            multiple_pricing="A",
            coverage="D",
            betos="D1E",
            types_of_service=("P", "R"),
        ),
        procedure(
            "E0162",
            "Seat lift mechanism, manual hydraulic, for use with patient-owned furniture",
            "Seat lift mech hydraulic",
            added=date(2024, 1, 1),
            pricing=("32",),
            multiple_pricing="A",
            coverage="D",
            betos="D1E",
            types_of_service=("P", "R"),
        ),
        procedure(
            "E2399",
            "Power wheelchair accessory, alternative control interface module, each",
            "Pwc alt control module",
            added=date(2018, 1, 1),
            pricing=("36",),
            multiple_pricing="A",
            betos="D1D",
            types_of_service=("P", "R", "A"),
            processing_note="0017",
        ),
        procedure(
            "G0599",
            "Remote review of patient-submitted physiologic data by clinical staff, per 30 days",
            "Remote data review 30 days",
            added=date(2022, 1, 1),
            pricing=("11",),
            multiple_pricing="A",
            betos="M5D",
            types_of_service=("1",),
        ),
        procedure(
            "G0601",
            "Group education session on self-management of chronic heart failure, per 60 minutes",
            "Hf self-mgmt group 60 min",
            added=date(2026, 1, 1),
            pricing=("11",),
            multiple_pricing="A",
            betos="M5D",
            action="A",
        ),
        procedure(
            "G0602",
            "Care transition call by clinical staff within two business days of discharge",
            "Care transition call",
            added=date(2024, 7, 1),
            pricing=("11",),
            multiple_pricing="A",
            coverage="D",
            betos="M5D",
        ),
        procedure(
            "J0598",
            "Injection, sample long-acting anticoagulant, 5 mg",
            "Inj sample anticoag 5 mg",
            added=date(2020, 1, 1),
            pricing=("51",),
            multiple_pricing="A",
            coverage="D",
            betos="O1E",
            types_of_service=("1",),
            action="D",
            action_effective=JAN,
            terminated=date(2025, 12, 31),
        ),
        procedure(
            "J0599",
            "Injection, sample biologic agent, 10 mg",
            "Inj sample biologic 10 mg",
            added=date(2021, 10, 1),
            pricing=("51",),
            multiple_pricing="A",
            coverage="D",
            betos="O1E",
            types_of_service=("1",),
            asc_group="YY",
            asc_effective=date(2022, 1, 1),
        ),
        procedure(
            "J7999",
            "Compounded medication, not elsewhere classified, billed with the ingredients and"
            " their amounts in the claim narrative",
            "Compounded med nec",
            added=date(2015, 1, 1),
            pricing=("51",),
            multiple_pricing="A",
            betos="O1E",
            types_of_service=("1",),
        ),
        procedure(
            "K0089",
            "Sample wheelchair cushion cover, replacement only, each",
            "Wc cushion cover replace",
            added=date(2012, 1, 1),
            pricing=("32",),
            multiple_pricing="A",
            betos="D1D",
            types_of_service=("P",),
            action_effective=date(2025, 1, 1),
            terminated=date(2024, 12, 31),
        ),
        procedure(
            "K0999",
            "Mobility device accessory, replacement battery charger, each",
            "Mobility charger replace",
            added=date(2019, 4, 1),
            pricing=("46",),
            multiple_pricing="A",
            betos="D1D",
            types_of_service=("P",),
        ),
        procedure(
            "L3999",
            "Upper limb orthosis, custom fabricated, not otherwise specified",
            "Upper limb orth custom nos",
            added=date(2001, 1, 1),
            pricing=("38",),
            multiple_pricing="A",
            coverage="D",
            betos="D1F",
            types_of_service=("P",),
        ),
        procedure(
            "L5999",
            "Lower limb prosthesis, component not listed elsewhere in this series",
            "Ll prosthesis comp nos",
            added=date(2001, 1, 1),
            pricing=("46",),
            multiple_pricing="A",
            betos="D1F",
            types_of_service=("P",),
        ),
        procedure(
            "L8699",
            "Implanted prosthetic component, not otherwise specified",
            "Implant prosth comp nos",
            added=date(2005, 1, 1),
            pricing=("46",),
            multiple_pricing="A",
            betos="D1F",
            types_of_service=("1",),
        ),
        M1397,
        procedure(
            "M1398",
            "Patients without documented recurrence or disease progression",
            "Pt w/o recur/prog",
            added=date(2025, 1, 1),
        ),
        procedure(
            "Q0599",
            "Oral anti-nausea drug, sample agent, 1 mg, for use within 24 hours of chemotherapy",
            "Oral antiemetic sample 1mg",
            added=date(2017, 1, 1),
            pricing=("53",),
            multiple_pricing="A",
            coverage="D",
            betos="O1E",
            types_of_service=("1",),
            statute="1861S2T",
        ),
        procedure(
            "Q4399",
            "Skin substitute, sample acellular matrix, per square centimeter",
            "Skin sub sample matrix cm2",
            added=date(2023, 4, 1),
            types_of_service=("1",),
        ),
        procedure(
            "Q5399",
            "Injection, sample biosimilar agent, 1 mg",
            "Inj sample biosim 1 mg",
            added=date(2026, 1, 1),
            pricing=("51",),
            multiple_pricing="A",
            coverage="D",
            betos="O1E",
            action="A",
        ),
        S0353,
        procedure(
            "S0399",
            "Oncology care navigation session, sample program, per session",
            "Onc navigation session",
            added=date(2020, 1, 1),
            coverage="I",
            types_of_service=("9",),
        ),
        procedure(
            "S9129",
            "Home visit by an occupational therapist, sample program, per diem",
            "Home ot visit per diem",
            added=date(2008, 1, 1),
            coverage="I",
            types_of_service=("1",),
        ),
    ]


def _carry(previous: Iterable[Record]) -> dict[str, Record]:
    """Quarterly files declare actions relative to the previous quarter: carried codes become N."""
    return {r.code: dataclasses.replace(r, action_code="N") for r in previous}


def _edit(records: dict[str, Record], code: str, effective: date, **changes: Any) -> None:
    """A declared change: CMS sets the action effective date to the release's date."""
    records[code] = dataclasses.replace(
        records[code],
        action_effective_date=effective,
        **changes,
    )


def april(previous: Sequence[Record]) -> list[Record]:
    records = _carry(previous)
    del records["K0089"]  # purged: terminated in 2024, now simply absent
    _edit(
        records,
        "E0159",
        APR,
        termination_date=date(2026, 3, 31),
        xrefs=("E0161", "E0162"),
        action_code="D",
    )
    _edit(
        records,
        "J0599",
        APR,
        long_description="Injection, sample biologic agent (not a biosimilar), 10 mg",
        action_code="C",
    )
    _edit(records, "L3999", APR, short_description="UL orthosis custom fab NOS", action_code="S")
    _edit(records, "K0999", APR, pricing_indicators=("32",), action_code="P")
    _edit(records, "G0599", APR, coverage="I", action_code="F")
    _edit(records, "Q0599", APR, betos="O1D", action_code="T")
    # Case-only rewording that CMS does not declare: the action code stays N and so does the
    # action effective date, as in real releases.
    records["A4999"] = dataclasses.replace(
        records["A4999"],
        long_description="Disposable supply kit, sterile, for home wound irrigation, Per Kit",
    )
    records["A0227"] = procedure(
        "A0227",
        "Non-emergency wheelchair van transport, per mile, sample rural program",
        "Wc van transport per mile",
        added=APR,
        pricing=("52",),
        multiple_pricing="A",
        betos="O1A",
        types_of_service=("D",),
        action="A",
    )
    records["J9399"] = procedure(
        "J9399",
        "Injection, sample antineoplastic antibody, 2 mg",
        "Inj sample antineopl 2 mg",
        added=APR,
        pricing=("51",),
        multiple_pricing="A",
        coverage="D",
        betos="O1D",
        action="A",
    )
    return _in_file_order(records)


def july(previous: Sequence[Record]) -> list[Record]:
    records = _carry(previous)
    _edit(records, "J0598", JUL, termination_date=None, action_code="R")
    _edit(
        records,
        "G0602",
        JUL,
        long_description="Care transition call by clinical staff within two business days of"
        " discharge, documented in the medical record",
        coverage="C",
        action_code="B",
    )
    _edit(
        records,
        "ZC",
        JUL,
        long_description="Second identical service on the same day by the same clinician,"
        " documented as medically necessary",
        action_code="C",
    )
    _edit(
        records,
        "Q4399",
        JUL,
        pricing_indicators=("57",),
        multiple_pricing_indicator="A",
        action_code="P",
    )
    records["K1039"] = procedure(
        "K1039",
        "Replacement sensor for a sample home gait monitoring device, each",
        "Gait monitor sensor replace",
        added=JUL,
        pricing=("46",),
        multiple_pricing="A",
        betos="D1E",
        types_of_service=("P",),
        action="A",
    )
    records["M1401"] = procedure(
        "M1401",
        "Patients with a documented shared decision-making conversation about treatment goals",
        "Pt w/ shared decision conv",
        added=JUL,
        action="A",
    )
    return _in_file_order(records)


def _in_file_order(records: dict[str, Record]) -> list[Record]:
    """CMS's order: modifiers first (they sort before letters once right-aligned), then codes."""
    return sorted(records.values(), key=lambda r: r.code.rjust(5))


def releases() -> dict[str, list[Record]]:
    jan = january()
    apr = april(jan)
    jul = july(apr)
    return {"JAN": _in_file_order({r.code: r for r in jan}), "APR": apr, "JUL": jul}


def main(out_dir: Path | None = None) -> list[Path]:
    target = out_dir or Path(__file__).resolve().parent
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for month, records in releases().items():
        path = target / FILE_NAMES[month]
        write_release(records, path, preamble=JAN_PREAMBLE if month == "JAN" else ())
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in main(Path(sys.argv[1]) if len(sys.argv) > 1 else None):
        print(written_path)
