"""Seed 000 (``hazelcast.jet.job``) and seed 001's job management, imports changed only."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from headrace import Client, errors
from headrace.jet.job import JobConfig, JobStatus, ProcessingGuarantee
from headrace.jet.pipeline import Pipeline, StreamSource


def batch_pipeline(n: int = 100) -> Pipeline:
    pipeline = Pipeline.create()
    pipeline.read_from(Pipeline.from_list("numbers", list(range(n)))).map(lambda x: x * 2).write_to(
        Pipeline.to_list("doubled")
    )
    return pipeline


def streaming_pipeline(client: Client, stream: str = "events", sink: str = "seen") -> Pipeline:
    client.get_stream(stream, partitions=2)
    pipeline = Pipeline.create()
    pipeline.read_from(StreamSource(stream)).map(lambda x: x).write_to(Pipeline.to_list(sink))
    return pipeline


def wait_status(job: object, status: JobStatus, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while job.get_status() is not status:  # type: ignore[attr-defined]
        assert time.monotonic() < deadline, f"{job} never reached {status}"
        time.sleep(0.02)


@pytest.fixture
def jet(client: Client) -> object:
    return client.get_jet()


def test_job_lifecycle(client: Client, jet: object) -> None:
    pipeline = batch_pipeline()
    # Submit a job
    job = jet.submit(pipeline)  # type: ignore[attr-defined]
    print(f"Job ID: {job.id}")
    print(f"Job Name: {job.name}")

    # Check status
    status = job.get_status()
    print(f"Status: {status}")
    assert status in set(JobStatus)

    # Wait for completion
    job.join()  # Blocks until job completes or fails

    # Or wait with timeout
    try:
        job.join(timeout=60.0)
    except TimeoutError:
        print("Job did not complete in time")
    assert job.get_status() is JobStatus.COMPLETED and job.is_terminal()
    assert sorted(client.get_list("doubled")) == [x * 2 for x in range(100)]


def test_join_timeout_raises_both_spellings(client: Client, jet: object) -> None:
    job = jet.submit(streaming_pipeline(client))  # type: ignore[attr-defined]
    with pytest.raises(TimeoutError):
        job.join(timeout=0.3)
    with pytest.raises(errors.TimeoutException):
        job.join(timeout=0.1)
    job.cancel()


def test_job_control_on_a_streaming_job(client: Client, jet: object) -> None:
    job = jet.submit(streaming_pipeline(client))  # type: ignore[attr-defined]
    wait_status(job, JobStatus.RUNNING)
    client.get_stream("events").publish_all(range(10))

    # Suspend a running job
    job.suspend()
    wait_status(job, JobStatus.SUSPENDED)
    assert job.get_suspension_cause() == "suspended by user"

    # Resume a suspended job
    job.resume()
    wait_status(job, JobStatus.RUNNING)

    # Restart a job
    job.restart()
    deadline = time.monotonic() + 30
    while not any(e.reason == "restarted on request" for e in client.jobs.events(job.id)):
        assert time.monotonic() < deadline, "the restart never happened"
        time.sleep(0.02)
    wait_status(job, JobStatus.RUNNING)

    # Cancel a job
    job.cancel()
    with pytest.raises(errors.JobFailed):
        job.join(timeout=30)
    assert job.is_user_cancelled() and job.get_status() is JobStatus.FAILED
    steps = [str(e.to_status) for e in client.jobs.events(job.id)]
    assert "suspended" in steps and steps[-1] == "canceled"
    assert steps.count("locked") >= 3  # first start, after resume, after restart


def test_illegal_control_calls_raise_and_change_nothing(client: Client, jet: object) -> None:
    job = jet.submit(batch_pipeline(10))  # type: ignore[attr-defined]
    job.join(timeout=60)
    events = client.jobs.events(job.id)
    for call in (job.resume, job.suspend, job.cancel):
        with pytest.raises(errors.IllegalJobState):
            call()
    with pytest.raises(errors.IllegalJobState):
        job.export_snapshot("nope")
    assert client.jobs.events(job.id) == events and job.get_status() is JobStatus.COMPLETED
    # Restarting an ended job starts a new run of it (model/control.py), which completes.
    job.restart()
    job.join(timeout=60)
    assert client.jobs.get(job.id).run_count == 2 and job.get_status() is JobStatus.COMPLETED
    running = jet.submit(streaming_pipeline(client, "s2", "o2"))  # type: ignore[attr-defined]
    wait_status(running, JobStatus.RUNNING)
    with pytest.raises(errors.IllegalJobState):
        running.resume()
    running.cancel()


def test_job_metrics_and_submission_time(client: Client, jet: object) -> None:
    before = dt.datetime.now(dt.UTC)
    job = jet.submit(batch_pipeline(50))  # type: ignore[attr-defined]
    job.join(timeout=60)
    # Get job metrics
    metrics = job.get_metrics()

    print(f"Received count: {metrics.received_count}")
    print(f"Emitted count: {metrics.emitted_count}")
    print(f"Processing time: {metrics.total_processing_time_ms}ms")

    # Get submission time
    submitted = job.get_submission_time()
    print(f"Submitted at: {submitted}")
    assert metrics.received_count == 50 and metrics.emitted_count == 50
    assert metrics.total_processing_time_ms >= 0 and metrics.stages
    assert submitted.tzinfo is not None
    assert before - dt.timedelta(seconds=1) <= submitted <= dt.datetime.now(dt.UTC)
    runs = client.pipelines.runs(job.id)
    assert runs[-1]["metrics"]["emitted_count"] == 50 and runs[-1]["status"] == "completed"


def test_job_configuration(client: Client, jet: object) -> None:
    pipeline = batch_pipeline(5)
    config = JobConfig(
        name="my-streaming-job",
        processing_guarantee=ProcessingGuarantee.EXACTLY_ONCE,
        snapshot_interval_ms=10000,
        auto_scaling=True,
        split_brain_protection=True,
        max_processor_accumulated_records=100000,
    )

    job = jet.submit(pipeline, config)  # type: ignore[attr-defined]
    assert job.name == "my-streaming-job"
    assert job.get_config() == config
    job.join(timeout=60)

    # Seed 001's spelling of the same settings
    config = JobConfig(
        name="my-processing-job",
        auto_scaling_enabled=True,
        processing_guarantee=ProcessingGuarantee.EXACTLY_ONCE,
        snapshot_interval_millis=10000,
    )
    assert config.snapshot_interval_ms == 10000 and config.auto_scaling is True

    job = jet.submit(pipeline, config)  # type: ignore[attr-defined]
    job.join(timeout=60)


def test_processing_guarantees_configs() -> None:
    # No guarantee (fastest, may lose or duplicate data)
    config = JobConfig(processing_guarantee=ProcessingGuarantee.NONE)

    # At-least-once (no data loss, may have duplicates)
    config = JobConfig(
        processing_guarantee=ProcessingGuarantee.AT_LEAST_ONCE, snapshot_interval_ms=5000
    )

    # Exactly-once (no loss, no duplicates, requires idempotent sinks)
    config = JobConfig(
        processing_guarantee=ProcessingGuarantee.EXACTLY_ONCE, snapshot_interval_ms=10000
    )
    assert config.processing_guarantee is ProcessingGuarantee.EXACTLY_ONCE


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("snapshot_interval_ms", "10s"),
        ("snapshot_interval_millis", 0),
        ("processing_guarantee", "twice"),
        ("auto_scaling", "yes"),
        ("max_processor_accumulated_records", -1),
        ("colour", "blue"),
    ],
)
def test_job_config_refuses_bad_values_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        JobConfig(**{field: value})


def test_status_monitoring_loop(client: Client, jet: object) -> None:
    pipeline = batch_pipeline(20)
    job = jet.submit(pipeline)  # type: ignore[attr-defined]
    job.join(timeout=60)

    while True:
        status = job.get_status()

        if status == JobStatus.RUNNING:
            metrics = job.get_metrics()
            print(f"Processed: {metrics.received_count}")
        elif status == JobStatus.COMPLETED:
            print("Job completed successfully")
            break
        elif status == JobStatus.FAILED:
            print(f"Job failed: {job.get_suspension_cause()}")
            break
        elif status == JobStatus.SUSPENDED:
            print("Job is suspended")

        time.sleep(5)


def test_submitting_and_retrieving_jobs(client: Client, jet: object) -> None:
    pipeline = batch_pipeline(5)
    # Submit and get job handle
    job = jet.submit(pipeline)  # type: ignore[attr-defined]
    print(f"Job ID: {job.id}")
    print(f"Status: {job.status}")

    # Submit only if name doesn't exist
    config = JobConfig(name="unique-job")
    job = jet.new_job_if_absent(streaming_pipeline(client), config)  # type: ignore[attr-defined]
    again = jet.new_job_if_absent(streaming_pipeline(client), config)  # type: ignore[attr-defined]
    assert again.id == job.id
    with pytest.raises(errors.JobAlreadyExists):
        jet.submit(streaming_pipeline(client), JobConfig(name="unique-job"))  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="name"):
        jet.new_job_if_absent(pipeline, JobConfig())  # type: ignore[attr-defined]

    # Get by ID
    job_id = job.id
    job = jet.get_job(job_id)  # type: ignore[attr-defined]

    # Get by name
    job = jet.get_job_by_name("unique-job")  # type: ignore[attr-defined]
    assert job.id == job_id

    # Get all jobs
    jobs = jet.get_jobs()  # type: ignore[attr-defined]
    for job in jobs:
        print(f"{job.name}: {job.status}")
    assert jobs[0].id == job_id  # newest first
    assert [j.id for j in jet.get_jobs("unique-job")] == [job_id]  # type: ignore[attr-defined]
    jet.get_job(job_id).cancel()  # type: ignore[attr-defined]
    with pytest.raises(errors.JobFailed):
        jet.get_job(job_id).join(timeout=30)  # type: ignore[attr-defined]
    # A name is free again once its job has ended; get_job_by_name then finds the latest.
    replacement = jet.submit(batch_pipeline(1), JobConfig(name="unique-job"))  # type: ignore[attr-defined]
    assert jet.get_job_by_name("unique-job").id == replacement.id  # type: ignore[attr-defined]


def test_concurrent_submits_of_one_name_make_one_job(client: Client, jet: object) -> None:
    outcomes: list[object] = []
    barrier = threading.Barrier(4)

    def submit() -> None:
        barrier.wait()
        try:
            outcomes.append(jet.submit(streaming_pipeline(client), JobConfig(name="one")))  # type: ignore[attr-defined]
        except errors.JobAlreadyExists as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    jobs = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(jobs) == 1 and len(outcomes) == 4
    jobs[0].cancel()  # type: ignore[attr-defined]


def test_status_reason_says_why_a_job_is_not_starting(store_url: str) -> None:
    client = Client(store_url, run_workers=False)
    job = client.get_jet().submit(batch_pipeline(1))
    assert "no worker serves queue 'pipelines'" in job.get_status_reason()
    client.close()
