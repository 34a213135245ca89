"""Small files the tests write: records, bad order files, unsafe zips, addenda, comparisons."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tracker.codesets.icd10.addenda import parse_addenda
from tracker.codesets.icd10.archive import read_archive
from tracker.codesets.icd10.compare import compare, section_counts
from tracker.codesets.icd10.orderfile import parse_order_file
from tracker.codesets.icd10.record import Icd10Record, display_code, normalize_code
from tracker.codesets.icd10.release import read_release
from tracker.diff import Direction, Flag, Rule, diff_snapshots
from tracker.errors import ParseError, SourceError
from tracker.release import ReleaseInfo, Snapshot, adhoc_info


def line(order: int, code: str, flag: str, short: str, long: str) -> str:
    """One order-file line in CMS's layout (order 1-5, code 7-13, flag 15, titles 17, 78)."""
    return f"{order:05d} {code:<7} {flag} {short:<60} {long}"


CM_LINES = [
    line(1, "E11", "0", "Type 2 diabetes mellitus", "Type 2 diabetes mellitus"),
    line(2, "E119", "1", "Type 2 diabetes mellitus without complications",
         "Type 2 diabetes mellitus without complications"),
    line(3, "Z283", "1", "Underimmunization status", "Underimmunization status"),
]  # fmt: skip


def cm_file(lines: list[str], newline: str = "\r\n") -> bytes:
    return (newline.join(lines) + newline).encode("ascii")


# --- record ---------------------------------------------------------------------------------


def test_display_and_normalize() -> None:
    assert display_code("E119", "icd10cm") == "E11.9"
    assert display_code("E11", "icd10cm") == "E11"
    assert display_code("0016070", "icd10pcs") == "0016070"
    for typed in ("E11.9", "e119", " e11.9 ", "E119"):
        assert normalize_code(typed, "icd10cm") == "E119"
    assert normalize_code("0016070 ", "icd10pcs") == "0016070"
    for bad in ("E1.19", "E11-9", "", "119", "E11.9.1"):
        with pytest.raises(SourceError):
            normalize_code(bad, "icd10cm")
    with pytest.raises(SourceError):
        normalize_code("001.6070", "icd10pcs")


def test_canonical_json_round_trip_and_hash() -> None:
    record = Icd10Record("icd10cm", "E119", True, "Type 2 DM", "Type 2 diabetes mellitus")
    text = record.canonical_json()
    assert text == (
        '{"billable":true,"code":"E119","code_set":"icd10cm",'
        '"long_title":"Type 2 diabetes mellitus","short_title":"Type 2 DM"}'
    )
    assert Icd10Record.from_json(text) == record
    same = Icd10Record("icd10cm", "E119", True, "Type 2 DM", "Type 2 diabetes mellitus")
    assert same.content_hash() == record.content_hash()
    other = Icd10Record("icd10cm", "E119", False, "Type 2 DM", "Type 2 diabetes mellitus")
    assert other.content_hash() != record.content_hash()
    assert record.display_code() == "E11.9"
    with pytest.raises(SourceError):
        Icd10Record.from_json(text.replace("}", ',"order":1}'))


# --- order file -----------------------------------------------------------------------------


def test_written_file_parses_with_lf_and_crlf() -> None:
    for newline in ("\r\n", "\n"):
        parsed = parse_order_file("icd10cm_order_2030.txt", cm_file(CM_LINES, newline))
        assert parsed.code_set == "icd10cm"
        assert list(parsed.records) == ["E11", "E119", "Z283"]
        assert (
            parsed.records["E119"].short_title == "Type 2 diabetes mellitus without complications"
        )


@pytest.mark.parametrize(
    ("broken", "problem"),
    [
        (line(2, "E119", "2", "Short", "Long"), "flag '2' of E119 is neither 1 nor 0"),
        (line(2, "", "1", "Short", "Long"), "blank code"),
        ("00002 E119    1 Short title only", "shorter than the layout"),
        (line(2, "E11", "1", "Short", "Long"), "code E11 appears twice"),
        (line(2, "E1-9", "1", "Short", "Long"), "is not upper-case letters and digits"),
        (line(2, "119", "1", "Short", "Long"), "code 119 is not an ICD-10-CM code"),
        ("0000A " + line(2, "E119", "1", "Short", "Long")[6:], "order number"),
        ("0 002 " + line(2, "E119", "1", "Short", "Long")[6:], "order number '0 002'"),
    ],
)
def test_bad_line_gives_one_line_error(broken: str, problem: str) -> None:
    lines = [CM_LINES[0], broken, CM_LINES[2]]
    with pytest.raises(ParseError) as caught:
        parse_order_file("icd10cm_order_2030.txt", cm_file(lines), "icd10cm")
    message = str(caught.value)
    assert message.startswith("icd10cm_order_2030.txt:2: ")
    assert problem in message
    assert "\n" not in message


