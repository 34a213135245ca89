"""CMS's transaction reports kept with their release and checked against its data file.

Every expectation is computed here from the raw files: the data file's action codes are sliced
from the fixed-width text (action code at position 293) or read from the workbook's ACTION CD
column with python-calamine, never taken from the tracker's own output.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import shared_path
from tracker import api
from tracker.attachments import AttachmentRole
from tracker.cli import cli
from tracker.codesets.hcpcs.transreport import parse_transaction_report


def _text_actions(data: bytes) -> dict[str, str]:
    """Code -> action letter of a fixed-width release file: each code's first record line."""
    out: dict[str, str] = {}
    for raw in data.decode("cp1252").splitlines():
        line = raw.ljust(320)
        # Record lines carry a sequence number (cols 6-10) and a record id 3 or 7 (col 11).
        if not line[5:10].isdigit() or line[10] not in "37":
            continue
        code = line[:5].strip()
        if code and code not in out:
            out[code] = line[292]
    return out


def _workbook_actions(data: bytes) -> dict[str, str]:
    import python_calamine

    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    rows = book.get_sheet_by_name(book.sheet_names[0]).to_python()
    header = next(i for i, row in enumerate(rows) if "ACTION CD" in [str(c).strip() for c in row])
    names = [str(c).strip() for c in rows[header]]
    code_at, action_at = names.index("HCPC"), names.index("ACTION CD")
    out: dict[str, str] = {}
    for row in rows[header + 1 :]:
        code = str(row[code_at]).strip()
        if code and code not in out:
            out[code] = str(row[action_at]).strip()
    return out


def _expected(report: dict[str, str], actions: dict[str, str]) -> list[tuple[str, str]]:
    """The disagreements, computed independently: (code, kind)."""
    out = [(code, "not_in_file") for code in report if code not in actions]
    out += [(c, "not_in_report") for c, a in actions.items() if c not in report and a != "N"]
    out += [(c, "different_action") for c, a in report.items() if c in actions and actions[c] != a]
    return sorted(out)


def _zip_member(path: Path, member: str) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read(member)


# (data file, how to read its actions independently, loose report or None when it is in the zip)
CASES = {
    "2016": ("2016/HCPC2016_CONTR_ANWEB.txt", None, "2016/HCPC2016_TransactionReport_Alpha.xlsx"),
    "2017": ("2017/2017-Alpha-Numeric-HCPCS-File.zip", "HCPC17_CONTR_ANWEB.txt", None),
    "2020-JAN": (
        "2020-JAN/2020-Alpha-Numeric-HCPCS-File.zip",
        "HCPC2020_ANWEB_w_disclaimer.txt",
        None,
    ),
    "2016 txt listing": (
        "2016/HCPC2016_CONTR_ANWEB.txt",
        None,
        "2016/HCPC2016_TransReport_Changes_by_Action_Code.txt",
    ),
    "2018": ("2018/2018-Alpha-Numeric-HCPCS-File.zip", "HCPC2018_CONTR_ANWEB_disc.txt", None),
    "2020-APR": (
        "2020-APR/HCPC2020_APR_ANWEB.xlsx",
        None,
        "2020-APR/HCPC2020_APR_TRANS_ALPHA.xlsx",
    ),
    "2020-JUL": (
        "2020-JUL/HCPC2020_JUL_ANWEB.xlsx",
        None,
        "2020-JUL/HCPC2020_JUL_TRANS_ALPHA.xlsx",
    ),
    "2020-OCT": (
        "2020-OCT/HCPC2020_OCT_ANWEB.xlsx",
        None,
        "2020-OCT/HCPC2020_OCT_TRANS_ALPHA.xlsx",
    ),
}


@pytest.mark.parametrize("label", sorted(CASES))
def test_real_report_attaches_and_agrees(tmp_path: Path, label: str) -> None:
    data_name, text_member, report_name = CASES[label]
    data_path = shared_path("cms-hcpcs", *data_name.split("/"))
    store = api.open_store(f"sqlite:///{tmp_path / 't.db'}")
    stored = api.ingest(store, data_path).release
    expected_label = label.split()[0]
    assert stored.label == (expected_label if "-" in expected_label else f"{expected_label}-JAN")
    if report_name is not None:
        report_path = shared_path("cms-hcpcs", *report_name.split("/"))
        result = api.ingest(store, report_path)
        assert result.created and result.release.id == stored.id
        report = parse_transaction_report(report_path.name, report_path.read_bytes())
        # Ingesting it again attaches nothing more.
        assert not api.ingest(store, report_path).created
    else:
        attached = store.attachments(stored)
        assert [a.role for a in attached] == [AttachmentRole.TRANSACTION_REPORT]
        member = attached[0].member
        assert member is not None and "trans" in member.lower()
        report = parse_transaction_report(member, _zip_member(data_path, member))
    if data_name.endswith(".xlsx"):
        actions = _workbook_actions(data_path.read_bytes())
    elif text_member is not None:
        actions = _text_actions(_zip_member(data_path, text_member))
    else:
        actions = _text_actions(data_path.read_bytes())
    assert len(actions) == stored.record_count
    check = api.report_check(store, stored)
    assert check is not None
    assert check.codes_listed == len(report)
    found = sorted((d.code, d.kind) for d in check.disagreements)
    assert found == _expected(report, actions)
    for item in check.disagreements:
        assert item.file_action == actions.get(item.code)
        assert item.report_action == report.get(item.code)
    store.close()


