"""Rows of the jobs table: reading a job, its events, and the statements that insert them.

Shared by the repositories that write jobs (``jobs``, ``attempts``, ``runs``,
``maintenance``): one place for a job row's shape and for the insert statements built once
per dialect.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy
from sqlalchemy import (
    ColumnElement,
    Connection,
    Insert,
    RowMapping,
    Select,
    Table,
    bindparam,
    insert,
    literal_column,
    select,
)
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from headrace.model import labels
from headrace.model import status as machine
from headrace.model.job import Job, JobEvent
from headrace.model.status import Status
from headrace.store import codec, tables
from headrace.store.database import Store
from headrace.store.dialects.base import Dialect

J = tables.jobs
#: The columns of an event row, in the order statements that insert events fill them.
#: One row per write: ``from_status`` and ``to_status`` are its path's first and last
#: status, ``via`` those between (``via_of``); readers expand it (``events_from_row``).
EVENT_COLUMNS = (
    "job_id",
    "tenant_id",
    "from_status",
    "to_status",
    "user_id",
    "at_ms",
    "reason",
    "attempt",
    "via",
)

#: "Holds its name" (started, not ended), its statuses as SQL literals: so a prepared
#: statement's generic plan can still use ``ux_jobs_active_name``, whose predicate names
#: them (with bound statuses it scanned the whole table).
IS_ACTIVE = J.c.status.not_in(
    [literal_column(f"'{s}'", sqlalchemy.String) for s in machine.NAME_FREE]
)

#: Columns a listing may be ordered by (``order=-scheduled_at`` means descending).
ORDERABLE = {
    "scheduled_at": J.c.scheduled_at_ms,
    "updated_at": J.c.updated_at_ms,
    "started_at": J.c.started_at_ms,
    "eta": J.c.eta_ms,
    "status": J.c.status,
    "type": J.c.type,
    "progress": J.c.progress,
}

#: Most rows one bulk INSERT statement carries.
BULK_ROWS = 5000


def job_from_row(row: RowMapping | Mapping[str, Any]) -> Job:
    """A ``Job`` record from a ``jobs`` row."""
    return Job(
        job_id=str(row["job_id"]),
        tenant_id=str(row["tenant_id"]),
        user_id=str(row["user_id"]),
        idempotency_key=row["idempotency_key"],
        type=row["type"],
        name=row["name"],
        description=row["description"],
        queue=row["queue"],
        status=Status(row["status"]),
        details=row["details"],
        scheduled_at_ms=row["scheduled_at_ms"],
        updated_at_ms=row["updated_at_ms"],
        started_at_ms=row["started_at_ms"],
        finished_at_ms=row["finished_at_ms"],
        eta_ms=row["eta_ms"],
        locked_by=None if row["locked_by"] is None else str(row["locked_by"]),
        attempt=row["attempt"],
        progress=row["progress"],
        progress_details=row["progress_details"],
        timeout_sec=row["timeout_sec"],
        max_retries=row["max_retries"],
        retry_delay_sec=row["retry_delay_sec"],
        retries=row["retries"],
        run_count=row["run_count"],
        error=row["error"],
        result=codec.loads(row["result"]),
        params=codec.loads(row["params"]),
        state=codec.loads(row["state"]) or {},
        project=row["project"],
        tags=tuple(codec.loads(row["tags"]) or ()),
        runtime_parameters=codec.loads(row["runtime_parameters"]) or {},
        parameter_sets=codec.loads(row["parameter_sets"]) or {},
        pipeline_name=row["pipeline_name"],
        pipeline_version=row["pipeline_version"],
        require_error_ack=bool(row["require_error_ack"]),
        error_acknowledged=bool(row["error_acknowledged"]),
        origin=row["origin"],
        lease_losses=row["lease_losses"],
        labels=labels.decode(row["labels"]),
    )


def events_from_row(r: RowMapping) -> list[JobEvent]:
    """A ``job_events`` row as its ``JobEvent``s: one per step of the write it records.

    A row with ``via`` is a write whose path passed through those statuses: each step is
    an event with the row's id, time, reason, attempt and user.
    """
    to_status = Status(r["to_status"])
    from_status = None if r["from_status"] is None else Status(r["from_status"])
    via = r["via"]
    steps: list[tuple[Status | None, Status]]
    if via is None:
        steps = [(from_status, to_status)]
    else:
        to = [*(Status(s) for s in via.split(",")), to_status]
        steps = list(zip([from_status, *to[:-1]], to, strict=True))
    event_id, job_id, at_ms = r["event_id"], str(r["job_id"]), r["at_ms"]
    user_id = None if r["user_id"] is None else str(r["user_id"])
    reason, attempt = r["reason"], r["attempt"]
    return [
        JobEvent(
            event_id=event_id,
            job_id=job_id,
            from_status=a,
            to_status=b,
            user_id=user_id,
            at_ms=at_ms,
            reason=reason,
            attempt=attempt,
        )
        for a, b in steps
    ]


def via_of(path: Sequence[Status]) -> str | None:
    """What ``job_events.via`` stores for a write along ``path``.

    The statuses between its first and last, comma-separated in order; None for a path of
    one step.
    """
    return ",".join(str(s) for s in path[1:-1]) or None


def event_row(
    job_id: str,
    tenant_id: str,
    path: Sequence[Status],
    *,
    user_id: str | None,
    at_ms: int,
    reason: str | None,
    attempt: int,
) -> dict[str, Any]:
    """The one ``job_events`` row of a write along ``path`` (two statuses or more)."""
    assert len(path) >= 2, path
    return {
        "job_id": job_id,
        "tenant_id": tenant_id,
        "from_status": str(path[0]),
        "to_status": str(path[-1]),
        "user_id": user_id,
        "at_ms": at_ms,
        "reason": reason,
        "attempt": attempt,
        "via": via_of(path),
    }


def scheduled_event(row: dict[str, Any], user_id: str) -> dict[str, Any]:
    """The ``job_events`` row of a job's creation (no status before ``waiting``)."""
    return {
        "job_id": row["job_id"],
        "tenant_id": row["tenant_id"],
        "from_status": None,
        "to_status": str(Status.WAITING),
        "user_id": user_id,
        "at_ms": row["scheduled_at_ms"],
        "reason": "scheduled",
        "attempt": 0,
    }


