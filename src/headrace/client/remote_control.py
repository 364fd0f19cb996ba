"""The control plane over HTTP: projects, versioned pipelines, jobs with runs.

``client.projects``, and what ``client.pipelines`` and ``client.jobs`` add (mixed into the
remote services). Same methods and errors as the embedded services; REST calls only.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from headrace import defaults, errors
from headrace.client.remote_shapes import encode, event_from, job_from
from headrace.client.transport import Http, seg
from headrace.model.controlplane import (
    DEFAULT_PROJECT,
    PipelineCommit,
    PipelineDiff,
    PipelineInfo,
    Project,
    Run,
)
from headrace.model.job import Job, JobEvent, JobLogLine
from headrace.model.jobconfig import JobConfig
from headrace.model.status import Status
from headrace.pipeline import Pipeline


def project_from(data: dict[str, Any]) -> Project:
    """A ``Project`` from its JSON."""
    return Project(data["name"], data["description"], data["user_id"], data["created_at_ms"])


def info_from(data: dict[str, Any]) -> PipelineInfo:
    """A ``PipelineInfo`` from its JSON."""
    return PipelineInfo(
        data["name"],
        data["project"],
        data["latest_version"],
        data["created_at_ms"],
        dict(data.get("labels") or {}),
    )


def commit_from(data: dict[str, Any]) -> PipelineCommit:
    """A ``PipelineCommit`` from its JSON."""
    return PipelineCommit(
        pipeline_name=data["pipeline_name"],
        version=data["version"],
        message=data["message"],
        user_id=data["user_id"],
        created_at_ms=data["created_at_ms"],
        dag=data["dag"],
        labels=tuple(data.get("labels") or ()),
    )


def _window(
    field: str,
    kinds: str | Sequence[str] | None,
    since_ms: int | None,
    until_ms: int | None,
    page: int,
    limit: int,
) -> dict[str, Any]:
    """The query of a filtered, paged read of a run's events or logs."""
    query: dict[str, Any] = {"page": page, "limit": limit}
    if kinds:
        query[field] = kinds if isinstance(kinds, str) else ",".join(kinds)
    if since_ms is not None:
        query["since_ms"] = since_ms
    if until_ms is not None:
        query["until_ms"] = until_ms
    return query


def run_from(data: dict[str, Any]) -> Run:
    """A ``Run`` from its JSON."""
    return Run(**{**data, "status": Status(data["status"])})


class RemoteProjects:
    """``client.projects`` over HTTP."""

    def __init__(self, http: Http) -> None:
        self._http = http

    def create(self, name: str, description: str = "") -> Project:
        """Create a project. Raises: InvalidInput, Conflict."""
        body = {"name": name, "description": description}
        return project_from(self._http.created("/projects", body)[0])

    def list(self) -> builtins.list[Project]:
        """Every project, ``default`` first."""
        return [project_from(p) for p in self._http.call("GET", "/projects")["items"]]

    def get(self, name: str) -> Project:
        """One project. Raises: NotFound."""
        return project_from(self._http.call("GET", f"/projects/{seg(name)}"))

    def delete(self, name: str) -> None:
        """Delete an empty project. Raises: NotFound, Conflict."""
        self._http.send("DELETE", f"/projects/{seg(name)}")


