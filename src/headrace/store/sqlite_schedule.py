"""SQLite's one-by-one schedule on the driver connection: the job and its event, one commit.

Why not through SQLAlchemy: its Core overhead per call (connection checkout events,
``begin``, two ``execute`` calls each setting up an execution context, ``commit``) was
about 0.4 ms of a 0.7 ms schedule, more than SQLite's own work for the two rows. The
statements are the ones the SQLAlchemy path runs (``job_rows.insert_job`` and the
``scheduled`` event's insert), compiled once per set of columns and run on the ``sqlite3``
connection (``dialects.sqlite_driver``), so the rows are the same.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert

from headrace.store import tables
from headrace.store.database import Store, translated
from headrace.store.dialects import sqlite_driver, sqlite_transaction
from headrace.store.job_rows import J, insert_job, scheduled_event


def insert_new(store: Store, row: dict[str, Any], user_id: str) -> dict[str, Any] | None:
    """Insert a new job with its ``scheduled`` event; None (nothing written) on a conflict.

    A conflict is the tenant's idempotency key or the job's active name already taken:
    the caller finds the job holding it (``JobRepository.insert``).

    Raises:
        StoreError, StoreUnavailable: as ``Store.write`` does.
    """
    job_sql, event_sql = _statements(store, tuple(row))
    event = scheduled_event(row, user_id)
    with store.writer_turn(), translated(), sqlite_transaction.transaction(store.engine) as conn:
        found = conn.execute(job_sql.sql, job_sql.params(row)).fetchone()
        if found is None:
            return None
        conn.execute(event_sql.sql, event_sql.params(event))
    return job_sql.row(found)


def _statements(
    store: Store, keys: tuple[str, ...]
) -> tuple[sqlite_driver.Compiled, sqlite_driver.Compiled]:
    """The job's and the event's INSERT for a row of ``keys``, compiled once."""
    found = _COMPILED.get(keys)
    if found is None:
        dialect = store.engine.dialect
        job = sqlite_driver.compile_insert(dialect, J, insert_job(store.dialect), keys)
        E = tables.job_events
        event_keys = tuple(scheduled_event({c.key: None for c in J.c}, ""))
        event = sqlite_driver.compile_insert(dialect, E, insert(E), event_keys)
        found = _COMPILED[keys] = (job, event)
    return found


#: ``_statements``' answers, by the row's columns.
_COMPILED: dict[tuple[str, ...], tuple[sqlite_driver.Compiled, sqlite_driver.Compiled]] = {}
