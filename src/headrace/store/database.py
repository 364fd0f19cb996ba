"""The connection to one database: engine, transactions, migrations, error translation."""

from __future__ import annotations

import contextlib
import importlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy
from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url

from headrace import defaults, errors
from headrace.store import closing
from headrace.store.dialects import sqlite
from headrace.store.dialects.base import Dialect
from headrace.store.wal_checkpoints import WalCheckpointer

if TYPE_CHECKING:
    from headrace.store.dialects.pg_session import PreparedSession

MIGRATIONS = Path(__file__).parent / "migrations"
#: Advisory lock key that serialises migrations across processes on PostgreSQL.
MIGRATION_LOCK = 0x4845_4144_0001
#: The newest migration's revision (a test checks it is the scripts' head): a store that
#: is there already opens without Alembic, whose imports and reading of every script
#: were a sixth of a worker process's start-up.
HEAD_REVISION = "0021"


def normalize_url(url: str | None) -> str:
    """A SQLAlchemy URL from what a user passes: None, a file path, or a database URL.

    Raises:
        InvalidInput: for a URL naming a database Headrace does not support.
    """
    if url is None or url == "":
        url = os.environ.get("HEADRACE_STORE") or f"sqlite:///{defaults.SQLITE_PATH}"
    if "://" not in url:
        return f"sqlite:///{url}"
    scheme = url.split("://", 1)[0].split("+", 1)[0]
    if scheme in ("postgresql", "postgres"):
        pg = importlib.import_module("headrace.store.dialects.postgresql")
        return cast(str, pg.driver_url("postgresql" + url[len(url.split("://", 1)[0]) :]))
    if scheme == "sqlite":
        return url
    msg = f"unsupported database {scheme!r}; use sqlite:///path or postgresql://..."
    msg_0 = "store"
    raise errors.InvalidInput(msg_0, msg)


def dialect_for(url: str) -> Dialect:
    """The dialect module for a normalized URL.

    Imported on first use: a process on SQLite (an embedded client, the engine's worker
    processes) does not import psycopg.
    """
    name = "postgresql" if make_url(url).get_backend_name() == "postgresql" else "sqlite"
    return cast(Dialect, importlib.import_module(f"headrace.store.dialects.{name}"))


#: SQLite result codes (primary, ``sqlite_errorcode & 0xFF``) meaning "try again later".
SQLITE_BUSY_CODES = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED
#: SQLite primary codes meaning the database file cannot be used at all.
SQLITE_UNAVAILABLE_CODES = frozenset({10, 13, 14, 26})  # IOERR, FULL, CANTOPEN, NOTADB
#: PostgreSQL SQLSTATE classes/codes meaning busy: serialization failure, deadlock, lock wait.
PG_BUSY = ("40001", "40P01", "55P03", "57014")
#: PostgreSQL SQLSTATE classes meaning the server cannot serve: connection, resources,
#: operator intervention (shutdown), system errors.
PG_UNAVAILABLE_CLASSES = ("08", "53", "57", "58")


def classify(orig: BaseException | None) -> str:
    """``busy``, ``unavailable``, ``invalid`` or ``error`` from the driver's error code.

    Decided from codes only (psycopg's ``sqlstate``, sqlite3's ``sqlite_errorcode``),
    never from message text, so a value that merely mentions "locked" is not a 503.
    """
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str):
        if sqlstate in PG_BUSY:
            return "busy"
        if sqlstate[:2] in PG_UNAVAILABLE_CLASSES:
            return "unavailable"
        if sqlstate[:2] == "22":  # data exception: a value the column cannot hold
            return "invalid"
        return "error"
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        if code & 0xFF in SQLITE_BUSY_CODES:
            return "busy"
        if code & 0xFF in SQLITE_UNAVAILABLE_CODES:
            return "unavailable"
        return "error"
    # psycopg raises OperationalError without a sqlstate when it cannot connect at all.
    return "unavailable" if type(orig).__name__ == "OperationalError" else "error"