def test_non_ascii_byte_names_its_line() -> None:
    data = cm_file(CM_LINES).replace(b"Underimmunization", b"Under\xe9mmunization")
    with pytest.raises(ParseError, match=r"^icd10cm_order_2030\.txt:3: byte 0xe9 is not ASCII$"):
        parse_order_file("icd10cm_order_2030.txt", data)


def test_pcs_billable_code_must_be_seven_characters() -> None:
    lines = [line(1, "001", "0", "Bypass", "Bypass"), line(2, "00160", "1", "Short", "Long")]
    with pytest.raises(ParseError, match=r":2: billable code 00160 is not 7 characters"):
        parse_order_file("icd10pcs_order_2030.txt", cm_file(lines))


# --- zip ------------------------------------------------------------------------------------


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_zip_finds_members_in_any_folder(tmp_path: Path) -> None:
    folder = "Zip File 5 2030 ICD-10-CM (Long and Abbreviated Titles)/"
    path = _zip(
        tmp_path / "release.zip",
        {
            folder + "icd10cm_order_2030.txt": cm_file(CM_LINES),
            folder + "icd10cm_order_addenda_2030.txt": b"Add:         1 E119    Short  Long\r\n",
            folder + "icd10OrderFiles.pdf": b"%PDF-1.4",
            "notes.docx": b"not really a docx",
        },
    )
    archive = read_archive(path)
    assert archive.order_name == folder + "icd10cm_order_2030.txt"
    assert archive.addenda_name == folder + "icd10cm_order_addenda_2030.txt"
    assert len(archive.members) == 4
    assert all(len(member.sha256) == 64 for member in archive.members)


@pytest.mark.parametrize("member", ["../icd10cm_order_2030.txt", "/tmp/icd10cm_order_2030.txt"])
def test_unsafe_member_is_refused(tmp_path: Path, member: str) -> None:
    path = _zip(tmp_path / "bad.zip", {member: cm_file(CM_LINES)})
    with pytest.raises(SourceError) as caught:
        read_archive(path)
    assert str(caught.value) == f"{path}: member {member!r} has an unsafe path"


def test_oversized_member_is_refused(tmp_path: Path) -> None:
    path = _zip(tmp_path / "big.zip", {"icd10cm_order_2030.txt": cm_file(CM_LINES)})
    with pytest.raises(
        SourceError, match=r"^.*big\.zip: member 'icd10cm_order_2030\.txt' is \d+ bytes, over"
    ):
        read_archive(path, max_member_bytes=100)


def test_zip_without_or_with_two_order_files(tmp_path: Path) -> None:
    empty = _zip(tmp_path / "empty.zip", {"readme.pdf": b"%PDF"})
    with pytest.raises(SourceError, match=r"holds no icd10cm_order_YYYY\.txt"):
        read_archive(empty)
    two = _zip(
        tmp_path / "two.zip",
        {"a/icd10cm_order_2030.txt": b"x", "b/icd10cm_order_2030.txt": b"x"},
    )
    with pytest.raises(SourceError, match="more than one order file"):
        read_archive(two)


# --- addenda and comparison -----------------------------------------------------------------


def addenda_line(action: str, flag: str, code: str, short: str, long: str) -> str:
    """A CM order-addenda line: action in 13 columns, flag, code in 7, titles as in order files."""
    return f"{action:<13}{flag} {code:<7} {short:<60} {long}"


ADDENDA = "\r\n".join(
    [
        addenda_line("Revise from:", "1", "E119", "Type 2 DM", "Type 2 DM"),
        addenda_line(
            "Revise to:", "1", "E119", *["Type 2 diabetes mellitus without complications"] * 2
        ),
        addenda_line(
            "Delete:", "1", "Z283", "Underimmunization status", "Underimmunization status"
        ),
        addenda_line("Add:", "0", "Z283", "Underimmunization status", "Underimmunization status"),
        addenda_line("Add:", "1", "Z2839", *["Other underimmunization status"] * 2),
    ]
)


