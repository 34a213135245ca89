"""Reading the "Your codes" section back out of each report format, and taking it out again.

Both the sample and the real-release tests check the section the same way: every format must
say the same kind, status and replacements for each listed code, and the report with the
section taken out must be the report without a watchlist, byte for byte.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from typing import Any

# code -> (kind, status, replacements), kinds as `tracker impact` prints them ("not yet effective").
Section = dict[str, tuple[str, str, str]]

_MD_CELL = re.compile(r"(?<!\\)\|")
_MD_ESCAPE = re.compile(r"\\(.)")
_HTML_ROW = re.compile(
    r'<tr class="impact-[^"]*"><td>(.*?)</td><td class="code">(.*?)</td><td>(.*?)</td>'
    r"<td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>"
)
_HTML_SECTION = re.compile(r'<section id="your-codes">.*?</section>\n\n', re.DOTALL)
_HTML_NAV = re.compile(r'<a href="#your-codes">Your codes \(\d+\)</a>')


def md_section(text: str) -> str:
    """The Markdown section, from its heading to the next level-2 heading."""
    start = text.index("\n## Your codes\n") + 1
    return text[start : text.index("\n## ", start) + 1]


def md_rows(text: str) -> Section:
    rows: Section = {}
    for line in md_section(text).splitlines():
        if not line.startswith("| ") or line.startswith("| kind |"):
            continue
        cells = [_MD_ESCAPE.sub(r"\1", cell.strip()) for cell in _MD_CELL.split(line)[1:-1]]
        kind, code, status, _description, _details, replacements = cells
        rows[code] = (kind, status, replacements)
    return rows


def html_rows(text: str) -> Section:
    match = _HTML_SECTION.search(text)
    assert match is not None, "no your-codes section"
    return {
        html.unescape(code): (html.unescape(kind), html.unescape(status), html.unescape(repl))
        for kind, code, status, _description, _details, repl in _HTML_ROW.findall(match[0])
    }


def csv_table(text: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return rows[0], rows[1:]


def csv_rows(text: str) -> Section:
    header, rows = csv_table(text)
    at = {name: header.index(name) for name in ("code", "kind", "status", "replacements")}
    return {
        row[at["code"]]: (row[at["kind"]], row[at["status"]], row[at["replacements"]])
        for row in rows
        if row[0] == "your_codes"
    }


def json_rows(text: str) -> Section:
    return {
        entry["code"]: (entry["kind"].replace("_", " "), entry["status"], entry["replaced_by"])
        for entry in json.loads(text)["watchlist"]["codes"]
    }


READERS = {"md": md_rows, "html": html_rows, "csv": csv_rows, "json": json_rows}


def without_section(fmt: str, text: str) -> str:
    """The report with the "Your codes" section taken out: what it was without a watchlist."""
    if fmt == "md":
        return text.replace(md_section(text), "")
    if fmt == "html":
        return _HTML_NAV.sub("", _HTML_SECTION.sub("", text, count=1), count=1)
    if fmt == "csv":
        header, rows = csv_table(text)
        assert header[0] == "section" and header[-3:] == ["status", "details", "replacements"]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(header[1:-3])
        writer.writerows(row[1:-3] for row in rows if row[0] == "changes")
        return buffer.getvalue()
    data: dict[str, Any] = json.loads(text)
    data.pop("watchlist")
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def section_comes_first(fmt: str, text: str) -> bool:
    """Whether the section opens the report's body: before provenance (md, html), its rows
    before any other row (csv); JSON has no order, the key is there."""
    if fmt == "md":
        return text.index("## Your codes") < text.index("## Provenance")
    if fmt == "html":
        return text.index('<section id="your-codes">') < text.index('<section id="provenance">')
    if fmt == "csv":
        sections = [row[0] for row in csv_table(text)[1]]
        first_change = sections.index("changes") if "changes" in sections else len(sections)
        return set(sections[:first_change]) == {"your_codes"} and "your_codes" not in set(
            sections[first_change:]
        )
    return "watchlist" in json.loads(text)
