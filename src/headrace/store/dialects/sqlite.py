"""SQLite: WAL file, ``BEGIN IMMEDIATE`` for writers, no notifications (workers poll)."""

from __future__ import annotations

import itertools
import json
import operator
import os
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy
from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Engine,
    FromClause,
    Insert,
    Select,
    Table,
    event,
    func,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect as SQLDialect
from sqlalchemy.engine import make_url
from sqlalchemy.sql.expression import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from headrace.store.dialects import sqlite_host, sqlite_lock

name = "sqlite"
can_notify = False
dml_in_cte = False

#: How long a writer waits for the file lock before SQLite reports it busy.
BUSY_TIMEOUT_MS = 30_000


def create_engine(url: str) -> Engine:
    """An engine on a WAL SQLite file, creating its folder."""
    parsed = make_url(url)
    pooling: dict[str, Any] = {"pool_size": 8, "max_overflow": 32}
    if parsed.database in (None, "", ":memory:"):
        # One shared connection, or every thread would see its own empty database.
        pooling = {"poolclass": sqlalchemy.StaticPool}
    else:
        folder = os.path.dirname(os.path.abspath(parsed.database))
        os.makedirs(folder, exist_ok=True)
        sqlite_host.check_local(parsed.database)
    engine = sqlalchemy.create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
        **pooling,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (the documented pysqlite recipe),
        # so writers can take the write lock up front with BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # The busy timeout first: switching a fresh file to WAL needs it to itself, so a
        # switch racing another connection (another store, the WAL checkpointer) must wait
        # for it instead of failing "database is locked". (The driver's ``timeout`` above
        # sets the same handler at connect; this keeps the order right on its own.)
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA temp_store=MEMORY")  # sorts and temporary tables in memory
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if not conn.get_execution_options().get("headrace_write", False):
            conn.exec_driver_sql("BEGIN")
            return
        # A writer waits for the file's lock by polling, not in SQLite's busy handler,
        # as the driver writes do (``sqlite_lock``).
        driver = conn.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        try:
            sqlite_lock.begin_unhandled(driver, BUSY_TIMEOUT_MS)
        except sqlite3.Error as exc:
            raise sqlalchemy.exc.DBAPIError.instance(
                "BEGIN IMMEDIATE", None, exc, sqlite3.Error, connection_invalidated=False
            ) from exc

    return engine


def insert_ignoring_conflicts(table: Table) -> Insert:
    """``INSERT ... ON CONFLICT DO NOTHING``."""
    return sqlite_insert(table).on_conflict_do_nothing()


def upsert(table: Table, key: Sequence[str], row: dict[str, Any]) -> Insert:
    """Insert or update on ``key``."""
    stmt = sqlite_insert(table).values(row)
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
    """Multi-row ``INSERT … VALUES`` statements; with ``key``, upserts in key order.

    The driver loops in C over plain tuples; SQLAlchemy's per-row parameter handling,
    the larger cost on this path, is skipped (fixed values get their type's processing).
    The fixed values are bound once a statement (``INSERT … SELECT ?, …, columnN FROM
    (VALUES …)``), not once a row: a bulk schedule's 20,000 jobs share 43 of their 45
    columns, and binding them per row took 0.53 s of it against 0.30 s.
    With ``key`` (a Map's entries) the rows are sorted by their key columns here (a
    stable sort: of equal keys the later still comes later, and wins) and go straight
    from ``VALUES`` into the upsert, the fixed values bound once a statement: the key's
    B-tree is filled in order instead of at random places, and SQLite neither stages nor
    sorts them. Python's sort takes runs already in order almost for free (an engine
    worker sends its Map rows sorted), where SQLite's sorter does not: 50,000 Map rows
    in two sorted runs took about a fifth less CPU than staged in a temporary table and
    moved with ``INSERT … SELECT … ORDER BY`` (98 -> 78 ms), in arrival order about a
    fourteenth less (122 -> 113 ms). The order only speeds the writes: correctness never
    depends on it.
    """
    if not rows:
        return
    q = conn.dialect.identifier_preparer
    names = [*fixed, *columns]
    head = []
    for c, v in fixed.items():
        proc = table.c[c].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        head.append(v if proc is None or v is None else proc(v))
    target = f"{q.format_table(table)} ({', '.join(q.quote(c) for c in names)})"
    lead = tuple(head)
    picks = [*("?" * len(lead)), *(f"column{i + 1}" for i in range(len(columns)))]
    if key:  # in key order: the key's B-tree filled in order (see above)
        order = [i for i, c in enumerate(columns) if c in key]
        if order:
            rows = sorted(rows, key=operator.itemgetter(*order))
    if not lead and (not key or new):
        values_in(conn, f"INSERT INTO {target} VALUES", rows)
        return
    tail = ")"  # the fixed values bound once a statement, not once a row
    if key and not new:  # ``new``: nothing of ``key`` exists yet, no conflict to look for
        changed = [c for c in names if c not in key]
        sets = ", ".join(f"{q.quote(c)} = excluded.{q.quote(c)}" for c in changed)
        # ``WHERE true``: SQLite's documented way to parse an upsert after a SELECT.
        tail = (
            f") WHERE true ON CONFLICT ({', '.join(q.quote(k) for k in key)}) DO UPDATE SET {sets}"
        )
    values_in(
        conn,
        f"INSERT INTO {target} SELECT {', '.join(picks)} FROM (VALUES",
        rows,
        lead=lead,
        tail=tail,
    )


