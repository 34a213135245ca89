"""The benchmark stays runnable: its quick mode on the bundled samples finishes and prints.

No timing is asserted; the figures of a quick run mean nothing. The peer (pandas + datacompy)
runs only when the bench extra is installed, and PostgreSQL only when a server answers.
"""

import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def test_bench_quick_runs_on_samples() -> None:
    completed = subprocess.run(
        [sys.executable, "bench/run.py", "--quick", "--in-process-only", "--no-pg"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    for title in ("raw files -> classified report", "ingest", "diff", "as-of", "CLI start"):
        assert title in completed.stdout
    for title in ("ICD-10 ingest of one FY beside a plain-Python floor", "ICD-10 diff"):
        assert title in completed.stdout
    assert "floor" in completed.stdout and "re-labelled" in completed.stdout


def test_scale_releases_read_back_as_written(tmp_path: Path) -> None:
    sys.path.insert(0, str(PROJECT_ROOT / "bench"))
    try:
        import scale
    finally:
        sys.path.remove(str(PROJECT_ROOT / "bench"))
    from tracker.codesets.hcpcs.parsers import parse_source
    from tracker.codesets.hcpcs.parsers.base import SourceFile
    from tracker.codesets.hcpcs.writers.fixedwidth import write_release

    series = list(scale.releases(codes=200, count=3, change_rate=0.05))
    assert [r.label for r in series] == ["2011-JAN", "2011-APR", "2011-JUL"]
    assert series[1].changed > 0
    path = tmp_path / "HCPC2011_JUL_ANWEB.txt"
    write_release(series[2].records, path)
    parsed = parse_source(SourceFile(name=path.name, data=path.read_bytes()))
    assert list(parsed.records) == series[2].records


def test_icd10_floor_stores_what_the_tracker_stores(tmp_path: Path) -> None:
    """The floor does the same work as an ingest's hot path: the same rows, by content hash."""
    sys.path.insert(0, str(PROJECT_ROOT / "bench"))
    try:
        import icd10
    finally:
        sys.path.remove(str(PROJECT_ROOT / "bench"))
    from tracker import api

    sample = PROJECT_ROOT / "snapshots" / "icd10cm_FY2019_SAMPLE.zip"
    connection = icd10.floor_database(tmp_path / "floor.db")
    try:
        count = icd10.floor_ingest(sample, "icd10cm", connection)
        floor_rows = set(connection.execute("SELECT * FROM record_versions").fetchall())
        floor_entries = set(connection.execute("SELECT * FROM snapshot_entries").fetchall())
    finally:
        connection.close()
    store = api.open_store(f"sqlite:///{tmp_path / 'tracker.db'}")
    try:
        info = api.ingest(store, sample).release
        hashes = store.snapshot_hashes(info)
    finally:
        store.close()
    assert count == info.record_count == len(floor_rows) > 0
    assert {(row[1], row[0]) for row in floor_rows} == set(hashes.items())
    assert {(code, digest) for _, code, digest in floor_entries} == set(hashes.items())
