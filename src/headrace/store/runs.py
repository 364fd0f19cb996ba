"""Job definitions and their runs as rows: create without starting, start a new run, history.

A control-plane job is a ``jobs`` row (the live state of its current run, as seed 004 has
it) plus one ``job_runs`` row per run. ``start`` is one transaction: it closes the previous
run's record from the ``jobs`` row, queues the job again (``run_count + 1``) and opens the
new run's record, so a run's record and the job can never disagree about which run is
current. A run's events and logs are the job's whose ids come after the run began.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, RowMapping, func, insert, select, update

from headrace import defaults, errors
from headrace.model import ids
from headrace.model import status as machine
from headrace.model.clock import now_ms
from headrace.model.controlplane import Run
from headrace.model.job import Job, JobEvent, JobLogLine
from headrace.model.status import Status
from headrace.store import codec, tables
from headrace.store.database import Store
from headrace.store.job_rows import is_uuid, job_from_row
from headrace.store.jobs import JobRepository

J, R, E, LG = tables.jobs, tables.job_runs, tables.job_events, tables.job_logs

#: Builds the new run's ``params`` from the job as it is at start.
ParamsFor = Callable[[Job], Any]
#: The canonical status names (a pipeline run record may hold a stop reason instead).
_NAMES = frozenset(s.value for s in Status)


class RunRepository:
    """One tenant's job definitions and their runs."""

    def __init__(self, store: Store, tenant_id: str) -> None:
        self.store = store
        self.tenant_id = tenant_id
        self.jobs = JobRepository(store)

    # -- definitions --------------------------------------------------------------------

    def create(self, row: dict[str, Any], user_id: str) -> Job:
        """Insert a job that has not started (status ``created``, run_count 0).

        Raises:
            JobAlreadyExists: an active job of the tenant has the name.
        """
        row = {**row, "job_id": ids.new_id(), "status": str(Status.CREATED), "run_count": 0}
        with self.store.write() as conn:
            if row.get("name") is not None:
                active = conn.execute(
                    JobRepository.active_named_query(self.tenant_id, row["name"])
                ).scalar()
                if active is not None:
                    msg = f"job name {row['name']!r} is taken by active job {active}"
                    raise errors.JobAlreadyExists(msg)
            conn.execute(insert(J).values(row))
            conn.execute(
                insert(E).values(
                    job_id=row["job_id"],
                    tenant_id=self.tenant_id,
                    from_status=None,
                    to_status=str(Status.CREATED),
                    user_id=user_id,
                    at_ms=row["scheduled_at_ms"],
                    reason="created",
                    attempt=0,
                )
            )
            found = self._row(conn, row["job_id"])
        return job_from_row(found)

    def update(self, job_id: str, values: dict[str, Any]) -> Job:
        """Change a job's definition columns (a running run keeps what it started with).

        Raises:
            NotFound: no such job (a deleted one included).
        """
        with self.store.write() as conn:
            self._row(conn, job_id)
            if values:
                conn.execute(
                    update(J)
                    .where(J.c.job_id == job_id, J.c.tenant_id == self.tenant_id)
                    .values({**values, "updated_at_ms": now_ms()})
                )
            return job_from_row(self._row(conn, job_id))

    def _row(self, conn: Connection, job_id: str) -> RowMapping:
        stmt = select(J).where(J.c.job_id == job_id, J.c.tenant_id == self.tenant_id)
        if self.store.is_postgresql and conn.get_execution_options().get("headrace_write"):
            stmt = stmt.with_for_update()
        row = conn.execute(stmt).mappings().first() if is_uuid(job_id) else None
        if row is None:
            raise errors.NotFound("job", job_id)
        return row

    # -- runs ---------------------------------------------------------------------------

    def start(
        self,
        job_id: str,
        user_id: str,
        params_for: ParamsFor,
        *,
        name: str | None,
        description: str | None,
        parameters: dict[str, Any],
        seed: bytes | None = None,
        definition: str | None = None,
        origin: str | None = None,
    ) -> Job:
        """Open the job's next run and queue it, in one transaction.

        ``origin`` is the embedded process that starts the run (``jobs.origin``: its
        workers take the run), or None for a start through a server or the CLI.

        ``seed`` is the snapshot the run starts from (its sources' offsets); ``definition``
        replaces the job's (a consumed offset reset or upload).

        Raises:
            NotFound: no such job.
            IllegalTransition: a run is active (named), or a failed run awaits its
                acknowledgement.
        """
        at = now_ms()
        with self.store.write() as conn:
            row = self._row(conn, job_id)
            job = job_from_row(row)
            if job.status not in machine.STARTABLE:
                raise errors.IllegalTransition(
                    job_id,
                    job.status,
                    Status.WAITING,
                    f"run {job.run_count} is active ({job.status}); stop it first",
                )
            if (
                job.require_error_ack
                and job.status in (Status.FAILED, Status.TIMEOUT)
                and not job.error_acknowledged
            ):
                raise errors.IllegalTransition(
                    job_id, job.status, Status.WAITING, "its failed run must be acknowledged"
                )
            params = params_for(job)
            if job.run_count >= 1:
                self._close(conn, job, at)
            run_count = job.run_count + 1
            events_after = self._max(conn, E.c.event_id, E.c.job_id, job_id)
            logs_after = self._max(conn, LG.c.log_id, LG.c.job_id, job_id)
            done = conn.execute(
                update(J)
                .where(J.c.job_id == job_id, J.c.status == str(job.status))
                .values(
                    status=str(Status.WAITING),
                    run_count=run_count,
                    params=codec.dumps(params, "params"),
                    updated_at_ms=at,
                    eta_ms=at,
                    started_at_ms=None,
                    finished_at_ms=None,
                    locked_by=None,
                    lease_expires_ms=None,
                    progress=0.0,
                    progress_details=None,
                    details=None,
                    retries=0,
                    lease_losses=0,
                    error=None,
                    result=None,
                    state=None,
                    resumed=False,
                    control=None,
                    error_acknowledged=False,
                    origin=origin,
                    **({} if definition is None else {"definition": definition}),
                )
            ).rowcount
            if done != 1:
                raise errors.IllegalTransition(
                    job_id, job.status, Status.WAITING, "changed concurrently"
                )
            conn.execute(
                insert(E).values(
                    job_id=job_id,
                    tenant_id=self.tenant_id,
                    from_status=str(job.status),
                    to_status=str(Status.WAITING),
                    user_id=user_id,
                    at_ms=at,
                    reason=f"run {run_count} started",
                    attempt=job.attempt,
                )
            )
            conn.execute(
                insert(R).values(
                    job_id=job_id,
                    run_count=run_count,
                    tenant_id=self.tenant_id,
                    status=str(Status.WAITING),
                    started_at_ms=at,
                    updated_at_ms=at,
                    name=name,
                    description=description,
                    parameters=json.dumps(parameters),
                    user_id=user_id,
                    events_after=events_after,
                    logs_after=logs_after,
                )
            )
            if seed is not None:
                conn.execute(
                    insert(tables.snapshots).values(
                        tenant_id=self.tenant_id,
                        job_id=job_id,
                        run_count=run_count,
                        name=None,
                        created_at_ms=at,
                        state=seed,
                    )
                )
            self.store.dialect.notify(conn, defaults.NOTIFY_CHANNEL)
            return job_from_row(self._row(conn, job_id))

    def _max(self, conn: Connection, column: Any, key: Any, job_id: str) -> int:
        found = conn.execute(select(func.max(column)).where(key == job_id)).scalar()
        return int(found or 0)

    def _close(self, conn: Connection, job: Job, at: int) -> None:
        """Write the ended run's record from the job row (its live state until now)."""
        values = {
            "status": str(job.status),
            "updated_at_ms": at,
            "finished_at_ms": job.finished_at_ms or at,
            "error": job.error,
            "result": codec.dumps(job.result, "result"),
        }
        where = (R.c.job_id == job.job_id, R.c.run_count == job.run_count)
        if conn.execute(select(R.c.run_count).where(*where)).first() is None:
            conn.execute(
                insert(R).values(
                    job_id=job.job_id,
                    run_count=job.run_count,
                    tenant_id=self.tenant_id,
                    started_at_ms=job.started_at_ms or job.scheduled_at_ms,
                    parameters=json.dumps(_params_of(job)),
                    user_id=job.user_id,
                    **values,
                )
            )
        else:
            conn.execute(update(R).where(*where).values(values))

    def runs(self, job: Job) -> list[Run]:
        """The job's runs, newest first; the current one shows the job's live status."""
        with self.store.read() as conn:
            rows = conn.execute(
                select(R)
                .where(R.c.tenant_id == self.tenant_id, R.c.job_id == job.job_id)
                .order_by(R.c.run_count.desc())
            ).mappings()
            found = {r["run_count"]: r for r in rows}
        runs = []
        for count in sorted(found, reverse=True):
            runs.append(_run(found[count], job if count == job.run_count else None))
        if job.run_count >= 1 and job.run_count not in found:
            # A job scheduled the seed 004 way (or before migration 0008): its one run is
            # the job row itself.
            runs.insert(0, _legacy_run(job))
        return runs

    def bounds(self, job: Job, run_count: int) -> tuple[int, int | None, int, int | None]:
        """Event and log id ranges of one run: (events after, up to, logs after, up to).

        Raises:
            NotFound: the job has no such run.
        """
        with self.store.read() as conn:
            rows = {
                r["run_count"]: (int(r["events_after"]), int(r["logs_after"]))
                for r in conn.execute(
                    select(R.c.run_count, R.c.events_after, R.c.logs_after).where(
                        R.c.tenant_id == self.tenant_id, R.c.job_id == job.job_id
                    )
                ).mappings()
            }
        if not 1 <= run_count <= job.run_count:
            raise errors.NotFound("run", f"{job.job_id}#{run_count}")
        events_after, logs_after = rows.get(run_count, (0, 0))
        nxt = rows.get(run_count + 1)
        return (
            events_after,
            None if nxt is None else nxt[0],
            logs_after,
            (None if nxt is None else nxt[1]),
        )

    def events(self, job_id: str, after: int, upto: int | None) -> list[JobEvent]:
        """The job's events with ids in ``(after, upto]``, oldest first."""
        return [
            e
            for e in self.jobs.events(self.tenant_id, job_id)
            if e.event_id > after and (upto is None or e.event_id <= upto)
        ]

    def logs(self, job_id: str, after: int, upto: int | None) -> list[JobLogLine]:
        """The job's log lines with ids in ``(after, upto]``, oldest first."""
        stmt = select(LG).where(
            LG.c.tenant_id == self.tenant_id, LG.c.job_id == job_id, LG.c.log_id > after
        )
        if upto is not None:
            stmt = stmt.where(LG.c.log_id <= upto)
        with self.store.read() as conn:
            return [
                JobLogLine(str(r["job_id"]), r["at_ms"], r["level"], r["message"], r["attempt"])
                for r in conn.execute(stmt.order_by(LG.c.log_id)).mappings()
            ]

    def jobs_where(self, where: Sequence[Any], limit: int = 10_000) -> list[Job]:
        """The tenant's jobs meeting ``where``, newest first."""
        with self.store.read() as conn:
            rows = conn.execute(
                select(J)
                .where(J.c.tenant_id == self.tenant_id, *where)
                .order_by(J.c.scheduled_at_ms.desc(), J.c.job_id.desc())
                .limit(limit)
            ).mappings()
            return [job_from_row(r) for r in rows]


