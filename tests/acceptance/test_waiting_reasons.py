"""A waiting job says what holds it, with real ``headrace worker`` processes (issue 11).

No worker on its queue, no live worker that knows its type, a full queue: each is named
in the job's status reason instead of a silent wait; a worker logs the types it knows.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests_acceptance_support import start_worker, stop, wait_until

from headrace import Client
from headrace.model.status import Status

pytestmark = pytest.mark.slow


def test_a_job_of_a_type_no_live_worker_knows_says_so(store_url: str, tmp_path: Path) -> None:
    client = Client(store_url, run_workers=False)

    @client.job_type("only.here", queue="compute")
    def only_here(ctx: object, params: object) -> None:
        return None

    job = client.jobs.schedule("only.here")
    assert client.jobs.status_reason(job.job_id) == "no worker serves queue 'compute'"
    log = tmp_path / "worker.log"
    worker = start_worker(store_url, "compute=1", 3.0, log)
    try:
        wait_until(
            lambda: "knows job type" in client.jobs.status_reason(job.job_id), 60, "the reason"
        )
        reason = client.jobs.status_reason(job.job_id)
        assert "no worker serving queue 'compute' knows job type 'only.here'" in reason
        assert "acc.slow_first" in reason  # what the live worker does run
        wait_until(lambda: "job types:" in log.read_text(), 30, "the worker's start line")
        started = next(line for line in log.read_text().splitlines() if "job types:" in line)
        assert "acc.slow_first" in started and "acc.work" not in started  # on maintenance
        assert client.jobs.get(job.job_id).status is Status.WAITING
    finally:
        stop(worker)
        client.close()


def test_streaming_jobs_wait_for_capacity_saying_so_and_do_not_starve_batch_jobs(
    store_url: str, tmp_path: Path
) -> None:
    from headrace.jet.job import JobStatus
    from headrace.jet.pipeline import Pipeline, StreamSource

    client = Client(store_url, run_workers=False)
    jet = client.get_jet()
    streams = []
    for name in ("a", "b"):
        p = Pipeline.create()
        p.read_from(StreamSource(f"in-{name}")).write_to(Pipeline.to_list(f"out-{name}"))
        streams.append(jet.submit(p))
    batch = Pipeline.create()
    batch.read_from(Pipeline.from_list("numbers", [1, 2, 3])).map(lambda x: x * 2).write_to(
        Pipeline.to_list("doubled")
    )
    worker = start_worker(store_url, "streams=1,pipelines=1", 3.0, tmp_path / "worker.log")
    try:
        wait_until(
            lambda: sum(j.get_status() is JobStatus.RUNNING for j in streams) == 1,
            60,
            "one streaming job to run",
        )
        waiting = next(j for j in streams if j.get_status() is not JobStatus.RUNNING)
        reason = waiting.get_status_reason()
        assert reason.startswith("waiting for capacity: queue 'streams' is full (1 of 1"), reason
        # A batch pipeline job is not held behind the streaming one: it has its own queue.
        done = jet.submit(batch)
        done.join(timeout=60)
        assert sorted(client.get_list("doubled")) == [2, 4, 6]
        assert client.jobs.get(done.id).queue == "pipelines"
    finally:
        for job in streams:
            job.cancel()
        stop(worker)
        client.close()


def test_a_labelled_worker_process_takes_only_jobs_its_labels_cover(
    store_url: str, tmp_path: Path
) -> None:
    """``headrace worker --labels gpu,eu`` runs a ``gpu`` job; an ``arm`` job says it waits."""
    client = Client(store_url, run_workers=False)
    ledger = tmp_path / "ledger"
    worker = start_worker(
        store_url, "maintenance=2", 3.0, tmp_path / "worker.log", "--labels", "gpu,eu"
    )
    try:
        wait_until(lambda: client.workers(), 60, "the worker to register")  # and its types
        on_gpu = client.jobs.schedule("acc.work", {"ledger": str(ledger)}, labels="gpu")
        on_arm = client.jobs.schedule("acc.work", {"ledger": str(ledger)}, labels="arm")
        assert client.jobs.wait(on_gpu.job_id, 60).status is Status.COMPLETED
        listed = client.workers()
        assert [w.labels for w in listed] == [("eu", "gpu")]
        assert client.jobs.get(on_arm.job_id).status is Status.WAITING
        assert client.jobs.status_reason(on_arm.job_id).startswith(
            "no live worker serving queue 'maintenance' offers the labels it requires (arm); "
            "they offer: eu, gpu;"
        )
        assert (
            ledger.read_text().count(on_gpu.job_id) == 1 and on_arm.job_id not in ledger.read_text()
        )
    finally:
        stop(worker)
        client.close()
