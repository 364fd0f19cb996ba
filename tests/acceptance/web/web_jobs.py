"""Job types and pipeline functions the dashboard tests' ``headrace server`` imports."""

from __future__ import annotations

from typing import Any

import headrace
from headrace import JobContext


@headrace.job_type("web.quick", queue="maintenance", max_retries=0)
def quick(ctx: JobContext, params: dict[str, Any] | None) -> dict[str, Any]:
    """Log a line, sleep a little, return."""
    params = params or {}
    ctx.log(f"quick job {params.get('label', '')} says hello")
    ctx.sleep(float(params.get("sleep", 0.1)))
    return {"label": params.get("label"), "ok": True}


@headrace.job_type("web.slow", queue="maintenance", max_retries=0)
def slow(ctx: JobContext, params: dict[str, Any] | None) -> dict[str, Any]:
    """Log a numbered tick every 0.2 s for ``seconds`` seconds, reporting progress."""
    params = params or {}
    ticks = int(float(params.get("seconds", 30)) / 0.2)
    for i in range(1, ticks + 1):
        ctx.log(f"tick {i}")
        ctx.progress(i / ticks, f"tick {i} of {ticks}")
        ctx.sleep(0.2)
    return {"ticks": ticks}


@headrace.job_type("web.broken", queue="maintenance", max_retries=0)
def broken(ctx: JobContext, params: dict[str, Any] | None) -> None:
    """Fail with a traceback."""
    params = params or {}
    ctx.log("about to fail", level="error")
    raise ValueError(f"broken on purpose: {params.get('why', 'no reason')}")


def double(n: int) -> int:
    """A pipeline stage the server imports by reference."""
    return n * 2


def positive(n: int) -> bool:
    """A filter stage (fused with ``double`` into one vertex)."""
    return n >= 0


def event_time(item: dict[str, Any]) -> int:
    """An event's time (ms since the epoch), for ``with_timestamps``."""
    return int(item["at"])


def reading(item: dict[str, Any]) -> int:
    """A stage after the timestamps (the watermark travels with the items)."""
    return int(item["n"])
