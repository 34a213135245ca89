"""One store, several code sets: a second code set goes through the same store and as-of
machinery as HCPCS, without touching it.

The second code set is a toy made here, shaped like ICD-10 (yearly `FY2024` labels effective the
October before, no added or termination dates, header codes that may not be billed), so the
test says what the shared machinery must do for such a code set before a real one is registered.
Expected answers follow from the rules (a code without end dates is valid while the releases in
force carry it), worked out by hand from the three small files written below.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SAMPLES
from tracker import api, codesets, query
from tracker.codesets.base import (
    NO_DATES,
    CodeRecord,
    LabelParts,
    ParsedRelease,
    RecordDates,
    SourceFile,
    SourceMember,
    StoredColumns,
)
from tracker.errors import ReleaseError, StoreError
from tracker.store import Store
from tracker.validity import Closure, Opening


@dataclass(frozen=True, slots=True)
class ToyRecord:
    code: str
    title: str
    billable: bool

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "title": self.title, "billable": self.billable}

    def canonical_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))


_LABEL = re.compile(r"^FY(?P<year>\d{4})(?:#(?P<issue>\d+))?$")


class Toy:
    name = "toy"
    title = "Toy yearly code set"
    code_width = 7
    has_end_dates = False

    def normalize_code(self, text: str) -> str | None:
        code = text.strip().upper().replace(".", "")
        return code if code.isalnum() else None

    def display_code(self, code: str) -> str:
        return code

    def detect(self, source: SourceFile) -> bool:
        return source.data.startswith(b"TOY\n")

    def parse(self, source: SourceFile) -> ParsedRelease[CodeRecord]:
        lines = source.data.decode().splitlines()[1:]
        records = tuple(
            ToyRecord(code, title, billable == "1")
            for code, title, billable in (line.split("|") for line in lines)
        )
        member = SourceMember(source.name, len(source.data), "0" * 64, is_data=True)
        return ParsedRelease(records, "toy", "1", source.name, (member,))

    def decode_record(self, body: str) -> CodeRecord:
        data = json.loads(body)
        return ToyRecord(data["code"], data["title"], data["billable"])

    def stored_columns(self, record: CodeRecord) -> StoredColumns:
        return StoredColumns()

    def infer_label(self, file_name: str) -> str | None:
        found = re.search(r"toy_FY(\d{4})", file_name)
        return f"FY{found[1]}" if found else None

    def parse_label(self, text: str) -> LabelParts:
        match = _LABEL.match(text.strip())
        if not match:
            raise ReleaseError(f"release {text!r} is not a label like FY2024")
        year = int(match["year"])
        issue = int(match["issue"]) if match["issue"] else None
        return LabelParts(f"FY{year}", date(year - 1, 10, 1), "annual", issue)

    def effective_date(self, label: str) -> date:
        return self.parse_label(label).effective_date

    def claim_status(self, record: CodeRecord) -> str | None:
        assert isinstance(record, ToyRecord)
        return None if record.billable else "header, not billable"

    def record_dates(self, record: CodeRecord) -> RecordDates:
        return NO_DATES

    def describe(self, record: CodeRecord) -> str:
        assert isinstance(record, ToyRecord)
        return record.title

    def replaced_by(self, record: CodeRecord) -> tuple[str, ...]:
        return ()

    def family(self, code: str) -> str:
        return code[0]

    @property
    def families(self) -> tuple[str, ...]:
        return tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


TOY: codesets.CodeSet = Toy()

# K is billable throughout; A1 is dropped by FY2025; B1 is new in FY2024; D1 is missing from
# FY2024 and back in FY2025; E1 is a header (not billable).
RELEASES = {
    "FY2023": ["K1|Kept|1", "A1|Dropped later|1", "D1|Gone a year|1", "E1|Header|0"],
    "FY2024": ["K1|Kept|1", "A1|Dropped later|1", "B1|New in 2024|1", "E1|Header|0"],
    "FY2025": ["K1|Kept|1", "B1|New in 2024|1", "D1|Gone a year|1", "E1|Header|0"],
}
FY = {label: date(int(label[2:]) - 1, 10, 1) for label in RELEASES}


@pytest.fixture
def store(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setitem(codesets._REGISTERED, "toy", "not imported:TOY")
    monkeypatch.setitem(codesets._LOADED, "toy", TOY)
    opened = api.open_store(sqlite_url)
    for label, lines in RELEASES.items():
        path = tmp_path / f"toy_{label}.txt"
        path.write_text("TOY\n" + "\n".join(lines) + "\n")
        api.ingest(opened, path)
    api.ingest(opened, SAMPLES / "HCPC2026_JAN_SAMPLE.txt")
    yield opened
    opened.close()


def test_releases_are_stored_and_listed_by_code_set(store: Store) -> None:
    toy = store.releases(code_set="toy")
    assert [(i.code_set, i.label, i.effective_date, i.kind.value) for i in toy] == [
        ("toy", label, FY[label], "annual") for label in RELEASES
    ]
    assert [(i.code_set, i.label) for i in store.releases()] == [("hcpcs", "2026-JAN")]
    assert store.resolve(None, "toy").label == "FY2025"
    assert store.resolve("FY2024#1", "toy").label == "FY2024"
    with pytest.raises(ReleaseError, match="not a label like 2020-APR"):
        store.resolve("FY2024")  # an HCPCS label is asked for by default
    with pytest.raises(ReleaseError, match="release FY2022 is not stored"):
        store.resolve("FY2022", "toy")


def test_a_code_without_end_dates_is_valid_while_releases_carry_it(store: Store) -> None:
    def intervals(code: str) -> list[tuple[date, date | None, Opening, Closure | None]]:
        found = query.code_validity(store, code, code_set="toy")
        return [(i.start, i.end, i.opening, i.closure) for i in found]

    day_before = timedelta(days=1)
    # Carried by the first release stored: known from its effective date, not before (no
    # stored release says what was in force earlier).
    first = FY["FY2023"]
    assert intervals("K1") == [(first, None, Opening.FIRST_STORED, None)]
    assert intervals("a.1") == [
        (first, FY["FY2025"] - day_before, Opening.FIRST_STORED, Closure.REMOVED)
    ]
    assert intervals("B1") == [(FY["FY2024"], None, Opening.ADDED, None)]
    assert intervals("D1") == [
        (first, FY["FY2024"] - day_before, Opening.FIRST_STORED, Closure.REMOVED),
        (FY["FY2025"], None, Opening.RETURNED, None),
    ]
    assert query.code_validity(store, "D1", known_at="FY2024", code_set="toy")[-1].end == (
        FY["FY2024"] - day_before
    )


def test_a_header_is_in_force_but_not_valid_on_claims(store: Store) -> None:
    header = query.code_state(store, "E1", date(2024, 5, 1), code_set="toy")
    assert header.status is query.Status.NOT_BILLABLE
    assert header.claim_status == "header, not billable"
    kept = query.code_state(store, "K1", date(2024, 5, 1), code_set="toy")
    assert (kept.status, kept.claim_status) == (query.Status.ACTIVE, None)
    new = query.code_state(store, "B1", date(2023, 5, 1), code_set="toy")
    assert new.status is query.Status.NOT_YET_EFFECTIVE
    before = query.code_state(store, "K1", FY["FY2023"] - timedelta(days=1), code_set="toy")
    assert before.status is query.Status.NOT_YET_EFFECTIVE
    index = query.CodeIndex.load(store, code_set="toy")
    on = date(2025, 1, 1)
    assert {code: index.state(code, on).status.value for code in index.codes()} == {
        "K1": "active",
        "A1": "removed",
        "B1": "active",
        "D1": "active",
        "E1": "not billable",
    }


def test_retracting_a_release_of_one_code_set_leaves_the_other(store: Store) -> None:
    store.retract("FY2025", "a test retraction", code_set="toy")
    assert [i.label for i in store.current_releases("toy")] == ["FY2023", "FY2024"]
    assert [i.label for i in store.current_releases()] == ["2026-JAN"]
    with pytest.raises(StoreError, match="release 2026-JAN is not retracted"):
        store.reinstate("2026-JAN", "nothing to undo")
