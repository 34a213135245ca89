"""Replaced-by links a code set declares outside its records: ICD-10's conversion tables.

A HCPCS record names its own replacements (XREF). An ICD-10 record does not: CDC (ICD-10-CM)
and CMS (ICD-10-PCS) publish conversion tables instead, each new code with the code(s) it was
previously assigned to. Read backwards, they say what replaced a deleted code: the new codes
whose rows name it (`tracker.codesets.icd10.conversion.replaced_by`).

Where the links come from. The store keeps every source file byte for byte, so the links are
read from there on demand rather than copied into tables of their own at ingest: from the
conversion table inside a stored release zip (CMS's PCS errata carries one), and from a loose
table ingested as a companion of its release (kept as an attachment of role
`conversion_table`). Nothing new is stored, no schema changes, a better table reader applies to
releases already stored, and the answer always comes from the same bytes `verify` checks.
Parsed tables are cached by content hash for the life of the process (stored bytes never
change), so a server or a bulk run reads each table once.

Which rows apply. CDC's tables are cumulative (the FY2021 one still lists the FY2016 codes),
and a code may be named as the previous assignment of a new code long before it is itself
deleted (A04.7 was split in 2016 and stayed valid as a category). So a deleted code's
replacements are the rows dated after the last release that carried it and no later than the
release that dropped it: the update that deleted it is the one that brought its replacements.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from tracker.attachments import AttachmentRole, NewAttachment
from tracker.codesets.base import CodeRecord, SourceFile
from tracker.codesets.icd10.archive import CONVERSION_NAME
from tracker.codesets.icd10.conversion import (
    ConversionLink,
    latest_effective,
    parse_conversion_table,
    table_code_set,
)
from tracker.codesets.icd10.record import CODE_SETS, code_set_of
from tracker.companions import Kept
from tracker.errors import ReleaseError, SourceError, TrackerError
from tracker.release import ReleaseInfo, known_at_in
from tracker.store import Store
from tracker.validity import Closure, ValidityInterval

_ENDED = frozenset({Closure.TERMINATED, Closure.REMOVED})
# Parsed tables by (content sha256, member, code set); stored bytes never change.
_TABLES: dict[tuple[str, str, str], tuple[ConversionLink, ...]] = {}


@dataclass(frozen=True, slots=True)
class TableSource:
    """One conversion table a release holds: in its own source zip or as an attachment."""

    release: ReleaseInfo
    name: str  # `file.zip!member` or the loose file's name, for messages
    sha256: str  # of the member or of the loose file


class Crosswalk:
    """The replaced-by links of the conversion tables known at K, indexed by previous code."""

    def __init__(self, links: Iterable[ConversionLink] = ()) -> None:
        self._exact: dict[str, list[ConversionLink]] = {}
        self._ranged: list[ConversionLink] = []
        self.tables: tuple[str, ...] = ()
        for link in links:
            # A revised code is renamed, not replaced: no link.
            if link.change.lower().startswith("revised"):
                continue
            for code in link.previous:
                self._exact.setdefault(code, []).append(link)
            if link.ranges:
                self._ranged.append(link)

    def __bool__(self) -> bool:
        return bool(self._exact or self._ranged)

    def replacements(self, code: str, after: date | None, until: date | None) -> tuple[str, ...]:
        """The new codes whose rows name `code`, dated in (`after`, `until`] (None: open), each
        once, in table order."""
        found = [*self._exact.get(code, ()), *(link for link in self._ranged if link.covers(code))]
        codes: list[str] = []
        for link in found:
            effective = link.effective
            if effective is not None:
                if after is not None and effective <= after:
                    continue
                if until is not None and effective > until:
                    continue
            if link.current != code and link.current not in codes:
                codes.append(link.current)
        return tuple(codes)

    def for_interval(self, code: str, interval: ValidityInterval[CodeRecord]) -> tuple[str, ...]:
        """The replacements of `code` where `interval` ended (none while it has not)."""
        if interval.closure not in _ENDED or interval.closed_by is None:
            return ()
        return self.replacements(
            code, interval.last_seen.effective_date, interval.closed_by.effective_date
        )


EMPTY = Crosswalk()


def table_sources(store: Store, releases: Sequence[ReleaseInfo]) -> list[TableSource]:
    """Every conversion table `releases` hold: a zip member named like one, or an attachment."""
    found: list[TableSource] = []
    for info in releases:
        for name, _size, sha256, is_data in store.members(info):
            if not is_data and CONVERSION_NAME.search(name.rsplit("/", 1)[-1]):
                found.append(TableSource(info, f"{info.source_name}!{name}", sha256))
        for attachment in store.attachments(info):
            if attachment.role is AttachmentRole.CONVERSION_TABLE:
                found.append(TableSource(info, attachment.display, attachment.source_sha256))
    return found


def _table_bytes(store: Store, source: TableSource) -> bytes:
    """The table's bytes: the loose file, or the member of a stored zip."""
    for attachment in store.attachments(source.release):
        if (
            attachment.role is AttachmentRole.CONVERSION_TABLE
            and attachment.source_sha256 == source.sha256
        ):
            data = store.attachment_bytes(attachment)
            return _member(data, attachment.member) if attachment.member else data
    member = source.name.split("!", 1)[1]
    return _member(store.source_bytes(source.release), member)


