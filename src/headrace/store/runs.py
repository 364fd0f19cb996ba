"""Job definitions and their runs as rows: create without starting, start a new run, history.

A control-plane job is a ``jobs`` row (the live state of its current run, as seed 004 has
it) plus one ``job_runs`` row per run. ``start`` is one transaction: it closes the previous
run's record from the ``jobs`` row, queues the job again (``run_count + 1``) and opens the
new run's record, so a run's record and the job can never disagree about which run is
current. A run's events and logs are the job's whose ids come after the run began.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, RowMapping, Select, insert, literal, or_, select, update
from sqlalchemy.exc import IntegrityError

from headrace import defaults, errors
from headrace.model import ids
from headrace.model import status as machine
from headrace.model.clock import now_ms
from headrace.model.controlplane import Run
from headrace.model.job import Job, JobEvent, JobLogLine
from headrace.model.status import Status
from headrace.store import codec, tables
from headrace.store.database import Store
from headrace.store.job_rows import events_from_row, is_uuid, job_from_row
from headrace.store.jobs import JobRepository
from headrace.store.run_rows import close_run, open_run, params_of

J, R, E, LG = tables.jobs, tables.job_runs, tables.job_events, tables.job_logs

#: Builds the new run's ``params`` from the job as it is at start.
ParamsFor = Callable[[Job], Any]
#: Job ids read back per query after a multi-row insert (well under SQLite's variables).
_CHUNK = 500
#: How each database names ``ux_jobs_active_name`` in the error a duplicate raises.
_NAME_INDEX_MARKS = ("ux_jobs_active_name", "jobs.tenant_id, jobs.name")
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

        A never-started job does not hold its name: many jobs may share one (as Control
        Hub's do); only a job with an active run holds it (``start`` checks).
        """
        return self.create_many([row], user_id)[0]

    def create_many(self, rows: Sequence[dict[str, Any]], user_id: str) -> list[Job]:
        """Insert jobs that have not started, in one transaction: all of them or none."""
        with self.store.write() as conn:
            return self.create_in(conn, rows, user_id)

    def create_in(
        self, conn: Connection, rows: Sequence[dict[str, Any]], user_id: str
    ) -> list[Job]:
        """``create_many`` inside the caller's transaction (an archive's commits and jobs)."""
        made = [
            {**row, "job_id": ids.new_id(), "status": str(Status.CREATED), "run_count": 0}
            for row in rows
        ]
        events = [
            {
                "job_id": row["job_id"],
                "tenant_id": self.tenant_id,
                "from_status": None,
                "to_status": str(Status.CREATED),
                "user_id": user_id,
                "at_ms": row["scheduled_at_ms"],
                "reason": "created",
                "attempt": 0,
            }
            for row in made
        ]
        found: dict[str, Job] = {}
        if made:
            conn.execute(insert(J), made)
            conn.execute(insert(E), events)
        job_ids = [row["job_id"] for row in made]
        for i in range(0, len(job_ids), _CHUNK):
            chunk = job_ids[i : i + _CHUNK]
            rows_read = conn.execute(
                select(J).where(J.c.tenant_id == self.tenant_id, J.c.job_id.in_(chunk))
            ).mappings()
            found.update({str(r["job_id"]): job_from_row(r) for r in rows_read})
        return [found[j] for j in job_ids]

    def _check_name(self, conn: Connection, job_id: str, name: str | None) -> None:
        """Refuse a run of ``job_id`` while another job of its name has an active run."""
        if name is None:
            return
        for other in conn.execute(JobRepository.active_named_query(self.tenant_id, name)).scalars():
            if str(other) != job_id:
                msg = f"job name {name!r} is taken by active job {other}; stop it first"
                raise errors.JobAlreadyExists(msg)

    def update(self, job_id: str, values: dict[str, Any]) -> Job:
        """Change a job's definition columns (a running run keeps what it started with).

        Raises:
            NotFound: no such job (a deleted one included).
            JobAlreadyExists: the job runs and another active job has the new name.
        """
        with _names_held(), self.store.write() as conn:
            row = self._row(conn, job_id)
            if "name" in values and Status(row["status"]) not in machine.NAME_FREE:
                self._check_name(conn, job_id, values["name"])
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
            JobAlreadyExists: another job of the same name has an active run.
        """
        at = now_ms()
        with _names_held(), self.store.write() as conn:
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
            self._check_name(conn, job_id, job.name)
            params = params_for(job)
            if job.run_count >= 1:
                close_run(conn, self.tenant_id, job, at)
            run_count = job.run_count + 1
            open_run(
                conn,
                self.tenant_id,
                job_id,
                run_count,
                at,
                user_id=user_id,
                parameters=parameters,
                name=name,
                description=description,
            )
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

    def events(self, job_id: str, after: int, upto: int | None, window: Window) -> list[JobEvent]:
        """The job's events with ids in ``(after, upto]`` that ``window`` keeps, oldest first.

        ``window.kinds`` are the statuses changed to. A row with ``via`` holds several
        events (``events_from_row``): it is read when any of its steps changes to one of
        ``kinds``, and only those steps are kept. The page counts events, not rows: every
        row read holds at least one kept event, so the page's events are among the first
        ``page * limit`` rows.
        """
        stmt = select(E).where(
            E.c.tenant_id == self.tenant_id, E.c.job_id == job_id, E.c.event_id > after
        )
        if upto is not None:
            stmt = stmt.where(E.c.event_id <= upto)
        if window.kinds:
            framed = literal(",") + E.c.via + literal(",")
            stmt = stmt.where(
                or_(
                    E.c.to_status.in_(window.kinds),
                    *(framed.contains(f",{kind},", autoescape=True) for kind in window.kinds),
                )
            )
        stmt = _timed(stmt, E.c.at_ms, window).order_by(E.c.event_id)
        start = (window.page - 1) * window.limit
        with self.store.read() as conn:
            rows = conn.execute(stmt.limit(start + window.limit)).mappings().all()
        found = [e for r in rows for e in events_from_row(r)]
        if window.kinds:
            found = [e for e in found if e.to_status in window.kinds]
        return found[start : start + window.limit]

    def logs(self, job_id: str, after: int, upto: int | None, window: Window) -> list[JobLogLine]:
        """The job's log lines with ids in ``(after, upto]`` that ``window`` keeps, oldest first.

        ``window.kinds`` are log levels.
        """
        stmt = select(LG).where(
            LG.c.tenant_id == self.tenant_id, LG.c.job_id == job_id, LG.c.log_id > after
        )
        if upto is not None:
            stmt = stmt.where(LG.c.log_id <= upto)
        if window.kinds:
            stmt = stmt.where(LG.c.level.in_(window.kinds))
        stmt = _timed(stmt, LG.c.at_ms, window).order_by(LG.c.log_id)
        with self.store.read() as conn:
            return [
                JobLogLine(str(r["job_id"]), r["at_ms"], r["level"], r["message"], r["attempt"])
                for r in conn.execute(_paged(stmt, window)).mappings()
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


@contextmanager
def _names_held() -> Iterator[None]:
    """Turn a race lost on ``ux_jobs_active_name`` into the error ``_check_name`` gives."""
    try:
        yield
    except errors.StoreError as exc:
        held = isinstance(exc.__cause__, IntegrityError) and any(
            mark in str(exc) for mark in _NAME_INDEX_MARKS
        )
        if not held:
            raise
        msg = "the job's name was taken by another job's run that started at the same time"
        raise errors.JobAlreadyExists(msg) from None


@dataclass(frozen=True)
class Window:
    """Which of a run's events or log lines to read: kinds, a time range, one page."""

    kinds: tuple[str, ...] = ()
    since_ms: int | None = None
    until_ms: int | None = None
    page: int = 1
    limit: int = defaults.MAX_PAGE_LIMIT


def _timed(stmt: Select[Any], column: Any, window: Window) -> Select[Any]:
    if window.since_ms is not None:
        stmt = stmt.where(column >= window.since_ms)
    if window.until_ms is not None:
        stmt = stmt.where(column < window.until_ms)
    return stmt


def _paged(stmt: Select[Any], window: Window) -> Select[Any]:
    return stmt.offset((window.page - 1) * window.limit).limit(window.limit)


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
        parameters=params_of(job),
        user_id=job.user_id,
        started_at_ms=job.started_at_ms or job.scheduled_at_ms,
        updated_at_ms=job.updated_at_ms,
        finished_at_ms=job.finished_at_ms,
        error=job.error,
        metrics=None,
        result=job.result,
    )
