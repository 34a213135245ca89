"""Load on `tracker serve`: requests/s and p50/p99 latency at 10 and 50 concurrent clients.

The server runs as its own process (uvicorn, one worker) on a free loopback port. The clients
are wrk (Debian's `wrk`) when it is installed, else asyncio tasks over httpx in this process;
each client sends its next request as soon as the last is answered. Measured for FHIR
`$validate-code` (2,000 questions over 500 codes and the releases' dates, asked again and again:
answered from the server's memory of recent answers after the first round), `$validate-code new`
(40,000 distinct questions in a cycle, more than the server remembers: each one computed) and
the code page, on SQLite and PostgreSQL; a failed request is a non-200 answer or a socket
error.

    .venv/bin/python bench/serve_load.py                    # the real releases of ../shared
    .venv/bin/python bench/serve_load.py --seconds 5 --db sqlite:///tracker.db

Without `--db`, stores are built in temporary places from the real releases (or the samples
when the shared folder is absent), one SQLite file and one PostgreSQL database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("TRACKER_SHARED", ROOT.parent / "shared")) / "cms-hcpcs"
REAL = [
    "2016/HCPC2016_CONTR_ANWEB.txt",
    "2017/2017-Alpha-Numeric-HCPCS-File.zip",
    "2018/2018-Alpha-Numeric-HCPCS-File.zip",
    "2020-JAN/2020-Alpha-Numeric-HCPCS-File.zip",
    "2020-APR/HCPC2020_APR_ANWEB.xlsx",
    "2020-JUL/HCPC2020_JUL_ANWEB.xlsx",
    "2020-OCT/HCPC2020_OCT_ANWEB.xlsx",
]
SAMPLES = [ROOT / "snapshots" / f"HCPC2026_{q}_SAMPLE.txt" for q in ("JAN", "APR", "JUL")]
PG_ADMIN = os.environ.get("TRACKER_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
HCPCS = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"


def _sources() -> list[Path]:
    real = [SHARED / name for name in REAL]
    return real if all(path.exists() for path in real) else SAMPLES


def _fill(url: str) -> None:
    sys.path.insert(0, str(ROOT))
    from tracker import api

    store = api.open_store(url)
    for path in _sources():
        api.ingest(store, path)
    store.close()


@contextmanager
def _stores(tmp: Path) -> Iterator[list[tuple[str, str]]]:
    from sqlalchemy import create_engine, text

    sqlite = f"sqlite:///{tmp / 'tracker.db'}"
    _fill(sqlite)
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"tracker_load_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    postgres = f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
    try:
        _fill(postgres)
        yield [("SQLite", sqlite), ("PostgreSQL", postgres)]
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def _server(url: str) -> Iterator[str]:
    port = _free_port()
    code = (
        "import sys, uvicorn\n"
        "from tracker.server import create_app\n"
        "uvicorn.run(create_app(sys.argv[1]), host='127.0.0.1', port=int(sys.argv[2]),"
        " log_level='warning', access_log=False)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, url, str(port)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit(f"the server over {url} did not start")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(10)


def _codes(base: str) -> list[str]:
    """Codes to ask about: a spread over the code set as of the latest release."""
    latest = httpx.get(f"{base}/api/hcpcs/releases", timeout=30).json()[-1]["effective_date"]
    rows = httpx.get(f"{base}/api/hcpcs/codes", params={"on": latest}, timeout=60).json()
    codes = [row["code"] for row in rows]
    random.Random(14).shuffle(codes)
    return codes[:500]


# More distinct questions than the server remembers (tracker.server.fastpath.CACHE_SIZE), asked
# in a cycle: with an LRU, every one is computed afresh.
DISTINCT = 40_000


def _paths(kind: str, codes: list[str], dates: list[str]) -> list[str]:
    rng = random.Random(kind)
    if kind == "$validate-code new":
        days = [
            f"{year}-{month:02d}-{day:02d}"
            for year in range(2016, 2021)
            for month in range(1, 13)
            for day in (3, 9, 15, 21, 27)
        ]
        pairs = [(code, day) for code in codes for day in days]
        rng.shuffle(pairs)
        return [
            f"/fhir/CodeSystem/$validate-code?url={HCPCS}&code={code}&date={day}"
            for code, day in pairs[:DISTINCT]
        ]
    if kind == "$validate-code":
        return [
            f"/fhir/CodeSystem/$validate-code?url={HCPCS}&code={rng.choice(codes)}"
            f"&date={rng.choice(dates)}"
            for _ in range(2000)
        ]
    return [f"/hcpcs/codes/{rng.choice(codes)}" for _ in range(2000)]


async def _load(base: str, paths: list[str], clients: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    failures = 0
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:

        async def worker(offset: int) -> None:
            nonlocal failures
            index = offset
            while time.perf_counter() < stop:
                path = paths[index % len(paths)]
                index += clients
                started = time.perf_counter()
                try:
                    response = await http.get(path)
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - started)
                failures += 0 if ok else 1

        began = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(clients)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "failed": failures,
    }


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _wrk(base: str, paths: list[str], clients: int, seconds: float) -> dict[str, float]:
    """The same measurement with wrk: a Lua script cycles through the paths."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        listed = ",\n".join(f'"{path}"' for path in paths)
        script.write(
            f"paths = {{\n{listed}\n}}\ncounter = 0\n"
            # Each of wrk's threads starts half the list apart, so that the two never ask
            # the same question one after the other (the second would find it remembered).
            "local started = 0\n"
            "function setup(thread)\n  thread:set('offset', started * math.floor(#paths / 2))\n"
            "  started = started + 1\nend\n"
            "function init(args)\n  counter = offset or 0\nend\n"
            "request = function()\n  counter = counter + 1\n"
            '  return wrk.format("GET", paths[(counter % #paths) + 1])\nend\n'
        )
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{clients}",
                f"-d{max(1, round(seconds))}s",
                "--latency",
                "-s",
                script.name,
                base,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)

    def latency(percent: str) -> float:
        found = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert found, out
        return float(found[1]) * _UNITS[found[2]]

    total = re.search(r"(\d+) requests in", out)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert total and rate, out
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = int(bad[1]) if bad else 0
    failed += sum(int(n) for n in errors.groups()) if errors else 0
    return {
        "requests": float(total[1]),
        "rps": float(rate[1]),
        "p50": latency("50"),
        "p99": latency("99"),
        "failed": failed,
    }


