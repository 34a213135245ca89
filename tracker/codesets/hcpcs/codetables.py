"""CMS's code tables, so coded values can be shown to people as the per-code pages show them.

Transcribed from the HCPCS record-layout files CMS ships with each release (the 2016 and 2017
layouts hold identical tables). Wording is CMS's, with two deliberate repairs: a line break in
the layout becomes one space, and the layout's `e.G.` (an artifact of CMS's title-casing) is
written `e.g.`, which is how CMS's own per-code pages print the pricing indicators.

Tables are read-only mappings rather than enums because they are looked up by value and shown,
never branched on; the action code is the exception, since reconciliation reasons about it.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from tracker.codesets.hcpcs.layout import RECORD_FIELDS


def _table(entries: dict[str, str]) -> Mapping[str, str]:
    return MappingProxyType(entries)


# Action code (position 293): what CMS declares it changed in this release.
ACTION_CODES: Mapping[str, str] = _table(
    {
        "A": "Add procedure or modifier code",
        "B": (
            "Change in both administrative data field and long description of procedure or "
            "modifier code"
        ),
        "C": "Change in long description of procedure or modifier code",
        "D": "Discontinue procedure or modifier code",
        "F": "Change in administrative data field of procedure or modifier code",
        "N": "No maintenance for this code",
        "P": (
            "Payment change (MOG, pricing indicator codes, anesthesia base units,Ambulatory "
            "Surgical Centers)"
        ),
        "R": "Re-activate discontinued/deleted procedure or modifier code",
        "S": "Change in short description of procedure code",
        "T": "Miscellaneous change (BETOS, type of service)",
    }
)

# Coverage code (position 230): Medicare coverage status.
COVERAGE_CODES: Mapping[str, str] = _table(
    {
        "C": "Carrier judgment",
        "D": "Special coverage instructions apply",
        "I": "Not payable by Medicare",
        "M": "Non-covered by Medicare",
        "S": "Non-covered by Medicare statute",
    }
)

# Pricing indicator (positions 120-127, up to four): how part B prices the code.
PRICING_INDICATORS: Mapping[str, str] = _table(
    {
        "00": (
            "Service not separately priced by part B (e.g., services not covered, bundled, used "
            "by part a only, etc.)"
        ),
        "11": "Price established using national rvu's",
        "12": "Price established using national anesthesia base units",
        "13": (
            "Price established by carriers (e.g., not otherwise classified, individual "
            "determination, carrier discretion)"
        ),
        "21": "Price subject to national limitation amount",
        "22": "Price established by carriers (e.g., gap-fills, carrier established panels)",
        "31": "Frequently serviced DME (price subject to floors and ceilings)",
        "32": "Inexpensive & routinely purchased DME (price subject to floors and ceilings)",
        "33": "Oxygen and oxygen equipment (price subject to floors and ceilings)",
        "34": "DME supplies (price subject to floors and ceilings)",
        "35": "Surgical dressings (price subject to floors and ceilings)",
        "36": "Capped rental DME (price subject to floors and ceilings)",
        "37": "Ostomy, tracheostomy and urological supplies (price subject to floors and ceilings)",
        "38": (
            "Orthotics, prosthetics, prosthetic devices & vision services (price subject to "
            "floors and ceilings)"
        ),
        "39": "Parenteral and Enteral Nutrition",
        "45": "Customized DME items",
        "46": (
            "Carrier priced (e.g., not otherwise classified, individual determination, carrier "
            "discretion, gap-filled amounts)"
        ),
        "51": "Drugs",
        "52": "Reasonable charge",
        "53": "Statute",
        "54": "Vaccinations",
        "55": "Splints and Casts (effec 10/1/2014)",
        "56": "IOL's inserted in a physician's office (eff 10/1/2014)",
        "57": "Other carrier priced",
        "99": "Value not established",
    }
)

# Multiple pricing indicator (position 128).
MULTIPLE_PRICING_INDICATORS: Mapping[str, str] = _table(
    {
        "9": (
            "Not applicable as HCPCS not priced separately by part B (pricing indicator is 00) "
            "or value is not established (pricing indicator is '99')"
        ),
        "A": "Not applicable as HCPCS priced under one methodology",
        "B": (
            "Professional component of HCPCS priced using RVU's, while technical component and "
            "global service priced by Medicare part B carriers"
        ),
        "C": (
            "Physician interpretation of clinical lab service is priced under physician fee "
            "schedule using RVU's, while pricing of lab service is paid under clinical lab fee "
            "schedule"
        ),
        "D": (
            "Service performed by physician is priced under physician fee schedule using RVU's, "
            "while service performed by clinical psychologist is priced under clinical "
            "psychologist fee schedule (not applicable as of January 1, 1998)"
        ),
        "E": (
            "Service performed by physician is priced under physician fee schedule using RVU's, "
            "service performed by clinical psychologist is priced under clinical psychologist's "
            "fee schedule and service performed by clinical social worker is priced under "
            "clinical social worker fee schedule (not applicable as of January 1, 1998)"
        ),
        "F": (
            "Service performed by physician is priced under physician fee schedule by carriers, "
            "service performed by clinical psychologist is priced under clinical psychologist's "
            "fee schedule and service performed by clinical social worker is priced under "
            "clinical social worker fee schedule (not applicable as of January 1, 1998)"
        ),
        "G": (
            "Clinical lab service priced under reasonable charge when service is submitted on "
            "claim with blood products, while service is priced under clinical lab fee schedule "
            "when there are no blood products on claim."
        ),
    }
)

# Lab certification (positions 181-204, up to eight): the CLIA specialty; three-digit
# codes ending in a non-zero digit are subgroups of the code ending in 00.
LAB_CERTIFICATIONS: Mapping[str, str] = _table(
    {
        "010": "Histocompatibility testing",
        "100": "Microbiology",
        "110": "Bacteriology",
        "115": "Mycobacteriology",
        "120": "Mycology",
        "130": "Parasitology",
        "140": "Virology",
        "150": "Other microbiology",
        "200": "Diagnostic immunology",
        "210": "Syphilis serology",
        "220": "General immunology",
        "300": "Chemistry",
        "310": "Routine chemistry",
        "320": "Urinalysis",
        "330": "Endocrinology",
        "340": "Toxicology",
        "350": "Other chemistry",
        "400": "Hematology",
        "500": "Immunohematology",
        "510": "Abo group & RH type",
        "520": "Antibody detection (transfusion)",
        "530": "Antibody detection (nontransfusion)",
        "540": "Antibody identification",
        "550": "Compatibility testing",
        "560": "Other immunohematology",
        "600": "Pathology",
        "610": "Histopathology",
        "620": "Oral pathology",
        "630": "Cytology",
        "800": "Radiobioassay",
        "900": "Clinical cytogenetics",
    }
)

# Berenson-Eggers type of service (positions 257-259); the layout's table BETOS_TB.
BETOS_CODES: Mapping[str, str] = _table(
    {
        "M1A": "Office visits - new",
        "M1B": "Office visits - established",
        "M2A": "Hospital visit - initial",
        "M2B": "Hospital visit - subsequent",
        "M2C": "Hospital visit - critical care",
        "M3": "Emergency room visit",
        "M4A": "Home visit",
        "M4B": "Nursing home visit",
        "M5A": "Specialist - pathology",
        "M5B": "Specialist - psychiatry",
        "M5C": "Specialist - opthamology",
        "M5D": "Specialist - other",
        "M6": "Consultations",
        "P0": "Anesthesia",
        "P1A": "Major procedure - breast",
        "P1B": "Major procedure - colectomy",
        "P1C": "Major procedure - cholecystectomy",
        "P1D": "Major procedure - turp",
        "P1E": "Major procedure - hysterectomy",
        "P1F": "Major procedure - explor/decompr/excisdisc",
        "P1G": "Major procedure - Other",
        "P2A": "Major procedure, cardiovascular-CABG",
        "P2B": "Major procedure, cardiovascular-Aneurysm repair",
        "P2C": "Major Procedure, cardiovascular-Thromboendarterectomy",
        "P2D": "Major procedure, cardiovascualr-Coronary angioplasty (PTCA)",
        "P2E": "Major procedure, cardiovascular-Pacemaker insertion",
        "P2F": "Major procedure, cardiovascular-Other",
        "P3A": "Major procedure, orthopedic - Hip fracture repair",
        "P3B": "Major procedure, orthopedic - Hip replacement",
        "P3C": "Major procedure, orthopedic - Knee replacement",
        "P3D": "Major procedure, orthopedic - other",
        "P4A": "Eye procedure - corneal transplant",
        "P4B": "Eye procedure - cataract removal/lens insertion",
        "P4C": "Eye procedure - retinal detachment",
        "P4D": "Eye procedure - treatment of retinal lesions",
        "P4E": "Eye procedure - other",
        "P5A": "Ambulatory procedures - skin",
        "P5B": "Ambulatory procedures - musculoskeletal",
        "P5C": "Ambulatory procedures - inguinal hernia repair",
        "P5D": "Ambulatory procedures - lithotripsy",
        "P5E": "Ambulatory procedures - other",
        "P6A": "Minor procedures - skin",
        "P6B": "Minor procedures - musculoskeletal",
        "P6C": "Minor procedures - other (Medicare fee schedule)",
        "P6D": "Minor procedures - other (non-Medicare fee schedule)",
        "P7A": "Oncology - radiation therapy",
        "P7B": "Oncology - other",
        "P8A": "Endoscopy - arthroscopy",
        "P8B": "Endoscopy - upper gastrointestinal",
        "P8C": "Endoscopy - sigmoidoscopy",
        "P8D": "Endoscopy - colonoscopy",
        "P8E": "Endoscopy - cystoscopy",
        "P8F": "Endoscopy - bronchoscopy",
        "P8G": "Endoscopy - laparoscopic cholecystectomy",
        "P8H": "Endoscopy - laryngoscopy",
        "P8I": "Endoscopy - other",
        "P9A": "Dialysis services (medicare fee schedule)",
        "P9B": "Dialysis services (non-medicare fee schedule)",
        "I1A": "Standard imaging - chest",
        "I1B": "Standard imaging - musculoskeletal",
        "I1C": "Standard imaging - breast",
        "I1D": "Standard imaging - contrast gastrointestinal",
        "I1E": "Standard imaging - nuclear medicine",
        "I1F": "Standard imaging - other",
        "I2A": "Advanced imaging - CAT/CT/CTA: brain/head/neck",
        "I2B": "Advanced imaging - CAT/CT/CTA: other",
        "I2C": "Advanced imaging - MRI/MRA: brain/head/neck",
        "I2D": "Advanced imaging - MRI/MRA: other",
        "I3A": "Echography/ultrasonography - eye",
        "I3B": "Echography/ultrasonography - abdomen/pelvis",
        "I3C": "Echography/ultrasonography - heart",
        "I3D": "Echography/ultrasonography - carotid arteries",
        "I3E": "Echography/ultrasonography - prostate, transrectal",
        "I3F": "Echography/ultrasonography - other",
        "I4A": "Imaging/procedure - heart including cardiac catheterization",
        "I4B": "Imaging/procedure - other",
        "T1A": "Lab tests - routine venipuncture (non Medicare fee schedule)",
        "T1B": "Lab tests - automated general profiles",
        "T1C": "Lab tests - urinalysis",
        "T1D": "Lab tests - blood counts",
        "T1E": "Lab tests - glucose",
        "T1F": "Lab tests - bacterial cultures",
        "T1G": "Lab tests - other (Medicare fee schedule)",
        "T1H": "Lab tests - other (non-Medicare fee schedule)",
        "T2A": "Other tests - electrocardiograms",
        "T2B": "Other tests - cardiovascular stress tests",
        "T2C": "Other tests - EKG monitoring",
        "T2D": "Other tests - other",
        "D1A": "Medical/surgical supplies",
        "D1B": "Hospital beds",
        "D1C": "Oxygen and supplies",
        "D1D": "Wheelchairs",
        "D1E": "Other DME",
        "D1F": "Prosthetic/Orthotic devices",
        "D1G": "Drugs Administered through DME",
        "O1A": "Ambulance",
        "O1B": "Chiropractic",
        "O1C": "Enteral and parenteral",
        "O1D": "Chemotherapy",
        "O1E": "Other drugs",
        "O1F": "Hearing and speech services",
        "O1G": "Immunizations/Vaccinations",
        "Y1": "Other - Medicare fee schedule",
        "Y2": "Other - non-Medicare fee schedule",
        "Z1": "Local codes",
        "Z2": "Undefined codes",
    }
)

# Type of service (positions 261-265, up to five); the layout's table CMS_TYPE_SRVC_TB.
TYPES_OF_SERVICE: Mapping[str, str] = _table(
    {
        "1": "Medical care",
        "2": "Surgery",
        "3": "Consultation",
        "4": "Diagnostic radiology",
        "5": "Diagnostic laboratory",
        "6": "Therapeutic radiology",
        "7": "Anesthesia",
        "8": "Assistant at surgery",
        "9": "Other medical items or services",
        "0": "Whole blood only eff 01/96, whole blood or packed red cells before 01/96",
        "A": "Used durable medical equipment (DME)",
        "B": "High risk screening mammography (obsolete 1/1/98)",
        "C": "Low risk screening mammography (obsolete 1/1/98)",
        "D": "Ambulance (eff 04/95)",
        "E": "Enteral/parenteral nutrients/supplies (eff 04/95)",
        "F": "Ambulatory surgical center (facility usage for surgical services)",
        "G": "Immunosuppressive drugs",
        "H": "Hospice services (discontinued 01/95)",
        "I": "Purchase of DME (installment basis) (discontinued 04/95)",
        "J": "Diabetic shoes (eff 04/95)",
        "K": "Hearing items and services (eff 04/95)",
        "L": "ESRD supplies (eff 04/95) (renal supplier in the home before 04/95)",
        "M": "Monthly capitation payment for dialysis",
        "N": "Kidney donor",
        "P": "Lump sum purchase of DME, prosthetics, orthotics",
        "Q": "Vision items or services",
        "R": "Rental of DME",
        "S": "Surgical dressings or other medical supplies (eff 04/95)",
        "T": (
            "Psychological therapy (term. 12/31/97) outpatient mental health limitation (eff. "
            "1/1/98)"
        ),
        "U": "Occupational therapy",
        "V": (
            "Pneumococcal/flu vaccine (eff 01/96), Pneumococcal/flu/hepatitis B vaccine (eff "
            "04/95-12/95), Pneumococcal only before 04/95"
        ),
        "W": "Physical therapy",
        "Y": "Second opinion on elective surgery (obsoleted 1/97)",
        "Z": "Third opinion on elective surgery (obsoleted 1/97)",
    }
)

# MOG (Medicare outpatient group) payment group (positions 241-243). Empty in every
# release since at least 2016, kept so an older file still decodes.
MOG_PAYMENT_GROUPS: Mapping[str, str] = _table(
    {
        "000": "No MOG applies",
        "102": "Level II needle biopsy/aspiration",
        "112": "Level II incision and drainage",
        "132": "Level II debridement/destruction",
        "142": "Level II excision/biopsy",
        "143": "Level III excision/biopsy",
        "151": "Level I skin repair",
        "152": "Level II skin repair",
        "153": "Level III skin repair",
        "160": "Incision/excision breast",
        "169": "Breast reconstruction/mastectomy",
        "201": "Level I skull and facial bone procedures",
        "202": "Level II skull and facial bone procedures",
        "211": "Level I hand musculoskeletal procedures",
        "212": "Level II hand musculoskeletal procedures",
        "221": "Level I foot musculoskeletal procedures",
        "222": "Level II foot musculoskeletal procedures",
        "231": "Level I musculoskeletal procedures",
        "232": "Level II musculoskeletal procedures",
        "233": "Level III musculoskeletal procedures",
        "241": "Level I arthroscopy",
        "242": "Level II arthroscopy",
        "260": "Closed treatment fracture finger/toe/trunk",
        "269": "Closed treatment fracture/dislocation/except finger/toe/trunk",
        "270": "Open/percutaneous treatment fracture or dislocation",
        "279": "Bone/joint manipulation under anesthesia",
        "280": "Bunion procedures",
        "289": "Arthroplasty",
        "290": "Arthroplasty with prosthesis",
        "302": "Level II ENT procedures",
        "303": "Level III ENT procedures",
        "304": "Level IV ENT procedures",
        "309": "Implantation of cochlear device (ASC rate does not include cost of implant)",
        "310": "Nasal cauterization/packing",
        "319": "Tonsil/adenoid procedures",
        "322": "Level II endoscopy upper airway",
        "323": "Level III endoscopy upper airway",
        "329": "Endoscopy lower airway",
        "330": "Thoracentesis/lavage procedures",
        "350": "Placement transvenous caths/cutdown",
        "359": "Removal/revision, pacemaker/vascular device",
        "360": "Vascular ligation",
        "369": "Vascular repair/fistula construction",
        "370": "Lymph node excisions",
        "379": "Thyroid/lymphadenectomy procedures",
        "400": "Esophageal dilation without endoscopy",
        "410": "Esophagoscopy",
        "421": "Level I upper GI endoscopy/intubation",
        "422": "Level II upper GI endoscopy/intubation",
        "429": "Lower GI endoscopy",
        "430": "Anoscopy and diagnostic sigmoidoscopy",
        "439": "Therapeutic proctosigmoidoscopy",
        "440": "Small intestine endoscopy",
        "449": "Percutaneous biliary endoscopic procedures",
        "450": "Endoscopic retrograde cholangio-pancreatography (ERCP)",
        "460": "Hernia/hydrocele procedures",
        "472": "Level II anal/rectal procedures",
        "473": "Level III anal/rectal procedures",
        "480": "Peritoneal and abdominal procedures",
        "490": "Tube procedures",
        "501": "Level I laparoscopy",
        "502": "Level II laparoscopy",
        "509": "Lithotripsy",
        "511": "Level I cystourethroscopy and other genitourinary procedures",
        "512": "Level II cystourethroscopy and other genitourinary procedures",
        "513": "Level III cystourethroscopy and other genitourinary procedures",
        "521": "Level I urethral procedures",
        "522": "Level II urethral procedures",
        "530": "Circumcision",
        "539": "Penile procedures",
        "540": "Insertion of penile prosthesis (ASC rate does include cost of implant)",
        "549": "Testes/epididymis procedures",
        "550": "Prostrate biopsy",
        "562": "Level II female reproductive procedures",
        "563": "Level III female reproductive procedures",
        "570": "Surgical hysteroscopy",
        "579": "D & C",
        "580": "Spontaneous abortion",
        "589": "Therapeutic abortion",
        "602": "Level II nervous system injections",
        "609": "Revision/removal neurological device",
        "610": (
            "Implantation of neurostimulator electrodes (ASC rate does not include cost of implant)"
        ),
        "619": "Implantation of neurological devices (asc rate does not include cost of implant)",
        "621": "Level I nerve procedures",
        "622": "Level II nerve procedures",
        "629": "Spinal tap",
        "639": "Laser eye procedures except retinal",
        "640": "Cataract procedures",
        "649": "Cataract procedures with IOL insert (includes $150 insert)",
        "651": "Level I anterior segment eye procedures",
        "652": "Level II anterior segment eye procedures",
        "659": "Corneal transplant (ASC rate includes price of transplant)",
        "660": "Posterior segment eye procedures",
        "669": "Strabismus/muscle procedures",
        "673": "Level III eye procedure",
        "674": "Level IV eye procedure",
        "680": "Vitrectomy",
        "689": "Implantation/replacement of intraitreal drug",
    }
)

# MOG payment policy indicator (position 244).
MOG_PAYMENT_POLICY_INDICATORS: Mapping[str, str] = _table(
    {
        "1": "ASC covered procedure",
        "2": "Bundled service/no separate payment",
        "3": "Excluded from ASC list",
        "4": "Invalid code/90 day grace period",
        "6": "Separate payment when furnished in an ASC",
        "7": "ASC restricted coverage procedure",
        "9": "ASC payment not applicable",
    }
)

# Record id, RIC (position 11): the type of a physical line, not part of a `Record`.
RECORD_IDS: Mapping[str, str] = _table(
    {
        "3": "First line of procedure record also contains detail information in positions 92-275",
        "4": (
            "Second, third, fourth, etc., Description of procedure record. No detail "
            "information in positions 92-275"
        ),
        "7": "First line of modifier record also contains detail information in positions 92-275",
        "8": (
            "Second, third, fourth, etc., Description of modifier record. No detail information "
            "in positions 92-275"
        ),
    }
)

# ASC payment group (positions 231-232). The layout defines only `YY` and blank; the dollar
# amounts live in CMS's ASC tables, not in this file.
ASC_PAYMENT_GROUPS: Mapping[str, str] = _table(
    {
        "YY": "Approved to be performed in an ambulatory surgical center",
        "": "Not approved for ASC",
    }
)


class ActionCode(StrEnum):
    """The declared action of a record; reconciliation compares it with what a diff observed."""

    ADD = "A"
    CHANGE_BOTH = "B"
    CHANGE_LONG_DESCRIPTION = "C"
    DISCONTINUE = "D"
    CHANGE_ADMINISTRATIVE = "F"
    NO_MAINTENANCE = "N"
    PAYMENT_CHANGE = "P"
    REACTIVATE = "R"
    CHANGE_SHORT_DESCRIPTION = "S"
    MISCELLANEOUS_CHANGE = "T"

    @property
    def description(self) -> str:
        return ACTION_CODES[self.value]


# Table names for `decode`, plus the `Record` field each one decodes (the layout table says
# which), so callers can decode a field by its own name without a mapping of their own.
TABLES: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "action": ACTION_CODES,
        "coverage": COVERAGE_CODES,
        "pricing_indicator": PRICING_INDICATORS,
        "multiple_pricing_indicator": MULTIPLE_PRICING_INDICATORS,
        "lab_certification": LAB_CERTIFICATIONS,
        "betos": BETOS_CODES,
        "type_of_service": TYPES_OF_SERVICE,
        "asc_group": ASC_PAYMENT_GROUPS,
        "mog_group": MOG_PAYMENT_GROUPS,
        "mog_indicator": MOG_PAYMENT_POLICY_INDICATORS,
        "record_id": RECORD_IDS,
    }
)
FIELD_TABLES: Mapping[str, str] = MappingProxyType(
    {field.name: field.table for field in RECORD_FIELDS if field.table}
)


def decode(table_name: str, value: str) -> str | None:
    """CMS's description of `value`, or None when the layout does not define it.

    `table_name` is a key of `TABLES` or a `Record` field name from `FIELD_TABLES`. An unknown
    table is a programming error and raises KeyError; an unknown value is data and gives None,
    so a report can show the raw value instead of failing on a code CMS adds later. Blank means
    "no value" except where the layout gives blank a meaning (the ASC group).
    """
    name = FIELD_TABLES.get(table_name, table_name)
    try:
        table = TABLES[name]
    except KeyError:
        known = ", ".join(sorted(TABLES))
        raise KeyError(f"no code table {table_name!r} (known: {known})") from None
    return table.get(value.strip())


# Code families for reports, by first letter, named as in ARCHITECTURE.md. Order is the order
# reports list them in.
CODE_FAMILIES: Mapping[str, str] = MappingProxyType(
    {
        "A": "transport",
        "B": "enteral/parenteral",
        "C": "outpatient PPS",
        "E": "durable medical equipment",
        "G": "professional temporary",
        "H": "behavioral health",
        "J": "drugs",
        "K": "DME temporary",
        "L": "orthotics/prosthetics",
        "M": "quality and other",
        "P": "pathology/lab",
        "Q": "temporary",
        "R": "radiology",
        "S": "private-payer temporary",
        "T": "state Medicaid",
        "U": "lab tests",
        "V": "vision/hearing",
    }
)
MODIFIER_FAMILY = "modifiers"
OTHER_FAMILY = "other"
FAMILY_ORDER: tuple[str, ...] = (*CODE_FAMILIES.values(), MODIFIER_FAMILY, OTHER_FAMILY)


def code_family(code: str) -> str:
    """The report family of a code; letters HCPCS Level II does not use fall into 'other'.

    Two-character codes are modifiers whatever their first character (modifiers such as `A1`
    or `GA` share letters with procedure families).
    """
    text = code.strip().upper()
    if len(text) == 2:
        return MODIFIER_FAMILY
    if not text:
        return OTHER_FAMILY
    return CODE_FAMILIES.get(text[0], OTHER_FAMILY)
