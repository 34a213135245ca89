"""Consecutive releases compared, and held against CDC's summary and the addenda lines.

Expected numbers are read from the addenda in the test with plain splits, never taken from
the library's own parse of them.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

import pytest

from tracker.codesets.icd10.compare import (
    check_summary,
    compare,
    events,
    reconcile,
    section_counts,
)

from .conftest import CM_SEQUENCE, PCS_SEQUENCE, Loaded

PAIRS = [*pairwise(CM_SEQUENCE), *pairwise(PCS_SEQUENCE)]
# The errata's addenda have no summary; its two lines are checked in `test_errata_*`.
SUMMARY_PAIRS = [pair for pair in PAIRS if pair[1] != "cms_2022_errata.zip"]


def _plain_summary(text: str) -> dict[str, dict[str, int | str]]:
    """{"Codes": {...}, "Headers": {...}} read line by line with split()."""
    sections: dict[str, dict[str, int | str]] = {}
    current: dict[str, int | str] | None = None
    for line in text.splitlines():
        words = line.split()
        if line.strip() in ("Codes", "Headers"):
            current = sections.setdefault(line.strip(), {})
        elif current is not None and words and words[0].isdigit():
            rest = " ".join(words[1:])
            if " in " in rest:
                key = "from" if "from" not in current else "to"
                current[key] = int(words[0])
                current[key + "_file"] = words[-1]
            else:
                current[rest] = int(words[0])
    return sections


def _plain_lines(text: str, cm: bool) -> dict[str, set[tuple[str, str]]]:
    """{action: {(code, flag)}} from Add:/Delete:/Revise to: lines (PCS lines have no flag)."""
    found: dict[str, set[tuple[str, str]]] = {"Add:": set(), "Delete:": set(), "Revise": set()}
    for line in text.splitlines():
        words = line.split()
        if not words or words[0] not in ("Add:", "Delete:", "Revise"):
            continue
        if words[0] == "Revise":
            if words[1] != "to:":
                continue
            words = words[1:]
        flag, code = (words[1], words[2]) if cm else ("", words[1])
        found[words[0] if words[0] != "to:" else "Revise"].add((code, flag))
    return found


@pytest.mark.parametrize(("old_name", "new_name"), SUMMARY_PAIRS)
def test_counts_against_cdc_summary(
    old_name: str, new_name: str, icd10_release: Callable[[str], Loaded]
) -> None:
    old, new = icd10_release(old_name), icd10_release(new_name)
    text = (new.archive.addenda_data or b"").decode("ascii")
    plain = _plain_summary(text)
    assert plain and new.addenda.summary is not None
    check = check_summary(new.addenda.summary, old.order.records, new.order.records)
    base_stored = plain["Codes"]["from"] == old.order.billable_count
    if base_stored:
        assert check.comparable and check.agrees, check.mismatches
        for section, billable in (("Codes", True), ("Headers", False)):
            seen = section_counts(old.order.records, new.order.records, billable)
            declared = plain[section]
            assert (seen.before, seen.after) == (declared["from"], declared["to"])
            assert seen.additions == declared["additions"]
            assert seen.deletions == declared["deletions"]
            assert seen.revisions == declared["revisions"]
            assert seen.both_titles == declared["revisions to both long and short titles"]
            assert seen.long_only == declared["revisions to long title only"]
            assert seen.short_only == declared["revisions to short title only"]
    else:
        # The addenda count from a version that is not stored: the mismatch is said, not hidden.
        assert not check.comparable
        assert str(plain["Codes"]["from_file"]) in check.reason
        assert "not stored" in check.reason
        assert check.mismatches  # the counts do differ, and each difference is listed


@pytest.mark.parametrize(("old_name", "new_name"), PAIRS)
def test_reconciliation_against_addenda_lines(
    old_name: str, new_name: str, icd10_release: Callable[[str], Loaded]
) -> None:
    old, new = icd10_release(old_name), icd10_release(new_name)
    cm = new.order.code_set == "icd10cm"
    text = (new.archive.addenda_data or b"").decode("ascii")
    lines = _plain_lines(text, cm)
    plain = _plain_summary(text)
    seen = {(event.action, event.code) for event in events(old.order.records, new.order.records)}
    result = reconcile(new.addenda, old.order.records, new.order.records)
    declared = {("add", c) for c, _ in lines["Add:"]} | {("delete", c) for c, _ in lines["Delete:"]}
    declared |= {("revise", c) for c, _ in lines["Revise"]}
    base_stored = not plain or plain["Codes"]["from"] == old.order.billable_count
    if base_stored:
        assert seen == declared
        assert result.clean, (result.declared_not_seen[:3], result.seen_not_declared[:3])
    else:
        # Over a longer span the files show more than declared; what is declared and not seen
        # can only be a revision of a code added in the version that is not stored.
        added = {code for action, code in seen if action == "add"}
        for entry in result.declared_not_seen:
            assert entry.action == "revise" and entry.code in added, entry
        assert result.seen_not_declared
    if cm:
        for code, flag in lines["Add:"]:
            if ("add", code) in seen:
                assert new.order.records[code].billable == (flag == "1")


def test_errata_adds_exactly_two_codes(icd10_release: Callable[[str], Loaded]) -> None:
    april, errata = icd10_release("cms_2022_pr.zip"), icd10_release("cms_2022_errata.zip")
    changes = compare(april.order.records, errata.order.records)
    assert set(changes) == {"XW023X7", "XW023Y7"}
    assert all(change.kinds == {"added"} for change in changes.values())
    text = (errata.archive.addenda_data or b"").decode("ascii")
    assert {line.split()[1] for line in text.splitlines() if line.startswith("Add:")} == set(
        changes
    )
    assert reconcile(errata.addenda, april.order.records, errata.order.records).clean


def test_billable_to_header_in_april_2022(icd10_release: Callable[[str], Loaded]) -> None:
    # Z28.3 became a header in April 2022 (README); FY2021-JAN is the release before it here.
    old, new = icd10_release("cms_2021_dx.zip"), icd10_release("cms_2022_dx.zip")
    raw_old = {line[6:13].strip(): line[14] for line in old.raw_order.decode().splitlines()}
    raw_new = {line[6:13].strip(): line[14] for line in new.raw_order.decode().splitlines()}
    assert (raw_old["Z283"], raw_new["Z283"]) == ("1", "0")
    change = compare(old.order.records, new.order.records)["Z283"]
    assert change.kinds == {"billable_to_header"}
