"""The ICD-10-CM sample releases of `snapshots/`: reproducible, parsed by the code set, their
declared changes reconciled, and every line as CDC's real files have it."""

from __future__ import annotations

import importlib.util
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from tracker.codesets.base import SourceFile
from tracker.codesets.icd10.codeset import ICD10CM, ICD10PCS, Icd10Cm
from tracker.codesets.icd10.conversion import replaced_by
from tracker.codesets.icd10.orderfile import parse_order_file
from tracker.codesets.icd10.record import Icd10Record
from tracker.codesets.icd10.writer import order_file
from tracker.diff import diff_snapshots
from tracker.release import Snapshot, adhoc_info

SNAPSHOTS = Path(__file__).resolve().parents[3] / "snapshots"
SAMPLES = {"FY2019": "icd10cm_FY2019_SAMPLE.zip", "FY2020": "icd10cm_FY2020_SAMPLE.zip"}
REAL = {"FY2019": "cms_2019_dx.zip", "FY2020": "cms_2020_dx.zip"}
CM = Icd10Cm()


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_icd10", SNAPSHOTS / "make_icd10_samples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def by_suffix(files: dict[str, bytes], suffix: str) -> bytes:
    [found] = [data for name, data in files.items() if name.endswith(suffix)]
    return found


def test_samples_are_reproducible(tmp_path: Path) -> None:
    assert generator().main(["make", str(tmp_path)]) == 0
    for name in SAMPLES.values():
        assert (tmp_path / name).read_bytes() == (SNAPSHOTS / name).read_bytes(), name


def parsed(label: str) -> dict[str, Icd10Record]:
    source = SourceFile(SAMPLES[label], (SNAPSHOTS / SAMPLES[label]).read_bytes())
    assert ICD10CM.detect(source) and not ICD10PCS.detect(source)
    result = CM.parse(source)
    assert (result.label, CM.infer_label(SAMPLES[label])) == (label, label)
    return {record.code: record for record in result.records}


def test_samples_parse_and_their_addenda_reconcile() -> None:
    old, new = parsed("FY2019"), parsed("FY2020")
    assert (len(old), len(new)) == (60, 58)
    source = SourceFile("s.zip", (SNAPSHOTS / SAMPLES["FY2020"]).read_bytes())
    result = CM.parse(source)
    assert result.addenda is not None and result.addenda.summary is not None
    diff = diff_snapshots(
        Snapshot.from_records(adhoc_info("FY2019", code_set="icd10cm"), old.values()),
        Snapshot.from_records(adhoc_info("FY2020", code_set="icd10cm"), new.values()),
        declared=result.addenda,
    )
    assert diff.reconciled and diff.findings == ()
    assert diff.addenda is not None and diff.addenda.agrees
    # The changes, counted from the addenda lines themselves.
    kinds = sorted((e.action, e.code, e.billable) for e in result.addenda.entries)
    assert kinds == [
        ("add", "H814", True), ("add", "I481", False), ("add", "I4811", True),
        ("add", "I4819", True), ("delete", "H814", False), ("delete", "H8141", True),
        ("delete", "H8142", True), ("delete", "H8143", True), ("delete", "H8149", True),
        ("delete", "I481", True), ("revise", "G43A0", True), ("revise", "G43A1", True),
    ]  # fmt: skip
    links = replaced_by(result.conversion, ["H8141", "H8149", "I481"], old)
    assert links == {"H8141": ["H814"], "H8149": ["H814"], "I481": ["I4811", "I4819"]}
    # Every chapter family the report shows has at least one sample code but U (none in 2019).
    assert {CM.family(code) for code in new} == set(CM.families) - {
        "Codes for special purposes", "other",
    }  # fmt: skip


def test_writer_round_trips_through_the_parser() -> None:
    records = list(parsed("FY2020").values())
    again = parse_order_file("x.txt", order_file(records))
    assert list(again.records.values()) == records
    with pytest.raises(ValueError):
        order_file([Icd10Record("icd10pcs", "0016070", True, "s", "l")])
    with pytest.raises(ValueError):
        order_file([Icd10Record("icd10cm", "E119", True, "s" * 61, "l")])


def raw_lines(path: Path, suffix: str) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(suffix)]
        return archive.read(name).decode("ascii").splitlines()


@pytest.mark.parametrize("label", sorted(SAMPLES))
def test_sample_lines_are_cdcs_lines(label: str, icd10_file: Callable[[str], Path]) -> None:
    """Past the order number, each sample line is CDC's line; the sample keeps CDC's order."""
    year = label[2:]
    real = raw_lines(icd10_file(REAL[label]), f"icd10cm_order_{year}.txt")
    real_by_code = {line[6:13].rstrip(): line[6:] for line in real}
    position = {line[6:13].rstrip(): index for index, line in enumerate(real)}
    sample = raw_lines(SNAPSHOTS / SAMPLES[label], f"icd10cm_order_{year}.txt")
    codes = [line[6:13].rstrip() for line in sample]
    for line in sample:
        assert line[6:] == real_by_code[line[6:13].rstrip()]
    assert codes == sorted(codes, key=position.__getitem__)
    assert [int(line[:5]) for line in sample] == list(range(1, len(sample) + 1))


def test_sample_changes_are_cdcs_changes(icd10_file: Callable[[str], Path]) -> None:
    """The FY2020 addenda lines are CDC's, verbatim, and they are all of CDC's lines about the
    sample's codes; the conversion rows are CDC's CSV rows."""
    real = raw_lines(icd10_file(REAL["FY2020"]), "icd10cm_order_addenda_2020.txt")
    sample = raw_lines(SNAPSHOTS / SAMPLES["FY2020"], "icd10cm_order_addenda_2020.txt")
    entries = [line for line in sample if line[:13].strip().endswith(":")]
    codes = {line[15:22].rstrip() for line in entries}
    sample_codes = {
        line[6:13].rstrip()
        for label in SAMPLES
        for line in raw_lines(SNAPSHOTS / SAMPLES[label], "_order_" + label[2:] + ".txt")
    }
    assert codes < sample_codes
    assert entries == [line for line in real if line[15:22].rstrip() in sample_codes]
    table = icd10_file("ICD-10-CM-Conversion-Table-FY20-Effective-10-1-2019-corrected.csv")
    real_rows = set(table.read_text(encoding="cp1252").splitlines())
    rows = by_suffix(members(SNAPSHOTS / SAMPLES["FY2020"]), ".csv").decode().splitlines()
    assert rows[2:] and set(rows[1:]) <= real_rows
