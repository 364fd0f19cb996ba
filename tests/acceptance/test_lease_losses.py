"""A worker killed or cut off: its job keeps its queue place, a lost lease is no retry,
and nothing the lost attempt still says (log lines, progress) is stored.

Issue 14, smaller items. Real ``headrace worker`` subprocesses; the test process plays
the reaper (``MaintenanceRepository``), so no worker claims anything between the loss
and the take-back.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from tests_acceptance_support import start_worker, stop, wait_until

from headrace import Client
from headrace.model.clock import now_ms
from headrace.model.status import Status
from headrace.store import tables
from headrace.store.maintenance import LEASE_LOST, MaintenanceRepository

pytestmark = pytest.mark.slow
LEASE = 1.5


@pytest.fixture
def idle_client(store_url: str) -> Iterator[Client]:
    """A client that runs no worker (the tests start worker processes), closed even when a
    test fails: a connection left open fails the next test on the same xdist worker."""
    client = Client(store_url, run_workers=False)
    yield client
    client.close()


def test_a_killed_workers_job_keeps_its_place_and_counts_a_lease_loss_not_a_retry(
    store_url: str, tmp_path: Path, idle_client: Client
) -> None:
    import worker_jobs  # noqa: F401 - registers the job types in this process too

    ledger, started = tmp_path / "ledger.txt", tmp_path / "started"
    ledger.touch()
    client = idle_client
    log = tmp_path / "workers.log"
    first = start_worker(store_url, "compute=1", LEASE, log)
    second = None
    try:
        victim = client.jobs.schedule(
            "acc.fragile", {"ledger": str(ledger), "started": str(started), "first_sleep": 60}
        ).job_id
        wait_until(started.exists, 60, "the first worker to start the job")
        later = [
            client.jobs.schedule("acc.fragile", {"ledger": str(ledger)}).job_id for _ in range(3)
        ]
        first.send_signal(signal.SIGKILL)
        first.wait()
        reaper = MaintenanceRepository(client.store, holder="test-reaper")
        wait_until(
            lambda: reaper.run(LEASE) > 0 or client.jobs.get(victim).status is Status.WAITING,
            60,
            "the killed worker's job to be taken back",
        )
        assert client.jobs.get(victim).status is Status.WAITING
        second = start_worker(store_url, "compute=1", LEASE, log)
        wait_until(
            lambda: client.jobs.list(status="completed", limit=1).total == 4,
            60,
            "every job to complete",
        )
    finally:
        for proc in (first, second):
            if proc is not None:
                stop(proc)
    order = [line.split()[0] for line in ledger.read_text().splitlines()]
    assert order[0] == victim, "the job taken back went behind jobs scheduled after it"
    assert sorted(order[1:]) == sorted(later)
    job = client.jobs.get(victim)
    assert job.status is Status.COMPLETED and job.attempt == 2
    assert job.retries == 0 and job.lease_losses == 1, "a lost lease is no retry"
    # Taken back from running, or from locked when the kill beat the start's write.
    steps = [(e.to_status, e.reason) for e in client.jobs.events(victim)]
    assert (Status.WAITING, LEASE_LOST) in steps, steps


def test_what_an_attempt_says_after_losing_its_lease_is_not_stored(
    store_url: str, tmp_path: Path, idle_client: Client
) -> None:
    import worker_jobs  # noqa: F401

    client = idle_client
    log = tmp_path / "worker.log"
    worker = start_worker(store_url, "compute=1", LEASE, log)
    store = client.store
    J, L = tables.jobs, tables.job_logs
    try:
        job_id = client.jobs.schedule("acc.chatty", {"seconds": 60}).job_id
        wait_until(lambda: len(client.jobs.logs(job_id)) >= 20, 60, "the job to log")
        reaper = MaintenanceRepository(store, holder="test-reaper")
        # When the reap was committed at the latest. The loss event's own time is taken
        # before the reaper's SELECT ... FOR UPDATE SKIP LOCKED: a worker round that
        # logged a line after that time and committed before the SELECT stored it while
        # the attempt still held its lease (one CI run of stop 31 counted such a line).
        committed_by: list[int] = []

        def cut_off() -> bool:
            # The worker is alive and heartbeating: its lease is cut as a partition would.
            with store.write() as conn:
                conn.execute(
                    update(J)
                    .where(J.c.job_id == job_id, J.c.attempt == 1)
                    .values(lease_expires_ms=0)
                )
            reaper.run(LEASE)
            committed_by[:] = [now_ms()]
            return client.jobs.get(job_id).attempt > 1 or any(
                e.reason == LEASE_LOST for e in client.jobs.events(job_id)
            )

        wait_until(cut_off, 60, "the job to be taken from its worker")
        (lost,) = [e for e in client.jobs.events(job_id) if e.reason == LEASE_LOST]
        assert lost.at_ms <= committed_by[0]
        progress_at_loss = client.jobs.get(job_id).progress
        # The worker notices at its next control poll, ends the attempt (its outcome is
        # refused), then claims the job again: attempt 2 completes at once.
        wait_until(
            lambda: client.jobs.get(job_id).status is Status.COMPLETED, 60, "attempt 2 to end"
        )
    finally:
        stop(worker)
    with store.read() as conn:
        late = conn.execute(
            select(func.count())
            .select_from(L)
            .where(L.c.job_id == job_id, L.c.attempt == 1, L.c.at_ms > committed_by[0])
        ).scalar_one()
    assert late == 0, f"{late} log lines of the lost attempt were stored after the loss"
    job = client.jobs.get(job_id)
    assert job.attempt == 2 and job.result == {"attempt": 2}
    assert job.progress == 1.0  # attempt 2's, never overwritten by attempt 1's reports
    assert progress_at_loss < 1.0
    assert "outcome refused" in log.read_text()
