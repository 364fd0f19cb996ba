"""Pipeline jobs for one tenant: submit, find by name, restart, export snapshots, metrics."""

from __future__ import annotations

import builtins
import math
import time
from typing import Any

from headrace import defaults, engine, errors
from headrace.model import status as machine
from headrace.model.clock import now_ms
from headrace.model.job import Job, SnapshotInfo
from headrace.model.jobconfig import JobConfig, ProcessingGuarantee
from headrace.model.status import Status
from headrace.pipeline import Pipeline
from headrace.service.commits import PipelineCommits
from headrace.service.data import StoreProvider
from headrace.service.jobs import JobService, Scope
from headrace.service.pipeline_runner import PIPELINE_JOB_TYPE, encode, run_pipeline
from headrace.store.database import Store
from headrace.store.jobs import JobRepository
from headrace.store.snapshots import SnapshotRepository

S = Status


def streaming(pipeline: Pipeline) -> bool:
    """Whether the pipeline reads an unbounded source (its job runs until stopped)."""
    return any(node.streaming for node in pipeline.nodes)


class PipelineService(PipelineCommits):
    """One tenant's pipelines: run here, submit as jobs and manage them; publish versions."""

    def __init__(self, store: Store, jobs: JobService, scope: Scope) -> None:
        self.store = store
        self.jobs = jobs
        self.scope = scope
        self.repo = JobRepository(store)
        self.snapshots = SnapshotRepository(store, scope.tenant_id)

    def run(
        self,
        pipeline: Pipeline,
        local_parallelism: int = 1,
        control: engine.Control | None = None,
        executor: str | None = None,
    ) -> engine.PipelineMetrics:
        """Run in the caller to completion; returns the metrics (see ``run_pipeline``)."""
        return run_pipeline(
            self.store, self.scope.tenant_id, pipeline, local_parallelism, control, executor
        )

    # -- submitting ---------------------------------------------------------------------

    def submit(
        self,
        pipeline: Pipeline,
        config: JobConfig | None = None,
        *,
        local_parallelism: int | None = None,
        name: str | None = None,
        idempotency_key: str | None = None,
    ) -> Job:
        """Schedule the pipeline as a job of type ``headrace.pipeline``.

        Raises:
            PipelineDefinitionError: refused before scheduling if it cannot run.
            JobAlreadyExists: an active job of the tenant has the config's name.
            InvalidInput: the config's initial snapshot does not exist.
        """
        return self.submit_ex(
            pipeline,
            config,
            local_parallelism=local_parallelism,
            name=name,
            idempotency_key=idempotency_key,
        )[0]

    def submit_ex(
        self,
        pipeline: Pipeline,
        config: JobConfig | None = None,
        *,
        local_parallelism: int | None = None,
        name: str | None = None,
        idempotency_key: str | None = None,
    ) -> tuple[Job, bool]:
        """``submit``, also telling whether this call created the job (False: same key).

        Raises:
            PipelineDefinitionError: refused before scheduling if it cannot run.
            JobAlreadyExists: an active job of the tenant has the config's name.
            InvalidInput: the config's initial snapshot does not exist.
        """
        config = config if config is not None else JobConfig()
        if not isinstance(config, JobConfig):
            raise errors.InvalidInput(
                "config", f"expected a JobConfig, got {type(config).__name__}"
            )
        if name is not None:
            config.name = name
        if local_parallelism is not None:
            config.local_parallelism = local_parallelism
        pipeline.validate(StoreProvider(self.store, self.scope.tenant_id))
        if (
            config.initial_snapshot_name
            and self.snapshots.exported(config.initial_snapshot_name) is None
        ):
            msg = f"no exported snapshot named {config.initial_snapshot_name!r}"
            raise errors.InvalidInput("initial_snapshot_name", msg)
        params = {
            "pipeline": encode(pipeline),
            "local_parallelism": config.local_parallelism,
            "config": config.to_dict(),
        }
        timeout = None if config.timeout_ms is None else math.ceil(config.timeout_ms / 1000)
        return self.jobs.schedule_ex(
            PIPELINE_JOB_TYPE,
            params,
            name=config.name,
            idempotency_key=idempotency_key,
            timeout_sec=timeout,
            max_retries=config.max_retries,
            retry_delay_sec=0,
            queue=defaults.STREAM_QUEUE if streaming(pipeline) else defaults.PIPELINE_QUEUE,
        )

    def new_job_if_absent(self, pipeline: Pipeline, config: JobConfig) -> Job:
        """The active job named as the config says, or a new one; one even under races.

        Raises:
            InvalidInput: the config has no name.
        """
        if not isinstance(config, JobConfig) or not config.name:
            raise errors.InvalidInput(
                "config.name", "new_job_if_absent needs a JobConfig with a name"
            )
        for _ in range(3):
            found = self.repo.find_named(self.scope.tenant_id, config.name)
            if found is not None and found.status not in machine.NAME_FREE:
                return found
            try:
                return self.submit(pipeline, config)
            except errors.JobAlreadyExists:
                continue  # another caller won the race: return its job
        msg = f"job name {config.name!r} keeps changing hands"
        raise errors.JobAlreadyExists(msg)

    # -- finding ------------------------------------------------------------------------

    def get(self, job_id: str) -> Job:
        """A pipeline job of the tenant.

        Raises:
            NotFound: no such pipeline job.
        """
        job = self.jobs.get(job_id)
        if job.type != PIPELINE_JOB_TYPE:
            raise errors.NotFound("pipeline job", job_id)
        return job

    def find_named(self, name: str) -> Job | None:
        """The active job of this name, else the most recent one, else None."""
        job = self.repo.find_named(self.scope.tenant_id, name)
        return job if job is not None and job.type == PIPELINE_JOB_TYPE else None

    def list(self, name: str | None = None) -> builtins.list[Job]:
        """Every pipeline job, newest first (optionally only those with this name)."""
        found: builtins.list[Job] = []
        page = 1
        while True:
            chunk = self.jobs.list(page=page, limit=defaults.MAX_PAGE_LIMIT, type=PIPELINE_JOB_TYPE)
            found += [j for j in chunk.items if name is None or j.name == name]
            if page * chunk.limit >= chunk.total:
                return found
            page += 1

    @staticmethod
    def config_of(job: Job) -> JobConfig:
        """The configuration a pipeline job was submitted with."""
        return JobConfig.from_dict((job.params or {}).get("config") or {})

    # -- control ------------------------------------------------------------------------

    def restart(self, job_id: str) -> Job:
        """Stop the running execution and run again from the last snapshot.

        Raises:
            IllegalTransition: the job is not running.
        """

        def request(job: Job, control: dict[str, Any]) -> dict[str, Any]:
            if job.status not in (S.RUNNING, S.LOCKED):
                raise errors.IllegalTransition(
                    job.job_id, job.status, "restart", "only a running job restarts"
                )
            return {**control, "restart": True}

        self.get(job_id)
        return self.repo.set_control(self.scope.tenant_id, job_id, request)

    def export_snapshot(self, job_id: str, name: str, timeout: float = 60.0) -> None:
        """Store a named snapshot of the job that outlives it (replacing that name).

        A running job takes a snapshot now; a suspended one exports its last one.

        Raises:
            IllegalTransition: the job has ended, or it runs without snapshots.
            TimeoutException: the running job did not take the snapshot in time.
        """
        if not isinstance(name, str) or not 0 < len(name) <= 255:
            raise errors.InvalidInput("name", "a snapshot name is 1..255 characters")
        job = self.get(job_id)
        if self.config_of(job).processing_guarantee is ProcessingGuarantee.NONE:
            raise errors.IllegalTransition(
                job_id,
                job.status,
                "exporting",
                "its processing guarantee is NONE: it takes no snapshots",
            )
        if job.status is S.SUSPENDED or job.status in machine.FINAL:
            if job.status in machine.FINAL:
                raise errors.IllegalTransition(job_id, job.status, "exporting", "the job has ended")
            if not self.snapshots.export_latest(job_id, name):
                raise errors.IllegalTransition(
                    job_id, job.status, "exporting", "it has no snapshot yet"
                )
            return
        asked = now_ms()

        def request(job: Job, control: dict[str, Any]) -> dict[str, Any]:
            if job.status in machine.FINAL:
                raise errors.IllegalTransition(
                    job.job_id, job.status, "exporting", "the job has ended"
                )
            names = [n for n in control.get("export", []) if n != name]
            return {**control, "export": [*names, name]}

        self.repo.set_control(self.scope.tenant_id, job_id, request)
        deadline = time.monotonic() + timeout
        while True:
            found = self.snapshots.exported(name)
            if found is not None and found[1] >= asked:
                return
            current = self.jobs.get(job_id)
            if current.status in machine.FINAL:
                raise errors.IllegalTransition(
                    job_id, current.status, "exporting", "the job ended first"
                )
            if time.monotonic() > deadline:
                msg = f"job {job_id} did not export snapshot {name!r} within {timeout} s"
                raise errors.TimeoutException(msg)
            time.sleep(0.05)

    def list_snapshots(self) -> builtins.list[SnapshotInfo]:
        """The tenant's exported snapshots, by name (Jet's ``list-snapshots``)."""
        return self.snapshots.list_exported()

    def delete_snapshot(self, name: str) -> None:
        """Delete an exported snapshot (Jet's ``delete-snapshot``).

        Raises:
            NotFound: the tenant has no exported snapshot of that name.
        """
        if not self.snapshots.delete_exported(name):
            raise errors.NotFound("snapshot", name)

    def cancel(self, job_id: str, force: bool = False) -> Job:
        """Cancel; ``force`` ends it at once even if its execution does not stop.

        Raises:
            IllegalTransition: the job has already ended.
        """
        job = self.jobs.cancel(job_id)
        if force and job.status is S.CANCELING:
            # Walks canceling -> canceled now: the worker's writes for the attempt are
            # refused from here on, and its control poll stops the execution.
            job = self.repo.change(
                self.scope.tenant_id,
                job_id,
                lambda j: [S.CANCELED] if j.status is S.CANCELING else [],
                user_id=self.scope.user_id,
                reason="canceled by user (forced)",
            )
        return job

    # -- observing ----------------------------------------------------------------------

    def metrics(self, job_id: str) -> dict[str, Any]:
        """The current run's metrics: live while it runs, final once it ended."""
        job = self.get(job_id)
        if isinstance(job.result, dict) and "received_count" in job.result:
            return job.result
        live = job.state.get("metrics") if isinstance(job.state, dict) else None
        if live:
            return dict(live)
        runs = self.snapshots.runs(job_id)
        if runs and runs[-1]["metrics"]:
            return dict(runs[-1]["metrics"])
        return {
            "received_count": 0,
            "emitted_count": 0,
            "total_processing_time_ms": 0.0,
            "stages": {},
        }

    def runs(self, job_id: str) -> builtins.list[dict[str, Any]]:
        """Every run of the job with its metrics, kept after it ends."""
        self.get(job_id)
        return self.snapshots.runs(job_id)

    def status_reason(self, job_id: str) -> str:
        """Why the job is in its status, in words (above all: why it is not starting)."""
        return self.jobs.status_reason(job_id)
