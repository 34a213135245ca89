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

from tests.conftest import REAL_SOURCES as REAL_FILES
from tracker.codesets.base import ParsedRelease
from tracker.codesets.hcpcs.parsers import parse_source
from tracker.codesets.hcpcs.parsers.base import SourceFile

CMS = "cms-hcpcs"
BAD_DIR = Path(__file__).resolve().parents[3] / "data" / "bad"


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
