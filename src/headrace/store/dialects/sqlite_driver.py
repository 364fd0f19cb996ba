"""SQLite writes run on the driver connection, their statements compiled once.

For the hottest small writes (one schedule: two INSERTs in one transaction). Through
SQLAlchemy Core each ``execute`` costs tens of microseconds before the driver sees the
statement (the compiled cache lookup, the execution context, parameter and result
processing set up per call, the connection's events), and so do ``connect``, ``begin``
and ``commit``: together more than SQLite's own work for the two rows. Here a statement
is compiled by SQLAlchemy once (the same SQL its ``execute`` would send), and each call
only converts its values with the column types' own processors (a UUID is stored as its
32 hex digits, as a bound parameter would be) and runs the SQL on the ``sqlite3``
connection, in a ``BEGIN IMMEDIATE`` transaction of its own. Driver errors are wrapped as
SQLAlchemy's, so ``database.translated`` reports them as for any other write.

The transactions run on one connection the engine keeps out of its pool for them
(``transaction``): a pool checkout and checkin cost about 20 µs a write, a tenth of a
one-by-one schedule, and a connection of its own keeps its page cache warm between writes.

That connection waits for the file's write lock itself (``begin``), polling every 50 µs
at first and at least every ``LOCK_POLL_MAX_SEC``, rather than in SQLite's busy handler,
which sleeps 1, 2, 5, 10 ... up to 100 ms a try whatever the holder does: of two worker
processes draining one queue, the one that lost a race slept while the other took the
lock again and again (8,749 and 1,250 of 10,000 jobs), so a second worker added nothing.
"""

from __future__ import annotations

import operator
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import sqlalchemy
from sqlalchemy import ClauseElement, Engine, Insert, Table, event
from sqlalchemy.engine import Dialect as SQLDialect
from sqlalchemy.pool import PoolProxiedConnection, StaticPool
from sqlalchemy.sql.compiler import SQLCompiler

from headrace.store.dialects import sqlite as sqlite_dialect

#: The first and the longest pause between two tries at the write lock (``begin``).
LOCK_POLL_MIN_SEC = 0.00005
LOCK_POLL_MAX_SEC = 0.001


