"""Jobs as definitions with runs over HTTP.

``POST /job-definitions`` defines a job without starting it; ``GET /job-definitions``
finds jobs by name, tag, status, pipeline, label, project. Operations on one job live
under ``/jobs/{id}``: ``PATCH`` (update), ``start``, ``stop``, ``acknowledge-error``,
``duplicate``, ``upgrade``, ``summary``, ``runs[/{n}[/events|logs|metrics]]`` (events
and logs paged and filtered by status or level and by time) and
``offsets`` (``GET``; ``PUT`` uploads; ``POST offsets/reset``; ``GET offsets/entities``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query

from headrace import defaults
from headrace.api import problems
from headrace.api.auth import Reader, State, Writer
from headrace.api.control_schemas import (
    DefinitionIn,
    DuplicateIn,
    JobRunOut,
    OffsetsIn,
    StartIn,
    StopIn,
    UpdateIn,
    UpgradeIn,
)
from headrace.api.paths import JobId
from headrace.api.routes.jobs import STATUS_PATTERN
from headrace.api.schemas import Items, JobEventOut, JobLogLineOut, JobOut

router = APIRouter(
    tags=["job definitions"], responses=problems.responses(401, 403, 404, 409, 422, 503)
)

RunCount = Annotated[int, Path(ge=1, le=2**31 - 1)]
Statuses = Annotated[
    str | None, Query(description="Comma-separated statuses", pattern=STATUS_PATTERN)
]
SinceMs = Annotated[int | None, Query(ge=0, description="From this time (epoch ms)")]
UntilMs = Annotated[int | None, Query(ge=0, description="Before this time (epoch ms)")]
PageNo = Annotated[int, Query(ge=1, le=2**31 - 1)]
Limit = Annotated[int, Query(ge=1, le=defaults.MAX_PAGE_LIMIT)]


def _jobs(found: list[Any]) -> Items[JobOut]:
    return Items[JobOut](items=[JobOut.model_validate(j) for j in found], total=len(found))


@router.post("/job-definitions", status_code=201, response_model=JobOut)
def create(body: Annotated[DefinitionIn, Body()], who: Writer, state: State) -> JobOut:
    """Define a job (status ``created``, no run yet) from a pipeline commit or a job type."""
    job = state.jobs(who).create(**body.model_dump())
    return JobOut.model_validate(job)


@router.get("/job-definitions", response_model=Items[JobOut])
def find(
    who: Reader,
    state: State,
    name: str | None = None,
    tag: str | None = None,
    status: Statuses = None,
    pipeline: str | None = None,
    label: str | None = None,
    project: str | None = None,
) -> Items[JobOut]:
    """The tenant's jobs matching every filter given, newest first."""
    return _jobs(
        state.jobs(who).find(
            name=name, tag=tag, status=status, pipeline=pipeline, label=label, project=project
        )
    )


@router.post("/job-definitions/upgrade", response_model=Items[JobOut])
def upgrade_many(body: UpgradeIn, who: Writer, state: State) -> Items[JobOut]:
    """Pin each job to its pipeline's latest commit (from its next run)."""
    return _jobs(state.jobs(who).upgrade(body.job_ids))


@router.patch("/jobs/{job_id}", response_model=JobOut)
def update(job_id: JobId, body: UpdateIn, who: Writer, state: State) -> JobOut:
    """Change a job's definition; an active run keeps what it started with.

    Only the fields present in the body change (``params: null`` clears a task's params).
    """
    changes = body.model_dump(exclude_unset=True)
    return JobOut.model_validate(state.jobs(who).update(job_id, **changes))


@router.post("/jobs/{job_id}/start", response_model=JobOut)
def start(
    job_id: JobId, who: Writer, state: State, body: Annotated[StartIn | None, Body()] = None
) -> JobOut:
    """Start a new run (409 naming the active run if one is)."""
    options = (body or StartIn()).model_dump()
    return JobOut.model_validate(state.jobs(who).start(job_id, **options))


@router.post("/jobs/{job_id}/stop", response_model=JobOut)
def stop(
    job_id: JobId, who: Writer, state: State, body: Annotated[StopIn | None, Body()] = None
) -> JobOut:
    """End the current run (``force``: at once)."""
    return JobOut.model_validate(state.jobs(who).stop(job_id, force=(body or StopIn()).force))


@router.post("/jobs/{job_id}/acknowledge-error", response_model=JobOut)
def acknowledge_error(job_id: JobId, who: Writer, state: State) -> JobOut:
    """Acknowledge a failed run so a job requiring it may start again."""
    return JobOut.model_validate(state.jobs(who).acknowledge_error(job_id))


@router.post("/jobs/{job_id}/duplicate", status_code=201, response_model=Items[JobOut])
def duplicate(job_id: JobId, body: DuplicateIn, who: Writer, state: State) -> Items[JobOut]:
    """Copies of the job's definition (not started)."""
    return _jobs(state.jobs(who).duplicate(job_id, body.count, name=body.name))


