"""CMS's real ICD-10 zips for the ICD-10 tests, each read and parsed once per session.

The files stay in the shared folder (`$TRACKER_SHARED`, else the `shared` folder beside the
project), never copied into the project. Absent files skip the tests with the reason, except
on CI (CI=true), where their absence fails.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tracker.codesets.icd10.addenda import Addenda, parse_addenda
from tracker.codesets.icd10.archive import Icd10Archive, read_archive
from tracker.codesets.icd10.orderfile import OrderFile, parse_order_file

PROJECT_ROOT = Path(__file__).resolve().parents[3]
SHARED = Path(os.environ.get("TRACKER_SHARED", PROJECT_ROOT.parent / "shared"))

# The README of shared/icd10: valid (flag 1) and header (flag 0) counts, from CDC/CMS.
README_COUNTS: dict[str, tuple[str, int, int]] = {
    "cms_2019_dx.zip": ("icd10cm", 71932, 22512),
    "cms_2019_pr.zip": ("icd10pcs", 78881, 877),
    "cms_2020_dx.zip": ("icd10cm", 72184, 22581),
    "cms_2020_pr.zip": ("icd10pcs", 77559, 880),
    "cms_2021_dx.zip": ("icd10cm", 72621, 22737),
    "cms_2021_pr.zip": ("icd10pcs", 78136, 890),
    "cms_2022_dx.zip": ("icd10cm", 72750, 22778),
    "cms_2022_pr.zip": ("icd10pcs", 78227, 895),
    "cms_2022_errata.zip": ("icd10pcs", 78229, 895),
    "cms_2023_dx.zip": ("icd10cm", 73674, 23121),
    "cms_2023_pr.zip": ("icd10pcs", 78530, 901),
    "cms_2024_dx.zip": ("icd10cm", 74044, 23252),
    "cms_2024_pr.zip": ("icd10pcs", 78638, 905),
}

# Consecutive releases of each code set, in the order they took effect.
CM_SEQUENCE = ["cms_2019_dx.zip", "cms_2020_dx.zip", "cms_2021_dx.zip", "cms_2022_dx.zip",
               "cms_2023_dx.zip", "cms_2024_dx.zip"]  # fmt: skip
PCS_SEQUENCE = ["cms_2019_pr.zip", "cms_2020_pr.zip", "cms_2021_pr.zip", "cms_2022_pr.zip",
                "cms_2022_errata.zip", "cms_2023_pr.zip", "cms_2024_pr.zip"]  # fmt: skip


def icd10_path(name: str) -> Path:
    """A file of shared/icd10; skips when it is missing, fails on CI."""
    path = SHARED / "icd10" / name
    if not path.exists():
        message = f"{path} is missing (set TRACKER_SHARED to the shared folder)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@dataclass(frozen=True)
class Loaded:
    path: Path
    archive: Icd10Archive
    order: OrderFile
    addenda: Addenda
    raw_order: bytes


_CACHE: dict[str, Loaded] = {}


def load(name: str) -> Loaded:
    if name not in _CACHE:
        path = icd10_path(name)
        archive = read_archive(path)
        assert archive.addenda_name is not None and archive.addenda_data is not None
        _CACHE[name] = Loaded(
            path,
            archive,
            parse_order_file(archive.order_name, archive.order_data),
            parse_addenda(archive.addenda_name, archive.addenda_data),
            archive.order_data,
        )
    return _CACHE[name]


@pytest.fixture(scope="session")
def icd10_release() -> Callable[[str], Loaded]:
    """`load` as a fixture: the archive, order file and addenda of one shared zip."""
    return load


@pytest.fixture(scope="session")
def icd10_file() -> Callable[[str], Path]:
    return icd10_path
