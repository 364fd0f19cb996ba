"""Headrace: data pipelines and durable jobs for Python.

Names are imported on first use, so a process that needs only the engine (a pipeline
worker process) does not pay for the client, the store and their drivers.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from headrace.client.embedded import Client
    from headrace.errors import (
        Conflict,
        HeadraceError,
        IllegalTransition,
        InvalidInput,
        JobFailed,
        JobStopped,
        NotFound,
        PipelineDefinitionError,
        TimeoutException,
    )
    from headrace.model.job import Job
    from headrace.model.status import Status
    from headrace.scheduler.context import JobContext, JobWorker
    from headrace.scheduler.registry import job_group, job_type

_WHERE = {
    "Client": "headrace.client.embedded",
    "Conflict": "headrace.errors",
    "HeadraceError": "headrace.errors",
    "IllegalTransition": "headrace.errors",
    "InvalidInput": "headrace.errors",
    "JobFailed": "headrace.errors",
    "JobStopped": "headrace.errors",
    "NotFound": "headrace.errors",
    "PipelineDefinitionError": "headrace.errors",
    "TimeoutException": "headrace.errors",
    "Job": "headrace.model.job",
    "Status": "headrace.model.status",
    "JobContext": "headrace.scheduler.context",
    "JobWorker": "headrace.scheduler.context",
    "job_group": "headrace.scheduler.registry",
    "job_type": "headrace.scheduler.registry",
}

__all__ = [
    "Client",
    "Conflict",
    "HeadraceError",
    "IllegalTransition",
    "InvalidInput",
    "Job",
    "JobContext",
    "JobFailed",
    "JobStopped",
    "JobWorker",
    "NotFound",
    "PipelineDefinitionError",
    "Status",
    "TimeoutException",
    "job_group",
    "job_type",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        msg = f"module 'headrace' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
