"""Control-plane records: projects, pipeline commits, and the runs of a job."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from headrace.model.status import Status

#: The project every tenant has, where everything lands unless told otherwise.
DEFAULT_PROJECT = "default"


@dataclass(frozen=True, slots=True)
class Project:
    """A tenant's project (watsonx ``Project``): its jobs and pipelines live in it."""

    name: str
    description: str
    user_id: str | None
    created_at_ms: int


@dataclass(frozen=True, slots=True)
class PipelineInfo:
    """A published pipeline: its name, project, latest version and labels."""

    name: str
    project: str
    latest_version: int
    created_at_ms: int
    labels: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PipelineCommit:
    """One version of a published pipeline: who, when, why, and its DAG summary.

    ``dag`` is ``{"vertices": [{"name", "kind"}], "edges": [[from, to]]}``; ``labels``
    are the labels pointing at this commit.
    """

    pipeline_name: str
    version: int
    message: str
    user_id: str
    created_at_ms: int
    dag: dict[str, Any]
    labels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PipelineDiff:
    """What changed between two commits: stage names added, removed, changed."""

    pipeline_name: str
    from_version: int
    to_version: int
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]
    edges_added: tuple[tuple[str, str], ...] = ()
    edges_removed: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Run:
    """One run of a job (StreamSets' ``JobStatus`` in ``history``, watsonx ``JobRun``)."""

    job_id: str
    run_count: int
    status: Status
    name: str | None
    description: str | None
    parameters: dict[str, Any]
    user_id: str | None
    started_at_ms: int
    updated_at_ms: int
    finished_at_ms: int | None
    error: str | None
    metrics: dict[str, Any] | None
    result: Any = None
