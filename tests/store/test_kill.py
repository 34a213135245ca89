"""Killing an ingest (SIGKILL) leaves no trace of the release: it lands whole or not at all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT, SAMPLES
from tracker import api

SAMPLE = SAMPLES / "HCPC2026_APR_SAMPLE.txt"

# Runs an ingest that pauses inside its transaction (after the release row is written) and
# says so through a marker file, so the test can kill it at exactly that point.
HARNESS = """
import sys, time
from pathlib import Path
from tracker.store import writer

original = writer._chunks

def pausing(rows):
    Path(sys.argv[3]).touch()
    time.sleep(60)
    return original(rows)

writer._chunks = pausing
from tracker import api
api.ingest(api.open_store(sys.argv[1]), sys.argv[2])
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}


def _assert_whole_or_absent(url: str) -> bool:
    store = api.open_store(url)
    try:
        infos = api.releases(store, include_retracted=True)
        assert len(infos) <= 1
        report = api.verify(store)
        assert report.ok, report.problems
        if infos:
            assert len(store.snapshot_hashes(infos[0])) == infos[0].record_count
        return bool(infos)
    finally:
        store.close()


def test_kill_inside_the_transaction_leaves_nothing(db_url: str, tmp_path: Path) -> None:
    marker = tmp_path / "inside"
    process = subprocess.Popen(
        [sys.executable, "-c", HARNESS, db_url, str(SAMPLE), str(marker)], env=_env()
    )
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert process.poll() is None, "the ingest ended before reaching its transaction"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not _assert_whole_or_absent(db_url)
    # The database is usable afterwards and the same release then ingests normally.
    store = api.open_store(db_url)
    assert api.ingest(store, SAMPLE).created
    store.close()
    assert _assert_whole_or_absent(db_url)


@pytest.mark.parametrize("delay", [0.0, 0.3, 0.6, 0.9, 1.2])
def test_kill_at_any_moment_is_all_or_nothing(sqlite_url: str, delay: float) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tracker.cli", "--db", sqlite_url, "ingest", str(SAMPLE)],
        env=_env(),
        stdout=subprocess.DEVNULL,
    )
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait()
    _assert_whole_or_absent(sqlite_url)
