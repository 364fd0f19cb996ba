"""``sch.get_job_builder()``: builds a Job from a published pipeline, to hand to ``add_job``."""

from __future__ import annotations

from typing import Any

from headrace import errors
from headrace.controlhub import backend
from headrace.controlhub.job import Job
from headrace.controlhub.pipelines import Pipeline, PipelineCommit


class JobBuilder:
    """Builds (unsaved) jobs; ``sch.add_job(job)`` stores them."""

    def __init__(self, client: backend.ControlPlaneClient) -> None:
        self._client = client

    def build(
        self,
        job_name: str | None = None,
        pipeline: Pipeline | None = None,
        job_template: bool = False,
        runtime_parameters: dict[str, Any] | None = None,
        pipeline_tag: str | None = None,
        pipeline_commit: PipelineCommit | None = None,
        tags: list[str] | None = None,
        description: str = "",
        require_job_error_acknowledgement: bool = False,
        data_collector_labels: list[str] | None = None,
    ) -> Job:
        """A job of ``pipeline``: its latest commit, ``pipeline_commit``, or ``pipeline_tag``.

        ``pipeline_tag`` names a commit label (``"v1"``).

        Raises:
            InvalidInput: (a ``ValueError``) no published pipeline given, both
                ``pipeline_commit`` and ``pipeline_tag`` given, a label the pipeline has
                not, or a job template (Headrace has none).
        """
        if not isinstance(pipeline, Pipeline):
            msg = "build a job from a published pipeline: sch.pipelines.get(name=...)"
            raise errors.InvalidInput("pipeline", msg)
        if pipeline_commit is not None and pipeline_tag is not None:
            msg = "give pipeline_commit or pipeline_tag, not both"
            raise errors.InvalidInput("pipeline_tag", msg)
        if job_template:
            msg = "job templates are not supported; build one job per runtime parameters"
            raise errors.InvalidInput("job_template", msg)
        commit = pipeline_commit or pipeline.latest
        if pipeline_tag is not None:
            commit = pipeline.commits.get(commit_label=pipeline_tag)
        definition: dict[str, Any] = {
            "job_name": job_name or f"Job for {pipeline.name}",
            "description": description,
            "commit": commit,
            "runtime_parameters": dict(runtime_parameters or {}),
            "tags": list(tags or []),
            "require_job_error_acknowledgement": require_job_error_acknowledgement,
        }
        if data_collector_labels is not None:
            definition["data_collector_labels"] = list(data_collector_labels)
        return Job(self._client, **definition)
