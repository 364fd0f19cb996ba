"""The watsonx.data integration facade (seed 003): Platform, Project, Job, JobRun, JobRunState.

``Platform(client).projects.get(name='default')`` is seed 003's ``project``; its flows are
pipelines published by name, its jobs Headrace's jobs, each start a run.
"""

from headrace.model.facades import JobRunState
from headrace.platform.job import Job, JobMetadata, JobRun
from headrace.platform.project import Flow, Platform, Project
from headrace.platform.response import Response

__all__ = [
    "Flow",
    "Job",
    "JobMetadata",
    "JobRun",
    "JobRunState",
    "Platform",
    "Project",
    "Response",
]
