"""Headrace: data pipelines and durable jobs for Python.

>>> from headrace import Client, JobContext
"""

from headrace.client.embedded import Client
from headrace.errors import (
    Conflict,
    HeadraceError,
    IllegalTransition,
    InvalidInput,
    JobFailed,
    JobStopped,
    NotFound,
    TimeoutException,
)
from headrace.model.job import Job
from headrace.model.status import Status
from headrace.scheduler.context import JobContext, JobWorker
from headrace.scheduler.registry import job_type

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
    "Status",
    "TimeoutException",
    "job_type",
]