def test_addenda_and_reconciliation_both_ways() -> None:
    old_lines = [
        CM_LINES[0],
        line(2, "E119", "1", "Type 2 DM", "Type 2 DM"),
        CM_LINES[2],
    ]
    new_lines = [
        CM_LINES[0],
        CM_LINES[1],
        line(3, "Z283", "0", "Underimmunization status", "Underimmunization status"),
        line(4, "Z2839", "1", "Other underimmunization status", "Other underimmunization status"),
        line(5, "Z2840", "1", "Undeclared", "Undeclared"),
    ]
    old = parse_order_file("icd10cm_order_2030.txt", cm_file(old_lines)).records
    new = parse_order_file("icd10cm_order_2031.txt", cm_file(new_lines)).records
    addenda = parse_addenda("icd10cm_order_addenda_2031.txt", ADDENDA.encode())
    assert [entry.action for entry in addenda.entries] == ["revise", "delete", "add", "add"]
    diff = diff_snapshots(
        Snapshot.from_records(adhoc_info("FY2030", code_set="icd10cm"), old.values()),
        Snapshot.from_records(adhoc_info("FY2031", code_set="icd10cm"), new.values()),
        declared=addenda,
    )
    # No summary names the version the lines count from: they are still counted, not checked.
    assert not diff.reconciled and "no summary" in diff.reconciliation.reason
    assert diff.addenda is not None
    assert diff.addenda.declared == {"add": 2, "delete": 1, "revise": 1}
    assert diff.addenda.observed == {"add": 3, "delete": 1, "revise": 1}
    changes = compare(old, new)
    assert changes["Z283"].kinds == {"billable_to_header"}
    assert changes["E119"].kinds == {"long_title_revised", "short_title_revised"}
    codes = section_counts(old, new, billable=True)
    assert (codes.additions, codes.deletions, codes.revisions) == (2, 1, 1)


def test_cosmetic_title_change_is_flagged() -> None:
    old = {"E119": Icd10Record("icd10cm", "E119", True, "Type 2 DM, w/o comp", "Type 2 DM")}
    new = {"E119": Icd10Record("icd10cm", "E119", True, "type 2 DM w/o comp", "Type 2 DM")}
    change = compare(old, new)["E119"]
    assert change.kinds == {"short_title_revised"} and change.short_cosmetic
    worded = {"E119": Icd10Record("icd10cm", "E119", True, "Type 2 DM w comp", "Type 2 DM")}
    assert not compare(old, worded)["E119"].short_cosmetic


def test_revise_from_without_to_is_refused() -> None:
    with pytest.raises(ParseError, match=r"^addenda\.txt:1: 'Revise from:' of E119 has no"):
        parse_addenda("addenda.txt", ADDENDA.split("\r\n")[0].encode())


# --- release --------------------------------------------------------------------------------


def test_read_release_of_loose_file_and_zip(tmp_path: Path) -> None:
    loose = tmp_path / "icd10cm_order_2030.txt"
    loose.write_bytes(cm_file(CM_LINES))
    release = read_release(loose)
    assert (release.code_set, release.version.label) == ("icd10cm", "FY2030")
    assert release.members[0].size == loose.stat().st_size
    with pytest.raises(SourceError, match=r"holds icd10cm codes, not icd10pcs$"):
        read_release(loose, code_set="icd10pcs")
    folder = "2030 Code Descriptions/"
    same = "      2 codes in icd10cm_order_2030.txt"
    summary = "\r\n".join(["", "Codes", same, same, "      0 additions"])
    path = _zip(
        tmp_path / "release.zip",
        {
            folder + "icd10cm_order_2030.txt": cm_file(CM_LINES),
            folder + "icd10cm_order_addenda_2030.txt": summary.encode(),
        },
    )
    release = read_release(path)
    assert (release.version.label, str(release.version.effective)) == ("FY2030-APR", "2030-04-01")


def test_bad_line_inside_a_zip_names_zip_and_member(tmp_path: Path) -> None:
    broken = [CM_LINES[0], line(2, "E119", "x", "Short", "Long")]
    path = _zip(tmp_path / "r.zip", {"d/icd10cm_order_2030.txt": cm_file(broken)})
    with pytest.raises(ParseError) as caught:
        read_release(path)
    assert (
        str(caught.value)
        == f"{path}!d/icd10cm_order_2030.txt:2: flag 'x' of E119 is neither 1 nor 0"
    )


def test_fast_built_record_equals_constructed_one() -> None:
    parsed = parse_order_file("icd10cm_order_2030.txt", cm_file(CM_LINES)).records["E119"]
    made = Icd10Record(
        "icd10cm", "E119", True, *["Type 2 diabetes mellitus without complications"] * 2
    )
    assert parsed == made and hash(parsed) == hash(made)
    assert parsed.content_hash() == made.content_hash()
    with pytest.raises(AttributeError):
        parsed.code = "E118"  # type: ignore[misc]


