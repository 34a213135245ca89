"""End to end in real headless Chromium (Debian's `chromium`, driven by Playwright's Python
API; no browser is downloaded): releases → diff → filter → code page → timeline, checking what
a person sees. The server is uvicorn on a free loopback port."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import SAMPLES

CHROMIUM = os.environ.get("TRACKER_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def _chromium() -> str:
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    message = f"{CHROMIUM} is missing: install Debian's chromium package (.ci/run does)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _serve(url: str) -> Iterator[str]:
    import uvicorn

    from tracker.server import create_app

    port = _free_port()
    config = uvicorn.Config(create_app(url), host="127.0.0.1", port=port, log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def base_url(sample_url: str) -> Iterator[str]:
    yield from _serve(sample_url)


@pytest.fixture(scope="module")
def mixed_url(mixed_sample_url: str) -> Iterator[str]:
    """The HCPCS samples and the two ICD-10-CM samples (FY2019, FY2020)."""
    yield from _serve(mixed_sample_url)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


def _sample_descriptions(quarter: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in (SAMPLES / f"HCPC2026_{quarter}_SAMPLE.txt").read_text("latin-1").splitlines():
        code = line[:5].strip()
        if code and line[10] in "37":
            out[code] = " ".join(line[11:91].split())
    return out


def test_releases_diff_filter_code_page_timeline(browser: Any, base_url: str) -> None:
    jan, apr = _sample_descriptions("JAN"), _sample_descriptions("APR")
    added = sorted(set(apr) - set(jan))
    assert added
    page = browser.new_page()
    page.goto(base_url + "/")
    page.get_by_role("link", name="HCPCS Level II").first.click()
    assert page.locator("h1").inner_text() == "HCPCS Level II releases"
    for label in ("2026-JAN", "2026-APR", "2026-JUL"):
        assert page.locator(f"#r-{label}").is_visible()
    page.get_by_role("link", name="changes since 2026-JAN").click()
    assert page.locator("h1").inner_text() == "HCPCS Level II: 2026-JAN → 2026-APR"
    everything = page.locator("#shown").inner_text()
    page.get_by_label("Kind").select_option("added")
    page.get_by_role("button", name="Filter").click()
    assert "kind=added" in page.url  # a shareable URL
    shown = page.locator("#shown").inner_text()
    assert shown.startswith(f"{len(added)} of ") and shown != everything
    codes = page.locator("#changes td.code").all_inner_texts()
    assert codes == added
    page.get_by_role("link", name=added[0]).click()
    assert added[0] in page.locator("h1").inner_text()
    assert apr[added[0]] in page.locator("main").inner_text()
    timeline = page.locator("#timeline").inner_text()
    assert "2026-APR" in timeline and "first seen" in timeline
    assert "2026-04-01" in page.locator("#validity").inner_text()
    page.close()


def test_terminated_code_shows_its_change_and_replacement(browser: Any, base_url: str) -> None:
    page = browser.new_page()
    page.goto(base_url + "/hcpcs/diff?old=2026-JAN&new=2026-APR")
    page.get_by_label("Text").fill("seat lift")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("#changes td.code").all_inner_texts()
    assert rows and all(code.startswith("E") for code in rows)
    page.get_by_role("link", name="E0159").first.click()
    timeline = page.locator("#timeline").inner_text()
    assert "terminated" in timeline and "termination_date" in timeline
    page.close()


def test_code_page_is_readable_at_phone_width(browser: Any, base_url: str) -> None:
    page = browser.new_page(viewport={"width": 375, "height": 740})
    page.goto(base_url + "/hcpcs/codes/E0159")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    page.close()


def test_hostile_text_is_shown_not_run(browser: Any, base_url: str) -> None:
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(base_url + "/hcpcs/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert page.locator("input[name=q]").last.input_value() == "<script>alert(1)</script>"
    assert dialogs == []
    page.close()


def test_paste_a_code_list_and_see_its_impact(browser: Any, base_url: str, tmp_path: Any) -> None:
    jan, apr, jul = (_sample_descriptions(q) for q in ("JAN", "APR", "JUL"))
    added = sorted(set(apr) - set(jan))[0]  # read from the sample files
    kept = sorted(code for code in set(jan) & set(jul) if jan[code] == jul[code])[0]
    page = browser.new_page(viewport={"width": 375, "height": 740})
    page.goto(base_url + "/")
    page.get_by_role("link", name="Your codes").click()
    page.get_by_label("Codes", exact=True).fill(f"# our fee schedule\n{added}\n{kept}\nZZ999\n")
    page.get_by_label("From").select_option("2026-JAN")
    page.get_by_role("button", name="See the impact").click()
    counts = page.locator("#counts").inner_text()
    assert "1 added" in counts and "1 unknown" in counts, counts
    rows = page.locator("#your-codes tbody tr")
    seen = {
        rows.nth(i).locator("td.code").inner_text(): rows.nth(i).locator("td").first.inner_text()
        for i in range(rows.count())
    }
    assert seen[added] == "added" and seen["ZZ999"] == "unknown" and seen[kept] == "unchanged"
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.get_by_role("link", name="a link to this answer").click()
    assert "codes=" in page.url and "1 added" in page.locator("#counts").inner_text()
    # The same list uploaded as a CSV with its column named.
    upload = tmp_path / "chargemaster.csv"
    upload.write_text(f"Charge,HCPCS\n1,{added}\n2,ZZ999\n")
    page.goto(base_url + "/impact")
    page.get_by_label("CSV column").fill("HCPCS")
    page.get_by_label("From").select_option("2026-JAN")
    page.get_by_label("or a file").set_input_files(str(upload))
    page.get_by_role("button", name="See the impact").click()
    assert "2 codes: 1 added, 1 unknown" in page.locator("#your-codes").inner_text()
    page.close()


def _icd_order(year: str) -> dict[str, tuple[bool, str]]:
    """code -> (billable, long title), from a sample zip's order file by its layout."""
    import zipfile

    with zipfile.ZipFile(SAMPLES / f"icd10cm_FY{year}_SAMPLE.zip") as archive:
        name = next(n for n in archive.namelist() if n.endswith(f"icd10cm_order_{year}.txt"))
        text = archive.read(name).decode("latin-1")
    return {
        line[6:13].strip(): (line[14] == "1", line[77:].strip())
        for line in text.splitlines()
        if len(line) > 77
    }


