"""A job as Control Hub shows it: its definition, and its runs read live through the client.

The definition (name, commit, tags, runtime parameters …) is a copy taken when the job
was read, which a script may change and hand to ``sch.update_job``; the run data
(``status``, ``history``, ``metrics``, ``realtime_summary`` …) is read from the client at
each access, as the SDK does.
"""

from __future__ import annotations

from typing import Any

from headrace import errors
from headrace.controlhub import backend, models
from headrace.controlhub.pipelines import PipelineCommit
from headrace.model.controlplane import Run
from headrace.model.facades import ControlHubColor, ControlHubStatus, controlhub_status
from headrace.model.job import Job as JobRecord
from headrace.model.seekable import SeekableList, attribute, attributes
from headrace.model.status import Status

#: What a job shows before its first run: Control Hub's new, inactive job.
NEVER_RAN = (ControlHubStatus.INACTIVE, ControlHubColor.GREEN)


def job_status(
    client: backend.ControlPlaneClient, job: JobRecord, run: Run | None
) -> models.JobStatus:
    """One run of ``job`` (or its state before any run) as a ``JobStatus``."""
    if run is None:
        status, colour = NEVER_RAN
        return models.JobStatus(status, colour, None, None, 0, run_offsets=[])
    events = backend.run_events(client, job.job_id, run.run_count)
    # Only the job's current run can wait for its error to be acknowledged.
    waiting_ack = (
        job.require_error_ack and not job.error_acknowledged and run.run_count == job.run_count
    )
    status, colour = controlhub_status(
        run.status,
        unacknowledged=waiting_ack,
        ran=any(e.to_status is Status.RUNNING for e in events),
    )
    shown = [
        models.JobRunEvent(e.user_id, e.at_ms, controlhub_status(e.to_status)[0], e.reason)
        for e in events
    ]
    offsets = backend.run_offsets(client, job.job_id, run.run_count)
    return models.JobStatus(
        status=status,
        color=colour,
        start_time=run.started_at_ms,
        finish_time=run.finished_at_ms,
        run_count=run.run_count,
        user=run.user_id,
        error_message=run.error,
        run_history=models.run_events(shown),
        run_offsets=[models.JobOffset(job.locked_by, job.job_id, offsets)]
        if offsets["offsets"]
        else [],
    )


