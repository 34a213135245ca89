"""Write the two ICD-10-CM sample releases of `snapshots/` (FY2019, FY2020) in CDC's layouts.

Unlike the HCPCS samples, nothing here is invented: every line is a line of CDC's real order
files (ICD-10-CM is public domain), only fewer of them, renumbered. The FY2019 sample holds 60
codes of CDC's FY2019 order file; the FY2020 sample is built from it by the edits CDC really
made for FY2020 to those codes (named below, so the changes are visible in this script), and
carries order addenda declaring exactly those changes in CDC's format (each line as in CDC's
FY2020 addenda, the summary counting the sample) and the rows of CDC's FY2020 conversion
table for the new codes. The zips are laid out as CMS's (FY2020's members in a folder) and
carry a README member saying what they are.

Run `python snapshots/make_icd10_samples.py [OUT_DIR]` (default: this folder); the output is
byte-for-byte reproducible, which `tests/codesets/icd10/test_icd10_samples.py` checks.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tracker.codesets.icd10.record import Icd10Record
from tracker.codesets.icd10.writer import addenda, order_file, release_zip

FILE_NAMES = {"FY2019": "icd10cm_FY2019_SAMPLE.zip", "FY2020": "icd10cm_FY2020_SAMPLE.zip"}
FOLDER_2020 = "2020 Code Descriptions/"

# (code, billable, short title[, long title when it differs]) in CDC's FY2019 order.
FY2019: tuple[tuple[str, bool, str] | tuple[str, bool, str, str], ...] = (
    ('A00', False, 'Cholera'),
    ('A000', True, 'Cholera due to Vibrio cholerae 01, biovar cholerae'),
    ('A001', True, 'Cholera due to Vibrio cholerae 01, biovar eltor'),
    ('A009', True, 'Cholera, unspecified'),
    ('C61', True, 'Malignant neoplasm of prostate'),
    ('D64', False, 'Other anemias'),
    ('D649', True, 'Anemia, unspecified'),
    ('E11', False, 'Type 2 diabetes mellitus'),
    ('E1165', True, 'Type 2 diabetes mellitus with hyperglycemia'),
    ('E119', True, 'Type 2 diabetes mellitus without complications'),
    ('F32', False, 'Major depressive disorder, single episode'),
    ('F329', True, 'Major depressive disorder, single episode, unspecified'),
    ('G43', False, 'Migraine'),
    ('G43A', False, 'Cyclical vomiting'),
    ('G43A0', True, 'Cyclical vomiting, not intractable'),
    ('G43A1', True, 'Cyclical vomiting, intractable'),
    ('H10', False, 'Conjunctivitis'),
    ('H109', True, 'Unspecified conjunctivitis'),
    ('H81', False, 'Disorders of vestibular function'),
    ('H814', False, 'Vertigo of central origin'),
    ('H8141', True, 'Vertigo of central origin, right ear'),
    ('H8142', True, 'Vertigo of central origin, left ear'),
    ('H8143', True, 'Vertigo of central origin, bilateral'),
    ('H8149', True, 'Vertigo of central origin, unspecified ear'),
    ('I10', True, 'Essential (primary) hypertension'),
    ('I48', False, 'Atrial fibrillation and flutter'),
    ('I480', True, 'Paroxysmal atrial fibrillation'),
    ('I481', True, 'Persistent atrial fibrillation'),
    ('I483', True, 'Typical atrial flutter'),
    ('I484', True, 'Atypical atrial flutter'),
    ('I489', False, 'Unspecified atrial fibrillation and atrial flutter'),
    ('I4891', True, 'Unspecified atrial fibrillation'),
    ('I4892', True, 'Unspecified atrial flutter'),
    ('J06', False, 'Acute upper resp infections of multiple and unsp sites',
     'Acute upper respiratory infections of multiple and unspecified sites'),
    ('J069', True, 'Acute upper respiratory infection, unspecified'),
    ('K21', False, 'Gastro-esophageal reflux disease'),
    ('K219', True, 'Gastro-esophageal reflux disease without esophagitis'),
    ('L03', False, 'Cellulitis and acute lymphangitis'),
    ('L0390', True, 'Cellulitis, unspecified'),
    ('M54', False, 'Dorsalgia'),
    ('M545', True, 'Low back pain'),
    ('N39', False, 'Other disorders of urinary system'),
    ('N390', True, 'Urinary tract infection, site not specified'),
    ('O80', True, 'Encounter for full-term uncomplicated delivery'),
    ('P59', False, 'Neonatal jaundice from other and unspecified causes'),
    ('P599', True, 'Neonatal jaundice, unspecified'),
    ('Q90', False, 'Down syndrome'),
    ('Q909', True, 'Down syndrome, unspecified'),
    ('R05', True, 'Cough'),
    ('T78', False, 'Adverse effects, not elsewhere classified'),
    ('T784', False, 'Other and unspecified allergy'),
    ('T7840', False, 'Allergy, unspecified'),
    ('T7840XA', True, 'Allergy, unspecified, initial encounter'),
    ('W19', False, 'Unspecified fall'),
    ('W19XXXA', True, 'Unspecified fall, initial encounter'),
    ('Z00', False, 'Encntr for general exam w/o complaint, susp or reprtd dx',
     'Encounter for general examination without complaint, suspected or reported diagnosis'),
    ('Z000', False, 'Encounter for general adult medical examination'),
    ('Z0000', True, 'Encntr for general adult medical exam w/o abnormal findings',
     'Encounter for general adult medical examination without abnormal findings'),
    ('Z0001', True, 'Encounter for general adult medical exam w abnormal findings',
     'Encounter for general adult medical examination with abnormal findings'),
    ('Z23', True, 'Encounter for immunization'),
)  # fmt: skip

# CDC's FY2020 changes to these codes (from its FY2020 order addenda).
REVISED = {
    # Cyclical vomiting moved under migraine: both titles revised.
    "G43A0": "Cyclical vomiting, in migraine, not intractable",
    "G43A1": "Cyclical vomiting, in migraine, intractable",
}
TO_BILLABLE = ("H814",)  # Vertigo of central origin: a header becomes billable ...
DELETED = ("H8141", "H8142", "H8143", "H8149")  # ... and its four codes by ear are deleted.
TO_HEADER = ("I481",)  # Persistent atrial fibrillation becomes a header ...
ADDED_AFTER = {  # ... over two new codes.
    "I481": (
        ("I4811", True, "Longstanding persistent atrial fibrillation"),
        ("I4819", True, "Other persistent atrial fibrillation"),
    ),
}

# CDC's FY2020 conversion table, the rows of the new codes above (its own CSV lines).
CONVERSION_2020 = (
    "\"Sample: the rows of CDC's FY 2020 ICD-10-CM conversion table for the codes of the "
    "tracker project's FY2020 sample release; not a CDC file.\",,\r\n"
    "Current code assignment,Effective October 1,Previous Code(s) Assignment\r\n"
    "H81.4,2019,H81.41-H81.43; H81.49\r\n"
    "I48.11,2019,I48.1\r\n"
    "I48.19,2019,I48.1\r\n"
)

README = (
    "Sample ICD-10-CM release written by the tracker project for its demo and tests; not a CDC\r\n"
    "file. Its order file holds {count} of the codes of CDC's {label} order file, as CDC wrote\r\n"
    "them, renumbered.{more}\r\n"
)


def record(entry: tuple[str, bool, str] | tuple[str, bool, str, str]) -> Icd10Record:
    code, billable, short = entry[0], entry[1], entry[2]
    long_title = entry[3] if len(entry) == 4 else short
    return Icd10Record("icd10cm", code, billable, short, long_title)


def fy2019() -> list[Icd10Record]:
    return [record(entry) for entry in FY2019]


def fy2020(previous: list[Icd10Record]) -> list[Icd10Record]:
    """FY2019's codes with CDC's FY2020 edits applied, in CDC's order."""
    result: list[Icd10Record] = []
    for old in previous:
        if old.code in DELETED:
            continue
        new = old
        if old.code in REVISED:
            title = REVISED[old.code]
            new = Icd10Record("icd10cm", old.code, old.billable, title, title)
        if old.code in TO_BILLABLE or old.code in TO_HEADER:
            billable = old.code in TO_BILLABLE
            new = Icd10Record("icd10cm", old.code, billable, old.short_title, old.long_title)
        result.append(new)
        result += [record(entry) for entry in ADDED_AFTER.get(old.code, ())]
    return result


