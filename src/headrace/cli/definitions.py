"""``headrace jobs create|start|stop|runs|history|offsets``: jobs as definitions with runs.

The commands join ``headrace jobs``; they share its connection and output options.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from headrace import errors
from headrace.cli.connect import AsJson, JobId, Server, StoreUrl, Token, connect
from headrace.cli.jobs import emit
from headrace.cli.output import emit_one

RUN_COLUMNS = ("run_count", "status", "name", "started_at_ms", "finished_at_ms", "error")
Params = Annotated[
    list[str] | None, typer.Option("--param", "-p", help="KEY=VALUE (JSON value; repeatable).")
]


def parameters(pairs: list[str] | None) -> dict[str, Any]:
    """``KEY=VALUE`` pairs as a dict; a value that is not JSON is a string.

    Raises:
        InvalidInput: naming ``--param`` for a pair without ``=``.
    """
    found: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise errors.InvalidInput("--param", f"expected KEY=VALUE, got {pair!r}")
        try:
            found[key] = json.loads(value)
        except ValueError:
            found[key] = value
    return found


def create(
    name: Annotated[str, typer.Argument(help="The job's name.")],
    pipeline: Annotated[str | None, typer.Option(help="A published pipeline.")] = None,
    version: Annotated[int | None, typer.Option(help="Its commit version.")] = None,
    label: Annotated[str | None, typer.Option(help="Its commit label.")] = None,
    type: Annotated[str | None, typer.Option("--type", help="A job type.")] = None,
    params: Annotated[str | None, typer.Option(help="A task job's params (JSON).")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="Tag (repeatable).")] = None,
    param: Params = None,
    description: str = "",
    project: str = "default",
    server: Server = None,
    token: Token = None,
    store: StoreUrl = None,
    as_json: AsJson = False,
) -> None:
    """Define a job (not started) from a pipeline commit or a job type."""
    with connect(server, token, store) as client:
        job = client.jobs.create(
            name,
            pipeline=pipeline,
            version=version,
            label=label,
            type=type,
            params=None if params is None else json.loads(params),
            tags=tag or [],
            runtime_parameters=parameters(param),
            description=description,
            project=project,
        )
    emit_one(job, as_json)


def start(
    job_id: JobId,
    param: Params = None,
    parameter_set: Annotated[str | None, typer.Option(help="A parameter set.")] = None,
    name: Annotated[str | None, typer.Option(help="The run's name.")] = None,
    server: Server = None,
    token: Token = None,
    store: StoreUrl = None,
    as_json: AsJson = False,
) -> None:
    """Start a new run of the job."""
    with connect(server, token, store) as client:
        job = client.jobs.start(
            job_id, name=name, runtime_parameters=parameters(param), parameter_set=parameter_set
        )
    emit_one(job, as_json)


def stop(
    job_id: JobId,
    force: Annotated[bool, typer.Option(help="End the run at once.")] = False,
    server: Server = None,
    token: Token = None,
    store: StoreUrl = None,
    as_json: AsJson = False,
) -> None:
    """Stop the job's current run."""
    with connect(server, token, store) as client:
        emit_one(client.jobs.stop(job_id, force=force), as_json)


def runs(
    job_id: JobId,
    status: Annotated[str | None, typer.Option(help="e.g. completed,failed")] = None,
    page: int = 1,
    limit: int = 20,
    server: Server = None,
    token: Token = None,
    store: StoreUrl = None,
    as_json: AsJson = False,
) -> None:
    """List the job's runs, newest first (its history)."""
    with connect(server, token, store) as client:
        found: list[Any] = client.jobs.runs(job_id, status=status, page=page, limit=limit)
    emit(found, RUN_COLUMNS, as_json, f"runs of {job_id}")


def offsets(
    job_id: JobId,
    run: Annotated[int | None, typer.Option(help="Of this run.")] = None,
    reset: Annotated[bool, typer.Option(help="Next run starts every source over.")] = False,
    upload: Annotated[Path | None, typer.Option(help="Next run starts from this file.")] = None,
    server: Server = None,
    token: Token = None,
    store: StoreUrl = None,
) -> None:
    """Show the job's committed offsets; or reset them, or upload a file of them."""
    with connect(server, token, store) as client:
        if reset:
            client.jobs.reset_offsets(job_id)
        elif upload is not None:
            client.jobs.upload_offsets(job_id, upload)
        typer.echo(json.dumps(client.jobs.offsets(job_id, run)))


COMMANDS: dict[str, Callable[..., None]] = {
    "create": create,
    "start": start,
    "stop": stop,
    "runs": runs,
    "history": runs,
    "offsets": offsets,
}
