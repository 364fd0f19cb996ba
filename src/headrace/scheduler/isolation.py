"""Running an attempt in a child process, so a job that ignores a stop can be killed.

The child gets the job's callable by cloudpickle (lambdas and closures work), reports
progress, logs and state over a pipe, and is told to stop over the same pipe. If it has
not ended ``KILL_GRACE_SEC`` after a stop request (cancel, suspend, timeout), the parent
kills it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import replace
from multiprocessing.connection import Connection

import cloudpickle

from headrace import children, defaults
from headrace.model.job import Claimed
from headrace.scheduler import messages, runner
from headrace.scheduler.context import JobContext
from headrace.scheduler.registry import JobTypeSpec

#: Spawned, not forked: forking a process that runs threads (pools, heartbeats) can
#: copy a lock mid-use into the child. The child does not import the parent's
#: ``__main__`` (the job's callable travels by cloudpickle), so a script needs no guard.
_SPAWN = children.context_for("spawn")


class _PipeSink:
    """The child's sink: everything the job reports goes to the parent."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.lock = threading.Lock()

    def progress(self, ctx: JobContext, value: float, details: str | None) -> None:
        with self.lock:
            self.conn.send(messages.Progress(value, details, ctx.state))

    def log(self, ctx: JobContext, level: str, message: str) -> None:
        with self.lock:
            self.conn.send(messages.LogLine(level, message))


def _child(conn: Connection, payload: bytes) -> None:
    spec, claimed, params = cloudpickle.loads(payload)
    sink = _PipeSink(conn)
    ctx = JobContext(claimed, params, sink)

    def listen() -> None:
        try:
            while True:
                message = conn.recv()
                if isinstance(message, messages.Stop):
                    ctx.request_stop(message.reason)
        except EOFError:
            ctx.request_stop("lost")

    threading.Thread(target=listen, daemon=True).start()
    outcome = runner.run_attempt(spec, ctx, runner.instantiate(spec))
    try:
        result = cloudpickle.dumps(outcome)
    except Exception as exc:  # an unpicklable result is reported, not lost
        result = cloudpickle.dumps(
            runner.Outcome(error=f"result cannot leave the child process: {exc}")
        )
    with sink.lock:
        conn.send(messages.Done(result, ctx.state, ctx.current_progress))


def run_in_child(spec: JobTypeSpec, ctx: JobContext) -> runner.Outcome:
    """Run the attempt in a spawned child; relay its reports to ``ctx``; kill it if stuck."""
    claimed = Claimed(
        job_id=ctx.job_id,
        tenant_id=ctx.tenant_id,
        type=ctx.type,
        queue="",
        attempt=ctx.attempt,
        params=None,
        state=ctx.state,
        progress=ctx.current_progress,
        timeout_sec=0,
        retries=0,
        max_retries=0,
        retry_delay_sec=0,
        resumed=ctx.resumed,
    )
    payload = cloudpickle.dumps((replace(spec, isolation="thread"), claimed, ctx.params))
    parent, child = _SPAWN.Pipe()
    proc = _SPAWN.Process(target=_child, args=(child, payload), daemon=True)
    proc.start()
    child.close()
    stop_sent_at: float | None = None
    try:
        while True:
            if parent.poll(0.05):
                try:
                    message = parent.recv()
                except EOFError:
                    message = None
                if message is not None:
                    done = _relay(ctx, message)
                    if done is not None:
                        return done
            if ctx.cancelled and stop_sent_at is None:
                stop_sent_at = time.monotonic()
                with contextlib.suppress(BrokenPipeError, OSError):
                    parent.send(messages.Stop(ctx.stop_reason or "stop"))
            if (
                stop_sent_at is not None
                and time.monotonic() - stop_sent_at > defaults.KILL_GRACE_SEC
            ):
                proc.kill()
                proc.join()
                return runner.Outcome(stopped=ctx.stop_reason or "stop")
            if not proc.is_alive() and not parent.poll():
                if ctx.cancelled:
                    return runner.Outcome(stopped=ctx.stop_reason or "stop")
                return runner.Outcome(
                    error=f"the job's child process died with exit code {proc.exitcode}"
                )
    finally:
        parent.close()
        if proc.is_alive():
            proc.kill()
        proc.join()


def _relay(ctx: JobContext, message: messages.FromChild) -> runner.Outcome | None:
    """Pass a child's report on to the worker's context; the outcome once it is done."""
    match message:
        case messages.Progress(value, details, state):
            ctx.state.clear()
            ctx.state.update(state)
            ctx.progress(value, details)
        case messages.LogLine(level, line):
            ctx.log(line, level)
        case messages.Done(result, state, progress):
            ctx.state.clear()
            ctx.state.update(state)
            ctx.current_progress = progress
            outcome: runner.Outcome = cloudpickle.loads(result)
            return outcome
    return None