class RemotePipelineCommits:
    """Versioned pipelines over HTTP (mixed into ``client.pipelines``)."""

    _http: Http

    def publish(
        self,
        pipeline: Pipeline,
        name: str,
        commit_message: str = "",
        labels: Sequence[str] = (),
        *,
        project: str = DEFAULT_PROJECT,
    ) -> PipelineCommit:
        """Store the pipeline as the next commit of ``name``.

        Raises:
            InvalidInput: naming the field. NotFound: no such project.
        """
        if not isinstance(name, str) or not name:
            raise errors.InvalidInput("name", f"must be a name of 1..255 characters, got {name!r}")
        body = {
            "pipeline": encode(pipeline),
            "name": name,
            "commit_message": commit_message,
            "labels": [labels] if isinstance(labels, str) else list(labels),
            "project": project,
        }
        return commit_from(self._http.created("/pipelines", body)[0])

    def describe(self, name: str) -> PipelineInfo:
        """The published pipeline. Raises: NotFound."""
        return info_from(self._http.call("GET", f"/pipelines/{seg(name)}"))

    def published(self, project: str | None = None) -> builtins.list[PipelineInfo]:
        """The tenant's published pipelines by name."""
        query = {} if project is None else {"project": project}
        return [info_from(p) for p in self._http.call("GET", "/pipelines", params=query)["items"]]

    def commits(self, name: str) -> builtins.list[PipelineCommit]:
        """The pipeline's commits, newest first. Raises: NotFound."""
        found = self._http.call("GET", f"/pipelines/{seg(name)}/commits")["items"]
        return [commit_from(c) for c in found]

    def commit(
        self, name: str, version: int | None = None, *, label: str | None = None
    ) -> PipelineCommit:
        """One commit by version or label (the latest when neither). Raises: NotFound."""
        if label is not None:
            path = f"/pipelines/{seg(name)}/labels/{seg(label)}"
            return commit_from(self._http.call("GET", path))
        if version is None:
            version = self.describe(name).latest_version
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise errors.InvalidInput("version", f"must be a commit version >= 1, got {version!r}")
        return commit_from(self._http.call("GET", f"/pipelines/{seg(name)}/commits/{version}"))

    def label(self, name: str, label: str, version: int) -> PipelineCommit:
        """Point ``label`` at ``version``. Raises: InvalidInput, NotFound."""
        path = f"/pipelines/{seg(name)}/labels/{seg(label)}"
        return commit_from(self._http.call("PUT", path, json={"version": version}))

    def labels(self, name: str) -> dict[str, int]:
        """The pipeline's labels. Raises: NotFound."""
        found: dict[str, int] = self._http.call("GET", f"/pipelines/{seg(name)}/labels")
        return found

    def diff(self, name: str, a: int, b: int) -> PipelineDiff:
        """Stages added, removed and changed from ``a`` to ``b``. Raises: NotFound."""
        data = self._http.call("GET", f"/pipelines/{seg(name)}/diff", params={"a": a, "b": b})
        return PipelineDiff(
            pipeline_name=data["pipeline_name"],
            from_version=data["from_version"],
            to_version=data["to_version"],
            added=tuple(data["added"]),
            removed=tuple(data["removed"]),
            changed=tuple(data["changed"]),
            edges_added=tuple((str(x), str(y)) for x, y in data["edges_added"]),
            edges_removed=tuple((str(x), str(y)) for x, y in data["edges_removed"]),
        )

    def remove(self, name: str) -> None:
        """Delete a published pipeline. Raises: NotFound, Conflict."""
        self._http.send("DELETE", f"/pipelines/{seg(name)}")


