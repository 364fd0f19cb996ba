"""``headrace submit --wait``: find the pipeline jobs a file submitted, and wait for them.

Before the file runs, the newest pipeline job ids are noted; after, every pipeline job
newer than them (newest first, up to the first one noted) is what the file submitted.
No clock is compared, so a server on another machine gives the same answer.
"""

from __future__ import annotations

import time

import typer

from headrace import defaults
from headrace.cli import progress
from headrace.cli.connect import Backend, connect
from headrace.model.job import Job
from headrace.model.status import Status
from headrace.service.pipeline_job import PIPELINE_JOB_TYPE

#: How many of the newest pipeline jobs are noted before the file runs.
NOTED = 100


def _newest(client: Backend, page: int, limit: int = NOTED) -> list[Job]:
    found = client.jobs.list(page=page, limit=limit, order="-scheduled_at", type=PIPELINE_JOB_TYPE)
    return found.items


def newest(server: str | None, token: str | None) -> set[str]:
    """The ids of the newest pipeline jobs, as they are before the file runs."""
    with connect(server, token, None) as client:
        return {j.job_id for j in _newest(client, 1)}


def new_jobs(client: Backend, before: set[str]) -> list[Job]:
    """Pipeline jobs scheduled since ``before`` was noted, oldest first."""
    found: list[Job] = []
    page = 1
    while True:
        chunk = _newest(client, page, defaults.MAX_PAGE_LIMIT)
        for job in chunk:
            if job.job_id in before:
                return found[::-1]
            found.append(job)
        if len(chunk) < defaults.MAX_PAGE_LIMIT:
            return found[::-1]
        page += 1


def wait_for_new(
    server: str | None, token: str | None, before: set[str], timeout: float | None
) -> int:
    """Wait for the new pipeline jobs with one bar each; the exit status (0: all completed)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    with connect(server, token, None) as client:
        jobs = new_jobs(client, before)
        if not jobs:
            typer.echo("headrace submit: the file submitted no pipeline job", err=True)
            return 0
        with progress.bar() as shown:
            tasks = {
                j.job_id: shown.add_task(f"{j.name or j.job_id} {j.status}", total=1.0)
                for j in jobs
            }
            pending = {j.job_id: j for j in jobs}
            while True:
                for job_id in list(pending):
                    job = client.jobs.get(job_id)
                    label = f"{job.name or job_id} {job.status}"
                    shown.update(tasks[job_id], completed=job.progress, description=label)
                    if progress.ended(job):
                        pending.pop(job_id)
                        shown.update(tasks[job_id], completed=1.0)
                    else:
                        pending[job_id] = job
                if not pending:
                    break
                if deadline is not None and time.monotonic() > deadline:
                    names = ", ".join(pending)
                    typer.echo(f"error: still running after {timeout} s: {names}", err=True)
                    return 124
                time.sleep(progress.POLL_SEC)
        ended = [client.jobs.get(j.job_id) for j in jobs]
    for job in ended:
        typer.echo(f"{job.job_id} {job.name or ''} {job.status}".replace("  ", " "))
    return 0 if all(j.status is Status.COMPLETED for j in ended) else 1
