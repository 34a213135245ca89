"""Databases the user may only read, and databases that fail: every read command works, every
write command and every fault ends in one line naming the database and what to do.

Read-only SQLite is a file made read-only (chmod 444) in a folder that is writable or not
(chmod 555); the commands run as an unprivileged user when the tests run as root (root ignores
file modes). Read-only PostgreSQL is a role granted SELECT only, created and dropped here. The
output of each read command is compared with the same command on a writable copy, and the
database files are byte for byte as before.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic import command
from click.testing import CliRunner
from sqlalchemy import Connection, create_engine, text

from tests.conftest import PG_ADMIN_URL, PROJECT_ROOT, SAMPLES
from tracker import api
from tracker.cli import cli
from tracker.store import reader
from tracker.store.database import SCHEMA_REVISION, _alembic_config, create_store_engine

NOBODY = 65534
CLAIMS = "claim,hcpcs,dos\n1,S0353,2026-02-01\n2,E0159,2026-05-01\n3,ZZ999,2026-02-01\n"
READS: list[list[str]] = [
    ["releases", "--all"],
    ["show", "S0353"],
    ["show", "E0159", "--as-of", "2026-05-01"],
    ["codes", "--as-of", "2026-05-01", "--status", "all"],
    ["diff", "2026-JAN", "2026-JUL"],
    ["history", "E0159"],
    ["report", "2026-JAN", "2026-APR", "--format", "json"],
    ["validate", "{claims}"],
    ["verify"],
    ["db", "upgrade"],
]
JUL = SAMPLES / "HCPC2026_JUL_SAMPLE.txt"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _unprivileged(command: list[str], *, reader_only: bool = True) -> list[str]:
    """`command` run as an unprivileged user when we are root (root ignores file modes)."""
    if not reader_only or os.geteuid() != 0:
        return command
    setpriv = shutil.which("setpriv")
    assert setpriv, "running as root: setpriv (util-linux) is needed to drop privileges"
    return [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *command]


def _in_process(url: str, args: list[str]) -> tuple[int, str, str]:
    """The same command in this process, for the expected output (a writable database)."""
    result = CliRunner().invoke(cli, ["--db", url, *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def _tracker(url: str, args: list[str], *, reader_only: bool) -> tuple[int, str, str]:
    """The installed command in a real process."""
    result = subprocess.run(
        _unprivileged(
            [sys.executable, "-m", "tracker.cli", "--db", url, *args], reader_only=reader_only
        ),
        cwd="/",
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result.returncode, result.stdout, result.stderr


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("readonly") / "tracker.db"
    store = api.open_store(f"sqlite:///{path}")
    for name in ("JAN", "APR", "JUL"):
        api.ingest(store, SAMPLES / f"HCPC2026_{name}_SAMPLE.txt")
    store.close()
    return path


@pytest.fixture
def open_folder() -> Iterator[Path]:
    """A folder any user can enter (pytest's own temporary folders are private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="tracker-ro-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)


def _read_only_copy(seeded: Path, folder: Path, *, folder_read_only: bool) -> Path:
    db = folder / "data" / "tracker.db"
    db.parent.mkdir()
    shutil.copy(seeded, db)
    (folder / "claims.csv").write_text(CLAIMS)
    (folder / "claims.csv").chmod(0o444)
    db.chmod(0o444)
    db.parent.chmod(0o555 if folder_read_only else 0o777)
    return db


def _writable_copy(seeded: Path, folder: Path) -> Path:
    db = folder / "writable.db"
    shutil.copy(seeded, db)
    return db


def _listing(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): _digest(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.mark.parametrize("folder_read_only", [False, True], ids=["file", "file-and-folder"])
def test_read_only_sqlite(seeded: Path, open_folder: Path, folder_read_only: bool) -> None:
    db = _read_only_copy(seeded, open_folder, folder_read_only=folder_read_only)
    writable = _writable_copy(seeded, Path(tempfile.mkdtemp(dir=open_folder)))
    url = f"sqlite:///{db}"
    before = _listing(db.parent)
    claims = str(open_folder / "claims.csv")
    for command_args in READS:
        args = [claims if arg == "{claims}" else arg for arg in command_args]
        code, out, err = _in_process(f"sqlite:///{writable}", args)
        assert code == 0, (args, err)
        expected = (code, out.replace(str(writable), str(db)), err)
        assert _tracker(url, args, reader_only=True) == expected, args
    assert _listing(db.parent) == before
    shown = f"sqlite:///{db}"
    assert _tracker(url, ["retract", "2026-JUL", "--reason", "wrong file"], reader_only=True) == (
        1,
        "",
        f"Error: {shown}: the database is read-only (attempt to write a readonly database);"
        " retract needs write access to it (for SQLite, to the file and its folder)\n",
    )
    code, out, err = _tracker(url, ["ingest", str(JUL), "--release", "2026-OCT"], reader_only=True)
    assert (code, err) == (
        1,
        f"Error: {shown}: the database is read-only (attempt to write a readonly database);"
        " ingest needs write access to it (for SQLite, to the file and its folder)\n",
    )
    assert _listing(db.parent) == before


def test_read_only_sqlite_out_of_date(open_folder: Path) -> None:
    """A read-only database at an older schema is not written: it says how to upgrade it."""
    db = open_folder / "old.db"
    engine = create_store_engine(f"sqlite:///{db}")
    with engine.connect().execution_options(write=True) as connection, connection.begin():
        command.upgrade(_alembic_config(connection), "0001")
    engine.dispose()
    db.chmod(0o444)
    before = _digest(db)
    assert _tracker(f"sqlite:///{db}", ["releases"], reader_only=True) == (
        1,
        "",
        f"Error: sqlite:///{db}: the database schema is at revision 0001, this version needs"
        f" {SCHEMA_REVISION}; run `tracker db upgrade` with a writable connection\n",
    )
    assert _digest(db) == before


# --- PostgreSQL: a role granted SELECT only ------------------------------------------------------


@pytest.fixture
def pg_reader(pg_url: str) -> Iterator[tuple[str, str]]:
    """(owner URL, select-only URL) of a database holding three releases."""
    store = api.open_store(pg_url)
    for name in ("JAN", "APR", "JUL"):
        api.ingest(store, SAMPLES / f"HCPC2026_{name}_SAMPLE.txt")
    store.close()
    role = f"tracker_reader_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD 'reader-secret'"))
        connection.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"))
    base, name = pg_url.rsplit("/", 1)
    host = base.split("@", 1)[1]
    try:
        yield pg_url, f"postgresql://{role}:reader-secret@{host}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP OWNED BY {role}"))
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :r"),
                {"r": role},
            )
        admin.dispose()
        cluster = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with cluster.connect() as connection:
            connection.execute(text(f"DROP ROLE IF EXISTS {role}"))
        cluster.dispose()


