"""Job types that the API tests' ``headrace server`` subprocesses import (``--import``)."""

from __future__ import annotations

from typing import Any

import pydantic

import headrace
from headrace import JobContext


class AddParams(pydantic.BaseModel):
    a: int
    b: int = 0


@headrace.job_type("api.echo", queue="maintenance")
def echo(ctx: JobContext, params: Any) -> Any:
    """Log a line, report progress, return the params."""
    ctx.log(f"echo {params!r}")
    ctx.progress(0.5, "half way")
    return params


@headrace.job_type("api.add", queue="maintenance", params=AddParams)
def add(ctx: JobContext, params: AddParams) -> dict[str, int]:
    """Add two numbers (params checked by a pydantic model)."""
    return {"sum": params.a + params.b}


@headrace.job_type("api.sleep", queue="download", suspendable=True)
def sleep(ctx: JobContext, params: dict[str, Any]) -> str:
    """Sleep ``sec`` seconds in small steps, stopping when asked."""
    ctx.log("sleeping")
    ctx.sleep(float(params.get("sec", 30)))
    return "slept"


@headrace.job_type("api.chatty", queue="maintenance")
def chatty(ctx: JobContext, params: dict[str, Any]) -> None:
    """Log ``lines`` numbered lines."""
    for i in range(int(params.get("lines", 10))):
        ctx.log(f"line {i}")
