"""Example job types for ``headrace server --import headrace.examples.jobs``.

A module like this one is all a server or a worker needs: it declares a job group and
registers job types in the process's default registry when imported. Schedule one with
``curl -X POST .../jobs -d '{"type": "examples.add", "params": {"a": 1, "b": 2}}'`` or
``client.jobs.schedule("examples.add", {"a": 1, "b": 2})``.
"""

from __future__ import annotations

import pydantic

import headrace

headrace.job_group("examples", queue="maintenance", description="Jobs of the README")


class AddParams(pydantic.BaseModel):
    """Params of ``examples.add``."""

    a: float
    b: float


@headrace.job_type("examples.add", group="examples", params=AddParams)
def add(ctx: headrace.JobContext, params: AddParams) -> dict[str, float]:
    """Add two numbers: the smallest job there is."""
    ctx.progress(1.0, "added")
    return {"sum": params.a + params.b}


class CountParams(pydantic.BaseModel):
    """Params of ``examples.count``."""

    to: int = pydantic.Field(default=10, ge=1, le=100_000)
    pause_sec: float = pydantic.Field(default=0.1, ge=0, le=60)


@headrace.job_type("examples.count", group="examples", params=CountParams, suspendable=True)
def count(ctx: headrace.JobContext, params: CountParams) -> dict[str, int]:
    """Count to ``to``, one step per ``pause_sec``, with progress; resumes where it was."""
    start = int(ctx.state.get("n", 0))
    for n in range(start, params.to):
        ctx.check()
        ctx.state.update(n=n + 1)
        ctx.progress((n + 1) / params.to, f"{n + 1}/{params.to}")
        ctx.sleep(params.pause_sec)
    return {"counted": params.to}
