"""Wire models of the control plane: projects, pipeline commits, job definitions, runs."""

from __future__ import annotations

from typing import Annotated, Any

import pydantic

from headrace import defaults
from headrace.model import text
from headrace.model.controlplane import PipelineCommit, PipelineDiff, PipelineInfo, Project, Run

NAME = pydantic.Field(min_length=1, max_length=255, pattern=r"\S")
#: A tag, label or parameter-set name.
Word = Annotated[str, pydantic.Field(min_length=1, max_length=255, pattern=r"\S")]
#: A job's id, as the schema states it: a canonical UUID.
JobIdText = Annotated[str, pydantic.Field(pattern=text.UUID_PATTERN)]
FORBID = pydantic.ConfigDict(extra="forbid")


class ProjectOut(pydantic.RootModel[Project]):
    """A project."""


class ProjectIn(pydantic.BaseModel):
    """``POST /projects``."""

    model_config = FORBID
    name: str = NAME
    description: str = ""


class PipelineInfoOut(pydantic.RootModel[PipelineInfo]):
    """A published pipeline: project, latest version, labels."""


class CommitOut(pydantic.RootModel[PipelineCommit]):
    """One commit of a published pipeline (without the pickled pipeline)."""


class DiffOut(pydantic.RootModel[PipelineDiff]):
    """Stages added, removed, changed between two commits."""


class PublishIn(pydantic.BaseModel):
    """``POST /pipelines``: publish the next commit of a pipeline."""

    model_config = FORBID
    pipeline: str = pydantic.Field(description="base64 of the pipeline's cloudpickle")
    name: str = NAME
    commit_message: str = ""
    labels: list[Word] = []
    project: Word = "default"


class LabelIn(pydantic.BaseModel):
    """``PUT /pipelines/{name}/labels/{label}``: the version the label names."""

    model_config = FORBID
    version: int = pydantic.Field(ge=1, le=2**31 - 1)


class _DefinitionIn(pydantic.BaseModel):
    """What every job definition has."""

    model_config = FORBID
    name: str = NAME
    description: str = ""
    tags: list[Word] = []
    runtime_parameters: dict[str, Any] | None = None
    parameter_sets: dict[Word, dict[str, Any]] | None = None
    queue: Word | None = None
    project: Word = "default"
    require_error_ack: bool = False


class PipelineDefinitionIn(_DefinitionIn):
    """A pipeline job: a published pipeline's commit (``version``, ``label`` or latest)."""

    pipeline: Word
    version: int | None = pydantic.Field(default=None, ge=1, le=2**31 - 1)
    label: Word | None = None
    config: dict[str, Any] | None = None


class TaskDefinitionIn(_DefinitionIn):
    """A task job: a registered job type and its params."""

    type: Word
    params: Any = None


#: ``POST /job-definitions``: a job defined without starting it.
DefinitionIn = PipelineDefinitionIn | TaskDefinitionIn


class UpdateIn(pydantic.BaseModel):
    """``PATCH /jobs/{id}``: the definition fields to change (absent ones stay)."""

    model_config = FORBID
    name: Word | None = None
    description: str | None = None
    tags: list[Word] | None = None
    runtime_parameters: dict[str, Any] | None = None
    parameter_sets: dict[Word, dict[str, Any]] | None = None
    config: dict[str, Any] | None = None
    params: Any = None
    queue: Word | None = None
    require_error_ack: bool | None = None
    pipeline: Word | None = pydantic.Field(
        default=None, description="Pin another published pipeline (its latest commit)"
    )
    version: int | None = pydantic.Field(
        default=None, ge=1, le=2**31 - 1, description="Pin this commit (older ones too)"
    )
    label: Word | None = pydantic.Field(default=None, description="Pin the labelled commit")


class UpgradeIn(pydantic.BaseModel):
    """``POST /job-definitions/upgrade``: jobs to pin to their pipeline's latest commit."""

    model_config = FORBID
    job_ids: list[JobIdText]


class StartIn(pydantic.BaseModel):
    """``POST /jobs/{id}/start``: the new run's name, description and parameters."""

    model_config = FORBID
    name: Word | None = None
    description: str | None = None
    runtime_parameters: dict[str, Any] | None = None
    parameter_set: Word | None = None


class StopIn(pydantic.BaseModel):
    """``POST /jobs/{id}/stop``."""

    model_config = FORBID
    force: bool = False


class DuplicateIn(pydantic.BaseModel):
    """``POST /jobs/{id}/duplicate``: how many copies, or one with a given name."""

    model_config = FORBID
    count: int = pydantic.Field(default=1, ge=1, le=defaults.MAX_COPIES)
    name: Word | None = None


class JobRunOut(pydantic.RootModel[Run]):
    """One run of a job."""


class OffsetsIn(pydantic.BaseModel):
    """``PUT /jobs/{id}/offsets``: where the next run starts (StreamSets' JobOffset form)."""

    version: int = pydantic.Field(ge=2, le=2)
    offsets: dict[str, str | None]
