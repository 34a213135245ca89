"""Shared test helpers: where CMS's real files are, and skipping cleanly when they are absent."""

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("TRACKER_SHARED", PROJECT_ROOT.parent / "shared"))


def shared_path(*parts: str) -> Path:
    """A file of the shared folder; skips the test when it is missing, except on CI.

    The real CMS files are never copied into the project, so a fresh checkout may not have
    them; on CI (CI=true) they are expected, and their absence must fail rather than pass
    silently.
    """
    path = SHARED.joinpath(*parts)
    if not path.exists():
        message = f"{path} is missing (set TRACKER_SHARED to the shared folder)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def shared_file() -> Callable[..., Path]:
    """`shared_path` as a fixture, for tests in subfolders that cannot import conftest."""
    return shared_path


# --- Databases -------------------------------------------------------------------------------
# Every store test runs on SQLite and on PostgreSQL. PostgreSQL tests get a database of their
# own, created and dropped around the test, so they never see each other's releases.

PG_ADMIN_URL = os.environ.get("TRACKER_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _on_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def _pg_admin_engine():  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine

    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


@contextmanager
def fresh_pg_database(prefix: str = "tracker_test") -> Iterator[str]:
    """A new, empty PostgreSQL database's URL, dropped afterwards; skipped (failed on CI) when
    no server answers."""
    import uuid

    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    admin = _pg_admin_engine()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        message = f"PostgreSQL at {PG_ADMIN_URL} does not answer ({exc.orig})"
        if _on_ci():
            pytest.fail(message)
        pytest.skip(message)
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database URL."""
    with fresh_pg_database() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'tracker.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs twice: once on SQLite, once on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url: str = request.getfixturevalue(name)
    return url


SAMPLES = PROJECT_ROOT / "snapshots"


# --- The real CMS files the tests read: the one list --------------------------------------------
# key: (path under shared/cms-hcpcs, zip member or None). Every form of every release in shared/.
REAL_SOURCES: dict[str, tuple[str, str | None]] = {
    "2016-txt": ("2016/HCPC2016_CONTR_ANWEB.txt", None),
    "2016-xlsx": ("2016/HCPC2016_CONTR_ANWEB.xlsx", None),
    "2017-zip": ("2017/2017-Alpha-Numeric-HCPCS-File.zip", None),
    "2017-xlsx": ("2017/2017-Alpha-Numeric-HCPCS-File.zip", "HCPC17_CONTR_ANWEB.xlsx"),
    "2018-zip": ("2018/2018-Alpha-Numeric-HCPCS-File.zip", None),
    "2018-xlsx": ("2018/2018-Alpha-Numeric-HCPCS-File.zip", "HCPC2018_CONTR_ANWEB_disc.xlsx"),
    "2020-JAN-zip": ("2020-JAN/2020-Alpha-Numeric-HCPCS-File.zip", None),
    "2020-JAN-xls": (
        "2020-JAN/2020-Alpha-Numeric-HCPCS-File.zip",
        "HCPC2020_ANWEB_w_disclaimer.xls",
    ),
    "2020-APR-xlsx": ("2020-APR/HCPC2020_APR_ANWEB.xlsx", None),
    "2020-JUL-xlsx": ("2020-JUL/HCPC2020_JUL_ANWEB.xlsx", None),
    "2020-OCT-xlsx": ("2020-OCT/HCPC2020_OCT_ANWEB.xlsx", None),
}


# --- Real releases for the diff and transaction-report tests ---------------------------------
# Each release is parsed once per session; the fixed-width text where CMS ships one (complete
# descriptions), the workbook for the 2020 quarters (the only form they exist in).

# label -> (release file under shared/cms-hcpcs, (transaction report file, zip member or None))
REAL_RELEASES: dict[str, tuple[str, tuple[str, str | None]]] = {
    "2016": (
        REAL_SOURCES["2016-txt"][0],
        ("2016/HCPC2016_TransactionReport_Alpha.xlsx", None),
    ),
    "2017": (
        REAL_SOURCES["2017-zip"][0],
        ("2017/2017-Alpha-Numeric-HCPCS-File.zip", "HCPCS2017_Trans Report_Alpha.xlsx"),
    ),
    "2018": (
        REAL_SOURCES["2018-zip"][0],
        ("2018/2018-Alpha-Numeric-HCPCS-File.zip", "HCPC18_Trans_Report_Alpha.xlsx"),
    ),
    "2020-JAN": (
        REAL_SOURCES["2020-JAN-zip"][0],
        ("2020-JAN/2020-Alpha-Numeric-HCPCS-File.zip", "HCPC2020_TRANS_ALPHA_w_disclaimer.xlsx"),
    ),
    "2020-APR": (
        REAL_SOURCES["2020-APR-xlsx"][0],
        ("2020-APR/HCPC2020_APR_TRANS_ALPHA.xlsx", None),
    ),
    "2020-JUL": (
        REAL_SOURCES["2020-JUL-xlsx"][0],
        ("2020-JUL/HCPC2020_JUL_TRANS_ALPHA.xlsx", None),
    ),
    "2020-OCT": (
        REAL_SOURCES["2020-OCT-xlsx"][0],
        ("2020-OCT/HCPC2020_OCT_TRANS_ALPHA.xlsx", None),
    ),
}
# Annual files set action codes relative to the previous annual file, quarterly files to the
# previous quarter: these pairs are consecutive for this data set.
CONSECUTIVE_PAIRS: list[tuple[str, str]] = [
    ("2016", "2017"),
    ("2017", "2018"),
    ("2020-JAN", "2020-APR"),
    ("2020-APR", "2020-JUL"),
    ("2020-JUL", "2020-OCT"),
]


class RealReleases:
    """Records, snapshots, diffs and transaction reports of the real releases, cached."""

    def __init__(self) -> None:
        self._records: dict[str, dict] = {}  # type: ignore[type-arg]
        self._snapshots: dict[str, object] = {}
        self._diffs: dict[tuple[str, str, bool], object] = {}
        self._reports: dict[str, dict[str, str]] = {}

    def records(self, label: str):  # type: ignore[no-untyped-def]
        if label not in self._records:
            from tracker.codesets.hcpcs.parsers import parse_source
            from tracker.codesets.hcpcs.parsers.base import SourceFile

            path = shared_path("cms-hcpcs", *REAL_RELEASES[label][0].split("/"))
            release = parse_source(SourceFile(path.name, path.read_bytes()))
            self._records[label] = {record.code: record for record in release.records}
        return self._records[label]

    def snapshot(self, label: str):  # type: ignore[no-untyped-def]
        if label not in self._snapshots:
            from tracker.release import Snapshot, adhoc_info

            records = self.records(label)
            info = adhoc_info(label, record_count=len(records))
            self._snapshots[label] = Snapshot.from_records(info, records.values())
        return self._snapshots[label]

    def diff(self, old: str, new: str, consecutive: bool = True):  # type: ignore[no-untyped-def]
        key = (old, new, consecutive)
        if key not in self._diffs:
            from tracker.diff import diff_snapshots

            self._diffs[key] = diff_snapshots(
                self.snapshot(old), self.snapshot(new), reconciling=consecutive
            )
        return self._diffs[key]

    def report(self, label: str) -> dict[str, str]:
        if label not in self._reports:
            from tracker.codesets.hcpcs.transreport import read_transaction_report

            relative, member = REAL_RELEASES[label][1]
            path = shared_path("cms-hcpcs", *relative.split("/"))
            self._reports[label] = read_transaction_report(path, member=member)
        return self._reports[label]


@pytest.fixture(scope="session")
def real_releases() -> RealReleases:
    return RealReleases()


# --- Golden files ----------------------------------------------------------------------------
# Report tests compare against files under tests/golden/. They are regenerated, never edited by
# hand: `pytest --update-golden` (or TRACKER_UPDATE_GOLDEN=1) rewrites them, and the change is
# reviewed in the diff like any other.


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite the golden files under tests/golden/ instead of comparing against them",
    )


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    flag = bool(request.config.getoption("--update-golden"))
    return flag or os.environ.get("TRACKER_UPDATE_GOLDEN", "") == "1"


# --- A store holding every real release ---------------------------------------------------------

# One file per release, in release order: the text where CMS ships one, else the zip or workbook.
REAL_FILES = tuple(REAL_RELEASES[label][0] for label in REAL_RELEASES)


@pytest.fixture(scope="session")
def real_store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite store with the seven real releases ingested through the API (read-only use)."""
    from tracker import api

    paths = [shared_path("cms-hcpcs", *name.split("/")) for name in REAL_FILES]
    url = f"sqlite:///{tmp_path_factory.mktemp('real') / 'tracker.db'}"
    store = api.open_store(url)
    for path in paths:
        api.ingest(store, path)
    store.close()
    return url


def load_make_bad():  # type: ignore[no-untyped-def]
    """The generator of `tests/data/bad/` as a module: its builders (records, workbooks, zips)
    serve the fuzz and hostile-content tests too."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_bad", PROJECT_ROOT / "tests" / "data" / "bad" / "make_bad.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
