"""``client.pipelines`` over HTTP: submit, run, restart, snapshots and metrics of pipeline jobs."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

from headrace import errors
from headrace.client.remote_control import RemotePipelineCommits
from headrace.client.remote_shapes import encode, job_from, metrics_from
from headrace.client.transport import Http, seg
from headrace.engine.metrics import PipelineMetrics
from headrace.model.job import Job, SnapshotInfo
from headrace.model.jobconfig import JobConfig
from headrace.model.status import Status
from headrace.pipeline import Pipeline

if TYPE_CHECKING:
    from headrace.client.remote import RemoteJobs


class RemotePipelines(RemotePipelineCommits):
    """``client.pipelines`` over HTTP: the ``PipelineService`` interface."""

    def __init__(self, http: Http, jobs: RemoteJobs) -> None:
        self._http = http
        self._jobs = jobs

    def run(
        self, pipeline: Pipeline, local_parallelism: int = 1, executor: str | None = None
    ) -> PipelineMetrics:
        """Run the pipeline to completion as a job on the server's workers; its metrics.

        ``executor`` is the job's ``JobConfig.executor`` (``"processes"`` or ``"ray"``).

        Raises:
            PipelineDefinitionError: the pipeline cannot run as defined.
            JobFailed: the job did not complete (``cause`` names the stage and the item).
        """
        config = JobConfig(executor=executor) if executor is not None else None
        job = self.submit(pipeline, config, local_parallelism=local_parallelism)
        done = self._jobs.wait(job.job_id, suspended_ends=False)
        if done.status is not Status.COMPLETED:
            raise errors.JobFailed(done.job_id, str(done.status), done.error)
        return metrics_from(done.result if isinstance(done.result, dict) else {})

    def submit(
        self,
        pipeline: Pipeline,
        config: JobConfig | None = None,
        *,
        local_parallelism: int | None = None,
        name: str | None = None,
        idempotency_key: str | None = None,
    ) -> Job:
        """Submit the pipeline as a job of type ``headrace.pipeline``.

        Raises:
            PipelineDefinitionError: refused before scheduling if it cannot run.
            JobAlreadyExists: an active job of the tenant has the config's name.
            InvalidInput: the config's initial snapshot does not exist, or the pipeline
                cannot be pickled here or unpickled on the server.
        """
        if config is not None and not isinstance(config, JobConfig):
            raise errors.InvalidInput(
                "config", f"expected a JobConfig, got {type(config).__name__}"
            )
        body: dict[str, Any] = {"pipeline": encode(pipeline)}
        if config is not None:
            body["config"] = config.to_dict()
        options = {
            "local_parallelism": local_parallelism,
            "name": name,
            "idempotency_key": idempotency_key,
        }
        body.update({k: v for k, v in options.items() if v is not None})
        return job_from(self._http.created("/pipeline-jobs", body)[0])

    def new_job_if_absent(self, pipeline: Pipeline, config: JobConfig) -> Job:
        """The active job named as the config says, or a new one; one even under races.

        Raises:
            InvalidInput: the config has no name.
        """
        if not isinstance(config, JobConfig) or not config.name:
            raise errors.InvalidInput(
                "config.name", "new_job_if_absent needs a JobConfig with a name"
            )
        body = {"pipeline": encode(pipeline), "config": config.to_dict(), "if_absent": True}
        return job_from(self._http.created("/pipeline-jobs", body)[0])

    def get(self, job_id: str) -> Job:
        """A pipeline job of the tenant.

        Raises:
            NotFound: no such pipeline job.
        """
        return job_from(self._http.call("GET", f"/pipeline-jobs/{seg(job_id)}"))

    def find_named(self, name: str) -> Job | None:
        """The active job of this name, else the most recent one, else None."""
        if not isinstance(name, str) or not name:
            return None
        try:
            return job_from(self._http.call("GET", f"/pipeline-jobs/by-name/{seg(name)}"))
        except errors.NotFound:
            return None

    def list(self, name: str | None = None) -> builtins.list[Job]:
        """Every pipeline job, newest first (optionally only those with this name)."""
        query = {} if name is None else {"name": name}
        return [
            job_from(j) for j in self._http.call("GET", "/pipeline-jobs", params=query)["items"]
        ]

    @staticmethod
    def config_of(job: Job) -> JobConfig:
        """The configuration a pipeline job was submitted with."""
        return JobConfig.from_dict((job.params or {}).get("config") or {})

    def restart(self, job_id: str) -> Job:
        """Stop the running execution and run again from the last snapshot.

        Raises:
            IllegalTransition: the job is not running.
        """
        return job_from(self._http.call("POST", f"/pipeline-jobs/{seg(job_id)}/restart"))

    def export_snapshot(self, job_id: str, name: str, timeout: float = 60.0) -> None:
        """Store a named snapshot of the job that outlives it (replacing that name).

        Raises:
            IllegalTransition: the job has ended, or it runs without snapshots.
            TimeoutException: the running job did not take the snapshot in time.
        """
        self._http.call(
            "POST",
            f"/pipeline-jobs/{seg(job_id)}/snapshots",
            json={"name": name, "timeout": timeout},
            timeout=timeout + self._http.timeout,
        )

    def list_snapshots(self) -> builtins.list[SnapshotInfo]:
        """The tenant's exported snapshots, by name (Jet's ``list-snapshots``)."""
        return [SnapshotInfo(**s) for s in self._http.call("GET", "/snapshots")["items"]]

    def delete_snapshot(self, name: str) -> None:
        """Delete an exported snapshot. Raises: NotFound."""
        self._http.send("DELETE", f"/snapshots/{seg(name)}")

    def cancel(self, job_id: str, force: bool = False) -> Job:
        """Cancel; ``force`` ends it at once even if its execution does not stop.

        Raises:
            IllegalTransition: the job has already ended.
        """
        path = f"/pipeline-jobs/{seg(job_id)}/cancel"
        return job_from(self._http.call("POST", path, json={"force": force}))

    def metrics(self, job_id: str) -> dict[str, Any]:
        """The current run's metrics: live while it runs, final once it ended."""
        data: dict[str, Any] = self._http.call("GET", f"/pipeline-jobs/{seg(job_id)}/metrics")
        return data

    def runs(self, job_id: str) -> builtins.list[dict[str, Any]]:
        """Every run of the job with its metrics, kept after it ends."""
        found: builtins.list[dict[str, Any]] = self._http.call(
            "GET", f"/pipeline-jobs/{seg(job_id)}/runs"
        )["items"]
        return found

    def status_reason(self, job_id: str) -> str:
        """Why the job is in its status, in words (above all: why it is not starting)."""
        return str(self._http.call("GET", f"/pipeline-jobs/{seg(job_id)}/status")["reason"])
