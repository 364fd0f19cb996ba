"""Progress bars for the commands that wait: on stderr, and only on a terminal."""

from __future__ import annotations

import sys
import time

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from headrace.cli.connect import Backend
from headrace.model import status as machine
from headrace.model.job import Job
from headrace.model.status import Status

#: Seconds between two reads of a job while a bar shows it.
POLL_SEC = 0.2


def bar(quiet: bool = False) -> Progress:
    """A Rich progress bar on stderr, disabled when stderr is not a terminal or ``quiet``."""
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        disable=quiet or not sys.stderr.isatty(),
        console=Console(stderr=True),
    )


def ended(job: Job) -> bool:
    """Whether a waited-for job is done: final, or suspended."""
    return job.status in machine.FINAL or job.status is Status.SUSPENDED


def wait_for(client: Backend, job_id: str, timeout: float | None, quiet: bool = False) -> Job:
    """Wait for the job to end, showing its progress; exit 124 after ``timeout`` s."""
    deadline = None if timeout is None else time.monotonic() + timeout
    job = client.jobs.get(job_id)
    with bar(quiet) as shown:
        task = shown.add_task(f"{job_id[:8]} {job.type} {job.status}", total=1.0)
        while not ended(job):
            if deadline is not None and time.monotonic() > deadline:
                typer.echo(f"error: job {job_id} still {job.status} after {timeout} s", err=True)
                raise typer.Exit(124)
            time.sleep(POLL_SEC)
            job = client.jobs.get(job_id)
            shown.update(
                task,
                completed=job.progress,
                description=f"{job_id[:8]} {job.type} {job.status}",
            )
    return job
