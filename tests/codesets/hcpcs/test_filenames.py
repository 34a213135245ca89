"""The release a CMS file name announces (`infer_label`), over the names CMS really used.

Every name below is a file CMS published, as it sits in the shared folder of real releases
(loose, or inside the zip CMS ships). The expected release is the folder's, as that folder's
README states it ("`2016/` annual, effective 2016-01-01", "`2020-APR/` quarterly update"), not
anything the tracker said: a loose file's folder, or for a zip member the zip's folder. Files
that are not releases or their companions (READMEs, record layouts, processing notes) are left
out: nothing is ingested from them. The last test checks that the table leaves out no file of
the folder that the tracker ingests.
"""

from __future__ import annotations

import zipfile

import pytest
from conftest import shared_path

from tracker.codesets.hcpcs.filenames import infer_label, read_file_name

# folder of the shared data -> the release it holds, as its README's table says.
FOLDER_RELEASE = {
    "2016": "2016-JAN",
    "2017": "2017-JAN",
    "2018": "2018-JAN",
    "2020-JAN": "2020-JAN",
    "2020-APR": "2020-APR",
    "2020-JUL": "2020-JUL",
    "2020-OCT": "2020-OCT",
}

# (folder, file name, what the file is). Zip members are listed under the zip's folder.
RELEASE_FILES: list[tuple[str, str, str]] = [
    ("2016", "HCPC2016_CONTR_ANWEB.txt", "release, fixed-width"),
    ("2016", "HCPC2016_CONTR_ANWEB.xlsx", "release, workbook"),
    ("2016", "HCPC2016_TransactionReport_Alpha.xlsx", "transaction report"),
    ("2016", "HCPC2016_TransReport_Changes_by_Action_Code.txt", "transaction report listing"),
    ("2016", "HCPC2016_TransReport_Changes_by_HCPCS_Code.txt", "transaction report listing"),
    ("2017", "2017-Alpha-Numeric-HCPCS-File.zip", "release zip"),
    ("2017", "HCPC17_CONTR_ANWEB.txt", "release, fixed-width (in the zip)"),
    ("2017", "HCPC17_CONTR_ANWEB.xlsx", "release, workbook (in the zip)"),
    ("2017", "HCPCS2017_Trans Report_Alpha.xlsx", "transaction report (in the zip)"),
    ("2017", "HCPCS2017_Trans Report_ChangesbyAction.prn", "transaction report listing"),
    ("2017", "HCPCS2017_Trans Report_ChangesbyHCPC.prn", "transaction report listing"),
    ("2017", "hcpc2017_corrections_alpha.txt", "corrections (in the corrections zip)"),
    ("2017", "hcpc2017_corrections_alpha.xlsx", "corrections (in the corrections zip)"),
    ("2018", "2018-Alpha-Numeric-HCPCS-File.zip", "release zip"),
    ("2018", "HCPC2018_CONTR_ANWEB_disc.txt", "release, fixed-width (in the zip)"),
    ("2018", "HCPC2018_CONTR_ANWEB_disc.xlsx", "release, workbook (in the zip)"),
    ("2018", "HCPC18_Trans_Report_Alpha.xlsx", "transaction report (in the zip)"),
    ("2018", "HCPC18_Trans_Report_Alpha_ChangesbyAction.prn", "transaction report listing"),
    ("2018", "HCPC18_Trans_Report_Alpha_ChangesbyHCPC.prn", "transaction report listing"),
    *(
        ("2018", f"V{n}_HCPC2018_Corrections_ANWEB.{ext}", "corrections (in the corrections zip)")
        for n in (1, 2, 3, 4)
        for ext in ("prn", "xlsx")
    ),
    ("2020-JAN", "2020-Alpha-Numeric-HCPCS-File.zip", "release zip"),
    ("2020-JAN", "HCPC2020_ANWEB_w_disclaimer.txt", "release, fixed-width (in the zip)"),
    ("2020-JAN", "HCPC2020_ANWEB_w_disclaimer.xls", "release, old Excel (in the zip)"),
    ("2020-JAN", "HCPC2020_TRANS_ALPHA_w_disclaimer.xlsx", "transaction report (in the zip)"),
    ("2020-APR", "HCPC2020_APR_ANWEB.xlsx", "release, workbook"),
    ("2020-APR", "HCPC2020_APR_TRANS_ALPHA.xlsx", "transaction report"),
    ("2020-JUL", "HCPC2020_JUL_ANWEB.xlsx", "release, workbook"),
    ("2020-JUL", "HCPC2020_JUL_TRANS_ALPHA.xlsx", "transaction report"),
    ("2020-OCT", "HCPC2020_OCT_ANWEB.xlsx", "release, workbook"),
    ("2020-OCT", "HCPC2020_OCT_TRANS_ALPHA.xlsx", "transaction report"),
]

# CMS's corrections zips: the year comes before `-HCPCS-` (the annual release they correct).
CORRECTIONS_ZIPS: list[tuple[str, str, str]] = [
    ("2017", "2017-HCPCS-Alpha-Numeric-Corrections.zip", "corrections zip"),
    ("2018", "2018-HCPCS-Alpha-Numeric-Corrections.zip", "corrections zip"),
]

# Names that say nothing of a release: 2020's transaction report listings in its zip.
SILENT: list[tuple[str, str, str]] = [
    ("2020-JAN", "Changes_by_ActionCode.prn", "transaction report listing (in the zip)"),
    ("2020-JAN", "Changes_by_HCPC.prn", "transaction report listing (in the zip)"),
]

# Documentation CMS ships beside the data: nothing is ingested from it.
DOCUMENTATION = ("README", "recordlayout", "Record-Layout", "proc_notes")


@pytest.mark.parametrize(("folder", "name", "what"), RELEASE_FILES)
def test_a_cms_file_name_announces_its_release(folder: str, name: str, what: str) -> None:
    label = infer_label(name)
    assert label is not None, f"{name} ({what}): no release read"
    assert str(label) == FOLDER_RELEASE[folder]
    # The quarter is named exactly when the name carries one; else it is January's file.
    found = read_file_name(name)
    assert found is not None
    assert found.month_named == any(m in name.upper() for m in ("_APR_", "_JUL_", "_OCT_"))


@pytest.mark.parametrize(("folder", "name", "what"), CORRECTIONS_ZIPS)
def test_a_corrections_zip_name_announces_its_year(folder: str, name: str, what: str) -> None:
    assert str(infer_label(name)) == FOLDER_RELEASE[folder]


@pytest.mark.parametrize(("folder", "name", "what"), SILENT)
def test_a_name_without_a_release_gives_none(folder: str, name: str, what: str) -> None:
    assert infer_label(name) is None


def test_the_table_holds_every_file_of_the_real_releases() -> None:
    """Every data file of the shared folder, loose or zipped, is in one of the tables above
    under its folder, so a file added there without its expected release shows here."""
    manifest = shared_path("cms-hcpcs", "MANIFEST.tsv")
    names: set[tuple[str, str]] = set()
    for line in manifest.read_text(encoding="utf-8").splitlines()[1:]:
        folder, name = line.split("\t")[2].split("/")
        names.add((folder, name))
        if name.endswith(".zip"):
            with zipfile.ZipFile(manifest.parent / folder / name) as archive:
                names.update((folder, member) for member in archive.namelist())
    data = {(f, n) for f, n in names if not any(word in n for word in DOCUMENTATION)}
    listed = {(f, n) for f, n, _ in RELEASE_FILES + CORRECTIONS_ZIPS + SILENT}
    assert data == listed
