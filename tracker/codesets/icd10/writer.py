"""Write small ICD-10-CM releases in CDC's own layouts: the order file, its addenda, a zip.

For the project's sample releases and fast tests: what is written here reads back with the
same parsers as CDC's files, so a sample exercises the real reading path. The layouts are those
`orderfile` and `addenda` describe: fixed columns, ASCII, CRLF; the addenda list, in code
order, `Delete:` before `Add:` of the same code (a flag change is both) and `Revise from:` /
`Revise to:` pairs, then CDC's summary of headers and codes. ICD-10-CM only: PCS addenda carry
no flag and no summary of this form.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Mapping
from io import BytesIO

from .compare import compare, section_counts
from .record import Icd10Record

_SHORT_WIDTH = 60
_ACTION_WIDTH = 13
# A fixed member time (zip's earliest), so the same input always gives the same bytes.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _check(record: Icd10Record) -> None:
    if record.code_set != "icd10cm":
        raise ValueError(f"{record.code}: only ICD-10-CM releases are written")
    if len(record.code) > 7 or len(record.short_title) > _SHORT_WIDTH:
        raise ValueError(f"{record.code}: code over 7 or short title over 60 characters")
    if not (record.short_title + record.long_title).isascii():
        raise ValueError(f"{record.code}: titles must be ASCII")


def _fields(record: Icd10Record) -> str:
    """Flag, code and titles, as both the order file and the addenda write them."""
    flag = "1" if record.billable else "0"
    return f"{record.code:<7} {flag} {record.short_title:<{_SHORT_WIDTH}} {record.long_title}"


def order_file(records: Iterable[Icd10Record]) -> bytes:
    """An order file: records numbered from 1 in the order given, CRLF line ends."""
    lines = []
    for number, record in enumerate(records, start=1):
        _check(record)
        lines.append(f"{number:05d} {_fields(record)}\r\n")
    return "".join(lines).encode("ascii")


def _addenda_line(action: str, record: Icd10Record) -> str:
    flag = "1" if record.billable else "0"
    return (
        f"{action:<{_ACTION_WIDTH}}{flag} {record.code:<7} "
        f"{record.short_title:<{_SHORT_WIDTH}} {record.long_title}"
    )


def addenda_lines(old: Mapping[str, Icd10Record], new: Mapping[str, Icd10Record]) -> list[str]:
    """The addenda lines declaring every change from `old` to `new`, in code order."""
    lines: list[str] = []
    for change in compare(old, new).values():
        before, after = change.old, change.new
        if before is not None and after is not None and before.billable == after.billable:
            lines += [_addenda_line("Revise from:", before), _addenda_line("Revise to:", after)]
            continue
        if before is not None:
            lines.append(_addenda_line("Delete:", before))
        if after is not None:
            lines.append(_addenda_line("Add:", after))
    return lines


def addenda(
    old: Mapping[str, Icd10Record],
    new: Mapping[str, Icd10Record],
    old_name: str,
    new_name: str,
) -> bytes:
    """The order addenda from `old` (order file `old_name`) to `new`, with CDC's summary."""
    lines = addenda_lines(old, new)
    for title, word, billable in (("Headers", "headers", False), ("Codes", "codes", True)):
        counts = section_counts(old, new, billable)
        lines += [
            "",
            title,
            f"{counts.before:7d} {word} in {old_name}",
            f"{counts.after:7d} {word} in {new_name}",
            f"{counts.additions:7d} additions",
            f"{counts.deletions:7d} deletions",
            f"{counts.revisions:7d} revisions",
            "of which",
            f"{counts.both_titles:7d} revisions to both long and short titles",
            f"{counts.long_only:7d} revisions to long title only",
            f"{counts.short_only:7d} revisions to short title only",
        ]
    return "".join(f"{line}\r\n" for line in lines).encode("ascii")


def release_zip(members: Iterable[tuple[str, bytes]]) -> bytes:
    """A zip of the members given, in that order, stored uncompressed with fixed times.

    Stored rather than deflated: the bytes then depend on nothing but the input (a compressor's
    output may differ between zlib versions), so a written sample is reproducible anywhere.
    """
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.create_system = 3
            archive.writestr(info, data)
    return buffer.getvalue()
