"""The values seed 002 prints: JobStatus, JobRunEvent, JobMetrics, JobOffset, Tag, commits.

Each is a read-only picture of one Headrace record under Control Hub's names, with the
repr the seed shows; times are epoch milliseconds and ids strings, as in the SDK.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from headrace.model.facades import ControlHubColor, ControlHubStatus
from headrace.model.seekable import SeekableList, attributes


@dataclass(frozen=True)
class Tag:
    """A job's tag (``job.tags.get(tag='test')``); ``a/b`` names a hierarchy."""

    tag: str

    @property
    def id(self) -> str:
        """The tag itself: Headrace tags are their names."""
        return self.tag

    def __repr__(self) -> str:
        return f"<Tag (tag={self.tag})>"


def tags(names: list[str]) -> SeekableList[Tag]:
    """A job's tags as the SDK lists them."""
    return SeekableList((Tag(n) for n in names), kind="tag", filters=attributes("tag", "id"))


@dataclass(frozen=True)
class JobOffset:
    """Where one run's sources stood: ``offset`` is ``{"version": 2, "offsets": {...}}``.

    ``sdc_id`` names the worker that ran it (Control Hub's Data Collector), ``pipeline_id``
    the job, as the SDK pairs them.
    """

    sdc_id: str | None
    pipeline_id: str
    offset: dict[str, Any]

    def __repr__(self) -> str:
        return f"<JobOffset (sdc_id={self.sdc_id}, pipeline_id={self.pipeline_id})>"


@dataclass(frozen=True)
class JobRunEvent:
    """One status change of a run: who (``None`` for the system), when, to what."""

    user: str | None
    time: int
    status: ControlHubStatus
    message: str | None = None

    def __repr__(self) -> str:
        return f"<JobRunEvent (user={self.user}, time={self.time}, status={self.status})>"


@dataclass(frozen=True)
class JobStatus:
    """One run of a job (an entry of ``job.history``), or its current one.

    ``status`` and ``color`` are Control Hub's images of the run's canonical status.
    """

    status: ControlHubStatus
    color: ControlHubColor
    start_time: int | None
    finish_time: int | None
    run_count: int
    user: str | None = None
    error_message: str | None = None
    run_history: SeekableList[JobRunEvent] = field(
        default_factory=lambda: run_events([]), compare=False
    )
    #: The run's committed source offsets (``offsets``).
    run_offsets: list[JobOffset] = field(default_factory=list, compare=False)

    @property
    def offsets(self) -> list[JobOffset]:
        """The run's source offsets (``job.current_status.offsets``)."""
        return self.run_offsets

    def __repr__(self) -> str:
        return (
            f"<JobStatus (status={self.status}, start_time={self.start_time}, "
            f"finish_time={self.finish_time}, run_count={self.run_count})>"
        )


def run_events(events: list[JobRunEvent]) -> SeekableList[JobRunEvent]:
    """A run's events as the SDK lists them."""
    return SeekableList(events, kind="run event", filters=attributes("user", "time", "status"))


def history(statuses: list[JobStatus]) -> SeekableList[JobStatus]:
    """A job's runs, newest first."""
    return SeekableList(
        statuses,
        kind="job status",
        filters=attributes("status", "color", "start_time", "finish_time", "run_count", "user"),
    )


@dataclass(frozen=True)
class JobMetrics:
    """One run's record counts, kept after the run ends."""

    run_count: int
    input_count: int
    output_count: int
    total_error_count: int
    stage_metrics: dict[str, Any] = field(default_factory=dict, compare=False)

    def __repr__(self) -> str:
        return (
            f"<JobMetrics (run_count={self.run_count}, input_count={self.input_count}, "
            f"output_count={self.output_count}, total_error_count={self.total_error_count})>"
        )


def metrics(entries: list[JobMetrics]) -> SeekableList[JobMetrics]:
    """A job's metrics per run, newest first."""
    return SeekableList(
        entries,
        kind="job metrics",
        filters=attributes("run_count", "input_count", "output_count", "total_error_count"),
    )


@dataclass(frozen=True)
class PipelineMetrics:
    """The active run's realtime summary (``job.realtime_summary``)."""

    data_batch_count: int
    input_record_count: int
    output_record_count: int
    #: Batches that carried no records (``idle_batch_count``).
    idle_batches: int = 0

    @property
    def idle_batch_count(self) -> int:
        """Batches that carried no records."""
        return self.idle_batches

    def __repr__(self) -> str:
        return (
            f"<PipelineMetrics (data_batch_count={self.data_batch_count}, "
            f"idle_batch_count={self.idle_batches}, "
            f"input_record_count={self.input_record_count}, "
            f"output_record_count={self.output_record_count})>"
        )


@dataclass(frozen=True)
class DataCollector:
    """A worker, as Control Hub names an execution engine."""

    id: str
    url: str | None
    labels: list[str]
    executor_type: str = "COLLECTOR"

    def __repr__(self) -> str:
        return f"<DataCollector (id={self.id}, url={self.url}, labels={self.labels})>"