def insert_rows(
    store: Store,
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    returning: Sequence[ColumnElement[Any]] = (),
) -> Sequence[RowMapping]:
    """Insert many rows (each with the keys of the first) in one statement.

    On PostgreSQL, ``INSERT ... SELECT`` from the dialect's row table (one array per
    column): a many-row ``VALUES`` list costs the driver and SQLAlchemy time per
    parameter. SQLite runs in-process, where a plain executemany is as cheap.

    Returns:
        The ``returning`` columns of the inserted rows, in no particular order.
    """
    if not store.is_postgresql:
        if not returning:
            # The driver's executemany over tuples: SQLAlchemy's per-row parameter
            # handling was most of a worker round's event insert (three rows per job).
            names = tuple(rows[0])
            values = [[r[n] for n in names] for r in rows]
            store.dialect.bulk_insert(conn, table, {}, names, _bound(conn, table, names, values))
            return []
        result = conn.execute(insert(table).returning(*returning), list(rows))
        return result.mappings().all()
    names = tuple(rows[0])
    key = (table.name, names, tuple(str(c) for c in returning))
    stmt = _INSERT_STATEMENTS.get(key)
    if stmt is None:
        source = store.dialect.rows_table("r", [table.c[n] for n in names])
        stmt = insert(table).from_select(names, select(*(source.c[n] for n in names)))
        if returning:
            stmt = stmt.returning(*returning)
        _INSERT_STATEMENTS[key] = stmt
    value = store.dialect.rows_value(
        conn.dialect, [table.c[n] for n in names], [[r[n] for n in names] for r in rows]
    )
    result = conn.execute(stmt, {"r_rows": value})
    return result.mappings().all() if returning else []


def insert_shared(
    store: Store,
    conn: Connection,
    table: Table,
    shared: dict[str, Any],
    names: tuple[str, ...],
    rows: Sequence[Sequence[Any]],
) -> None:
    """Insert rows that differ only in ``names`` (their values in ``rows``), ``shared`` bound once.

    The dialect's bulk insert: on PostgreSQL each of ``names`` goes as one array in
    binary, on SQLite the driver loops over tuples; a bounded number of statements
    whatever the number of rows.
    """
    if not rows:
        return
    if not store.is_postgresql:
        rows = _bound(conn, table, names, rows)
    store.dialect.bulk_insert(conn, table, shared, names, rows)


def stored_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """``row`` with every other column of ``jobs`` at the value an INSERT gives it.

    A column's scalar default, else NULL (a test checks that every column with a server
    default has the same scalar default), and ids in the form a read returns them: a job
    made from this row is the job a read of the inserted row makes.
    """
    full = {}
    for c in J.c:
        if c.key in row:
            value = row[c.key]
            if value is not None and isinstance(c.type, sqlalchemy.Uuid):
                value = str(uuid.UUID(str(value)))
        else:
            value = c.default.arg if isinstance(c.default, ScalarElementColumnDefault) else None
        full[c.key] = value
    return full


