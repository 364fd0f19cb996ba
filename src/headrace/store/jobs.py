"""The jobs repository: scheduling, guarded status changes, listings, events and logs."""

from __future__ import annotations

import builtins
import itertools
import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy
from sqlalchemy import (
    ColumnElement,
    Connection,
    Insert,
    RowMapping,
    Select,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal_column,
    select,
    update,
)

from headrace import defaults, errors
from headrace.model import ids, labels
from headrace.model import status as machine
from headrace.model.clock import now_ms
from headrace.model.job import Job, JobEvent, JobLogLine, Page
from headrace.model.status import Status
from headrace.store import codec, tables
from headrace.store.database import Store
from headrace.store.dialects.base import Dialect

J = tables.jobs
#: The columns of an event row, in the order statements that insert events fill them.
EVENT_COLUMNS = (
    "job_id",
    "tenant_id",
    "from_status",
    "to_status",
    "user_id",
    "at_ms",
    "reason",
    "attempt",
)

#: "Not ended", its statuses as SQL literals: so a prepared statement's generic plan can
#: still use ``ux_jobs_active_name``, whose predicate names them (with bound statuses it
#: scanned the whole table).
IS_ACTIVE = J.c.status.not_in([literal_column(f"'{s}'", sqlalchemy.String) for s in machine.FINAL])

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

#: Chooses the status path of a control request from the job as it is now.
PathChooser = Callable[[Job], Sequence[Status]]


def job_from_row(row: RowMapping) -> Job:
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
        labels=labels.decode(row["labels"]),
    )


def event_rows(
    job_id: str,
    tenant_id: str,
    path: Sequence[Status],
    *,
    user_id: str | None,
    at_ms: int,
    reason: str | None,
    attempt: int,
) -> list[dict[str, Any]]:
    """One ``job_events`` row per step of ``path``."""
    return [
        {
            "job_id": job_id,
            "tenant_id": tenant_id,
            "from_status": str(a),
            "to_status": str(b),
            "user_id": user_id,
            "at_ms": at_ms,
            "reason": reason,
            "attempt": attempt,
        }
        for a, b in itertools.pairwise(path)
    ]


def _scheduled_event(row: dict[str, Any], user_id: str) -> dict[str, Any]:
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
        plain = insert(table).returning(*returning) if returning else insert(table)
        result = conn.execute(plain, list(rows))
        return result.mappings().all() if returning else []
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


#: ``insert_rows``' statements on PostgreSQL, built once per table, columns and returning.
_INSERT_STATEMENTS: dict[tuple[str, tuple[str, ...], tuple[str, ...]], Insert] = {}


def check_path(job_id: str, path: Sequence[Status], reason: str = "") -> None:
    """Check every step of a status path against the machine.

    Raises:
        IllegalTransition: at the first step the machine does not allow.
    """
    for a, b in itertools.pairwise(path):
        machine.check(job_id, a, b, reason)


def _insert_with_event(dialect: Dialect, columns: tuple[str, ...]) -> Select[Any]:
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
            ),
        )
        .cte("e")
    )
    stmt = select(job).add_cte(event)
    _INSERT_WITH_EVENT[key] = stmt
    return stmt


#: ``_insert_with_event``'s statements per dialect and columns given, built once.
_INSERT_WITH_EVENT: dict[tuple[str, tuple[str, ...]], Select[Any]] = {}


def _insert_job(dialect: Dialect) -> Insert:
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
_INSERT_EVENT = insert(tables.job_events)