def _table_digest(url: str) -> dict[str, str]:
    engine = create_engine(url)
    tables = ["releases", "retractions", "snapshot_entries", "record_versions", "sources"]
    digests = {}
    with engine.connect() as connection:
        for table in tables:
            rows = connection.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all()
            digests[table] = hashlib.sha256(repr(rows).encode()).hexdigest()
    engine.dispose()
    return digests


def test_select_only_postgresql_role(pg_reader: tuple[str, str], open_folder: Path) -> None:
    owner, reader_url = pg_reader
    owner_url = owner.replace("postgresql+psycopg://", "postgresql://")
    before = _table_digest(owner)
    claims = open_folder / "claims.csv"
    claims.write_text(CLAIMS)
    shown = reader_url.replace("postgresql://", "postgresql+psycopg://").replace(
        ":reader-secret@", ":***@"
    )
    for command_args in READS:
        args = [str(claims) if arg == "{claims}" else arg for arg in command_args]
        code, out, err = _in_process(owner_url, args)
        assert code == 0, (args, err)
        expected = (code, out.replace(owner, shown), err)
        assert _in_process(reader_url, args) == expected, args
    assert _in_process(reader_url, ["retract", "2026-JUL", "--reason", "x"]) == (
        1,
        "",
        f"Error: {shown}: permission denied (permission denied for table release_events);"
        " retract needs a database role that may write the tracker's tables\n",
    )
    code, _out, err = _tracker(
        reader_url, ["ingest", str(JUL), "--release", "2026-OCT"], reader_only=False
    )
    assert code == 1
    assert err.startswith(f"Error: {shown}: permission denied (permission denied for table ")
    assert err.endswith("ingest needs a database role that may write the tracker's tables\n")
    assert err.count("\n") == 1 and "reader-secret" not in err
    assert _table_digest(owner) == before


