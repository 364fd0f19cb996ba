"""The write that ends an attempt: policy from ``model.outcomes``, the job's text checked."""

from __future__ import annotations

import itertools

from headrace.model.job import Claimed
from headrace.model.status import Status
from headrace.scheduler import ending, runner
from headrace.scheduler.context import JobContext

S = Status


class Quiet:
    def progress(self, ctx: JobContext, value: float, details: str | None) -> None:
        """Unused."""

    def log(self, ctx: JobContext, level: str, message: str) -> None:
        """Unused."""


def claimed(retries: int = 0, max_retries: int = 0) -> Claimed:
    return Claimed(job_id="j", tenant_id="t", type="x", queue="q", attempt=3, params=None,
                   state={}, progress=0.5, timeout_sec=0, retries=retries,
                   max_retries=max_retries, retry_delay_sec=0, resumed=False)  # fmt: skip


def end(outcome: runner.Outcome, c: Claimed | None = None, **state: object):  # type: ignore[no-untyped-def]
    c = c or claimed()
    ctx = JobContext(c, None, Quiet())
    ctx.state.update(state)
    return ending.of(c, ctx, outcome)


def test_a_job_handed_back_by_a_stopping_worker_keeps_its_queue_place() -> None:
    write, _ = end(runner.Outcome(stopped="shutdown"))
    assert write.path == (S.RUNNING, S.WAITING) and write.values["locked_by"] is None
    assert "eta_ms" not in write.values


def test_a_failure_retries_while_allowed_and_its_text_is_escaped() -> None:
    write, lines = end(runner.Outcome(error="boom \x00 \ud800"), claimed(0, 1))
    assert write.path == (S.RUNNING, S.RETRYING) and write.values["retries"] == 1
    assert write.values["error"] == "boom \\x00 \\ud800"
    assert lines[0].level == "error" and "boom \\x00" in lines[0].message
    last, _ = end(runner.Outcome(error="boom"), claimed(1, 1))
    assert last.path == (S.RUNNING, S.FAILED)


def test_an_unstorable_result_fails_and_an_unstorable_state_is_dropped() -> None:
    write, lines = end(runner.Outcome(result={"k": "\x00"}), bad=["\ud800"])
    assert write.path == (S.RUNNING, S.FAILED) and write.reason == "result cannot be stored"
    assert "result.k" in str(write.values["error"]) and "state" not in write.values
    assert lines == [ending.LogLine("error", lines[0].message)]
    assert "state.bad[0]" in lines[0].message


def test_an_attempt_stopped_before_it_started_goes_back_from_locked_or_writes_nothing() -> None:
    c = claimed()
    assert ending.unstarted(c, "lost") is None
    back = ending.unstarted(c, "shutdown")
    assert back is not None and back.path == (S.LOCKED, S.WAITING)
    assert back.values == {"locked_by": None} and back.attempt == 3
    assert back.reason == "handed back before it started: worker stopping"
    restarted = ending.unstarted(c, "restart")
    assert restarted is not None and restarted.path == (S.LOCKED, S.WAITING)
    assert restarted.values["control"] is None and restarted.values["locked_by"] is None
    assert isinstance(restarted.values["eta_ms"], int)


def test_every_outcome_path_is_one_the_status_machine_allows() -> None:
    from headrace.model import outcomes, status

    paths = [p for p, _ in outcomes.STOPPED.values()] + [outcomes.HANDED_BACK[0]]
    paths += [p for p, _ in outcomes.UNSTARTED.values()] + [outcomes.UNSTARTED_HANDED_BACK[0]]
    for path in paths:
        for a, b in itertools.pairwise(path):
            assert status.allowed(a, b), (a, b)
