# ruff: noqa: D102 - the implementations document each method
"""The control plane's interface, one Protocol per service: both clients must match it.

``_conforms`` is never called; mypy checks that the embedded and the remote client's
services are each assignable to these Protocols, so the two cannot drift apart.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from headrace.model.controlplane import PipelineCommit, PipelineDiff, PipelineInfo, Project, Run
from headrace.model.job import Job, JobEvent, JobLogLine, Page
from headrace.model.jobconfig import JobConfig
from headrace.model.schedules import Firing, Schedule
from headrace.pipeline import Pipeline
from headrace.service.archive_file import Progress

if TYPE_CHECKING:
    from headrace.client import embedded, remote
    from headrace.service.balance import Move
    from headrace.store.workers import WorkerRecord


class Projects(Protocol):
    """``client.projects``."""

    def create(self, name: str, description: str = "") -> Project: ...
    def list(self) -> builtins.list[Project]: ...
    def get(self, name: str) -> Project: ...
    def delete(self, name: str) -> None: ...


class PipelineCommits(Protocol):
    """What ``client.pipelines`` offers for versioned pipelines."""

    def publish(
        self,
        pipeline: Pipeline,
        name: str,
        commit_message: str = "",
        labels: Sequence[str] = (),
        *,
        project: str = ...,
    ) -> PipelineCommit: ...
    def describe(self, name: str) -> PipelineInfo: ...
    def published(self, project: str | None = None) -> builtins.list[PipelineInfo]: ...
    def commits(self, name: str) -> builtins.list[PipelineCommit]: ...
    def commit(
        self, name: str, version: int | None = None, *, label: str | None = None
    ) -> PipelineCommit: ...
    def label(self, name: str, label: str, version: int) -> PipelineCommit: ...
    def labels(self, name: str) -> dict[str, int]: ...
    def diff(self, name: str, a: int, b: int) -> PipelineDiff: ...
    def remove(self, name: str) -> None: ...


class JobDefinitions(Protocol):
    """What ``client.jobs`` offers for jobs as definitions with runs, and offsets."""

    def create(
        self,
        name: str,
        *,
        pipeline: str | None = None,
        version: int | None = None,
        label: str | None = None,
        type: str | None = None,
        params: Any = None,
        description: str = "",
        tags: Sequence[str] = (),
        runtime_parameters: Mapping[str, Any] | None = None,
        parameter_sets: Mapping[str, Mapping[str, Any]] | None = None,
        config: JobConfig | Mapping[str, Any] | None = None,
        queue: str | None = None,
        project: str = ...,
        require_error_ack: bool = False,
    ) -> Job: ...
    def update(self, job_id: str, **changes: Any) -> Job: ...
    def start(
        self,
        job_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        runtime_parameters: Mapping[str, Any] | None = None,
        parameter_set: str | None = None,
    ) -> Job: ...
    def stop(self, job_id: str, force: bool = False) -> Job: ...
    def acknowledge_error(self, job_id: str) -> Job: ...
    def runs(
        self,
        job_id: str,
        *,
        status: str | Sequence[str] | None = None,
        since_ms: int | None = None,
        until_ms: int | None = None,
        page: int = 1,
        limit: int = 50,
    ) -> builtins.list[Run]: ...
    def run(self, job_id: str, run_count: int) -> Run: ...
    def run_events(
        self,
        job_id: str,
        run_count: int,
        *,
        status: str | Sequence[str] | None = None,
        since_ms: int | None = None,
        until_ms: int | None = None,
        page: int = 1,
        limit: int = ...,
    ) -> builtins.list[JobEvent]: ...
    def run_logs(
        self,
        job_id: str,
        run_count: int,
        *,
        level: str | Sequence[str] | None = None,
        since_ms: int | None = None,
        until_ms: int | None = None,
        page: int = 1,
        limit: int = ...,
    ) -> builtins.list[JobLogLine]: ...
    def run_metrics(self, job_id: str, run_count: int) -> dict[str, Any]: ...
    def summary(self, job_id: str) -> dict[str, Any]: ...
    def duplicate(
        self, job_id: str, count: int = 1, *, name: str | None = None
    ) -> builtins.list[Job]: ...
    def upgrade(self, job_ids: str | Sequence[str]) -> builtins.list[Job]: ...
    def offsets(self, job_id: str, run_count: int | None = None) -> dict[str, Any]: ...
    def offset_entities(self, job_id: str) -> builtins.list[str]: ...
    def reset_offsets(self, job_id: str) -> Job: ...
    def upload_offsets(self, job_id: str, offsets: Mapping[str, Any] | str | Path) -> Job: ...


class Archives(Protocol):
    """``client.archives``: jobs exported to one ZIP, and imported from one."""

    def export_jobs(
        self,
        job_ids: str | Sequence[str],
        *,
        offsets: bool = False,
        progress: Progress | None = None,
    ) -> bytes: ...
    def import_jobs(
        self,
        archive: bytes,
        *,
        offsets: str = "keep",
        parameters: str = "keep",
        project: str | None = None,
        progress: Progress | None = None,
    ) -> builtins.list[Job]: ...


class Schedules(Protocol):
    """``client.schedules``: cron schedules of jobs and their firings."""

    def create(
        self,
        job_id: str,
        cron: str,
        *,
        timezone: str = "UTC",
        action: str = "start",
        misfire: str = "ignore",
        description: str = "",
        paused: bool = False,
    ) -> Schedule: ...
    def list(
        self, job_id: str | None = None, *, page: int = 1, limit: int = 50
    ) -> Page[Schedule]: ...
    def get(self, schedule_id: str) -> Schedule: ...
    def pause(self, schedule_id: str) -> Schedule: ...
    def resume(self, schedule_id: str) -> Schedule: ...
    def delete(self, schedule_id: str) -> None: ...
    def firings(self, schedule_id: str, *, page: int = 1, limit: int = 50) -> Page[Firing]: ...


class ControlPlaneJobs(JobDefinitions, Protocol):
    """``client.jobs`` as the control-plane facades use it: definitions, and get/delete/find."""

    def get(self, job_id: str) -> Job: ...
    def delete(self, job_id: str, force: bool = False) -> Job: ...
    def find(
        self,
        *,
        name: str | None = None,
        tag: str | None = None,
        status: str | Sequence[str] | None = None,
        pipeline: str | None = None,
        label: str | None = None,
        project: str | None = None,
    ) -> builtins.list[Job]: ...


class Workers(Protocol):
    """``client.workers``: the live workers, and balancing streaming jobs among them."""

    def list(self) -> builtins.list[WorkerRecord]: ...
    def balance(self, worker_ids: Sequence[str] | None = None) -> builtins.list[Move]: ...


class ControlPlaneClient(Protocol):
    """What the control-plane facades (``controlhub``, ``platform``) need of a client."""

    @property
    def jobs(self) -> ControlPlaneJobs: ...
    @property
    def pipelines(self) -> PipelineCommits: ...
    @property
    def projects(self) -> Projects: ...
    @property
    def workers(self) -> Workers: ...
    @property
    def archives(self) -> Archives: ...


def _conforms(local: embedded.Client, far: remote.Client) -> None:
    """Never called: mypy checks both clients against the Protocols."""
    projects: list[Projects] = [local.projects, far.projects]
    commits: list[PipelineCommits] = [local.pipelines, far.pipelines]
    jobs: list[JobDefinitions] = [local.jobs, far.jobs]
    archives: list[Archives] = [local.archives, far.archives]
    schedules: list[Schedules] = [local.schedules, far.schedules]
    clients: list[ControlPlaneClient] = [local, far]
    del projects, commits, jobs, archives, schedules, clients