def _measure(base: str, paths: list[str], clients: int, seconds: float) -> dict[str, float]:
    if shutil.which("wrk"):
        return _wrk(base, paths, clients, seconds)
    return asyncio.run(_load(base, paths, clients, seconds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", action="append", help="a store URL (repeatable); default: build")
    parser.add_argument("--seconds", type=float, default=8.0, help="per measurement")
    parser.add_argument("--clients", default="10,50")
    args = parser.parse_args()
    clients = [int(n) for n in args.clients.split(",")]
    with tempfile.TemporaryDirectory() as folder:
        if args.db:
            run([(url.split(":", 1)[0], url) for url in args.db], clients, args.seconds)
        else:
            with _stores(Path(folder)) as stores:
                run(stores, clients, args.seconds)


def run(stores: list[tuple[str, str]], clients: list[int], seconds: float) -> None:
    tool = "wrk" if shutil.which("wrk") else "httpx"
    print(f"clients: {tool}; server: uvicorn, one process; {os.cpu_count()} CPUs")
    print(
        f"{'store':<11} {'endpoint':<18} {'clients':>7} {'req/s':>8} {'p50 ms':>8}"
        f" {'p99 ms':>8} {'failed':>6}"
    )
    for name, url in stores:
        with _server(url) as base:
            codes = _codes(base)
            releases = httpx.get(f"{base}/api/hcpcs/releases", timeout=30).json()
            dates = [r["effective_date"][:8] + "15" for r in releases]
            for kind in ("$validate-code", "$validate-code new", "code page"):
                paths = _paths(kind, codes, dates)
                _measure(base, paths, 10, 2.0)  # warm the caches
                for count in clients:
                    result = _measure(base, paths, count, seconds)
                    print(
                        f"{name:<11} {kind:<18} {count:>7} {result['rps']:>8.0f}"
                        f" {result['p50']:>8.1f} {result['p99']:>8.1f} {result['failed']:>6.0f}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