class JobRepository:
    """Jobs as rows: every status change checked by the machine and guarded in the UPDATE."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- scheduling ---------------------------------------------------------------------

    def insert(self, row: dict[str, Any], user_id: str) -> tuple[Job, bool]:
        """Insert a new ``waiting`` job, or return the tenant's job with the same key.

        Returns:
            The job and whether this call created it.
        """
        row = {**row, "job_id": ids.new_id()}
        if self.store.is_postgresql:
            # One statement, committed on its own: the job, its event, and (by the INSERT
            # trigger of migration 0006) the workers' wake-up, in one round trip.
            with self.store.single() as conn:
                one = _insert_with_event(self.store.dialect, tuple(row))
                result = conn.execute(one, {**row, "event_user_id": user_id})
                inserted = result.mappings().first()
            if inserted is not None:
                return job_from_row(inserted), True
        with self.store.write() as conn:
            found = None
            if not self.store.is_postgresql:
                found = conn.execute(_insert_job(self.store.dialect), row).mappings().first()
            created = found is not None
            if created:
                conn.execute(_INSERT_EVENT, _scheduled_event(row, user_id))
            else:
                if row["idempotency_key"] is not None:
                    found = (
                        conn.execute(
                            select(J).where(
                                J.c.tenant_id == row["tenant_id"],
                                J.c.idempotency_key == row["idempotency_key"],
                            )
                        )
                        .mappings()
                        .first()
                    )
                if found is None and row.get("name") is not None:
                    active = self._active_named(conn, row["tenant_id"], row["name"])
                    if active is not None:
                        msg = f"job name {row['name']!r} is taken by active job {active}"
                        raise errors.JobAlreadyExists(msg)
        if found is None:  # pragma: no cover - a conflict with no row is a store bug
            msg = "idempotent insert found neither a new nor an existing row"
            raise errors.StoreError(msg)
        return job_from_row(found), created

    def insert_many(self, rows: Sequence[dict[str, Any]], user_id: str) -> builtins.list[Job]:
        """Insert new ``waiting`` jobs (no idempotency keys, no names) in one transaction.

        One multi-row INSERT ... RETURNING for the jobs and one for their ``scheduled``
        events, and one wake-up for the workers.

        Raises:
            InvalidInput: a row carries an idempotency key or a name (those are per job:
            schedule such jobs one by one).
        """
        if not rows:
            return []
        for r in rows:
            if r.get("idempotency_key") is not None or r.get("name") is not None:
                raise errors.InvalidInput(
                    "idempotency_key", "bulk scheduling takes neither keys nor names"
                )
        rows = [{**r, "job_id": ids.new_id()} for r in rows]
        events = [_scheduled_event(r, user_id) for r in rows]
        by_id: dict[str, Job] = {}
        with self.store.write() as conn:
            for start in range(0, len(rows), BULK_ROWS):
                chunk = rows[start : start + BULK_ROWS]
                for found in insert_rows(self.store, conn, J, chunk, returning=list(J.c)):
                    job = job_from_row(found)
                    by_id[job.job_id] = job
                insert_rows(self.store, conn, tables.job_events, events[start : start + BULK_ROWS])
        return [by_id[r["job_id"]] for r in rows]

    # -- reading ------------------------------------------------------------------------

    def _active_named(self, conn: Connection, tenant_id: str, name: str) -> str | None:
        found = conn.execute(self.active_named_query(tenant_id, name)).scalar()
        return None if found is None else str(found)

    @staticmethod
    def active_named_query(tenant_id: str, name: str) -> Select[Any]:
        """The tenant's job of this name that has not ended (``ux_jobs_active_name``)."""
        return select(J.c.job_id).where(J.c.tenant_id == tenant_id, J.c.name == name, IS_ACTIVE)

    def find_named(self, tenant_id: str, name: str) -> Job | None:
        """The tenant's active job of this name, else its most recent one, else None."""
        with self.store.read() as conn:
            row = conn.execute(self.find_named_query(tenant_id, name)).mappings().first()
        return None if row is None else job_from_row(row)

    @staticmethod
    def find_named_query(tenant_id: str, name: str) -> Select[Any]:
        """What ``find_named`` runs: the named jobs of ``ix_jobs_tenant_name``, best first."""
        ended = case((J.c.status.in_([str(s) for s in machine.FINAL]), 1), else_=0)
        return (
            select(J)
            .where(J.c.tenant_id == tenant_id, J.c.name == name)
            .order_by(ended, J.c.scheduled_at_ms.desc())
            .limit(1)
        )

    def held_by(self, worker_id: str) -> builtins.list[Job]:
        """The jobs ``worker_id`` holds now (locked, running, canceling, suspending)."""
        held = [str(s) for s in machine.HELD]
        with self.store.read() as conn:
            rows = conn.execute(
                select(J).where(J.c.locked_by == worker_id, J.c.status.in_(held))
            ).mappings()
            return [job_from_row(r) for r in rows]

    def set_control(
        self,
        tenant_id: str,
        job_id: str,
        update_fn: Callable[[Job, dict[str, Any]], dict[str, Any]],
    ) -> Job:
        """Change the job's pending control requests (restart, exports) in one transaction.

        Raises:
            NotFound: no such job. IllegalTransition: ``update_fn`` refuses the job's status.
        """
        with self.store.write() as conn:
            row = self._select(conn, tenant_id, job_id) if is_uuid(job_id) else None
            if row is None:
                raise errors.NotFound("job", job_id)
            job = job_from_row(row)
            control = update_fn(job, json.loads(row["control"]) if row["control"] else {})
            conn.execute(
                update(J)
                .where(J.c.job_id == job_id, J.c.status == str(job.status))
                .values(control=json.dumps(control) if control else None)
            )
        return job

    def _select(self, conn: Connection, tenant_id: str, job_id: str) -> RowMapping | None:
        stmt = select(J).where(J.c.job_id == job_id, J.c.tenant_id == tenant_id)
        if self.store.is_postgresql and conn.get_execution_options().get("headrace_write"):
            stmt = stmt.with_for_update()
        return conn.execute(stmt).mappings().first()

    def get(self, tenant_id: str, job_id: str) -> Job | None:
        """The tenant's job, or None (another tenant's job is None too)."""
        if not is_uuid(job_id):
            return None
        with self.store.read() as conn:
            row = self._select(conn, tenant_id, job_id)
        return None if row is None else job_from_row(row)

    def ids_with_prefix(self, tenant_id: str, prefix: str, limit: int = 2) -> builtins.list[str]:
        """Up to ``limit`` ids of the tenant's jobs whose id starts with ``prefix``.

        ``prefix`` is lowercase hex (hyphens removed); see ``prefix_query``.
        """
        with self.store.read() as conn:
            found = conn.execute(self.prefix_query(tenant_id, prefix, limit)).scalars()
            return [str(r) for r in found]

    def prefix_query(self, tenant_id: str, prefix: str, limit: int = 2) -> Select[Any]:
        """The query of ``ids_with_prefix``: a range on the primary key.

        From the prefix padded with ``0`` to it padded with ``f``, so both databases
        answer from the key's index: PostgreSQL compares its ``uuid`` type in the hex
        digits' order, SQLite stores the 32 hex digits as text (and is kept from
        scanning the tenant's index instead).
        """
        low, high = (uuid.UUID(prefix.ljust(32, pad)) for pad in "0f")
        tenant = self.store.dialect.not_for_index(J.c.tenant_id)
        return (
            select(J.c.job_id)
            .where(J.c.job_id >= str(low), J.c.job_id <= str(high), tenant == tenant_id)
            .order_by(J.c.job_id)
            .limit(limit)
        )

    def list(
        self,
        tenant_id: str,
        *,
        statuses: Sequence[Status],
        order: str,
        descending: bool,
        page: int,
        limit: int,
        type_id: str | None = None,
    ) -> Page[Job]:
        """One page of the tenant's jobs."""
        where = [J.c.tenant_id == tenant_id]
        if statuses:
            where.append(J.c.status.in_([str(s) for s in statuses]))
        if type_id is not None:
            where.append(J.c.type == type_id)
        column = ORDERABLE[order]
        ordering = (column.desc(), J.c.job_id.desc()) if descending else (column, J.c.job_id)
        with self.store.read() as conn:
            total = conn.execute(select(func.count()).select_from(J).where(*where)).scalar_one()
            rows = conn.execute(
                select(J).where(*where).order_by(*ordering).limit(limit).offset((page - 1) * limit)
            ).mappings()
            items = [job_from_row(r) for r in rows]
        return Page(items=items, total=total, page=page, limit=limit)

    def events(self, tenant_id: str, job_id: str) -> builtins.list[JobEvent]:
        """The job's status changes, oldest first."""
        E = tables.job_events
        with self.store.read() as conn:
            rows = conn.execute(
                select(E)
                .where(E.c.job_id == job_id, E.c.tenant_id == tenant_id)
                .order_by(E.c.event_id)
            ).mappings()
            return [
                JobEvent(
                    event_id=r["event_id"],
                    job_id=str(r["job_id"]),
                    from_status=None if r["from_status"] is None else Status(r["from_status"]),
                    to_status=Status(r["to_status"]),
                    user_id=None if r["user_id"] is None else str(r["user_id"]),
                    at_ms=r["at_ms"],
                    reason=r["reason"],
                    attempt=r["attempt"],
                )
                for r in rows
            ]

    def logs(self, tenant_id: str, job_id: str) -> builtins.list[JobLogLine]:
        """The job's log lines, oldest first."""
        L = tables.job_logs
        with self.store.read() as conn:
            rows = conn.execute(
                select(L)
                .where(L.c.job_id == job_id, L.c.tenant_id == tenant_id)
                .order_by(L.c.log_id)
            ).mappings()
            return [
                JobLogLine(str(r["job_id"]), r["at_ms"], r["level"], r["message"], r["attempt"])
                for r in rows
            ]

    # -- control ------------------------------------------------------------------------

    def change(
        self,
        tenant_id: str,
        job_id: str,
        choose: PathChooser,
        *,
        user_id: str,
        reason: str,
        values: dict[str, Any] | None = None,
    ) -> Job:
        """Walk the status path ``choose`` picks for the job, in one guarded transaction.

        Raises:
            NotFound: the tenant has no such job.
            IllegalTransition: the path leaves the machine, or the job changed meanwhile.
        """
        with self.store.write() as conn:
            row = self._select(conn, tenant_id, job_id) if is_uuid(job_id) else None
            if row is None:
                raise errors.NotFound("job", job_id)
            job = job_from_row(row)
            path = [job.status, *choose(job)]
            if len(path) == 1:
                return job
            check_path(job_id, path, reason)
            at = now_ms()
            new = {**(values or {}), "status": str(path[-1]), "updated_at_ms": at}
            if path[-1] in machine.FINAL:
                new.setdefault("finished_at_ms", at)
                new.setdefault("lease_expires_ms", None)
            done = conn.execute(
                update(J)
                .where(
                    J.c.job_id == job_id, J.c.tenant_id == tenant_id, J.c.status == str(job.status)
                )
                .values(new)
            ).rowcount
            if done != 1:
                # The row moved between our read and our write (SQLite has no row lock).
                raise errors.IllegalTransition(job_id, job.status, path[-1], "changed concurrently")
            conn.execute(
                insert(tables.job_events),
                event_rows(
                    job_id,
                    tenant_id,
                    path,
                    user_id=user_id,
                    at_ms=at,
                    reason=reason,
                    attempt=job.attempt,
                ),
            )
            if path[-1] is Status.WAITING:
                self.store.dialect.notify(conn, defaults.NOTIFY_CHANNEL)
            found = self._select(conn, tenant_id, job_id)
        assert found is not None
        return job_from_row(found)

    def rerun(self, tenant_id: str, job_id: str, *, user_id: str, reason: str) -> Job:
        """Start a new run of an ended job (``model.status.check_rerun``), as one event.

        The job goes back to ``waiting`` with ``run_count`` one higher, its retries,
        progress, error and result cleared and its eta now; ``attempt`` keeps counting.

        Raises:
            NotFound: the tenant has no such job.
            IllegalTransition: the job may not run again, or it changed meanwhile.
        """
        with self.store.write() as conn:
            row = self._select(conn, tenant_id, job_id) if is_uuid(job_id) else None
            if row is None:
                raise errors.NotFound("job", job_id)
            job = job_from_row(row)
            machine.check_rerun(job_id, job.status)
            at = now_ms()
            fresh = {
                "status": str(Status.WAITING),
                "run_count": job.run_count + 1,
                "retries": 0,
                "progress": 0.0,
                "progress_details": None,
                "error": None,
                "result": None,
                "details": None,
                "started_at_ms": None,
                "finished_at_ms": None,
                "lease_expires_ms": None,
                "locked_by": None,
                "eta_ms": at,
                "updated_at_ms": at,
                "control": None,
            }
            guard = (J.c.job_id == job_id, J.c.tenant_id == tenant_id)
            done = conn.execute(
                update(J).where(*guard, J.c.status == str(job.status)).values(fresh)
            ).rowcount
            if done != 1:
                raise errors.IllegalTransition(
                    job_id, job.status, Status.WAITING, "changed concurrently"
                )
            conn.execute(
                insert(tables.job_events),
                event_rows(
                    job_id,
                    tenant_id,
                    [job.status, Status.WAITING],
                    user_id=user_id,
                    at_ms=at,
                    reason=f"{reason} (run {job.run_count + 1})",
                    attempt=job.attempt,
                ),
            )
            self.store.dialect.notify(conn, defaults.NOTIFY_CHANNEL)
            found = self._select(conn, tenant_id, job_id)
        assert found is not None
        return job_from_row(found)

    def cancel_waiting(
        self, tenant_id: str, queue: str, *, user_id: str, reason: str
    ) -> builtins.list[str]:
        """Cancel every waiting job of the tenant on ``queue`` (``waiting -> canceled``).

        One guarded UPDATE: a job a worker claims meanwhile is no longer ``waiting`` and
        is left alone. Each canceled job gets its event.

        Returns:
            The ids of the canceled jobs.
        """
        machine.check("*", Status.WAITING, Status.CANCELED)
        at = now_ms()
        with self.store.write() as conn:
            changed = conn.execute(
                update(J)
                .where(
                    J.c.tenant_id == tenant_id,
                    J.c.queue == queue,
                    J.c.status == str(Status.WAITING),
                )
                .values(
                    status=str(Status.CANCELED),
                    updated_at_ms=at,
                    finished_at_ms=at,
                    details=reason,
                )
                .returning(J.c.job_id, J.c.attempt)
            ).all()
            rows = [
                e
                for job_id, attempt in changed
                for e in event_rows(
                    str(job_id),
                    tenant_id,
                    [Status.WAITING, Status.CANCELED],
                    user_id=user_id,
                    at_ms=at,
                    reason=reason,
                    attempt=attempt,
                )
            ]
            if rows:
                conn.execute(insert(tables.job_events), rows)
        return [str(r[0]) for r in changed]

    def delete(self, tenant_id: str, job_id: str, *, forbidden: frozenset[Status]) -> Job:
        """Delete a job with its events and logs.

        Raises:
            NotFound: the tenant has no such job.
            IllegalTransition: the job is in a status in ``forbidden`` (held by a worker).
        """
        with self.store.write() as conn:
            row = self._select(conn, tenant_id, job_id) if is_uuid(job_id) else None
            if row is None:
                raise errors.NotFound("job", job_id)
            job = job_from_row(row)
            if job.status in forbidden:
                raise errors.IllegalTransition(
                    job_id, job.status, "deleted", "a worker holds it; cancel it first"
                )
            guard = and_(J.c.job_id == job_id, J.c.status == str(job.status))
            if conn.execute(delete(J).where(guard)).rowcount != 1:
                raise errors.IllegalTransition(
                    job_id, job.status, "deleted", "changed concurrently"
                )
            conn.execute(delete(tables.job_events).where(tables.job_events.c.job_id == job_id))
            conn.execute(delete(tables.job_logs).where(tables.job_logs.c.job_id == job_id))
        return job


def is_uuid(value: str) -> bool:
    """Whether ``value`` is a UUID (anything else cannot name a job)."""
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
