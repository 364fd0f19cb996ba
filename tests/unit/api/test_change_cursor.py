"""The live stream's cursor: nothing sent twice, late commits caught, bursts skipped."""

from __future__ import annotations

from headrace.api.routes.changes import LOOKBACK_MS, _Cursor
from headrace.model.job import Job
from headrace.model.status import Status


def job(job_id: str, updated_at_ms: int) -> Job:
    return Job(
        job_id=job_id, tenant_id="t", user_id="u", idempotency_key=None, type="x", name=None,
        description=None, queue="q", status=Status.WAITING, details=None, scheduled_at_ms=0,
        updated_at_ms=updated_at_ms, started_at_ms=None, finished_at_ms=None, eta_ms=0,
        locked_by=None, attempt=0, progress=0.0, progress_details=None, timeout_sec=0,
        max_retries=0, retry_delay_sec=0, retries=0, run_count=1, error=None, result=None,
        params=None, state={},
    )  # fmt: skip


def test_a_change_is_sent_once_and_a_later_change_of_the_same_job_again() -> None:
    cursor = _Cursor(10_000)
    assert [j.job_id for j in cursor.fresh([job("a", 10_000), job("b", 10_500)])] == ["a", "b"]
    assert cursor.newest == 10_500 and cursor.floor == 10_500 - LOOKBACK_MS
    assert cursor.fresh([job("a", 10_000), job("b", 10_500)]) == []  # the reread window
    assert [j.updated_at_ms for j in cursor.fresh([job("a", 10_700)])] == [10_700]


def test_a_late_commit_with_an_older_stamp_is_still_sent() -> None:
    cursor = _Cursor(0)
    cursor.fresh([job("a", 20_000)])
    late = job("b", 20_000 - LOOKBACK_MS // 2)  # committed after "a", stamped before it
    assert cursor.fresh([late, job("a", 20_000)]) == [late]


def test_what_falls_behind_the_window_is_forgotten_and_an_overflow_skips_ahead() -> None:
    cursor = _Cursor(0)
    cursor.fresh([job("a", 1_000)])
    cursor.fresh([job("b", 1_000 + LOOKBACK_MS + 1)])
    assert set(cursor.sent) == {"b"}
    cursor.overflow(50_000)
    assert cursor.sent == {} and cursor.floor == 50_000  # the burst is not reread
