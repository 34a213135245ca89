"""Writes the malformed inputs of this folder: one small synthetic file per case.

Run `python tests/data/bad/make_bad.py` to regenerate them; the output is deterministic. Nothing
here is copied from a CMS file: records are built field by field from invented values, in the
320-byte layout of the CMS fixed-width text. `xlsx_bytes` is also used by the workbook tests
(calamine reads workbooks but cannot write them, and the project has no writer dependency).
"""

from __future__ import annotations

import random
import struct
import zipfile
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
# Fixed timestamps keep the zips byte-identical from run to run.
_STAMP = (2020, 1, 1, 0, 0, 0)


def record_line(
    code: str = "Z9001",
    ric: str = "3",
    long: str = "Synthetic test item, first line",
    short: str = "Synthetic test item",
    seq: str = "00100",
    added: str = "20200101",
    effective: str = "20200101",
    action: str = "N",
    first_line: bool = True,
) -> str:
    """One 320-byte record of the CMS layout (continuations: code, sequence, RIC, text)."""
    line = code.rjust(5) + seq + ric + long.ljust(80)[:80]
    if not first_line:
        return line
    fields = [
        short.ljust(28)[:28],  # 92-119
        "00".ljust(8),  # pricing indicators 120-127
        "9",  # multiple pricing indicator 128
        " " * 18,  # CIM 129-146
        " " * 24,  # MCM 147-170
        " " * 10,  # statute 171-180
        " " * 24,  # lab certification 181-204
        " " * 25,  # XREF 205-229
        "C",  # coverage 230
        " " * 2 + " " * 8,  # ASC group and date 231-240
        " " * 3 + " " + " " * 8,  # MOG group, indicator, date 241-252
        " " * 4,  # processing note 253-256
        "Z2 ",  # BETOS 257-259
        " ",  # filler 260
        "1    ",  # type of service 261-265
        "  0",  # anesthesia base units 266-268
        added,  # 269-276
        effective,  # 277-284
        " " * 8,  # termination 285-292
        action,  # 293
    ]
    line += "".join(fields)
    assert len(line) == 293, len(line)
    return line.ljust(320)


def text_file(lines: Sequence[str]) -> bytes:
    return "".join(f"{line}\r\n" for line in lines).encode("cp1252")


def zip_bytes(members: Sequence[tuple[str, bytes]]) -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(zipfile.ZipInfo(name, _STAMP), data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def xlsx_bytes(rows: Sequence[Sequence[str | float | int | None]], first_row: int = 1) -> bytes:
    """The smallest .xlsx calamine reads: one sheet, inline strings and numbers.

    `first_row` leaves blank rows above the data, as CMS's disclaimer blocks do.
    """
    xml_rows = []
    for r, row in enumerate(rows, start=first_row):
        cells = []
        for c, value in enumerate(row):
            ref = f"{_column(c)}{r}"
            if value is None or value == "":
                continue
            if isinstance(value, int | float):
                cells.append(f'<c r="{ref}"><v>{value}</v></c>')
            else:
                cells.append(
                    f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">'
                    f"{escape(value)}</t></is></c>"
                )
        xml_rows.append(f'<row r="{r}">{"".join(cells)}</row>')
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{''.join(xml_rows)}</sheetData></worksheet>"
    )
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="A" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": sheet,
    }
    return zip_bytes([(name, text.encode("utf-8")) for name, text in parts.items()])


# The 48 columns of the current CMS workbook layout.
HEADER_48 = [
    "HCPC", "SEQNUM", "RECID", "LONG DESCRIPTION", "SHORT DESCRIPTION",
    "PRICE1", "PRICE2", "PRICE3", "PRICE4", "MULT_PI", "CIM1", "CIM2", "CIM3",
    "MCM1", "MCM2", "MCM3", "STATUTE",
    *[f"LABCERT{i}" for i in range(1, 9)], *[f"XREF{i}" for i in range(1, 6)],
    "COV", "ASC_GRP", "ASC_DT", "OPPS", "OPPS_PI", "OPPS_DT", "PROCNOTE", "BETOS",
    *[f"TOS{i}" for i in range(1, 6)], "ANEST_BU", "ADD DT", "ACT EFF DT", "TERM DT", "ACTION CD",
]  # fmt: skip


def workbook_row(code: str, **values: str | float) -> list[str | float]:
    """A 48-column row: a synthetic first row for `code`, with `values` by column name."""
    row: dict[str, str | float] = dict.fromkeys(HEADER_48, "")
    row.update(
        {
            "HCPC": code,
            "SEQNUM": "0010",
            "RECID": "7" if len(code.strip()) == 2 else "3",
            "LONG DESCRIPTION": "Synthetic test item",
            "SHORT DESCRIPTION": "Synthetic item",
            "PRICE1": "00",
            "MULT_PI": "9",
            "COV": "C",
            "BETOS": "Z2",
            "TOS1": "1",
            "ANEST_BU": "  0",
            "ADD DT": "20200101",
            "ACT EFF DT": "20200101",
            "ACTION CD": "N",
        }
    )
    row.update(values)
    return [row[c] for c in HEADER_48]


