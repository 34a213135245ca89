"""The peer: what a user without the tracker would write to compare two CMS workbooks.

pandas reads both workbooks (the header row is found by scanning for the `HCPC` cell, because
CMS puts it on row 1, 8 or 11), datacompy joins them on code and sequence number (older
workbooks hold one row per physical line, so the code alone is not a key) and writes its
per-column report. It is given the fastest engine pandas offers for the file (calamine, which
also reads the old `.xls`), so the comparison is not won by handicapping it.

Run as a script it is the peer's "whole command": `python bench/peer.py OLD NEW -o report.txt`,
where a workbook inside a zip is named `release.zip!member.xlsx` and read from memory.
"""

from __future__ import annotations

import argparse
import io
import sys
import zipfile
from pathlib import Path
from typing import Any

HEADER_SCAN_ROWS = 30
DEFAULT_ENGINE = "calamine"


def read_bytes(spec: str) -> tuple[str, bytes]:
    """`file.xlsx` or `archive.zip!member.xlsx` to (display name, bytes); zips stay in memory."""
    path, _, member = spec.partition("!")
    if member:
        with zipfile.ZipFile(path) as archive:
            return member, archive.read(member)
    return Path(path).name, Path(path).read_bytes()


def read_workbook(data: bytes, engine: str = DEFAULT_ENGINE) -> Any:
    """The release's rows under their own header, wherever CMS put the header row."""
    import pandas as pd

    raw = pd.read_excel(io.BytesIO(data), header=None, engine=engine)
    header_at = None
    for position in range(min(HEADER_SCAN_ROWS, len(raw))):
        cells = [str(value).strip().upper() for value in raw.iloc[position]]
        if "HCPC" in cells or "HCPCS" in cells:
            header_at = position
            break
    if header_at is None:
        raise ValueError(f"no HCPC header cell in the first {HEADER_SCAN_ROWS} rows")
    frame = raw.iloc[header_at + 1 :].copy()
    frame.columns = [str(name).strip() for name in raw.iloc[header_at]]
    frame = frame.dropna(how="all").reset_index(drop=True)
    return frame


def compare_class() -> Any:
    """datacompy renamed `Compare` to `PandasCompare` in 1.0; take whichever is there."""
    import datacompy

    return getattr(datacompy, "Compare", None) or datacompy.PandasCompare


def compare(old: Any, new: Any, old_name: str, new_name: str) -> str:
    """datacompy's own report: row counts, per-column match counts and sample mismatches."""
    key_columns = [str(old.columns[0]), str(old.columns[1])]  # HCPC, SEQNUM (or Seq Num)
    result = compare_class()(
        old, new, join_columns=key_columns, df1_name=old_name, df2_name=new_name
    )
    report: str = result.report()
    return report


def run(old_spec: str, new_spec: str, output: Path, engine: str = DEFAULT_ENGINE) -> int:
    """The whole peer pipeline; returns the report's size so callers can check it did work."""
    old_name, old_bytes = read_bytes(old_spec)
    new_name, new_bytes = read_bytes(new_spec)
    old = read_workbook(old_bytes, engine)
    new = read_workbook(new_bytes, engine)
    text = compare(old, new, old_name, new_name)
    output.write_text(text, encoding="utf-8")
    return len(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("old", help="workbook, or archive.zip!member.xlsx")
    parser.add_argument("new", help="workbook, or archive.zip!member.xlsx")
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--engine", default=DEFAULT_ENGINE, help="pandas read_excel engine")
    args = parser.parse_args(argv)
    run(args.old, args.new, args.output, args.engine)
    return 0


if __name__ == "__main__":
    sys.exit(main())
