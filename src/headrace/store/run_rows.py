"""A job's run records (``job_runs`` rows): close the ended run, open the next one.

Every path that starts a new run of a job writes them in its own transaction: the control
plane's ``start`` (``runs.py``) and seed 004's ``retry`` (``jobs.py``), so a job's history
lists each run whichever call started it.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from headrace.model.job import Job
from headrace.store import codec, tables

R, E, LG = tables.job_runs, tables.job_events, tables.job_logs


def params_of(job: Job) -> dict[str, Any]:
    """The runtime parameters a job's current run was given (none for a task job)."""
    params = job.params if isinstance(job.params, dict) else {}
    found = params.get("parameters")
    return dict(found) if isinstance(found, dict) else {}


def close_run(conn: Connection, tenant_id: str, job: Job, at: int) -> None:
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
                tenant_id=tenant_id,
                started_at_ms=job.started_at_ms or job.scheduled_at_ms,
                parameters=json.dumps(params_of(job)),
                user_id=job.user_id,
                **values,
            )
        )
    else:
        conn.execute(update(R).where(*where).values(values))


def open_run(
    conn: Connection,
    tenant_id: str,
    job_id: str,
    run_count: int,
    at: int,
    *,
    user_id: str,
    parameters: dict[str, Any],
    name: str | None = None,
    description: str | None = None,
) -> None:
    """Open run ``run_count``'s record: its events and logs are those written from now on.

    Call before writing the run's first event (its ``-> waiting``).
    """
    conn.execute(
        insert(R).values(
            job_id=job_id,
            run_count=run_count,
            tenant_id=tenant_id,
            status="waiting",
            started_at_ms=at,
            updated_at_ms=at,
            name=name,
            description=description,
            parameters=json.dumps(parameters),
            user_id=user_id,
            events_after=_last_id(conn, E.c.event_id, E.c.job_id, job_id),
            logs_after=_last_id(conn, LG.c.log_id, LG.c.job_id, job_id),
        )
    )


def _last_id(conn: Connection, column: Any, key: Any, job_id: str) -> int:
    found = conn.execute(select(func.max(column)).where(key == job_id)).scalar()
    return int(found or 0)
