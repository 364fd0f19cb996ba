"""Processing guarantees under SIGKILL: a streaming job's worker dies three times."""

from __future__ import annotations

import random
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
from tests_acceptance_support import start_worker, stop

from headrace import Client
from headrace.jet.job import JobConfig, JobStatus, ProcessingGuarantee
from headrace.jet.pipeline import Pipeline, StreamSource

pytestmark = pytest.mark.slow
EVENTS = 100_000


def pace(n: int) -> int:
    """Identity, slowed to ~10 s a pass so the kills land while the job runs.

    The three kills come at most 1.5 s each after the test sees the job running; on a
    loaded host it sees that late, and at ~5 s a pass the job once ended first.
    """
    if n % 100 == 0:
        time.sleep(0.01)
    return n


@pytest.mark.parametrize(
    "guarantee", [ProcessingGuarantee.EXACTLY_ONCE, ProcessingGuarantee.AT_LEAST_ONCE]
)
def test_killed_three_times_each_event_lands_as_promised(
    store_url: str, tmp_path: Path, guarantee: ProcessingGuarantee
) -> None:
    client = Client(store_url, run_workers=False)
    stream = client.get_stream("numbered", partitions=2)
    for start in range(0, EVENTS, 10_000):
        stream.publish_all(range(start, start + 10_000))
    stream.close()  # the job ends once it has read everything

    pipeline = Pipeline.create()
    pipeline.read_from(StreamSource("numbered")).map(pace).write_to(Pipeline.to_list("landed"))
    config = JobConfig(
        name=f"crash-{guarantee}", processing_guarantee=guarantee, snapshot_interval_ms=200
    )
    job = client.get_jet().submit(pipeline, config)
    log = tmp_path / "workers.log"
    rng = random.Random(1234)
    worker = start_worker(store_url, "streams=1", 1.5, log)
    try:
        attempt = 0
        for _ in range(3):
            # Wait for the new worker's attempt (the dead one's row says running until
            # its lease expires and the reaper takes it back).
            deadline = time.monotonic() + 60
            while not (
                job.get_status() is JobStatus.RUNNING and client.jobs.get(job.id).attempt > attempt
            ):
                assert time.monotonic() < deadline, "the job did not start on the new worker"
                time.sleep(0.02)
            attempt = client.jobs.get(job.id).attempt
            time.sleep(rng.uniform(0.2, 1.5))
            assert job.get_status() is JobStatus.RUNNING, "killed too late: the job had ended"
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            worker = start_worker(store_url, "streams=1", 1.5, log)
        job.join(timeout=240)
    finally:
        stop(worker)
    landed = Counter(client.get_list("landed"))
    assert set(landed) == set(range(EVENTS)), "an event was lost"
    if guarantee is ProcessingGuarantee.EXACTLY_ONCE:
        assert max(landed.values()) == 1, "an event landed twice"
    record = client.jobs.get(job.id)
    assert record.lease_losses >= 3 and record.retries == 0  # every lost lease counted
    client.close()
