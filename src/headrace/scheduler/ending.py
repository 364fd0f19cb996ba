"""The write that ends an attempt, made from its outcome (``model.outcomes`` has the policy).

A pure function of what the worker knows when the execution returns: the claim, the
job's context (state, progress) and the outcome. The worker queues the write and logs the
lines it returns.
"""

from __future__ import annotations

from typing import NamedTuple

from headrace import defaults, errors
from headrace.model import outcomes, text
from headrace.model.clock import now_ms
from headrace.model.job import Claimed
from headrace.model.status import Status
from headrace.model.writes import AttemptWrite
from headrace.scheduler import failure, runner
from headrace.scheduler.context import JobContext
from headrace.store import codec

S = Status
#: Longest error text an attempt keeps.
MAX_ERROR = defaults.MAX_ERROR_CHARS
#: The path of an attempt that returned.
_COMPLETED = (S.RUNNING, S.COMPLETED)


class LogLine(NamedTuple):
    """A line for the job's log: its level, message, and the longer text stored with it."""

    level: str
    message: str
    stored: str | None = None


def of(c: Claimed, ctx: JobContext, outcome: runner.Outcome) -> tuple[AttemptWrite, list[LogLine]]:
    """The fenced write that ends the attempt, and the lines to log about it.

    The job's own text (an exception's message) is kept, escaped where it cannot be
    stored; a state or result that cannot be stored is refused (the state is dropped with
    a line saying why; the result fails the attempt).
    """
    lines: list[LogLine] = []
    values: dict[str, object] = {"progress": ctx.current_progress}
    try:
        values["state"] = codec.dumps(text.check_value("state", ctx.state), "state")
    except errors.InvalidInput as exc:  # the job's last state is lost, not its outcome
        lines.append(LogLine("error", f"state not stored: {exc}"))
    path: tuple[Status, ...]
    reason: str | None
    error = None if outcome.error is None else text.escaped(outcome.error, MAX_ERROR)
    if outcome.stopped is not None:
        path, reason = outcomes.STOPPED.get(outcome.stopped, outcomes.HANDED_BACK)
        if outcome.stopped == "self-suspend":
            values["details"] = f"suspended on failure: {error}"
        elif outcome.stopped == "restart":
            if error:
                reason = f"restarted: {error}"
            values.update(_back_in_queue("restart"))
        elif path[-1] is S.WAITING:
            values.update(_back_in_queue(outcome.stopped))
    elif error is not None:
        values["error"] = error
        # The error with the user's frames first, in the job's log and its event.
        why = failure.summary(error)
        lines.append(LogLine("error", f"attempt {c.attempt} failed: {why}", error))
        path = outcomes.after_failure(c.retries, c.max_retries)
        if path[-1] is S.RETRYING:
            reason = f"attempt failed: {why}; retry"
            values.update(retries=c.retries + 1, eta_ms=now_ms() + c.retry_delay_sec * 1000)
        else:
            reason = f"attempt failed: {why}"
    else:
        try:
            result = text.check_value("result", outcome.result)
            values["result"] = codec.dumps(result, "result")
            # As ``update(progress=1.0, error=None)`` did, without its keyword dict.
            values["progress"] = 1.0
            values["error"] = None
            path, reason = _COMPLETED, "completed"
        except errors.InvalidInput as exc:
            values["error"] = text.escaped(str(exc), MAX_ERROR)
            path, reason = (S.RUNNING, S.FAILED), "result cannot be stored"
    # Built once, whole: a slot makes one per attempt it ends.
    return AttemptWrite(c.job_id, c.tenant_id, c.attempt, path, values, reason), lines


def unstarted(c: Claimed, reason: str | None) -> AttemptWrite | None:
    """The write for an attempt stopped before a slot started it, if any (``UNSTARTED``).

    It never ran, so it has no state, progress or result to keep: the job goes back to
    waiting without counting a retry. ``lost`` writes nothing.
    """
    if reason == "lost":
        return None
    path, why = outcomes.UNSTARTED.get(reason or "", outcomes.UNSTARTED_HANDED_BACK)
    return AttemptWrite(c.job_id, c.tenant_id, c.attempt, path, _back_in_queue(reason), why)


def _back_in_queue(reason: str | None) -> dict[str, object]:
    """The values that give a stopped attempt's job back to its queue.

    A restart is due now, its request cleared; any other hand-back keeps its eta, so its
    place in the queue.
    """
    if reason == "restart":
        return {"locked_by": None, "eta_ms": now_ms(), "control": None}
    return {"locked_by": None}


def timed_out(c: Claimed, ctx: JobContext) -> AttemptWrite:
    """The write that ends an attempt its worker timed out, keeping its state and progress."""
    error = f"timed out after {c.timeout_sec} s"
    values: dict[str, object] = {
        "error": error,
        "state": codec.dumps(ctx.state, "state"),
        "progress": ctx.current_progress,
    }
    return AttemptWrite(c.job_id, c.tenant_id, c.attempt, (S.RUNNING, S.TIMEOUT), values, error)
