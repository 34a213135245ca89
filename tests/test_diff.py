"""The diff engine: kinds, categories, flags, reconciliation and JSON, small and real."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import CONSECUTIVE_PAIRS, RealReleases

from tests.jsonschema_subset import validate
from tracker.codesets.hcpcs import HCPCS
from tracker.codesets.hcpcs.record import FIELD_NAMES, Record, RecordKind
from tracker.diff import (
    REUSE_SIMILARITY_THRESHOLD,
    Category,
    ChangeKind,
    Direction,
    Flag,
    ReleaseDiff,
    Rule,
    apply_diff,
    description_similarity,
    diff_records,
    diff_snapshots,
    diff_year,
    is_cosmetic,
)
from tracker.errors import ReleaseError
from tracker.jsonout import diff_json
from tracker.release import Snapshot, adhoc_info

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "tracker" / "schemas" / "diff.schema.json"


def rec(code: str = "J0001", **fields: Any) -> Record:
    base: dict[str, Any] = {
        "code": code,
        "kind": RecordKind.MODIFIER if len(code) == 2 else RecordKind.PROCEDURE,
        "long_description": f"Injection, test drug {code}, 1 mg",
        "short_description": f"Inj test {code}",
        "added_date": date(2010, 1, 1),
        "action_effective_date": date(2010, 1, 1),
        "action_code": "N",
    }
    base.update(fields)
    return Record(**base)


# Each field's category as HCPCS's field table gives it.
FIELD_CATEGORIES = {spec.name: Category(spec.category) for spec in HCPCS.fields}


def snap(label: str, *records: Record) -> Snapshot:
    return Snapshot.from_records(adhoc_info(label), records)


def findings_of(diff: ReleaseDiff, code: str) -> set[tuple[Rule, Direction, str]]:
    return {(f.rule, f.direction, f.action) for f in diff.findings_for(code)}


# --- Categories and kinds ----------------------------------------------------------------------


def test_every_field_but_code_has_a_category() -> None:
    assert [spec.name for spec in HCPCS.fields] == [name for name in FIELD_NAMES if name != "code"]
    assert FIELD_CATEGORIES["long_description"] is Category.DESCRIPTION
    assert FIELD_CATEGORIES["kind"] is Category.CLASSIFICATION
    assert FIELD_CATEGORIES["xrefs"] is Category.CROSSWALK
    assert FIELD_CATEGORIES["action_code"] is Category.ACTION


def test_kinds_purge_is_not_termination() -> None:
    old = snap(
        "2020-JAN",
        rec("A0001"),
        rec("A0002"),
        rec("A0003", termination_date=date(2019, 12, 31)),
        rec("A0004"),
        rec("A0005", termination_date=date(2015, 12, 31)),
    )
    new = snap(
        "2020-APR",
        rec("A0002", termination_date=date(2020, 3, 31), action_code="D"),
        rec("A0003", action_code="R"),
        rec("A0004", long_description="Something else entirely, reworded", action_code="C"),
        rec("A0006", added_date=date(2020, 4, 1), action_code="A"),
    )
    diff = diff_snapshots(old, new)
    kinds = {change.code: change.kind for change in diff.changes}
    assert kinds == {
        "A0001": ChangeKind.PURGED,
        "A0002": ChangeKind.TERMINATED,
        "A0003": ChangeKind.REACTIVATED,
        "A0004": ChangeKind.CHANGED,
        "A0005": ChangeKind.PURGED,
        "A0006": ChangeKind.ADDED,
    }
    assert diff.unchanged_count == 0
    assert diff.counts_by_kind()[ChangeKind.PURGED] == 2
    assert diff.counts_by_kind_category()[ChangeKind.TERMINATED][Category.LIFECYCLE] == 1
    # A purged active code is worth a finding; a purged long-terminated one is routine.
    assert findings_of(diff, "A0001") == {(Rule.PURGED_ACTIVE, Direction.SEEN_NOT_DECLARED, "")}
    assert not diff.findings_for("A0005")
    assert not diff.findings_for("A0002")
    assert not diff.findings_for("A0003")
    assert not diff.findings_for("A0006")


def test_unchanged_codes_are_counted_not_listed() -> None:
    same = rec("B0001")
    diff = diff_snapshots(snap("2020-JAN", same), snap("2020-APR", same))
    assert diff.changes == ()
    assert diff.unchanged_count == 1
    assert diff.counts_by_kind()[ChangeKind.UNCHANGED] == 1


def test_different_code_sets_are_refused() -> None:
    other = dataclasses.replace(adhoc_info("2020-APR"), code_set="cpt")
    with pytest.raises(ReleaseError, match="different code sets"):
        diff_snapshots(snap("2020-JAN", rec()), Snapshot.from_records(other, [rec()]))


def test_repeated_fields_report_their_slots() -> None:
    change = diff_records(
        rec(pricing_indicators=("13",), xrefs=("J0002", "J0003"), types_of_service=("1", "2")),
        rec(pricing_indicators=("13", "21"), xrefs=("J0002",), types_of_service=("1", "9")),
    )
    assert change is not None
    items = {fc.field: [(i.index, i.old, i.new) for i in fc.items] for fc in change.fields}
    assert items == {
        "pricing_indicators": [(1, None, "21")],
        "xrefs": [(1, "J0003", None)],
        "types_of_service": [(1, "2", "9")],
    }
    assert change.categories == {Category.PAYMENT, Category.CROSSWALK, Category.CLASSIFICATION}


# --- Flags -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "cosmetic"),
    [
        ("Injection, dalbavancin, 5mg", "Injection, dalbavancin, 5 mg", True),
        ("Hcfa/ord demonstration", "HCFA/ORD Demonstration", True),
        ("Ultrasound, e.g., fetal", "Ultrasound, eg fetal", True),
        ("Fentanyl citrate injeciton", "Fentanyl citrate injection", False),
        ("Same", "Same", False),
    ],
)
def test_is_cosmetic(old: str, new: str, cosmetic: bool) -> None:
    assert is_cosmetic(old, new) is cosmetic


def test_cosmetic_flag_ignores_action_bookkeeping() -> None:
    change = diff_records(
        rec(long_description="Injection, drug, per 5mg"),
        rec(
            long_description="Injection, drug, per 5 mg",
            action_code="C",
            action_effective_date=date(2020, 4, 1),
        ),
    )
    assert change is not None
    assert Flag.COSMETIC in change.flags
    assert change.field("long_description") is not None
    assert Flag.COSMETIC in change.field("long_description").flags  # type: ignore[union-attr]

    mixed = diff_records(
        rec(long_description="Injection, drug, per 5mg"),
        rec(long_description="Injection, drug, per 5 mg", coverage="M"),
    )
    assert mixed is not None and Flag.COSMETIC not in mixed.flags


def test_reused_by_meaning_and_by_added_date() -> None:
    by_meaning = diff_records(
        rec(long_description="Item related to the 2010 oil spill in the gulf of mexico"),
        rec(long_description="Cost-sharing waived for covid-19 testing services"),
    )
    assert by_meaning is not None and Flag.REUSED in by_meaning.flags
    by_date = diff_records(rec(added_date=date(2018, 1, 1)), rec(added_date=date(2018, 4, 1)))
    assert by_date is not None and Flag.REUSED in by_date.flags
    backwards = diff_records(rec(added_date=date(2016, 1, 1)), rec(added_date=date(2015, 11, 2)))
    assert backwards is not None and Flag.REUSED not in backwards.flags
    reworded = diff_records(
        rec(long_description="Screening mammography, producing direct digital image, bilateral"),
        rec(long_description="Screening mammography, bilateral, including cad when performed"),
    )
    assert reworded is not None and Flag.REUSED not in reworded.flags


def test_similarity_ignores_function_words() -> None:
    assert description_similarity("The cat of the house", "A dog of the street") == 0.0
    assert description_similarity("", "") == 1.0
    assert 0 < REUSE_SIMILARITY_THRESHOLD < 0.1


# --- Reconciliation ----------------------------------------------------------------------------


def test_reconciliation_both_directions() -> None:
    old = snap(
        "2020-JAN",
        rec("C0001"),
        rec("C0002"),
        rec("C0003"),
        rec("C0004", coverage="C"),
        rec("C0005"),
        rec("C0006", action_effective_date=date(2003, 1, 1)),
        rec("C0007"),
        rec("C0008", added_date=date(2019, 1, 1)),
    )
    new = snap(
        "2020-APR",
        rec("C0001", action_code="C"),  # declared, nothing changed
        rec("C0002", long_description="Injection, other drug, 2 mg"),  # changed under N
        # C covers the short description that CMS rewrites with the long one.
        rec("C0003", long_description="Injection, x, 2 mg", short_description="X", action_code="C"),
        # B needs both halves: only coverage changed.
        rec("C0004", coverage="M", action_code="B"),
        # Termination under N: one D finding, naming the XREF that came with it.
        rec("C0005", termination_date=date(2020, 3, 31), xrefs=("C0009",)),
        rec("C0006", action_effective_date=date(1990, 1, 1)),  # action date backwards
        rec("C0007", added_date=date(2020, 4, 1), action_code="A"),  # re-added in the window
        rec("C0008", added_date=date(2018, 7, 1)),  # added date moved outside the window
        rec("C0010", added_date=date(2020, 1, 1), action_code="N"),  # new under N
        # Born and retired between the releases: CMS declares D.
        rec(
            "C0011",
            added_date=date(2020, 2, 1),
            termination_date=date(2020, 3, 31),
            action_code="D",
        ),
    )
    diff = diff_snapshots(old, new)
    assert findings_of(diff, "C0001") == {(Rule.NOT_SEEN, Direction.DECLARED_NOT_SEEN, "C")}
    assert findings_of(diff, "C0002") == {(Rule.NOT_DECLARED, Direction.SEEN_NOT_DECLARED, "C")}
    assert findings_of(diff, "C0003") == set()
    assert findings_of(diff, "C0004") == {(Rule.NOT_SEEN, Direction.DECLARED_NOT_SEEN, "B")}
    assert findings_of(diff, "C0005") == {(Rule.NOT_DECLARED, Direction.SEEN_NOT_DECLARED, "D")}
    (c5,) = diff.findings_for("C0005")
    assert "xrefs" in c5.message and c5.observed_actions == {"D", "F"}
    assert findings_of(diff, "C0006") == {
        (Rule.ACTION_DATE_BACKWARDS, Direction.SEEN_NOT_DECLARED, "")
    }
    assert findings_of(diff, "C0007") == set()
    assert findings_of(diff, "C0008") == {(Rule.ADDED_DATE_MOVED, Direction.SEEN_NOT_DECLARED, "")}
    assert findings_of(diff, "C0010") == {(Rule.NOT_DECLARED, Direction.SEEN_NOT_DECLARED, "A")}
    assert findings_of(diff, "C0011") == set()
    assert diff.finding_counts()[(Direction.SEEN_NOT_DECLARED, "C")] == 1


def test_cosmetic_undeclared_change_is_flagged_not_hidden() -> None:
    diff = diff_snapshots(
        snap("2020-JAN", rec(long_description="Injection, per 5mg")),
        snap("2020-APR", rec(long_description="Injection, per 5 mg")),
    )
    (finding,) = diff.findings
    assert finding.action == "C" and Flag.COSMETIC in finding.flags


def test_not_consecutive_means_no_reconciliation() -> None:
    diff = diff_snapshots(
        snap("2018", rec(action_code="N")),
        snap("2020", rec(long_description="Other", action_code="N")),
        reconciling=False,
    )
    assert diff.findings == () and not diff.consecutive and len(diff.changes) == 1


# --- Apply -------------------------------------------------------------------------------------


def test_apply_refuses_a_diff_of_other_records() -> None:
    old, new = rec("D0001"), rec("D0001", coverage="M")
    diff = diff_snapshots(snap("2020-JAN", old), snap("2020-APR", new))
    assert apply_diff({"D0001": old}, diff) == {"D0001": new}
    with pytest.raises(ValueError, match="D0001"):
        apply_diff({"D0001": rec("D0001", coverage="S")}, diff)


# --- Year mode ---------------------------------------------------------------------------------


def test_year_mode_finds_codes_born_and_ended_inside() -> None:
    born = {"added_date": date(2020, 4, 1)}
    ended = {"termination_date": date(2020, 6, 30)}
    jan_code = {"added_date": date(2020, 1, 1)}  # in the year's first release already
    jan = snap(
        "2020-JAN",
        rec("E0001"),
        rec("E0005", **jan_code),
        rec("E0006", added_date=date(2019, 7, 1)),
    )
    apr = snap(
        "2020-APR",
        rec("E0001"),
        rec("E0002", **born),
        rec("E0003", **born),
        rec("E0005", **jan_code),
        rec("E0006", added_date=date(2019, 7, 1)),
    )
    jul = snap(
        "2020-JUL",
        rec("E0001"),
        rec("E0003", **born, **ended),
        rec("E0005", **jan_code, **ended, action_code="D"),
        # Added before the year: retired inside it, but not born there.
        rec("E0006", added_date=date(2019, 7, 1), **ended, action_code="D"),
    )
    oct_ = snap(
        "2020-OCT",
        rec("E0001"),
        rec("E0003", **born, **ended),
        rec("E0004", **born),
        rec("E0005", **jan_code, **ended, action_code="D"),
        rec("E0006", added_date=date(2019, 7, 1), **ended, action_code="D"),
    )
    year = diff_year([oct_, jan, jul, apr])
    assert [info.label for info in year.releases] == [
        "2020-JAN",
        "2020-APR",
        "2020-JUL",
        "2020-OCT",
    ]
    assert len(year.steps) == 3 and all(step.reconciled for step in year.steps)
    # JAN is not OCT's reference (JUL is), and JUL is stored: no findings, nothing missing.
    assert not year.overall.reconciled and year.overall.reconciliation.missing == ()
    assert year.overall.reconciliation.reference == "2020-JUL"
    assert year.missing == ()
    assert {c.code: c.kind for c in year.overall.changes} == {
        "E0003": ChangeKind.ADDED,
        "E0004": ChangeKind.ADDED,
        "E0005": ChangeKind.TERMINATED,
        "E0006": ChangeKind.TERMINATED,
    }
    transient = {t.code: (t.first_seen, t.last_seen, t.ended, t.ended_in) for t in year.transient}
    assert transient == {
        "E0002": ("2020-APR", "2020-APR", ChangeKind.PURGED, "2020-JUL"),
        "E0003": ("2020-APR", "2020-OCT", ChangeKind.TERMINATED, "2020-JUL"),
        "E0005": ("2020-JAN", "2020-OCT", ChangeKind.TERMINATED, "2020-JUL"),
    }
    # Two quarters only: the others are named as missing.
    partial = diff_year([jan, jul])
    assert partial.missing == ("2020-APR", "2020-OCT")
    (step,) = partial.steps
    assert not step.reconciled and step.findings == ()
    assert step.reconciliation.missing == ("2020-APR",)


def test_year_mode_needs_a_release() -> None:
    with pytest.raises(ReleaseError):
        diff_year([])


# --- JSON --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


def test_schema_validator_rejects(schema: dict[str, Any]) -> None:
    diff = diff_snapshots(snap("2020-JAN", rec()), snap("2020-APR", rec(coverage="M")))
    good = diff_json(diff)
    validate(good, schema, schema)
    for mutate in (
        lambda d: d.update(schema_version=2),
        lambda d: d["changes"][0].update(kind="moved"),
        lambda d: d["changes"][0]["fields"][0].update(category="price"),
        lambda d: d.update(surprise=1),
        lambda d: d["old"].pop("label"),
        lambda d: d["findings"][0].update(direction="sideways"),
    ):
        bad = json.loads(json.dumps(good))
        mutate(bad)
        with pytest.raises(AssertionError):
            validate(bad, schema, schema)


def test_to_dict_is_json_and_matches_schema(schema: dict[str, Any]) -> None:
    old = snap("2020-JAN", rec("F0001"), rec("F0002", xrefs=("A",)), rec("F0003"))
    new = snap(
        "2020-APR",
        rec("F0002", xrefs=("A", "B"), termination_date=date(2020, 3, 31), action_code="D"),
        rec("F0003", long_description="per 5 mg", anesthesia_base_units=4, action_code="C"),
        rec("F0004", added_date=date(2020, 4, 1), action_code="A"),
    )
    data = diff_json(diff_snapshots(old, new))
    assert json.loads(json.dumps(data)) == data
    validate(data, schema, schema)
    assert data["schema_version"] == 1
    assert [c["code"] for c in data["changes"]] == ["F0001", "F0002", "F0003", "F0004"]
    assert data["counts"]["by_kind"] == {
        "added": 1,
        "purged": 1,
        "terminated": 1,
        "reactivated": 0,
        "changed": 1,
        "unchanged": 0,
    }


def test_companion_sections_match_schema(schema: dict[str, Any]) -> None:
    from tracker.codesets.hcpcs.corrections import CorrectionsListing
    from tracker.codesets.hcpcs.transreport import compare_with_file

    base = diff_snapshots(snap("2020-JAN", rec()), snap("2020-APR", rec(coverage="M")))
    check = compare_with_file("2020-APR", "r.xlsx", {"F0001": "S", "F0009": "A"}, {"F0001": "F"})
    listing = CorrectionsListing("2020-APR", "c.zip!c.xlsx", "applied", ("not applied: F0002",))
    data = diff_json(dataclasses.replace(base, transaction_report=check, corrections=(listing,)))
    validate(data, schema, schema)
    assert [(d["code"], d["kind"]) for d in data["transaction_report"]["disagreements"]] == [
        ("F0001", "different_action"),
        ("F0009", "not_in_file"),
    ]
    for mutate in (
        lambda d: d["transaction_report"]["disagreements"][0].update(kind="odd"),
        lambda d: d["transaction_report"].pop("codes_listed"),
        lambda d: d["corrections"][0].update(rows="not a list"),
    ):
        bad = json.loads(json.dumps(data))
        mutate(bad)
        with pytest.raises(AssertionError):
            validate(bad, schema, schema)


# --- Real releases -----------------------------------------------------------------------------

PAIR_IDS = [f"{a}->{b}" for a, b in CONSECUTIVE_PAIRS]


def _agrees(letter: str, diff: ReleaseDiff, code: str, old_label: str) -> bool:
    """The brief's table, read independently of the engine: does the change match the letter?

    Only the declared letter's own condition is checked, plus "N means nothing substantive
    changed" (action bookkeeping aside); whatever this simple reading flags must be among the
    engine's findings.
    """
    change = diff.change(code)
    if change is None:
        return letter == "N"
    fields = {fc.field for fc in change.fields} - {"action_code", "action_effective_date"}
    categories = {FIELD_CATEGORIES[name] for name in fields}
    admin = categories & {Category.COVERAGE, Category.REFERENCE, Category.CROSSWALK}
    added_in_window = (
        change.new is not None
        and change.new.added_date is not None
        and diff.old.effective_date < change.new.added_date <= diff.new.effective_date
    )
    table = {
        "A": change.kind is ChangeKind.ADDED or ("added_date" in fields and added_in_window),
        "B": "long_description" in fields and bool(admin),
        "C": "long_description" in fields,
        "S": "short_description" in fields,
        "F": bool(admin),
        "P": Category.PAYMENT in categories,
        "T": Category.CLASSIFICATION in categories,
        "D": change.new is not None and change.new.termination_date is not None,
        "R": change.kind is ChangeKind.REACTIVATED,
        "N": not fields,
    }
    return table[letter]


# Codes CMS left out of its own transaction report although the release file lists them.
MISSING_FROM_REPORT = {"2016": {"DA"}, "2018": {"L1"}}


@pytest.mark.parametrize(("old", "new"), CONSECUTIVE_PAIRS, ids=PAIR_IDS)
def test_transaction_report_agrees_or_is_a_finding(
    real_releases: RealReleases, old: str, new: str
) -> None:
    diff = real_releases.diff(old, new)
    report = real_releases.report(new)
    records = real_releases.records(new)
    assert set(records) - set(report) == MISSING_FROM_REPORT.get(new, set())
    assert set(report) <= set(records)
    flagged = {finding.code for finding in diff.findings}
    unexplained = [
        (code, letter)
        for code, letter in sorted(report.items())
        if not _agrees(letter, diff, code, old) and code not in flagged
    ]
    assert unexplained == []
    # A simple reading also catches "changed more than declared": e.g. C with a payment change.
    for code, letter in report.items():
        change = diff.change(code)
        if change is None or change.kind is ChangeKind.ADDED or letter == "A":
            continue
        substantive = {fc.field for fc in change.fields} - {
            "action_code",
            "action_effective_date",
        }
        declared_fields = {
            "C": {"long_description", "short_description"},
            "S": {"short_description"},
            "N": set(),
        }.get(letter)
        if declared_fields is not None and substantive - declared_fields:
            assert code in flagged, (code, letter, substantive)


@pytest.mark.parametrize(("old", "new"), CONSECUTIVE_PAIRS, ids=PAIR_IDS)
def test_purged_is_never_terminated(real_releases: RealReleases, old: str, new: str) -> None:
    diff = real_releases.diff(old, new)
    old_codes, new_codes = real_releases.records(old), real_releases.records(new)
    for change in diff.changes:
        if change.kind is ChangeKind.PURGED:
            assert change.code in old_codes and change.code not in new_codes
            assert change.new is None and not change.fields
        if change.kind is ChangeKind.TERMINATED:
            assert change.code in new_codes and change.code in old_codes
            assert change.old is not None and change.old.termination_date is None
            assert change.new is not None and change.new.termination_date is not None


def test_2016_to_2017_has_both_purges_and_terminations(real_releases: RealReleases) -> None:
    diff = real_releases.diff("2016", "2017")
    counts = diff.counts_by_kind()
    assert counts[ChangeKind.PURGED] == 98
    assert counts[ChangeKind.TERMINATED] == 158
    purged = {c.code for c in diff.by_kind(ChangeKind.PURGED)}
    terminated = {c.code for c in diff.by_kind(ChangeKind.TERMINATED)}
    assert not purged & terminated
    assert {"C9279", "S3711"} <= purged  # terminated in 2012, dropped from the 2017 file
    assert {"A9544", "A4466"} <= terminated


def _cosmetic_codes(diff: ReleaseDiff) -> set[str]:
    return {c.code for c in diff.changes if Flag.COSMETIC in c.flags}


def _independent_cosmetic(old: dict[str, Record], new: dict[str, Record]) -> set[str]:
    """Codes whose descriptions changed, and only in case/whitespace, by a plain reading."""

    def squash(text: str) -> str:
        return re.sub(r"[\W_]+", "", text.lower())

    out = set()
    for code in old.keys() & new.keys():
        a, b = old[code], new[code]
        pairs = [
            (a.long_description, b.long_description),
            (a.short_description, b.short_description),
        ]
        changed = [(x, y) for x, y in pairs if x != y]
        others = {
            f
            for f in FIELD_NAMES
            if getattr(a, f) != getattr(b, f)
            and f not in ("long_description", "short_description", "action_code")
            and f != "action_effective_date"
        }
        if changed and not others and all(squash(x) == squash(y) for x, y in changed):
            out.add(code)
    return out


def test_cosmetic_changes_2016_to_2017(real_releases: RealReleases) -> None:
    diff = real_releases.diff("2016", "2017")
    cosmetic = _cosmetic_codes(diff)
    assert cosmetic == _independent_cosmetic(
        real_releases.records("2016"), real_releases.records("2017")
    )
    # "5mg" -> "5 mg" (whitespace), case-only rewrites; all declared N by CMS.
    assert {"J0875", "J3302", "J3303", "G9298", "A4720"} <= cosmetic
    j0875 = diff.change("J0875")
    assert j0875 is not None
    assert (j0875.old.long_description, j0875.new.long_description) == (  # type: ignore[union-attr]
        "Injection, dalbavancin, 5mg",
        "Injection, dalbavancin, 5 mg",
    )
    # Real rewordings in the same pair are not cosmetic.
    for code in ("G0202", "J0571", "E0627", "G0300"):
        change = diff.change(code)
        assert change is not None and Flag.COSMETIC not in change.flags
    # Undeclared cosmetic changes are listed, marked cosmetic, apart from real ones.
    by_code = {f.code: f for f in diff.findings if f.action == "C"}
    assert Flag.COSMETIC in by_code["J0875"].flags
    assert Flag.COSMETIC not in by_code["J0571"].flags


def test_cosmetic_changes_2017_to_2018(real_releases: RealReleases) -> None:
    diff = real_releases.diff("2017", "2018")
    # CMS made no case/whitespace/punctuation-only edit in 2018 (the text and workbook agree):
    # its quiet edits were spelling fixes, which are changes, reported and not cosmetic.
    assert _cosmetic_codes(diff) == set()
    assert (
        _independent_cosmetic(real_releases.records("2017"), real_releases.records("2018")) == set()
    )
    for code, name in (
        ("J3010", "short_description"),  # "injeciton" -> "injection"
        ("J3060", "short_description"),  # "taliglucerace" -> "taliglucerase"
        ("G8896", "long_description"),  # "antthrombotic" -> "antithrombotic"
    ):
        change = diff.change(code)
        assert change is not None
        fc = change.field(name)
        assert fc is not None and Flag.COSMETIC not in fc.flags
        assert any(f.direction is Direction.SEEN_NOT_DECLARED for f in diff.findings_for(code))


def test_reused_codes_on_real_pairs(real_releases: RealReleases) -> None:
    reused = {
        (old, new): {c.code for c in real_releases.diff(old, new).changes if Flag.REUSED in c.flags}
        for old, new in CONSECUTIVE_PAIRS
    }
    assert reused == {
        ("2016", "2017"): set(),
        ("2017", "2018"): {"G9637", "G9638"},  # CT dose reports -> high-risk medication orders
        ("2020-JAN", "2020-APR"): {"CS"},  # Gulf oil spill 2010 -> COVID-19 cost sharing
        ("2020-APR", "2020-JUL"): set(),
        ("2020-JUL", "2020-OCT"): set(),
    }
    cs = real_releases.diff("2020-JAN", "2020-APR").change("CS")
    assert cs is not None and cs.old is not None and cs.new is not None
    assert "oil spill" in cs.old.long_description and "covid-19" in cs.new.long_description


def test_reused_with_rewritten_added_date(real_releases: RealReleases) -> None:
    # 2018 -> 2020 is not consecutive (2019 is missing), but the diff still works.
    diff = real_releases.diff("2018", "2020-JAN", consecutive=False)
    for code in ("G9890", "G9891"):
        change = diff.change(code)
        assert change is not None and Flag.REUSED in change.flags
        added = change.field("added_date")
        assert added is not None and Flag.REUSED in added.flags
        assert (added.old, added.new) == (date(2018, 1, 1), date(2018, 4, 1))
    # Heavy but genuine rewordings stay unflagged.
    for old, new, code in (("2016", "2017", "G0202"), ("2017", "2018", "Q6")):
        change = real_releases.diff(old, new).change(code)
        assert change is not None and Flag.REUSED not in change.flags


def test_real_findings_examples(real_releases: RealReleases) -> None:
    d1617 = real_releases.diff("2016", "2017")
    # Terminations set under N (retroactive to 2015-12-31).
    assert findings_of(d1617, "G6030") == {(Rule.NOT_DECLARED, Direction.SEEN_NOT_DECLARED, "D")}
    # Action effective dates going backwards under N.
    assert (Rule.ACTION_DATE_BACKWARDS, Direction.SEEN_NOT_DECLARED, "") in findings_of(
        d1617, "A0130"
    )
    # Added date moved backwards (not a reuse) under N.
    assert (Rule.ADDED_DATE_MOVED, Direction.SEEN_NOT_DECLARED, "") in findings_of(d1617, "G0299")
    # Active codes that vanished.
    assert {f.code for f in d1617.findings if f.rule is Rule.PURGED_ACTIVE} == {"G0298", "G9668"}
    # C declared along with a payment change.
    assert findings_of(d1617, "G0202") == {(Rule.NOT_DECLARED, Direction.SEEN_NOT_DECLARED, "P")}
    # Born and retired during 2016, listed in 2017 under D: no finding.
    assert not d1617.findings_for("C9137")
    d_oct = real_releases.diff("2020-JUL", "2020-OCT")
    assert {(f.code, f.declared, f.action) for f in d_oct.findings} == {
        ("A4226", "F", "P"),
        ("E0787", "F", "P"),
    }
    d_jul = real_releases.diff("2020-APR", "2020-JUL")
    assert [(f.code, f.rule) for f in d_jul.findings] == [("C9058", Rule.ADDED_DATE_MOVED)]


@pytest.mark.parametrize(("old", "new"), CONSECUTIVE_PAIRS, ids=PAIR_IDS)
def test_real_json_matches_schema(
    real_releases: RealReleases, schema: dict[str, Any], old: str, new: str
) -> None:
    data = diff_json(real_releases.diff(old, new))
    validate(json.loads(json.dumps(data)), schema, schema)


def test_real_year_2020(real_releases: RealReleases) -> None:
    labels = ["2020-JAN", "2020-APR", "2020-JUL", "2020-OCT"]
    year = diff_year([real_releases.snapshot(label) for label in labels])
    assert len(year.steps) == 3
    # Codes born in a quarter and discontinued by a later one, and codes added on 2020-01-01
    # (already in the year's first release) and discontinued during the year. C9058's added
    # date was rewritten from 2020-04-01 back to 2019-11-15: by the latest record it was not
    # born in 2020 (tests/codesets/hcpcs/test_calendar.py reads all of this from the raw files).
    assert {(t.code, t.first_seen, t.ended_in) for t in year.transient} == {
        ("C9053", "2020-APR", "2020-JUL"),
        ("C9056", "2020-APR", "2020-JUL"),
        ("C9057", "2020-APR", "2020-JUL"),
        ("C9059", "2020-JUL", "2020-OCT"),
        ("C9061", "2020-JUL", "2020-OCT"),
        ("C9063", "2020-JUL", "2020-OCT"),
        ("C9054", "2020-JAN", "2020-JUL"),
        ("C9055", "2020-JAN", "2020-OCT"),
        ("G1000", "2020-JAN", "2020-APR"),
        ("J9199", "2020-JAN", "2020-JUL"),
    }
    assert all(t.ended is ChangeKind.TERMINATED for t in year.transient)
