"""Companion files CMS ships beside a release, kept with it: transaction reports, corrections.

They are not release data (no records are read from them into the release), but they are CMS's
own statements about a release: what it declares changed, what it says it got wrong. Keeping
them beside the release, bytes and all, lets the report compare them with the data file and
lists what a corrections file says that the tracker could not apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class AttachmentRole(StrEnum):
    TRANSACTION_REPORT = "transaction_report"
    CORRECTIONS = "corrections"
    # A conversion table (ICD-10): each new code and the code(s) it was previously assigned to.
    CONVERSION_TABLE = "conversion_table"


@dataclass(frozen=True, slots=True)
class NewAttachment:
    """An attachment to store: the companion file's bytes and where in them it sits."""

    role: AttachmentRole
    name: str
    data: bytes
    sha256: str
    member: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    """A stored attachment of a release (its bytes are read from the store on demand)."""

    release_id: int
    position: int
    role: AttachmentRole
    name: str
    source_sha256: str
    member: str | None
    note: str | None
    attached_at: datetime

    @property
    def display(self) -> str:
        """`file.zip!member`, or the file name of a loose file."""
        return f"{self.name}!{self.member}" if self.member else self.name