class RemoteJobDefinitions:
    """Jobs as definitions with runs over HTTP (mixed into ``client.jobs``)."""

    _http: Http

    @staticmethod
    def _job(data: dict[str, Any]) -> Job:
        return job_from(data)

    def _jobs(self, data: dict[str, Any]) -> builtins.list[Job]:
        return [self._job(j) for j in data["items"]]

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
        project: str = DEFAULT_PROJECT,
        require_error_ack: bool = False,
    ) -> Job:
        """Define a job without starting it (see the embedded ``create``).

        Raises:
            InvalidInput, NotFound, JobAlreadyExists.
        """
        body: dict[str, Any] = {
            "name": name,
            "pipeline": pipeline,
            "version": version,
            "label": label,
            "type": type,
            "params": params,
            "description": description,
            "tags": list(tags) if not isinstance(tags, str) else tags,
            "runtime_parameters": runtime_parameters,
            "parameter_sets": parameter_sets,
            "config": config.to_dict() if isinstance(config, JobConfig) else config,
            "queue": queue,
            "project": project,
            "require_error_ack": require_error_ack,
        }
        if (pipeline is None) == (type is None):
            raise errors.InvalidInput("pipeline", "give either a pipeline or a job type")
        body = {k: v for k, v in body.items() if v is not None or k == "params"}
        if pipeline is not None:
            body.pop("params")
        return self._job(self._http.created("/job-definitions", body)[0])

    def update(self, job_id: str, **changes: Any) -> Job:
        """Change a job's definition. Raises: InvalidInput, NotFound."""
        if isinstance(changes.get("config"), JobConfig):
            changes["config"] = changes["config"].to_dict()
        return self._job(self._http.call("PATCH", f"/jobs/{seg(job_id)}", json=changes))

    def start(
        self,
        job_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        runtime_parameters: Mapping[str, Any] | None = None,
        parameter_set: str | None = None,
    ) -> Job:
        """Start a new run. Raises: NotFound, InvalidInput, IllegalTransition."""
        body = {
            "name": name,
            "description": description,
            "runtime_parameters": runtime_parameters,
            "parameter_set": parameter_set,
        }
        return self._job(self._http.call("POST", f"/jobs/{seg(job_id)}/start", json=body))

    def stop(self, job_id: str, force: bool = False) -> Job:
        """End the current run. Raises: NotFound, IllegalTransition."""
        path = f"/jobs/{seg(job_id)}/stop"
        return self._job(self._http.call("POST", path, json={"force": force}))

    def acknowledge_error(self, job_id: str) -> Job:
        """Acknowledge a failed run. Raises: NotFound."""
        return self._job(self._http.call("POST", f"/jobs/{seg(job_id)}/acknowledge-error"))

    def runs(
        self,
        job_id: str,
        *,
        status: str | Sequence[str] | None = None,
        since_ms: int | None = None,
        until_ms: int | None = None,
        page: int = 1,
        limit: int = 50,
    ) -> builtins.list[Run]:
        """The job's runs, newest first. Raises: NotFound, InvalidInput."""
        query: dict[str, Any] = {"page": page, "limit": limit}
        if status:
            query["status"] = status if isinstance(status, str) else ",".join(status)
        if since_ms is not None:
            query["since_ms"] = since_ms
        if until_ms is not None:
            query["until_ms"] = until_ms
        found = self._http.call("GET", f"/jobs/{seg(job_id)}/runs", params=query)["items"]
        return [run_from(r) for r in found]

    def run(self, job_id: str, run_count: int) -> Run:
        """One run. Raises: NotFound."""
        return run_from(self._http.call("GET", f"/jobs/{seg(job_id)}/runs/{int(run_count)}"))

    def run_events(
        self,
        job_id: str,
        run_count: int,
        *,
        status: str | Sequence[str] | None = None,
        since_ms: int | None = None,
        until_ms: int | None = None,
        page: int = 1,
        limit: int = defaults.MAX_PAGE_LIMIT,
    ) -> builtins.list[JobEvent]:
        """One run's status changes, oldest first, filtered, paged. Raises: NotFound."""
        query = _window("status", status, since_ms, until_ms, page, limit)
        path = f"/jobs/{seg(job_id)}/runs/{int(run_count)}/events"
        return [event_from(e) for e in self._http.call("GET", path, params=query)["items"]]

    def run_logs(
        self,
        job_id: str,
        run_count: int,
        *,
        level: str | Sequence[str] | None = None,
        since_ms: int | None = None,
        until_ms: int | None = None,
        page: int = 1,
        limit: int = defaults.MAX_PAGE_LIMIT,
    ) -> builtins.list[JobLogLine]:
        """One run's log lines, oldest first, filtered, paged. Raises: NotFound."""
        query = _window("level", level, since_ms, until_ms, page, limit)
        path = f"/jobs/{seg(job_id)}/runs/{int(run_count)}/logs"
        return [JobLogLine(**line) for line in self._http.call("GET", path, params=query)["items"]]

    def run_metrics(self, job_id: str, run_count: int) -> dict[str, Any]:
        """One run's metrics. Raises: NotFound."""
        path = f"/jobs/{seg(job_id)}/runs/{int(run_count)}/metrics"
        found: dict[str, Any] = self._http.call("GET", path)
        return found

    def summary(self, job_id: str) -> dict[str, Any]:
        """The realtime summary of the current run. Raises: NotFound."""
        found: dict[str, Any] = self._http.call("GET", f"/jobs/{seg(job_id)}/summary")
        return found

    def duplicate(
        self, job_id: str, count: int = 1, *, name: str | None = None
    ) -> builtins.list[Job]:
        """Copies of the job's definition. Raises: InvalidInput, NotFound."""
        limit = defaults.MAX_COPIES
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= limit:
            raise errors.InvalidInput("count", f"must be an int in 1..{limit:,}, got {count!r}")
        body = {"count": count, "name": name}
        return self._jobs(self._http.created(f"/jobs/{seg(job_id)}/duplicate", body)[0])

    def upgrade(self, job_ids: str | Sequence[str]) -> builtins.list[Job]:
        """Pin jobs to their pipeline's latest commit. Raises: NotFound, InvalidInput."""
        ids = [job_ids] if isinstance(job_ids, str) else list(job_ids)
        return self._jobs(
            self._http.call("POST", "/job-definitions/upgrade", json={"job_ids": ids})
        )

    def find(
        self,
        *,
        name: str | None = None,
        tag: str | None = None,
        status: str | Sequence[str] | None = None,
        pipeline: str | None = None,
        label: str | None = None,
        project: str | None = None,
    ) -> builtins.list[Job]:
        """The tenant's jobs matching every filter given. Raises: InvalidInput, NotFound."""
        if status is not None and not isinstance(status, str):
            status = ",".join(status)
        query = {
            k: v
            for k, v in {
                "name": name,
                "tag": tag,
                "status": status,
                "pipeline": pipeline,
                "label": label,
                "project": project,
            }.items()
            if v is not None
        }
        return self._jobs(self._http.call("GET", "/job-definitions", params=query))

    def offsets(self, job_id: str, run_count: int | None = None) -> dict[str, Any]:
        """The committed source offsets. Raises: NotFound."""
        query = {} if run_count is None else {"run_count": run_count}
        found: dict[str, Any] = self._http.call("GET", f"/jobs/{seg(job_id)}/offsets", params=query)
        return found

    def offset_entities(self, job_id: str) -> builtins.list[str]:
        """The entities the job's offsets may name now. Raises: NotFound, InvalidInput."""
        found = self._http.call("GET", f"/jobs/{seg(job_id)}/offsets/entities")
        return [str(e) for e in found["entities"]]

    def reset_offsets(self, job_id: str) -> Job:
        """Make the next run start every source over. Raises: NotFound, IllegalTransition."""
        return self._job(self._http.call("POST", f"/jobs/{seg(job_id)}/offsets/reset"))

    def upload_offsets(self, job_id: str, offsets: Mapping[str, Any] | str | Path) -> Job:
        """Make the next run start from these offsets (a dict, or a JSON file's path).

        Raises:
            InvalidInput: the form, or an entity no source has. NotFound, IllegalTransition.
        """
        if isinstance(offsets, str | Path):
            try:
                offsets = json.loads(Path(offsets).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                msg = f"cannot read an offsets file: {exc}"
                raise errors.InvalidInput("offsets", msg) from None
        if not isinstance(offsets, Mapping) or offsets.get("version") != 2:
            msg = 'expected {"version": 2, "offsets": {"<entity>": "<offset>" | null}}'
            raise errors.InvalidInput("offsets", msg)
        path = f"/jobs/{seg(job_id)}/offsets"
        return self._job(self._http.call("PUT", path, json=dict(offsets)))