def _dotted(code: str) -> str:
    return f"{code[:3]}.{code[3:]}" if len(code) > 3 else code


def test_icd10cm_releases_diff_code_page_and_impact(browser: Any, mixed_url: str) -> None:
    fy19, fy20 = _icd_order("2019"), _icd_order("2020")
    deleted = sorted(set(fy19) - set(fy20))
    kept = sorted(c for c in set(fy19) & set(fy20) if fy19[c] == fy20[c] and fy20[c][0])[0]
    assert deleted
    page = browser.new_page()
    page.goto(mixed_url + "/")
    page.get_by_role("link", name="ICD-10-CM").first.click()
    assert page.locator("h1").inner_text() == "ICD-10-CM releases"
    page.get_by_role("link", name="changes since FY2019").click()
    assert page.locator("h1").inner_text() == "ICD-10-CM: FY2019 → FY2020"
    page.get_by_label("Kind").select_option("deleted")
    page.get_by_role("button", name="Filter").click()
    assert "kind=deleted" in page.url
    codes = page.locator("#changes td.code").all_inner_texts()
    assert codes == [_dotted(code) for code in deleted]  # shown with the dot
    page.get_by_role("link", name=_dotted(deleted[0])).click()
    assert fy19[deleted[0]][1] in page.locator("main").inner_text()
    # The impact page, ICD-10-CM chosen, one code without its dot.
    page.goto(mixed_url + "/impact")
    page.get_by_label("Code set").select_option("icd10cm")
    page.get_by_label("Codes", exact=True).fill(f"{deleted[0]}\n{_dotted(kept)}\nE11.9O\n")
    page.get_by_role("button", name="See the impact").click()
    counts = page.locator("#counts").inner_text()
    assert "1 deleted" in counts and "1 unchanged" in counts and "1 unknown" in counts, counts
    rows = page.locator("#your-codes tbody tr")
    seen = {
        rows.nth(i).locator("td.code").inner_text(): rows.nth(i).locator("td").nth(2).inner_text()
        for i in range(rows.count())
    }
    assert seen[_dotted(deleted[0])] == "deleted" and seen[_dotted(kept)] == "active"
    page.close()