def _params_of(job: Job) -> dict[str, Any]:
    params = job.params if isinstance(job.params, dict) else {}
    found = params.get("parameters")
    return dict(found) if isinstance(found, dict) else {}


def _run(row: RowMapping, live: Job | None) -> Run:
    metrics = json.loads(row["metrics"]) if row["metrics"] else None
    status = Status(row["status"]) if row["status"] in _NAMES else Status.RUNNING
    result = codec.loads(row["result"])
    error = row["error"]
    finished = row["finished_at_ms"]
    updated = row["updated_at_ms"]
    if live is not None:
        status, error, result = live.status, live.error, live.result
        finished = live.finished_at_ms
        updated = max(updated, live.updated_at_ms)
        if metrics is None and isinstance(live.state, dict) and live.state.get("metrics"):
            metrics = dict(live.state["metrics"])
    return Run(
        job_id=str(row["job_id"]),
        run_count=row["run_count"],
        status=status,
        name=row["name"],
        description=row["description"],
        parameters=json.loads(row["parameters"]) if row["parameters"] else {},
        user_id=None if row["user_id"] is None else str(row["user_id"]),
        started_at_ms=row["started_at_ms"],
        updated_at_ms=updated,
        finished_at_ms=finished,
        error=error,
        metrics=metrics,
        result=result,
    )


def _legacy_run(job: Job) -> Run:
    return Run(
        job_id=job.job_id,
        run_count=job.run_count,
        status=job.status,
        name=None,
        description=None,
        parameters=_params_of(job),
        user_id=job.user_id,
        started_at_ms=job.started_at_ms or job.scheduled_at_ms,
        updated_at_ms=job.updated_at_ms,
        finished_at_ms=job.finished_at_ms,
        error=job.error,
        metrics=None,
        result=job.result,
    )