def _small_release(path: Path) -> dict[str, str]:
    """A two-quarter release pair written here: fixed-width lines with action codes."""

    def line(code: str, text: str, action: str) -> str:
        body = f"{code:<5}00100{'3'}{text:<80}{text[:28]:<28}"
        body = body.ljust(268) + "20000101" + "20200401" + " " * 8 + action
        return body.ljust(320)

    lines = [
        line("A0001", "First code", "N"),
        line("A0002", "Second code changed", "C"),
        line("A0003", "Third code added", "A"),
        line("A0004", "Fourth code", "P"),
    ]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="cp1252")
    return {"A0001": "N", "A0002": "C", "A0003": "A", "A0004": "P"}


def test_written_report_that_disagrees(tmp_path: Path) -> None:
    data = tmp_path / "HCPC2020_APR_ANWEB.txt"
    actions = _small_release(data)
    assert _text_actions(data.read_bytes()) == actions
    # Omits A0002 (changed, C), lists A0009 (not in the file), says S for A0004 (file: P).
    report = tmp_path / "HCPC2020_APR_TRANS_ALPHA.txt"
    report.write_text(
        "HCPCS Code\tType of Change\r\nA0001\tNo Change\r\nA0003\tAdd\r\n"
        "A0004\tShort Description Change\r\nA0009\tAdd\r\n",
        encoding="cp1252",
    )
    db = tmp_path / "t.db"
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(cli, ["--db", f"sqlite:///{db}", *args])
        assert result.exit_code == 0, result.output
        return result.output

    run("ingest", str(tmp_path / "HCPC2020_APR_ANWEB.txt"))
    first = tmp_path / "HCPC2020_JAN_ANWEB.txt"
    first.write_text(data.read_text(encoding="cp1252"), encoding="cp1252")
    run("ingest", str(first))
    out = run("ingest", str(report))
    assert "attached to 2020-APR" in out and "3 disagreements" in out
    payload = json.loads(run("diff", "2020-JAN", "2020-APR", "--format", "json"))
    found = {
        (d["code"], d["kind"], d["report_action"], d["file_action"])
        for d in payload["transaction_report"]["disagreements"]
    }
    assert found == {
        ("A0002", "not_in_report", None, "C"),
        ("A0009", "not_in_file", "A", None),
        ("A0004", "different_action", "S", "P"),
    }
    text = run("diff", "2020-JAN", "2020-APR")
    assert "CMS's transaction report vs its data file" in text
    assert "A0009" in text
    md = run("report", "2020-JAN", "2020-APR", "--format", "md")
    assert "## CMS's transaction report vs its data file" in md
    assert "| A0002 |" in md
    csv_text = run("report", "2020-JAN", "2020-APR", "--format", "csv")
    assert sum("transaction_report" in row for row in csv_text.splitlines()) == 3
    html = run("report", "2020-JAN", "2020-APR", "--format", "html")
    assert 'id="transaction-report"' in html


def test_report_for_a_release_not_stored(tmp_path: Path) -> None:
    report = tmp_path / "HCPC2020_OCT_TRANS_ALPHA.txt"
    report.write_text("HCPCS Code\tType of Change\r\nA0001\tNo Change\r\n", encoding="cp1252")
    result = CliRunner().invoke(
        cli, ["--db", f"sqlite:///{tmp_path / 't.db'}", "ingest", str(report)]
    )
    assert result.exit_code != 0
    assert result.output.startswith("Error: HCPC2020_OCT_TRANS_ALPHA.txt: ")
    assert "2020-OCT is not stored" in result.output


def test_unreadable_report_in_a_release_zip_does_not_block_it(tmp_path: Path) -> None:
    data = tmp_path / "HCPC2020_APR_ANWEB.txt"
    _small_release(data)
    bundle = tmp_path / "2020-APR-Alpha-Numeric-HCPCS-File.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.write(data, data.name)
        archive.writestr("HCPC2020_APR_TransReport.txt", "HCPC\r\nA0001 Shuffled around\r\n")
    store = api.open_store(f"sqlite:///{tmp_path / 't.db'}")
    info = api.ingest(store, bundle).release
    (attachment,) = store.attachments(info)
    assert attachment.note is not None and "unknown action wording" in attachment.note
    assert api.report_check(store, info) is None
    assert api.verify(store).ok
    store.close()


def test_release_options_refused_for_a_report(tmp_path: Path) -> None:
    report = tmp_path / "HCPC2020_OCT_TRANS_ALPHA.txt"
    report.write_text("HCPCS Code\tType of Change\r\nA0001\tNo Change\r\n", encoding="cp1252")
    db = f"sqlite:///{tmp_path / 't.db'}"
    args = ["--db", db, "ingest", str(report), "--effective", "2020-10-01"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code != 0
    assert result.output.startswith("Error: HCPC2020_OCT_TRANS_ALPHA.txt: is a transaction report")
