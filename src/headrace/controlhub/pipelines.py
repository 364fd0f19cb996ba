"""Pipelines and their commits as Control Hub shows them (``sch.pipelines``, ``commits``)."""

from __future__ import annotations

from headrace.controlhub import backend
from headrace.model import controlplane
from headrace.model.seekable import SeekableList, attributes


class PipelineCommit:
    """One version of a published pipeline; ``version`` is a string, as in the SDK."""

    def __init__(self, record: controlplane.PipelineCommit) -> None:
        self.pipeline_name = record.pipeline_name
        self.version = str(record.version)
        self.commit_id = f"{record.pipeline_name}:{record.version}"
        self.commit_message = record.message
        self.commit_time = record.created_at_ms
        self.committed_by = record.user_id
        self.labels = list(record.labels)

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


def commits(records: list[controlplane.PipelineCommit]) -> SeekableList[PipelineCommit]:
    """A pipeline's commits, newest first."""
    filters = {
        **attributes("version", "commit_id", "commit_message", "committed_by"),
        "commit_label": lambda c, label: label in c.labels,
        "label": lambda c, label: label in c.labels,
    }
    return SeekableList((PipelineCommit(r) for r in records), kind="commit", filters=filters)


class Pipeline:
    """A published pipeline at its latest version; ``commits`` lists every version."""

    def __init__(self, client: backend.ControlPlaneClient, info: controlplane.PipelineInfo) -> None:
        self._client = client
        self.name = info.name
        self.pipeline_id = info.name
        self.version = str(info.latest_version)
        self.commit_id = f"{info.name}:{info.latest_version}"
        self.labels = sorted(label for label, v in info.labels.items() if v == info.latest_version)

    @property
    def latest(self) -> PipelineCommit:
        """The latest commit (read now)."""
        return PipelineCommit(backend.commit(self._client, self.name))

    @property
    def commits(self) -> SeekableList[PipelineCommit]:
        """Every commit of this pipeline, newest first (read now)."""
        return commits(backend.commits(self._client, self.name))

    def __repr__(self) -> str:
        return (
            f"<Pipeline (pipeline_id={self.pipeline_id}, commit_id={self.commit_id}, "
            f"name={self.name}, version={self.version})>"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pipeline) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)


def pipelines(
    client: backend.ControlPlaneClient, infos: list[controlplane.PipelineInfo]
) -> SeekableList[Pipeline]:
    """Published pipelines, one per name at its latest version."""
    filters = attributes("name", "pipeline_id", "version", "commit_id")
    return SeekableList((Pipeline(client, i) for i in infos), kind="pipeline", filters=filters)