@router.post("/jobs/{job_id}/upgrade", response_model=JobOut)
def upgrade(job_id: JobId, who: Writer, state: State) -> JobOut:
    """Pin the job to its pipeline's latest commit."""
    return JobOut.model_validate(state.jobs(who).upgrade([job_id])[0])


@router.get("/jobs/{job_id}/summary", response_model=dict[str, Any])
def summary(job_id: JobId, who: Reader, state: State) -> dict[str, Any]:
    """The realtime summary of the current run."""
    return state.jobs(who).summary(job_id)


@router.get("/jobs/{job_id}/runs", response_model=Items[JobRunOut])
def runs(
    job_id: JobId,
    who: Reader,
    state: State,
    status: Statuses = None,
    since_ms: SinceMs = None,
    until_ms: UntilMs = None,
    page: PageNo = 1,
    limit: Limit = 50,
) -> Items[JobRunOut]:
    """The job's runs, newest first, filtered by status and start time."""
    found = state.jobs(who).runs(
        job_id, status=status, since_ms=since_ms, until_ms=until_ms, page=page, limit=limit
    )
    return Items[JobRunOut](items=[JobRunOut.model_validate(r) for r in found], total=len(found))


@router.get("/jobs/{job_id}/runs/{run_count}", response_model=JobRunOut)
def run(job_id: JobId, run_count: RunCount, who: Reader, state: State) -> JobRunOut:
    """One run of the job."""
    return JobRunOut.model_validate(state.jobs(who).run(job_id, run_count))


@router.get("/jobs/{job_id}/runs/{run_count}/events", response_model=Items[JobEventOut])
def run_events(
    job_id: JobId,
    run_count: RunCount,
    who: Reader,
    state: State,
    status: Statuses = None,
    since_ms: SinceMs = None,
    until_ms: UntilMs = None,
    page: PageNo = 1,
    limit: Limit = defaults.MAX_PAGE_LIMIT,
) -> Items[JobEventOut]:
    """One run's status changes, oldest first: to ``status``, at ``[since_ms, until_ms)``."""
    found = state.jobs(who).run_events(
        job_id,
        run_count,
        status=status,
        since_ms=since_ms,
        until_ms=until_ms,
        page=page,
        limit=limit,
    )
    return Items[JobEventOut](
        items=[JobEventOut.model_validate(e) for e in found], total=len(found)
    )


@router.get("/jobs/{job_id}/runs/{run_count}/logs", response_model=Items[JobLogLineOut])
def run_logs(
    job_id: JobId,
    run_count: RunCount,
    who: Reader,
    state: State,
    level: Annotated[
        str | None, Query(description="Comma-separated log levels", max_length=255)
    ] = None,
    since_ms: SinceMs = None,
    until_ms: UntilMs = None,
    page: PageNo = 1,
    limit: Limit = defaults.MAX_PAGE_LIMIT,
) -> Items[JobLogLineOut]:
    """One run's log lines, oldest first: of ``level``, at ``[since_ms, until_ms)``."""
    found = state.jobs(who).run_logs(
        job_id,
        run_count,
        level=level,
        since_ms=since_ms,
        until_ms=until_ms,
        page=page,
        limit=limit,
    )
    items = [JobLogLineOut.model_validate(line) for line in found]
    return Items[JobLogLineOut](items=items, total=len(found))


@router.get("/jobs/{job_id}/runs/{run_count}/metrics", response_model=dict[str, Any])
def run_metrics(job_id: JobId, run_count: RunCount, who: Reader, state: State) -> dict[str, Any]:
    """One run's metrics (inputs, outputs, errors, per stage), kept after it ends."""
    return state.jobs(who).run_metrics(job_id, run_count)


@router.get("/jobs/{job_id}/offsets", response_model=dict[str, Any])
def offsets(
    job_id: JobId,
    who: Reader,
    state: State,
    run_count: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> dict[str, Any]:
    """The committed source offsets (of the newest run with any, or of ``run_count``)."""
    return state.jobs(who).offsets(job_id, run_count)


@router.get("/jobs/{job_id}/offsets/entities", response_model=dict[str, list[str]])
def offset_entities(job_id: JobId, who: Reader, state: State) -> dict[str, list[str]]:
    """The entities (``<source>/<split>``) the job's offsets may name now."""
    return {"entities": state.jobs(who).offset_entities(job_id)}


@router.post("/jobs/{job_id}/offsets/reset", response_model=JobOut)
def reset_offsets(job_id: JobId, who: Writer, state: State) -> JobOut:
    """Make the next run start every source from its beginning."""
    return JobOut.model_validate(state.jobs(who).reset_offsets(job_id))


@router.put("/jobs/{job_id}/offsets", response_model=JobOut)
def upload_offsets(job_id: JobId, body: OffsetsIn, who: Writer, state: State) -> JobOut:
    """Make the next run start from these offsets (422 naming an unknown entity)."""
    return JobOut.model_validate(state.jobs(who).upload_offsets(job_id, body.model_dump()))
