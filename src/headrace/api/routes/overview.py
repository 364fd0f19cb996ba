"""Reads the dashboard needs that the rest of the API lacks: counts, throughput, search.

Each is a plain read confined to the token's tenant, like every other route.
"""

from __future__ import annotations

from typing import Annotated

import pydantic
from fastapi import APIRouter, Query

from headrace import defaults
from headrace.api import problems
from headrace.api.auth import Reader, State
from headrace.api.paths import JobId
from headrace.api.routes.jobs import ORDER_PATTERN, STATUS_PATTERN
from headrace.api.schemas import ATTRS, Items, JobOut, Paged
from headrace.service import plans
from headrace.service.overview import TAIL_LIMIT, OverviewService

router = APIRouter(tags=["overview"], responses=problems.responses(401, 404, 422, 503))

Millis = Annotated[int | None, Query(ge=0, le=2**62)]


class MinuteOut(pydantic.BaseModel):
    """Jobs that ended in one minute (``at_ms`` is its start), and how many failed."""

    model_config = ATTRS

    at_ms: int
    finished: int
    failed: int


class OverviewOut(pydantic.BaseModel):
    """The tenant's jobs at a glance."""

    model_config = ATTRS

    at_ms: int
    counts: dict[str, int]
    total: int
    throughput: list[MinuteOut]
    oldest_waiting_ms: dict[str, int] = pydantic.Field(
        description="Per queue, when its oldest waiting job was scheduled"
    )
    stuck: list[JobOut] = pydantic.Field(
        description=(
            "Held jobs whose lease expired, and unfinished jobs retried "
            "(or that lost their lease) 3+ times"
        )
    )


class DataStructureOut(pydantic.BaseModel):
    """A named List, Map or Stream and its size (a Stream's: entries in all partitions)."""

    model_config = ATTRS

    kind: str
    name: str
    size: int
    partitions: int
    end_offsets: list[int]
    closed: bool


class SnapshotInfoOut(pydantic.BaseModel):
    """A stored snapshot of a job: exported ones have a name."""

    model_config = ATTRS

    snapshot_id: int
    run_count: int
    name: str | None
    created_at_ms: int
    size_bytes: int


class VertexOut(pydantic.BaseModel):
    """A vertex of the plan: its stages after fusion, head first, then its sinks."""

    model_config = ATTRS

    id: int
    name: str
    stages: list[str]
    kinds: list[str]
    parallelism: int
    streaming: bool


class EdgeOut(pydantic.BaseModel):
    """An edge of the plan: ``routing`` is forward, hash, single, round_robin or broadcast."""

    model_config = ATTRS

    src: int
    dst: int
    port: int
    routing: str
    combine: str | None


class PlanOut(pydantic.BaseModel):
    """A pipeline job's execution plan."""

    model_config = ATTRS

    job_id: str
    local_parallelism: int
    vertices: list[VertexOut]
    edges: list[EdgeOut]
    error: str | None = pydantic.Field(
        default=None, description="Why there is no plan (its pipeline does not load here)"
    )


@router.get("/overview", response_model=OverviewOut)
def overview(who: Reader, state: State) -> OverviewOut:
    """Jobs by status, the last hour's throughput per minute, oldest waits and stuck jobs."""
    return OverviewOut.model_validate(OverviewService(state.store, who.tenant_id).overview())