def samples() -> dict[str, bytes]:
    """File name -> bytes of both sample zips."""
    old, new = fy2019(), fy2020(fy2019())
    by_code_old = {r.code: r for r in old}
    by_code_new = {r.code: r for r in new}
    readme_2019 = README.format(count=len(old), label="FY2019", more="")
    readme_2020 = README.format(
        count=len(new),
        label="FY2020",
        more=" The addenda declare the\r\nchanges from the FY2019 sample, each line as in CDC's "
        "FY2020 addenda; the summary counts\r\nthe samples. The conversion table holds CDC's "
        "rows for the new codes.",
    )
    return {
        FILE_NAMES["FY2019"]: release_zip(
            [
                ("icd10cm_order_2019.txt", order_file(old)),
                ("README_SAMPLE.txt", readme_2019.encode("ascii")),
            ]
        ),
        FILE_NAMES["FY2020"]: release_zip(
            [
                (FOLDER_2020 + "icd10cm_order_2020.txt", order_file(new)),
                (
                    FOLDER_2020 + "icd10cm_order_addenda_2020.txt",
                    addenda(
                        by_code_old,
                        by_code_new,
                        "icd10cm_order_2019.txt",
                        "icd10cm_order_2020.txt",
                    ),
                ),
                (
                    FOLDER_2020 + "icd10cm_conversion_table_FY2020_SAMPLE.csv",
                    CONVERSION_2020.encode("ascii"),
                ),
                (FOLDER_2020 + "README_SAMPLE.txt", readme_2020.encode("ascii")),
            ]
        ),
    }


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent
    out.mkdir(parents=True, exist_ok=True)
    for name, data in samples().items():
        (out / name).write_bytes(data)
        print(f"wrote {out / name} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
