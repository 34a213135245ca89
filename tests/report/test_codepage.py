"""A code's page view (`tracker.report.codepage`) and the plain-text page agree on its status."""

from __future__ import annotations

from datetime import date

from tracker.release import adhoc_info
from tracker.report.codepage import build_code_page, code_status
from tracker.report.render import render_code_page

from .conftest import rec


def test_status_of_an_active_and_a_terminated_code() -> None:
    assert code_status(rec("D1001")) == "active"
    assert code_status(rec("D1001", termination_date=date(2026, 3, 31))) == (
        "terminated 2026-03-31"
    )


def test_page_view_and_text_page_share_the_status() -> None:
    info = adhoc_info("2026-APR")
    record = rec("D1001", termination_date=date(2026, 3, 31), coverage="S")
    page = build_code_page(info, record)
    assert (page.code, page.status, page.release.display) == (
        "D1001",
        "terminated 2026-03-31",
        "2026-APR",
    )
    assert any(label == "Coverage Code" and value == "S" for label, value, _ in page.rows)
    assert "terminated 2026-03-31" in render_code_page(info, record)
