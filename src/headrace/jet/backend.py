"""What the Jet facade needs of a client: its ``pipelines`` and ``jobs``, embedded or remote.

The embedded client's ``PipelineService`` and ``JobService`` and the remote client's
HTTP twins both fit these Protocols, so ``client.get_jet()`` is the same ``JetService``
on either client.
"""

from __future__ import annotations

import builtins
from typing import Any, Protocol

from headrace.model.job import Job
from headrace.model.jobconfig import JobConfig
from headrace.pipeline import Pipeline


class Pipelines(Protocol):
    """``client.pipelines``: pipeline jobs of the client's tenant."""

    def submit(self, pipeline: Pipeline, config: JobConfig | None = None) -> Job:
        """Submit a pipeline as a job."""
        ...

    def new_job_if_absent(self, pipeline: Pipeline, config: JobConfig) -> Job:
        """The active job of the config's name, else a new one."""
        ...

    def get(self, job_id: str) -> Job:
        """A pipeline job."""
        ...

    def find_named(self, name: str) -> Job | None:
        """The active job of this name, else the most recent one, else None."""
        ...

    def list(self, name: str | None = None) -> builtins.list[Job]:
        """Every pipeline job, newest first."""
        ...

    def status_reason(self, job_id: str) -> str:
        """Why the job is in its status."""
        ...

    def cancel(self, job_id: str, force: bool = False) -> Job:
        """Cancel the job."""
        ...

    def restart(self, job_id: str) -> Job:
        """Restart the job from its last snapshot."""
        ...

    def export_snapshot(self, job_id: str, name: str, timeout: float = 60.0) -> None:
        """Export a named snapshot of the job."""
        ...

    def metrics(self, job_id: str) -> dict[str, Any]:
        """The current run's metrics."""
        ...

    def config_of(self, job: Job) -> JobConfig:
        """The configuration a pipeline job was submitted with."""
        ...


class Jobs(Protocol):
    """``client.jobs``: the lifecycle calls Jet's ``Job`` makes on any job."""

    def wait(
        self, job_id: str, timeout: float | None = None, *, suspended_ends: bool = True
    ) -> Job:
        """Block until the job ends."""
        ...

    def suspend(self, job_id: str, reason: str = ...) -> Job:
        """Suspend the job."""
        ...

    def resume(self, job_id: str, reason: str = ...) -> Job:
        """Resume the suspended job."""
        ...

    def start(self, job_id: str) -> Job:
        """Start a new run of an ended job (``restart()`` of a canceled job)."""
        ...


class JetClient(Protocol):
    """A client the Jet facade can work through (``headrace.Client``, local or remote)."""

    @property
    def pipelines(self) -> Pipelines:
        """The client's pipeline jobs."""
        ...

    @property
    def jobs(self) -> Jobs:
        """The client's jobs."""
        ...
