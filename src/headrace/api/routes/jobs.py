"""Seed 004's job endpoints (schedule, list, get, control, delete), events, logs, long-poll.

``GET /jobs/{job_id}/wait`` holds the request until the job ends (Jet's ``join``).
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from headrace import defaults
from headrace.api import problems, replies
from headrace.api.auth import Reader, State, Writer
from headrace.api.paths import IdPrefix, JobId
from headrace.api.schemas import (
    Items,
    JobEventOut,
    JobIn,
    JobLogLineOut,
    JobOut,
    JobsIn,
    JobStatusOut,
    Paged,
    ReasonIn,
)
from headrace.model import status as machine
from headrace.model.job import Job
from headrace.model.status import Status
from headrace.store.job_rows import ORDERABLE

router = APIRouter(tags=["jobs"], responses=problems.responses(401, 403, 404, 409, 413, 422, 503))

#: An optional ``{"reason": ...}`` body: seed 004's bodiless calls stay valid.
Reason = Annotated[ReasonIn | None, Body()]

_NAMES = "|".join(s.value for s in Status)
#: Comma-separated statuses, as the schema states them (the service is as strict).
STATUS_PATTERN = rf"^\s*({_NAMES})\s*(,\s*({_NAMES})\s*)*$"
#: A field to order by, ``-`` first for descending.
ORDER_PATTERN = rf"^[-+]?({'|'.join(sorted(ORDERABLE))})(_ms)?$"


@router.post(
    "/jobs",
    status_code=201,
    response_model=JobOut,
    responses={200: {"model": JobOut, "description": "The job of a repeated idempotency key"}},
)
async def schedule(body: JobIn, who: Writer, state: State, response: Response) -> Response:
    """Schedule a job; a repeated ``idempotency_key`` returns the existing job with 200."""
    job, created = await replies.threaded(
        state.jobs(who).schedule_ex,
        body.type,
        body.params,
        idempotency_key=body.idempotency_key,
        timeout_sec=body.timeout_sec,
        max_retries=body.max_retries,
        retry_delay_sec=body.retry_delay_sec,
        delay_sec=body.delay_sec,
        name=body.name,
        description=body.description,
        labels=body.labels,
    )
    return replies.reply(Job, job, response, 201 if created else 200)


@router.post(
    "/jobs/batch",
    response_model=Items[JobOut],
    status_code=201,
    responses={201: {"description": "The jobs, in the order of the body's params"}},
)
async def schedule_batch(body: JobsIn, who: Writer, state: State, response: Response) -> Response:
    """Schedule one job per params with the same options, all or none, in one request.

    Every params is checked before any job is stored (a bad one is named by its index,
    ``params[3].size``); at most ``MAX_BATCH_JOBS`` a request, within the body's size limit.
    """
    jobs = await replies.threaded(
        state.jobs(who).schedule_many,
        body.type,
        body.params,
        timeout_sec=body.timeout_sec,
        max_retries=body.max_retries,
        retry_delay_sec=body.retry_delay_sec,
        delay_sec=body.delay_sec,
        description=body.description,
        labels=body.labels,
    )
    # Serialized from the jobs as they are (``Job`` is ``JobOut``'s source), as ``reply``
    # does one job: no model built per job.
    return replies.reply(Items[Job], Items[Job](items=jobs, total=len(jobs)), response, 201)


@router.get("/jobs", response_model=Paged[JobOut])
def list_jobs(
    who: Reader,
    state: State,
    page: Annotated[int, Query(ge=1, le=2**31 - 1)] = 1,
    limit: Annotated[int, Query(ge=1, le=defaults.MAX_PAGE_LIMIT)] = 10,
    status: Annotated[
        str | None,
        Query(
            description="Comma-separated statuses, e.g. running,completed", pattern=STATUS_PATTERN
        ),
    ] = None,
    order: Annotated[
        str,
        Query(
            description="A field, - prefix for descending, e.g. -scheduled_at",
            pattern=ORDER_PATTERN,
        ),
    ] = "-scheduled_at",
    type: Annotated[str | None, Query(description="Only jobs of this type")] = None,
) -> Paged[JobOut]:
    """A page of the tenant's jobs, filtered by status and type, in the given order."""
    found = state.jobs(who).list(page=page, limit=limit, status=status, order=order, type=type)
    return Paged[JobOut](
        items=[JobOut.model_validate(j) for j in found.items],
        page=found.page,
        limit=found.limit,
        total=found.total,
    )


@router.get("/jobs/by-prefix/{prefix}", response_model=JobOut)
def get_by_prefix(prefix: IdPrefix, who: Reader, state: State) -> JobOut:
    """The tenant's job whose id starts with ``prefix`` (hex digits, hyphens allowed).

    404 when no job's id starts with it, 409 when several do (give more digits).
    """
    jobs = state.jobs(who)
    return JobOut.model_validate(jobs.get(jobs.resolve(prefix)))