def test_select_only_role_on_an_out_of_date_schema(pg_reader: tuple[str, str]) -> None:
    owner, reader_url = pg_reader
    engine = create_engine(owner)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    engine.dispose()
    before = _table_digest(owner)
    code, out, err = _in_process(reader_url, ["releases"])
    assert (code, out) == (1, "")
    assert err.endswith(
        f": the database schema is at revision 0001, this version needs {SCHEMA_REVISION};"
        " run `tracker db upgrade` with a writable connection\n"
    )
    assert err.count("\n") == 1 and "reader-secret" not in err
    assert _table_digest(owner) == before


# --- A connection dropped in the middle of a command ---------------------------------------------


def _dropping(original: Callable[..., object], url: str) -> Callable[..., object]:
    """`original`, called after the server has terminated the connection it is given."""

    def dropped(connection: Connection, *args: object) -> object:
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.dispose()
        return original(connection, *args)

    return dropped


@pytest.mark.parametrize(
    ("args", "function"),
    [(["verify"], "record_version_rows"), (["codes", "--as-of", "2026-05-01"], "all_entries")],
)
def test_connection_dropped_during_a_read(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, args: list[str], function: str
) -> None:
    store = api.open_store(pg_url)
    api.ingest(store, SAMPLES / "HCPC2026_JAN_SAMPLE.txt")
    store.close()
    monkeypatch.setattr(reader, function, _dropping(getattr(reader, function), pg_url))
    result = CliRunner().invoke(cli, ["--db", pg_url, *args])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert (result.exit_code, result.stdout, result.stderr) == (
        1,
        "",
        f"Error: {pg_url}: the connection to the database was lost; run the command again\n",
    )


# --- URLs and paths that are no database -------------------------------------------------------


def _refused(url: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--db", url, "releases"])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.stdout, result.stderr


SUPPORTED = (
    "only SQLite (a file path or sqlite:///path) and PostgreSQL (postgresql://user@host/db)"
    " are supported"
)


def test_nul_in_a_sqlite_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert _refused("sqlite:///%00") == (
        1,
        "",
        "Error: sqlite:///%00: the file path contains a NUL byte; give a SQLite file path"
        " or a postgresql:// URL\n",
    )
    assert list(tmp_path.iterdir()) == []


def test_a_directory_as_the_database(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "kept.txt").write_text("kept")
    before = _listing(tmp_path)
    assert _refused(str(tmp_path / "folder")) == (
        1,
        "",
        f"Error: sqlite:///{tmp_path}/folder: is a directory, not a database file;"
        " give the path of a database file (a new one is created)\n",
    )
    assert _listing(tmp_path) == before


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"Synthetic notes, not a database.\n" * 200)
    before = _listing(tmp_path)
    assert _refused(str(notes)) == (
        1,
        "",
        f"Error: sqlite:///{notes}: cannot open database (file is not a database);"
        " give a tracker database file, or a new file path to create one\n",
    )
    assert _listing(tmp_path) == before


def test_a_folder_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "missing" / "tracker.db"
    assert _refused(str(missing)) == (
        1,
        "",
        f"Error: sqlite:///{missing}: cannot open database (unable to open database file);"
        " check that its folder exists and that you may read (and write) there\n",
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("url", "shown", "driver"),
    [
        ("mysql://user:hunter2@localhost/codes", "mysql://user:***@localhost/codes", "mysql"),
        ("oracle+cx_oracle://u:pw@host/db", "oracle+cx_oracle://u:***@host/db", "oracle"),
        ("nosuchdb://somewhere", "nosuchdb://somewhere", "nosuchdb"),
    ],
)
def test_an_unknown_driver(url: str, shown: str, driver: str) -> None:
    assert _refused(url) == (
        1,
        "",
        f"Error: {shown}: unknown database driver {driver!r}; {SUPPORTED}\n",
    )


def test_mode_bits_are_what_the_suite_assumes(seeded: Path, open_folder: Path) -> None:
    """Guards the read-only suite itself: the copy it runs on cannot be written by the user
    it runs as (a test that could write would prove nothing)."""
    db = _read_only_copy(seeded, open_folder, folder_read_only=True)
    assert stat.S_IMODE(db.stat().st_mode) == 0o444
    probe = subprocess.run(
        _unprivileged([sys.executable, "-c", f"open({str(db)!r}, 'r+b')"]),
        capture_output=True,
        check=False,
    )
    assert probe.returncode != 0
