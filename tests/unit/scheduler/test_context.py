"""``JobContext``'s stop requests: cooperative checks and ``sleep`` wake-ups."""

from __future__ import annotations

import threading

import pytest

from headrace.errors import JobStopped
from headrace.model.job import Claimed
from headrace.scheduler.context import JobContext

#: Long enough that a sleep still running at a join's timeout means it was never woken.
SLEEP_SEC = 120.0
JOIN_SEC = 20.0


class Reports:
    """A sink that keeps what the context reports (the worker's role)."""

    def __init__(self) -> None:
        self.values: list[tuple[float, str | None]] = []
        self.lines: list[tuple[str, str]] = []

    def progress(self, ctx: JobContext, value: float, details: str | None) -> None:
        self.values.append((value, details))

    def log(self, ctx: JobContext, level: str, message: str) -> None:
        self.lines.append((level, message))


def context() -> JobContext:
    claimed = Claimed(
        job_id="job-1",
        tenant_id="tenant-1",
        type="t",
        queue="q",
        attempt=1,
        params=None,
        state={},
        progress=0.0,
        timeout_sec=0,
        retries=0,
        max_retries=0,
        retry_delay_sec=0,
        resumed=False,
    )
    return JobContext(claimed, None, Reports())


def sleep_in_thread(ctx: JobContext) -> tuple[threading.Thread, list[BaseException]]:
    raised: list[BaseException] = []

    def run() -> None:
        try:
            ctx.sleep(SLEEP_SEC)
        except BaseException as exc:  # the test inspects what was raised
            raised.append(exc)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, raised


def assert_woken(sleeper: tuple[threading.Thread, list[BaseException]], reason: str) -> None:
    """The sleeping thread ended within ``JOIN_SEC``, raising ``JobStopped(reason)`` once."""
    t, raised = sleeper
    t.join(JOIN_SEC)
    assert not t.is_alive(), f"sleep was not woken by the stop ({reason})"
    assert len(raised) == 1 and isinstance(raised[0], JobStopped)
    assert raised[0].reason == reason


def test_a_new_context_is_not_cancelled_and_check_passes() -> None:
    ctx = context()
    assert not ctx.cancelled and ctx.stop_reason is None
    ctx.check()


def test_the_first_stop_reason_wins_and_check_raises_it() -> None:
    ctx = context()
    ctx.request_stop("cancel")
    ctx.request_stop("timeout")
    assert ctx.cancelled and ctx.stop_reason == "cancel"
    with pytest.raises(JobStopped) as stopped:
        ctx.check()
    assert stopped.value.reason == "cancel"


def test_sleep_after_a_stop_raises_at_once() -> None:
    ctx = context()
    ctx.request_stop("suspend")
    assert_woken(sleep_in_thread(ctx), "suspend")


def test_a_stop_during_sleep_wakes_it() -> None:
    ctx = context()
    sleeper = sleep_in_thread(ctx)
    # The stop may land before or after the thread starts waiting: both must wake it.
    ctx.request_stop("cancel")
    assert_woken(sleeper, "cancel")


def test_every_sleeper_wakes() -> None:
    ctx = context()
    sleepers = [sleep_in_thread(ctx) for _ in range(5)]
    ctx.request_stop("timeout")
    for sleeper in sleepers:
        assert_woken(sleeper, "timeout")


def test_sleep_without_a_stop_returns_after_its_time() -> None:
    ctx = context()
    ctx.sleep(0.01)
    assert not ctx.cancelled


def test_a_log_line_is_kept_escaped_and_cut_and_a_bad_level_is_refused() -> None:
    from headrace import defaults, errors

    ctx = context()
    reports: Reports = ctx._sink  # type: ignore[assignment]
    ctx.log("a \x00 b \ud800 c é", "WARNING")
    ctx.log("y" * (defaults.MAX_LOG_LINE_CHARS + 1))
    assert reports.lines == [
        ("warning", "a \\x00 b \\ud800 c é"),
        ("info", "y" * defaults.MAX_LOG_LINE_CHARS + "... [1 more characters]"),
    ]
    with pytest.raises(errors.InvalidInput) as info:
        ctx.log("x", "loud")
    assert info.value.field == "level"


@pytest.mark.parametrize(
    ("details", "state", "field"),
    [
        ("nul \x00", {}, "progress.details"),
        ({"k": "d" * 10_000}, {}, "progress.details"),
        ("d" * 10_001, {}, "progress.details"),
        (None, {"a": ["ok", "\x00"]}, "state.a[1]"),
    ],
)
def test_progress_with_unstorable_details_or_state_is_refused(
    details: object, state: dict[str, object], field: str
) -> None:
    from headrace import errors

    ctx = context()
    reports: Reports = ctx._sink  # type: ignore[assignment]
    ctx.state.update(state)
    with pytest.raises(errors.InvalidInput) as info:
        ctx.progress(0.5, details)  # type: ignore[arg-type]
    assert info.value.field == field
    assert reports.values == [] and ctx.current_progress == 0.0


def test_a_stop_or_an_export_of_one_context_is_not_anothers() -> None:
    """Contexts start from class defaults (no per-job lock, lists or sets): what one is
    asked never shows in another."""
    first, second = context(), context()
    first.request_stop("cancel")
    first.request_exports(["a"])
    assert second.stop_reason is None and not second.cancelled
    assert second.snapshot_requests() == []
    assert first.snapshot_requests() == ["a"]
    first.state["k"] = 1
    assert second.state == {}


def test_an_export_name_is_handed_out_once_until_it_is_asked_for_anew() -> None:
    ctx = context()
    ctx.request_exports([])  # the poll's usual answer: nothing pending
    assert ctx.snapshot_requests() == []
    ctx.request_exports(["a", "b"])
    ctx.request_exports(["a", "b"])  # still pending at the next poll: not again
    assert ctx.snapshot_requests() == ["a", "b"]
    assert ctx.snapshot_requests() == []
    ctx.request_exports(["b"])  # "a" was committed (no longer requested) ...
    ctx.request_exports(["a", "b"])  # ... so asking for it again is a new export
    assert ctx.snapshot_requests() == ["a"]
    ctx.exports_committed(["b"])  # a commit cleared "b" before any poll saw it gone
    ctx.request_exports(["a", "b"])
    assert ctx.snapshot_requests() == ["b"]
    ctx.request_exports([])
    ctx.request_exports(["a"])
    assert ctx.snapshot_requests() == ["a"]
