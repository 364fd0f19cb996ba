"""``headrace jobs|job-types|job-groups``: read and control jobs on a server or a store.

With ``--url`` (or ``$HEADRACE_URL``) the commands talk to a ``headrace server`` with
``--token`` (or ``$HEADRACE_TOKEN``); otherwise to the store directly. On a terminal they
print tables; piped, tab-separated lines; with ``--json``, JSON.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from headrace import errors
from headrace.client import embedded, remote
from headrace.model import status as machine
from headrace.model.job import Job
from headrace.model.status import Status

jobs_app = typer.Typer(help="List, show, control and wait for jobs.", no_args_is_help=True)
types_app = typer.Typer(help="Job types.", no_args_is_help=True)
groups_app = typer.Typer(help="Job groups.", no_args_is_help=True)

Url = Annotated[
    str | None, typer.Option(envvar="HEADRACE_URL", help="Server URL (else: the store).")
]
Token = Annotated[str | None, typer.Option(envvar="HEADRACE_TOKEN", help="Bearer token.")]
StoreUrl = Annotated[
    str | None, typer.Option("--store", envvar="HEADRACE_STORE", help="Database URL.")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]
JobId = Annotated[str, typer.Argument(help="The job's id.")]

JOB_COLUMNS = ("job_id", "type", "status", "progress", "attempt", "scheduled_at_ms")
Backend = embedded.Client | remote.Client


@contextmanager
def connect(url: str | None, token: str | None, store: str | None) -> Iterator[Backend]:
    """A client for the server at ``url``, else for the store; errors end the command."""
    client: Backend | None = None
    try:
        if url:
            client = remote.Client(url, token=token)
        else:
            client = embedded.Client(store, run_workers=False)
        yield client
    except errors.HeadraceError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        if client is not None:
            client.close()


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def emit(rows: Sequence[Any], columns: Sequence[str], as_json: bool, title: str = "") -> None:
    """Print records: JSON, a Rich table on a terminal, or tab-separated lines when piped."""
    data = [_plain(r) for r in rows]
    if as_json:
        typer.echo(json.dumps(data, default=str))
        return
    if sys.stdout.isatty():
        table = Table(*columns, title=title or None)
        for row in data:
            table.add_row(*(_cell(row.get(c)) for c in columns))
        Console().print(table)
        return
    for row in data:
        typer.echo("\t".join(_cell(row.get(c)) for c in columns))


def emit_one(record: Any, as_json: bool) -> None:
    """Print one record: JSON, or one ``field: value`` line per field."""
    data = _plain(record)
    if as_json:
        typer.echo(json.dumps(data, default=str))
        return
    width = max(len(k) for k in data)
    for key, value in data.items():
        typer.echo(f"{key.ljust(width)}  {_cell(value)}")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)


@jobs_app.command("ls")
def ls(
    status: Annotated[str | None, typer.Option(help="e.g. running,completed")] = None,
    type: Annotated[str | None, typer.Option(help="Only jobs of this type.")] = None,
    page: int = 1,
    limit: int = 20,
    order: str = "-scheduled_at",
    url: Url = None,
    token: Token = None,
    store: StoreUrl = None,
    as_json: AsJson = False,
) -> None:
    """List jobs, newest first."""
    with connect(url, token, store) as client:
        found = client.jobs.list(page=page, limit=limit, status=status, order=order, type=type)
    if as_json:
        typer.echo(json.dumps({**_plain(found), "items": _plain(found.items)}, default=str))
        return
    title = (
        f"jobs {(page - 1) * limit + 1}-{(page - 1) * limit + len(found.items)} of {found.total}"
    )
    emit(found.items, JOB_COLUMNS, False, title)


@jobs_app.command()
def show(job_id: JobId, url: Url = None, token: Token = None, store: StoreUrl = None,
         as_json: AsJson = False) -> None:  # fmt: skip
    """Show one job."""
    with connect(url, token, store) as client:
        emit_one(client.jobs.get(job_id), as_json)


def _control(action: Callable[[Backend], Job], as_json: bool, url: str | None,
             token: str | None, store: str | None) -> None:  # fmt: skip
    with connect(url, token, store) as client:
        job = action(client)
    if as_json:
        emit_one(job, True)
    else:
        typer.echo(f"{job.job_id} {job.status}")


@jobs_app.command()
def cancel(job_id: JobId, url: Url = None, token: Token = None, store: StoreUrl = None,
           as_json: AsJson = False) -> None:  # fmt: skip
    """Cancel a job."""
    _control(lambda c: c.jobs.cancel(job_id), as_json, url, token, store)


@jobs_app.command()
def suspend(job_id: JobId, url: Url = None, token: Token = None, store: StoreUrl = None,
            as_json: AsJson = False) -> None:  # fmt: skip
    """Suspend a job."""
    _control(lambda c: c.jobs.suspend(job_id), as_json, url, token, store)


@jobs_app.command()
def resume(job_id: JobId, url: Url = None, token: Token = None, store: StoreUrl = None,
           as_json: AsJson = False) -> None:  # fmt: skip
    """Resume a suspended job."""
    _control(lambda c: c.jobs.resume(job_id), as_json, url, token, store)


@jobs_app.command()
def delete(job_id: JobId, url: Url = None, token: Token = None, store: StoreUrl = None,
           as_json: AsJson = False) -> None:  # fmt: skip
    """Delete a job that no worker holds."""
    _control(lambda c: c.jobs.delete(job_id), as_json, url, token, store)


@jobs_app.command()
def logs(job_id: JobId, url: Url = None, token: Token = None, store: StoreUrl = None,
         as_json: AsJson = False) -> None:  # fmt: skip
    """Show a job's log lines."""
    with connect(url, token, store) as client:
        found = client.jobs.logs(job_id)
    emit(found, ("at_ms", "attempt", "level", "message"), as_json)


