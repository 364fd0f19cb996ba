"""watsonx's ``Job`` (a reusable definition) and ``JobRun`` (one execution of it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from headrace import errors
from headrace.model.controlplane import Run
from headrace.model.facades import JobRunState, platform_state
from headrace.model.job import Job as JobRecord
from headrace.model.seekable import SeekableList, attributes
from headrace.platform import backend
from headrace.platform.response import Response


def run_state(run: Run) -> JobRunState:
    """A run's watsonx state: its canonical status through the one table."""
    return platform_state(run.status, error_count=backend.error_count(run))


class JobRun:
    """One run of a job: a picture taken when read; ``refresh_status()`` reads it again."""

    def __init__(self, client: backend.ControlPlaneClient, run: Run) -> None:
        self._client = client
        self._load(run)

    def _load(self, run: Run) -> None:
        self._run = run
        self.job_id = run.job_id
        self.run_id = f"{run.job_id}:{run.run_count}"
        self.run_count = run.run_count
        self.name = run.name or f"run {run.run_count}"
        self.description = run.description or ""
        self.state = run_state(run)
        self.job_parameters: dict[str, Any] = dict(run.parameters)
        self.created_at = run.started_at_ms
        self.started_at = run.started_at_ms
        self.finished_at = run.finished_at_ms
        self.error = run.error

    def refresh_status(self) -> JobRun:
        """Read the run again; returns it, with ``state`` as it is now."""
        self._load(backend.get_run(self._client, self.job_id, self.run_count))
        return self

    def cancel(self) -> Response:
        """Cancel the run; ``<Response [204]>``.

        Raises:
            IllegalTransition: the run has already ended.
        """
        run = backend.cancel_run(self._client, self.job_id, self.run_count)
        self._load(run)
        return Response(204, backend.run_json(run))

    @property
    def logs(self) -> list[str]:
        """The run's log lines, oldest first, each one string."""
        return backend.run_logs(self._client, self.job_id, self.run_count)

    def __repr__(self) -> str:
        return (
            f"JobRun(name={self.name!r}, run_id={self.run_id!r}, job_id={self.job_id!r}, "
            f"state={self.state.value!r})"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JobRun) and other.run_id == self.run_id

    def __hash__(self) -> int:
        return hash(self.run_id)


def _states(wanted: Any) -> set[JobRunState]:
    values = [wanted] if isinstance(wanted, str) else list(wanted)
    try:
        return {JobRunState(v) for v in values}
    except ValueError:
        known = ", ".join(JobRunState)
        msg = f"{wanted!r} names a state that does not exist; states are {known}"
        raise errors.InvalidInput("states", msg) from None


def job_runs(items: list[JobRun]) -> SeekableList[JobRun]:
    """A job's runs, newest first; ``get_all(states=[JobRunState.Queued])``."""
    filters = {
        **attributes("name", "run_id", "job_id", "run_count", "state"),
        "states": lambda r, states: r.state in _states(states),
    }
    return SeekableList(items, kind="job run", filters=filters)


@dataclass
class JobMetadata:
    """A job's name and description, which a script may change before ``update_job``."""

    name: str
    description: str = ""
    asset_id: str = ""
    tags: list[str] = field(default_factory=list)


class Job:
    """A job of a project: what to run (a flow) and its default configuration."""

    def __init__(self, client: backend.ControlPlaneClient, record: JobRecord) -> None:
        self._client = client
        self._load(record)

    def _load(self, record: JobRecord) -> None:
        self._record = record
        self.job_id = record.job_id
        self.metadata = JobMetadata(
            name=record.name or "",
            description=record.description or "",
            asset_id=record.job_id,
            tags=list(record.tags),
        )
        self.flow_name = record.pipeline_name
        #: Changes to the job's JobConfig fields, stored by ``project.update_job``.
        self.configuration: dict[str, Any] = {}
        self.job_parameters: dict[str, Any] = dict(record.runtime_parameters)

    @property
    def name(self) -> str:
        """The job's name (``metadata.name``)."""
        return self.metadata.name

    @property
    def description(self) -> str:
        """The job's description (``metadata.description``)."""
        return self.metadata.description

    def start(
        self,
        name: str | None = None,
        description: str | None = None,
        configuration: dict[str, Any] | None = None,
        job_parameters: dict[str, Any] | None = None,
        parameter_sets: list[Any] | None = None,
    ) -> JobRun:
        """Start a run; its parameters override the job's for this run only.

        Raises:
            Conflict: the job has an active run. InvalidInput: a parameter set unknown.
        """
        run = backend.start(
            self._client,
            self.job_id,
            name=name,
            description=description,
            configuration=configuration,
            job_parameters=job_parameters,
            parameter_sets=parameter_sets,
        )
        return JobRun(self._client, run)

    @property
    def job_runs(self) -> SeekableList[JobRun]:
        """Every run of this job, newest first (read now)."""
        return job_runs([JobRun(self._client, r) for r in backend.runs(self._client, self.job_id)])

    def reset_offset(self) -> Response:
        """Make the next run start its sources from the beginning; ``<Response [200]>``."""
        record = backend.reset_offsets(self._client, self.job_id)
        return Response(200, backend.job_json(record))

    def __repr__(self) -> str:
        return (
            f"Job(name={self.metadata.name!r}, job_id={self.job_id!r}, "
            f"description={self.metadata.description!r}, flow={self.flow_name!r})"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Job) and other.job_id == self.job_id

    def __hash__(self) -> int:
        return hash(self.job_id)


def jobs(items: list[Job]) -> SeekableList[Job]:
    """A project's jobs, with the SDK's filters."""
    filters = {
        **attributes("name", "job_id", "description", "flow_name"),
        "asset_id": lambda j, wanted: j.job_id == str(wanted),
        "run_id": lambda j, wanted: any(r.run_id == str(wanted) for r in j.job_runs),
    }
    return SeekableList(items, kind="job", filters=filters)
