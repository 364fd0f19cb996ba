"""Versioned pipelines over HTTP: publish commits, read them, label them, diff them.

``/pipelines/{name}`` is a published pipeline; its commits are
``/pipelines/{name}/commits[/{version}]``; labels ``/pipelines/{name}/labels[/{label}]``;
``/pipelines/{name}/diff?a=&b=``. (Pipeline jobs submitted the Jet way live under
``/pipeline-jobs``.)
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from headrace.api import problems
from headrace.api.auth import Reader, State, Writer
from headrace.api.control_schemas import CommitOut, DiffOut, LabelIn, PipelineInfoOut, PublishIn
from headrace.api.paths import Name
from headrace.api.routes.pipelines import decode
from headrace.api.schemas import Items

router = APIRouter(
    tags=["versioned pipelines"], responses=problems.responses(401, 403, 404, 409, 413, 422, 503)
)

Version = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.post("/pipelines", status_code=201, response_model=CommitOut)
def publish(body: PublishIn, who: Writer, state: State) -> CommitOut:
    """Publish the pipeline as the next commit of ``name`` (version 1, 2, …)."""
    commit = state.pipelines(who).publish(
        decode(body.pipeline), body.name, body.commit_message, body.labels, project=body.project
    )
    return CommitOut.model_validate(commit)


@router.get("/pipelines", response_model=Items[PipelineInfoOut])
def published(
    who: Reader,
    state: State,
    project: Annotated[str | None, Query(min_length=1, max_length=255)] = None,
) -> Items[PipelineInfoOut]:
    """The tenant's published pipelines (of one project if given), by name."""
    found = state.pipelines(who).published(project)
    items = [PipelineInfoOut.model_validate(p) for p in found]
    return Items[PipelineInfoOut](items=items, total=len(found))


@router.get("/pipelines/{name}", response_model=PipelineInfoOut)
def describe(name: Name, who: Reader, state: State) -> PipelineInfoOut:
    """A published pipeline: project, latest version, labels."""
    return PipelineInfoOut.model_validate(state.pipelines(who).describe(name))


@router.delete("/pipelines/{name}", status_code=204)
def remove(name: Name, who: Writer, state: State) -> Response:
    """Delete a published pipeline with its commits (409 while a job pins it)."""
    state.pipelines(who).remove(name)
    return Response(status_code=204)


@router.get("/pipelines/{name}/commits", response_model=Items[CommitOut])
def commits(name: Name, who: Reader, state: State) -> Items[CommitOut]:
    """The pipeline's commits, newest first."""
    found = state.pipelines(who).commits(name)
    return Items[CommitOut](items=[CommitOut.model_validate(c) for c in found], total=len(found))


@router.get("/pipelines/{name}/commits/{version}", response_model=CommitOut)
def commit(name: Name, version: Version, who: Reader, state: State) -> CommitOut:
    """One commit by version."""
    return CommitOut.model_validate(state.pipelines(who).commit(name, version))


@router.get("/pipelines/{name}/labels", response_model=dict[str, int])
def labels(name: Name, who: Reader, state: State) -> dict[str, int]:
    """The pipeline's labels and the versions they name."""
    return state.pipelines(who).labels(name)


@router.get("/pipelines/{name}/labels/{label}", response_model=CommitOut)
def labelled(name: Name, label: Name, who: Reader, state: State) -> CommitOut:
    """The commit a label names."""
    return CommitOut.model_validate(state.pipelines(who).commit(name, label=label))


@router.put("/pipelines/{name}/labels/{label}", response_model=CommitOut)
def set_label(name: Name, label: Name, body: LabelIn, who: Writer, state: State) -> CommitOut:
    """Point a label at a version (moving it)."""
    return CommitOut.model_validate(state.pipelines(who).label(name, label, body.version))


@router.get("/pipelines/{name}/diff", response_model=DiffOut)
def diff(
    name: Name,
    who: Reader,
    state: State,
    a: Annotated[int, Query(ge=1, le=2**31 - 1)],
    b: Annotated[int, Query(ge=1, le=2**31 - 1)],
) -> DiffOut:
    """Stages added, removed and changed from version ``a`` to ``b``."""
    return DiffOut.model_validate(state.pipelines(who).diff(name, a, b))
