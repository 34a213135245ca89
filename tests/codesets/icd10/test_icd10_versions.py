"""Label and effective date of every shared zip, and the summary evidence read plainly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from tracker.codesets.icd10.archive import announcement_text
from tracker.codesets.icd10.version import infer_version

from .conftest import README_COUNTS, Loaded

# From the addenda summaries (which files they lead from and to) and the calendar in the
# README: October versions name the previous year's file as their base; mid-year versions
# name their own year's file (April 1 since 2020; January 2021 names `2021jan`).
EXPECTED = {
    "cms_2019_dx.zip": ("FY2019", date(2018, 10, 1)),
    "cms_2019_pr.zip": ("FY2019", date(2018, 10, 1)),
    "cms_2020_dx.zip": ("FY2020", date(2019, 10, 1)),
    "cms_2020_pr.zip": ("FY2020", date(2019, 10, 1)),
    "cms_2021_dx.zip": ("FY2021-JAN", date(2021, 1, 1)),
    "cms_2021_pr.zip": ("FY2021", date(2020, 10, 1)),
    "cms_2022_dx.zip": ("FY2022-APR", date(2022, 4, 1)),
    "cms_2022_pr.zip": ("FY2022-APR", date(2022, 4, 1)),
    "cms_2022_errata.zip": ("FY2022-APR-ERRATA", date(2022, 4, 1)),
    "cms_2023_dx.zip": ("FY2023-APR", date(2023, 4, 1)),
    "cms_2023_pr.zip": ("FY2023-APR", date(2023, 4, 1)),
    "cms_2024_dx.zip": ("FY2024-APR", date(2024, 4, 1)),
    "cms_2024_pr.zip": ("FY2024-APR", date(2024, 4, 1)),
}


def _summary_files(text: str) -> list[str]:
    """The file names of the `N codes in <file>` lines, read with a plain split."""
    return [line.split()[-1] for line in text.splitlines() if " codes in " in line]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_label_and_effective_date(name: str, icd10_release: Callable[[str], Loaded]) -> None:
    loaded = icd10_release(name)
    archive = loaded.archive
    announcement = (
        announcement_text(archive.announcement_data) if archive.announcement_data else None
    )
    version = infer_version(
        archive.order_name, loaded.addenda.summary, loaded.path.name, archive.member_names,
        announcement,
    )  # fmt: skip
    assert (version.label, version.effective) == EXPECTED[name]
    assert version.evidence
    files = _summary_files((archive.addenda_data or b"").decode("ascii"))
    if files:
        # Mid-year exactly when the summary does not lead from the previous year's file.
        base_year = int(files[0].split("_")[-1][:4])
        assert version.mid_year == (base_year == version.fiscal_year or "jan" in files[1])


def test_january_2021_named_by_the_summary(icd10_release: Callable[[str], Loaded]) -> None:
    loaded = icd10_release("cms_2021_dx.zip")
    files = _summary_files((loaded.archive.addenda_data or b"").decode("ascii"))
    assert files[-1] == "icd10cm_order_2021jan.txt"
    version = infer_version(loaded.archive.order_name, loaded.addenda.summary)
    assert version.label == "FY2021-JAN"
    assert any("jan" in line for line in version.evidence)


def test_errata_date_comes_from_the_announcement(icd10_release: Callable[[str], Loaded]) -> None:
    archive = icd10_release("cms_2022_errata.zip").archive
    assert archive.announcement_data is not None
    text = announcement_text(archive.announcement_data)
    assert "Effective April 1, 2022" in " ".join(text.split())
    without = infer_version(archive.order_name, None, "cms_2022_errata.zip")
    # No announcement: April 1 of the fiscal year, still marked as errata.
    assert (without.label, without.effective) == ("FY2022-APR-ERRATA", date(2022, 4, 1))


def test_overrides_win_and_are_recorded(icd10_release: Callable[[str], Loaded]) -> None:
    loaded = icd10_release("cms_2022_errata.zip")
    version = infer_version(
        loaded.archive.order_name,
        None,
        "cms_2022_errata.zip",
        label="FY2022-ERRATA",
        effective=date(2022, 4, 2),
    )
    assert (version.label, version.effective) == ("FY2022-ERRATA", date(2022, 4, 2))
    assert any("given" in line for line in version.evidence)


def test_every_zip_has_an_expected_version() -> None:
    assert set(EXPECTED) == set(README_COUNTS)


def test_written_october_and_month_named_files() -> None:
    assert infer_version("icd10cm_order_2026.txt").label == "FY2026"
    assert infer_version("icd10cm_order_2026.txt").effective == date(2025, 10, 1)
    assert infer_version("icd10cm_order_2021jan.txt").effective == date(2021, 1, 1)
