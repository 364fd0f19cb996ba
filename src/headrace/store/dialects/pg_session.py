"""PostgreSQL: one session of its own for a statement a process runs many times.

A worker's round (``AttemptRepository._pump_in_one``, built by ``store.pg_round``) is one
large statement, three data-modifying CTEs, whose text never changes. psycopg prepares it
after a few executions, but PostgreSQL's plan cache then plans it again at every execution whenever
the plan for the values at hand looks cheaper than the generic one, which it does for a
round of one or two jobs (the generic plan is costed for ten): at capacity 1, planning
was half of the backend's CPU per round (``perf``). The generic plan is the one wanted
whatever the count (rows found by primary key, the claim by ``ix_jobs_claim``; a test
checks it), so this session plans with ``plan_cache_mode = force_generic_plan``: every
statement is planned once per session. That setting is why the session is not one of
the pool's, whose other statements keep their custom plans; and running its statement
straight through psycopg spares SQLAlchemy's execution path (about a third of the pump
thread's CPU per round on this statement).

Autocommit, so each statement commits on its own (as ``Store.single``), with the same
bounds as the pool's sessions. Used by one thread at a time (a lock); a connection that
broke is dropped and the next statement opens another; a forked child opens its own.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from typing import Any

import psycopg
import sqlalchemy
from psycopg.types.string import TextLoader

from headrace import errors

#: Statements of this session are planned once, for any parameters (see the module).
GENERIC_PLANS = "-c plan_cache_mode=force_generic_plan"


class PreparedSession:
    """A psycopg session that prepares its statements and plans each of them once."""

    def __init__(self, dsn: str, options: str, application_name: Callable[[], str]) -> None:
        """A session (opened at its first statement) to ``dsn`` with the pool's ``options``.

        ``application_name`` names the process at connect time (a forked child its own).
        """
        self._dsn = dsn
        self._options = f"{options} {GENERIC_PLANS}"
        self._application_name = application_name
        self._lock = threading.Lock()
        self._conn: psycopg.Connection[tuple[Any, ...]] | None = None
        #: The session's one cursor, reused: a new one per statement (``conn.execute``)
        #: builds its transformer again, a fifth of the driver's CPU per round.
        self._cur: psycopg.Cursor[tuple[Any, ...]] | None = None
        self._pid = 0
        #: Set by ``close``: the session opens no connection after it.
        self._closed = False
        #: Statements run, for tests and diagnostics.
        self.executed = 0

    def rows(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Run ``sql`` (``%(name)s`` parameters) as one committed statement; its rows.

        Raises:
            sqlalchemy.exc.DBAPIError: the driver's error wrapped as SQLAlchemy wraps it
                (``connection_invalidated`` when the session broke), so that the store's
                ``translated`` reads it as it reads the pool's.
            StoreClosed: after ``close`` (a statement that raced its store's close).
        """
        with self._lock:
            if self._closed:
                shown = sqlalchemy.make_url(self._dsn).render_as_string(hide_password=True)
                raise errors.StoreClosed(shown)
            try:
                cursor = self._cursor()
                self.executed += 1
                return cursor.execute(sql, params, prepare=True).fetchall()
            except psycopg.Error as exc:
                broken = self._conn is None or self._conn.broken or self._conn.closed
                if broken and self._conn is not None:
                    self._conn.close()
                if broken:
                    self._conn = self._cur = None
                raise sqlalchemy.exc.DBAPIError.instance(
                    sql, params, exc, psycopg.Error, connection_invalidated=broken
                ) from exc

    def close(self) -> None:
        """Close the session for good: a later statement raises ``StoreClosed``."""
        with self._lock:
            self._closed = True
            conn, self._conn, self._cur = self._conn, None, None
            if conn is not None:
                _close(conn, self._pid)

    def _cursor(self) -> psycopg.Cursor[tuple[Any, ...]]:
        """The session's cursor, on a connection this process opened."""
        conn = self._connection()
        if self._cur is None or self._cur.connection is not conn:
            self._cur = conn.cursor()
        return self._cur

    def _connection(self) -> psycopg.Connection[tuple[Any, ...]]:
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        if self._conn is not None:
            # A forked child: the parent's session is not ours to use or to close.
            _close(self._conn, self._pid)
        conn = psycopg.connect(
            self._dsn,
            autocommit=True,
            options=self._options,
            application_name=self._application_name(),
        )
        # UUIDs as text, as the pool's sessions read them (``postgresql.create_engine``).
        conn.adapters.register_loader("uuid", TextLoader)
        self._conn, self._pid = conn, os.getpid()
        # A session dropped unclosed (its store never closed) closes its connection, as
        # the pool's do; not at interpreter exit, where the process's end closes it.
        weakref.finalize(self, _close, conn, self._pid).atexit = False
        return conn


def _close(conn: psycopg.Connection[tuple[Any, ...]], pid: int) -> None:
    """Close ``conn`` if this process opened it; else keep it (see ``_inherited``)."""
    if pid == os.getpid():
        conn.close()
    else:
        _inherited.append(conn)


#: Sessions a forked child inherited: kept referenced so that the child never finalizes
#: them (which would end the parent's session on the shared socket).
_inherited: list[psycopg.Connection[tuple[Any, ...]]] = []
