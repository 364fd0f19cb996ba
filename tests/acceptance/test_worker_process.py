"""``headrace worker`` as a real subprocess: killed, frozen and restarted."""

from __future__ import annotations

import signal
from collections import Counter
from pathlib import Path

import pytest
from tests_acceptance_support import start_worker, stop, wait_sessions_gone, wait_until

from headrace import Client, defaults
from headrace.model import prefetch as prefetching
from headrace.model.status import Status

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("prefetch", ["0", "5", "auto"])
def test_sigkilled_worker_loses_no_job(store_url: str, tmp_path: Path, prefetch: str) -> None:
    """With ``--prefetch`` (``auto`` too: the jobs are short), the kill also catches claimed
    jobs waiting for a slot."""
    import worker_jobs  # noqa: F401 - registers the job types in this process too

    ledger = tmp_path / "ledger.txt"
    ledger.touch()
    client = Client(store_url, run_workers=False)
    ids = [
        client.jobs.schedule("acc.work", {"ledger": str(ledger), "sleep": 0.05}).job_id
        for _ in range(120)
    ]
    log = tmp_path / "workers.log"
    first = start_worker(store_url, "maintenance=5", 2.0, log, "--prefetch", prefetch)
    try:
        wait_until(lambda: len(ledger.read_text().splitlines()) >= 20, 60, "first worker progress")
        first.send_signal(signal.SIGKILL)
        first.wait()
        wait_sessions_gone(store_url, first.pid)  # a COMMIT it sent may still land
        held = [j for j in client.jobs.list(limit=1000, status="locked,running").items]
        assert held, "the kill should have caught jobs mid-run"
        # At most a queue's capacity plus its prefetch are held by one worker.
        most = prefetching.most_held(5) if prefetch == "auto" else int(prefetch)
        assert len(held) <= 5 + most
        if most:
            waiting_for_a_slot = [j for j in held if j.status is Status.LOCKED]
            assert waiting_for_a_slot, "the kill should have caught prefetched jobs"
        second = start_worker(store_url, "maintenance=5", 2.0, log)
        try:
            wait_until(
                lambda: client.jobs.list(status="completed", limit=1).total == len(ids),
                120,
                "all jobs to complete",
            )
        finally:
            stop(second)
    finally:
        stop(first)
    jobs = {job_id: client.jobs.get(job_id) for job_id in ids}
    assert all(j.status is Status.COMPLETED for j in jobs.values())
    for held_job in held:
        after = jobs[held_job.job_id]
        assert after.lease_losses >= 1 and after.attempt >= 2, "a lost lease must be counted"
        assert after.retries == 0, "a lost lease is not a retry"
        assert "lease expired" in (after.error or "") or after.error is None
    for job_id in ids:
        completions = [e for e in client.jobs.events(job_id) if e.to_status is Status.COMPLETED]
        assert len(completions) == 1
    # Executions: every job ran to its ledger line at least once, and its recorded result
    # is the attempt that completed it.
    runs = Counter(line.split()[0] for line in ledger.read_text().splitlines())
    assert set(runs) == set(ids)
    for job in jobs.values():
        assert job.result["attempt"] == job.attempt
    client.close()


