"""Elected maintenance across real ``headrace worker`` processes, its holder killed -9.

Two workers share a store. The first holds the maintenance role: it alone releases due
retries while both live (the second's log shows no maintenance). Killed with SIGKILL
mid-job, its role lapses and the second takes it within a lease period: it reaps the
dead worker's job (once), runs it again, and releases the next retry. Nothing ran twice
where it must not: one reap event, one completion per job, one release per failure.
"""

from __future__ import annotations

import signal
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from tests_acceptance_support import start_worker, stop, wait_until

from headrace import Client
from headrace.model.clock import now_ms
from headrace.model.status import Status
from headrace.store import tables
from headrace.store.maintenance import LEASE_LOST

pytestmark = pytest.mark.slow
LEASE_SEC = 3.0


def _role(client: Client) -> tuple[str, int] | None:
    with client.store.read() as conn:
        row = conn.execute(select(tables.maintenance_leases)).first()
    return None if row is None else (row.holder, row.expires_ms)


def _holder(pid: int) -> str:
    return f"{socket.gethostname()}:{pid}"


def _events(client: Client, job_id: str, keep: Callable[[str | None], bool]) -> int:
    return sum(1 for e in client.jobs.events(job_id) if keep(e.reason))


@pytest.fixture
def client(store_url: str) -> Iterator[Client]:
    """A client without workers that knows the worker processes' job types."""
    import worker_jobs  # noqa: F401 - registers the job types in this process too

    with Client(store_url, run_workers=False) as c:
        yield c


def test_the_killed_holders_maintenance_is_taken_over_within_a_lease(
    client: Client, store_url: str, tmp_path: Path
) -> None:
    started = tmp_path / "started"
    log_a, log_b = tmp_path / "a.log", tmp_path / "b.log"
    first = start_worker(store_url, "compute=1", LEASE_SEC, log_a)
    second = None
    try:
        wait_until(lambda: (_role(client) or ("",))[0] == _holder(first.pid), 60, "A elected")
        # Its first attempt sleeps an hour (A is killed in it); the next ends at once.
        held = client.jobs.schedule(
            "acc.slow_first", {"started": str(started), "first_sleep": 3600}
        )
        wait_until(started.exists, 60, "A to start the slow job")
        second = start_worker(store_url, "compute=1,maintenance=2", LEASE_SEC, log_b)
        wait_until(lambda: len(client.workers()) == 2, 60, "B to register")
        before = client.jobs.schedule("acc.fail_once")
        wait_until(
            lambda: client.jobs.get(before.job_id).status is Status.COMPLETED,
            60,
            "the first retry released (by A) and run (by B)",
        )
        assert _role(client)[0] == _holder(first.pid)  # type: ignore[index]
        assert "retry(ies) released" in log_a.read_text()
        assert "maintenance role" not in log_b.read_text()  # B held no role, did no chore
        assert "maintenance by" not in log_b.read_text()

        first.send_signal(signal.SIGKILL)
        first.wait()
        killed_at = now_ms()
        lapses_at = _role(client)[1]  # type: ignore[index]  # A renews it no more
        after = client.jobs.schedule("acc.fail_once")
        taken_at: list[int] = []

        def taken() -> bool:
            if not taken_at and (_role(client) or ("",))[0] == _holder(second.pid):
                taken_at.append(now_ms())
            done = client.jobs.list(status="completed", limit=1).total == 3
            return bool(taken_at) and done

        wait_until(taken, 120, "B to take the role over, reap A's job and run the rest")
    finally:
        stop(first)
        if second is not None:
            stop(second)
    assert lapses_at <= killed_at + LEASE_SEC * 1000
    assert taken_at[0] - lapses_at <= LEASE_SEC * 1000, "handed over within one lease period"
    assert f"maintenance role taken by {_holder(second.pid)}" in log_b.read_text()
    assert "lapsed lease(s) reaped" in log_b.read_text()
    # A's job: reaped once, run again by B, completed once.
    assert _events(client, held.job_id, lambda r: r == LEASE_LOST) == 1
    assert started.read_text() == str(first.pid)
    assert client.jobs.get(held.job_id).result == {"attempt": 2, "pid": second.pid}
    for job in (held, before, after):
        final = client.jobs.get(job.job_id)
        completions = [e for e in client.jobs.events(job.job_id) if e.to_status is Status.COMPLETED]
        assert final.status is Status.COMPLETED and len(completions) == 1
    for job in (before, after):  # one failure each, so one release each
        assert _events(client, job.job_id, lambda r: r == "retry delay over") == 1
        assert client.jobs.get(job.job_id).result["pid"] == second.pid
