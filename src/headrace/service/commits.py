"""Versioned pipelines: publish commits, read them, label them, diff them, delete them.

``PipelineCommits`` is mixed into ``client.pipelines`` (the pipeline service). A commit
keeps the pipeline as the jobs that pin it run it (cloudpickle) and a DAG summary: each
stage's name, kind and a fingerprint of what it does (its function's code, its source or
sink), which ``diff`` compares.
"""

from __future__ import annotations

import builtins
import difflib
import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import cloudpickle

from headrace import errors
from headrace.model.controlplane import (
    DEFAULT_PROJECT,
    PipelineCommit,
    PipelineDiff,
    PipelineInfo,
)
from headrace.pipeline import Pipeline
from headrace.pipeline.node import Node
from headrace.service.pipeline_runner import encode
from headrace.service.projects import check_name
from headrace.store.commits import CommitRepository
from headrace.store.database import Store
from headrace.store.projects import ProjectRepository

if TYPE_CHECKING:
    from headrace.service.jobs import Scope


def dag_of(pipeline: Pipeline) -> dict[str, Any]:
    """The pipeline's DAG summary: vertices (name, kind, fingerprint) and edges by name."""
    nodes = pipeline.nodes
    names = {n.id: n.name for n in nodes}
    return {
        "vertices": [
            {"name": n.name, "kind": n.kind, "fingerprint": _fingerprint(n)} for n in nodes
        ],
        "edges": [[names[i], n.name] for n in nodes for i in n.inputs],
    }


def _fingerprint(node: Node) -> str:
    """What a stage does, hashed: its kind, functions' code, source, sink, options."""
    parts: list[bytes] = [node.kind.encode()]
    for fn in (node.fn, node.key_fn, node.other_key_fn, node.create_fn):
        code = getattr(fn, "__code__", None)
        if code is not None:
            parts.append(code.co_code)
            parts.append(repr(code.co_consts).encode())
        elif fn is not None:
            parts.append(_dump(fn))
    for value in (node.source, node.sink, node.window, node.op, node.lag_ms, node.reverse):
        parts.append(
            repr(value).encode() if value is None or isinstance(value, int) else _dump(value)
        )
    return hashlib.sha256(b"\0".join(parts)).hexdigest()[:16]


def _dump(value: object) -> bytes:
    try:
        return bytes(cloudpickle.dumps(value))
    except Exception:  # an unpicklable option still has a stable repr
        return repr(value).encode()


