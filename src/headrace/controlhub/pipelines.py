"""Pipelines and their commits as Control Hub shows them (``sch.pipelines``, ``commits``)."""

from __future__ import annotations

from typing import Any

from headrace.controlhub import backend
from headrace.model.seekable import SeekableList, attributes


class PipelineCommit:
    """One version of a published pipeline; ``version`` is a string, as in the SDK."""

    def __init__(self, record: Any) -> None:
        self._record = record
        self.pipeline_name: str = record.name
        self.version = str(record.version)
        self.commit_id = str(record.commit_id)
        self.commit_message: str = record.message or ""
        self.commit_time: int = record.created_at_ms
        self.committed_by: str | None = record.user_id
        self.labels: list[str] = list(record.labels)

    @property
    def commit_label(self) -> str | None:
        """The first label on this commit, if any."""
        return self.labels[0] if self.labels else None

    def __repr__(self) -> str:
        return (
            f"<PipelineCommit (commit_id={self.commit_id}, version={self.version}, "
            f"commit_message={self.commit_message})>"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PipelineCommit) and other.commit_id == self.commit_id

    def __hash__(self) -> int:
        return hash(self.commit_id)


def commits(records: list[Any]) -> SeekableList[PipelineCommit]:
    """A pipeline's commits, newest first."""
    filters = {
        **attributes("version", "commit_id", "commit_message", "committed_by"),
        "commit_label": lambda c, label: label in c.labels,
        "label": lambda c, label: label in c.labels,
    }
    return SeekableList((PipelineCommit(r) for r in records), kind="commit", filters=filters)


class Pipeline:
    """A published pipeline at its latest commit; ``commits`` lists every version."""

    def __init__(self, client: Any, latest: Any) -> None:
        self._client = client
        self.name: str = latest.name
        self.pipeline_id: str = latest.name
        self.latest = PipelineCommit(latest)
        self.version = self.latest.version
        self.commit_id = self.latest.commit_id
        self.commit_message = self.latest.commit_message

    @property
    def commits(self) -> SeekableList[PipelineCommit]:
        """Every commit of this pipeline, newest first (read now)."""
        return commits(backend.commits(self._client, self.name))

    @property
    def labels(self) -> list[str]:
        """The labels on the latest commit."""
        return list(self.latest.labels)

    def __repr__(self) -> str:
        return (
            f"<Pipeline (pipeline_id={self.pipeline_id}, commit_id={self.commit_id}, "
            f"name={self.name}, version={self.version})>"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pipeline) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)


def pipelines(client: Any, latest: list[Any]) -> SeekableList[Pipeline]:
    """Published pipelines, one per name at its latest commit."""
    filters = attributes("name", "pipeline_id", "version", "commit_id")
    return SeekableList((Pipeline(client, r) for r in latest), kind="pipeline", filters=filters)
