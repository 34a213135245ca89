"""What both benchmark scripts share: where things are, clocks, PostgreSQL scratch databases.

Timings use `perf_counter` and report medians: one slow run (a page-cache miss, a GC pause)
should not decide a figure, and the same rule applies to the tracker and to its peer.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("TRACKER_SHARED", PROJECT_ROOT.parent / "shared"))
CMS = SHARED / "cms-hcpcs"
SAMPLES = PROJECT_ROOT / "snapshots"
BIN = Path(sys.executable).parent
PG_ADMIN_URL = os.environ.get("TRACKER_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def tracker_command() -> list[str]:
    """The installed `tracker` script beside this interpreter, as a user would type it."""
    script = BIN / "tracker"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "tracker.cli"]


def timed(action: Callable[[], Any]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def timed_call(action: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[float, T]:
    """Seconds taken by `action(*args, **kwargs)`, and what it returned."""
    start = time.perf_counter()
    value = action(*args, **kwargs)
    return time.perf_counter() - start, value


def run_command(argv: Sequence[str], *, cwd: Path | None = None) -> float:
    """Wall time of one process from spawn to exit; a failure is an error, not a fast run."""
    start = time.perf_counter()
    completed = subprocess.run(
        list(argv), cwd=cwd, capture_output=True, text=True, check=False, env=_child_env()
    )
    elapsed = time.perf_counter() - start
    if completed.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} exited {completed.returncode}:\n{completed.stderr[-2000:]}"
        )
    return elapsed


def ensure_bytecode() -> None:
    """Compile the tracker's modules, as `pip install` does for a user's copy.

    A working copy run with PYTHONDONTWRITEBYTECODE (or freshly cloned) would otherwise
    recompile every module in every timed process, and the figures would time the compiler.
    """
    import compileall

    compileall.compile_dir(PROJECT_ROOT / "tracker", quiet=1)


def _child_env() -> dict[str, str]:
    # A terminal spinner or colour codes would time rich's rendering, not the work; a user's
    # installed copy has its bytecode, so child processes may read and write it.
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("TRACKER_DB", None)
    env["NO_COLOR"] = "1"
    env["TERM"] = "dumb"
    return env


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile: with 1,000 samples p99 is the 990th, no interpolation."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def human_bytes(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(size) < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def directory_size(path: Path) -> int:
    """A SQLite database's bytes on disk, its WAL and journal included."""
    total = 0
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-journal")):
        if candidate.exists():
            total += candidate.stat().st_size
    return total


@contextmanager
def pg_database(prefix: str = "tracker_bench") -> Iterator[str | None]:
    """A fresh PostgreSQL database made for this run and dropped after it (None: no server).

    Only the database created here is ever dropped; the server and every other database are
    left alone.
    """
    try:
        from sqlalchemy import create_engine, text
        from sqlalchemy.exc import OperationalError
    except ImportError:
        yield None
        return
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError:
        admin.dispose()
        yield None
        return
    try:
        yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def pg_size(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            size = connection.execute(text("SELECT pg_database_size(current_database())"))
            return int(size.scalar_one())
    finally:
        engine.dispose()


def copy_sqlite(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)


@dataclass
class Row:
    """One line of a results table."""

    figure: str
    value: str
    peer: str = ""
    ratio: str = ""
    target: str = ""
    verdict: str = ""


def print_table(title: str, rows: Sequence[Row]) -> str:
    """A Markdown pipe table, so a run's output pastes straight into the README."""
    header = ("figure", "tracker", "peer", "ratio", "target", "met")
    cells = [header, *((r.figure, r.value, r.peer, r.ratio, r.target, r.verdict) for r in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) + " |"

    out = [f"### {title}", "", line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(row) for row in cells[1:]]
    text = "\n".join(out) + "\n"
    print(text, flush=True)
    return text


def verdict(ok: bool | None) -> str:
    if ok is None:
        return ""
    return "yes" if ok else "**no**"
