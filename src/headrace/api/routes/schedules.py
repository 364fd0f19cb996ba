"""Schedules over HTTP: a job's cron schedules, and their firings.

``POST /jobs/{job_id}/schedules`` creates one; ``GET /jobs/{job_id}/schedules`` pages
through the job's, ``GET /schedules`` through the tenant's; ``GET|DELETE
/schedules/{id}``; ``POST /schedules/{id}/pause|resume``; ``GET /schedules/{id}/firings``
pages through its handled ticks, newest first.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Response

from headrace import defaults
from headrace.api import problems
from headrace.api.auth import ApiState, Reader, State, Writer
from headrace.api.paths import JobId
from headrace.api.schedule_schemas import FiringOut, ScheduleIn, ScheduleOut
from headrace.api.schemas import Paged
from headrace.model import text
from headrace.model.job import Page
from headrace.model.schedules import Schedule
from headrace.service.schedules import ScheduleService
from headrace.service.tokens import Principal

router = APIRouter(tags=["schedules"], responses=problems.responses(401, 403, 404, 409, 422, 503))

ScheduleId = Annotated[str, Path(description="The schedule's UUID", pattern=text.UUID_PATTERN)]
PageNo = Annotated[int, Query(ge=1, le=2**31 - 1)]
Limit = Annotated[int, Query(ge=1, le=defaults.MAX_PAGE_LIMIT)]


def _service(state: ApiState, who: Principal) -> ScheduleService:
    jobs = state.jobs(who)
    return ScheduleService(state.store, jobs, jobs.scope, state.wake)


@router.post("/jobs/{job_id}/schedules", status_code=201, response_model=ScheduleOut)
def create(
    job_id: JobId, body: Annotated[ScheduleIn, Body()], who: Writer, state: State
) -> ScheduleOut:
    """Schedule an action (start, stop, upgrade) on the job at each tick of a cron expression."""
    made = _service(state, who).create(job_id, **body.model_dump())
    return ScheduleOut.model_validate(made)


@router.get("/jobs/{job_id}/schedules", response_model=Paged[ScheduleOut])
def list_of_job(
    job_id: JobId, who: Reader, state: State, page: PageNo = 1, limit: Limit = 50
) -> Paged[ScheduleOut]:
    """A page of the job's schedules, oldest first."""
    return _paged(_service(state, who).list(job_id, page=page, limit=limit))


@router.get("/schedules", response_model=Paged[ScheduleOut])
def list_schedules(
    who: Reader, state: State, page: PageNo = 1, limit: Limit = 50
) -> Paged[ScheduleOut]:
    """A page of the tenant's schedules, oldest first."""
    return _paged(_service(state, who).list(None, page=page, limit=limit))


def _paged(found: Page[Schedule]) -> Paged[ScheduleOut]:
    return Paged[ScheduleOut](
        items=[ScheduleOut.model_validate(s) for s in found.items],
        page=found.page,
        limit=found.limit,
        total=found.total,
    )


@router.get("/schedules/{schedule_id}", response_model=ScheduleOut)
def get(schedule_id: ScheduleId, who: Reader, state: State) -> ScheduleOut:
    """One schedule."""
    return ScheduleOut.model_validate(_service(state, who).get(schedule_id))


@router.post("/schedules/{schedule_id}/pause", response_model=ScheduleOut)
def pause(schedule_id: ScheduleId, who: Writer, state: State) -> ScheduleOut:
    """Stop firing until resumed (ticks meanwhile are not wanted, not missed)."""
    return ScheduleOut.model_validate(_service(state, who).pause(schedule_id))


@router.post("/schedules/{schedule_id}/resume", response_model=ScheduleOut)
def resume(schedule_id: ScheduleId, who: Writer, state: State) -> ScheduleOut:
    """Fire again from the next tick after now."""
    return ScheduleOut.model_validate(_service(state, who).resume(schedule_id))


@router.delete("/schedules/{schedule_id}", status_code=204)
def delete(schedule_id: ScheduleId, who: Writer, state: State) -> Response:
    """Delete the schedule and its firings."""
    _service(state, who).delete(schedule_id)
    return Response(status_code=204)


@router.get("/schedules/{schedule_id}/firings", response_model=Paged[FiringOut])
def firings(
    schedule_id: ScheduleId, who: Reader, state: State, page: PageNo = 1, limit: Limit = 50
) -> Paged[FiringOut]:
    """A page of the schedule's firings, newest tick first."""
    found = _service(state, who).firings(schedule_id, page=page, limit=limit)
    return Paged[FiringOut](
        items=[FiringOut.model_validate(f) for f in found.items],
        page=found.page,
        limit=found.limit,
        total=found.total,
    )
