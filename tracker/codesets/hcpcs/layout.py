"""CMS's HCPCS record layout, once: every field with its positions, columns, labels and category.

The text parser slices lines by these positions, the workbook parser finds its columns by these
headers and their aliases, the per-code page parser matches these page labels, the writer lays
a record out by these positions, the code page shows these labels, the code tables decode the
fields that name a table, and the diff files a change under the category given here. A field
added to the layout is added here and to `Record`, and nowhere else (a test checks the two
agree).

Positions are the layout's own: 1-based, first line of a record (RIC 3 or 7), 320 characters.
A repeated field (four pricing indicators, five cross-references...) is `slots` values of
`width` characters side by side, and `PRICE1`-`PRICE4` in a workbook.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tracker.codesets.base import FieldSpec


class Value(StrEnum):
    """How a field's raw text becomes its value in a record."""

    CODE = "code"  # the text stripped (coded values: `A`, `YY`, `0000`)
    TEXT = "text"  # whitespace-normalized (descriptions, statute)
    DATE = "date"  # `YYYYMMDD`, blank or all zeros for none
    COUNT = "count"  # a whole number, blank for none
    KIND = "kind"  # the record id: procedure or modifier
    FILLER = "filler"  # physical layout only: not part of a record


@dataclass(frozen=True, slots=True)
class LayoutField:
    """One field of the record layout, with everything each reader and writer needs of it."""

    # Attribute of `Record` ("" for what only orders or pads lines: sequence number, filler).
    name: str
    # CMS's name for the field, as code pages show it.
    label: str
    value: Value
    # First position (1-based) and width of one slot in a first line of the text file.
    start: int
    width: int
    # Repeated fields have several slots, read into a tuple whose positions matter.
    slots: int = 1
    # The diff's category for a change of this field ("" for fields the diff does not compare).
    category: str = ""
    # Workbook column header as CMS's current layout spells it; a repeated field's columns
    # are this name numbered (`PRICE1`...). "" for a field with no column.
    column: str = ""
    # Other spellings of the header across the years, compared after `column_key` (lower
    # case, letters and digits only); a repeated field's are prefixes, numbered the same way.
    aliases: tuple[str, ...] = ()
    # The labels per-code pages use, compared after their own key (see `parsers.seedpage`);
    # a repeated field's are numbered, and unnumbered stands for the first slot.
    page_labels: tuple[str, ...] = ()
    # The field as error messages name it ("pricing indicators has 5 values").
    noun: str = ""
    # The code table of `codetables` that decodes the field's values, if any.
    table: str = ""
    # A workbook cell Excel turned into a number gets its leading zeros back to this width.
    zero_pad: int = 0

    @property
    def repeated(self) -> bool:
        return self.slots > 1

    @property
    def end(self) -> int:
        """Last position (1-based, inclusive) of the whole field."""
        return self.start + self.width * self.slots - 1

    @property
    def span(self) -> slice:
        """The whole field in a line, 0-based."""
        return slice(self.start - 1, self.end)

    @property
    def slot_spans(self) -> tuple[slice, ...]:
        """Each slot of the field in a line, 0-based."""
        first = self.start - 1
        return tuple(
            slice(first + i * self.width, first + (i + 1) * self.width) for i in range(self.slots)
        )

    @property
    def columns(self) -> tuple[str, ...]:
        """The workbook column(s) of the field: its header, or the numbered headers."""
        if not self.column:
            return ()
        if not self.repeated:
            return (self.column,)
        return tuple(f"{self.column}{i}" for i in range(1, self.slots + 1))