@router.get("/job-search", response_model=Paged[JobOut])
def search(
    who: Reader,
    state: State,
    page: Annotated[int, Query(ge=1, le=2**31 - 1)] = 1,
    limit: Annotated[int, Query(ge=1, le=defaults.MAX_PAGE_LIMIT)] = 20,
    status: Annotated[
        str | None, Query(description="Comma-separated statuses", pattern=STATUS_PATTERN)
    ] = None,
    type: Annotated[str | None, Query(max_length=255)] = None,
    queue: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[
        str | None, Query(max_length=255, description="Part of the name or the type, any case")
    ] = None,
    since_ms: Millis = None,
    until_ms: Millis = None,
    tag: Annotated[
        str | None, Query(max_length=255, description="A tag; its children (tag/...) match too")
    ] = None,
    project: Annotated[str | None, Query(max_length=255)] = None,
    order: Annotated[str, Query(pattern=ORDER_PATTERN)] = "-scheduled_at",
) -> Paged[JobOut]:
    """``GET /jobs`` with more filters: queue, text, tag, project, a scheduling time range."""
    found = OverviewService(state.store, who.tenant_id).search(
        status=status,
        type=type,
        queue=queue,
        text=q,
        since_ms=since_ms,
        until_ms=until_ms,
        tag=tag,
        project=project,
        order=order,
        page=page,
        limit=limit,
    )
    return Paged[JobOut](
        items=[JobOut.model_validate(j) for j in found.items],
        page=found.page,
        limit=found.limit,
        total=found.total,
    )


@router.get("/data", response_model=Items[DataStructureOut])
def data_structures(who: Reader, state: State) -> Items[DataStructureOut]:
    """The tenant's Lists, Maps and Streams with their sizes."""
    found = OverviewService(state.store, who.tenant_id).data_structures()
    return Items[DataStructureOut](
        items=[DataStructureOut.model_validate(d) for d in found], total=len(found)
    )


@router.get("/jobs/{job_id}/snapshots", response_model=Items[SnapshotInfoOut])
def snapshots(job_id: JobId, who: Reader, state: State) -> Items[SnapshotInfoOut]:
    """The job's stored snapshots, periodic and exported, newest first."""
    state.jobs(who).get(job_id)
    found = OverviewService(state.store, who.tenant_id).snapshots(job_id)
    return Items[SnapshotInfoOut](
        items=[SnapshotInfoOut.model_validate(s) for s in found], total=len(found)
    )


@router.get("/jobs/{job_id}/plan", response_model=PlanOut)
def plan(job_id: JobId, who: Reader, state: State) -> PlanOut:
    """A pipeline job's execution plan: vertices after fusion, and how edges route."""
    return PlanOut.model_validate(plans.plan_of(state.pipelines(who), job_id))


class ReasonOut(pydantic.BaseModel):
    """Why a job is in its status, in words (above all: why it is not starting)."""

    job_id: str
    status: str
    reason: str


@router.get("/jobs/{job_id}/reason", response_model=ReasonOut)
def reason(job_id: JobId, who: Reader, state: State) -> ReasonOut:
    """Why any job (task or pipeline) is in its status: a retry delay, a full queue..."""
    job = state.jobs(who).get(job_id)
    return ReasonOut(
        job_id=job.job_id,
        status=str(job.status),
        reason=state.pipelines(who).status_reason(job_id),
    )


class LogLineOut(pydantic.BaseModel):
    """One log line and its id (pass the last one as ``after`` to follow)."""

    model_config = ATTRS

    log_id: int
    at_ms: int
    level: str
    message: str
    attempt: int


class LogTailOut(pydantic.BaseModel):
    """The last lines of a job's log, or the lines after a given one."""

    items: list[LogLineOut]
    total: int = pydantic.Field(description="The job's log lines in all")


@router.get("/jobs/{job_id}/log-tail", response_model=LogTailOut)
def log_tail(
    job_id: JobId,
    who: Reader,
    state: State,
    after: Annotated[
        int | None, Query(ge=0, le=2**62, description="Only lines after this log id")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=TAIL_LIMIT)] = 200,
) -> LogTailOut:
    """A job's last ``limit`` log lines (oldest first), or those after log id ``after``.

    What a page that follows a log asks for: one read of new lines, however long the log.
    """
    state.jobs(who).get(job_id)
    lines, total = OverviewService(state.store, who.tenant_id).log_tail(job_id, after, limit)
    return LogTailOut(items=[LogLineOut.model_validate(x) for x in lines], total=total)
