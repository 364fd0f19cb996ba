"""PostgreSQL through psycopg 3: row locks with SKIP LOCKED, advisory locks, LISTEN/NOTIFY."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import psycopg
import sqlalchemy
from psycopg.types.string import TextLoader
from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Engine,
    FromClause,
    Insert,
    Select,
    Table,
    any_,
    bindparam,
    event,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSON
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Dialect as SQLDialect
from sqlalchemy.engine import make_url

from headrace import defaults
from headrace.store.dialects.pg_session import PreparedSession

name = "postgresql"
can_notify = True
dml_in_cte = True


def driver_url(url: str) -> str:
    """The SQLAlchemy URL for psycopg 3, whatever driver the caller named."""
    return make_url(url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def create_engine(url: str) -> Engine:
    """A pooled psycopg 3 engine whose sessions bound how long a transaction may idle.

    Every session sets ``idle_in_transaction_session_timeout`` and ``statement_timeout``
    (``defaults``): a process frozen inside a transaction loses its session, and its
    locks, after that bound instead of holding them until it wakes.

    No ``pool_pre_ping``: it costs a round trip per transaction. A connection the server
    dropped fails its first statement with a disconnect error, on which SQLAlchemy
    invalidates the whole pool, and callers retry (workers do, every round); the pool
    recycles connections idle for long, which a firewall or server timeout may have cut.
    """
    engine = sqlalchemy.create_engine(
        driver_url(url),
        pool_size=10,
        max_overflow=40,
        pool_recycle=300,
        pool_use_lifo=True,
        connect_args={"options": session_options()},
    )

    @event.listens_for(engine, "connect")
    def _uuids_as_text(dbapi_conn: psycopg.Connection[Any], _record: object) -> None:
        # Our UUID columns are strings in Python (``Uuid(as_uuid=False)``): read them as
        # text, rather than build a ``uuid.UUID`` that SQLAlchemy then turns back into a
        # string; a claim and a finish read four per job.
        dbapi_conn.adapters.register_loader("uuid", TextLoader)

    @event.listens_for(engine, "do_connect")
    def _named(_dialect: object, _record: object, _args: object, params: dict[str, Any]) -> None:
        # Which process holds a session, in ``pg_stat_activity``: operators see whose
        # connections they are, and tests wait for a killed worker's sessions to end.
        # At connect time, not engine creation: a forked child names itself.
        params.setdefault("application_name", app_name())

    return engine


def session_options() -> str:
    """The ``options`` every session of ours sets: how long a transaction or statement may last."""
    return (
        f"-c idle_in_transaction_session_timeout={int(defaults.TRANSACTION_IDLE_MAX_SEC * 1000)}"
        f" -c statement_timeout={int(defaults.STATEMENT_MAX_SEC * 1000)}"
    )


def prepared_session(engine: Engine) -> PreparedSession:
    """A session of its own for a statement run many times, planned once (``pg_session``)."""
    url = make_url(engine.url.render_as_string(hide_password=False))
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    if "application_name" in url.query:
        return PreparedSession(dsn, session_options(), lambda: str(url.query["application_name"]))
    return PreparedSession(dsn, session_options(), app_name)


def app_name(pid: int | None = None) -> str:
    """The ``application_name`` a Headrace process's sessions carry (unless the URL names one)."""
    return f"headrace pid {os.getpid() if pid is None else pid}"


def insert_ignoring_conflicts(table: Table) -> Insert:
    """``INSERT ... ON CONFLICT DO NOTHING``."""
    return pg_insert(table).on_conflict_do_nothing()


def upsert(table: Table, key: Sequence[str], row: dict[str, Any]) -> Insert:
    """Insert or update on ``key``."""
    stmt = pg_insert(table).values(row)
    changes = {k: v for k, v in row.items() if k not in key}
    return stmt.on_conflict_do_update(index_elements=list(key), set_=changes)


