"""``headrace queues`` and ``headrace workers``: what an operator looks at first (``rq info``).

``headrace queues`` lists each queue's capacity, running, locked (held by a worker for a
slot) and waiting jobs, and how long the oldest due job has waited; ``headrace queues purge
Q`` cancels Q's waiting jobs. ``headrace workers`` (or ``headrace workers ls``) lists worker
processes: their labels, queues, capacity, running and locked jobs, load and the age of
their heartbeat.
"""

from __future__ import annotations

from typing import Annotated

import typer

from headrace.cli import output
from headrace.cli.connect import AsJson, StoreUrl, Token, Url, connect
from headrace.model.clock import now_ms
from headrace.service.workers import ALIVE_SEC, QueueInfo
from headrace.store.workers import WorkerRecord

queues_app = typer.Typer(
    help="Queues: capacity, running, waiting (`headrace queues`); purge one.",
    invoke_without_command=True,
)

QUEUE_COLUMNS: tuple[output.Column, ...] = (
    ("QUEUE", lambda q: q.name),
    ("CAPACITY", lambda q: str(q.capacity)),
    ("WORKERS", lambda q: str(q.workers)),
    ("RUNNING", lambda q: str(q.running)),
    ("LOCKED", lambda q: str(q.locked)),
    ("WAITING", lambda q: str(q.waiting)),
    ("OLDEST WAITING", lambda q: output.ago(q.oldest_waiting_ms)),
)


def worker_columns(at_ms: int) -> tuple[output.Column, ...]:
    """The columns of ``headrace workers``, ages taken at ``at_ms``."""

    def alive(w: WorkerRecord) -> str:
        return "yes" if at_ms - w.heartbeat_ms <= ALIVE_SEC * 1000 else "no"

    return (
        ("WORKER", lambda w: w.worker_id or ""),
        ("HOST", lambda w: w.hostname),
        ("PID", lambda w: str(w.pid)),
        ("LABELS", lambda w: ",".join(w.labels) or "-"),
        ("QUEUES", lambda w: ", ".join(f"{q}={c}" for q, c in sorted(w.queues.items()))),
        ("CAPACITY", lambda w: str(w.capacity)),
        ("RUNNING", lambda w: str(w.running)),
        ("LOCKED", lambda w: str(w.locked)),
        ("LOAD", lambda w: f"{w.load:.0%}"),
        ("STARTED", lambda w: output.ago(w.started_at_ms, at_ms)),
        ("HEARTBEAT", lambda w: output.ago(w.heartbeat_ms, at_ms)),
        ("ALIVE", alive),
    )


@queues_app.callback()
def queues(
    ctx: typer.Context,
    server: Url = None,
    token: Token = None,
    store: StoreUrl = None,
    as_json: AsJson = False,
) -> None:
    """List queues: capacity of live workers, running and waiting jobs, oldest waiting."""
    if ctx.invoked_subcommand is not None:
        return
    with connect(server, token, store) as client:
        found: list[QueueInfo] = client.queues()
    if as_json:
        output.emit_json(found)
        return
    output.table(found, QUEUE_COLUMNS, f"{len(found)} queues")


@queues_app.command()
def purge(
    queue: Annotated[str, typer.Argument(help="The queue whose waiting jobs to cancel.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    server: Url = None,
    token: Token = None,
    store: StoreUrl = None,
    as_json: AsJson = False,
) -> None:
    """Cancel every waiting job of a queue (each gets a canceled event); running jobs go on."""
    with connect(server, token, store) as client:
        if not yes:
            counts = {q.name: q.jobs.get("waiting", 0) for q in client.queues()}
            count = counts.get(queue, 0)
            if not typer.confirm(f"Cancel {count} waiting job(s) of queue {queue!r}?"):
                typer.echo("nothing purged", err=True)
                raise typer.Exit(1)
        canceled = client.jobs.purge(queue)
    if as_json:
        output.emit_json({"queue": queue, "canceled": canceled, "total": len(canceled)})
    else:
        typer.echo(f"canceled {len(canceled)} waiting job(s) of queue {queue}")


workers_app = typer.Typer(
    help="Worker processes: labels, queues, capacity, running, load, heartbeat (`ls`).",
    invoke_without_command=True,
)


@workers_app.callback()
def workers(
    ctx: typer.Context,
    server: Url = None,
    token: Token = None,
    store: StoreUrl = None,
    as_json: AsJson = False,
) -> None:
    """List worker processes (as ``headrace workers ls``)."""
    if ctx.invoked_subcommand is not None:
        return
    list_workers(server, token, store, as_json)


@workers_app.command("ls")
def list_workers(
    server: Url = None,
    token: Token = None,
    store: StoreUrl = None,
    as_json: AsJson = False,
) -> None:
    """List worker processes: labels, queues, capacity, running jobs, load, heartbeat age."""
    with connect(server, token, store) as client:
        found = client.workers()
    at = now_ms()
    if as_json:
        output.emit_json(
            [
                {
                    **output.plain(w),
                    "capacity": w.capacity,
                    "load": round(w.load, 4),
                    "heartbeat_age_ms": at - w.heartbeat_ms,
                    "alive": at - w.heartbeat_ms <= ALIVE_SEC * 1000,
                }
                for w in found
            ]
        )
        return
    output.table(found, worker_columns(at), f"{len(found)} workers")