@dataclass(frozen=True)
class Compiled:
    """A statement's SQL, the names of its parameters in order, and their conversions."""

    sql: str
    #: Parameter names in the order of the SQL's ``?``.
    names: tuple[str, ...]
    #: Per parameter: its column type's bind processor (None: the value goes as it is).
    binds: tuple[Callable[[Any], Any] | None, ...]
    #: Values of columns the caller leaves out that SQLAlchemy fills from a scalar default.
    defaults: Mapping[str, Any]
    #: The names of the returned columns and their result processors (empty: no rows back).
    returned: tuple[str, ...] = ()
    reads: tuple[Callable[[Any], Any] | None, ...] = ()
    #: The parameters' values in order, from ``defaults`` updated with a call's values.
    _pick: Callable[[Mapping[str, Any]], Any] = field(init=False, repr=False)
    #: The positions of parameters that have a conversion, with it.
    _binding: tuple[tuple[int, Callable[[Any], Any]], ...] = field(init=False, repr=False)
    #: The returned columns that have a conversion, with it.
    _reading: tuple[tuple[str, Callable[[Any], Any]], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        pick = operator.itemgetter(*self.names) if self.names else lambda _values: ()
        one = len(self.names) == 1
        set_ = object.__setattr__
        set_(self, "_pick", (lambda values: (pick(values),)) if one else pick)
        set_(self, "_binding", tuple((i, b) for i, b in enumerate(self.binds) if b is not None))
        set_(
            self,
            "_reading",
            tuple((n, r) for n, r in zip(self.returned, self.reads, strict=True) if r is not None),
        )

    def params(self, values: Mapping[str, Any]) -> list[Any]:
        """The statement's parameters from ``values`` (by column name), converted."""
        out = list(self._pick({**self.defaults, **values} if self.defaults else values))
        for i, bind in self._binding:
            v = out[i]
            if v is not None:
                out[i] = bind(v)
        return out

    def row(self, found: Sequence[Any]) -> dict[str, Any]:
        """A returned row as ``{column: value}``, each value read as SQLAlchemy reads it."""
        row = dict(zip(self.returned, found, strict=True))
        for name, read in self._reading:
            v = row[name]
            if v is not None:
                row[name] = read(v)
        return row


def compile_insert(
    dialect: SQLDialect, table: Table, stmt: Insert, keys: Sequence[str]
) -> Compiled:
    """``stmt`` (an INSERT into ``table``) compiled for the columns ``keys``, once.

    Raises:
        ValueError: a column left out has a default that is not a plain value (a
        function or SQL expression): such a statement is not for this path.
    """
    compiled = stmt.compile(dialect=dialect, column_keys=list(keys))
    names = tuple(compiled.positiontup or ())
    defaults: dict[str, Any] = {}
    for column in compiled.insert_prefetch:
        default = column.default
        if default is None or not getattr(default, "is_scalar", False):
            msg = f"column {column.key} has a default that is not a plain value"
            raise ValueError(msg)
        defaults[column.key] = default.arg  # type: ignore[attr-defined]
    binds = tuple(_bind(dialect, table, n) for n in names)
    returned = tuple(str(c.key) for c in compiled.effective_returning or ())
    reads = tuple(
        table.c[n].type.dialect_impl(dialect).result_processor(dialect, None) for n in returned
    )
    return Compiled(compiled.string, names, binds, defaults, returned, reads)


@dataclass(frozen=True)
class Statement:
    """Any statement compiled once: its SQL, and how a call's parameters become its ``?``."""

    compiled: SQLCompiler
    names: tuple[str, ...]
    binds: tuple[Callable[[Any], Any] | None, ...]
    #: Per returned column, its type's result processor (None: read as it is).
    reads: tuple[Callable[[Any], Any] | None, ...]
    #: The positions of returned columns that have a processor, with it.
    _reading: tuple[tuple[int, Callable[[Any], Any]], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        reading = tuple((i, r) for i, r in enumerate(self.reads) if r is not None)
        object.__setattr__(self, "_reading", reading)

    def read(self, found: Sequence[Any]) -> list[Any]:
        """A returned row, each value read as SQLAlchemy reads it."""
        row = list(found)
        for i, read in self._reading:
            v = row[i]
            if v is not None:
                row[i] = read(v)
        return row

    @property
    def sql(self) -> str:
        """The SQL text, as SQLAlchemy's ``execute`` would send it."""
        return self.compiled.string

    def params(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """The parameters: ``values`` by bound name, with the values compiled in, converted."""
        bound = self.compiled.construct_params(dict(values))
        return tuple(
            bound[n] if bind is None or bound[n] is None else bind(bound[n])
            for n, bind in zip(self.names, self.binds, strict=True)
        )


def compile_statement(dialect: SQLDialect, stmt: ClauseElement) -> Statement:
    """``stmt`` compiled once for the driver (see ``Statement``)."""
    compiled = stmt.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    names = tuple(compiled.positiontup or ())
    binds = tuple(
        compiled.binds[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names
    )
    reads = tuple(
        c.type.dialect_impl(dialect).result_processor(dialect, None)
        for c in compiled.effective_returning or ()
    )
    return Statement(compiled, names, binds, reads)


def _bind(dialect: SQLDialect, table: Table, name: str) -> Callable[[Any], Any] | None:
    """The bind processor of ``table``'s column ``name`` (None for a non-column parameter)."""
    if name not in table.c:
        msg = f"parameter {name!r} is not a column of {table.name}"
        raise ValueError(msg)
    proc: Callable[[Any], Any] | None = (
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
    )
    return proc


def transaction(engine: Engine) -> Transaction:
    """A ``BEGIN IMMEDIATE`` transaction on the ``sqlite3`` connection ``engine`` keeps for it.

    Committed when the block ends, rolled back when it raises. The caller holds the
    store's writer turn (``Store.writer_turn``) and translates errors
    (``database.translated``): driver errors come out as SQLAlchemy's ``DBAPIError``.
    A transaction begun while the kept connection is busy (a nested write) runs on a
    pooled connection instead, as every transaction did before there was one.
    """
    return Transaction(engine)


class Transaction:
    """``transaction``'s context manager (a class: a generator's costs microseconds)."""

    __slots__ = ("_conn", "_engine", "_fairy", "_kept")

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
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
                conn.execute("BEGIN IMMEDIATE")  # SQLite's busy handler waits
        except BaseException as exc:
            self._release()
            raise _wrapped(exc) from exc
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
            self._release()

    def _release(self) -> None:
        if self._kept is not None:
            self._kept.lock.release()
        elif self._fairy is not None:
            self._fairy.close()


def begin(conn: sqlite3.Connection, timeout_sec: float) -> None:
    """``BEGIN IMMEDIATE`` on ``conn`` (busy timeout 0), tried until it gets the write lock.

    Raises:
        sqlite3.OperationalError: the lock stayed taken for ``timeout_sec`` ("database is
        locked"), or any other error of the BEGIN.
    """
    pause, deadline = LOCK_POLL_MIN_SEC, 0.0
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                raise
            now = time.monotonic()
            if not deadline:
                deadline = now + timeout_sec
            elif now >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 1.5, LOCK_POLL_MAX_SEC)


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
