"""Job types that the acceptance tests' ``headrace worker`` subprocesses import."""

from __future__ import annotations

import os
import time
from typing import Any

import headrace
from headrace import JobContext, defaults


@headrace.job_type("acc.work", queue="maintenance", max_retries=10, retry_delay_sec=0)
def work(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Sleep a little, record the execution in a file, return who ran it."""
    time.sleep(params.get("sleep", 0.05))
    with open(params["ledger"], "a") as ledger:
        ledger.write(f"{ctx.job_id} {ctx.attempt} {os.getpid()}\n")
    return {"attempt": ctx.attempt, "pid": os.getpid()}


@headrace.job_type("acc.slow_first", queue="compute", max_retries=5, retry_delay_sec=0)
def slow_first(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Slow on the first attempt (so its worker can be frozen mid-job), quick after.

    The first attempt sleeps ``first_sleep`` s; given a ``release`` path, it ends as soon
    as that file exists (``first_sleep`` is then its bound), and writes ``finished`` as it
    returns, so a test decides when the outcome is made and sees that it was.
    """
    if ctx.attempt == 1:
        with open(params["started"], "w") as f:
            f.write(str(os.getpid()))
        if "release" in params:
            until = time.monotonic() + params["first_sleep"]
            while not os.path.exists(params["release"]) and time.monotonic() < until:
                time.sleep(0.05)
            with open(params["finished"], "w") as f:
                f.write(str(os.getpid()))
        else:
            time.sleep(params["first_sleep"])
    return {"attempt": ctx.attempt, "pid": os.getpid()}


def double(x: int) -> int:
    """A pipeline stage the facade tests publish to a server process (importable there)."""
    return x * 2


@headrace.job_type("acc.hold_tx", queue="download", max_retries=5, retry_delay_sec=0)
def hold_tx(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Hold a write transaction that locks this job's row, so the worker can be frozen in it.

    On PostgreSQL it holds the row lock; on SQLite, ``BEGIN IMMEDIATE``, the write lock.
    """
    from sqlalchemy import text

    assert ctx.store is not None
    with ctx.store.write() as conn:
        conn.execute(
            text(
                "SELECT job_id FROM jobs WHERE job_id = :j"
                + (" FOR UPDATE" if ctx.store.is_postgresql else "")
            ),
            {"j": ctx.job_id},
        )
        with open(params["marker"], "w") as f:
            f.write(str(os.getpid()))
        time.sleep(params.get("hold", 1.0))
    return {"attempt": ctx.attempt}


@headrace.job_type("acc.long", queue="compute", max_retries=5, retry_delay_sec=0)
def long_job(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Run for a while, recording each attempt that starts in the ledger."""
    with open(params["ledger"], "a") as ledger:
        ledger.write(f"{ctx.job_id} {ctx.attempt} {os.getpid()}\n")
    time.sleep(params["sleep"])
    return {"attempt": ctx.attempt}


@headrace.job_type("acc.fragile", queue="compute", max_retries=0, retry_delay_sec=0)
def fragile(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Allows no retry; its first attempt signals that it started, then runs long."""
    if ctx.attempt == 1 and params.get("started"):
        with open(params["started"], "w") as f:
            f.write(str(os.getpid()))
        time.sleep(params["first_sleep"])
    with open(params["ledger"], "a") as ledger:
        ledger.write(f"{ctx.job_id} {ctx.attempt} {os.getpid()}\n")
    return {"attempt": ctx.attempt}


@headrace.job_type("acc.chatty", queue="compute", max_retries=0, retry_delay_sec=0)
def chatty(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """First attempt: log a line and report progress every few ms until told to stop."""
    if ctx.attempt > 1:
        return {"attempt": ctx.attempt}
    deadline = time.monotonic() + params.get("seconds", 60)
    n = 0
    while not ctx.cancelled and time.monotonic() < deadline:
        n += 1
        ctx.log(f"line {n}")
        ctx.progress(min(n / 1_000_000, 1.0), f"line {n}")
        time.sleep(0.005)
    return {"attempt": ctx.attempt, "lines": n}


@headrace.job_type("acc.poison", queue="compute", max_retries=0, retry_delay_sec=0)
def poison(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Logs and raises text that no database stores as it is (NUL, a lone surrogate)."""
    ctx.log("nul \x00 and surrogate \ud800 in a line")
    ctx.log("x" * (defaults.MAX_LOG_LINE_CHARS + 10))
    raise ValueError(params.get("error", "bad \x00 byte \udfff"))


@headrace.job_type("acc.fail_once", queue="maintenance", max_retries=3, retry_delay_sec=1)
def fail_once(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Fail the first attempt (the retry's release is then maintenance's), succeed after."""
    if ctx.attempt == 1:
        raise RuntimeError("first attempt fails on purpose")
    return {"attempt": ctx.attempt, "pid": os.getpid()}


@headrace.job_type("acc.collector", queue="maintenance", max_retries=0, retry_delay_sec=0)
def collector_settings(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """What the worker process's garbage collector is set to (``headrace.collector``)."""
    import gc

    return {"thresholds": list(gc.get_threshold()), "frozen": gc.get_freeze_count()}
