"""The StreamSets Control Hub facade (seed 002): ``ControlHub``, its jobs and pipelines.

``sch = ControlHub(client)`` (or ``ControlHub("http://host:port", token=...)``) offers the
SDK's calls over Headrace's control plane; names, shapes and statuses are translated,
everything else is the client's.
"""

from headrace.controlhub.builder import JobBuilder
from headrace.controlhub.hub import ControlHub
from headrace.controlhub.job import Job
from headrace.controlhub.models import (
    DataCollector,
    JobMetrics,
    JobOffset,
    JobRunEvent,
    JobStatus,
    PipelineMetrics,
    Tag,
)
from headrace.controlhub.pipelines import Pipeline, PipelineCommit
from headrace.model.facades import ControlHubColor, ControlHubStatus

__all__ = [
    "ControlHub",
    "ControlHubColor",
    "ControlHubStatus",
    "DataCollector",
    "Job",
    "JobBuilder",
    "JobMetrics",
    "JobOffset",
    "JobRunEvent",
    "JobStatus",
    "Pipeline",
    "PipelineCommit",
    "PipelineMetrics",
    "Tag",
]