def test_frozen_worker_cannot_complete_a_reclaimed_job(store_url: str, tmp_path: Path) -> None:
    import worker_jobs  # noqa: F401

    started = tmp_path / "started.txt"
    client = Client(store_url, run_workers=False)
    job = client.jobs.schedule("acc.slow_first", {"started": str(started), "first_sleep": 2.0})
    log_a = tmp_path / "worker_a.log"
    a = start_worker(store_url, "compute=1", 1.5, log_a)
    b = None
    try:
        wait_until(started.exists, 60, "worker A to start the job")
        # Freeze A once its start write has landed: on SQLite a process frozen inside a
        # write transaction holds the file's write lock, and no other process can write.
        wait_until(
            lambda: client.jobs.get(job.job_id).status is Status.RUNNING, 60, "the start write"
        )
        a.send_signal(signal.SIGSTOP)
        # Past A's lease: a second worker's reaper returns the job, and B completes it.
        b = start_worker(store_url, "compute=1", 1.5, tmp_path / "worker_b.log")
        wait_until(
            lambda: client.jobs.get(job.job_id).status is Status.COMPLETED, 60, "B to complete"
        )
        done = client.jobs.get(job.job_id)
        assert done.result["attempt"] == 2 and done.result["pid"] == b.pid
        a.send_signal(signal.SIGCONT)
        # A wakes with its 2 s sleep long over and tries to complete attempt 1. Either its
        # fenced write is refused by the database, or its control poll sees the lease lost
        # first and drops the outcome; both are logged as refused, and neither may land.
        # (tests/integration/store/test_attempts.py proves the database fence alone.)
        wait_until(lambda: "refused" in log_a.read_text(), 30, "A's late write to be refused")
        after = client.jobs.get(job.job_id)
        assert after.result == done.result and after.attempt == 2 and after.lease_losses == 1
        completions = [e for e in client.jobs.events(job.job_id) if e.to_status is Status.COMPLETED]
        assert len(completions) == 1 and completions[0].attempt == 2
    finally:
        stop(a)
        if b is not None:
            stop(b)
    client.close()


def test_two_worker_processes_share_the_work_without_running_an_attempt_twice(
    store_url: str, tmp_path: Path
) -> None:
    import worker_jobs  # noqa: F401

    ledger = tmp_path / "ledger.txt"
    ledger.touch()
    client = Client(store_url, run_workers=False)
    log = tmp_path / "workers.log"
    workers = [start_worker(store_url, "maintenance=5", 10.0, log) for _ in range(2)]
    try:
        # Both running before the jobs come: on a loaded host one worker's start-up
        # outlasted the other's whole drain (a CI run of stop 31), and it took every job.
        wait_until(lambda: len(client.workers()) == 2, 60, "both workers to register")
        ids = [
            client.jobs.schedule("acc.work", {"ledger": str(ledger), "sleep": 0.01}).job_id
            for _ in range(300)
        ]
        wait_until(
            lambda: client.jobs.list(status="completed", limit=1).total == len(ids),
            120,
            "all jobs to complete",
        )
    finally:
        for w in workers:
            stop(w)
    lines = [line.split() for line in ledger.read_text().splitlines()]
    executions = Counter((job_id, attempt) for job_id, attempt, _pid in lines)
    assert set(job_id for job_id, _ in executions) == set(ids)
    assert max(executions.values()) == 1, "an attempt ran twice"
    pids = {pid for _, _, pid in lines}
    assert pids == {str(w.pid) for w in workers}, "both workers should have taken jobs"
    client.close()


def test_a_worker_offers_config_yamls_labels_unless_its_flag_names_others(
    store_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("labels: [ssd, eu]\n")
    client = Client(store_url, run_workers=False)
    log = tmp_path / "worker.log"
    try:
        for flags, offered in [((), ("eu", "ssd")), (("--labels", "gpu"), ("gpu",))]:
            worker = start_worker(
                store_url, "maintenance=1", 2.0, log, "--config", str(config), *flags
            )
            try:
                wait_until(lambda: len(client.workers()) == 1, 60, "the worker to register")
                assert client.workers()[0].labels == offered
            finally:
                stop(worker)
            wait_until(lambda: not client.workers(), 30, "the worker to unregister")
    finally:
        client.close()


def test_a_worker_process_runs_jobs_with_start_up_frozen_and_fewer_young_collections(
    store_url: str, tmp_path: Path
) -> None:
    import worker_jobs  # noqa: F401

    client = Client(store_url, run_workers=False)
    worker = start_worker(store_url, "maintenance=1", 2.0, tmp_path / "worker.log")
    try:
        job = client.jobs.schedule("acc.collector", {})
        done = client.jobs.wait(job.job_id, 60)
    finally:
        stop(worker)
        client.close()
    assert done.status is Status.COMPLETED, done.error
    assert done.result["thresholds"][0] == defaults.SERVING_GC_YOUNG_THRESHOLD
    assert done.result["frozen"] > 0