def _icd_snapshot(label: str, records: list[Icd10Record]) -> Snapshot[Icd10Record]:
    return Snapshot.from_records(adhoc_info(label, code_set="icd10cm"), records)


SUMMARY = "\r\n".join(
    [
        "",
        "Codes",
        "      2 codes in icd10cm_order_2030.txt",
        "      2 codes in icd10cm_order_2031.txt",
        "      1 additions",
        "      1 deletions",
        "      1 revisions",
    ]
)


def test_findings_both_ways_when_the_addenda_describe_the_old_release() -> None:
    """Declared and not seen, seen and not declared, declared but not as seen: each a finding
    of its own, with the CM code shown with its dot."""
    old = [
        Icd10Record("icd10cm", "A001", True, "Cholera", "Cholera due to Vibrio cholerae"),
        Icd10Record("icd10cm", "B001", True, "Old", "Old title"),
    ]
    new = [
        Icd10Record("icd10cm", "A001", True, "Cholera!", "Cholera due to Vibrio cholerae 01"),
        Icd10Record("icd10cm", "C001", True, "New", "New title"),
    ]
    lines = [
        addenda_line("Add:", "0", "C001", "New", "New title"),
        addenda_line("Add:", "1", "D001", "Never", "Never added"),
    ]
    addenda = parse_addenda(
        "icd10cm_order_addenda_2031.txt", ("\r\n".join(lines) + SUMMARY).encode()
    )
    diff = diff_snapshots(
        _icd_snapshot("FY2030", old), _icd_snapshot("FY2031", new), declared=addenda
    )
    assert diff.reconciled, diff.reconciliation.reason
    found = {(f.code, f.rule, f.direction, f.action) for f in diff.findings}
    assert found == {
        ("C001", Rule.DIFFERS, Direction.DECLARED_NOT_SEEN, "add"),  # flag 0 declared, 1 seen
        ("D001", Rule.NOT_SEEN, Direction.DECLARED_NOT_SEEN, "add"),
        ("B001", Rule.NOT_DECLARED, Direction.SEEN_NOT_DECLARED, "delete"),
        ("A001", Rule.NOT_DECLARED, Direction.SEEN_NOT_DECLARED, "revise"),
    }
    messages = " ".join(f.message for f in diff.findings)
    assert "C00.1" in messages and "D00.1" in messages
    assert diff.addenda is not None and not diff.addenda.agrees
    assert diff.addenda.sections[0].mismatches == ()  # 1 addition, 1 deletion, 1 revision


def test_added_code_seen_before_with_another_title_is_reused() -> None:
    """A code deleted and added again: reused when its title then was another one."""
    record = Icd10Record("icd10cm", "U071", True, "COVID-19", "COVID-19")
    earlier_release = adhoc_info("FY2018", code_set="icd10cm")

    def earlier(codes: object) -> dict[str, tuple[ReleaseInfo, Icd10Record]]:
        before = Icd10Record("icd10cm", "U071", True, "Vaping", "Vaping-related disorder")
        return {"U071": (earlier_release, before)}

    def same(codes: object) -> dict[str, tuple[ReleaseInfo, Icd10Record]]:
        return {"U071": (earlier_release, Icd10Record("icd10cm", "U071", True, "x", "covid-19"))}

    a, b = _icd_snapshot("FY2019", []), _icd_snapshot("FY2020", [record])
    reused = diff_snapshots(a, b, earlier=earlier).change("U071")
    assert reused is not None and Flag.REUSED in reused.flags
    assert reused.earlier is not None and reused.earlier[0] is earlier_release
    back = diff_snapshots(a, b, earlier=same).change("U071")
    assert back is not None and Flag.REUSED not in back.flags and back.earlier is not None
    plain = diff_snapshots(a, b).change("U071")
    assert plain is not None and not plain.flags and plain.earlier is None


def test_title_change_of_case_only_is_cosmetic_in_the_diff() -> None:
    old = [Icd10Record("icd10cm", "E119", True, "Type 2 DM, w/o comp", "Type 2 DM")]
    new = [Icd10Record("icd10cm", "E119", True, "type 2 DM w/o comp", "Type 2 DM")]
    change = diff_snapshots(_icd_snapshot("FY2030", old), _icd_snapshot("FY2031", new)).change(
        "E119"
    )
    assert change is not None and Flag.COSMETIC in change.flags
    assert [fc.field for fc in change.fields] == ["short_title"]
