"""The text file and the workbook of one release carry the same records.

The README warns that workbooks truncate very long descriptions. In the four releases shipped in
both formats no description is cut: recent workbooks continue an over-long description on a
RECID 4 row (G0503 in 2020), which the parser joins. The truncation lists below are therefore
empty, and the test keeps them explicit so a new release that does truncate shows up here.

The only real disagreements are action effective dates, which CMS wrote differently in the two
formats: the 2016 workbook leaves them blank for 115 codes, and the 2017 workbook has other dates
for three L codes. They are pinned here, value for value, as facts about the published files.
"""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from tracker.codesets.hcpcs.record import Record, normalize_text

from .conftest import RealFiles

PAIRS = {
    "2016": ("2016-txt", "2016-xlsx"),
    "2017": ("2017-zip", "2017-xlsx"),
    "2018": ("2018-zip", "2018-xlsx"),
    "2020-JAN": ("2020-JAN-zip", "2020-JAN-xls"),
}

# Codes whose workbook long description is a cut-off prefix of the text file's.
TRUNCATED: dict[str, list[str]] = {"2016": [], "2017": [], "2018": [], "2020-JAN": []}

# 2016 workbook: action effective date blank where the text file has one.
BLANK_ACTION_DATE_2016 = [
    "A0130",
    "A0180",
    "A0190",
    "A0200",
    "A0210",
    "A4580",
    "A4590",
    "A4635",
    "A4640",
    "C1883",
    "E0500",
    "E0565",
    "G0118",
    "L0810",
    "L0820",
    "L0830",
    "L1080",
    "L1310",
    "L2250",
    "L2260",
    "L2270",
    "L2280",
    "L2300",
    "L2310",
    "L2335",
    "L2340",
    "L2350",
    "L2360",
    "L2375",
    "L2380",
    "L2385",
    "L2390",
    "L2395",
    "L2520",
    "L2530",
    "L2540",
    "L2550",
    "L5632",
    "L5636",
    "L5638",
    "L5640",
    "L5642",
    "L5643",
    "L5644",
    "L5647",
    "L5649",
    "L5651",
    "L5652",
    "L5653",
    "L5654",
    "L5655",
    "L5656",
    "L5658",
    "L5670",
    "L5672",
    "L5680",
    "L5682",
    "L5684",
    "L5686",
    "L5688",
    "L5690",
    "L5692",
    "L5694",
    "L5696",
    "L5697",
    "L5698",
    "L5710",
    "L5712",
    "L5714",
    "L5716",
    "L5718",
    "L5722",
    "L5724",
    "L5726",
    "L5728",
    "L5780",
    "L5850",
    "L5910",
    "L5940",
    "L5950",
    "L5960",
    "L6615",
    "L6623",
    "L6625",
    "L6628",
    "L6629",
    "L6630",
    "L6632",
    "L6635",
    "L6637",
    "L6641",
    "L6642",
    "L6645",
    "L6650",
    "L6655",
    "L6660",
    "L6665",
    "L6670",
    "L6672",
    "L6680",
    "L6682",
    "L6684",
    "L6686",
    "L6689",
    "L6690",
    "L6691",
    "V2102",
    "V2109",
    "V2209",
    "V2210",
    "V2219",
    "V2303",
    "V2314",
    "V2502",
    "V2522",
]
# 2017 workbook: code -> (text file's action effective date, workbook's).
OTHER_ACTION_DATE_2017 = {
    "L5638": (date(1996, 1, 1), date(1986, 1, 1)),
    "L5640": (date(1996, 1, 1), date(1986, 1, 1)),
    "L5643": (date(1986, 1, 1), date(1988, 1, 1)),
}


def _compare(
    text: dict[str, Record], workbook: dict[str, Record]
) -> tuple[list[str], dict[str, tuple[str, ...]]]:
    truncated: list[str] = []
    other: dict[str, tuple[str, ...]] = {}
    for code, record in text.items():
        theirs = workbook[code]
        fields = tuple(
            f.name
            for f in dataclasses.fields(Record)
            if getattr(record, f.name) != getattr(theirs, f.name)
        )
        if not fields:
            continue
        if fields == ("long_description",) and normalize_text(record.long_description).startswith(
            normalize_text(theirs.long_description)
        ):
            truncated.append(code)
        else:
            other[code] = fields
    return sorted(truncated), other


@pytest.mark.parametrize("label", sorted(PAIRS))
def test_text_and_workbook_agree(real: RealFiles, label: str) -> None:
    text_key, workbook_key = PAIRS[label]
    text = {r.code: r for r in real.release(text_key).records}
    workbook = {r.code: r for r in real.release(workbook_key).records}
    assert set(text) == set(workbook)
    truncated, other = _compare(text, workbook)
    assert truncated == TRUNCATED[label]
    expected: dict[str, tuple[str, ...]] = {}
    if label == "2016":
        expected = dict.fromkeys(BLANK_ACTION_DATE_2016, ("action_effective_date",))
        for code in BLANK_ACTION_DATE_2016:
            assert text[code].action_effective_date is not None
            assert workbook[code].action_effective_date is None
    if label == "2017":
        expected = dict.fromkeys(OTHER_ACTION_DATE_2017, ("action_effective_date",))
        for code, (in_text, in_workbook) in OTHER_ACTION_DATE_2017.items():
            assert text[code].action_effective_date == in_text
            assert workbook[code].action_effective_date == in_workbook
    assert other == expected