def bulk_insert(
    conn: Connection,
    table: Table,
    fixed: dict[str, Any],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    key: Sequence[str] = (),
    new: bool = False,
) -> None:
    """One ``INSERT … SELECT … FROM unnest(arrays)`` (``ON CONFLICT … DO UPDATE`` by ``key``).

    Each column's values travel as one array parameter in binary, so the statement is one
    round trip whatever the number of rows (as fast as ``COPY`` here, and it can upsert).
    ``new`` leaves out the ``ON CONFLICT``: its speculative insertion probes the key's
    index before each row, about 0.4 of the statement's time for 100,000 Map entries
    (576 against 411 ms in a bare psycopg loop, 2026-12-08).
    """
    if not rows:
        return
    q = conn.dialect.identifier_preparer
    names = [*fixed, *columns]
    typed = {c: table.c[c].type.compile(dialect=conn.dialect) for c in names}
    params: dict[str, Any] = {f"f{i}": v for i, v in enumerate(fixed.values())}
    picks = [f"%(f{i})s::{typed[c]}" for i, c in enumerate(fixed)]
    arrays = []
    for i, c in enumerate(columns):
        params[f"a{i}"] = [r[i] for r in rows]
        arrays.append(f"%(a{i})b::{typed[c]}[]")
    picks += [f"u.c{i}" for i in range(len(columns))]
    sql = (
        f"INSERT INTO {q.format_table(table)} ({', '.join(q.quote(c) for c in names)}) "
        f"SELECT {', '.join(picks)} FROM unnest({', '.join(arrays)}) "
        f"AS u({', '.join(f'c{i}' for i in range(len(columns)))})"
    )
    if key and not new:
        changed = [c for c in names if c not in key]
        sets = ", ".join(f"{q.quote(c)} = excluded.{q.quote(c)}" for c in changed)
        sql += f" ON CONFLICT ({', '.join(q.quote(k) for k in key)}) DO UPDATE SET {sets}"
    conn.exec_driver_sql(sql, params)


def try_lock(conn: Connection, key: int) -> bool:
    """A transaction-scoped advisory lock, so one process at a time does the work."""
    return bool(conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key}).scalar())


def notify(conn: Connection, channel: str) -> None:
    """Queue a notification, delivered when the transaction commits."""
    conn.execute(text("SELECT pg_notify(:c, '')"), {"c": channel})


#: How long stopping a listener waits for its thread (which wakes every 0.5 s).
LISTEN_STOP_SEC = 2.0


def listen(engine: Engine, channel: str, on_wake: Callable[[], None]) -> Callable[[], None]:
    """Listen on a dedicated connection in a daemon thread; returns its stop function.

    The stop waits (up to ``LISTEN_STOP_SEC``) for the thread to close its connection, so
    that a worker whose stop returned holds no session, and its store may close.
    """
    url = make_url(str(engine.url.render_as_string(hide_password=False)))
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    stopped = threading.Event()

    def run() -> None:
        while not stopped.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {channel}")
                    while not stopped.is_set():
                        for _ in conn.notifies(timeout=0.5, stop_after=1):
                            on_wake()
            except psycopg.OperationalError:
                # The database went away: wake the worker (it polls) and try again.
                on_wake()
                stopped.wait(1.0)

    thread = threading.Thread(target=run, name="headrace-listen", daemon=True)
    thread.start()

    def stop() -> None:
        stopped.set()
        if thread is not threading.current_thread():
            thread.join(LISTEN_STOP_SEC)

    return stop


def rows_table(name: str, columns: Sequence[Column[Any]]) -> FromClause:
    """``json_to_recordset(:name_rows) AS name(col type, ...)``: rows in one JSON parameter.

    One ``json.dumps`` (in C) for a whole batch: binding one typed array per column made
    the driver dump every element in Python, the worker's largest cost per job.
    """
    typed = [sqlalchemy.column(c.name, c.type) for c in columns]
    param = bindparam(f"{name}_rows", type_=sqlalchemy.Text)
    return (
        func.json_to_recordset(sqlalchemy.cast(param, JSON))
        .table_valued(*typed)
        .render_derived(name=name, with_types=True)
    )


def rows_value(
    dialect: SQLDialect, columns: Sequence[Column[Any]], rows: Iterable[Sequence[Any]]
) -> str:
    """The value of ``rows_table``'s parameter; values are JSON scalars, as all ours are."""
    names = [c.name for c in columns]
    return json.dumps([dict(zip(names, r, strict=True)) for r in rows])


def not_for_index(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """The column as it is: PostgreSQL's planner weighs the key range by its statistics."""
    return column


def row_key(table: Table) -> ColumnElement[Any]:
    """The primary key (one column)."""
    (key,) = table.primary_key.columns
    return key


def among_chosen(column: ColumnElement[Any], chosen: Select[Any]) -> ColumnElement[bool]:
    """``column = ANY(ARRAY(chosen))``: found by key, never by a join the planner costs.

    ``column IN (chosen)`` is a semi-join, and in a generic plan (a prepared statement
    whose ``LIMIT`` is a parameter) the planner takes the chosen rows for a tenth of the
    table and answers it with a hash join over a sequential scan of ``jobs``: every
    claim read the whole table. An array from a subquery is computed once, before the
    scan, and the planner reads the rows it names through the primary key.
    """
    return column == any_(func.array(chosen.scalar_subquery()))
