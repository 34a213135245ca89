"""Consecutive releases diffed through the shared diff, held against the addenda of the newer.

Every consecutive pair of shared/icd10, per code set, in the order they took effect (the
January 2021 and April 2023 versions and the PCS errata included). Expected numbers are read
in the test from the raw files with plain splits and slices (the addenda's summary and lines,
the order files' flags), never from the library's own parse of them.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

import pytest

from tracker.codesets.icd10.archive import announcement_text
from tracker.codesets.icd10.version import infer_version
from tracker.diff import ChangeKind, ReleaseDiff, diff_snapshots
from tracker.release import Snapshot, adhoc_info

from .conftest import CM_SEQUENCE, PCS_SEQUENCE, Loaded

PAIRS = [*pairwise(CM_SEQUENCE), *pairwise(PCS_SEQUENCE)]
SEQUENCES = {"icd10cm": CM_SEQUENCE, "icd10pcs": PCS_SEQUENCE}


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


def _plain_lines(text: str, cm: bool) -> set[tuple[str, str]]:
    """{(action, code)} from the Add:/Delete:/Revise to: lines (PCS lines have no flag)."""
    found: set[tuple[str, str]] = set()
    for line in text.splitlines():
        words = line.split()
        if not words or words[0] not in ("Add:", "Delete:", "Revise"):
            continue
        if words[0] == "Revise":
            if words[1] != "to:":
                continue
            words = words[1:]
        code = words[2] if cm else words[1]
        found.add(({"Add:": "add", "Delete:": "delete", "to:": "revise"}[words[0]], code))
    return found


def _raw_flags(raw: bytes) -> dict[str, str]:
    """code -> flag, sliced from the order file's fixed columns (README's layout)."""
    return {line[6:13].strip(): line[14] for line in raw.decode("ascii").splitlines() if line}


_SNAPSHOTS: dict[str, Snapshot] = {}


def snapshot(name: str, loaded: Loaded) -> Snapshot:
    """The release as an in-memory snapshot, labelled by the version its content names."""
    if name not in _SNAPSHOTS:
        archive = loaded.archive
        version = infer_version(
            archive.order_name,
            loaded.addenda.summary,
            loaded.path.name,
            archive.member_names,
            announcement_text(archive.announcement_data) if archive.announcement_data else None,
        )
        info = adhoc_info(version.label, version.effective, code_set=loaded.order.code_set)
        _SNAPSHOTS[name] = Snapshot.from_records(info, loaded.order.records.values())
    return _SNAPSHOTS[name]


def diff_pair(
    old_name: str, new_name: str, load: Callable[[str], Loaded]
) -> tuple[ReleaseDiff, Loaded, Loaded]:
    old, new = load(old_name), load(new_name)
    stored = {snapshot(n, load(n)).info.label for n in SEQUENCES[new.order.code_set]}
    result = diff_snapshots(
        snapshot(old_name, old), snapshot(new_name, new), declared=new.addenda, stored=stored
    )
    return result, old, new


def _seen(result: ReleaseDiff) -> set[tuple[str, str]]:
    """The diff in the addenda's terms, written out here: a flag switch is a delete and an add."""
    seen: set[tuple[str, str]] = set()
    for change in result.changes:
        if change.kind is ChangeKind.ADDED:
            seen.add(("add", change.code))
        elif change.kind is ChangeKind.DELETED:
            seen.add(("delete", change.code))
        elif change.field("billable") is not None:
            seen |= {("delete", change.code), ("add", change.code)}
        else:
            seen.add(("revise", change.code))
    return seen