def align(
    old: Sequence[dict[str, Any]], new: Sequence[dict[str, Any]]
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Stages added, removed, changed between two vertex lists (in pipeline order).

    Stage names are positional (``map#2``), so a stage inserted upstream renames the ones
    after it: the lists are aligned by kind (difflib's longest matching blocks), and an
    aligned pair whose fingerprints differ is a changed stage (named as in ``new``).
    """
    matcher = difflib.SequenceMatcher(
        a=[v["kind"] for v in old], b=[v["kind"] for v in new], autojunk=False
    )
    added: list[str] = []
    removed: list[str] = []
    changed: list[str] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            changed += [
                new[j]["name"]
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
                if old[i]["fingerprint"] != new[j]["fingerprint"]
            ]
        else:
            removed += [v["name"] for v in old[i1:i2]]
            added += [v["name"] for v in new[j1:j2]]
    return tuple(added), tuple(removed), tuple(changed)


def _labels(labels: Sequence[str]) -> builtins.list[str]:
    if isinstance(labels, str):
        labels = [labels]
    return [check_name("labels", label) for label in labels]


def _version(field: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise errors.InvalidInput(field, f"must be a commit version >= 1, got {value!r}")
    return value


class PipelineCommits:
    """Published, versioned pipelines of one tenant (mixed into the pipeline service)."""

    store: Store
    scope: Scope

    @property
    def commit_repo(self) -> CommitRepository:
        """The tenant's commits in the store."""
        return CommitRepository(self.store, self.scope.tenant_id)

    def publish(
        self,
        pipeline: Pipeline,
        name: str,
        commit_message: str = "",
        labels: Sequence[str] = (),
        *,
        project: str = DEFAULT_PROJECT,
    ) -> PipelineCommit:
        """Store the pipeline as the next commit (1, 2, …) of ``name``.

        Raises:
            InvalidInput: naming ``name``, ``labels``, ``commit_message`` or ``pipeline``.
            PipelineDefinitionError: the pipeline cannot run as defined.
            NotFound: no such project.
        """
        check_name("name", name)
        if not isinstance(commit_message, str):
            raise errors.InvalidInput("commit_message", "must be a string")
        checked = _labels(labels)
        blob = encode(pipeline)
        pipeline.validate()
        ProjectRepository(self.store, self.scope.tenant_id).check(project)
        existing = self.commit_repo.count(name)
        if existing and self.commit_repo.info(name).project != project:
            msg = f"pipeline {name!r} lives in project {self.commit_repo.info(name).project!r}"
            raise errors.InvalidInput("project", msg)
        return self.commit_repo.publish(
            name, project, blob, dag_of(pipeline), commit_message, checked, self.scope.user_id
        )

    def describe(self, name: str) -> PipelineInfo:
        """The published pipeline: project, latest version, labels. Raises: NotFound."""
        return self.commit_repo.info(name)

    def published(self, project: str | None = None) -> builtins.list[PipelineInfo]:
        """The tenant's published pipelines by name (of one project if given)."""
        return self.commit_repo.list(project)

    def commits(self, name: str) -> builtins.list[PipelineCommit]:
        """The pipeline's commits, newest first. Raises: NotFound."""
        return self.commit_repo.commits(name)

    def commit(
        self, name: str, version: int | None = None, *, label: str | None = None
    ) -> PipelineCommit:
        """One commit by version or label (the latest when neither).

        Raises:
            NotFound: naming the pipeline, the commit or the label.
        """
        if version is not None:
            _version("version", version)
        return self.commit_repo.commit(name, version, label)

    def load(self, name: str, version: int | None = None, *, label: str | None = None) -> Pipeline:
        """The pipeline a commit holds, ready to run. Raises: NotFound."""
        from headrace.service.pipeline_runner import decode

        found = self.commit(name, version, label=label)
        return decode(self.commit_repo.blob(name, found.version))

    def label(self, name: str, label: str, version: int) -> PipelineCommit:
        """Point ``label`` at ``version`` (moving it). Raises: InvalidInput, NotFound."""
        check_name("label", label)
        self.commit_repo.label(name, label, _version("version", version))
        return self.commit_repo.commit(name, version)

    def labels(self, name: str) -> dict[str, int]:
        """The pipeline's labels and the versions they name. Raises: NotFound."""
        return self.commit_repo.info(name).labels

    def diff(self, name: str, a: int, b: int) -> PipelineDiff:
        """Stages added, removed and changed from version ``a`` to ``b``.

        Raises:
            NotFound: naming the pipeline or a commit.
        """
        old = self.commit(name, _version("a", a)).dag
        new = self.commit(name, _version("b", b)).dag
        added, removed, changed = align(old["vertices"], new["vertices"])
        old_edges = {tuple(e) for e in old["edges"]}
        new_edges = {tuple(e) for e in new["edges"]}
        return PipelineDiff(
            pipeline_name=name,
            from_version=a,
            to_version=b,
            added=added,
            removed=removed,
            changed=changed,
            edges_added=tuple(sorted((str(x), str(y)) for x, y in new_edges - old_edges)),
            edges_removed=tuple(sorted((str(x), str(y)) for x, y in old_edges - new_edges)),
        )

    def remove(self, name: str) -> None:
        """Delete a published pipeline with its commits and labels.

        Raises:
            NotFound: no such pipeline. Conflict: a job pins it.
        """
        self.commit_repo.delete(name)
