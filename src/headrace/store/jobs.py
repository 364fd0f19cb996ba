"""The jobs repository: scheduling, guarded status changes, listings, events and logs."""

from __future__ import annotations

import builtins
import dataclasses
import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    RowMapping,
    Select,
    and_,
    case,
    delete,
    func,
    insert,
    select,
    update,
)

from headrace import defaults, errors
from headrace.model import ids
from headrace.model import status as machine
from headrace.model.clock import now_ms
from headrace.model.job import Job, JobEvent, JobLogLine, Page
from headrace.model.status import Status
from headrace.store import codec, sqlite_schedule, tables
from headrace.store.database import Store
from headrace.store.job_rows import (
    BULK_ROWS,
    INSERT_EVENT,
    IS_ACTIVE,
    ORDERABLE,
    J,
    check_path,
    event_row,
    events_from_row,
    insert_job,
    insert_shared,
    insert_with_event,
    is_uuid,
    job_from_row,
    scheduled_event,
    stored_row,
)
from headrace.store.predicates import IS_HELD, IS_WAITING, count_by_status
from headrace.store.run_rows import close_run, open_run, params_of

#: ``Job``'s fields in the order its constructor takes them.
JOB_FIELDS = tuple(f.name for f in dataclasses.fields(Job))

#: Chooses the status path of a control request from the job as it is now.
PathChooser = Callable[[Job], Sequence[Status]]


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
                one = insert_with_event(self.store.dialect, tuple(row))
                result = conn.execute(one, {**row, "event_user_id": user_id})
                inserted = result.mappings().first()
            if inserted is not None:
                return job_from_row(inserted), True
        else:
            # SQLite: on the driver connection (``sqlite_schedule``); a conflict falls
            # through to find the job holding the key or the name.
            fresh = sqlite_schedule.insert_new(self.store, row, user_id)
            if fresh is not None:
                return job_from_row(fresh), True
        with self.store.write() as conn:
            found = None
            if not self.store.is_postgresql:
                found = conn.execute(insert_job(self.store.dialect), row).mappings().first()
            created = found is not None
            if created:
                conn.execute(INSERT_EVENT, scheduled_event(row, user_id))
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

    def insert_many(
        self, common: dict[str, Any], params: Sequence[str], user_id: str
    ) -> builtins.list[Job]:
        """Insert new ``waiting`` jobs that share every column but their id and params.

        ``common`` is the jobs' row but for ``params`` (each job's, encoded); the jobs go in
        with their ``scheduled`` events in one transaction, two bulk inserts per
        ``BULK_ROWS`` jobs with the shared columns bound once a statement. The jobs
        returned are made from the rows as written (``stored_row``), not read back: reading
        20,000 rows back and decoding them was most of a ``schedule_many``'s time.

        Raises:
            InvalidInput: ``common`` carries an idempotency key or a name (those are per
            job: schedule such jobs one by one).
        """
        if common.get("idempotency_key") is not None or common.get("name") is not None:
            raise errors.InvalidInput(
                "idempotency_key", "bulk scheduling takes neither keys nor names"
            )
        if not params:
            return []
        ids_ = ids.new_ids(len(params))
        shared = stored_row(common)
        event = scheduled_event(shared, user_id)
        del shared["job_id"], shared["params"], event["job_id"]
        with self.store.write() as conn:
            for start in range(0, len(ids_), BULK_ROWS):
                chunk = ids_[start : start + BULK_ROWS]
                rows = list(zip(chunk, params[start : start + BULK_ROWS], strict=True))
                insert_shared(self.store, conn, J, shared, ("job_id", "params"), rows)
                events = [(i,) for i in chunk]
                insert_shared(self.store, conn, tables.job_events, event, ("job_id",), events)
        # Every job as ``job_from_row`` makes the first; the fields of one, then each
        # job's own id and params (decoded afresh: no two jobs share a params object).
        first = job_from_row({**shared, "job_id": ids_[0], "params": params[0]})
        fields = [getattr(first, f.name) for f in dataclasses.fields(Job)]
        at_id, at_params = JOB_FIELDS.index("job_id"), JOB_FIELDS.index("params")
        jobs = []
        for i, p in zip(ids_, params, strict=True):
            fields[at_id], fields[at_params] = i, codec.loads(p)
            jobs.append(Job(*fields))
        return jobs

    # -- reading ------------------------------------------------------------------------

    def _active_named(self, conn: Connection, tenant_id: str, name: str) -> str | None:
        found = conn.execute(self.active_named_query(tenant_id, name)).scalar()
        return None if found is None else str(found)

    @staticmethod
    def active_named_query(tenant_id: str, name: str) -> Select[Any]:
        """The tenant's job of this name that has not ended (``ux_jobs_active_name``)."""
        return select(J.c.job_id).where(J.c.tenant_id == tenant_id, J.c.name == name, IS_ACTIVE)

    def find_named(self, tenant_id: str, name: str) -> Job | None:
        """The job holding this name (its run started, not ended), else the most recent one.

        None when the tenant has no job of the name; an ended or never-started job is
        found only when none holds it.
        """
        with self.store.read() as conn:
            row = conn.execute(self.find_named_query(tenant_id, name)).mappings().first()
        return None if row is None else job_from_row(row)

    @staticmethod
    def find_named_query(tenant_id: str, name: str) -> Select[Any]:
        """What ``find_named`` runs: the named jobs of ``ix_jobs_tenant_name``, best first."""
        ended = case((J.c.status.in_([str(s) for s in machine.NAME_FREE]), 1), else_=0)
        return (
            select(J)
            .where(J.c.tenant_id == tenant_id, J.c.name == name)
            .order_by(ended, J.c.scheduled_at_ms.desc())
            .limit(1)
        )

    def held_by(self, worker_id: str) -> builtins.list[Job]:
        """The jobs ``worker_id`` holds now (locked, running, canceling, suspending)."""
        with self.store.read() as conn:
            rows = conn.execute(self.held_by_query(worker_id)).mappings()
            return [job_from_row(r) for r in rows]

    @staticmethod
    def held_by_query(worker_id: str) -> Select[Any]:
        """``held_by``'s query, whose status term is ``ix_jobs_held``'s predicate as written.

        SQLite takes a partial index only for an identical term: with the statuses bound as
        parameters it scanned every job.
        """
        return select(J).where(J.c.locked_by == worker_id, IS_HELD)

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
        with self.store.read_one() as conn:
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
        if type_id is not None:
            where.append(J.c.type == type_id)
        counted = select(func.count()).select_from(J).where(*where)
        if statuses:
            counted = count_by_status(where[1:], statuses, tenant_id, self.store.dialect)
            where.append(J.c.status.in_([str(s) for s in statuses]))
        column = ORDERABLE[order]
        ordering = (column.desc(), J.c.job_id.desc()) if descending else (column, J.c.job_id)
        with self.store.read() as conn:
            total = conn.execute(counted).scalar_one()
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
            return [e for r in rows for e in events_from_row(r)]

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
                event_row(
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
                "lease_losses": 0,
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
            # The run records, as the control plane's start writes them: history keeps
            # the failed run and lists the new one.
            close_run(conn, tenant_id, job, at)
            open_run(
                conn,
                tenant_id,
                job_id,
                job.run_count + 1,
                at,
                user_id=user_id,
                parameters=params_of(job),
            )
            conn.execute(
                insert(tables.job_events),
                event_row(
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
                    IS_WAITING,  # ix_jobs_claim's predicate as written (no status index)
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
                event_row(
                    str(job_id),
                    tenant_id,
                    [Status.WAITING, Status.CANCELED],
                    user_id=user_id,
                    at_ms=at,
                    reason=reason,
                    attempt=attempt,
                )
                for job_id, attempt in changed
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
