"""A worker frozen (SIGSTOP) inside a transaction for three lease periods stops nobody.

Issue 14 defect 4. The frozen worker holds a write transaction that locks its job's row
(PostgreSQL) or the write lock (SQLite). The healthy workers keep their leases: none of
their jobs is run twice. On PostgreSQL they also keep completing jobs during the freeze,
and the frozen worker's job is taken back (its session is ended after
``TRANSACTION_IDLE_MAX_SEC``, so its row lock goes). On SQLite a process frozen inside
its write transaction holds the one write lock: every writer waits until it wakes (the
documented limit); then the jobs complete, and the leases that lapsed meanwhile are not
taken for lost (maintenance holds back after a stall).
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path

import pytest
from tests_acceptance_support import start_worker, stop, wait_until

from headrace import Client, defaults
from headrace.model.status import Status

pytestmark = pytest.mark.slow
LEASE = 3.0
FREEZE = 3 * LEASE
SHORT_JOBS = 40


def test_a_worker_frozen_mid_transaction_stops_nobody(store_url: str, tmp_path: Path) -> None:
    import worker_jobs  # noqa: F401 - registers the job types in this process too

    postgres = store_url.startswith("postgresql")
    assert defaults.TRANSACTION_IDLE_MAX_SEC + 2 < FREEZE  # the bound fits the freeze
    ledger, marker = tmp_path / "ledger.txt", tmp_path / "marker"
    ledger.touch()
    client = Client(store_url, run_workers=False)
    log = tmp_path / "workers.log"
    healthy = [start_worker(store_url, "maintenance=4,compute=1", LEASE, log) for _ in range(2)]
    victim = start_worker(store_url, "download=1", LEASE, log)
    try:
        long_ids = [
            client.jobs.schedule("acc.long", {"ledger": str(ledger), "sleep": FREEZE + 3}).job_id
            for _ in range(2)
        ]
        wait_until(
            lambda: all(client.jobs.get(j).status is Status.RUNNING for j in long_ids),
            60,
            "both long jobs to run",
        )
        held = client.jobs.schedule("acc.hold_tx", {"marker": str(marker), "hold": 1.0}).job_id
        wait_until(marker.exists, 60, "the victim to open its transaction")
        victim.send_signal(signal.SIGSTOP)
        frozen_at = time.monotonic()

        def short_jobs() -> list[str]:
            return [
                client.jobs.schedule("acc.work", {"ledger": str(ledger), "sleep": 0.02}).job_id
                for _ in range(SHORT_JOBS)
            ]

        short_ids: list[str] = []
        if postgres:
            short_ids = short_jobs()
            wait_until(
                lambda: (
                    client.jobs.list(status="completed", type="acc.work", limit=1).total
                    == SHORT_JOBS
                ),
                FREEZE - 1,
                "the healthy workers to complete jobs during the freeze",
            )
            wait_until(
                lambda: client.jobs.get(held).status is Status.WAITING,
                FREEZE - (time.monotonic() - frozen_at),
                "the frozen worker's job to be taken back during the freeze",
            )
        time.sleep(max(0.0, FREEZE - (time.monotonic() - frozen_at)))
        victim.send_signal(signal.SIGCONT)
        if not postgres:
            short_ids = short_jobs()  # SQLite: this client, too, waited for the write lock
        wait_until(
            lambda: all(
                client.jobs.get(j).status is Status.COMPLETED for j in long_ids + short_ids
            ),
            120,
            "every healthy worker's job to complete",
        )
    finally:
        for proc in [*healthy, victim]:
            stop(proc)
    for job_id in long_ids + short_ids:
        job = client.jobs.get(job_id)
        assert job.attempt == 1 and job.retries == 0 and job.lease_losses == 0, (
            f"job {job_id} was run again: {job}"
        )
    runs = Counter(line.split()[0] for line in ledger.read_text().splitlines())
    assert set(runs) == set(long_ids + short_ids) and max(runs.values()) == 1, "a job ran twice"
    client.close()
