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
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from tracker.errors import StoreError
from tracker.resources import resource_dir

if TYPE_CHECKING:
    from alembic.config import Config

DEFAULT_URL = "sqlite:///tracker.db"
# The newest migration in migrations/versions. Opening an up-to-date database compares against
# this instead of loading Alembic (a quarter of a second); tests check it equals Alembic's head.
SCHEMA_REVISION = "0003"
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


def create_store_engine(url: str | None = None) -> Engine:
    resolved = normalize_url(url)
    try:
        engine = create_engine(resolved)
    except (ArgumentError, ImportError, SQLAlchemyError) as exc:
        raise StoreError(f"{display_url(resolved)}: cannot open database ({exc})") from None
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    elif engine.dialect.name != "postgresql":
        raise StoreError(
            f"{display_url(resolved)}: only SQLite and PostgreSQL are supported,"
            f" not {engine.dialect.name}"
        )
    return engine


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
    """Bring the schema to the newest migration; returns (before, after) revisions."""
    try:
        before = current_revision(engine)
        if before == SCHEMA_REVISION:
            return before, before
        from alembic import command

        with engine.connect().execution_options(write=True) as connection, connection.begin():
            if engine.dialect.name == "postgresql":
                # Two first users at once would both create the tables; the loser waits here
                # and then finds the schema current (SQLite's BEGIN IMMEDIATE does the same).
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
            command.upgrade(_alembic_config(connection), "head")
        return before, head_revision()
    except DBAPIError as exc:
        raise StoreError(
            f"{display_url(str(engine.url))}: cannot open database"
            f" ({' '.join(str(exc.orig).split())})"
        ) from None


def open_store(url: str | None = None) -> Engine:
    """An engine on an up-to-date schema: a new database is created and migrated here."""
    engine = create_store_engine(url)
    upgrade(engine)
    return engine
