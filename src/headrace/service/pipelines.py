"""Pipelines as work: run one in the caller, or schedule it as a job for the workers.

A scheduled pipeline travels as cloudpickle (base64 in the job's JSON params), so
lambdas and closures defined in ``__main__`` run on any worker.
"""

from __future__ import annotations

import base64
from typing import Any

import cloudpickle

from headrace import defaults, engine, errors
from headrace.model.job import Job
from headrace.pipeline import Pipeline
from headrace.scheduler.context import JobContext
from headrace.scheduler.registry import DEFAULT
from headrace.service.data import StoreProvider
from headrace.service.jobs import JobService, Scope
from headrace.store.database import Store

#: The built-in job type that runs a pipeline on a worker.
PIPELINE_JOB_TYPE = "headrace.pipeline"


def encode(pipeline: Pipeline) -> str:
    """A pipeline as JSON-safe text.

    Raises:
        InvalidInput: when the pipeline cannot be pickled.
    """
    if not isinstance(pipeline, Pipeline):
        msg = "pipeline"
        raise errors.InvalidInput(msg, f"expected a Pipeline, got {type(pipeline).__name__}")
    try:
        return base64.b64encode(cloudpickle.dumps(pipeline)).decode("ascii")
    except Exception as exc:
        msg = "pipeline"
        raise errors.InvalidInput(msg, f"cannot be pickled: {exc}") from None


def decode(text: str) -> Pipeline:
    """The pipeline ``encode`` made."""
    pipeline: Pipeline = cloudpickle.loads(base64.b64decode(text))
    return pipeline


def run_pipeline(
    store: Store,
    tenant_id: str,
    pipeline: Pipeline,
    local_parallelism: int = 1,
    control: engine.Control | None = None,
) -> engine.PipelineMetrics:
    """Run a pipeline to its end against the tenant's data structures.

    Raises:
        PipelineDefinitionError: the pipeline cannot run as defined.
        InvalidInput: ``local_parallelism`` is not a positive int.
        UserFunctionError: a stage's function raised (names the stage and the item).
    """
    if not isinstance(local_parallelism, int) or local_parallelism < 1:
        msg = f"must be an int >= 1, got {local_parallelism!r}"
        msg_0 = "local_parallelism"
        raise errors.InvalidInput(msg_0, msg)
    return engine.run(pipeline, StoreProvider(store, tenant_id), local_parallelism, control)


def _pipeline_job(ctx: JobContext, params: dict[str, Any]) -> dict[str, object]:
    """Run the pipeline in ``params`` on this worker; the result is its metrics."""
    if ctx.store is None:
        msg = "a pipeline job needs its worker's store"
        raise RuntimeError(msg)
    pipeline = decode(params["pipeline"])
    try:
        metrics = run_pipeline(
            ctx.store, ctx.tenant_id, pipeline, int(params.get("local_parallelism", 1)), ctx
        )
    except engine.UserFunctionError as exc:
        # Keep the user's traceback: across processes it travels as text, not as a cause.
        msg_0 = f"{exc}\n{exc.traceback_text}"
        raise RuntimeError(msg_0) from None
    return metrics.as_dict()


DEFAULT.decorator(
    PIPELINE_JOB_TYPE,
    group="headrace",
    queue=defaults.DEFAULT_QUEUE,
    description="Runs a pipeline on the dataflow engine",
    timeout_sec=0,
    max_retries=0,
    params={
        "type": "object",
        "properties": {
            "pipeline": {"type": "string"},
            "local_parallelism": {"type": "integer", "minimum": 1},
        },
        "required": ["pipeline"],
    },
)(_pipeline_job)


class PipelineService:
    """One tenant's pipelines: run here, or submit to the workers as a job."""

    def __init__(self, store: Store, jobs: JobService, scope: Scope) -> None:
        self.store = store
        self.jobs = jobs
        self.scope = scope

    def run(
        self, pipeline: Pipeline, local_parallelism: int = 1, control: engine.Control | None = None
    ) -> engine.PipelineMetrics:
        """Run in the caller to completion; returns the metrics (see ``run_pipeline``)."""
        return run_pipeline(self.store, self.scope.tenant_id, pipeline, local_parallelism, control)

    def submit(
        self,
        pipeline: Pipeline,
        *,
        local_parallelism: int = 1,
        name: str | None = None,
        idempotency_key: str | None = None,
    ) -> Job:
        """Schedule the pipeline as a job of type ``headrace.pipeline``.

        Raises:
            PipelineDefinitionError: refused before scheduling if it cannot run.
        """
        pipeline.validate(StoreProvider(self.store, self.scope.tenant_id))
        params = {"pipeline": encode(pipeline), "local_parallelism": local_parallelism}
        return self.jobs.schedule(
            PIPELINE_JOB_TYPE, params, name=name, idempotency_key=idempotency_key
        )
