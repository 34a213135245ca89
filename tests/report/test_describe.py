"""How values read in a report (`tracker.report.describe`): blanks, coded values, releases, and
replacement codes described in one batch of lookups."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import date

from tracker.codesets.hcpcs.record import Record
from tracker.diff import diff_snapshots
from tracker.release import Snapshot, adhoc_info
from tracker.report.describe import (
    NONE_TEXT,
    Describer,
    describer_for,
    field_values,
    release_view,
    value_text,
    xref_codes,
)
from tracker.report.views import Replacement, Value

from .conftest import rec, snap

OLD = snap("2026-JAN", rec("E0100"), rec("E0101"), rec("E0102"))
NEW = snap(
    "2026-APR",
    rec("E0100", termination_date=date(2026, 3, 31), xrefs=("E0200", "E0201"), action_code="D"),
    rec("E0101", xrefs=("E0201", "E0202"), action_code="C"),
    rec("E0102", short_description="Changed", action_code="C"),
)
DIFF = diff_snapshots(OLD, NEW)


class CountingRelease:
    """A release whose record lookups are counted, as a store's would cost a query each."""

    def __init__(self, records: Iterable[Record]) -> None:
        self.calls: list[list[str]] = []
        inner = Snapshot.from_records(adhoc_info("2026-APR"), records)

        def load(codes: Iterable[str]) -> Mapping[str, Record]:
            wanted = list(codes)
            self.calls.append(wanted)
            return inner.records(wanted)

        self.snapshot = dataclasses.replace(inner, loader=load)


def test_replacement_codes_are_looked_up_once_in_one_batch() -> None:
    release = CountingRelease([rec("E0200", long_description="Cane, quad"), rec("E0201")])
    describer = describer_for(release.snapshot, DIFF.changes, also=["E0300", ""])
    assert release.calls == [["E0200", "E0201", "E0202", "E0300"]]
    assert describer.replacements(("E0200", "E0202", "", "E0101")) == (
        Replacement("E0200", "Cane, quad", True),
        Replacement("E0202", "not in 2026-APR", False),
        Replacement("E0101", "Sample item E0101", True),  # a code of the diff itself
    )
    assert len(release.calls) == 1  # describing reads nothing more


def test_without_a_release_unknown_codes_say_so() -> None:
    describer = Describer(None, DIFF.changes)
    describer.prefetch(["E0200"])  # nothing to ask
    assert describer.replacements(("E0200", "E0102")) == (
        Replacement("E0200", "description not loaded", False),
        Replacement("E0102", "Sample item E0102", True),
    )


def test_xref_codes_of_old_and_new_records() -> None:
    changed = snap("2026-JUL", rec("E0101", xrefs=("E0203",), action_code="C"))
    diff = diff_snapshots(snap("2026-APR", rec("E0101", xrefs=("E0201",))), changed)
    assert xref_codes(diff.changes) == {"E0201", "E0203"}
    assert xref_codes(DIFF.changes) == {"E0200", "E0201", "E0202"}


def test_coded_values_carry_their_cms_meaning() -> None:
    describer = Describer(None, ())
    (value,) = field_values("coverage", "S", describer)
    assert value.text == "S" and "Non-covered by Medicare statute" in value.meaning
    assert field_values("coverage", "Z", describer) == (Value("Z", "(not in the CMS code table)"),)
    # Values with no code table are shown as written.
    assert field_values("statute", "1861(s)(2)", describer) == (Value("1861(s)(2)", ""),)


def test_blank_and_repeated_values() -> None:
    describer = Describer(None, ())
    assert field_values("coverage", None, describer) == (Value(NONE_TEXT, ""),)
    assert field_values("coverage", "", describer, empty="") == (Value("", ""),)
    assert field_values("cim_references", (), describer) == (Value(NONE_TEXT, ""),)
    assert [v.text for v in field_values("cim_references", ("60-9", "60-14"), describer)] == [
        "60-9",
        "60-14",
    ]
    assert field_values("added_date", date(2026, 4, 1), describer) == (Value("2026-04-01", ""),)


def test_xrefs_are_described_as_codes() -> None:
    describer = Describer(None, DIFF.changes)
    assert field_values("xrefs", ("E0101", "E0999"), describer) == (
        Value("E0101", "Sample item E0101"),
        Value("E0999", "description not loaded"),
    )
    assert field_values("xrefs", (), describer, empty="") == (Value("", ""),)


def test_value_text() -> None:
    assert value_text(None) == NONE_TEXT and value_text("") == NONE_TEXT
    assert value_text(date(2026, 1, 1)) == "2026-01-01"
    assert value_text(0) == "0"


def test_release_header_marks_what_is_not_known() -> None:
    header = release_view(adhoc_info("2026-APR"))
    assert (header.display, header.effective_date) == ("2026-APR", "2026-04-01")
    assert header.source_name == header.source_sha256 == header.parser == NONE_TEXT
    assert header.version_marker == "" and header.anomalies == ()
