"""Pipeline jobs (Jet jobs) over HTTP: submit a pickled pipeline, find, observe and control it.

A pipeline job is also a job: ``/jobs/{job_id}`` reads it, ``/jobs/{job_id}/suspend`` and
``/resume`` control it, and ``/jobs/{job_id}/wait`` is the long-poll Jet's ``join`` uses.
The routes here add what only pipeline jobs have.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

import cloudpickle
from fastapi import APIRouter, Body, Query, Response

from headrace import errors
from headrace.api import problems
from headrace.api.auth import Reader, State, Writer
from headrace.api.paths import JobId, Name
from headrace.api.schemas import (
    Items,
    JobOut,
    PipelineCancelIn,
    PipelineIn,
    PipelineMetricsOut,
    PipelineStatusOut,
    RunOut,
    SnapshotIn,
    SnapshotInfoOut,
    SnapshotOut,
)
from headrace.model.facades import JET
from headrace.model.jobconfig import JobConfig
from headrace.pipeline import Pipeline

router = APIRouter(
    tags=["pipelines"], responses=problems.responses(401, 403, 404, 409, 413, 422, 503)
)


def decode(text: str) -> Pipeline:
    """The pipeline a ``PipelineIn.pipeline`` carries.

    Raises:
        InvalidInput: naming ``pipeline`` when it is not base64, does not unpickle here
            (say, a function's module the server cannot import), or is not a Pipeline.
    """
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise errors.InvalidInput("pipeline", f"is not base64: {exc}") from None
    try:
        pipeline = cloudpickle.loads(raw)
    except Exception as exc:  # unpickling can raise anything; all of it is bad input
        msg = f"cannot be unpickled on the server: {type(exc).__name__}: {exc}"
        raise errors.InvalidInput("pipeline", msg) from None
    if not isinstance(pipeline, Pipeline):
        msg = f"expected a pickled Pipeline, got {type(pipeline).__name__}"
        raise errors.InvalidInput("pipeline", msg)
    return pipeline


def job_config(data: dict[str, Any] | None) -> JobConfig:
    """A JobConfig from its JSON fields (either seed spelling).

    Raises:
        InvalidInput: naming ``config.<field>``.
    """
    try:
        return JobConfig(**(data or {}))
    except errors.InvalidInput as exc:
        message = str(exc).removeprefix(f"{exc.field}: ")
        field = f"config.{exc.field}"
        raise errors.InvalidInput(field, message) from None


@router.post(
    "/pipeline-jobs",
    status_code=201,
    response_model=JobOut,
    responses={200: {"model": JobOut, "description": "The existing job (if_absent, same key)"}},
)
def submit(body: PipelineIn, who: Writer, state: State, response: Response) -> JobOut:
    """Submit a pipeline as a job (201); ``if_absent`` or a repeated key may answer 200.

    With ``if_absent`` the config must name the job: the tenant's active job of that
    name is answered (200) instead of a new one, as Jet's ``new_job_if_absent``.
    """
    pipeline = decode(body.pipeline)
    config = job_config(body.config)
    service = state.pipelines(who)
    if body.if_absent:
        if body.idempotency_key is not None:
            raise errors.InvalidInput("idempotency_key", "if_absent finds the job by its name")
        if body.name is not None:
            config.name = body.name
        if body.local_parallelism is not None:
            config.local_parallelism = body.local_parallelism
        before = service.find_named(config.name) if config.name else None
        job = service.new_job_if_absent(pipeline, config)
        created = before is None or before.job_id != job.job_id
    else:
        job, created = service.submit_ex(
            pipeline,
            config,
            local_parallelism=body.local_parallelism,
            name=body.name,
            idempotency_key=body.idempotency_key,
        )
    if not created:
        response.status_code = 200
    return JobOut.model_validate(job)


@router.get("/pipeline-jobs", response_model=Items[JobOut])
def list_pipelines(
    who: Reader,
    state: State,
    name: Annotated[
        str | None, Query(min_length=1, max_length=255, description="Only jobs of this name")
    ] = None,
) -> Items[JobOut]:
    """Every pipeline job of the tenant, newest first."""
    found = state.pipelines(who).list(name)
    return Items[JobOut](items=[JobOut.model_validate(j) for j in found], total=len(found))


@router.get("/pipeline-jobs/by-name/{name}", response_model=JobOut)
def find_named(name: Name, who: Reader, state: State) -> JobOut:
    """The active pipeline job of this name, else the most recent one."""
    found = state.pipelines(who).find_named(name)
    if found is None:
        raise errors.NotFound("pipeline job named", name)
    return JobOut.model_validate(found)


@router.get("/pipeline-jobs/{job_id}", response_model=JobOut)
def get_pipeline(job_id: JobId, who: Reader, state: State) -> JobOut:
    """One pipeline job of the tenant."""
    return JobOut.model_validate(state.pipelines(who).get(job_id))


@router.get("/pipeline-jobs/{job_id}/status", response_model=PipelineStatusOut)
def status(job_id: JobId, who: Reader, state: State) -> PipelineStatusOut:
    """The job's status and, in words, why it is in it (above all: why it is not starting)."""
    service = state.pipelines(who)
    job = service.get(job_id)
    return PipelineStatusOut(
        job_id=job.job_id,
        status=job.status,
        jet_status=str(JET[job.status]),
        reason=service.status_reason(job_id),
    )


@router.get("/pipeline-jobs/{job_id}/metrics", response_model=PipelineMetricsOut)
def metrics(job_id: JobId, who: Reader, state: State) -> PipelineMetricsOut:
    """The current run's metrics: live while it runs, final once it ended."""
    return PipelineMetricsOut.model_validate(state.pipelines(who).metrics(job_id))


@router.get("/pipeline-jobs/{job_id}/runs", response_model=Items[RunOut])
def runs(job_id: JobId, who: Reader, state: State) -> Items[RunOut]:
    """Every run of the job with its metrics, oldest first; kept after the job ends."""
    found = state.pipelines(who).runs(job_id)
    return Items[RunOut](items=[RunOut.model_validate(r) for r in found], total=len(found))


@router.post("/pipeline-jobs/{job_id}/cancel", response_model=JobOut)
def cancel(
    job_id: JobId,
    who: Writer,
    state: State,
    body: Annotated[PipelineCancelIn | None, Body()] = None,
) -> JobOut:
    """Cancel; ``{"force": true}`` ends the job at once even if its execution does not stop."""
    service = state.pipelines(who)
    service.get(job_id)  # only pipeline jobs here
    force = body is not None and body.force
    return JobOut.model_validate(service.cancel(job_id, force=force))


@router.post("/pipeline-jobs/{job_id}/restart", response_model=JobOut)
def restart(job_id: JobId, who: Writer, state: State) -> JobOut:
    """Stop the running execution and run again from the last snapshot."""
    return JobOut.model_validate(state.pipelines(who).restart(job_id))


@router.post("/pipeline-jobs/{job_id}/snapshots", response_model=SnapshotOut)
def export_snapshot(job_id: JobId, body: SnapshotIn, who: Writer, state: State) -> SnapshotOut:
    """Export a named snapshot that outlives the job (replacing that name).

    A running job takes it now (the request waits up to ``timeout`` s for it: 504 after);
    a suspended job exports its last one.
    """
    state.pipelines(who).export_snapshot(job_id, body.name, timeout=body.timeout)
    return SnapshotOut(job_id=job_id, name=body.name)


@router.get("/snapshots", response_model=Items[SnapshotInfoOut])
def list_snapshots(who: Reader, state: State) -> Items[SnapshotInfoOut]:
    """The tenant's exported snapshots, by name (Jet's ``list-snapshots``)."""
    found = state.pipelines(who).list_snapshots()
    return Items[SnapshotInfoOut](
        items=[SnapshotInfoOut.model_validate(s) for s in found], total=len(found)
    )


@router.delete("/snapshots/{name}", status_code=204)
def delete_snapshot(name: Name, who: Writer, state: State) -> Response:
    """Delete an exported snapshot (Jet's ``delete-snapshot``)."""
    state.pipelines(who).delete_snapshot(name)
    return Response(status_code=204)