#: Most parameters one statement of ``values_in`` binds: SQLite's lowest limit (before
#: 3.32), so that any build takes it.
MAX_PARAMS = 999


def values_in(
    conn: Connection,
    head: str,
    rows: Sequence[Sequence[Any]],
    lead: tuple[Any, ...] = (),
    tail: str = "",
) -> None:
    """Runs ``head`` (an ``INSERT … VALUES``) over ``rows``, many rows per statement.

    One ``executemany`` of multi-row ``VALUES`` statements, then one for the rows left:
    SQLite resets and steps a statement per execution, so 50,000 Map rows went in in
    about 45 ms instead of 75 (the same binds, a 400th of the steps). ``lead``: values
    bound before each statement's rows (``head``'s own ``?``); ``tail``: SQL after them.
    """
    width = len(rows[0])
    per = max(1, (MAX_PARAMS - len(lead)) // width)
    whole = len(rows) // per * per
    one = "(" + ", ".join("?" * width) + ")"
    if whole:
        many = f"{head} {', '.join([one] * per)}{tail}"
        flat = list(itertools.chain.from_iterable(rows[:whole]))
        step = per * width
        conn.exec_driver_sql(
            many, [lead + tuple(flat[i : i + step]) for i in range(0, len(flat), step)]
        )
    if whole < len(rows):
        conn.exec_driver_sql(f"{head} {one}{tail}", [lead + tuple(r) for r in rows[whole:]])


def try_lock(conn: Connection, key: int) -> bool:
    """A write transaction (BEGIN IMMEDIATE) already excludes every other writer."""
    return True


def notify(conn: Connection, channel: str) -> None:
    """SQLite cannot notify; workers poll."""


def listen(engine: Engine, channel: str, on_wake: Callable[[], None]) -> Callable[[], None]:
    """SQLite cannot notify: nothing to listen to."""
    return lambda: None


def rows_table(name: str, columns: Sequence[Column[Any]]) -> FromClause:
    """Rows in one JSON array parameter (``:name_rows``), opened with ``json_each``."""
    each = func.json_each(sqlalchemy.bindparam(f"{name}_rows", type_=sqlalchemy.Text))
    values = each.table_valued("value")
    picked = [
        sqlalchemy.type_coerce(func.json_extract(values.c.value, f"$[{i}]"), c.type).label(c.name)
        for i, c in enumerate(columns)
    ]
    return sqlalchemy.select(*picked).select_from(values).subquery(name)


def rows_value(
    dialect: SQLDialect, columns: Sequence[Column[Any]], rows: Iterable[Sequence[Any]]
) -> str:
    """The value of ``rows_table``'s parameter.

    Values go through their column type's bind processing first (a UUID is stored as 32
    hex digits), as they would in a bound parameter.
    """
    procs = [
        (i, p)
        for i, c in enumerate(columns)
        if (p := c.type.dialect_impl(dialect).bind_processor(dialect)) is not None
    ]
    out = []
    for r in rows:
        row = list(r)
        for i, proc in procs:
            v = row[i]
            if v is not None:
                row[i] = proc(v)
        out.append(row)
    return json.dumps(out)


def not_for_index(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """``+column``: SQLite's documented way to keep a term from using an index."""
    return UnaryExpression(column, operator=custom_op("+"), type_=column.type)


def row_key(table: Table) -> ColumnElement[Any]:
    """``rowid``, which the table is stored by: no walk of a text primary key's own index."""
    return sqlalchemy.literal_column(f"{table.name}.rowid", sqlalchemy.Integer)


def among_chosen(column: ColumnElement[Any], chosen: Select[Any]) -> ColumnElement[bool]:
    """``column IN (chosen)``: SQLite looks each chosen value up by key."""
    return column.in_(chosen)
