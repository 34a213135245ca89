"""Report families: ICD-10-CM chapters and ICD-10-PCS sections.

ICD-10-CM's 22 chapters are ranges of categories (the first three characters of a code), not of
first letters: D is split between Neoplasms (C00-D49) and Diseases of the blood (D50-D89), H
between the eye (H00-H59) and the ear (H60-H95). Ranges compare the first three characters as
text, which orders the letters CDC puts third (`C4A`, `D3A`, `O9A`) where CDC files them. The
titles are the chapter titles of CDC's tabular list; the order files carry no chapter rows.

ICD-10-PCS sections are the first character of a code; their titles are the first part of the
order file's header titles (`Imaging, Central Nervous System, Plain Radiography`), except for
Medical and Surgical (section 0), whose headers start with the body system.
"""

from __future__ import annotations

# (first category, last category, title), in the tabular list's order (chapter 22, Codes for
# special purposes, comes after Z, as in CDC's files).
CM_CHAPTERS: tuple[tuple[str, str, str], ...] = (
    ("A00", "B99", "Certain infectious and parasitic diseases"),
    ("C00", "D49", "Neoplasms"),
    ("D50", "D89", "Diseases of the blood and blood-forming organs and certain disorders "
     "involving the immune mechanism"),
    ("E00", "E89", "Endocrine, nutritional and metabolic diseases"),
    ("F01", "F99", "Mental, Behavioral and Neurodevelopmental disorders"),
    ("G00", "G99", "Diseases of the nervous system"),
    ("H00", "H59", "Diseases of the eye and adnexa"),
    ("H60", "H95", "Diseases of the ear and mastoid process"),
    ("I00", "I99", "Diseases of the circulatory system"),
    ("J00", "J99", "Diseases of the respiratory system"),
    ("K00", "K95", "Diseases of the digestive system"),
    ("L00", "L99", "Diseases of the skin and subcutaneous tissue"),
    ("M00", "M99", "Diseases of the musculoskeletal system and connective tissue"),
    ("N00", "N99", "Diseases of the genitourinary system"),
    ("O00", "O9A", "Pregnancy, childbirth and the puerperium"),
    ("P00", "P96", "Certain conditions originating in the perinatal period"),
    ("Q00", "Q99", "Congenital malformations, deformations and chromosomal abnormalities"),
    ("R00", "R99", "Symptoms, signs and abnormal clinical and laboratory findings, "
     "not elsewhere classified"),
    ("S00", "T88", "Injury, poisoning and certain other consequences of external causes"),
    ("V00", "Y99", "External causes of morbidity"),
    ("Z00", "Z99", "Factors influencing health status and contact with health services"),
    ("U00", "U85", "Codes for special purposes"),
)  # fmt: skip

PCS_SECTIONS: dict[str, str] = {
    "0": "Medical and Surgical",
    "1": "Obstetrics",
    "2": "Placement",
    "3": "Administration",
    "4": "Measurement and Monitoring",
    "5": "Extracorporeal or Systemic Assistance and Performance",
    "6": "Extracorporeal or Systemic Therapies",
    "7": "Osteopathic",
    "8": "Other Procedures",
    "9": "Chiropractic",
    "B": "Imaging",
    "C": "Nuclear Medicine",
    "D": "Radiation Therapy",
    "F": "Physical Rehabilitation and Diagnostic Audiology",
    "G": "Mental Health",
    "H": "Substance Abuse Treatment",
    "X": "New Technology",
}

# A code outside every chapter or section (none in CDC's or CMS's files so far).
OTHER_FAMILY = "other"

CM_FAMILIES: tuple[str, ...] = (*(title for _, _, title in CM_CHAPTERS), OTHER_FAMILY)
PCS_FAMILIES: tuple[str, ...] = (*PCS_SECTIONS.values(), OTHER_FAMILY)


def cm_chapter(code: str) -> tuple[str, str, str] | None:
    """The chapter (first, last category, title) of an ICD-10-CM code, or None."""
    category = code.strip().upper().replace(".", "")[:3]
    if len(category) < 3:
        return None
    for chapter in CM_CHAPTERS:
        if chapter[0] <= category <= chapter[1]:
            return chapter
    return None


def cm_family(code: str) -> str:
    chapter = cm_chapter(code)
    return chapter[2] if chapter is not None else OTHER_FAMILY


def pcs_family(code: str) -> str:
    return PCS_SECTIONS.get(code.strip().upper()[:1], OTHER_FAMILY)
