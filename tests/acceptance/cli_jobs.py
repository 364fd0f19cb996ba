"""Job groups and types a ``headrace server --import cli_jobs`` declares (the CLI's tests)."""

from __future__ import annotations

from typing import Any

import headrace
from headrace import JobContext

# Declared publicly, before any type: the types below inherit its queue.
headrace.job_group("cliops", queue="download", description="CLI acceptance jobs")
# A group with no type yet is stored too, as the server starts.
headrace.job_group("lonely", queue="maintenance", description="no types yet")
headrace.job_group("parked", queue="parked", description="a queue no worker serves")


@headrace.job_type("cliops.fail", group="cliops", max_retries=0)
def fail(ctx: JobContext, params: dict[str, Any]) -> None:
    """Fail every attempt (what `headrace jobs retry` is for)."""
    msg = f"failing on purpose, run {ctx.attempt}"
    raise RuntimeError(msg)


@headrace.job_type("parked.idle", group="parked")
def idle(ctx: JobContext, params: dict[str, Any]) -> None:
    """Never runs: its queue has no worker (what `headrace queues purge` is for)."""
