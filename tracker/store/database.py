"""Opening a store: URL handling, SQLite connection behaviour, schema upgrades via Alembic.

SQLite gets explicit transaction control (the driver's implicit transactions would let two
writers both read and then deadlock on upgrade): a writer begins with `BEGIN IMMEDIATE`, so a
second ingest waits for the first and then sees its result.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from tracker.errors import StoreError
from tracker.resources import resource_dir

if TYPE_CHECKING:
    from alembic.config import Config

DEFAULT_URL = "sqlite:///tracker.db"
# The newest migration in migrations/versions. Opening an up-to-date database compares against
# this instead of loading Alembic (a quarter of a second); tests check it equals Alembic's head.
SCHEMA_REVISION = "0005"
SQLITE_BUSY_TIMEOUT_S = 60
# Key of the PostgreSQL advisory lock that serializes schema upgrades (any fixed number will do).
_MIGRATION_LOCK = 0x7472_6163_6B65_72


def normalize_url(url: str | None) -> str:
    """Accept any SQLAlchemy URL, a bare file path (SQLite), or `postgresql://` (psycopg 3)."""
    text = (url or os.environ.get("TRACKER_DB") or DEFAULT_URL).strip()
    if "://" not in text:
        return f"sqlite:///{text}"
    if text.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + text.split("://", 1)[1]
    return text


def display_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get("write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


_SUPPORTED = (
    "only SQLite (a file path or sqlite:///path) and PostgreSQL (postgresql://user@host/db)"
    " are supported"
)


def create_store_engine(url: str | None = None) -> Engine:
    resolved = normalize_url(url)
    shown = display_url(resolved)
    try:
        parsed = make_url(resolved)
    except ArgumentError:
        raise StoreError(f"{shown}: not a database URL; {_SUPPORTED}") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise StoreError(f"{shown}: unknown database driver {backend!r}; {_SUPPORTED}")
    if backend == "sqlite":
        _check_sqlite_path(shown, parsed.database)
    try:
        engine = create_engine(resolved)
    except (ArgumentError, ImportError, NoSuchModuleError) as exc:
        raise StoreError(f"{shown}: cannot open database ({exc}); {_SUPPORTED}") from None
    except SQLAlchemyError as exc:
        raise StoreError(f"{shown}: cannot open database ({exc})") from None
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def _check_sqlite_path(shown: str, database: str | None) -> None:
    """Refuse a SQLite path that can never be a database file, before the driver sees it."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    if "\x00" in database:
        raise StoreError(
            f"{shown}: the file path contains a NUL byte; give a SQLite file path"
            " or a postgresql:// URL"
        )
    if os.path.isdir(database):
        raise StoreError(
            f"{shown}: is a directory, not a database file; give the path of a database file"
            " (a new one is created)"
        )


def _text(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def fault_kind(exc: SQLAlchemyError) -> str | None:
    """`lost` (connection dropped), `read-only`, `denied` (role lacks a privilege) or None."""
    orig = getattr(exc, "orig", None)
    lowered = _text(orig if orig is not None else exc).lower()
    sqlstate = getattr(orig, "sqlstate", None) or ""
    if isinstance(exc, DBAPIError) and (
        exc.connection_invalidated
        or sqlstate.startswith(("08", "57P"))
        or "server closed the connection" in lowered
        or "connection is closed" in lowered
        or "consuming input failed" in lowered
    ):
        return "lost"
    if "readonly database" in lowered or sqlstate == "25006":
        return "read-only"
    if sqlstate == "42501":
        return "denied"
    return None


def store_fault(url: str, exc: SQLAlchemyError, action: str | None = None) -> StoreError:
    """One line for a database failure: which database, what happened, what to do.

    `action` names the command that needs to write (`ingest`, `retract`); None for reads.
    """
    shown = display_url(url)
    orig = getattr(exc, "orig", None)
    detail = _text(orig if orig is not None else exc)
    kind = fault_kind(exc)
    doing = action or "this command"
    if kind == "lost":
        done = f"nothing was changed; run {action} again" if action else "run the command again"
        return StoreError(f"{shown}: the connection to the database was lost; {done}")
    if kind == "read-only":
        return StoreError(
            f"{shown}: the database is read-only ({detail}); {doing} needs write access to it"
            " (for SQLite, to the file and its folder)"
        )
    if kind == "denied":
        return StoreError(
            f"{shown}: permission denied ({detail}); {doing} needs a database role"
            " that may write the tracker's tables"
        )
    if action and "unable to open database file" in detail.lower():
        return StoreError(
            f"{shown}: cannot write the database ({detail}); {action} needs write access to"
            " the file and its folder"
        )
    return StoreError(f"{shown}: database error ({detail})")


def _alembic_config(connection: Connection) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resource_dir("migrations")))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(resource_dir("migrations")))
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine) -> tuple[str | None, str | None]:
    """Bring the schema to the newest migration; returns (before, after) revisions.

    An up-to-date database is only read here, so a read-only file or role can open it; one that
    needs an upgrade but cannot be written says to upgrade it with a writable connection.
    """
    shown = display_url(str(engine.url))
    try:
        before = current_revision(engine)
    except DBAPIError as exc:
        detail = _text(exc.orig or exc)
        advice = ""
        if "file is not a database" in detail:
            advice = "; give a tracker database file, or a new file path to create one"
        elif "unable to open database file" in detail:
            advice = "; check that its folder exists and that you may read (and write) there"
        raise StoreError(f"{shown}: cannot open database ({detail}){advice}") from None
    except ValueError as exc:  # the driver refuses the path itself (an embedded NUL)
        raise StoreError(f"{shown}: cannot open database ({exc})") from None
    if before == SCHEMA_REVISION:
        return before, before
    from alembic import command

    try:
        with engine.connect().execution_options(write=True) as connection, connection.begin():
            if engine.dialect.name == "postgresql":
                # Two first users at once would both create the tables; the loser waits here
                # and then finds the schema current (SQLite's BEGIN IMMEDIATE does the same).
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
            command.upgrade(_alembic_config(connection), "head")
    except DBAPIError as exc:
        fault = store_fault(str(engine.url), exc, "upgrade")
        if before is not None and fault_kind(exc) in ("read-only", "denied"):
            raise StoreError(
                f"{shown}: the database schema is at revision {before}, this version needs"
                f" {SCHEMA_REVISION}; run `tracker db upgrade` with a writable connection"
            ) from None
        if before is None:
            raise StoreError(
                f"{shown}: cannot create the tracker's tables ({_text(exc.orig or exc)});"
                " give a database this user may write, or one already set up"
            ) from None
        raise fault from None
    return before, head_revision()


def open_store(url: str | None = None) -> Engine:
    """An engine on an up-to-date schema: a new database is created and migrated here."""
    engine = create_store_engine(url)
    upgrade(engine)
    return engine
