"""One small synthetic file per malformed input (tests/data/bad/, made by make_bad.py)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from tests.test_bad_input_cli import FILE_CASES
from tracker.codesets.hcpcs.parsers import parse_source
from tracker.codesets.hcpcs.parsers.base import SourceFile
from tracker.errors import ParseError

from .conftest import BAD_DIR

# One table for the corpus: the CLI test pins the messages, the parser must produce them.
EXPECTED = FILE_CASES


def test_every_bad_file_has_an_expected_message() -> None:
    on_disk = {p.name for p in BAD_DIR.iterdir() if p.suffix != ".py" and p.is_file()}
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_input_message(name: str) -> None:
    path = BAD_DIR / name
    with pytest.raises(ParseError) as caught:
        parse_source(SourceFile(path.name, path.read_bytes()))
    assert str(caught.value) == EXPECTED[name]


def test_committed_files_match_the_generator(make_bad: ModuleType) -> None:
    """The files are generated, never hand-edited (zips aside: their bytes depend on zlib)."""
    for name, data in make_bad.cases().items():
        if Path(name).suffix in {".zip", ".xlsx"}:
            continue
        assert (BAD_DIR / name).read_bytes() == data, name
