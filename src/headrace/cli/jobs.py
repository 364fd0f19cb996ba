"""``headrace jobs|job-types|job-groups``: read and control jobs on a server or a store.

With ``--server`` (or ``$HEADRACE_SERVER``) the commands talk to a ``headrace server``
with ``--token`` (or ``$HEADRACE_TOKEN``); otherwise to the store directly. They print
Rich tables with a header (``--json`` for scripts). A job id may be given whole or by
its first characters, as ``jobs ls`` shows it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Annotated, Any

import typer

from headrace.cli import output, progress
from headrace.cli.connect import AsJson, Backend, JobId, StoreUrl, Token, Url, connect, resolve
from headrace.model.job import Job
from headrace.model.status import Status

__all__ = ["AsJson", "JobId", "StoreUrl", "Token", "Url", "connect", "emit", "emit_one"]

jobs_app = typer.Typer(help="List, show, control and wait for jobs.", no_args_is_help=True)
types_app = typer.Typer(help="Job types.", no_args_is_help=True)
groups_app = typer.Typer(help="Job groups.", no_args_is_help=True)

#: The columns of ``jobs ls``: header and how a job fills it.
JOB_COLUMNS: tuple[output.Column, ...] = (
    ("ID", lambda j: j.job_id or ""),
    ("NAME", lambda j: j.name or ""),
    ("TYPE", lambda j: j.type),
    ("STATUS", lambda j: str(j.status)),
    ("PROGRESS", lambda j: output.percent(j.progress)),
    ("ATTEMPT", lambda j: str(j.attempt)),
    ("RUN", lambda j: str(j.run_count)),
    ("SCHEDULED", lambda j: output.ago(j.scheduled_at_ms)),
    ("UPDATED", lambda j: output.ago(j.updated_at_ms)),
)

emit_one = output.emit_one


def emit(rows: Sequence[Any], fields: Sequence[str], as_json: bool, title: str = "") -> None:
    """Print records as JSON or as a table of ``fields`` (``*_ms`` fields as ages)."""
    if as_json:
        output.emit_json(list(rows))
        return

    def cell(field: str) -> Callable[[Any], str]:
        if field.endswith("_ms"):
            return lambda r: output.ago(getattr(r, field))
        return lambda r: output.text_of(getattr(r, field))

    columns = [(f.removesuffix("_ms").replace("_", " ").upper(), cell(f)) for f in fields]
    output.table(rows, columns, title)


@jobs_app.command("ls")
def ls(
    status: Annotated[str | None, typer.Option(help="Only these, e.g. running,failed.")] = None,
    type: Annotated[str | None, typer.Option(help="Only jobs of this type.")] = None,
    page: Annotated[int, typer.Option(help="Page number, from 1.")] = 1,
    limit: Annotated[int, typer.Option(help="Jobs per page.")] = 20,
    order: Annotated[
        str, typer.Option(help="Field to sort by; - first for descending.")
    ] = "-scheduled_at",
    server: Url = None,
    token: Token = None,
    store: StoreUrl = None,
    as_json: AsJson = False,
) -> None:
    """List jobs, newest first: id, name, type, status, progress, times."""
    with connect(server, token, store) as client:
        found = client.jobs.list(page=page, limit=limit, status=status, order=order, type=type)
    if as_json:
        typer.echo(
            json.dumps({**output.plain(found), "items": output.plain(found.items)}, default=str)
        )
        return
    first = (page - 1) * limit + 1
    title = f"jobs {first}-{first + len(found.items) - 1} of {found.total}"
    output.table(found.items, JOB_COLUMNS, title if found.items else f"no jobs ({found.total})")


@jobs_app.command()
def schedule(
    type_id: Annotated[str, typer.Argument(metavar="TYPE", help="A registered job type.")],
    params: Annotated[str, typer.Option(help="The job's params, as JSON.")] = "{}",
    name: Annotated[str | None, typer.Option(help="A name for the job.")] = None,
    key: Annotated[
        str | None, typer.Option("--idempotency-key", help="The same key returns the same job.")
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait for it to end, with a progress bar.")
    ] = False,
    timeout: Annotated[
        float | None, typer.Option(help="With --wait: give up after this many seconds.")
    ] = None,
    server: Url = None,
    token: Token = None,
    store: StoreUrl = None,
    as_json: AsJson = False,
) -> None:
    """Schedule a job of a registered type; print its id (and, with --wait, how it ended).

    Workers of its queue run it: a `headrace server` or `headrace worker` that imports
    the module registering the type. With --wait the exit status is as for `jobs wait`.
    """
    try:
        values = json.loads(params)
    except json.JSONDecodeError as exc:
        typer.echo(f"error: --params: not JSON ({exc})", err=True)
        raise typer.Exit(2) from None
    with connect(server, token, store) as client:
        job = client.jobs.schedule(type_id, values, name=name, idempotency_key=key)
        if not wait:
            if as_json:
                emit_one(job, True)
            else:
                typer.echo(job.job_id)
            return
        job = progress.wait_for(client, job.job_id, timeout, quiet=as_json)
    if as_json:
        emit_one(job, True)
    else:
        typer.echo(f"{job.job_id} {job.status}" + (f": {job.error}" if job.error else ""))
    if job.status is not Status.COMPLETED:
        raise typer.Exit(1)


@jobs_app.command()
def show(job_id: JobId, server: Url = None, token: Token = None, store: StoreUrl = None,
         as_json: AsJson = False) -> None:  # fmt: skip
    """Show one job, every field."""
    with connect(server, token, store) as client:
        emit_one(client.jobs.get(resolve(client, job_id)), as_json)


def _control(action: Callable[[Backend, str], Job], job_id: str, as_json: bool,
             server: str | None, token: str | None, store: str | None) -> None:  # fmt: skip
    with connect(server, token, store) as client:
        job = action(client, resolve(client, job_id))
    if as_json:
        emit_one(job, True)
    else:
        typer.echo(f"{job.job_id} {job.status}")


@jobs_app.command()
def cancel(job_id: JobId, server: Url = None, token: Token = None, store: StoreUrl = None,
           as_json: AsJson = False) -> None:  # fmt: skip
    """Cancel a job."""
    _control(lambda c, i: c.jobs.cancel(i), job_id, as_json, server, token, store)


@jobs_app.command()
def suspend(job_id: JobId, server: Url = None, token: Token = None, store: StoreUrl = None,
            as_json: AsJson = False) -> None:  # fmt: skip
    """Suspend a job."""
    _control(lambda c, i: c.jobs.suspend(i), job_id, as_json, server, token, store)


@jobs_app.command()
def resume(job_id: JobId, server: Url = None, token: Token = None, store: StoreUrl = None,
           as_json: AsJson = False) -> None:  # fmt: skip
    """Resume a suspended job."""
    _control(lambda c, i: c.jobs.resume(i), job_id, as_json, server, token, store)


@jobs_app.command()
def retry(job_id: JobId, server: Url = None, token: Token = None, store: StoreUrl = None,
          as_json: AsJson = False) -> None:  # fmt: skip
    """Run a failed or timed-out job again: a new run (run + 1) with fresh retries.

    The job goes failed -> waiting through the status machine, recorded as an event
    (see `jobs events`); its params are kept. Completed, canceled and skipped jobs
    are refused. `requeue` is the same command.
    """
    _control(lambda c, i: c.jobs.retry(i), job_id, as_json, server, token, store)


jobs_app.command("requeue", help="Same as `retry`: a new run of a failed job.")(retry)


@jobs_app.command()
def delete(job_id: JobId, server: Url = None, token: Token = None, store: StoreUrl = None,
           as_json: AsJson = False) -> None:  # fmt: skip
    """Delete a job that no worker holds."""
    _control(lambda c, i: c.jobs.delete(i), job_id, as_json, server, token, store)


@jobs_app.command()
def logs(job_id: JobId, server: Url = None, token: Token = None, store: StoreUrl = None,
         as_json: AsJson = False) -> None:  # fmt: skip
    """Show a job's log lines."""
    with connect(server, token, store) as client:
        found = client.jobs.logs(resolve(client, job_id))
    emit(found, ("at_ms", "attempt", "level", "message"), as_json)