def _bound(
    conn: Connection, table: Table, names: tuple[str, ...], rows: Sequence[Sequence[Any]]
) -> Sequence[Sequence[Any]]:
    """``rows`` (values of ``names``) as bound parameters hold them, for the SQLite driver.

    SQLAlchemy's processing of each value whose type has some (a UUID as its 32 hex
    digits), without its per-row parameter handling; the rows as they were when none has.
    """
    procs = _bind_processors(conn, table, names)
    if not procs:
        return rows
    processed = [list(r) for r in rows]
    for i, proc in procs:
        for v in processed:
            if v[i] is not None:
                v[i] = proc(v[i])
    return processed


def _bind_processors(
    conn: Connection, table: Table, names: tuple[str, ...]
) -> list[tuple[int, Any]]:
    """The columns of ``names`` (by position) whose type processes a bound value, and how.

    As a bound parameter would be: on SQLite a UUID is stored as its 32 hex digits.
    """
    key = (conn.dialect.name, table.name, names)
    found = _PROCESSORS.get(key)
    if found is None:
        found = []
        for i, n in enumerate(names):
            proc = table.c[n].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
            if proc is not None:
                found.append((i, proc))
        _PROCESSORS[key] = found
    return found


#: ``_bind_processors``' answers, by dialect, table and columns.
_PROCESSORS: dict[tuple[str, str, tuple[str, ...]], list[tuple[int, Any]]] = {}
#: ``insert_rows``' statements on PostgreSQL, built once per table, columns and returning.
_INSERT_STATEMENTS: dict[tuple[str, tuple[str, ...], tuple[str, ...]], Insert] = {}


def check_path(job_id: str, path: Sequence[Status], reason: str = "") -> None:
    """Check every step of a status path against the machine.

    Raises:
        IllegalTransition: at the first step the machine does not allow.
    """
    for a, b in itertools.pairwise(path):
        machine.check(job_id, a, b, reason)


def insert_with_event(dialect: Dialect, columns: tuple[str, ...]) -> Select[Any]:
    """PostgreSQL's schedule as one statement: the job and its ``scheduled`` event.

    ``WITH j AS (INSERT … ON CONFLICT DO NOTHING RETURNING *), e AS (INSERT INTO
    job_events SELECT … FROM j) SELECT * FROM j``. No row back means a conflict (the key
    or the active name is taken): nothing was written, the event included.
    """
    key = (dialect.name, columns)
    if key in _INSERT_WITH_EVENT:
        return _INSERT_WITH_EVENT[key]
    job = (
        dialect.insert_ignoring_conflicts(J)
        .values({n: bindparam(n, type_=J.c[n].type) for n in columns})
        .returning(*J.c)
        .cte("j")
    )
    E = tables.job_events
    event = (
        insert(E)
        .from_select(
            EVENT_COLUMNS,
            select(
                job.c.job_id,
                job.c.tenant_id,
                sqlalchemy.null(),
                sqlalchemy.literal(str(Status.WAITING)),
                bindparam("event_user_id", type_=E.c.user_id.type),
                job.c.scheduled_at_ms,
                sqlalchemy.literal("scheduled"),
                sqlalchemy.literal(0),
                sqlalchemy.null(),
            ),
        )
        .cte("e")
    )
    stmt = select(job).add_cte(event)
    _INSERT_WITH_EVENT[key] = stmt
    return stmt


#: ``insert_with_event``'s statements per dialect and columns given, built once.
_INSERT_WITH_EVENT: dict[tuple[str, tuple[str, ...]], Select[Any]] = {}


def insert_job(dialect: Dialect) -> Insert:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING *`` for one job, built once per dialect.

    Values come as parameters at execution. Building the statement (and its cache key)
    anew cost more than SQLite's whole insert and commit.
    """
    stmt = _INSERT_JOB.get(dialect.name)
    if stmt is None:
        stmt = _INSERT_JOB[dialect.name] = dialect.insert_ignoring_conflicts(J).returning(*J.c)
    return stmt


_INSERT_JOB: dict[str, Insert] = {}
#: A job's ``scheduled`` event, its values as parameters.
INSERT_EVENT = insert(tables.job_events)


def is_uuid(value: str) -> bool:
    """Whether ``value`` is a UUID (anything else cannot name a job)."""
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
