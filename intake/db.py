"""Engines and sessions. SQLite (the embedded default) or PostgreSQL; the schema is migrated to the
newest Alembic revision the first time a process opens a database."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Any constant: PostgreSQL advisory lock that lets one process at a time migrate the schema.
_MIGRATION_LOCK = 74_210_001


def upgrade(engine: Engine) -> None:
    """Migrate the database to the newest revision; safe when many workers start at once."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


# Request threads per API process, and connections each process keeps open to PostgreSQL. On 2 cores
# more threads only queue for the CPU; they are for requests waiting on fsync or the database.
REQUEST_THREADS = 16


@cache
def get_engine(url: str, echo: bool = False) -> Engine:
    """One engine per database URL per process, migrated; creates the SQLite file's folder."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, pool_pre_ping=True)
    else:
        # As many kept-open connections as the API runs request threads (api.app), so a burst of
        # requests never opens and closes overflow connections; the overflow serves other threads
        # (rq's, the reconciler's).
        engine = create_engine(url, echo=echo, pool_pre_ping=True, pool_size=REQUEST_THREADS, max_overflow=8,
                               pool_recycle=1800)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

    upgrade(engine)
    return engine


def session_factory(url: str, echo: bool = False) -> sessionmaker[Session]:
    return sessionmaker(get_engine(url, echo), expire_on_commit=False)
