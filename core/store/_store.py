"""``Store``: the engine, sessions and programmatic Alembic migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from ._errors import (
    SchemaAheadError,
    SchemaOutdatedError,
    StoreError,
    StoreUnavailableError,
)
from ._rows import json_dumps
from ._url import normalise_url, redact_url

MIGRATIONS = Path(__file__).with_name("migrations")
SUPPORTED_BACKENDS = ("sqlite", "postgresql")
SQLITE_BUSY_TIMEOUT_MS = 30_000
"""A writer waits this long for another writer's transaction before 'database is locked'."""
SQLITE_CACHE_KIB = 32 * 1024
"""Page cache per SQLite connection, in KiB (``PRAGMA cache_size`` takes it negative)."""
_PG_MIGRATION_LOCK = 0x5B0_1004  # pg_advisory_xact_lock key: one migration at a time


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # WAL: readers never block the writer. synchronous=NORMAL is durable against process
        # crashes (SIGKILL); a power loss may drop the last commits but never tears a commit
        # apart, and a page's records and its cursor always commit together.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # A 32 MiB page cache (SQLite's default is 2 MiB; it grows only as used): the mirror's
        # inserts touch every index of its tables, and with the default cache their pages
        # were re-read from the file for each page of records — a quarter of the inserts' CPU.
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    finally:
        cursor.close()


class Store:
    """The database behind shoploop: SQLite (embedded default) or PostgreSQL.

    ``upgrade()`` migrates the schema to this version (``shoploop db upgrade``); every
    ``session()`` first checks — once per ``Store`` — that the schema is current and raises
    :class:`SchemaOutdatedError` otherwise.
    """

    def __init__(self, url: str | URL, *, echo: bool = False) -> None:
        self._url = normalise_url(url)
        backend = self._url.get_backend_name()
        if backend not in SUPPORTED_BACKENDS:
            raise StoreError(
                f"unsupported database {backend!r} in {redact_url(self._url)}",
                remedy="use a sqlite:/// or postgresql:// URL",
            )
        self.backend: str = backend
        connect_args: dict[str, Any] = {}
        if backend == "postgresql" and "connect_timeout" not in self._url.query:
            connect_args["connect_timeout"] = 10  # fail fast (and clearly) on a dead host
        self.engine: Engine = create_engine(
            self._url, echo=echo, connect_args=connect_args, json_serializer=json_dumps,
            pool_pre_ping=backend != "sqlite",
        )
        if backend == "sqlite":
            event.listen(self.engine, "connect", _sqlite_on_connect)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._scripts: ScriptDirectory | None = None
        self._schema_checked = False

    def __repr__(self) -> str:
        return f"Store({self.redacted_url!r})"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.dispose()

    @property
    def url(self) -> str:
        """The full URL, password included — never print or log it; use ``redacted_url``."""
        return self._url.render_as_string(hide_password=False)

    @property
    def redacted_url(self) -> str:
        return redact_url(self._url)

    # -- migrations -------------------------------------------------------------------------

    def _alembic_config(self, connection: Connection | None = None) -> Config:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        return config

    @property
    def scripts(self) -> ScriptDirectory:
        if self._scripts is None:
            self._scripts = ScriptDirectory.from_config(self._alembic_config())
        return self._scripts

    def head_revision(self) -> str:
        """The newest schema revision this version of shoploop knows."""
        head = self.scripts.get_current_head()
        assert head is not None, "no migrations packaged"
        return head

    def _sqlite_file_missing(self) -> bool:
        database = self._url.database
        if self.backend != "sqlite" or database in (None, "", ":memory:"):
            return False
        return self._url.query.get("uri") is None and not Path(database).exists()

    def open_connection(self) -> Connection:
        """A raw connection the caller closes (no schema check); a database that cannot be
        reached or opened raises :class:`StoreUnavailableError`, never a driver's exception."""
        try:
            return self.engine.connect()
        except DBAPIError as exc:
            raise StoreUnavailableError(
                f"cannot open the store at {self.redacted_url}: {exc.orig or exc}"
            ) from exc

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """:meth:`open_connection` for a ``with`` block."""
        with self.open_connection() as connection:
            yield connection

    def current_revision(self) -> str | None:
        """The schema revision the database is at; None for an empty (or missing) database."""
        if self._sqlite_file_missing():
            return None
        with self.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def upgrade(self) -> str:
        """Migrate the schema to the newest revision; returns it. Safe to run repeatedly and
        concurrently (one migration at a time; all-or-nothing per run)."""
        if self.backend == "sqlite" and self._url.database not in (None, "", ":memory:"):
            assert self._url.database is not None
            Path(self._url.database).parent.mkdir(parents=True, exist_ok=True)
        with self.connect() as connection:
            try:
                if self.backend == "sqlite":
                    # Batch migrations copy tables: foreign keys must be off while they run
                    # (only possible outside a transaction) and are checked before commit.
                    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                    connection.exec_driver_sql("BEGIN IMMEDIATE")
                else:
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
                    )
                command.upgrade(self._alembic_config(connection), "head")
                if self.backend == "sqlite":
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise StoreError(f"migration left broken foreign keys: {broken[:5]}")
                revision = MigrationContext.configure(connection).get_current_revision()
                connection.commit()
            except BaseException:
                connection.rollback()
                raise
            finally:
                if self.backend == "sqlite":  # never pool a connection with foreign keys off
                    connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                    connection.commit()
        self._schema_checked = False
        assert revision is not None
        return revision

    def check_schema(self) -> str:
        """Raise unless the database is at this shoploop's head revision; returns it."""
        current = self.current_revision()
        head = self.head_revision()
        if current == head:
            return head
        where = f"the store at {self.redacted_url}"
        if current is None:
            raise SchemaOutdatedError(f"{where} has no shoploop schema yet")
        try:
            known = self.scripts.get_revision(current) is not None
        except CommandError:
            known = False
        if not known:
            raise SchemaAheadError(
                f"{where} is at revision {current!r}, which this shoploop does not know "
                f"(its newest is {head!r})"
            )
        raise SchemaOutdatedError(
            f"{where} is at revision {current!r}; this shoploop needs {head!r}"
        )

    # -- sessions ---------------------------------------------------------------------------

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits when the block succeeds and rolls back when it raises."""
        if not self._schema_checked:
            self.check_schema()
            self._schema_checked = True
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        """Close all pooled connections."""
        self.engine.dispose()
