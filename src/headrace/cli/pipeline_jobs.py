"""``headrace pipelines list-jobs|save-snapshot|list-snapshots|delete-snapshot|restart``.

Jet's ``hz-cli`` job commands over pipeline jobs: a job is named by its name (Jet's
job name) or by its id or id prefix, as ``list-jobs`` shows them. The commands join the
shared ``pipelines`` group (``cli/pipelines_group.py``).
"""

from __future__ import annotations

from typing import Annotated

import typer

from headrace import errors
from headrace.cli import output, pipelines_group
from headrace.cli.connect import AsJson, Backend, StoreUrl, Token, Url, connect
from headrace.model import status as machine
from headrace.model.facades import JET

app = pipelines_group.app

JobRef = Annotated[str, typer.Argument(help="The job's name, id, or id prefix.")]

PIPELINE_COLUMNS: tuple[output.Column, ...] = (
    ("ID", lambda j: j.job_id or ""),
    ("NAME", lambda j: j.name or ""),
    ("STATUS", lambda j: JET[j.status].name),
    ("RUN", lambda j: str(j.run_count)),
    ("SUBMITTED", lambda j: output.ago(j.scheduled_at_ms)),
    ("UPDATED", lambda j: output.ago(j.updated_at_ms)),
)

SNAPSHOT_COLUMNS: tuple[output.Column, ...] = (
    ("NAME", lambda s: s.name),
    ("JOB", lambda s: s.job_id or ""),
    ("RUN", lambda s: str(s.run_count)),
    ("SIZE", lambda s: f"{s.size_bytes} B"),
    ("CREATED", lambda s: output.ago(s.created_at_ms)),
)


def job_of(client: Backend, ref: str) -> str:
    """The id of the pipeline job ``ref`` names: its name first, else its id or prefix.

    Raises:
        NotFound: no pipeline job of that name or id.
        Conflict: an id prefix several jobs share.
    """
    named = client.pipelines.find_named(ref)
    if named is not None:
        return named.job_id
    try:
        job_id = client.jobs.resolve(ref)
    except errors.InvalidInput:
        raise errors.NotFound("pipeline job", ref) from None
    return client.pipelines.get(job_id).job_id


@app.command("list-jobs")
def list_jobs(
    all_: Annotated[bool, typer.Option("--all", "-a", help="Also jobs that have ended.")] = False,
    server: Url = None,
    token: Token = None,
    store: StoreUrl = None,
    as_json: AsJson = False,
) -> None:
    """List pipeline jobs (running ones; --all for every one), with Jet's statuses."""
    with connect(server, token, store) as client:
        found = client.pipelines.list()
    shown = [j for j in found if all_ or j.status not in machine.FINAL]
    if as_json:
        output.emit_json(shown)
        return
    output.table(shown, PIPELINE_COLUMNS, f"{len(shown)} pipeline jobs")


@app.command("save-snapshot")
def save_snapshot(
    job: JobRef,
    name: Annotated[str, typer.Argument(help="The snapshot's name (replaced if it exists).")],
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the snapshot.")] = 60.0,
    server: Url = None,
    token: Token = None,
    store: StoreUrl = None,
) -> None:
    """Export a named snapshot of a running or suspended job; it outlives the job.

    Start a job from it with JobConfig(initial_snapshot_name=NAME).
    """
    with connect(server, token, store) as client:
        job_id = job_of(client, job)
        client.pipelines.export_snapshot(job_id, name, timeout=timeout)
    typer.echo(f"saved snapshot {name!r} of job {job_id}")


@app.command("list-snapshots")
def list_snapshots(
    server: Url = None, token: Token = None, store: StoreUrl = None, as_json: AsJson = False
) -> None:
    """List exported snapshots: name, the job it came from, size, age."""
    with connect(server, token, store) as client:
        found = client.pipelines.list_snapshots()
    if as_json:
        output.emit_json(found)
        return
    output.table(found, SNAPSHOT_COLUMNS, f"{len(found)} snapshots")


@app.command("delete-snapshot")
def delete_snapshot(
    name: Annotated[str, typer.Argument(help="The exported snapshot's name.")],
    server: Url = None,
    token: Token = None,
    store: StoreUrl = None,
) -> None:
    """Delete an exported snapshot."""
    with connect(server, token, store) as client:
        client.pipelines.delete_snapshot(name)
    typer.echo(f"deleted snapshot {name!r}")


@app.command("restart")
def restart(
    job: JobRef,
    server: Url = None,
    token: Token = None,
    store: StoreUrl = None,
) -> None:
    """Restart a running job: stop its execution and run again from its last snapshot."""
    with connect(server, token, store) as client:
        found = client.pipelines.restart(job_of(client, job))
    typer.echo(f"{found.job_id} restarting ({found.status})")