@pytest.mark.parametrize(("old_name", "new_name"), PAIRS)
def test_diff_against_the_addenda(
    old_name: str, new_name: str, icd10_release: Callable[[str], Loaded]
) -> None:
    result, old, new = diff_pair(old_name, new_name, icd10_release)
    cm = new.order.code_set == "icd10cm"
    text = (new.archive.addenda_data or b"").decode("ascii")
    plain = _plain_summary(text)
    lines = _plain_lines(text, cm)
    old_flags, new_flags = _raw_flags(old.raw_order), _raw_flags(new.raw_order)

    # The diff's kinds, against sets of codes sliced from the two order files.
    counts = result.counts_by_kind()
    assert counts[ChangeKind.ADDED] == len(new_flags.keys() - old_flags.keys())
    assert counts[ChangeKind.DELETED] == len(old_flags.keys() - new_flags.keys())
    switched = {c for c in old_flags.keys() & new_flags.keys() if old_flags[c] != new_flags[c]}
    assert {c.code for c in result.changes if c.field("billable") is not None} == switched

    check = result.addenda
    assert check is not None
    if not plain:
        # The errata: no summary; its lines list what it adds to the version it corrects.
        assert result.reconciled and result.reconciliation.reference == result.old.label
        assert _seen(result) == lines and not result.findings and check.agrees
        return
    base = plain["Codes"]["from"] == sum(flag == "1" for flag in old_flags.values()) and plain[
        "Headers"
    ]["from"] == sum(flag == "0" for flag in old_flags.values())
    if base:
        # The addenda describe the changes since the old release: lines and counts agree.
        assert result.reconciled, result.reconciliation.reason
        assert _seen(result) == lines
        assert result.findings == (), result.findings[:3]
        for section in check.sections:
            declared = plain["Codes" if section.section == "codes" else "Headers"]
            assert section.observed == {
                "additions": declared["additions"],
                "deletions": declared["deletions"],
                "revisions": declared["revisions"],
                "both_titles": declared["revisions to both long and short titles"],
                "long_only": declared["revisions to long title only"],
                "short_only": declared["revisions to short title only"],
            }
        assert check.agrees
    else:
        # They count from a version that is not stored: the diff says which and why, and
        # reports no findings; the counts do differ, and are shown as such.
        reason = result.reconciliation.reason
        assert not result.reconciled and not result.findings
        assert str(plain["Codes"]["from_file"]) in reason and "is not stored" in reason
        assert result.reconciliation.missing == (result.reconciliation.reference,)
        assert result.reconciliation.reference not in {result.old.label, ""}
        assert not check.comparable and not check.agrees
        assert _seen(result) != lines


def test_pairs_that_reconcile_are_the_expected_ones(
    icd10_release: Callable[[str], Loaded],
) -> None:
    """Which pairs the addenda describe, as the summaries' first lines say (see the README:
    the January 2021 CM addenda count from FY2020, the April versions from the October one)."""
    reconciled = {
        (old_name, new_name)
        for old_name, new_name in PAIRS
        if diff_pair(old_name, new_name, icd10_release)[0].reconciled
    }
    assert reconciled == {
        ("cms_2019_dx.zip", "cms_2020_dx.zip"),
        ("cms_2020_dx.zip", "cms_2021_dx.zip"),
        ("cms_2019_pr.zip", "cms_2020_pr.zip"),
        ("cms_2020_pr.zip", "cms_2021_pr.zip"),
        ("cms_2022_pr.zip", "cms_2022_errata.zip"),
    }


def test_billable_to_header_in_april_2022(icd10_release: Callable[[str], Loaded]) -> None:
    # Z28.3 became a header in April 2022 (README); FY2021-JAN is the release before it here.
    result, old, new = diff_pair("cms_2021_dx.zip", "cms_2022_dx.zip", icd10_release)
    assert (_raw_flags(old.raw_order)["Z283"], _raw_flags(new.raw_order)["Z283"]) == ("1", "0")
    change = result.change("Z283")
    assert change is not None and change.kind is ChangeKind.CHANGED
    billable = change.field("billable")
    assert billable is not None and (billable.old, billable.new) == (True, False)
    assert billable.category.value == "status"
