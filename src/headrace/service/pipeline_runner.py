"""Running pipelines: in the caller, or as the ``headrace.pipeline`` job type on a worker.

A scheduled pipeline travels as cloudpickle (base64 in the job's JSON params), so
lambdas and closures defined in ``__main__`` run on any worker. On a worker it runs in
worker processes at every parallelism (so a stop can kill a stuck user function), resumes
from its job's last snapshot, commits snapshots fenced on its attempt, and reports live
metrics into the job's state and run record.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Sequence
from typing import Any, Literal

import cloudpickle

from headrace import defaults, engine, errors
from headrace.model.clock import now_ms
from headrace.model.jobconfig import JobConfig, ProcessingGuarantee
from headrace.pipeline import Pipeline, parameters, pickling
from headrace.scheduler.context import JobContext
from headrace.service import encoding, provider_ref
from headrace.service.data import StoreProvider

# The type's registration too: whoever imports the runner can run its jobs.
from headrace.service.pipeline_job import PIPELINE_JOB_TYPE as PIPELINE_JOB_TYPE
from headrace.store.database import Store
from headrace.store.snapshots import Fence, Output, SnapshotRepository
from headrace.store.workers import WorkerRecord, WorkerRepository

#: The engine's name for each guarantee.
GUARANTEES: dict[ProcessingGuarantee, Literal["none", "at_least_once", "exactly_once"]] = {
    ProcessingGuarantee.NONE: "none",
    ProcessingGuarantee.AT_LEAST_ONCE: "at_least_once",
    ProcessingGuarantee.EXACTLY_ONCE: "exactly_once",
}

#: How often a job with auto-scaling looks for workers that joined its queue.
AUTO_SCALING_CHECK_SEC = 2.0


def encode(pipeline: Pipeline) -> str:
    """A pipeline as JSON-safe text.

    Raises:
        InvalidInput: when the pipeline cannot be pickled.
    """
    if not isinstance(pipeline, Pipeline):
        raise errors.InvalidInput("pipeline", f"expected a Pipeline, got {type(pipeline).__name__}")
    try:
        return base64.b64encode(pickling.dumps(pipeline)).decode("ascii")
    except Exception as exc:
        raise errors.InvalidInput("pipeline", f"cannot be pickled: {exc}") from None


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
    executor: str | None = None,
) -> engine.PipelineMetrics:
    """Run a pipeline to its end against the tenant's data structures.

    ``executor`` is a ``JobConfig.executor`` (``"processes"`` or ``"ray"``); by default
    a run at parallelism 1 stays in this thread.

    Raises:
        PipelineDefinitionError: the pipeline cannot run as defined.
        InvalidInput: ``local_parallelism`` is not a positive int, or ``executor`` is
            unknown (or ``"ray"`` without Ray installed).
        UserFunctionError: a stage's function raised (names the stage and the item).
    """
    if not isinstance(local_parallelism, int) or local_parallelism < 1:
        msg = f"must be an int >= 1, got {local_parallelism!r}"
        msg_0 = "local_parallelism"
        raise errors.InvalidInput(msg_0, msg)
    chosen = None if executor is None else _executor(JobConfig(executor=executor))
    provider = StoreProvider(store, tenant_id)
    return engine.run(pipeline, provider, local_parallelism, control, executor=chosen)


def warm_engine(workers: int = defaults.WARM_POOL_WORKERS) -> None:
    """Starts the engine's worker processes in the background, ready for the first run.

    Their fork server imports what a store provider unpickles as (``provider_ref``,
    light), so a first run above parallelism 1 pays neither for starting the workers
    nor for their imports, unless it reads or writes the store in them.
    """
    if workers > 0:
        engine.warm(workers, [provider_ref.__name__])


class JobControl:
    """What the engine asks of a running pipeline job (the engine's ``Control``).

    ``check`` raises the job's stop request; ``snapshot_requests`` hands over snapshot
    export names; ``report_metrics`` keeps the live metrics in the job's state and run.
    """

    def __init__(
        self,
        ctx: JobContext,
        snapshots: SnapshotRepository,
        run_count: int,
        auto_scaling: bool = False,
    ) -> None:
        self.ctx = ctx
        self.snapshots = snapshots
        self.run_count = run_count
        self.metrics: dict[str, Any] | None = None
        self.auto_scaling = auto_scaling and ctx.store is not None
        self.started_ms = now_ms()
        self._next_scaling_check = time.monotonic() + AUTO_SCALING_CHECK_SEC

    def check(self) -> None:
        """Raise ``JobStopped`` if the job must stop (or restart to use a new worker)."""
        self.ctx.check()
        if self.auto_scaling and time.monotonic() >= self._next_scaling_check:
            self._next_scaling_check = time.monotonic() + AUTO_SCALING_CHECK_SEC
            joined = self._joined_worker()
            if joined is not None:
                # Restart from the last snapshot; any worker of the queue may take it, or,
                # when balancing would move the job there, only the joined worker may.
                why = f"auto-scaling: worker {joined.worker_id} joined"
                if self._place_on(joined):
                    why += "; the job moves to it"
                raise errors.JobStopped("restart", why)

    def _joined_worker(self) -> WorkerRecord | None:
        assert self.ctx.store is not None
        for worker in WorkerRepository(self.ctx.store).workers():
            if (
                worker.worker_id != self.ctx.worker_id
                and self.ctx.queue in worker.queues
                and worker.started_at_ms > self.started_ms
            ):
                return worker
        return None

    def _place_on(self, joined: WorkerRecord) -> bool:
        """Place the job on ``joined`` if that evens the load, as ``balance`` would.

        The load counts the jobs of this queue each worker holds and those placed on it
        and not yet claimed, so jobs checking one after another move only as many as
        even the two out.
        """
        assert self.ctx.store is not None
        repo = WorkerRepository(self.ctx.store)
        at = now_ms()
        load = repo.queue_load(self.ctx.queue, at)
        mine, theirs = load.get(self.ctx.worker_id, 0), load.get(joined.worker_id, 0)
        if mine - theirs < 2 or theirs >= joined.queues.get(self.ctx.queue, 0):
            return False
        until = at + int(2 * defaults.LEASE_SEC * 1000)
        return repo.reserve(
            self.ctx.job_id, self.ctx.attempt, self.ctx.worker_id, joined.worker_id, until
        )

    def snapshot_requests(self) -> list[str]:
        """Names a snapshot must be exported under now."""
        return self.ctx.snapshot_requests()

    def report_metrics(self, metrics: dict[str, Any]) -> None:
        """Keep the live metrics where ``get_metrics`` reads them."""
        self.metrics = metrics
        self.ctx.state["metrics"] = metrics
        self.ctx.progress(self.ctx.current_progress)
        self.snapshots.record_run(self.ctx.job_id, self.run_count, "running", metrics)


class JobSnapshots:
    """The engine's ``SnapshotStore`` for one attempt: commits fenced on the attempt."""

    def __init__(
        self,
        snapshots: SnapshotRepository,
        fence: Fence,
        run_count: int,
        ctx: JobContext | None = None,
    ) -> None:
        self.snapshots = snapshots
        self.fence = fence
        self.run_count = run_count
        self.ctx = ctx

    def commit(self, state: bytes, writes: Sequence[Any], names: Sequence[str]) -> None:
        """Commit state with the buffered output; a lost lease stops the job instead.

        Raises:
            JobStopped: the attempt lost its lease; nothing was committed.
        """
        outputs = [Output(w.kind, w.name, _encode(w.kind, w.items)) for w in writes]
        try:
            self.snapshots.commit(self.fence, self.run_count, state, outputs, names)
        except errors.Conflict as exc:
            raise errors.JobStopped("lost", str(exc)) from None
        if names and self.ctx is not None:
            self.ctx.exports_committed(list(names))


def _encode(kind: str, items: Sequence[Any]) -> list[Any]:
    if kind == "map":
        return encoding.map_rows(items)
    return encoding.dump_many(items)


def pipeline_job(ctx: JobContext, params: dict[str, Any]) -> dict[str, object]:
    """The ``headrace.pipeline`` job (``pipeline_job.run``): run the pipeline in ``params``.

    On this worker, from its last snapshot if any.
    """
    if ctx.store is None:
        msg = "a pipeline job needs its worker's store"
        raise RuntimeError(msg)
    pipeline = decode(params["pipeline"])
    config = JobConfig.from_dict(params.get("config") or {})
    snapshots = SnapshotRepository(ctx.store, ctx.tenant_id)
    run_count = int(params.get("run_count", 1))
    # A restart, retry or resume continues its run from that run's last snapshot; a new
    # run (``start``) begins afresh.
    restore = snapshots.latest(ctx.job_id, run_count)
    if restore is None and config.initial_snapshot_name:
        found = snapshots.exported(config.initial_snapshot_name)
        if found is None:
            msg = f"no exported snapshot named {config.initial_snapshot_name!r}"
            raise errors.InvalidInput("initial_snapshot_name", msg)
        restore = found[0]
    control = JobControl(ctx, snapshots, run_count, config.auto_scaling)
    options = engine.EngineOptions(
        guarantee=GUARANTEES[config.processing_guarantee],
        snapshot_interval_ms=config.snapshot_interval_ms,
        output_interval_ms=config.output_interval_ms,
        max_accumulated_records=config.max_processor_accumulated_records,
    )
    committer = None
    if config.processing_guarantee is not ProcessingGuarantee.NONE:
        committer = JobSnapshots(
            snapshots, Fence(ctx.job_id, ctx.attempt, ctx.worker_id, ctx.lease_sec), run_count, ctx
        )
    snapshots.record_run(ctx.job_id, run_count, "running", control.metrics)
    try:
        with parameters.bound(params.get("parameters") or {}):
            metrics = engine.run(
                pipeline,
                StoreProvider(ctx.store, ctx.tenant_id),
                config.local_parallelism,
                control,
                # In worker processes at every parallelism: a stop (forced cancel, timeout,
                # lost lease) ends them, even a user function stuck in a C call, which a
                # thread of this worker could not be made to leave.
                executor=_executor(config),
                options=options,
                snapshots=committer,
                restore=restore,
            )
    except errors.JobStopped as stop:
        snapshots.record_run(ctx.job_id, run_count, stop.reason, control.metrics)
        raise
    except engine.UserFunctionError as exc:
        # Keep the user's traceback: across processes it travels as text, not as a cause.
        error = f"{exc}\n{exc.traceback_text}"
        snapshots.record_run(ctx.job_id, run_count, "failed", control.metrics, error, final=True)
        if config.suspend_on_failure:
            raise errors.JobStopped("self-suspend", str(exc)) from None
        raise RuntimeError(error) from None
    except Exception as exc:
        snapshots.record_run(
            ctx.job_id, run_count, "failed", control.metrics, repr(exc), final=True
        )
        if config.suspend_on_failure:
            raise errors.JobStopped("self-suspend", repr(exc)) from None
        raise
    result = metrics.as_dict()
    snapshots.record_run(ctx.job_id, run_count, "completed", result, final=True)
    return result


def _executor(config: JobConfig) -> engine.Executor | str:
    """The engine's executor for ``config``: the process pool, or Ray actors."""
    if config.executor == "ray":
        from headrace.engine.executors.ray import RayExecutor

        return RayExecutor(config.ray_address)
    return "processes"