class Job:
    """A Control Hub job: ``job_id``, ``job_name``, ``commit``, ``tags`` …, and its runs."""

    def __init__(
        self, client: backend.ControlPlaneClient, record: JobRecord | None = None, **definition: Any
    ) -> None:
        self._client = client
        self._record = record
        self.job_id: str | None = None
        self.job_name: str = ""
        self.description: str = ""
        self._commit: PipelineCommit | None = None
        self._pinned: tuple[str | None, int | None] = (None, None)
        self.runtime_parameters: dict[str, Any] = {}
        self.require_job_error_acknowledgement = False
        self.data_collector_labels: list[str] = []
        self._tags: list[str] = []
        if record is not None:
            self._load(record)
        for key, value in definition.items():
            setattr(self, key, value)

    def _load(self, record: JobRecord) -> None:
        self._record = record
        self.job_id = record.job_id
        self.job_name = record.name or ""
        self.description = record.description or ""
        self._commit = None
        self._pinned = (record.pipeline_name, record.pipeline_version)
        self.runtime_parameters = dict(record.runtime_parameters)
        self.require_job_error_acknowledgement = record.require_error_ack
        self.data_collector_labels = [record.queue]
        self._tags = list(record.tags)

    @property
    def commit(self) -> PipelineCommit | None:
        """The pipeline commit the job runs (set it, then ``sch.update_job(job)``)."""
        name, version = self._pinned
        if self._commit is None and name is not None:
            self._commit = PipelineCommit(backend.commit(self._client, name, version))
        return self._commit

    @commit.setter
    def commit(self, value: PipelineCommit | None) -> None:
        self._commit = value
        if value is not None:
            self._pinned = (value.pipeline_name, int(value.version))

    def definition(self) -> dict[str, Any]:
        """What the client stores of this job: its name, commit, tags, parameters."""
        name, version = self._pinned
        if name is None:
            msg = f"job {self.job_name!r} runs no published pipeline"
            raise errors.InvalidInput("commit", msg)
        return {
            "name": self.job_name,
            "pipeline": name,
            "version": version,
            "description": self.description,
            "tags": list(self._tags),
            "runtime_parameters": dict(self.runtime_parameters),
            "require_error_ack": bool(self.require_job_error_acknowledgement),
        }

    # -- the definition -----------------------------------------------------------------

    @property
    def name(self) -> str:
        """The job's name (the SDK's ``job_name``)."""
        return self.job_name

    @property
    def id(self) -> str | None:
        """The job's id (the SDK's ``job_id``)."""
        return self.job_id

    @property
    def tags(self) -> SeekableList[models.Tag]:
        """The job's tags (``job.tags.get(tag='test')``)."""
        return models.tags(self._tags)

    @tags.setter
    def tags(self, value: list[str]) -> None:
        self._tags = [getattr(t, "tag", t) for t in value]

    @property
    def pipeline_name(self) -> str | None:
        """The name of the pipeline the job runs."""
        return self._pinned[0]

    @property
    def pipeline_commit_label(self) -> list[str]:
        """The labels on the job's pipeline commit."""
        return [] if self.commit is None else list(self.commit.labels)

    @property
    def pipeline_commit_id(self) -> str | None:
        """The id of the job's pipeline commit."""
        return None if self.commit is None else self.commit.commit_id

    @property
    def executor_type(self) -> str:
        """What runs the job: Headrace's workers, Control Hub's Data Collectors."""
        return "COLLECTOR"

    # -- the runs, read live ------------------------------------------------------------

    def _job(self) -> JobRecord:
        return backend.get_job(self._client, self._require_id())

    def _require_id(self) -> str:
        if self.job_id is None:
            return backend.not_added(self.job_name)
        return self.job_id

    @property
    def status(self) -> models.JobStatus:
        """The current (or last) run's status; INACTIVE before the first run."""
        job = self._job()
        return job_status(self._client, job, backend.latest_run(self._client, job))

    @property
    def current_status(self) -> models.JobStatus:
        """The current (or last) run, with its offsets (``job.current_status.offsets``)."""
        return self.status

    @property
    def history(self) -> SeekableList[models.JobStatus]:
        """Every run, newest first (``job.history.get(start_time=…)``)."""
        job = self._job()
        runs = backend.runs(self._client, job.job_id)
        return models.history([job_status(self._client, job, r) for r in runs])

    @property
    def job_history(self) -> SeekableList[models.JobStatus]:
        """The same as ``history``."""
        return self.history

    @property
    def metrics(self) -> SeekableList[models.JobMetrics]:
        """Each run's record counts, newest first (``job.metrics.get(run_count=2)``)."""
        job_id = self._require_id()
        return models.metrics(
            [
                backend.run_metrics(self._client, job_id, r.run_count)
                for r in backend.runs(self._client, job_id)
            ]
        )

    @property
    def realtime_summary(self) -> models.PipelineMetrics:
        """The active run's counts as they are now (zeros when no run is active)."""
        return backend.realtime_summary(self._client, self._require_id())

    def __repr__(self) -> str:
        return f"<Job (job_id={self.job_id}, job_name={self.job_name})>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Job) and other.job_id == self.job_id is not None

    def __hash__(self) -> int:
        return hash(self.job_id)


def jobs(items: list[Job]) -> SeekableList[Job]:
    """Jobs as ``sch.jobs`` lists them, with the SDK's filters."""
    filters = {
        **attributes("job_name", "name", "job_id", "id", "description", "pipeline_name"),
        "executor_type": attribute("executor_type"),
        "job_status": lambda j, wanted: j.status.status == wanted,
        "status": lambda j, wanted: j.status.status == wanted,
        "job_tag": lambda j, wanted: wanted in j._tags,
        "pipeline_commit_label": lambda j, wanted: wanted in j.pipeline_commit_label,
    }
    return SeekableList(items, kind="job", filters=filters)
