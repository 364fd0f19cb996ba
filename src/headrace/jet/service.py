"""The Jet service of seed 001: ``jet = client.get_jet()``; submit and find jobs."""

from __future__ import annotations

from headrace.jet.backend import JetClient
from headrace.jet.job import Job, JobConfig
from headrace.pipeline import Pipeline


class JetService:
    """Submits pipelines as jobs and finds them again, through an embedded or remote client."""

    def __init__(self, client: JetClient) -> None:
        self._client = client

    def submit(self, pipeline: Pipeline, config: JobConfig | None = None) -> Job:
        """Submit a pipeline as a new job.

        Raises:
            JobAlreadyExists: an active job has the config's name.
            PipelineDefinitionError: the pipeline cannot run as defined.
        """
        return Job(self._client, self._client.pipelines.submit(pipeline, config).job_id)

    def new_job_if_absent(self, pipeline: Pipeline, config: JobConfig) -> Job:
        """The active job with the config's name, else a new one.

        Raises:
            InvalidInput: the config has no name.
        """
        return Job(self._client, self._client.pipelines.new_job_if_absent(pipeline, config).job_id)

    def get_job(self, job_id: str) -> Job:
        """A job by id.

        Raises:
            NotFound: no such job.
        """
        return Job(self._client, self._client.pipelines.get(job_id).job_id)

    def get_job_by_name(self, name: str) -> Job | None:
        """The active job of this name, else the most recent one, else None."""
        found = self._client.pipelines.find_named(name)
        return None if found is None else Job(self._client, found.job_id)

    def get_jobs(self, name: str | None = None) -> list[Job]:
        """Every job, newest first (only those of ``name`` if given)."""
        return [Job(self._client, j.job_id) for j in self._client.pipelines.list(name)]
