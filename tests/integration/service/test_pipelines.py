"""Pipelines run in the caller and as jobs on the workers, against the store."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from headrace import Client, errors
from headrace.jet.pipeline import Pipeline, counting
from headrace.model.status import Status


def word_count(words: str = "lines") -> Pipeline:
    p = Pipeline.create()
    p.read_from(Pipeline.from_list(words, ["a b a", "b c", "a"])) \
        .flat_map(str.split) \
        .group_by(lambda w: w) \
        .aggregate(counting()) \
        .write_to(Pipeline.to_map("counts"))  # fmt: skip
    return p


def test_run_returns_metrics_and_writes_the_store(client: Client) -> None:
    metrics = client.run(word_count(), local_parallelism=2)
    assert client.get_map("counts").to_dict() == {"a": 3, "b": 2, "c": 1}
    assert metrics.received_count == 3 and metrics.emitted_count == 3


def test_a_pipeline_job_runs_on_a_worker(client: Client) -> None:
    suffix = "!"  # a closure: the pipeline travels to the worker by cloudpickle
    p = Pipeline.create()
    p.read_from(Pipeline.from_list("in", ["x", "y"])).map(lambda s: s + suffix).write_to(
        Pipeline.to_list("out")
    )
    job = client.pipelines.submit(p, local_parallelism=1, name="shout")
    done = client.jobs.wait(job.job_id, 60)
    assert done.status is Status.COMPLETED, done.error
    assert sorted(client.get_list("out")) == ["x!", "y!"]
    assert done.result["emitted_count"] == 2 and done.name == "shout"


def test_a_failing_user_function_fails_the_job_naming_stage_item_and_traceback(
    client: Client,
) -> None:
    p = Pipeline.create()
    p.read_from(Pipeline.from_list("nums", [1, 2, 0, 4])).map(lambda x: 10 // x).write_to(
        Pipeline.to_list("never")
    )
    done = client.jobs.wait(client.pipelines.submit(p).job_id, 60)
    assert done.status is Status.FAILED
    error = done.error or ""
    assert "map" in error and "item 0" in error and "ZeroDivisionError" in error
    assert "Traceback" in error


def test_an_invalid_pipeline_is_refused_before_scheduling(client: Client) -> None:
    p = Pipeline.create()
    source = p.read_from(Pipeline.from_list("nums", [1]))
    source.write_to(Pipeline.to_list("copy"))
    source.map(lambda x: x)  # a branch written nowhere
    with pytest.raises(errors.PipelineDefinitionError) as info:
        client.pipelines.submit(p)
    assert info.value.stage.startswith("map")
    assert client.jobs.list().total == 0
    with pytest.raises(errors.PipelineDefinitionError):
        client.run(p)


def test_a_missing_source_name_is_refused(client: Client) -> None:
    from headrace.jet.pipeline import ListSource

    p = Pipeline.create()
    p.read_from(ListSource("does-not-exist")).write_to(Pipeline.to_list("out"))
    with pytest.raises(errors.PipelineDefinitionError) as info:
        client.run(p)
    assert "does-not-exist" in str(info.value)


def test_data_structures_survive_a_process_restart(store_url: str) -> None:
    write = textwrap.dedent(
        f"""
        from headrace import Client
        c = Client({store_url!r}, run_workers=False)
        c.get_list("kept").extend([1, (2, 3), {{"four": 4}}])
        c.get_map("kept-map").put_all({{"k": [1, 2]}})
        c.get_stream("kept-stream", partitions=2).publish_all(["e1", "e2", "e3"])
        c.close()
        """
    )
    subprocess.run([sys.executable, "-c", write], check=True)
    client = Client(store_url, run_workers=False)
    assert client.get_list("kept").to_list() == [1, (2, 3), {"four": 4}]
    assert client.get_map("kept-map").get("k") == [1, 2]
    stream = client.get_stream("kept-stream")
    assert sorted(v for p in range(2) for v in stream.read(p)) == ["e1", "e2", "e3"]
    client.close()
