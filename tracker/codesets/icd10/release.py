"""One ICD-10 release from a path: a CMS zip as published, or a loose order file.

Brings the parts together (order file, addenda, conversion table, version) so that a store or
a command needs one call; everything here is read-only and returns plain values.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

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
    if source.suffix.lower() == ".zip":
        archive = read_archive(source)
        order = parse_order_file(f"{source}:{archive.order_name}", archive.order_data)
        addenda = None
        if archive.addenda_name and archive.addenda_data is not None:
            addenda = parse_addenda(f"{source}:{archive.addenda_name}", archive.addenda_data)
        conversion: tuple[ConversionLink, ...] = ()
        if archive.conversion_name and archive.conversion_data is not None:
            conversion = tuple(
                parse_conversion_table(
                    f"{source}:{archive.conversion_name}", archive.conversion_data, order.code_set
                )
            )
        announcement = (
            announcement_text(archive.announcement_data) if archive.announcement_data else None
        )
        version = infer_version(
            archive.order_name,
            addenda.summary if addenda else None,
            source.name,
            archive.member_names,
            announcement,
            label=label,
            effective=effective,
        )
        members = archive.members
    else:
        try:
            size = source.stat().st_size
            if size > MAX_LOOSE_BYTES:
                raise SourceError(str(source), f"is {size} bytes, over the {MAX_LOOSE_BYTES} limit")
            data = source.read_bytes()
        except OSError as exc:
            raise SourceError(str(source), f"cannot be read ({exc.strerror})") from None
        order = parse_order_file(str(source), data)
        addenda = None
        conversion = ()
        version = infer_version(source.name, label=label, effective=effective)
        members = (Member(source.name, len(data), hashlib.sha256(data).hexdigest()),)
    if code_set is not None and code_set != order.code_set:
        raise SourceError(str(source), f"holds {order.code_set} codes, not {code_set}")
    return Icd10Release(
        source=str(source),
        code_set=order.code_set,
        order=order,
        addenda=addenda,
        conversion=conversion,
        version=version,
        members=members,
    )
