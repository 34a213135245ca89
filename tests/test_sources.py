"""Reading a user's path and deciding its release label (`tracker.sources`).

The labels expected are the ones the file names spell out (CMS's `HCPC2026_APR_...`), and the
refusals are the one-line messages the CLI prints.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import pytest

from tracker.codesets import get_code_set
from tracker.codesets.base import SourceFile
from tracker.errors import ReleaseError, SourceError
from tracker.sources import read_source, resolve_label, source_version_marker

HCPCS = get_code_set("hcpcs")


@pytest.mark.parametrize(
    ("source_name", "data_member", "release", "label", "effective"),
    [
        ("HCPC2026_APR_ANWEB.txt", "HCPC2026_APR_ANWEB.txt", None, "2026-APR", "2026-04-01"),
        ("HCPCS2026.zip", "HCPC2026_APR_ANWEB.txt", None, "2026-APR", "2026-04-01"),
        ("HCPC2026_JUL_ANWEB.zip", "HCPC2026_ANWEB.txt", None, "2026-JUL", "2026-07-01"),
        ("download.zip", "inner.zip!HCPC2019_OCT_ANWEB.txt", None, "2019-OCT", "2019-10-01"),
        ("whatever.txt", "whatever.txt", "2020-apr", "2020-APR", "2020-04-01"),
        # --release decides over the names.
        ("HCPC2026_APR_ANWEB.txt", "HCPC2026_APR_ANWEB.txt", "2025", "2025-JAN", "2025-01-01"),
    ],
)
def test_the_label_comes_from_release_else_from_the_names(
    source_name: str, data_member: str, release: str | None, label: str, effective: str
) -> None:
    parts = resolve_label(HCPCS, SourceFile(source_name, b""), data_member, release)
    assert (parts.label, parts.effective_date.isoformat(), parts.issue) == (label, effective, None)


def test_a_release_naming_an_issue_is_refused() -> None:
    with pytest.raises(ReleaseError) as raised:
        resolve_label(HCPCS, SourceFile("a.txt", b""), "a.txt", "2020-APR#2")
    assert str(raised.value) == (
        "--release 2020-APR#2: give the label without an issue; use --reissue to store a new"
        " issue of a stored release"
    )


def test_names_that_say_nothing_ask_for_release() -> None:
    with pytest.raises(ReleaseError) as raised:
        resolve_label(HCPCS, SourceFile("release.txt", b""), "release.txt", None)
    assert str(raised.value) == (
        "release.txt: cannot tell the release from the file name; give it with --release 2020-APR"
    )


def test_version_marker_from_the_file_name_else_its_member() -> None:
    assert source_version_marker(SourceFile("HCPC2020_ANWEB_v4.zip", b""), "x.txt") == "v4"
    zipped = SourceFile("HCPC2025.zip", b"")
    assert source_version_marker(zipped, "HCPC2025_JAN_ANWEB_12172024.txt") == "12172024"
    assert source_version_marker(zipped, "HCPC2025_JAN_ANWEB.txt") is None


def test_a_directory_becomes_the_same_zip_every_time(tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "b.html").write_text("second")
    (pages / "a.html").write_text("first")
    (pages / ".hidden").write_text("left out")
    first = read_source(pages)
    (pages / "a.html").touch()  # a newer modification time changes nothing
    assert read_source(pages) == first
    assert first.name == "pages.zip"
    with zipfile.ZipFile(BytesIO(first.data)) as archive:
        assert archive.namelist() == ["a.html", "b.html"]
        assert archive.read("a.html") == b"first"


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda p: p / "missing.txt", "no such file or directory"),
        (lambda p: p, "directory holds no files to ingest"),
    ],
)
def test_unreadable_paths_are_one_line_errors(
    tmp_path: Path, make: Callable[[Path], Path], problem: str
) -> None:
    target = make(tmp_path)
    with pytest.raises(SourceError) as raised:
        read_source(target)
    assert problem in str(raised.value) and str(target) in str(raised.value)
