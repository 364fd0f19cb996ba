"""The demo behind ``headrace demo``: job types with progress, retries and a result."""

from __future__ import annotations

import random

import pydantic
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from headrace.cli.connect import opening_store
from headrace.client.embedded import Client
from headrace.scheduler.context import JobContext


class CrunchParams(pydantic.BaseModel):
    """Params of ``demo.crunch``."""

    steps: int = pydantic.Field(ge=1, le=1000)
    flaky: bool = False


def run(count: int, store: str | None) -> None:
    """Schedule ``count`` jobs, run them on in-process workers, print what happened."""
    console = Console()
    with opening_store():
        client = Client(store)
    with client:

        @client.job_type(
            "demo.crunch",
            queue="maintenance",
            params=CrunchParams,
            max_retries=2,
            retry_delay_sec=0,
        )
        def crunch(ctx: JobContext, params: CrunchParams) -> dict[str, int]:
            total = ctx.state.get("total", 0)
            for step in range(ctx.state.get("step", 0), params.steps):
                ctx.check()
                total += step * step
                ctx.state.update(step=step + 1, total=total)
                ctx.progress((step + 1) / params.steps, f"step {step + 1}/{params.steps}")
                ctx.sleep(0.01)
            if params.flaky and ctx.attempt == 1:
                msg = "flaky first attempt (the demo retries it)"
                raise RuntimeError(msg)
            return {"total": total}

        rng = random.Random(7)
        ids = [
            client.jobs.schedule(
                "demo.crunch", {"steps": rng.randint(5, 40), "flaky": rng.random() < 0.2}
            ).job_id
            for _ in range(count)
        ]
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            console=console,
        ) as bar:
            task = bar.add_task("running demo jobs", total=count)
            for job_id in ids:
                client.jobs.wait(job_id, timeout=120)
                bar.advance(task)
        table = Table("ID", "STATUS", "RETRIES", "RESULT")
        for job_id in ids:
            job = client.jobs.get(job_id)
            table.add_row(job_id, str(job.status), str(job.retries), str(job.result))
        console.print(table)
        console.print(
            f"See one with [bold]headrace jobs show {ids[0]}[/bold] (or events, logs);"
            " list them with [bold]headrace jobs ls[/bold]."
            if ids
            else "No jobs scheduled."
        )
