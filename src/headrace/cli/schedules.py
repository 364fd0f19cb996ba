"""``headrace schedules ls|create|pause|resume|rm|firings``: cron schedules of jobs."""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

import typer

from headrace.cli import output
from headrace.cli.connect import AsJson, JobId, Server, StoreUrl, Token, connect
from headrace.model.schedules import Firing, Schedule

app = typer.Typer(
    help="Cron schedules that start, stop or upgrade jobs, and their past firings.",
    no_args_is_help=True,
)

ScheduleId = Annotated[str, typer.Argument(help="The schedule's id (as `schedules ls` shows).")]
Page = Annotated[int, typer.Option(help="Page number, from 1.")]
Limit = Annotated[int, typer.Option(help="Rows per page.")]


def local(at_ms: int | None, zone: str) -> str:
    """An epoch-ms time in ``zone``, with how far off it is; empty for None."""
    if at_ms is None:
        return ""
    when = datetime.fromtimestamp(at_ms / 1000, zoneinfo.ZoneInfo(zone))
    return f"{when:%Y-%m-%d %H:%M:%S %Z} ({output.ago(at_ms)})"


def _schedules(rows: Sequence[Schedule], total: int, as_json: bool) -> None:
    if as_json:
        output.emit_json(list(rows))
        return
    output.table(
        rows,
        [
            ("ID", lambda s: s.schedule_id),
            ("JOB", lambda s: s.job_id),
            ("CRON", lambda s: s.cron),
            ("TIME ZONE", lambda s: s.timezone),
            ("ACTION", lambda s: str(s.action)),
            ("MISFIRE", lambda s: str(s.misfire)),
            ("STATE", lambda s: "paused" if s.paused else "active"),
            ("NEXT", lambda s: local(s.next_fire_ms, s.timezone)),
        ],
        title=f"{len(rows)} of {total} schedules",
    )


def _firings(rows: Sequence[Firing], total: int, zone: str, as_json: bool) -> None:
    if as_json:
        output.emit_json(list(rows))
        return
    output.table(
        rows,
        [
            ("TICK", lambda f: local(f.fire_ms, zone)),
            ("OUTCOME", lambda f: str(f.outcome)),
            ("RUN", lambda f: "" if f.run_count is None else str(f.run_count)),
            ("SKIPPED", lambda f: str(f.skipped)),
            ("BY", lambda f: f.holder),
            ("ERROR", lambda f: f.error or ""),
        ],
        title=f"{len(rows)} of {total} firings",
    )


@app.command("ls")
def ls(
    job: Annotated[str | None, typer.Option("--job", help="Only this job's schedules.")] = None,
    page: Page = 1,
    limit: Limit = 20,
    server: Server = None,
    token: Token = None,
    store: StoreUrl = None,
    as_json: AsJson = False,
) -> None:
    """List schedules, oldest first."""
    with connect(server, token, store) as client:
        job_id = None if job is None else client.jobs.resolve(job)
        found = client.schedules.list(job_id, page=page, limit=limit)
    _schedules(found.items, found.total, as_json)


@app.command("create")
def create(
    job_id: JobId,
    cron: Annotated[
        str,
        typer.Argument(
            help="Cron expression: 'minute hour day-of-month month day-of-week' "
            "(quote it), or 6 fields with a leading seconds field."
        ),
    ],
    timezone: Annotated[str, typer.Option("--tz", help="IANA time zone.")] = "UTC",
    action: Annotated[str, typer.Option(help="start, stop or upgrade.")] = "start",
    misfire: Annotated[
        str, typer.Option(help="Ticks missed while no scheduler ran: ignore, run_once, run_all.")
    ] = "ignore",
    description: str = "",
    paused: Annotated[bool, typer.Option(help="Create it paused.")] = False,
    server: Server = None,
    token: Token = None,
    store: StoreUrl = None,
    as_json: AsJson = False,
) -> None:
    """Schedule an action on a job at each tick of a cron expression."""
    with connect(server, token, store) as client:
        made = client.schedules.create(
            client.jobs.resolve(job_id),
            cron,
            timezone=timezone,
            action=action,
            misfire=misfire,
            description=description,
            paused=paused,
        )
    output.emit_one(made, as_json)


def _toggle(
    name: str, schedule_id: str, server: Any, token: Any, store: Any, as_json: bool
) -> None:
    with connect(server, token, store) as client:
        changed = getattr(client.schedules, name)(schedule_id)
    output.emit_one(changed, as_json)


@app.command("pause")
def pause(
    schedule_id: ScheduleId,
    server: Server = None,
    token: Token = None,
    store: StoreUrl = None,
    as_json: AsJson = False,
) -> None:
    """Stop a schedule firing until resumed."""
    _toggle("pause", schedule_id, server, token, store, as_json)


@app.command("resume")
def resume(
    schedule_id: ScheduleId,
    server: Server = None,
    token: Token = None,
    store: StoreUrl = None,
    as_json: AsJson = False,
) -> None:
    """Fire a paused schedule again, from its next tick after now."""
    _toggle("resume", schedule_id, server, token, store, as_json)


@app.command("rm")
def rm(
    schedule_id: ScheduleId,
    server: Server = None,
    token: Token = None,
    store: StoreUrl = None,
) -> None:
    """Delete a schedule and its firings."""
    with connect(server, token, store) as client:
        client.schedules.delete(schedule_id)
    typer.echo(f"deleted schedule {schedule_id}")


@app.command("firings")
def firings(
    schedule_id: ScheduleId,
    page: Page = 1,
    limit: Limit = 20,
    server: Server = None,
    token: Token = None,
    store: StoreUrl = None,
    as_json: AsJson = False,
) -> None:
    """List a schedule's past firings, newest tick first."""
    with connect(server, token, store) as client:
        zone = client.schedules.get(schedule_id).timezone
        found = client.schedules.firings(schedule_id, page=page, limit=limit)
    _firings(found.items, found.total, zone, as_json)