@contextmanager
def translated() -> Iterator[None]:
    """Re-raise driver errors as Headrace's, keeping the driver's as ``__cause__``."""
    try:
        yield
    except sqlalchemy.exc.DBAPIError as exc:
        kind = "unavailable" if exc.connection_invalidated else classify(exc.orig)
        detail = ascii(str(exc.orig if exc.orig is not None else exc))[1:-1][:500]
        if kind == "busy":
            msg = f"store busy: {detail}"
            raise errors.StoreUnavailable(msg) from exc
        if kind == "unavailable":
            msg = f"store unavailable: {detail}"
            raise errors.StoreUnavailable(msg) from exc
        if kind == "invalid":
            msg = f"the store cannot hold this value: {detail}"
            raise errors.InvalidInput("value", msg) from exc
        msg = f"store error: {detail}"
        raise errors.StoreError(msg) from exc


class Store:
    """One database: where every transaction starts and every driver error is translated."""

    def __init__(
        self, url: str | None = None, *, migrate: bool = True, background_checkpoints: bool = False
    ) -> None:
        """Open the database at ``url`` (see ``normalize_url``), migrating it unless told not.

        ``background_checkpoints`` (a SQLite file; ignored otherwise): checkpoint its WAL
        from a thread instead of inside commits (``wal_checkpoints``), for a long-lived
        process whose writers care about their latency tail, such as ``headrace server``.
        """
        self.url = normalize_url(url)
        self.dialect = dialect_for(self.url)
        self.engine: Engine = self.dialect.create_engine(self.url)
        #: Set by ``close``: every later use raises ``StoreClosed`` (here, and in the
        #: engine itself: ``closing``) instead of opening a session nobody closes.
        self._closed = threading.Event()
        closing.guard(self.engine, self._closed, self._shown())
        self._lock = threading.Lock()
        #: SQLite: this process's writers take turns here before ``BEGIN IMMEDIATE``.
        #: Without it, threads of one process meet on the file lock, and SQLite's busy
        #: handler sleeps the losers for 1, 2, 5 ... up to 100 ms a try whatever the
        #: holder's progress: under concurrent writes that sleep, not the work, made the
        #: latency tail (POST /jobs p99 147 ms at half its peak rate). A wait here ends
        #: the moment the writer before commits; the busy handler is left to arbitrate
        #: between processes only. Reentrant, so a nested write meets SQLite as before.
        self._writer_turn: threading.RLock | None = (
            None if self.is_postgresql else threading.RLock()
        )
        if migrate:
            self.migrate()
        self._checkpointer: WalCheckpointer | None = None
        #: PostgreSQL: the session ``prepared_rows`` runs on, opened at its first use.
        self._prepared: PreparedSession | None = None
        path = make_url(self.url).database
        if background_checkpoints and not self.is_postgresql and path not in (None, "", ":memory:"):
            self._checkpointer = WalCheckpointer(self.engine, str(path))

    @property
    def is_postgresql(self) -> bool:
        """Whether this store is PostgreSQL (else SQLite)."""
        return self.dialect.name == "postgresql"

    @property
    def closed(self) -> bool:
        """Whether ``close`` was called (every use raises ``StoreClosed`` then)."""
        return self._closed.is_set()

    def _shown(self) -> str:
        """The URL as an error may show it: without its password."""
        return make_url(self.url).render_as_string(hide_password=True)

    def _check_open(self) -> None:
        """Raise ``StoreClosed`` if the store was closed."""
        if self._closed.is_set():
            raise errors.StoreClosed(self._shown())

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that writes; on SQLite it takes the write lock at BEGIN.

        Raises:
            StoreError: when the database refuses; StoreUnavailable when it is unreachable;
                StoreClosed after ``close``.
        """
        self._check_open()
        with self._turn(), translated(), self.engine.connect() as conn:
            conn = conn.execution_options(headrace_write=True)
            with conn.begin():
                yield conn

    def writer_turn(self) -> contextlib.AbstractContextManager[None]:
        """This process's turn to write (SQLite; nothing on PostgreSQL), as ``write`` takes it.

        For a write that goes to the driver connection itself (``dialects.sqlite_transaction``).
        """
        return self._turn()

    @contextmanager
    def _turn(self) -> Iterator[None]:
        """This process's turn to write (SQLite), waiting no longer than the busy timeout.

        Raises:
            StoreUnavailable: another thread of this process held the turn that long.
            StoreClosed: after ``close``.
        """
        self._check_open()
        turn = self._writer_turn
        if turn is None:
            yield
            return
        wait = sqlite.BUSY_TIMEOUT_MS / 1000
        if not turn.acquire(timeout=wait):
            msg = f"store busy: another writer of this process held the database for {wait:g} s"
            raise errors.StoreUnavailable(msg)
        try:
            yield
        finally:
            turn.release()

    @contextmanager
    def single(self) -> Iterator[Connection]:
        """A connection whose statements each commit on their own (autocommit).

        For a write that is one statement: it saves the BEGIN and COMMIT round trips of
        ``write``. On SQLite, where writers must take the lock at BEGIN, it is ``write``.
        """
        if not self.is_postgresql:
            with self.write() as conn:
                yield conn
            return
        self._check_open()
        with translated(), self.engine.connect() as conn:
            yield conn.execution_options(isolation_level="AUTOCOMMIT", headrace_write=True)

    def prepared_rows(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """PostgreSQL: ``sql`` as one statement committed on its own; the rows it returns.

        On a session of its own that plans each statement once (``pg_session``): for a
        statement of fixed text run very often, a worker's round. ``sql`` is the driver's
        (``%(name)s`` parameters), so it is compiled once by the caller.

        Raises:
            StoreError: when the database refuses; StoreUnavailable when it is unreachable;
                StoreClosed after ``close`` (the session refuses a statement that reaches
                it after ``close`` closed it).
        """
        self._check_open()
        session = self._prepared
        if session is None:
            from headrace.store.dialects import postgresql

            with self._lock:
                self._check_open()  # ``close`` holds this lock: no session opens after it
                if self._prepared is None:
                    self._prepared = postgresql.prepared_session(self.engine)
                session = self._prepared
        with translated():
            return session.rows(sql, params)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A transaction that only reads (``StoreClosed`` after ``close``)."""
        self._check_open()
        with translated(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def read_one(self) -> Iterator[Connection]:
        """A connection for a read that is one statement (its own snapshot).

        On PostgreSQL it runs in autocommit: one round trip, where ``read`` spends three
        (BEGIN, the statement, COMMIT) for the same answer. On SQLite it is ``read``.
        """
        if not self.is_postgresql:
            with self.read() as conn:
                yield conn
            return
        self._check_open()
        with translated(), self.engine.connect() as conn:
            yield conn.execution_options(isolation_level="AUTOCOMMIT")

    def migrate(self) -> None:
        """Bring the schema to the newest migration (a no-op when it is there)."""
        if self.revision() == HEAD_REVISION:
            return
        # Imported here: processes that open a store without migrating it (the engine's
        # worker processes, their fork server) skip Alembic's imports, a third of the store's.
        from alembic import command
        from alembic.config import Config
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        head = ScriptDirectory.from_config(config).get_current_head()
        with self.read() as conn:
            if MigrationContext.configure(conn).get_current_revision() == head:
                return
        with self.write() as conn:
            if self.is_postgresql:
                conn.execute(
                    sqlalchemy.text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK}
                )
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    def revision(self) -> str | None:
        """The migration the schema is at (Alembic's table), None before the first."""
        try:
            with self.read_one() as conn:
                found = conn.execute(sqlalchemy.text("SELECT version_num FROM alembic_version"))
                return cast("str | None", found.scalar())
        except errors.StoreClosed:
            raise
        except errors.StoreError:
            return None  # no table yet (or no database: ``migrate`` says so)

    def close(self) -> None:
        """Close every connection, and refuse every later use (``StoreClosed``).

        Idempotent. Join the threads that use the store first: one inside a transaction
        as this runs keeps its connection until that transaction ends (it is closed then).
        """
        with self._lock:
            if not self._closed.is_set():
                self._closed.set()
                if self._checkpointer is not None:
                    self._checkpointer.stop()
                if self._prepared is not None:
                    self._prepared.close()
                self.engine.dispose()