# In layout order, which is also the order of `Record`'s attributes.
LAYOUT: tuple[LayoutField, ...] = (
    LayoutField(
        "code",
        "HCPCS Code",
        Value.CODE,
        1,
        5,
        column="HCPC",
        aliases=("hcpcs", "hcpccode", "hcpcscode", "procedurecode"),
        page_labels=("hcpcscode", "healthcarecommonprocedurecodingsystemcode"),
    ),
    LayoutField(
        "",
        "Sequence Number",
        Value.FILLER,
        6,
        5,
        column="SEQNUM",
        aliases=("seqno", "sequencenumber", "sequenceno", "seq"),
        zero_pad=4,
    ),
    LayoutField(
        "kind",
        "Procedure or modifier",
        Value.KIND,
        11,
        1,
        category="classification",
        column="RECID",
        aliases=("ric", "recordid", "recordidentificationcode", "recidcode"),
    ),
    LayoutField(
        "long_description",
        "Code Description",
        Value.TEXT,
        12,
        80,
        category="description",
        column="LONG DESCRIPTION",
        aliases=("longdesc", "longdescript", "codedescription"),
        page_labels=("codedescription", "longdescription"),
        noun="long description",
    ),
    LayoutField(
        "short_description",
        "Short Description",
        Value.TEXT,
        92,
        28,
        category="description",
        column="SHORT DESCRIPTION",
        aliases=("shortdesc", "shortdescript"),
        page_labels=("shortdescription",),
        noun="short description",
    ),
    LayoutField(
        "pricing_indicators",
        "Pricing Indicator Code",
        Value.CODE,
        120,
        2,
        slots=4,
        category="payment",
        column="PRICE",
        aliases=("pi", "pricingindicator", "pricingindicatorcode", "pricingind", "pricind"),
        page_labels=("pricingindicatorcode", "pricingindicator"),
        noun="pricing indicators",
        table="pricing_indicator",
        zero_pad=2,
    ),
    LayoutField(
        "multiple_pricing_indicator",
        "Multiple Pricing Indicator Code",
        Value.CODE,
        128,
        1,
        category="payment",
        column="MULT_PI",
        aliases=("mpi", "multiplepricingindicator", "multiplepricingindicatorcode", "multpi"),
        page_labels=("multiplepricingindicatorcode", "multiplepricingindicator"),
        noun="multiple pricing indicator",
        table="multiple_pricing_indicator",
    ),
    LayoutField(
        "cim_references",
        "Coverage Issues Manual Reference",
        Value.CODE,
        129,
        6,
        slots=3,
        category="reference",
        column="CIM",
        aliases=("cimref", "cimreference", "coverageissuesmanual", "coverageissuesmanualreference"),
        page_labels=(
            "coverageissuesmanualreferencesectionnumber",
            "coverageissuesmanualreference",
            "cimreference",
        ),
        noun="coverage issues manual references",
    ),
    LayoutField(
        "mcm_references",
        "Medicare Carriers Manual Reference",
        Value.CODE,
        147,
        8,
        slots=3,
        category="reference",
        column="MCM",
        aliases=("mcmref", "mcmreference", "carriersmanual", "medicarecarriersmanual"),
        page_labels=(
            "medicarecarriersmanualreferencesectionnumber",
            "carriersmanualreferencesectionnumber",
            "mcmreference",
        ),
        noun="carriers manual references",
    ),
    LayoutField(
        "statute",
        "Statute Number",
        Value.TEXT,
        171,
        10,
        category="reference",
        column="STATUTE",
        aliases=("statutenumber", "statuteno", "stat"),
        page_labels=("statutenumber", "statute"),
        noun="statute",
    ),
    LayoutField(
        "lab_certifications",
        "Lab Certification Code",
        Value.CODE,
        181,
        3,
        slots=8,
        category="reference",
        column="LABCERT",
        aliases=("labcert", "labcertification", "labcertificationcode", "labcertcode"),
        page_labels=("labcertificationcode",),
        noun="lab certifications",
        table="lab_certification",
        zero_pad=3,
    ),
    LayoutField(
        "xrefs",
        "Cross Reference Code",
        Value.CODE,
        205,
        5,
        slots=5,
        category="crosswalk",
        column="XREF",
        aliases=("crossref", "crossreference", "crossreferencecode", "xrefcode"),
        page_labels=("crossreferencecode",),
        noun="cross-references",
        zero_pad=5,
    ),
    LayoutField(
        "coverage",
        "Coverage Code",
        Value.CODE,
        230,
        1,
        category="coverage",
        column="COV",
        aliases=("coverage", "coveragecode", "covcode"),
        page_labels=("coveragecode",),
        noun="coverage",
        table="coverage",
    ),
    LayoutField(
        "asc_group",
        "ASC Payment Group Code",
        Value.CODE,
        231,
        2,
        category="payment",
        column="ASC_GRP",
        aliases=("ascgroup", "ascpaymentgroup", "ascpaymentgroupcode", "ascgrp", "ascpi"),
        page_labels=("ascpaymentgroupcode", "ascgroupcode"),
        noun="ASC group",
        table="asc_group",
    ),
    LayoutField(
        "asc_effective_date",
        "ASC Payment Group Effective Date",
        Value.DATE,
        233,
        8,
        category="payment",
        column="ASC_DT",
        aliases=(
            "ascdate",
            "asceffdt",
            "asceffdate",
            "asceffectivedate",
            "ascpaymentgroupeffectivedate",
            "ascgrpeffdt",
        ),
        page_labels=("ascpaymentgroupeffectivedate", "asceffectivedate"),
    ),
    LayoutField(
        "mog_group",
        "MOG Payment Group Code",
        Value.CODE,
        241,
        3,
        category="payment",
        column="OPPS",
        aliases=("mog", "moggroup", "mogpaymentgroup", "mogpaymentgroupcode", "oppsgroup"),
        page_labels=("mogpaymentgroupcode", "oppspaymentgroupcode"),
        noun="MOG group",
        table="mog_group",
    ),
    LayoutField(
        "mog_indicator",
        "MOG Payment Policy Indicator",
        Value.CODE,
        244,
        1,
        category="payment",
        column="OPPS_PI",
        aliases=(
            "mogpi",
            "oppsind",
            "oppsindicator",
            "mogindicator",
            "mogpaymentpolicyindicator",
            "oppspaymentpolicyindicator",
        ),
        page_labels=("mogpaymentpolicyindicator", "oppspaymentpolicyindicator"),
        noun="MOG indicator",
        table="mog_indicator",
    ),
    LayoutField(
        "mog_effective_date",
        "MOG Effective Date",
        Value.DATE,
        245,
        8,
        category="payment",
        column="OPPS_DT",
        aliases=(
            "mogdt",
            "oppsdate",
            "oppseffdt",
            "oppseffdate",
            "mogeffdt",
            "mogeffdate",
            "mogeffectivedate",
            "oppseffectivedate",
        ),
        page_labels=("mogeffectivedate", "oppseffectivedate"),
    ),
    LayoutField(
        "processing_note",
        "Processing Note Number",
        Value.CODE,
        253,
        4,
        category="reference",
        column="PROCNOTE",
        aliases=("procnote", "procnotes", "processingnote", "processingnotenumber", "pn"),
        page_labels=("processingnotenumber", "processingnote"),
        noun="processing note",
        zero_pad=4,
    ),
    LayoutField(
        "betos",
        "Berenson-Eggers Type Of Service Code",
        Value.CODE,
        257,
        3,
        category="classification",
        column="BETOS",
        aliases=("berensoneggerstypeofservice", "berensoneggerstypeofservicecode"),
        page_labels=("berensoneggerstypeofservicecode", "betoscode"),
        noun="BETOS",
        table="betos",
    ),
    LayoutField("", "Filler", Value.FILLER, 260, 1),
    LayoutField(
        "types_of_service",
        "Type Of Service Code",
        Value.CODE,
        261,
        1,
        slots=5,
        category="classification",
        column="TOS",
        aliases=("typeofservice", "typeofservicecode", "toscode"),
        page_labels=("typeofservicecode",),
        noun="types of service",
        table="type_of_service",
    ),
    LayoutField(
        "anesthesia_base_units",
        "Anesthesia Base Unit Quantity",
        Value.COUNT,
        266,
        3,
        category="payment",
        column="ANEST_BU",
        aliases=(
            "anestbu",
            "anesbu",
            "anesbaseunits",
            "anestbaseunits",
            "anesthesiabaseunits",
            "anesthesiabaseunitquantity",
            "baseunits",
        ),
        page_labels=("anesthesiabaseunitquantity", "anesthesiabaseunits"),
        noun="anesthesia base units",
    ),
    LayoutField(
        "added_date",
        "Code Added Date",
        Value.DATE,
        269,
        8,
        category="lifecycle",
        column="ADD DT",
        aliases=("adddate", "codeadddate", "codeaddeddate", "codeadddt", "addeddate"),
        page_labels=("codeaddeddate", "codeadddate"),
    ),
    LayoutField(
        "action_effective_date",
        "Action Effective Date",
        Value.DATE,
        277,
        8,
        category="lifecycle",
        column="ACT EFF DT",
        aliases=(
            "actioneffdate",
            "actioneffdt",
            "actioneffectivedate",
            "acteffdate",
            "effdate",
            "effectivedate",
        ),
        page_labels=("actioneffectivedate",),
    ),
    LayoutField(
        "termination_date",
        "Termination Date",
        Value.DATE,
        285,
        8,
        category="lifecycle",
        column="TERM DT",
        aliases=("termdate", "terminationdate", "termdt"),
        page_labels=("terminationdate",),
    ),
    LayoutField(
        "action_code",
        "Action Code",
        Value.CODE,
        293,
        1,
        category="action",
        column="ACTION CD",
        aliases=("actioncode", "action", "actcd"),
        page_labels=("actioncode",),
        noun="action code",
        table="action",
    ),
    LayoutField("", "Filler", Value.FILLER, 294, 27),
)

