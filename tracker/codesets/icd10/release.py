"""One ICD-10 release from a path: a CMS zip as published, or a loose order file.

Brings the parts together (order file, addenda, conversion table, version) so that a store or
a command needs one call; everything here is read-only and returns plain values.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath

from tracker.errors import SourceError

from .addenda import Addenda, parse_addenda
from .archive import Member, announcement_text, read_archive
from .conversion import ConversionLink, parse_conversion_table
from .orderfile import OrderFile, parse_order_file
from .record import CodeSet
from .version import VersionInfo, infer_version

MAX_LOOSE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Icd10Release:
    """A parsed release with its provenance (`members`: every file read, size and sha256)."""

    source: str
    code_set: CodeSet
    order: OrderFile
    addenda: Addenda | None
    conversion: tuple[ConversionLink, ...]
    version: VersionInfo
    members: tuple[Member, ...]
    # The order file's member name in a zip; the file's own name for a loose order file.
    data_member: str = ""


ZIP_MAGIC = b"PK\x03\x04"


def read_release(
    path: str | Path,
    code_set: CodeSet | None = None,
    label: str | None = None,
    effective: date | None = None,
) -> Icd10Release:
    """Parse a zip (order file found in any folder) or a loose `icd10cm_order_YYYY.txt`.

    `code_set` is detected from the content when not given (and must agree with it when
    given); `label`/`effective` override the inferred version.
    """
    source = Path(path)
    try:
        size = source.stat().st_size
        if size > MAX_LOOSE_BYTES:
            raise SourceError(str(source), f"is {size} bytes, over the {MAX_LOOSE_BYTES} limit")
        data = source.read_bytes()
    except OSError as exc:
        raise SourceError(str(source), f"cannot be read ({exc.strerror})") from None
    return read_release_data(str(source), data, code_set, label, effective)


@dataclass(frozen=True, slots=True)
class ReleaseParts:
    """What a source holds, read and checked, before its version is inferred.

    Kept apart from `Icd10Release` so a caller that can name the version itself (a `--release`
    given later) can read a file whose name and content do not say it.
    """

    source: str
    order: OrderFile
    addenda: Addenda | None
    conversion: tuple[ConversionLink, ...]
    members: tuple[Member, ...]
    data_member: str
    order_name: str
    source_name: str
    member_names: tuple[str, ...]
    announcement: str | None

    def version(self, label: str | None = None, effective: date | None = None) -> VersionInfo:
        """The inferred version (see `version`), or `SourceError` when nothing tells it."""
        return infer_version(
            self.order_name,
            self.addenda.summary if self.addenda else None,
            self.source_name,
            self.member_names,
            self.announcement,
            label=label,
            effective=effective,
        )


def read_parts(name: str, data: bytes) -> ReleaseParts:
    """The order file, addenda, conversion table and members of a zip or a loose order file.

    A zip is recognised by its bytes (`PK\\x03\\x04`), not by its name; messages about a
    member name it `zip!member`.
    """
    base = PurePosixPath(name.replace("\\", "/")).name
    if not data.startswith(ZIP_MAGIC):
        if len(data) > MAX_LOOSE_BYTES:
            raise SourceError(name, f"is {len(data)} bytes, over the {MAX_LOOSE_BYTES} limit")
        member = Member(base, len(data), hashlib.sha256(data).hexdigest(), is_data=True)
        return ReleaseParts(
            name, parse_order_file(name, data), None, (), (member,), name, base, base, (), None
        )
    archive = read_archive(name, data=data)
    order = parse_order_file(f"{name}!{archive.order_name}", archive.order_data)
    addenda = None
    if archive.addenda_name and archive.addenda_data is not None:
        addenda = parse_addenda(f"{name}!{archive.addenda_name}", archive.addenda_data)
    conversion: tuple[ConversionLink, ...] = ()
    if archive.conversion_name and archive.conversion_data is not None:
        conversion = tuple(
            parse_conversion_table(
                f"{name}!{archive.conversion_name}", archive.conversion_data, order.code_set
            )
        )
    announcement = (
        announcement_text(archive.announcement_data) if archive.announcement_data else None
    )
    return ReleaseParts(
        source=name,
        order=order,
        addenda=addenda,
        conversion=conversion,
        members=archive.members,
        data_member=archive.order_name,
        order_name=archive.order_name,
        source_name=base,
        member_names=archive.member_names,
        announcement=announcement,
    )


def read_release_data(
    name: str,
    data: bytes,
    code_set: CodeSet | None = None,
    label: str | None = None,
    effective: date | None = None,
) -> Icd10Release:
    """`read_release` for bytes already read; `name` is the file's name for messages."""
    parts = read_parts(name, data)
    if code_set is not None and code_set != parts.order.code_set:
        raise SourceError(name, f"holds {parts.order.code_set} codes, not {code_set}")
    return Icd10Release(
        source=name,
        code_set=parts.order.code_set,
        order=parts.order,
        addenda=parts.addenda,
        conversion=parts.conversion,
        version=parts.version(label, effective),
        members=parts.members,
        data_member=parts.data_member,
    )
