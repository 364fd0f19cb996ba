"""Seeds 000 and 001's job-control blocks, printed one call after another, no waits added.

``suspend()`` returns while the job is ``suspending``; the calls after it complete the
sequence once the suspension lands (``model/control.py``), embedded and remote alike.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from headrace import errors
from headrace.jet.job import JobConfig, JobStatus, ProcessingGuarantee
from headrace.jet.pipeline import Pipeline, StreamSource


@pytest.fixture
def client(any_client: Any) -> Any:
    return any_client


def running_streaming_job(client: Any) -> Any:
    client.get_stream("events", partitions=2).publish_all(range(20))
    pipeline = Pipeline.create()
    pipeline.read_from(StreamSource("events")).map(lambda x: x).write_to(Pipeline.to_list("seen"))
    config = JobConfig(
        name="my-streaming-job",
        processing_guarantee=ProcessingGuarantee.EXACTLY_ONCE,
        snapshot_interval_ms=10000,
    )
    job = client.get_jet().submit(pipeline, config)
    deadline = time.monotonic() + 60
    while job.get_status() is not JobStatus.RUNNING:
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.02)
    return job


def steps(client: Any, job: Any) -> list[tuple[str | None, str]]:
    return [
        (None if e.from_status is None else str(e.from_status), str(e.to_status))
        for e in client.jobs.events(job.id)
    ]


def test_seed_001_controlling_block_runs_as_printed(client: Any) -> None:
    job = running_streaming_job(client)

    # Suspend running job
    job.suspend()

    # Resume suspended job
    job.resume()

    # Restart job
    job.restart()

    # Cancel job
    job.cancel()

    with pytest.raises(errors.JobFailed):
        job.join(timeout=60)
    assert job.is_user_cancelled()
    path = steps(client, job)
    # The suspension landed, then the resume went through, then the cancel.
    assert ("running", "suspending") in path and ("suspending", "suspended") in path
    assert path.index(("suspending", "suspended")) < path.index(("suspended", "resuming"))
    assert path[-1][1] == "canceled"


def test_seed_000_job_control_block_runs_as_printed(client: Any) -> None:
    job = running_streaming_job(client)

    # Suspend a running job
    job.suspend()

    # Resume a suspended job
    job.resume()

    # Cancel a job
    job.cancel()

    # Restart a job
    job.restart()

    # Export snapshot
    job.export_snapshot("my-snapshot")

    path = steps(client, job)
    assert ("suspending", "suspended") in path and ("resuming", "waiting") in path
    # The cancel ended the first run; the restart started a second one.
    assert ("canceled", "waiting") in path
    assert path.index(("suspended", "resuming")) < path.index(("canceled", "waiting"))
    assert client.jobs.get(job.id).run_count == 2
    assert job.get_status() is JobStatus.RUNNING  # export_snapshot waited for it to run
    assert "my-snapshot" in {s.name for s in client.pipelines.list_snapshots()}
    job.cancel()
    with pytest.raises(errors.JobFailed):
        job.join(timeout=60)
    assert job.is_user_cancelled()
    # What stays illegal raises and changes nothing: resume a canceled job.
    before = client.jobs.events(job.id)
    with pytest.raises(errors.IllegalJobState, match="canceled"):
        job.resume()
    assert client.jobs.events(job.id) == before


def test_cancel_and_restart_on_a_suspending_job_complete(client: Any) -> None:
    job = running_streaming_job(client)
    job.suspend()
    # Restart a suspending job: it resumes from the snapshot the suspension took.
    job.restart()
    path = steps(client, job)
    assert ("suspending", "suspended") in path and ("suspended", "resuming") in path
    restarted = [e for e in client.jobs.events(job.id) if e.reason == "restarted on request"]
    assert restarted
    deadline = time.monotonic() + 60
    while job.get_status() is not JobStatus.RUNNING:
        assert time.monotonic() < deadline, "the job never ran again"
        time.sleep(0.02)
    job.suspend()
    job.cancel()  # on a suspending job: canceled once suspended
    assert job.get_status() is JobStatus.FAILED and job.is_user_cancelled()
    assert steps(client, job)[-2:] == [("suspending", "suspended"), ("suspended", "canceled")]
