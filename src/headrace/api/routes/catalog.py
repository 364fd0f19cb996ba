"""Seed 004's job type and job group endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from headrace import defaults
from headrace.api import problems
from headrace.api.auth import Reader, State
from headrace.api.schemas import JobGroupOut, JobTypeOut, Paged
from headrace.service.catalog import JobGroupService, JobTypeService

router = APIRouter(tags=["catalog"], responses=problems.responses(401, 404, 422, 503))

PageNo = Annotated[int, Query(ge=1, le=2**31 - 1)]
Limit = Annotated[int, Query(ge=1, le=defaults.MAX_PAGE_LIMIT)]


@router.get("/job-types", response_model=Paged[JobTypeOut])
def list_types(
    _who: Reader, state: State, page: PageNo = 1, limit: Limit = 10
) -> Paged[JobTypeOut]:
    """A page of job types, by id."""
    items, total = JobTypeService(state.store).page(page, limit)
    return Paged[JobTypeOut](
        items=[JobTypeOut.model_validate(t) for t in items], page=page, limit=limit, total=total
    )


@router.get("/job-types/{job_type_id}", response_model=JobTypeOut)
def get_type(job_type_id: str, _who: Reader, state: State) -> JobTypeOut:
    """One job type."""
    return JobTypeOut.model_validate(JobTypeService(state.store).get(job_type_id))


@router.get("/job-groups", response_model=Paged[JobGroupOut])
def list_groups(
    _who: Reader, state: State, page: PageNo = 1, limit: Limit = 10
) -> Paged[JobGroupOut]:
    """A page of job groups, by name."""
    items, total = JobGroupService(state.store).page(page, limit)
    return Paged[JobGroupOut](
        items=[JobGroupOut.model_validate(g) for g in items], page=page, limit=limit, total=total
    )


@router.get("/job-groups/{job_group_id}", response_model=JobGroupOut)
def get_group(job_group_id: str, _who: Reader, state: State) -> JobGroupOut:
    """One job group."""
    return JobGroupOut.model_validate(JobGroupService(state.store).get(job_group_id))
