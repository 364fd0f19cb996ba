"""Schedules over HTTP: ``/schedules`` (a job's cron schedules) and their firings.

``POST /schedules`` creates one; ``GET /schedules`` pages through the tenant's (``job_id``
filters); ``GET|DELETE /schedules/{id}``; ``POST /schedules/{id}/pause|resume``;
``GET /schedules/{id}/firings`` pages through its handled ticks, newest first.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Response

from headrace import defaults
from headrace.api import problems
from headrace.api.auth import ApiState, Reader, State, Writer
from headrace.api.schedule_schemas import FiringOut, ScheduleIn, ScheduleOut
from headrace.api.schemas import Paged
from headrace.model import text
from headrace.service.schedules import ScheduleService
from headrace.service.tokens import Principal

router = APIRouter(tags=["schedules"], responses=problems.responses(401, 403, 404, 409, 422, 503))

ScheduleId = Annotated[str, Path(description="The schedule's UUID", pattern=text.UUID_PATTERN)]
PageNo = Annotated[int, Query(ge=1, le=2**31 - 1)]
Limit = Annotated[int, Query(ge=1, le=defaults.MAX_PAGE_LIMIT)]


def _service(state: ApiState, who: Principal) -> ScheduleService:
    jobs = state.jobs(who)
    return ScheduleService(state.store, jobs, jobs.scope, state.wake)


@router.post("/schedules", status_code=201, response_model=ScheduleOut)
def create(body: Annotated[ScheduleIn, Body()], who: Writer, state: State) -> ScheduleOut:
    """Schedule an action (start, stop, upgrade) on a job at each tick of a cron expression."""
    made = _service(state, who).create(**body.model_dump())
    return ScheduleOut.model_validate(made)


@router.get("/schedules", response_model=Paged[ScheduleOut])
def list_schedules(
    who: Reader,
    state: State,
    page: PageNo = 1,
    limit: Limit = 50,
    job_id: Annotated[
        str | None, Query(description="Only this job's", pattern=text.UUID_PATTERN)
    ] = None,
) -> Paged[ScheduleOut]:
    """A page of the tenant's schedules, oldest first."""
    found = _service(state, who).list(job_id, page=page, limit=limit)
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