@jobs_app.command()
def events(job_id: JobId, url: Url = None, token: Token = None, store: StoreUrl = None,
           as_json: AsJson = False) -> None:  # fmt: skip
    """Show a job's status changes."""
    with connect(url, token, store) as client:
        found = client.jobs.events(job_id)
    emit(found, ("at_ms", "attempt", "from_status", "to_status", "reason"), as_json)


def _done(job: Job) -> bool:
    return job.status in machine.FINAL or job.status is Status.SUSPENDED


@jobs_app.command()
def wait(
    job_id: JobId,
    timeout: Annotated[float | None, typer.Option(help="Give up after this many seconds.")] = None,
    url: Url = None,
    token: Token = None,
    store: StoreUrl = None,
    as_json: AsJson = False,
) -> None:
    """Wait for a job to end, with a progress bar on a terminal; exit 0 only if completed."""
    deadline = None if timeout is None else time.monotonic() + timeout
    with connect(url, token, store) as client:
        job = client.jobs.get(job_id)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            disable=as_json or not sys.stderr.isatty(),
            console=Console(stderr=True),
        ) as bar:
            task = bar.add_task(f"{job.type} {job.status}", total=1.0)
            while not _done(job):
                if deadline is not None and time.monotonic() > deadline:
                    typer.echo(
                        f"error: job {job_id} still {job.status} after {timeout} s", err=True
                    )
                    raise typer.Exit(124)
                time.sleep(0.2)
                job = client.jobs.get(job_id)
                bar.update(task, completed=job.progress, description=f"{job.type} {job.status}")
    if as_json:
        emit_one(job, True)
    else:
        typer.echo(f"{job.job_id} {job.status}" + (f": {job.error}" if job.error else ""))
    if job.status is not Status.COMPLETED:
        raise typer.Exit(1)


@types_app.command("ls")
def types_ls(page: int = 1, limit: int = 100, url: Url = None, token: Token = None,
             store: StoreUrl = None, as_json: AsJson = False) -> None:  # fmt: skip
    """List job types."""
    with connect(url, token, store) as client:
        found = client.job_types.list(page, limit)
    emit(found, ("type_id", "group_name", "queue", "timeout_sec", "max_retries"), as_json)


@types_app.command("show")
def types_show(type_id: str, url: Url = None, token: Token = None, store: StoreUrl = None,
               as_json: AsJson = False) -> None:  # fmt: skip
    """Show one job type."""
    with connect(url, token, store) as client:
        emit_one(client.job_types.get(type_id), as_json)


@groups_app.command("ls")
def groups_ls(page: int = 1, limit: int = 100, url: Url = None, token: Token = None,
              store: StoreUrl = None, as_json: AsJson = False) -> None:  # fmt: skip
    """List job groups."""
    with connect(url, token, store) as client:
        found = client.job_groups.list(page, limit)
    emit(found, ("name", "queue_name", "description"), as_json)


@groups_app.command("show")
def groups_show(name: str, url: Url = None, token: Token = None, store: StoreUrl = None,
                as_json: AsJson = False) -> None:  # fmt: skip
    """Show one job group."""
    with connect(url, token, store) as client:
        emit_one(client.job_groups.get(name), as_json)