@router.get("/jobs/{job_id}", response_model=JobOut)
async def get_job(job_id: JobId, who: Reader, state: State, response: Response) -> Response:
    """One of the tenant's jobs."""
    return replies.reply(Job, await replies.threaded(state.jobs(who).get, job_id), response)


@router.get("/jobs/{job_id}/status", response_model=JobStatusOut)
def job_status(job_id: JobId, who: Reader, state: State) -> JobStatusOut:
    """The job's status and why it is in it: a waiting job names what holds it."""
    service = state.jobs(who)
    job = service.get(job_id)
    return JobStatusOut(job_id=job.job_id, status=job.status, reason=service.status_reason(job_id))


def _reason(body: ReasonIn | None) -> dict[str, str]:
    """The service's ``reason`` keyword if the body gives one (else its default applies)."""
    return {} if body is None or body.reason is None else {"reason": body.reason}


@router.post("/jobs/{job_id}/cancel", response_model=JobOut)
def cancel(job_id: JobId, who: Writer, state: State, body: Reason = None) -> JobOut:
    """Cancel a job: at once if no worker holds it, else ask its worker to stop."""
    return JobOut.model_validate(state.jobs(who).cancel(job_id, **_reason(body)))


@router.post("/jobs/{job_id}/suspend", response_model=JobOut)
def suspend(job_id: JobId, who: Writer, state: State, body: Reason = None) -> JobOut:
    """Suspend a waiting or claimed, unstarted job; ask a running suspendable job's worker to."""
    return JobOut.model_validate(state.jobs(who).suspend(job_id, **_reason(body)))


@router.post("/jobs/{job_id}/resume", response_model=JobOut)
def resume(job_id: JobId, who: Writer, state: State, body: Reason = None) -> JobOut:
    """Put a suspended job back in its queue."""
    return JobOut.model_validate(state.jobs(who).resume(job_id, **_reason(body)))


@router.post("/jobs/{job_id}/retry", response_model=JobOut)
def retry(job_id: JobId, who: Writer, state: State, body: Reason = None) -> JobOut:
    """Start a new run of a failed or timed-out job: ``failed -> waiting``, run_count + 1."""
    return JobOut.model_validate(state.jobs(who).retry(job_id, **_reason(body)))


@router.delete("/jobs/{job_id}", response_model=JobOut)
def delete(job_id: JobId, who: Writer, state: State, force: bool = False) -> JobOut:
    """Delete a job no worker holds, with its events and logs; returns what was deleted.

    ``?force=true`` first stops a held job's run at once.
    """
    return JobOut.model_validate(state.jobs(who).delete(job_id, force=force))


@router.get("/jobs/{job_id}/events", response_model=Items[JobEventOut])
def events(job_id: JobId, who: Reader, state: State) -> Items[JobEventOut]:
    """The job's status changes, oldest first."""
    found = state.jobs(who).events(job_id)
    return Items[JobEventOut](
        items=[JobEventOut.model_validate(e) for e in found], total=len(found)
    )


@router.get("/jobs/{job_id}/logs", response_model=Items[JobLogLineOut])
def logs(job_id: JobId, who: Reader, state: State) -> Items[JobLogLineOut]:
    """The job's log lines, oldest first."""
    found = state.jobs(who).logs(job_id)
    return Items[JobLogLineOut](
        items=[JobLogLineOut.model_validate(line) for line in found], total=len(found)
    )


def _ended(job: Job, suspended_ends: bool) -> bool:
    return job.status in machine.FINAL or (suspended_ends and job.status is Status.SUSPENDED)


@router.get("/jobs/{job_id}/wait", response_model=JobOut)
async def wait(
    job_id: JobId,
    who: Reader,
    state: State,
    request: Request,
    timeout: Annotated[
        float, Query(ge=0, le=defaults.LONG_POLL_MAX_SEC, description="Seconds to hold")
    ] = defaults.LONG_POLL_SEC,
    suspended_ends: Annotated[
        bool, Query(description="Whether a suspended job counts as ended (Jet's join: false)")
    ] = True,
) -> JobOut:
    """Long-poll: the job as soon as it ends, or as it is once ``timeout`` s have passed.

    A job has ended in a final status, or (unless ``suspended_ends=false``) when
    suspended. The answer is 200 either way: compare its ``status``, and ask again to
    wait longer. The request holds no thread while it waits.
    """
    jobs = state.jobs(who)
    deadline = time.monotonic() + timeout
    pause = 0.005
    while True:
        job = await run_in_threadpool(jobs.get, job_id)
        left = deadline - time.monotonic()
        if _ended(job, suspended_ends) or left <= 0 or await request.is_disconnected():
            return JobOut.model_validate(job)
        await asyncio.sleep(min(pause, left))
        pause = min(pause * 2, 0.2)
