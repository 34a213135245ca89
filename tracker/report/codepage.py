"""The view of one code's page: its release, status and every field labelled and decoded."""

from __future__ import annotations

from tracker.codesets.hcpcs.codepage import field_rows
from tracker.codesets.hcpcs.codetables import code_family
from tracker.codesets.hcpcs.record import Record
from tracker.release import ReleaseInfo
from tracker.report.describe import release_view
from tracker.report.views import CodePageView


def code_status(record: Record) -> str:
    """`active`, or `terminated` and the date, as every code page heads a record."""
    if record.termination_date:
        return f"terminated {record.termination_date.isoformat()}"
    return "active"


def build_code_page(info: ReleaseInfo, record: Record) -> CodePageView:
    return CodePageView(
        release=release_view(info),
        code=record.code,
        kind=record.kind.value,
        family=code_family(record.code),
        long_description=record.long_description,
        short_description=record.short_description,
        status=code_status(record),
        rows=tuple(field_rows(record)),
    )
