"""The CMS release zip as published (`2020-Alpha-Numeric-HCPCS-File.zip` and its kin).

A release zip holds the release twice (fixed-width text and workbook) next to files that look
alike but are not the release: transaction reports (`.prn` listings in the very same 320-byte
layout, `TRANS_ALPHA` workbooks), corrections, record layouts, processing notes, READMEs. Those
are recognised by name, since their content can pass for a release. Of what remains the text is
preferred: it is complete, while workbooks split or cut long descriptions. Every member is still
read and hashed, so the stored release can prove which bytes it came from.

A zip comes from outside, so it is read defensively: member paths must be relative without `..`,
declared sizes and compression ratios are checked before anything is inflated, and reads are
bounded so that a header lying about its size cannot exhaust memory. A zip of per-code pages
(how a directory of pages is ingested) is one release made of all its pages.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from tracker.codesets.base import Anomaly, ParsedRelease, SourceMember
from tracker.codesets.hcpcs.parsers.base import (
    MAX_COMPRESSION_RATIO,
    MAX_MEMBER_SIZE,
    ZIP_MAGIC,
    Parser,
    SourceFile,
    is_xlsx,
    one_line,
    zip_member_problem,
)
from tracker.codesets.hcpcs.parsers.fixedwidth import FixedWidthParser
from tracker.codesets.hcpcs.parsers.seedpage import SeedPageParser
from tracker.codesets.hcpcs.parsers.workbook import WorkbookParser
from tracker.codesets.hcpcs.record import Record
from tracker.errors import ParseError

__all__ = ["MAX_COMPRESSION_RATIO", "MAX_MEMBER_SIZE", "CmsZipParser", "is_companion_file"]

# Name fragments (lower case, punctuation removed) of the files CMS ships beside the release.
COMPANION_MARKS = ("trans", "changesby", "correction", "recordlayout", "procnote", "readme")
_READ_CHUNK = 1024 * 1024


def is_companion_file(member: str) -> bool:
    """Transaction reports, corrections, layouts, notes and READMEs are not the release itself."""
    base = posixpath.basename(member.replace("\\", "/"))
    if base.startswith("._") or member.startswith("__MACOSX/"):
        return True
    key = re.sub(r"[^a-z0-9]", "", base.lower())
    return any(mark in key for mark in COMPANION_MARKS)


def _unsafe_path(member: str) -> bool:
    name = member.replace("\\", "/")
    return (
        name.startswith("/") or re.match(r"^[A-Za-z]:", name) is not None or ".." in name.split("/")
    )


@dataclass(frozen=True, slots=True)
class _Member:
    name: str
    data: bytes | None  # kept only for members that may hold the release
    size: int
    sha256: str


class CmsZipParser:
    name = "cms-zip"
    version = "1"

    def __init__(self) -> None:
        self.text = FixedWidthParser()
        self.workbook = WorkbookParser()
        self.pages = SeedPageParser()

    def detect(self, source: SourceFile) -> bool:
        # An .xlsx is a zip too, but it is the workbook parser's.
        return source.data[:4] in ZIP_MAGIC and not is_xlsx(source.data)

    def parse_release(self, source: SourceFile) -> ParsedRelease:
        members = self._read_members(source)
        listed = tuple(SourceMember(name=m.name, size=m.size, sha256=m.sha256) for m in members)
        candidates = [m for m in members if m.data is not None]
        for parser in (self.text, self.workbook):
            found = [m for m in candidates if parser.detect(self._sub(source, m))]
            if len(found) > 1:
                raise ParseError(
                    source.name,
                    f"two candidate release files inside: {found[0].name} and {found[1].name}",
                )
            if found:
                chosen = found[0]
                anomalies: tuple[Anomaly, ...] = ()
                if parser is self.text:
                    read, repairs = self.text.read(self._sub(source, chosen))
                    records, anomalies = tuple(read), tuple(repairs)
                else:
                    records = tuple(parser.parse(self._sub(source, chosen)))
                if not records:
                    raise ParseError(f"{source.name}!{chosen.name}", "no HCPCS records found")
                release = self._release(parser, records, chosen.name, listed, {chosen.name})
                return dataclasses.replace(release, anomalies=anomalies)
        pages = [m for m in candidates if self.pages.detect(self._sub(source, m))]
        if pages:
            return self._pages_release(source, pages, listed)
        names = ", ".join(m.name for m in members) or "none"
        raise ParseError(source.name, f"no HCPCS release file inside (members: {names})")

    def parse(self, source: SourceFile) -> Iterator[Record]:
        """For callers that only want records; `parse_source` uses `parse_release`."""
        yield from self.parse_release(source).records

    def _read_members(self, source: SourceFile) -> list[_Member]:
        try:
            archive = zipfile.ZipFile(io.BytesIO(source.data))
        except (zipfile.BadZipFile, NotImplementedError, OSError, ValueError, EOFError) as exc:
            raise ParseError(source.name, f"truncated or corrupt zip ({one_line(exc)})") from None
        members: list[_Member] = []
        with archive:
            infos = [info for info in archive.infolist() if not info.is_dir()]
            # Refuse the whole archive before reading a byte of any member.
            for info in infos:
                where = f"{source.name}!{info.filename}"
                if _unsafe_path(info.filename):
                    raise ParseError(where, "unsafe member path (absolute or containing '..')")
                problem = zip_member_problem(info)
                if problem is not None:
                    raise ParseError(where, problem)
                if info.flag_bits & 0x1:
                    raise ParseError(where, "member is encrypted")
            for info in infos:
                members.append(self._read_member(source, archive, info))
        return members

    @staticmethod
    def _read_member(
        source: SourceFile, archive: zipfile.ZipFile, info: zipfile.ZipInfo
    ) -> _Member:
        keep = not is_companion_file(info.filename)
        digest = hashlib.sha256()
        chunks: list[bytes] = []
        size = 0
        try:
            with archive.open(info) as stream:
                while True:
                    # Never ask for more than the declared size allows, plus one byte to notice
                    # a stream that runs past it.
                    chunk = stream.read(min(_READ_CHUNK, info.file_size - size + 1))
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > info.file_size:
                        raise ParseError(
                            f"{source.name}!{info.filename}",
                            f"member inflates beyond its declared size of {info.file_size} bytes",
                        )
                    digest.update(chunk)
                    if keep:
                        chunks.append(chunk)
        except NotImplementedError as exc:
            raise ParseError(
                f"{source.name}!{info.filename}", f"cannot be read ({one_line(exc)})"
            ) from None
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
            raise ParseError(
                source.name, f"truncated or corrupt zip ({info.filename}: {one_line(exc)})"
            ) from None
        return _Member(
            name=info.filename,
            data=b"".join(chunks) if keep else None,
            size=size,
            sha256=digest.hexdigest(),
        )

    @staticmethod
    def _sub(source: SourceFile, member: _Member) -> SourceFile:
        return SourceFile(name=f"{source.name}!{member.name}", data=member.data or b"")

    def _pages_release(
        self, source: SourceFile, pages: Sequence[_Member], listed: tuple[SourceMember, ...]
    ) -> ParsedRelease:
        records: list[Record] = []
        where: dict[str, str] = {}
        for member in sorted(pages, key=lambda m: m.name):
            for record in self.pages.parse(self._sub(source, member)):
                if record.code in where:
                    raise ParseError(
                        f"{source.name}!{member.name}",
                        f"code {record.code} is also on page {where[record.code]}",
                    )
                where[record.code] = member.name
                records.append(record)
        if not records:
            raise ParseError(source.name, "per-code pages hold no HCPCS records")
        folders = {posixpath.dirname(m.name) for m in pages}
        data_member = f"{folders.pop()}/*" if len(folders) == 1 and "" not in folders else "*"
        return self._release(
            self.pages, tuple(records), data_member, listed, {m.name for m in pages}
        )

    @staticmethod
    def _release(
        parser: Parser,
        records: tuple[Record, ...],
        data_member: str,
        listed: tuple[SourceMember, ...],
        data_names: set[str],
    ) -> ParsedRelease:
        members = tuple(
            SourceMember(m.name, m.size, m.sha256, is_data=m.name in data_names) for m in listed
        )
        return ParsedRelease(
            records=records,
            parser=parser.name,
            parser_version=parser.version,
            data_member=data_member,
            members=members,
        )
