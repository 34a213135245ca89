"""Real CMS files for the parser tests, each read and parsed once per session.

The files stay in the shared folder (never copied into the project); `shared_file` from
`tests/conftest.py` skips when it is absent, or fails on CI.
"""

from __future__ import annotations

import importlib.util
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from tracker.codesets.hcpcs.parsers import parse_source
from tracker.codesets.hcpcs.parsers.base import SourceFile
from tracker.codesets.hcpcs.record import ParsedRelease

CMS = "cms-hcpcs"
BAD_DIR = Path(__file__).resolve().parents[1] / "data" / "bad"

# key: (path under shared/cms-hcpcs, zip member or None)
REAL_FILES: dict[str, tuple[str, str | None]] = {
    "2016-txt": ("2016/HCPC2016_CONTR_ANWEB.txt", None),
    "2016-xlsx": ("2016/HCPC2016_CONTR_ANWEB.xlsx", None),
    "2017-zip": ("2017/2017-Alpha-Numeric-HCPCS-File.zip", None),
    "2017-xlsx": ("2017/2017-Alpha-Numeric-HCPCS-File.zip", "HCPC17_CONTR_ANWEB.xlsx"),
    "2018-zip": ("2018/2018-Alpha-Numeric-HCPCS-File.zip", None),
    "2018-xlsx": ("2018/2018-Alpha-Numeric-HCPCS-File.zip", "HCPC2018_CONTR_ANWEB_disc.xlsx"),
    "2020-JAN-zip": ("2020-JAN/2020-Alpha-Numeric-HCPCS-File.zip", None),
    "2020-JAN-xls": (
        "2020-JAN/2020-Alpha-Numeric-HCPCS-File.zip",
        "HCPC2020_ANWEB_w_disclaimer.xls",
    ),
    "2020-APR-xlsx": ("2020-APR/HCPC2020_APR_ANWEB.xlsx", None),
    "2020-JUL-xlsx": ("2020-JUL/HCPC2020_JUL_ANWEB.xlsx", None),
    "2020-OCT-xlsx": ("2020-OCT/HCPC2020_OCT_ANWEB.xlsx", None),
}


class RealFiles:
    """Bytes and parsed releases of the real files, cached for the whole session."""

    def __init__(self, locate: Callable[..., Path]) -> None:
        self._locate = locate
        self._sources: dict[str, SourceFile] = {}
        self._releases: dict[str, ParsedRelease] = {}

    def source(self, key: str) -> SourceFile:
        if key not in self._sources:
            self._sources[key] = self.load(*REAL_FILES[key])
        return self._sources[key]

    def load(self, relative: str, member: str | None = None) -> SourceFile:
        path = self._locate(CMS, *relative.split("/"))
        if member is None:
            return SourceFile(path.name, path.read_bytes())
        with zipfile.ZipFile(path) as archive:
            return SourceFile(f"{path.name}!{member}", archive.read(member))

    def release(self, key: str) -> ParsedRelease:
        if key not in self._releases:
            self._releases[key] = parse_source(self.source(key))
        return self._releases[key]

    def seed_sources(self) -> list[SourceFile]:
        folder = self._locate("seeds")
        return [SourceFile(p.name, p.read_bytes()) for p in sorted(folder.glob("*.txt"))]


@pytest.fixture(scope="session")
def real(shared_file: Callable[..., Path]) -> RealFiles:
    return RealFiles(shared_file)


@pytest.fixture(scope="session")
def make_bad() -> ModuleType:
    """The generator of `tests/data/bad/`, whose builders (xlsx, records, zips) tests reuse."""
    spec = importlib.util.spec_from_file_location("make_bad", BAD_DIR / "make_bad.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
