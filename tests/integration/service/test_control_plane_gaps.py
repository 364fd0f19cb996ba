"""The control plane through both clients: re-pinning commits, shared names, duplicates in
one transaction, run events and logs paged and filtered, idle batches and stage rates,
offsets uploaded to a job that never ran."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from headrace import errors
from headrace.controlhub import ControlHub
from headrace.jet.pipeline import Pipeline
from headrace.model.jobconfig import JobConfig, ProcessingGuarantee
from headrace.model.status import Status

#: The stream source's one partition, as offsets name it.
ENTITY = "source#0/0"
SNAPSHOTS = JobConfig(
    processing_guarantee=ProcessingGuarantee.EXACTLY_ONCE, snapshot_interval_ms=100
)


def times(factor: int) -> Pipeline:
    p = Pipeline.create()
    p.read_from(Pipeline.from_list("nums")).map(lambda x: x * factor).write_to(
        Pipeline.to_list("out")
    )
    return p


def follow(sink: str = "seen", stream: str = "events") -> Pipeline:
    p = Pipeline.create()
    p.read_from(Pipeline.from_stream(stream)).map(lambda x: x).write_to(Pipeline.to_list(sink))
    return p


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def stop(client: Any, job_id: str) -> None:
    # Graceful: the run ends once its worker has stopped and recorded its last metrics (a
    # forced stop ends it at once, and the worker's last record lands after).
    client.jobs.stop(job_id)
    assert client.jobs.wait(job_id, 60).status is Status.CANCELED


def run_to_end(client: Any, job_id: str) -> None:
    client.jobs.start(job_id)
    done = client.jobs.wait(job_id, 60)
    assert done.status is Status.COMPLETED, done.error


# -- 1. update pins any commit ------------------------------------------------------------


def test_update_pins_an_older_commit_and_the_next_run_runs_it(client: Any) -> None:
    client.get_list("nums").extend([1, 2, 3])
    client.pipelines.publish(times(2), "scale", labels=["v1"])
    client.pipelines.publish(times(10), "scale", labels=["v2"])
    client.pipelines.publish(times(100), "other")
    job = client.jobs.create("scaler", pipeline="scale")
    assert job.pipeline_version == 2

    older = client.jobs.update(job.job_id, version=1)
    assert (older.pipeline_name, older.pipeline_version) == ("scale", 1)
    run_to_end(client, job.job_id)
    assert sorted(client.get_list("out")) == [2, 4, 6]  # commit 1 ran

    assert client.jobs.update(job.job_id, label="v2").pipeline_version == 2
    moved = client.jobs.update(job.job_id, pipeline="other")  # another pipeline, its latest
    assert (moved.pipeline_name, moved.pipeline_version) == ("other", 1)
    assert client.jobs.find(label="v2") == []

    # Bad targets are named and change nothing.
    with pytest.raises(errors.NotFound, match="v9"):
        client.jobs.update(job.job_id, pipeline="scale", label="v9")
    with pytest.raises(errors.NotFound):
        client.jobs.update(job.job_id, pipeline="scale", version=7)
    with pytest.raises(errors.InvalidInput) as both:
        client.jobs.update(job.job_id, version=1, label="v1")
    assert both.value.field == "label"
    with pytest.raises(errors.InvalidInput) as bad:
        client.jobs.update(job.job_id, version=0)
    assert bad.value.field == "version"
    after = client.jobs.get(job.job_id)
    assert (after.pipeline_name, after.pipeline_version) == ("other", 1)

    @client.job_type("tests.gaps.task", params={"type": "object"})
    def task(ctx: Any, params: Any) -> Any:
        return params

    plain = client.jobs.create("task", type="tests.gaps.task", params={})
    with pytest.raises(errors.InvalidInput, match="no published pipeline"):
        client.jobs.update(plain.job_id, version=1)


# -- 2. idle batches, stage counts and rates, kept per run ------------------------------


def test_realtime_summary_counts_idle_batches_and_runs_keep_their_stage_rates(
    client: Any,
) -> None:
    client.get_stream("events", partitions=1).append([1, 2, 3])
    client.pipelines.publish(follow(), "follow")
    job = client.jobs.create("follower", pipeline="follow", config=SNAPSHOTS)
    assert client.jobs.summary(job.job_id)["idle_batch_count"] == 0  # never ran

    client.jobs.start(job.job_id)

    def idle_after_three() -> bool:
        live = client.jobs.summary(job.job_id)
        return bool(live["output_count"] == 3 and live["idle_batch_count"] >= 1)

    wait_for(idle_after_three, "three records, then a poll that found none")
    live = client.jobs.summary(job.job_id)
    assert live["run_count"] == 1 and live["input_count"] == 3 and live["batch_count"] >= 1
    stop(client, job.job_id)

    first = client.jobs.run_metrics(job.job_id, 1)
    assert first["idle_batch_count"] >= live["idle_batch_count"]
    source = next(s for s in first["stages"].values() if s["kind"] == "source")
    sink = next(s for s in first["stages"].values() if s["kind"] == "sink")
    assert (source["emitted"], sink["received"]) == (3, 3)
    assert source["idle_batches"] == first["idle_batch_count"]
    assert first["elapsed_ms"] > 0
    assert source["emitted_per_sec"] == round(3 * 1000 / first["elapsed_ms"], 3)
    assert sink["received_per_sec"] == source["emitted_per_sec"]

    client.get_stream("events").append([4])
    client.jobs.start(job.job_id)
    wait_for(lambda: client.jobs.summary(job.job_id)["output_count"] == 1, "run 2 reads one")
    stop(client, job.job_id)
    assert client.jobs.run_metrics(job.job_id, 1) == first  # kept after the run ended
    assert client.jobs.run_metrics(job.job_id, 2)["input_count"] == 1


# -- 3. run events and logs, paged and filtered ---------------------------------------


def test_run_events_and_logs_are_paged_and_filtered_by_status_level_and_time(
    client: Any,
) -> None:
    @client.job_type("tests.gaps.talker", params={"type": "object"})
    def talker(ctx: Any, params: Any) -> Any:
        for i in range(6):
            ctx.log(f"line {i}", level="warning" if i % 2 else "info")
        return params

    job = client.jobs.create("talker", type="tests.gaps.talker", params={})
    run_to_end(client, job.job_id)
    run_to_end(client, job.job_id)

    events = client.jobs.run_events(job.job_id, 2)
    statuses = [e.to_status for e in events]
    assert statuses[0] is Status.WAITING and statuses[-1] is Status.COMPLETED
    assert [e.to_status for e in client.jobs.run_events(job.job_id, 2, status="running")] == [
        Status.RUNNING
    ]
    both = client.jobs.run_events(job.job_id, 2, status=["waiting", "completed"])
    assert [e.to_status for e in both] == [Status.WAITING, Status.COMPLETED]
    assert client.jobs.run_events(job.job_id, 2, page=2, limit=1) == events[1:2]
    assert client.jobs.run_events(job.job_id, 2, page=99, limit=1) == []
    at = events[1].at_ms
    since = client.jobs.run_events(job.job_id, 2, since_ms=at)
    assert since == [e for e in events if e.at_ms >= at]
    until = client.jobs.run_events(job.job_id, 2, until_ms=at)
    assert until == [e for e in events if e.at_ms < at]
    assert all(e.event_id > max(x.event_id for x in client.jobs.run_events(job.job_id, 1))
               for e in events)  # fmt: skip

    logs = client.jobs.run_logs(job.job_id, 1)
    assert [line.message for line in logs] == [f"line {i}" for i in range(6)]
    warnings = client.jobs.run_logs(job.job_id, 1, level="warning")
    assert [line.message for line in warnings] == ["line 1", "line 3", "line 5"]
    page = client.jobs.run_logs(job.job_id, 1, level=["info"], page=2, limit=2)
    assert [line.message for line in page] == ["line 4"]
    cut = logs[3].at_ms
    assert client.jobs.run_logs(job.job_id, 1, since_ms=cut) == [
        line for line in logs if line.at_ms >= cut
    ]
    assert client.jobs.run_logs(job.job_id, 2, until_ms=0) == []

    for bad, field in (
        ({"status": "sleeping"}, "status"),
        ({"page": 0}, "page"),
        ({"limit": 0}, "limit"),
        ({"since_ms": -1}, "since_ms"),
    ):
        with pytest.raises(errors.InvalidInput) as refused:
            client.jobs.run_events(job.job_id, 1, **bad)
        assert refused.value.field == field
    with pytest.raises(errors.NotFound):
        client.jobs.run_logs(job.job_id, 3)


# -- 4. duplicate: all copies or none -------------------------------------------------


def test_duplicate_makes_every_copy_or_none(client: Any) -> None:
    client.get_list("nums").extend([1])
    client.pipelines.publish(times(2), "scale")
    long_name = "j" * 249  # "<name> copy9" is 255 characters, "<name> copy10" is 256
    job = client.jobs.create(long_name, pipeline="scale", tags=["t"])
    assert [c.name for c in client.jobs.duplicate(job.job_id, 9)][-1] == f"{long_name} copy9"
    with pytest.raises(errors.InvalidInput) as refused:
        client.jobs.duplicate(job.job_id, 10)
    assert refused.value.field == "name"
    assert len(client.jobs.find(pipeline="scale")) == 10  # the original and the first nine

    short = client.jobs.create("short", pipeline="scale")
    copies = client.jobs.duplicate(short.job_id, 12)
    assert [c.name for c in copies] == [f"short copy{i}" for i in range(1, 13)]
    assert len({c.job_id for c in copies}) == 12
    for count in (0, 10_001):
        with pytest.raises(errors.InvalidInput, match=r"1\.\.10,000") as bad:
            client.jobs.duplicate(short.job_id, count)
        assert bad.value.field == "count"
    assert len(client.jobs.find(pipeline="scale")) == 23


# -- 5. names: shared by definitions, held by a running job ----------------------------


def test_jobs_may_share_a_name_but_only_one_of_them_runs_at_a_time(client: Any) -> None:
    @client.job_type("tests.gaps.sleepy", params={"type": "object"})
    def sleepy(ctx: Any, params: Any) -> Any:
        ctx.sleep(30)
        return params

    first = client.jobs.create("nightly", type="tests.gaps.sleepy", params={})
    second = client.jobs.create("nightly", type="tests.gaps.sleepy", params={})
    assert first.job_id != second.job_id
    assert {j.job_id for j in client.jobs.find(name="nightly")} == {first.job_id, second.job_id}

    client.jobs.start(first.job_id)
    with pytest.raises(errors.JobAlreadyExists, match=first.job_id):
        client.jobs.start(second.job_id)
    assert client.jobs.get(second.job_id).run_count == 0  # the refused start changed nothing
    other = client.jobs.create("other", type="tests.gaps.sleepy", params={})
    client.jobs.start(other.job_id)
    with pytest.raises(errors.JobAlreadyExists, match=first.job_id):
        client.jobs.update(other.job_id, name="nightly")  # a running job takes no held name
    assert client.jobs.get(other.job_id).name == "other"

    stop(client, first.job_id)
    stop(client, other.job_id)
    client.jobs.start(second.job_id)  # the name is free again
    assert client.jobs.get(second.job_id).run_count == 1
    stop(client, second.job_id)


# -- 6. offsets uploaded to a job that never ran --------------------------------------


def test_offsets_uploaded_to_a_job_that_never_ran_are_checked_against_its_sources(
    client: Any,
) -> None:
    client.get_stream("events", partitions=1).append(list(range(10)))
    client.pipelines.publish(follow(), "follow")
    job = client.jobs.create("late reader", pipeline="follow", config=SNAPSHOTS)

    client.jobs.upload_offsets(job.job_id, {"version": 2, "offsets": {ENTITY: "7"}})
    for entity in ("nope/0", "source#0/1", "sink#2/0"):
        with pytest.raises(errors.InvalidInput, match=entity) as refused:
            client.jobs.upload_offsets(
                job.job_id, {"version": 2, "offsets": {ENTITY: "2", entity: "1"}}
            )
        assert refused.value.field == f"offsets.{entity}"
    assert client.jobs.get(job.job_id).run_count == 0

    client.jobs.start(job.job_id)  # from the upload of "7": the refused ones changed nothing
    wait_for(lambda: client.jobs.offsets(job.job_id)["offsets"].get(ENTITY) == "10", "offset 10")
    stop(client, job.job_id)
    assert list(client.get_list("seen")) == [7, 8, 9]

    fresh = client.jobs.create("from the start", pipeline="follow", config=SNAPSHOTS)
    assert client.jobs.offset_entities(fresh.job_id) == [ENTITY]
    # Seed 002's raw form names "the" origin; the facade maps it to the job's one source.
    sch = ControlHub(client)
    poll = {"version": 2, "offsets": {"$com.streamsets.datacollector.pollsource.offset$": None}}
    sch.upload_offset(sch.jobs.get(job_id=fresh.job_id), offset_json=poll)
    client.jobs.start(fresh.job_id)
    wait_for(lambda: len(client.get_list("seen")) == 13, "all ten read")
    stop(client, fresh.job_id)
    assert list(client.get_list("seen"))[3:] == list(range(10))  # read from its start

    # A stream that does not exist yet has no partition to start at; checking creates none.
    client.pipelines.publish(follow(stream="later"), "follow later")
    early = client.jobs.create("early", pipeline="follow later", config=SNAPSHOTS)
    with pytest.raises(errors.InvalidInput, match="later") as missing:
        client.jobs.upload_offsets(early.job_id, {"version": 2, "offsets": {ENTITY: "1"}})
    assert missing.value.field == "offsets"
    with pytest.raises(errors.InvalidInput, match="later"):
        client.jobs.offset_entities(early.job_id)
    assert client.get_stream("later", partitions=4).partition_count() == 4


def test_a_jet_job_holding_a_name_is_found_before_a_definition_sharing_it(client: Any) -> None:
    from headrace.jet.job import JobConfig as JetConfig
    from headrace.jet.job import JobStatus

    client.get_stream("events", partitions=1).append([1])
    jet = client.get_jet()
    running = jet.submit(follow(), JetConfig(name="shared"))
    wait_for(lambda: running.get_status() is JobStatus.RUNNING, "the Jet job to run")
    client.pipelines.publish(follow(sink="other"), "follow")
    later = client.jobs.create("shared", pipeline="follow")  # a definition may share it

    found = jet.get_job_by_name("shared")
    assert found is not None and found.id == running.id
    again = jet.new_job_if_absent(follow(), JetConfig(name="shared"))
    assert again.id == running.id
    with pytest.raises(errors.JobAlreadyExists, match=running.id):
        client.jobs.start(later.job_id)
    running.cancel()
    wait_for(lambda: client.jobs.get(running.id).status is Status.CANCELED, "the cancel")
    newest = jet.get_job_by_name("shared")  # none holds the name: the newest job has it
    assert newest is not None and newest.id == later.job_id


def test_a_job_re_pinned_to_other_stages_does_not_start_from_offsets_it_cannot_read(
    client: Any,
) -> None:
    client.get_stream("events", partitions=1).append([0, 1, 2, 3])
    client.pipelines.publish(follow(), "follow")  # v1: source, map, sink
    plain = Pipeline.create()
    plain.read_from(Pipeline.from_stream("events")).write_to(Pipeline.to_list("seen"))
    client.pipelines.publish(plain, "follow")  # v2: source, sink
    job = client.jobs.create("reader", pipeline="follow", version=1, config=SNAPSHOTS)
    client.jobs.start(job.job_id)
    wait_for(lambda: client.jobs.offsets(job.job_id)["offsets"].get(ENTITY) == "4", "offset 4")
    stop(client, job.job_id)

    client.jobs.update(job.job_id, version=2)
    with pytest.raises(errors.IllegalTransition, match="stages differ"):
        client.jobs.start(job.job_id)
    assert client.jobs.get(job.job_id).run_count == 1  # the refused start made no run

    client.jobs.upload_offsets(job.job_id, {"version": 2, "offsets": {ENTITY: "2"}})
    client.jobs.start(job.job_id)  # v2's own stages, from the uploaded offset
    wait_for(lambda: client.jobs.offsets(job.job_id)["offsets"].get(ENTITY) == "4", "offset 4")
    stop(client, job.job_id)
    assert list(client.get_list("seen")) == [0, 1, 2, 3, 2, 3]

    client.jobs.update(job.job_id, version=1)
    client.jobs.reset_offsets(job.job_id)  # a reset needs no snapshot that fits
    client.jobs.start(job.job_id)
    wait_for(lambda: len(client.get_list("seen")) == 10, "all four again")
    stop(client, job.job_id)
