"""SQLite driver writes: ``BEGIN IMMEDIATE`` transactions on a connection kept for them.

The hottest small writes (a one-by-one schedule, a worker's round) run their statements,
compiled once (``sqlite_driver``), on the ``sqlite3`` connection, in a transaction of
their own that this module opens and ends. Driver errors are wrapped as SQLAlchemy's, so
``database.translated`` reports them as for any other write.

The transactions run on one connection the engine keeps out of its pool for them
(``transaction``): a pool checkout and checkin cost about 20 µs a write, a tenth of a
one-by-one schedule, and a connection of its own keeps its page cache warm between writes.
That connection waits for the file's write lock itself (``sqlite_lock.begin``), not in
SQLite's busy handler.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from dataclasses import dataclass, field
from types import TracebackType

import sqlalchemy
from sqlalchemy import Engine, event
from sqlalchemy.pool import PoolProxiedConnection, StaticPool

from headrace.store.dialects import sqlite as sqlite_dialect
from headrace.store.dialects.sqlite_lock import HeldGate, begin, begin_unhandled


def transaction(engine: Engine, gate: HeldGate | None = None) -> Transaction:
    """A ``BEGIN IMMEDIATE`` transaction on the ``sqlite3`` connection ``engine`` keeps for it.

    Committed when the block ends, rolled back when it raises. The caller holds the
    store's writer turn (``Store.writer_turn``) and translates errors
    (``database.translated``): driver errors come out as SQLAlchemy's ``DBAPIError``.
    A transaction begun while the kept connection is busy (a nested write) runs on a
    pooled connection instead, as every transaction did before there was one. ``gate``
    is shut from the moment the transaction has the write lock until it has let go of
    it (committed or rolled back).
    """
    return Transaction(engine, gate)


class Transaction:
    """``transaction``'s context manager (a class: a generator's costs microseconds)."""

    __slots__ = ("_conn", "_engine", "_fairy", "_gate", "_kept")

    def __init__(self, engine: Engine, gate: HeldGate | None = None) -> None:
        self._engine = engine
        self._gate = gate
        self._kept: _Kept | None = None
        self._fairy: PoolProxiedConnection | None = None

    def __enter__(self) -> sqlite3.Connection:
        kept = _kept(self._engine)
        if kept is not None and kept.lock.acquire(blocking=False):
            self._kept, conn = kept, kept.conn
        else:
            self._fairy = fairy = self._engine.raw_connection()
            pooled = fairy.driver_connection
            assert isinstance(pooled, sqlite3.Connection)
            conn = pooled
        self._conn = conn
        try:
            if self._kept is not None:
                begin(conn, sqlite_dialect.BUSY_TIMEOUT_MS / 1000)
            else:
                begin_unhandled(conn, sqlite_dialect.BUSY_TIMEOUT_MS)
        except BaseException as exc:
            self._release()
            raise _wrapped(exc) from exc
        if self._gate is not None:
            self._gate.shut()
        return conn

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        conn = self._conn
        try:
            if exc is None:
                try:
                    conn.execute("COMMIT")
                except BaseException as failed:
                    _roll_back(conn)
                    raise _wrapped(failed) from failed
                return
            _roll_back(conn)
            if isinstance(exc, sqlite3.Error):
                raise _wrapped(exc) from exc
        finally:
            if self._gate is not None:
                self._gate.open()
            self._release()

    def _release(self) -> None:
        if self._kept is not None:
            self._kept.lock.release()
        elif self._fairy is not None:
            self._fairy.close()


def _roll_back(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def _wrapped(exc: BaseException) -> BaseException:
    """A driver error as SQLAlchemy's (what ``database.translated`` reads); others as they are."""
    if isinstance(exc, sqlite3.Error):
        return sqlalchemy.exc.DBAPIError.instance(
            None, None, exc, sqlite3.Error, connection_invalidated=False
        )
    return exc


@dataclass(eq=False)
class _Kept:
    """The connection an engine keeps out of its pool for ``transaction``."""

    fairy: PoolProxiedConnection
    conn: sqlite3.Connection
    #: Held while a transaction runs on it.
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: The process that opened it (a forked child opens its own).
    pid: int = field(default_factory=os.getpid)


_KEPT: weakref.WeakKeyDictionary[Engine, _Kept] = weakref.WeakKeyDictionary()
_KEEPING = threading.Lock()


def _kept(engine: Engine) -> _Kept | None:
    """The engine's kept connection, opened on first use; None for an in-memory database.

    An in-memory database has one connection, shared through a ``StaticPool``: that one
    stays in the pool.
    """
    kept = _KEPT.get(engine)
    if kept is not None and kept.pid == os.getpid():
        return kept
    if isinstance(engine.pool, StaticPool):
        return None
    with _KEEPING:
        kept = _KEPT.get(engine)
        if kept is None or kept.pid != os.getpid():
            if not event.contains(engine, "engine_disposed", _let_go):
                event.listen(engine, "engine_disposed", _let_go)
            fairy = engine.raw_connection()
            conn = fairy.driver_connection
            assert isinstance(conn, sqlite3.Connection)
            # Out of the pool for good: closing it closes the connection.
            fairy.detach()
            # ``begin`` waits for the write lock; once it has it, no statement of the
            # transaction waits for another lock (WAL: readers never block a writer).
            conn.execute("PRAGMA busy_timeout=0")
            kept = _KEPT[engine] = _Kept(fairy, conn)
    return kept


def _let_go(engine: Engine) -> None:
    """Close the kept connection when its engine lets go of its pool (``Engine.dispose``).

    The next transaction opens a new one, set up as the engine now sets up connections
    (the WAL checkpointer disposes the engine to turn automatic checkpoints off).
    """
    with _KEEPING:
        kept = _KEPT.pop(engine, None)
    if kept is None or kept.pid != os.getpid():
        return
    # A transaction still running on it ends first (the store is closing).
    got = kept.lock.acquire(timeout=30)
    try:
        kept.fairy.close()
    finally:
        if got:
            kept.lock.release()
