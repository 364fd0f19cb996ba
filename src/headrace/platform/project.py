"""watsonx's ``Platform`` and ``Project``: flows (published pipelines) and jobs per project."""

from __future__ import annotations

from typing import Any

from headrace import errors
from headrace.model import controlplane
from headrace.model.seekable import SeekableList, attributes
from headrace.pipeline import Pipeline
from headrace.platform import backend
from headrace.platform.job import Job, jobs
from headrace.platform.response import Response


class Flow:
    """A flow: a pipeline published by name in a project, at its latest version."""

    def __init__(self, name: str, version: int) -> None:
        self.name = name
        self.flow_id = name
        self.version = version

    def __repr__(self) -> str:
        return f"Flow(name={self.name!r}, version={self.version})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Flow) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)


class Project:
    """A project: its flows and its jobs."""

    def __init__(self, client: backend.ControlPlaneClient, record: controlplane.Project) -> None:
        self._client = client
        self.name = record.name
        self.project_id = record.name
        self.description = record.description

    @property
    def flows(self) -> SeekableList[Flow]:
        """The project's flows (``project.flows.get(name=…)``)."""
        found = (Flow(p.name, p.latest_version) for p in backend.flows(self._client, self.name))
        return SeekableList(found, kind="flow", filters=attributes("name", "flow_id"))

    def create_flow(self, name: str, pipeline: Pipeline, description: str = "") -> Flow:
        """Publish a Headrace pipeline as a flow (a flow of that name gets a new version).

        Raises:
            InvalidInput: not a Pipeline, an empty name, or a pipeline that cannot run.
        """
        commit = backend.publish(self._client, self.name, pipeline, name, description)
        return Flow(commit.pipeline_name, commit.version)

    def create_job(
        self,
        flow: Flow,
        name: str,
        description: str = "",
        configuration: dict[str, Any] | None = None,
        job_parameters: dict[str, Any] | None = None,
        parameter_sets: list[Any] | None = None,
    ) -> Job:
        """A job running ``flow``'s latest version.

        Raises:
            InvalidInput: no flow given, or a value that does not fit.
        """
        if not isinstance(flow, Flow):
            raise errors.InvalidInput("flow", f"expected a Flow, got {type(flow).__name__}")
        record = backend.create_job(
            self._client,
            self.name,
            flow.name,
            name=name,
            description=description,
            configuration=configuration,
            job_parameters=job_parameters,
            parameter_sets=parameter_sets,
        )
        return Job(self._client, record)

    @property
    def jobs(self) -> SeekableList[Job]:
        """The project's jobs, newest first (``project.jobs.get(name=…)``)."""
        return jobs([Job(self._client, r) for r in backend.list_jobs(self._client, self.name)])

    def update_job(self, job: Job) -> Response:
        """Store the job's changed metadata and configuration; ``<Response [200]>``.

        Raises:
            NotFound: the job was deleted.
        """
        record = backend.update_job(
            self._client,
            job.job_id,
            name=job.metadata.name,
            description=job.metadata.description,
            configuration=job.configuration,
            job_parameters=job.job_parameters,
        )
        job._load(record)
        return Response(200, backend.job_json(record))

    def delete_job(self, job: Job) -> Response:
        """Delete the job; ``<Response [204]>``.

        Raises:
            Conflict: it has an active run (cancel it first). NotFound: already deleted.
        """
        record = backend.delete_job(self._client, job.job_id)
        return Response(204, backend.job_json(record))

    def __repr__(self) -> str:
        return f"Project(name={self.name!r}, project_id={self.project_id!r})"


class Platform:
    """The watsonx ``Platform`` over Headrace: its projects.

    ``Platform(client)`` works through a ``headrace.Client`` (embedded or remote);
    ``Platform("http://host:port", token=...)`` makes the remote client itself.
    """

    def __init__(self, client: Any = None, *, token: str | None = None) -> None:
        if client is None or isinstance(client, str):
            from headrace.client.embedded import Client

            client = Client(client, token=token)
        self._client: backend.ControlPlaneClient = client

    @property
    def client(self) -> Any:
        """The Headrace client this facade works through."""
        return self._client

    @property
    def projects(self) -> SeekableList[Project]:
        """Every project of the tenant; ``default`` always exists."""
        found = (Project(self._client, r) for r in backend.projects(self._client))
        return SeekableList(found, kind="project", filters=attributes("name", "project_id"))
