"""Seed 001's Pipeline API examples, with only the imports (and the client) changed."""

from __future__ import annotations

import logging

import pytest

from headrace import Client
from headrace.jet.pipeline import ListSource, Pipeline, StreamSource


@pytest.fixture(params=[1, 2], ids=["p1", "p2"])
def parallelism(request: pytest.FixtureRequest) -> int:
    value: int = request.param
    return value


def test_building_pipelines(client: Client, parallelism: int) -> None:
    # Create pipeline
    pipeline = Pipeline.create()

    # Define source, transformations, and sink
    source = Pipeline.from_list("numbers", [1, 2, 3, 4, 5])
    sink = Pipeline.to_list("results")

    pipeline.read_from(source) \
        .map(lambda x: x * 2) \
        .filter(lambda x: x > 4) \
        .write_to(sink)  # fmt: skip

    client.run(pipeline, local_parallelism=parallelism)
    assert sorted(client.get_list("results")) == [6, 8, 10]


def test_batch_sources(client: Client, parallelism: int) -> None:
    items = ["a", "b", "c"]
    client.get_map("my-map").put_all({"k1": 1, "k2": 2})
    client.get_list("my-list").extend([10, 20])

    # From list
    source = Pipeline.from_list("data", items)
    pipeline = Pipeline.create()
    pipeline.read_from(source).write_to(Pipeline.to_list("out-list"))

    # From IMap
    source = Pipeline.from_map("my-map")
    pipeline.read_from(source).write_to(Pipeline.to_list("out-map"))

    # From IList
    source = ListSource("my-list")
    pipeline.read_from(source).write_to(Pipeline.to_list("out-ilist"))

    client.run(pipeline, local_parallelism=parallelism)
    assert sorted(client.get_list("out-list")) == items
    assert sorted(client.get_list("out-map")) == [("k1", 1), ("k2", 2)]
    assert sorted(client.get_list("out-ilist")) == [10, 20]


def test_stream_source(client: Client, parallelism: int) -> None:
    events = client.get_stream("events", partitions=2)
    events.publish_all(range(100))
    events.close()  # a closed Stream ends the job once read to its end

    source = StreamSource("events")
    pipeline = Pipeline.create()
    pipeline.read_from(source).map(lambda x: x + 1).write_to(Pipeline.to_list("seen"))
    client.run(pipeline, local_parallelism=parallelism)
    assert sorted(client.get_list("seen")) == list(range(1, 101))


def run_transform(
    client: Client, parallelism: int, data: list[object], build: object
) -> list[object]:
    client.get_list("input").clear()
    client.get_list("results").clear()
    source = Pipeline.from_list("input", data)
    sink = Pipeline.to_list("results")
    pipeline = Pipeline.create()
    build(pipeline, source, sink)  # type: ignore[operator]
    client.run(pipeline, local_parallelism=parallelism)
    return list(client.get_list("results"))


def test_transformations(client: Client, parallelism: int) -> None:
    def upper(pipeline: Pipeline, source: object, sink: object) -> None:
        pipeline.read_from(source) \
            .map(lambda x: x.upper()) \
            .write_to(sink)  # fmt: skip

    assert sorted(run_transform(client, parallelism, ["a", "b"], upper)) == ["A", "B"]

    def positive(pipeline: Pipeline, source: object, sink: object) -> None:
        pipeline.read_from(source) \
            .filter(lambda x: x > 0) \
            .write_to(sink)  # fmt: skip

    assert sorted(run_transform(client, parallelism, [-1, 0, 2, 3], positive)) == [2, 3]

    def words(pipeline: Pipeline, source: object, sink: object) -> None:
        pipeline.read_from(source) \
            .flat_map(lambda x: x.split()) \
            .write_to(sink)  # fmt: skip

    assert sorted(run_transform(client, parallelism, ["a b", "c"], words)) == ["a", "b", "c"]

    def grouped(pipeline: Pipeline, source: object, sink: object) -> None:
        pipeline.read_from(source) \
            .group_by(lambda x: x["category"]) \
            .write_to(sink)  # fmt: skip

    rows = [{"category": "x", "v": 1}, {"category": "y", "v": 2}, {"category": "x", "v": 3}]
    groups = dict(run_transform(client, parallelism, rows, grouped))  # type: ignore[arg-type]
    assert sorted(r["v"] for r in groups["x"]) == [1, 3] and [r["v"] for r in groups["y"]] == [2]

    def summed(pipeline: Pipeline, source: object, sink: object) -> None:
        pipeline.read_from(source) \
            .aggregate(
                accumulator=lambda acc, x: acc + x,
                initial=0
            ) \
            .write_to(sink)  # fmt: skip

    assert run_transform(client, parallelism, [1, 2, 3, 4], summed) == [10]

    def distinct(pipeline: Pipeline, source: object, sink: object) -> None:
        pipeline.read_from(source) \
            .distinct() \
            .write_to(sink)  # fmt: skip

    assert sorted(run_transform(client, parallelism, [1, 2, 2, 3, 1], distinct)) == [1, 2, 3]

    def ordered(pipeline: Pipeline, source: object, sink: object) -> None:
        pipeline.read_from(source) \
            .sort(key_fn=lambda x: x["timestamp"]) \
            .write_to(sink)  # fmt: skip

    events = [{"timestamp": t} for t in (5, 1, 4, 2, 3)]
    assert [e["timestamp"] for e in run_transform(client, parallelism, events, ordered)] == [
        1,
        2,
        3,
        4,
        5,
    ]  # type: ignore[index]


def test_sinks(client: Client, parallelism: int, caplog: pytest.LogCaptureFixture) -> None:
    # To IList
    sink = Pipeline.to_list("results")
    pipeline = Pipeline.create()
    stage = pipeline.read_from(Pipeline.from_list("pairs", [("a", 1), ("b", 2)]))
    stage.write_to(sink)

    # To IMap
    sink = Pipeline.to_map("output-map")
    stage.write_to(sink)

    # To logger
    sink = Pipeline.to_logger()
    stage.write_to(sink)

    with caplog.at_level(logging.INFO):
        client.run(pipeline, local_parallelism=1)
    assert sorted(client.get_list("results")) == [("a", 1), ("b", 2)]
    assert client.get_map("output-map").to_dict() == {"a": 1, "b": 2}
    assert "('a', 1)" in caplog.text
