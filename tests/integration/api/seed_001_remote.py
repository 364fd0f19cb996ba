"""Seed 001's examples with only the imports changed, run by ``headrace submit`` (a test).

``Client()`` here is the remote client of the server ``headrace submit --server`` names;
the lambdas travel to its workers by value (this file runs as ``__main__``). Values come
back as JSON: where the seed's sinks hold tuples, this reads lists.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import Any

from headrace import Client
from headrace.errors import JobFailed, TimeoutException
from headrace.jet.job import JobConfig, JobStatus, ProcessingGuarantee
from headrace.jet.pipeline import ListSource, Pipeline, StreamSource


def wait_for(predicate: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


def run_transform(client: Any, data: list[Any], build: Any) -> list[Any]:
    client.get_list("input").clear()
    client.get_list("results").clear()
    pipeline = Pipeline.create()
    build(pipeline, Pipeline.from_list("input", data), Pipeline.to_list("results"))
    client.run(pipeline)
    return list(client.get_list("results"))


def pipelines_and_sources(client: Any) -> None:
    # Building Pipelines
    pipeline = Pipeline.create()
    source = Pipeline.from_list("numbers", [1, 2, 3, 4, 5])
    sink = Pipeline.to_list("results")
    pipeline.read_from(source) \
        .map(lambda x: x * 2) \
        .filter(lambda x: x > 4) \
        .write_to(sink)  # fmt: skip
    client.run(pipeline)
    assert sorted(client.get_list("results")) == [6, 8, 10]

    # Batch Sources
    items = ["a", "b", "c"]
    client.get_map("my-map").put_all({"k1": 1, "k2": 2})
    client.get_list("my-list").extend([10, 20])
    pipeline = Pipeline.create()
    pipeline.read_from(Pipeline.from_list("data", items)).write_to(Pipeline.to_list("out-list"))
    pipeline.read_from(Pipeline.from_map("my-map")).write_to(Pipeline.to_list("out-map"))
    pipeline.read_from(ListSource("my-list")).write_to(Pipeline.to_list("out-ilist"))
    client.run(pipeline)
    assert sorted(client.get_list("out-list")) == items
    assert sorted(client.get_list("out-map")) == [["k1", 1], ["k2", 2]]
    assert sorted(client.get_list("out-ilist")) == [10, 20]


def transformations(client: Any) -> None:
    upper = run_transform(client, ["a", "b"], lambda p, source, sink: p.read_from(source)
                          .map(lambda x: x.upper()).write_to(sink))  # fmt: skip
    assert sorted(upper) == ["A", "B"]
    positive = run_transform(client, [-1, 0, 2, 3], lambda p, source, sink: p.read_from(source)
                             .filter(lambda x: x > 0).write_to(sink))  # fmt: skip
    assert sorted(positive) == [2, 3]
    words = run_transform(client, ["a b", "c"], lambda p, source, sink: p.read_from(source)
                          .flat_map(lambda x: x.split()).write_to(sink))  # fmt: skip
    assert sorted(words) == ["a", "b", "c"]
    rows = [{"category": "x", "v": 1}, {"category": "y", "v": 2}, {"category": "x", "v": 3}]
    groups = dict(run_transform(client, rows, lambda p, source, sink: p.read_from(source)
                                .group_by(lambda x: x["category"]).write_to(sink)))  # fmt: skip
    assert sorted(r["v"] for r in groups["x"]) == [1, 3]
    summed = run_transform(client, [1, 2, 3, 4], lambda p, source, sink: p.read_from(source)
                           .aggregate(accumulator=lambda acc, x: acc + x, initial=0)
                           .write_to(sink))  # fmt: skip
    assert summed == [10]
    distinct = run_transform(client, [1, 2, 2, 3, 1], lambda p, source, sink: p.read_from(source)
                             .distinct().write_to(sink))  # fmt: skip
    assert sorted(distinct) == [1, 2, 3]
    events = [{"timestamp": t} for t in (5, 1, 4, 2, 3)]
    ordered = run_transform(client, events, lambda p, source, sink: p.read_from(source)
                            .sort(key_fn=lambda x: x["timestamp"]).write_to(sink))  # fmt: skip
    assert [e["timestamp"] for e in ordered] == [1, 2, 3, 4, 5]

    # Sinks
    pipeline = Pipeline.create()
    stage = pipeline.read_from(Pipeline.from_list("pairs", [("a", 1), ("b", 2)]))
    stage.write_to(Pipeline.to_list("pair-list"))
    stage.write_to(Pipeline.to_map("output-map"))
    stage.write_to(Pipeline.to_logger())
    client.run(pipeline)
    assert client.get_map("output-map").to_dict() == {"a": 1, "b": 2}


def streaming(name: str, sink: str) -> Pipeline:
    pipeline = Pipeline.create()
    pipeline.read_from(StreamSource("events")).map(lambda e: e["n"]).write_to(
        Pipeline.to_list(sink)
    )
    return pipeline


def job_lifecycle(client: Any) -> None:
    jet = client.get_jet()
    events = client.get_stream("events", partitions=2)

    # Job Configuration, Submitting Jobs
    config = JobConfig(
        name="my-processing-job",
        auto_scaling_enabled=True,
        processing_guarantee=ProcessingGuarantee.EXACTLY_ONCE,
        snapshot_interval_millis=10000,
    )
    job = jet.submit(streaming("events", "seen"), config)
    print(f"Job ID: {job.id}")
    print(f"Status: {job.status}")
    config = JobConfig(name="my-processing-job")
    assert jet.new_job_if_absent(streaming("events", "seen"), config) == job

    # Monitoring
    wait_for(lambda: job.get_status() is JobStatus.RUNNING, "running")
    events.publish_all([{"n": i} for i in range(10)])
    wait_for(lambda: job.get_metrics().received_count >= 10, "ten events read")
    if job.is_terminal():
        raise SystemExit("a streaming job ended by itself")

    # Controlling: a suspension snapshots (and commits what the sink holds)
    job.suspend()
    wait_for(lambda: job.get_status() is JobStatus.SUSPENDED, "suspended")
    assert sorted(client.get_list("seen")) == list(range(10))
    job.resume()
    wait_for(lambda: job.get_status() is JobStatus.RUNNING, "running again")
    job.restart()
    wait_for(
        lambda: any((e.reason or "").startswith("restarted") for e in client.jobs.events(job.id)),
        "restarted",
    )
    wait_for(lambda: job.get_status() is JobStatus.RUNNING, "running after the restart")

    # Snapshots
    job.export_snapshot("checkpoint-1")

    # Waiting with timeout
    try:
        job.join(timeout=0.5)
    except TimeoutException:
        print("Job did not complete in time")

    # Retrieving Jobs
    assert jet.get_job(job.id) == job
    assert jet.get_job_by_name("my-processing-job") == job
    for found in jet.get_jobs():
        print(f"{found.name}: {found.status}")

    job.cancel()
    try:
        job.join()
    except JobFailed:
        assert job.is_user_cancelled()

    # Resume from snapshot
    events.publish_all([{"n": i} for i in range(10, 20)])
    events.close()
    config = JobConfig(name="recovered-job")
    config.initial_snapshot_name = "checkpoint-1"
    config.processing_guarantee = ProcessingGuarantee.EXACTLY_ONCE
    recovered = jet.submit(streaming("events", "seen"), config)
    recovered.join(timeout=60)
    seen = Counter(client.get_list("seen"))
    assert set(seen) == set(range(20)) and max(seen.values()) == 1, seen


def main() -> None:
    client = Client()  # the server `headrace submit --server` names
    print(f"client: {type(client).__module__}")
    pipelines_and_sources(client)
    transformations(client)
    job_lifecycle(client)
    print("seed 001 OK", *sys.argv[1:])


if __name__ == "__main__":
    main()
