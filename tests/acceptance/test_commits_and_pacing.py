"""Exactly-once commits against leases, and snapshot pacing, with real worker processes.

Issue 14: a large commit must not cost its job the lease (defect 2), and snapshots must
keep ``snapshot_interval_ms`` however slow a stage is, so a kill loses little (defect 3).
"""

from __future__ import annotations

import itertools
import signal
import time
from pathlib import Path

import pytest
from tests_acceptance_support import start_worker, stop, wait_until

from headrace import Client
from headrace.jet.job import JobConfig, JobStatus, ProcessingGuarantee
from headrace.jet.pipeline import Pipeline, StreamSource

pytestmark = pytest.mark.slow
ENTRIES = 200_000
#: Items of the paced run, and what each costs.
PACED, COST_SEC = 2_000, 0.005
#: Commits the paced run's pacing is read from (of the ten its 10 s of work make at least).
COMMITS = 3


def entry(i: int) -> tuple[int, int]:
    return (i, i * i)


def test_a_200k_entry_map_commit_keeps_its_lease(store_url: str, tmp_path: Path) -> None:
    client = Client(store_url, run_workers=False)
    pipeline = Pipeline.create()
    pipeline.read_from(Pipeline.items(range(ENTRIES))).map(entry).write_to(Pipeline.to_map("big"))
    config = JobConfig(name="big-commit", processing_guarantee=ProcessingGuarantee.EXACTLY_ONCE)
    job = client.get_jet().submit(pipeline, config)
    worker = start_worker(store_url, "pipelines=1", 5.0, tmp_path / "worker.log")
    try:
        job.join(timeout=300)
    finally:
        stop(worker)
    record = client.jobs.get(job.id)
    assert job.get_status() is JobStatus.COMPLETED
    assert record.lease_losses == 0 and record.retries == 0 and record.attempt == 1, (
        "the commit cost the job its lease"
    )
    big = client.get_map("big")
    assert len(big) == ENTRIES and big.get(ENTRIES - 1) == (ENTRIES - 1) ** 2
    client.close()


def paced(ledger: str):  # type: ignore[no-untyped-def]
    def slow(n: int) -> int:
        time.sleep(COST_SEC)
        with open(ledger, "a") as out:
            out.write(f"{time.time()}\n")
        return n

    return slow


def test_snapshots_keep_their_interval_with_a_slow_stage(store_url: str, tmp_path: Path) -> None:
    client = Client(store_url, run_workers=False)
    stream = client.get_stream("paced-in", partitions=1)
    stream.publish_all(range(PACED))
    stream.close()
    ledger = tmp_path / "ledger"
    pipeline = Pipeline.create()
    pipeline.read_from(StreamSource("paced-in")).map(paced(str(ledger))).write_to(
        Pipeline.to_list("paced-out")
    )
    config = JobConfig(
        name="paced",
        processing_guarantee=ProcessingGuarantee.EXACTLY_ONCE,
        snapshot_interval_ms=1000,
        local_parallelism=1,
    )
    job = client.get_jet().submit(pipeline, config)
    log = tmp_path / "workers.log"
    worker = start_worker(store_url, "streams=1", 1.5, log)
    out = client.get_list("paced-out")
    try:
        # Each commit of the exactly-once sink is a snapshot: watch the List grow, by the
        # stage's work rather than the wall clock. Each item costs the stage COST_SEC (its
        # sleep: no more than 1 / COST_SEC items a second, however idle the machine), so
        # the items a commit brings are the work since the one before; a loaded machine
        # stretches the wall time of the engine's start and of each item, not that work.
        wait_until(lambda: job.get_status() is JobStatus.RUNNING, 60, "the job to run")
        sizes = [0]  # the List's length after each commit seen
        deadline = time.monotonic() + 120
        while len(sizes) <= COMMITS and time.monotonic() < deadline:
            if (now := len(out)) != sizes[-1]:
                sizes.append(now)
            time.sleep(0.02)
        assert len(sizes) > COMMITS, f"{len(sizes) - 1} snapshots in 120 s with a 1 s interval"
        work = [(b - a) * COST_SEC for a, b in itertools.pairwise(sizes)]
        assert max(work) <= 2.5, f"snapshots {work} s of work apart with a 1 s interval"

        worker.send_signal(signal.SIGKILL)
        killed_at = time.time()
        worker.wait()
        committed = len(out)  # nobody commits for the killed attempt any more
        time.sleep(0.5)  # its engine process may still be finishing an item
        done = sum(1 for line in ledger.read_text().split() if float(line) <= killed_at)
        lost_sec = (done - committed) * COST_SEC
        assert 0 <= lost_sec <= 2.5, f"the kill lost {lost_sec:.2f} s of work"

        worker = start_worker(store_url, "streams=1", 1.5, log)
        job.join(timeout=120)
    finally:
        stop(worker)
    assert sorted(out) == list(range(PACED)), "exactly once: every item, once"
    client.close()