def _patch_sizes(data: bytes, size: int) -> bytes:
    """Rewrite the uncompressed size in every header: a tiny archive that claims a huge member."""
    out = bytearray(data)
    local = out.find(b"PK\x03\x04")
    struct.pack_into("<I", out, local + 22, size)
    central = out.find(b"PK\x01\x02")
    struct.pack_into("<I", out, central + 24, size)
    return bytes(out)


def _patch_flags(data: bytes, flags: int) -> bytes:
    """Set the general-purpose flags of the first member (bit 0: encrypted) in both headers."""
    out = bytearray(data)
    struct.pack_into("<H", out, out.find(b"PK\x03\x04") + 6, flags)
    struct.pack_into("<H", out, out.find(b"PK\x01\x02") + 8, flags)
    return bytes(out)


def _patch_version(data: bytes, version: int) -> bytes:
    """Claim a "version needed to extract" newer than any reader (zipfile refuses to list it)."""
    out = bytearray(data)
    struct.pack_into("<H", out, out.find(b"PK\x03\x04") + 4, version)
    struct.pack_into("<H", out, out.find(b"PK\x01\x02") + 6, version)
    return bytes(out)


def xlsx_bomb(padding: int = 2 * 1024 * 1024) -> bytes:
    """A valid workbook whose sheet is mostly blanks: a tiny part that inflates far too much."""
    data = xlsx_bytes([HEADER_48, workbook_row("Z9001")])
    import io

    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            body = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = body.replace(b"<sheetData>", b"<sheetData>" + b" " * padding)
            target.writestr(zipfile.ZipInfo(info.filename, _STAMP), body, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def cases() -> dict[str, bytes]:
    good = record_line("Z9001")
    rng = random.Random(20200101)
    garbage = bytes(rng.randrange(256) for _ in range(512))
    # Keep the garbage from starting with a magic number some parser would claim.
    garbage = b"\x01\x02" + garbage
    zeros = zip_bytes([("zeros.txt", b"\0" * (10 * 1024 * 1024))])
    pages = (
        "Z9001\n\n<i>Code Description</i>\tSynthetic test item\tdescription\n"
        "<i>HCPCS Code</i>\tZ9001\tcode\n"
    )
    return {
        "empty.txt": b"",
        "garbage.bin": garbage,
        "truncated.zip": zip_bytes([("HCPC_SYNTH.txt", text_file([good] * 50))])[:200],
        "no_release.zip": zip_bytes(
            [("README.txt", b"Synthetic readme.\r\n"), ("notes.txt", b"Nothing here.\r\n")]
        ),
        "two_releases.zip": zip_bytes(
            [("HCPC_A.txt", text_file([good])), ("HCPC_B.txt", text_file([good]))]
        ),
        "traversal.zip": zip_bytes([("../evil.txt", text_file([good]))]),
        "bomb_ratio.zip": zeros,
        "bomb_declared.zip": _patch_sizes(zip_bytes([("huge.txt", text_file([good]))]), 0xFFFFFFF0),
        "no_header.xlsx": xlsx_bytes(
            [
                ["Synthetic disclaimer text above the table."],
                [],
                ["HCPC/MOD", "ACTION CD", "SHORT DESCRIPTION", "LONG DESCRIPTION"],
                ["Z9001", "ADD", "Synthetic item", "Synthetic test item"],
            ]
        ),
        "missing_columns.xlsx": xlsx_bytes(
            [["HCPC", "RECID", "LONG DESCRIPTION", "SHORT DESCRIPTION", "ACTION CD"]],
            first_row=3,
        ),
        "bad_row.xlsx": xlsx_bytes(
            [HEADER_48, workbook_row("Z9001"), workbook_row("Z9002", **{"ADD DT": "20191350"})]
        ),
        "broken_ric.txt": text_file([good, record_line("Z9002", ric="X")]),
        "truncated_record.txt": text_file([good[:150]]),
        "bad_date.txt": text_file([record_line("Z9001", added="20191350")]),
        "orphan_continuation.txt": text_file(
            [record_line("Z9001", ric="4", seq="00200", first_line=False), good]
        ),
        "duplicate_code.txt": text_file([good, record_line("Z9002"), record_line("Z9001")]),
        "duplicate_code.xlsx": xlsx_bytes(
            [HEADER_48, workbook_row("Z9001"), workbook_row("Z9002"), workbook_row("Z9001")]
        ),
        "unknown_ric.xlsx": xlsx_bytes(
            [HEADER_48, workbook_row("Z9001"), workbook_row("Z9002", RECID="5")]
        ),
        "utf16.txt": "".join(f"{line}\r\n" for line in [good]).encode("utf-16"),
        "future_version.zip": _patch_version(
            zip_bytes([("HCPC_SYNTH.txt", text_file([good]))]), 84
        ),
        "encrypted.zip": _patch_flags(zip_bytes([("HCPC_SYNTH.txt", text_file([good]))]), 0x1),
        "hostile_name.zip": zip_bytes([("../\x1b[2J\nHCPC\u202etxt.exe", text_file([good]))]),
        "bomb.xlsx": xlsx_bomb(),
        "truncated.xlsx": xlsx_bytes([HEADER_48, workbook_row("Z9001")])[:900],
        "page_without_code.txt": pages.encode("utf-8"),
    }


def main() -> None:
    for name, data in cases().items():
        (HERE / name).write_bytes(data)


if __name__ == "__main__":
    main()