@jobs_app.command()
def events(job_id: JobId, server: Url = None, token: Token = None, store: StoreUrl = None,
           as_json: AsJson = False) -> None:  # fmt: skip
    """Show a job's status changes."""
    with connect(server, token, store) as client:
        found = client.jobs.events(resolve(client, job_id))
    emit(found, ("at_ms", "attempt", "from_status", "to_status", "reason"), as_json)


@jobs_app.command()
def wait(
    job_id: JobId,
    timeout: Annotated[float | None, typer.Option(help="Give up after this many seconds.")] = None,
    server: Url = None,
    token: Token = None,
    store: StoreUrl = None,
    as_json: AsJson = False,
) -> None:
    """Wait for a job to end, with a progress bar on a terminal; exit 0 only if completed.

    Exit status: 0 completed, 1 ended otherwise, 124 still going after --timeout.
    """
    with connect(server, token, store) as client:
        job = progress.wait_for(client, resolve(client, job_id), timeout, quiet=as_json)
    if as_json:
        emit_one(job, True)
    else:
        typer.echo(f"{job.job_id} {job.status}" + (f": {job.error}" if job.error else ""))
    if job.status is not Status.COMPLETED:
        raise typer.Exit(1)


@types_app.command("ls")
def types_ls(page: int = 1, limit: int = 100, server: Url = None, token: Token = None,
             store: StoreUrl = None, as_json: AsJson = False) -> None:  # fmt: skip
    """List job types."""
    with connect(server, token, store) as client:
        found = client.job_types.list(page, limit)
    emit(
        found.items,
        ("type_id", "group_name", "queue", "timeout_sec", "max_retries"),
        as_json,
        f"{found.total} job types",
    )


@types_app.command("show")
def types_show(type_id: str, server: Url = None, token: Token = None, store: StoreUrl = None,
               as_json: AsJson = False) -> None:  # fmt: skip
    """Show one job type."""
    with connect(server, token, store) as client:
        emit_one(client.job_types.get(type_id), as_json)


@groups_app.command("ls")
def groups_ls(page: int = 1, limit: int = 100, server: Url = None, token: Token = None,
              store: StoreUrl = None, as_json: AsJson = False) -> None:  # fmt: skip
    """List job groups."""
    with connect(server, token, store) as client:
        found = client.job_groups.list(page, limit)
    emit(found.items, ("name", "queue_name", "description"), as_json, f"{found.total} job groups")


@groups_app.command("show")
def groups_show(name: str, server: Url = None, token: Token = None, store: StoreUrl = None,
                as_json: AsJson = False) -> None:  # fmt: skip
    """Show one job group."""
    with connect(server, token, store) as client:
        emit_one(client.job_groups.get(name), as_json)
