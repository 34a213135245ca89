"""CMS's ICD-10 zips as published: find the order file, its addenda and a conversion table.

The zips differ every year (members at the top, under `2020 Code Descriptions/`, under a folder
with spaces and parentheses; PDFs, XML tables and .docx announcements beside the text files),
so members are recognised by their base name, wherever they sit. Every member is recorded with
its size and sha256, so what was read can be proved later.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from tracker.codesets.base import SourceMember
from tracker.errors import SourceError

from .orderfile import ORDER_NAME

# One member of the zip as read (name, size, sha256, whether the records came from it): the
# shared `SourceMember`, so a parsed release hands its members to the store as they are.
Member = SourceMember

# `icd10cm_order_addenda_2024.txt` (CM), `order_addenda_2024.txt` (PCS), any case.
ADDENDA_NAME = re.compile(r"^(icd10(cm|pcs)_)?order_addenda_(\d{4})([a-z]*)\.txt$", re.I)
CONVERSION_NAME = re.compile(r"conversion[ _-]?table.*\.(xlsx|csv)$", re.I)
ANNOUNCEMENT_NAME = re.compile(r"\.docx$", re.I)

# A member larger than this is not an ICD-10 text file (the largest, CM's order file, is ~15 MB).
MAX_MEMBER_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Icd10Archive:
    """What a zip holds for the tracker: the order file, and what comes with it when present."""

    path: str
    order_name: str
    order_data: bytes
    addenda_name: str | None
    addenda_data: bytes | None
    conversion_name: str | None
    conversion_data: bytes | None
    announcement_name: str | None
    announcement_data: bytes | None
    members: tuple[Member, ...]

    @property
    def member_names(self) -> tuple[str, ...]:
        return tuple(member.name for member in self.members)


def _unsafe(name: str) -> bool:
    """Absolute paths, drive letters and `..` parts: names that could leave a target folder."""
    posix = name.replace("\\", "/")
    if posix.startswith("/") or re.match(r"^[A-Za-z]:", posix):
        return True
    return ".." in PurePosixPath(posix).parts


def _base(name: str) -> str:
    return PurePosixPath(name.replace("\\", "/")).name


def _pick(path: str, kind: str, names: list[str]) -> str | None:
    """The one member of a kind; two candidates is an error, never a guess."""
    if len(names) > 1:
        raise SourceError(path, f"holds more than one {kind}: {', '.join(sorted(names))}")
    return names[0] if names else None


def read_archive(
    path: str | Path, max_member_bytes: int = MAX_MEMBER_BYTES, data: bytes | None = None
) -> Icd10Archive:
    """Read an ICD-10 zip, or raise a one-line error naming the zip (and the member) first.

    `data`, when given, is the zip's bytes (already read), and `path` only its name.
    """
    location = str(path)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data) if data is not None else path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise SourceError(location, f"cannot be read as a zip ({exc})") from None
    with archive:
        infos = [info for info in archive.infolist() if not info.is_dir()]
        for info in infos:
            if _unsafe(info.filename):
                raise SourceError(location, f"member {info.filename!r} has an unsafe path")
            if info.file_size > max_member_bytes:
                raise SourceError(
                    location,
                    f"member {info.filename!r} is {info.file_size} bytes, "
                    f"over the {max_member_bytes}-byte limit",
                )
        contents: dict[str, bytes] = {}
        members: list[Member] = []
        for info in infos:
            try:
                with archive.open(info) as handle:
                    # Read one byte past the limit: a size header that lies is caught too.
                    data = handle.read(max_member_bytes + 1)
            except (OSError, zipfile.BadZipFile, NotImplementedError, RuntimeError) as exc:
                raise SourceError(location, f"member {info.filename!r} unreadable: {exc}") from None
            if len(data) > max_member_bytes:
                raise SourceError(location, f"member {info.filename!r} is over the size limit")
            contents[info.filename] = data
            members.append(Member(info.filename, len(data), hashlib.sha256(data).hexdigest()))
    names = list(contents)
    order = _pick(location, "order file", [n for n in names if ORDER_NAME.match(_base(n))])
    if order is None:
        raise SourceError(location, "holds no icd10cm_order_YYYY.txt or icd10pcs_order_YYYY.txt")
    addenda = _pick(location, "order addenda", [n for n in names if ADDENDA_NAME.match(_base(n))])
    conversion = _pick(
        location, "conversion table", [n for n in names if CONVERSION_NAME.search(_base(n))]
    )
    announcement = _pick(
        location, "announcement", [n for n in names if ANNOUNCEMENT_NAME.search(_base(n))]
    )
    return Icd10Archive(
        path=location,
        order_name=order,
        order_data=contents[order],
        addenda_name=addenda,
        addenda_data=contents[addenda] if addenda else None,
        conversion_name=conversion,
        conversion_data=contents[conversion] if conversion else None,
        announcement_name=announcement,
        announcement_data=contents[announcement] if announcement else None,
        members=tuple(
            Member(m.name, m.size, m.sha256, is_data=True) if m.name == order else m
            for m in members
        ),
    )


def announcement_text(data: bytes) -> str:
    """The plain text of a .docx announcement (CMS's errata notice says its effective date).

    Only `word/document.xml` is read; tags are dropped and runs joined, since Word splits
    "April 1, 2022" over several runs. An unreadable file gives an empty text, not an error:
    the announcement is evidence, never required.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as docx:
            info = docx.getinfo("word/document.xml")
            if info.file_size > MAX_MEMBER_BYTES:
                return ""
            xml = docx.read(info).decode("utf-8", "replace")
    except (KeyError, OSError, zipfile.BadZipFile):
        return ""
    xml = re.sub(r"</w:p>", "\n", xml)
    text = re.sub(r"<[^>]+>", "", xml)
    return re.sub(r"[ \t]+", " ", text)