def _member(data: bytes, member: str) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.read(member)
    except (zipfile.BadZipFile, KeyError) as exc:
        raise SourceError(member, f"cannot be read from its stored zip ({exc})") from None


def table_links(store: Store, source: TableSource) -> tuple[ConversionLink, ...]:
    """The links of one table, parsed once per process."""
    code_set = code_set_of(source.release.code_set)
    key = (source.sha256, source.name.rsplit("!", 1)[-1], code_set)
    links = _TABLES.get(key)
    if links is None:
        data = _table_bytes(store, source)
        links = _TABLES[key] = tuple(parse_conversion_table(source.name, data, code_set))
    return links


def load_crosswalk(store: Store, releases: Sequence[ReleaseInfo]) -> Crosswalk:
    """The links of every conversion table held by `releases` (the releases known at K).

    A code set without conversion tables (HCPCS) gets `EMPTY` without reading the store. A
    table that no longer reads is skipped (it was read at ingest; a reader change must not make
    every answer fail) and named in `Crosswalk.tables` as skipped.
    """
    if not releases or releases[-1].code_set not in CODE_SETS:
        return EMPTY
    links: list[ConversionLink] = []
    names: list[str] = []
    for source in table_sources(store, releases):
        try:
            links.extend(table_links(store, source))
        except TrackerError as exc:
            names.append(f"{source.name} (skipped: {exc})")
            continue
        names.append(source.name)
    if not links:
        return EMPTY
    crosswalk = Crosswalk(links)
    crosswalk.tables = tuple(names)
    return crosswalk


def replacements_between(
    store: Store, old: ReleaseInfo, new: ReleaseInfo, codes: Iterable[str]
) -> dict[str, tuple[str, ...]]:
    """For codes deleted between releases `old` and `new` (a diff's deleted codes), the new
    codes the conversion tables known at `new` link them to, dated in (old, new]: what a
    report lists beside each deleted code. Codes with no link are left out."""
    known = known_at_in(store.all_releases(new.code_set), new.label, new.code_set)
    crosswalk = load_crosswalk(store, known)
    found = {
        code: crosswalk.replacements(code, old.effective_date, new.effective_date) for code in codes
    }
    return {code: linked for code, linked in found.items() if linked}


def loose_table_code_set(source: SourceFile) -> str | None:
    """The code set of a loose conversion table (named like one, read like one), or None."""
    base = source.name.replace("\\", "/").rsplit("/", 1)[-1]
    if CONVERSION_NAME.search(base) is None:
        return None
    return table_code_set(base, source.data)


def attach_table(store: Store, source: SourceFile, sha256: str, release: str | None) -> Kept:
    """Keep a loose conversion table with the release it was made for.

    That release is `release`, else the stored release of the table's code set taking effect
    on the latest date the table names (CDC's tables are cumulative: the newest rows are the
    update the table was published for, FY2020's 2019-10-01, January 2021's 2021-01-01).
    """
    code_set = loose_table_code_set(source)
    if code_set is None:
        raise SourceError(source.name, "is not a conversion table")
    links = parse_conversion_table(source.name, source.data, code_set_of(code_set))
    if release:
        try:
            info = store.resolve(release, code_set)
        except TrackerError as exc:
            raise ReleaseError(f"{source.name}: {exc}") from None
    else:
        newest = latest_effective(links)
        candidates = [
            info for info in store.current_releases(code_set) if info.effective_date == newest
        ]
        if newest is None or not candidates:
            when = newest.isoformat() if newest else "no date"
            raise ReleaseError(
                f"{source.name}: is a conversion table, kept with its release, and no stored"
                f" {code_set} release takes effect on {when} (the table's latest date);"
                " ingest that release first, or give --release"
            )
        info = candidates[-1]
    attached = store.attach(
        info, NewAttachment(AttachmentRole.CONVERSION_TABLE, source.name, source.data, sha256)
    )
    state = "attached to" if attached else "already attached to"
    return Kept(
        release=info,
        created=attached is not None,
        new_record_versions=0,
        message=f"{source.name}: conversion table {state} {info.display} ({len(links)} rows)",
    )


__all__ = [
    "EMPTY",
    "Crosswalk",
    "TableSource",
    "attach_table",
    "load_crosswalk",
    "loose_table_code_set",
    "replacements_between",
    "table_links",
    "table_sources",
]
