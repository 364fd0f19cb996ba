"""A Map sink's output from worker processes: key and value columns, one update each flush.

Structure, not timing: which form the output travels in, and that the driver leaves the
Map exactly as the sink's connector does with the same items (entries, their order, a
later one winning), in process and in two workers.
"""

from __future__ import annotations

import queue
from typing import Any

import pytest

from headrace.connectors.memory import InMemoryProvider
from headrace.engine import EngineOptions, prepare, run
from headrace.engine.executors import messages as m
from headrace.engine.executors import sinks
from headrace.engine.snapshot import Coordinator
from headrace.pipeline import Pipeline, counting

#: Items with repeated keys (a later one wins) and more than one part's worth.
ITEMS = [(f"k{i % 5000}", i, "extra") for i in range(sinks.SINK_PART_ITEMS + 3)]


def _pipeline(**map_fns: Any) -> Pipeline:
    p = Pipeline.create()
    p.read_from(Pipeline.items(ITEMS)).write_to(Pipeline.to_map("m", **map_fns))
    p.read_from(Pipeline.items(ITEMS)).write_to(Pipeline.to_list("l"))
    return p


def _sent(pipeline: Pipeline, label: str, options: EngineOptions) -> list[m.SinkOutput]:
    plan, _ = prepare(pipeline, InMemoryProvider(), options)
    node = next(n for v in plan.vertices for n in v.sinks if n.sink.label == label)
    results: queue.Queue[bytes] = queue.Queue()
    sinks.ProxySink(1, 0, node, results, InMemoryProvider(), options).write_batch(ITEMS)
    return [m.receive(results, 0) for _ in range(results.qsize())]


@pytest.mark.parametrize(
    ("map_fns", "key", "value"),
    [({}, lambda x: x[0], lambda x: x[1]), ({"key_fn": len, "value_fn": str}, len, str)],
)
def test_a_maps_output_goes_as_key_and_value_columns(map_fns: Any, key: Any, value: Any) -> None:
    sent = _sent(_pipeline(**map_fns), "map:m", EngineOptions())
    cut = sinks.SINK_PART_ITEMS
    assert len(sent) == 2
    for s, part in zip(sent, (ITEMS[:cut], ITEMS[cut:]), strict=True):
        assert not s.encoded
        assert s.items == [key(x) for x in part]
        assert s.values == [value(x) for x in part]


def test_held_output_and_other_sinks_go_as_items() -> None:
    exactly_once = EngineOptions(guarantee="exactly_once")
    for label, options in (("map:m", exactly_once), ("list:l", EngineOptions())):
        sent = _sent(_pipeline(), label, options)
        assert [s.values for s in sent] == [None, None]
        assert [x for s in sent for x in s.items] == ITEMS


def test_the_driver_leaves_the_map_as_the_connector_does() -> None:
    options = EngineOptions()
    plan, splits = prepare(_pipeline(), InMemoryProvider(), options)
    node = next(n for v in plan.vertices for n in v.sinks if n.sink.label == "map:m")
    provider = InMemoryProvider()
    driver = sinks.DriverSinks(plan, provider, Coordinator(plan, splits, 2, options, None))
    half = len(ITEMS) // 2
    for worker, part in enumerate((ITEMS[half:], ITEMS[:half])):  # arrival order counts
        keys, values = [x[0] for x in part], [x[1] for x in part]
        driver.add(m.SinkOutput(1, worker, node.id, keys, values=values))
    assert provider.maps.get("m", {}) == {}  # nothing written before the flush
    driver.close()
    expected: dict[Any, Any] = {}
    expected.update((x[0], x[1]) for x in ITEMS[half:] + ITEMS[:half])
    assert list(provider.maps["m"].items()) == list(expected.items())


def test_two_workers_write_the_same_map_as_one_process() -> None:
    def counts(**map_fns: Any) -> Pipeline:
        p = Pipeline.create()
        words = p.read_from(Pipeline.items([f"w{i % 997} w{i % 13}" for i in range(20000)]))
        words.flat_map(str.split).group_by(lambda w: w).aggregate(counting()).write_to(
            Pipeline.to_map("c", **map_fns)
        )
        return p

    for map_fns in ({}, {"key_fn": lambda kv: kv[0].upper(), "value_fn": lambda kv: -kv[1]}):
        got = []
        for par, executor in ((1, "inprocess"), (2, "processes")):
            provider = InMemoryProvider()
            run(counts(**map_fns), provider, par, executor=executor)
            got.append(provider.maps["c"])
        assert got[0] == got[1] and len(got[0]) == 997  # w0 to w12 twice a line
