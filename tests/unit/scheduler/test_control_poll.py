"""The control poll: one read of the worker's holdings turned into requests to attempts."""

from __future__ import annotations

from typing import Any

from headrace.model.job import Claimed
from headrace.model.status import Status
from headrace.scheduler import control
from headrace.scheduler.attempt import Attempt
from headrace.scheduler.context import JobContext
from headrace.scheduler.registry import Registry

S = Status


class Quiet:
    def progress(self, ctx: JobContext, value: float, details: str | None) -> None:
        """Unused."""

    def log(self, ctx: JobContext, level: str, message: str) -> None:
        """Unused."""


def running(job_id: str, attempt: int = 1, deadline: float = float("inf")) -> Attempt:
    registry = Registry()
    registry.decorator("t", queue="q")(lambda ctx, params: None)
    spec = registry.get("t")
    assert spec is not None
    c = Claimed(job_id=job_id, tenant_id="x", type="t", queue="q", attempt=attempt,
                params=None, state={}, progress=0.0, timeout_sec=0, retries=0, max_retries=0,
                retry_delay_sec=0, resumed=False)  # fmt: skip
    return Attempt(claimed=c, spec=spec, ctx=JobContext(c, None, Quiet()), instance=None,
                   deadline=deadline)  # fmt: skip


def poll(attempts: list[Attempt], holdings: dict[str, control.Holding], now: float = 0.0):  # type: ignore[no-untyped-def]
    timed_out: list[Attempt] = []

    def time_out(a: Attempt) -> None:
        a.ended = True
        a.ctx.request_stop("timeout")
        timed_out.append(a)

    control.apply(attempts, holdings, now, time_out)
    return timed_out


def test_a_job_held_at_its_attempt_with_no_request_runs_on() -> None:
    a = running("j")
    assert poll([a], {"j": (1, S.RUNNING, None)}) == []
    assert not a.ctx.cancelled and a.ctx.snapshot_requests() == []


def test_a_job_no_longer_held_at_this_attempt_has_lost_its_lease() -> None:
    gone, moved = running("j1"), running("j2", attempt=1)
    poll([gone, moved], {"j2": (2, S.RUNNING, None)})
    assert gone.ctx.stop_reason == "lost" and moved.ctx.stop_reason == "lost"


def test_cancel_and_suspend_requests_stop_their_attempts() -> None:
    c, s = running("c"), running("s")
    poll([c, s], {"c": (1, S.CANCELING, None), "s": (1, S.SUSPENDING, None)})
    assert c.ctx.stop_reason == "cancel" and s.ctx.stop_reason == "suspend"


def test_an_attempt_past_its_deadline_times_out_and_is_not_restarted_too() -> None:
    late = running("j", deadline=5.0)
    holding: dict[str, Any] = {"restart": True}
    assert poll([late], {"j": (1, S.RUNNING, holding)}, now=6.0) == [late]
    assert late.ctx.stop_reason == "timeout"


def test_the_control_column_asks_for_exports_and_restarts_in_the_same_read() -> None:
    a, b = running("a"), running("b")
    poll(
        [a, b], {"a": (1, S.RUNNING, {"export": ["snap"]}), "b": (1, S.RUNNING, {"restart": True})}
    )
    assert a.ctx.snapshot_requests() == ["snap"] and not a.ctx.cancelled
    assert b.ctx.stop_reason == "restart"
    # Still requested: not handed out twice.
    poll([a], {"a": (1, S.RUNNING, {"export": ["snap"]})})
    assert a.ctx.snapshot_requests() == []
    # The export committed (the request cleared), so the same name asked again is new.
    poll([a], {"a": (1, S.RUNNING, None)})
    poll([a], {"a": (1, S.RUNNING, {"export": ["snap"]})})
    assert a.ctx.snapshot_requests() == ["snap"]