BY_NAME: dict[str, LayoutField] = {field.name: field for field in LAYOUT if field.name}
# The attributes of a record, in order (the code first).
RECORD_FIELDS: tuple[LayoutField, ...] = tuple(field for field in LAYOUT if field.name)
# What the diff compares (everything but the code) and how it files each change.
FIELDS: tuple[FieldSpec, ...] = tuple(
    FieldSpec(field.name, field.label, field.category, field.repeated)
    for field in RECORD_FIELDS
    if field.name != "code"
)
# What a code page lists: every field of the layout but the code (the page's title) and the
# record id (a modifier's page says so in its code).
PAGE_FIELDS: tuple[LayoutField, ...] = tuple(
    field for field in RECORD_FIELDS if field.name not in ("code", "kind")
)
DATE_FIELDS = frozenset(field.name for field in RECORD_FIELDS if field.value is Value.DATE)
TUPLE_FIELDS = frozenset(field.name for field in RECORD_FIELDS if field.repeated)
# A first line: all of it, as the text file writes it.
RECORD_LENGTH = LAYOUT[-1].end
# The long description: its first slice on the first line, the rest on continuation lines at
# the same positions.
DESCRIPTION = BY_NAME["long_description"]


def _check() -> None:
    """The fields tile the line: each starts where the previous one ended."""
    position = 1
    for field in LAYOUT:
        assert field.start == position, f"{field.label} starts at {field.start}, not {position}"
        position = field.end + 1


_check()
