"""`tracker.outputfile` as a library: what is refused, what is replaced, which errors it names."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tracker.outputfile import TEMP_MARK, OutputError, check_output, open_output, sqlite_file


def test_sqlite_file_of_urls(tmp_path: Path) -> None:
    assert sqlite_file(f"sqlite:///{tmp_path}/t.db") == tmp_path / "t.db"
    assert sqlite_file("sqlite:///relative.db") == Path("relative.db")
    assert sqlite_file("sqlite://") is None
    assert sqlite_file("sqlite:///:memory:") is None
    assert sqlite_file("postgresql+psycopg://u@h/db") is None
    assert sqlite_file("not a url") is None


def test_refused_through_a_relative_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`-o tracker.db` with the default `sqlite:///tracker.db`: both relative to the folder."""
    (tmp_path / "tracker.db").write_bytes(b"db")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OutputError, match=r"^\./tracker\.db: is the database in use"):
        check_output("./tracker.db", database=sqlite_file("sqlite:///tracker.db"))


def test_a_device_is_written_in_place() -> None:
    with open_output(os.devnull) as stream:
        stream.write("discarded\n")
    assert Path(os.devnull).exists() and not Path(os.devnull).is_file()


def test_an_error_of_another_file_is_not_called_a_write_error(tmp_path: Path) -> None:
    """An OSError raised by the command's own work (reading an input) passes through as is,
    and the output is still left untouched."""
    target = tmp_path / "out.txt"
    target.write_text("old\n")
    with pytest.raises(FileNotFoundError), open_output(target) as stream:
        stream.write("new\n")
        (tmp_path / "missing.csv").read_text()
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_failing_write_is_named_by_its_target() -> None:
    with pytest.raises(OutputError) as caught, open_output("/dev/full") as stream:
        stream.write("x" * 100_000)
    assert str(caught.value) == "/dev/full: cannot write the output (no space left on device)"


def test_temporary_file_is_named_recognisably(tmp_path: Path) -> None:
    target = tmp_path / "report.md"
    with open_output(target) as stream:
        names = [p.name for p in tmp_path.iterdir()]
        stream.write("x")
    assert len(names) == 1 and names[0].startswith(f".report.md{TEMP_MARK}")
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]
