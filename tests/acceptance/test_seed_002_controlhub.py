"""Seed 002 (StreamSets Control Hub SDK, "Job Instances"): every code block, in order.

Only the imports and the creation of ``sch`` are changed; a block the seed runs against
an existing organisation gets its pipelines and jobs from a short set-up first (marked
``# set-up``), and where the seed shows output the test checks the same shape. Every test
runs on SQLite and PostgreSQL, embedded and through a server (``any_client``).
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from tests_acceptance_support import wait_until

from headrace import defaults, errors
from headrace.controlhub import ControlHub
from headrace.jet.pipeline import Pipeline, StreamSource

JOB_REPR = r"<Job \(job_id=[0-9a-f-]+, job_name={}\)>"
STATUS_REPR = r"<JobStatus \(status={}, start_time=\d+, finish_time=\d+, run_count={}\)>"
METRICS_REPR = (
    r"<JobMetrics \(run_count={}, input_count={}, output_count={}, total_error_count=0\)>"
)


def double(x: int) -> int:
    return x * 2


def same(x: Any) -> Any:
    return x


def batch_pipeline(n: int = 100) -> Pipeline:
    pipeline = Pipeline.create()
    source = Pipeline.from_list("numbers", list(range(n)))
    pipeline.read_from(source).map(double).write_to(Pipeline.to_list("doubled"))
    return pipeline


def streaming_pipeline(stream: str = "events", sink: str = "seen") -> Pipeline:
    pipeline = Pipeline.create()
    pipeline.read_from(StreamSource(stream)).map(same).write_to(Pipeline.to_list(sink))
    return pipeline


@pytest.fixture
def client(any_client: Any) -> Any:
    return any_client


@pytest.fixture
def sch(client: Any) -> ControlHub:
    return ControlHub(client)


def publish_test_pipeline(sch: ControlHub, versions: int = 1) -> None:
    # set-up: 'Test Pipeline' with ``versions`` commits, commit n labelled 'v<n>'
    for n in range(1, versions + 1):
        sch.publish_pipeline(
            batch_pipeline(), name="Test Pipeline", commit_message=f"version {n}", labels=[f"v{n}"]
        )


def add_job(sch: ControlHub, name: str, tags: list[str] | None = None, version: str | None = None,
            pipeline_name: str = "Test Pipeline") -> Any:  # fmt: skip
    # set-up: a job as the seed's organisation would have it
    pipeline = sch.pipelines.get(name=pipeline_name)
    commit = None if version is None else pipeline.commits.get(version=version)
    job = sch.get_job_builder().build(name, pipeline=pipeline, pipeline_commit=commit, tags=tags)
    sch.add_job(job)
    return job


def finish_runs(sch: ControlHub, job: Any, runs: int, from_start: bool = False) -> None:
    # set-up: ``runs`` runs of a batch job, each to its end (and each reading its whole
    # source: a job keeps its offsets, so without a reset a rerun reads nothing new)
    for _ in range(runs):
        if from_start:
            sch.reset_origin(job)
        sch.start_job(job, wait=True)
        sch.wait_for_job_status(job, "INACTIVE", timeout_sec=60)


def test_creating_a_job(sch: ControlHub) -> None:
    publish_test_pipeline(sch, versions=2)

    job_builder = sch.get_job_builder()

    pipeline = sch.pipelines.get(name="Test Pipeline")
    job = job_builder.build("job name", pipeline=pipeline)
    sch.add_job(job)

    assert re.fullmatch(JOB_REPR.format("job name"), repr(job))
    assert job.commit.version == "2" and job.pipeline_commit_label == ["v2"]
    assert job.status.status == "INACTIVE" and job.history == []

    # Creating a Job With a Particular Pipeline Version
    job_builder = sch.get_job_builder()
    pipeline = sch.pipelines.get(name="Test Pipeline")
    pipeline_commit = pipeline.commits.get(version="1")
    job = job_builder.build("job name", pipeline=pipeline, pipeline_commit=pipeline_commit)
    sch.add_job(job)

    assert job.commit.version == "1" and job.pipeline_commit_label == ["v1"]
    assert sorted(j.commit.version for j in sch.jobs) == ["1", "2"]


def test_retrieving_an_existing_job(sch: ControlHub) -> None:
    publish_test_pipeline(sch)
    tagged = add_job(sch, "job name", tags=["tag name", "test"])
    add_job(sch, "other job", tags=["test"])
    finish_runs(sch, add_job(sch, "third job"), 1)  # set-up: one job ran and ended
    streaming = add_streaming_job(sch, "streaming job")
    sch.start_job(streaming, wait=True)  # set-up: and one is ACTIVE

    # Returns a list of all Job instances in 'INACTIVE' status
    inactive = sch.jobs.get_all(job_status="INACTIVE")
    # Returns a list of all Job instances that are tagged with 'test'
    test_tagged = sch.jobs.get_all(job_tag="test")
    # Retrieve a particular job's tag first, and then check for other jobs with the same tag
    job = sch.jobs.get(job_name="job name")
    tag = job.tags.get(tag="tag name")
    same_tag = sch.jobs.get(job_tag=tag.tag)
    # Returns a single Job instance that matches the supplied ID
    by_id = sch.jobs.get(id=tagged.job_id)

    assert {j.job_name for j in inactive} == {"job name", "other job", "third job"}
    assert {j.job_name for j in test_tagged} == {"job name", "other job"}
    assert repr(tag) == "<Tag (tag=tag name)>"
    assert same_tag.job_id == tagged.job_id == by_id.job_id == job.job_id
    assert sch.jobs.get(job_status="ACTIVE").job_id == streaming.job_id
    assert sch.jobs.get(executor_type="COLLECTOR") in sch.jobs
    with pytest.raises(ValueError, match="job_name='no such job'"):
        sch.jobs.get(job_name="no such job")
    with pytest.raises(errors.InvalidInput, match="job_colour"):
        sch.jobs.get_all(job_colour="red")
    sch.stop_job(streaming)
    sch.wait_for_job_status(streaming, "INACTIVE", timeout_sec=60)


def add_streaming_job(sch: ControlHub, name: str, stream: str = "events") -> Any:
    # set-up: a published streaming pipeline and a job of it
    sch.client.get_stream(stream)
    sch.publish_pipeline(streaming_pipeline(stream), name=f"{name} pipeline")
    return add_job(sch, name, pipeline_name=f"{name} pipeline")


def test_upgrading_a_job(sch: ControlHub) -> None:
    upgrade_jobs_from_v1(sch)


def upgrade_jobs_from_v1(sch: ControlHub) -> tuple[Any, Any]:
    publish_test_pipeline(sch)
    first = add_job(sch, "first", version="1")
    second = add_job(sch, "second", version="1")
    # set-up: the pipeline gets a new version
    sch.publish_pipeline(
        batch_pipeline(50), name="Test Pipeline", commit_message="v2", labels=["v2"]
    )

    # Get all job instances that use the pipeline version tagged with the 'v1' commit label
    jobs = sch.jobs.get_all(pipeline_commit_label="v1")
    sch.upgrade_job(*jobs)

    assert {j.job_name for j in jobs} == {"first", "second"}
    upgraded = sch.jobs.get_all(pipeline_commit_label="v2")
    assert {j.job_name for j in upgraded} == {"first", "second"}
    assert sch.jobs.get_all(pipeline_commit_label="v1") == []
    return first, second


def test_updating_a_job_with_a_different_pipeline_version(sch: ControlHub) -> None:
    first, second = upgrade_jobs_from_v1(sch)  # set-up: the previous block's end

    job = sch.jobs.get(pipeline_commit_label="v2")
    pipeline = sch.pipelines.get(name="Test Pipeline")
    pipeline_commit = pipeline.commits.get(version="1")
    job.commit = pipeline_commit
    sch.update_job(job)

    assert sch.jobs.get(job_id=job.job_id).commit.version == "1"
    assert {first.job_id, second.job_id} == {j.job_id for j in sch.jobs}
    assert len(sch.jobs.get_all(pipeline_commit_label="v2")) == 1


def test_duplicating_a_job(sch: ControlHub) -> None:
    publish_test_pipeline(sch)
    original = add_job(sch, "Job for dev", tags=["dev"])

    job = sch.jobs.get(job_id=original.job_id)
    copies = sch.duplicate_job(job, number_of_copies=2)

    shown = repr(copies)
    pattern = r"\[{}, {}\]".format(
        JOB_REPR.format("Job for dev copy1"), JOB_REPR.format("Job for dev copy2")
    )
    assert re.fullmatch(pattern, shown), shown
    assert len({c.job_id for c in copies} | {job.job_id}) == 3
    assert all(c.commit.version == job.commit.version for c in copies)
    assert all([t.tag for t in c.tags] == ["dev"] for c in copies)
    assert len(sch.jobs) == 3


def test_importing_then_exporting_jobs(sch: ControlHub, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    publish_test_pipeline(sch)
    add_job(sch, "first", tags=["a"])
    add_job(sch, "second")
    Path("jobs.zip").write_bytes(sch.export_jobs(sch.jobs))  # set-up: the seed's archive
    before = {j.job_id for j in sch.jobs}

    # Open a compressed archive for reading, and then pass it into the import_jobs method
    with open("jobs.zip", "rb") as jobs_file:
        jobs = sch.import_jobs(archive=jobs_file)

    assert sorted(j.job_name for j in jobs) == ["first", "second"]
    assert {j.job_id for j in jobs}.isdisjoint(before) and len(sch.jobs) == 4
    assert [t.tag for t in jobs.get(job_name="first").tags] == ["a"]

    # Exporting Jobs
    # Retrieve the Job objects to export - all jobs in the Platform organization, in this example
    jobs = sch.jobs
    jobs_file_data = sch.export_jobs(jobs)

    # Open an archive file for writing, and write out the exported job data
    with open("jobs.zip", "wb") as jobs_file:
        jobs_file.write(jobs_file_data)

    assert Path("jobs.zip").read_bytes()[:2] == b"PK"
    with open("jobs.zip", "rb") as archive:  # the four jobs come back from it
        assert len(sch.import_jobs(archive=archive)) == 4


def test_offsets(sch: ControlHub, client: Any, tmp_path: Path,
                 monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    events = client.get_stream("events")
    events.publish_all(range(10))
    reader = add_streaming_job(sch, "job name")
    read_until(sch, client, reader, 10)  # set-up: a job that read ten events and stopped

    # Resetting offsets
    # Get all jobs available from the Platform organization, then reset each of their origins
    jobs = sch.jobs
    sch.reset_origin(*jobs)

    read_until(sch, client, reader, 20)  # its next run reads the stream from the start again
    assert sorted(client.get_list("seen")) == sorted([*range(10), *range(10)])

    # Retrieving Offsets
    job = sch.jobs.get(name="job name")
    current = job.current_status.offsets

    assert re.fullmatch(r"\[<JobOffset \(sdc_id=\S+, pipeline_id=[0-9a-f-]+\)>\]", repr(current))
    assert current[0].pipeline_id == job.job_id
    assert any(v is not None for v in current[0].offset["offsets"].values())

    # Get the most recent run (JobStatus object) from the job's history
    job_status = job.history[0]
    from_history = job_status.offsets

    assert [o.offset for o in from_history] == [o.offset for o in current]


def test_uploading_offsets(sch: ControlHub, client: Any, tmp_path: Path,
                           monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    events = client.get_stream("events")
    events.publish_all(range(10))
    reader = add_streaming_job(sch, "job name")
    read_until(sch, client, reader, 10)  # set-up: a job that read ten events and stopped
    with open("offset.json", "w") as out:  # set-up: the offset file the seed reads
        json.dump(reader.current_status.offsets[0].offset, out)

    # Uploading Offsets: a second job over the same stream starts where the first stopped
    add_job(sch, "second reader", pipeline_name="job name pipeline")
    job = sch.jobs.get(name="second reader")

    with open("offset.json") as offset_file:
        sch.upload_offset(job, offset_file=offset_file)

    events.publish_all(range(10, 15))
    read_until(sch, client, job, 15)
    # It read only the five new events: it started from the uploaded offsets.
    assert sorted(client.get_list("seen"))[-5:] == list(range(10, 15))

    # fmt: off
    offset_json = {"version" : 2,
                   "offsets" : {"$com.streamsets.datacollector.pollsource.offset$" : None}}
    # fmt: on
    sch.upload_offset(job, offset_json=offset_json)

    read_until(sch, client, job, 30)  # from the beginning again: all fifteen events

    with pytest.raises(errors.InvalidInput, match="no such source"):
        sch.upload_offset(job, offset_json={"version": 2, "offsets": {"no such source": "3"}})


def committed(job: Any) -> dict[str, Any]:
    found = job.current_status.offsets
    return dict(found[0].offset["offsets"]) if found else {}


def read_until(sch: ControlHub, client: Any, job: Any, seen: int) -> None:
    # set-up: run the streaming job until the sink holds ``seen`` items and it committed
    # its offsets past the stream's last event (its snapshot), then stop it
    end = sum(client.get_stream("events").latest_offsets().values())
    sch.start_job(job, wait=True)
    wait_until(lambda: len(client.get_list("seen")) >= seen, 60, f"{seen} items seen")
    wait_until(
        lambda: any(v is not None and int(v) >= end - 1 for v in committed(job).values()),
        60,
        "offsets committed past the last event",
    )
    sch.stop_job(job)
    sch.wait_for_job_status(job, "INACTIVE", timeout_sec=60)
    assert len(client.get_list("seen")) == seen


def test_history_run_events_and_metrics(sch: ControlHub, client: Any) -> None:
    publish_test_pipeline(sch)
    finish_runs(sch, add_job(sch, "job name"), 2, from_start=True)

    # Retrieving Job Status History
    job = sch.jobs[0]
    job_history = job.job_history

    pattern = r"\[{}, {}\]".format(
        STATUS_REPR.format("INACTIVE", 2), STATUS_REPR.format("INACTIVE", 1)
    )
    assert re.fullmatch(pattern, repr(job_history)), repr(job_history)

    # Retrieving Run Events from Job History
    # Get the most recent run (JobStatus object) from the job's history
    job_status = job.job_history[0]
    run_history = job_status.run_history

    event = (
        r"<JobRunEvent \(user=\S+, time=\d+, status=(ACTIVATING|ACTIVE|DEACTIVATING|INACTIVE)\)>"
    )
    assert re.fullmatch(rf"\[{event}(, {event})*\]", repr(run_history)), repr(run_history)
    assert run_history[0].status == "ACTIVATING" and run_history[-1].status == "INACTIVE"
    assert run_history[0].user is not None  # the starter; later events are the system's
    assert [e.time for e in run_history] == sorted(e.time for e in run_history)

    # Metrics
    finish_runs(sch, job, 1, from_start=True)  # set-up: a third run, so run 2 sits between
    job = sch.jobs.get(job_name="job name")
    job_metrics = job.metrics

    pattern = r"\[{}, {}, {}\]".format(*(METRICS_REPR.format(n, 100, 100) for n in (3, 2, 1)))
    assert re.fullmatch(pattern, repr(job_metrics)), repr(job_metrics)

    second_run = job.history[1]  # set-up: the start time the seed looks up
    found = job.history.get(start_time=second_run.start_time)

    assert re.fullmatch(STATUS_REPR.format("INACTIVE", 2), repr(found))

    run_metrics = job.metrics.get(run_count=2)

    assert re.fullmatch(METRICS_REPR.format(2, 100, 100), repr(run_metrics))


def test_realtime_summary(sch: ControlHub, client: Any) -> None:
    # set-up: an active streaming job that has read twenty records
    client.get_stream("events").publish_all(range(20))
    streaming = add_streaming_job(sch, "streaming job")
    sch.start_job(streaming, wait=True)
    wait_until(lambda: streaming.realtime_summary.output_record_count == 20, 60, "20 records")
    job = streaming

    summary = (
        job.realtime_summary.data_batch_count,
        job.realtime_summary.idle_batch_count,
        job.realtime_summary.input_record_count,
        job.realtime_summary.output_record_count,
    )

    assert summary[0] >= 1 and summary[2:] == (20, 20)
    assert isinstance(summary[1], int) and summary[1] >= 0
    sch.stop_job(job)
    sch.wait_for_job_status(job, "INACTIVE", timeout_sec=60)


def test_balancing_data_collectors(sch: ControlHub) -> None:
    # Retrieve the Data Collector instances to be balanced - all Data Collector instances, in this example  # noqa: E501
    data_collectors = sch.data_collectors
    sch.balance_data_collectors(data_collectors)


def explode(x: int) -> int:
    raise RuntimeError(f"cannot take {x}")


def failing_job(sch: ControlHub, acknowledge: bool) -> Any:
    # set-up: a published pipeline whose stage raises, and a job of it
    pipeline = Pipeline.create()
    pipeline.read_from(Pipeline.from_list("bad", [1])).map(explode).write_to(Pipeline.to_list("x"))
    sch.publish_pipeline(pipeline, name="Failing Pipeline")
    job = sch.get_job_builder().build(
        "failing", pipeline=sch.pipelines.get(name="Failing Pipeline"),
        require_job_error_acknowledgement=acknowledge,
    )  # fmt: skip
    sch.add_job(job)
    return job


def test_statuses_through_a_streaming_run(sch: ControlHub, client: Any) -> None:
    client.get_stream("events").publish_all(range(3))
    job = add_streaming_job(sch, "streaming job")
    assert (job.status.status, job.status.color) == ("INACTIVE", "GREEN")

    sch.start_job(job, wait=True)
    assert (job.status.status, job.status.color) == ("ACTIVE", "GREEN")
    with pytest.raises(errors.Conflict):
        sch.start_job(job)  # one active run at a time
    with pytest.raises(errors.Conflict):
        sch.delete_job(job)  # an active job is stopped before it is deleted

    sch.stop_job(job)
    sch.wait_for_job_status(job, "INACTIVE", timeout_sec=60)
    assert (job.status.status, job.status.color) == ("INACTIVE", "GREEN")
    events = [e.status for e in job.history[0].run_history]
    assert events[0] == "ACTIVATING" and "ACTIVE" in events and "DEACTIVATING" in events
    assert events[-1] == "INACTIVE"

    sch.delete_job(job)
    assert sch.jobs.get_all(job_name="streaming job") == []
    with pytest.raises(errors.NotFound, match=job.job_id):
        job.status  # noqa: B018 - a call on a deleted job says so
    with pytest.raises(errors.NotFound, match=job.job_id):
        sch.start_job(job)


def test_a_failed_run_is_red_and_may_need_acknowledging(sch: ControlHub) -> None:
    plain = failing_job(sch, acknowledge=False)
    sch.start_job(plain, wait=True)
    sch.wait_for_job_status(plain, "INACTIVE", timeout_sec=60)
    assert plain.status.color == "RED" and "cannot take 1" in plain.status.error_message

    strict = failing_job(sch, acknowledge=True)
    assert strict.require_job_error_acknowledgement
    sch.start_job(strict, wait=True)
    sch.wait_for_job_status(strict, "INACTIVE_ERROR", timeout_sec=60)
    assert strict.status.color == "RED"
    with pytest.raises(errors.Conflict, match="acknowledge"):
        sch.start_job(strict)
    assert len(strict.history) == 1  # the refused start made no run

    sch.acknowledge_job_error(strict)
    assert (strict.status.status, strict.status.color) == ("INACTIVE", "RED")
    sch.start_job(strict, wait=True)
    sch.wait_for_job_status(strict, "INACTIVE_ERROR", timeout_sec=60)
    assert [s.run_count for s in strict.history] == [2, 1]


def test_bad_input_is_refused_by_name(sch: ControlHub) -> None:
    publish_test_pipeline(sch, versions=2)
    pipeline = sch.pipelines.get(name="Test Pipeline")
    builder = sch.get_job_builder()
    with pytest.raises(errors.InvalidInput, match="pipeline"):
        builder.build("job name")  # no published pipeline
    with pytest.raises(ValueError, match="pipeline_tag"):
        builder.build(
            "job name", pipeline=pipeline, pipeline_tag="v1",
            pipeline_commit=pipeline.commits.get(version="1"),
        )  # fmt: skip
    with pytest.raises(ValueError, match="v9"):
        builder.build("job name", pipeline=pipeline, pipeline_tag="v9")
    assert builder.build("job name", pipeline=pipeline, pipeline_tag="v1").commit.version == "1"

    job = add_job(sch, "job name")
    with pytest.raises(errors.InvalidInput, match="offset_file"):
        sch.upload_offset(job)
    with pytest.raises(errors.InvalidInput, match="offset_file"):
        sch.upload_offset(job, offset_file=io.StringIO("{}"), offset_json={})
    with pytest.raises(errors.InvalidInput, match="number_of_copies"):
        sch.duplicate_job(job, number_of_copies=0)
    with pytest.raises(errors.InvalidInput, match="status"):
        sch.wait_for_job_status(job, "GREEN")
    assert len(sch.jobs) == 1 and job.history == []  # nothing changed


def test_a_server_url_and_token_make_the_remote_client(client_kind: str, store_url: str) -> None:
    if client_kind == "embedded":
        sch = ControlHub(store_url)  # a store URL: the embedded client of that store
    else:
        from in_process_server import InProcessServer

        served = InProcessServer(store_url)
        token, _ = served.tokens.create(defaults.TENANT_ID, defaults.USER_ID, "admin")
        sch = ControlHub(served.url, token=token)
    try:
        publish_test_pipeline(sch)
        job = add_job(sch, "job name")
        finish_runs(sch, job, 1)
        assert [m.output_count for m in job.metrics] == [100]
    finally:
        sch.client.close()
        if client_kind == "remote":
            served.stop()
