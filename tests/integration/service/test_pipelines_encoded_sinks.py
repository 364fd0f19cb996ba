"""Store sinks of a parallel run: rows encoded in the workers, written by the parent in bulk.

Structure, not timing: which form the output travels in, how many upserts the parent
runs for the parts it has received, and that p=1 and p=2 store the same entries.
"""

from __future__ import annotations

import pickle
import queue
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import event

from headrace import Client
from headrace.connectors.memory import InMemoryProvider
from headrace.engine import EngineOptions, prepare
from headrace.engine.executors import messages as m
from headrace.engine.executors import sinks
from headrace.engine.snapshot import Coordinator
from headrace.jet.pipeline import Pipeline, counting, summing
from headrace.service import encoding
from headrace.service.data import StoreProvider

LINES = ["a b", "b c c", "d", "e f a"] * 50


def _counts(name: str, lines: list[str]) -> Pipeline:
    p = Pipeline.create()
    words = p.read_from(Pipeline.items(lines)).flat_map(str.split)
    words.group_by(lambda w: w).aggregate(counting()).write_to(Pipeline.to_map(name))
    words.map(len).aggregate(summing()).write_to(Pipeline.to_list(f"{name}-total"))
    # A Map sink with its own key and value functions: applied before encoding.
    words.group_by(lambda w: w).aggregate(counting()).write_to(
        Pipeline.to_map(
            f"{name}-upper", key_fn=lambda kv: kv[0].upper(), value_fn=lambda kv: -kv[1]
        )
    )
    return p


def test_p1_and_p2_store_the_same_entries(store_url: str) -> None:
    client = Client(store_url, run_workers=False)
    try:
        ref = Counter(w for line in LINES for w in line.split())
        for par in (1, 2):
            client.run(_counts(f"c{par}", LINES), par)
            assert client.get_map(f"c{par}").to_dict() == dict(ref)
            assert client.get_list(f"c{par}-total").to_list() == [sum(map(len, ref.elements()))]
            assert client.get_map(f"c{par}-upper").to_dict() == {
                k.upper(): -v for k, v in ref.items()
            }
        with client.store.read() as conn:
            rows = conn.exec_driver_sql(
                "SELECT name, key, value FROM data_map_entries ORDER BY name, key"
            ).all()
        by_name: dict[str, set[tuple[bytes, bytes]]] = {}
        for name, key, value in rows:
            by_name.setdefault(name, set()).add((bytes(key), bytes(value)))
        # Encoded in the workers or here: the very same bytes.
        assert by_name["c1"] == by_name["c2"] and by_name["c1-upper"] == by_name["c2-upper"]
    finally:
        client.close()


def _plan_and_coordinator(pipeline: Pipeline, guarantee: str = "none") -> tuple[Any, Coordinator]:
    options = EngineOptions(guarantee=guarantee)  # type: ignore[arg-type]
    plan, splits = prepare(pipeline, InMemoryProvider(), options)
    return plan, Coordinator(plan, splits, 2, options, None)


def _sink_node(plan: Any, label: str) -> Any:
    return next(n for v in plan.vertices for n in v.sinks if n.sink.label == label)


def test_a_worker_sends_a_store_map_sinks_output_as_the_stores_rows() -> None:
    plan, _ = _plan_and_coordinator(_counts("m", LINES))
    node = _sink_node(plan, "map:m-upper")
    ref = StoreProvider.at("sqlite:///unused.db", "t")  # never opened: encoding needs no store
    results: queue.Queue[bytes] = queue.Queue()
    proxy = sinks.ProxySink(7, 1, node, results, pickle.loads(pickle.dumps(ref)), EngineOptions())
    items = [(f"w{i}", i) for i in range(sinks.SINK_PART_ITEMS + 3)]
    proxy.write_batch(items)
    sent = [m.receive(results, 0) for _ in range(2)]
    assert results.empty()
    assert all(isinstance(s, m.SinkOutput) and s.encoded and s.node_id == node.id for s in sent)
    # Each part is the store's rows of its items, sorted by encoded key (a run the
    # parent's sort merges cheaply).
    cut = sinks.SINK_PART_ITEMS
    for s, part in zip(sent, (items[:cut], items[cut:]), strict=True):
        assert s.items == sorted(
            encoding.map_rows([(k.upper(), -v) for k, v in part]), key=lambda r: r[0]
        )


def test_output_is_sent_as_items_when_held_for_snapshots_or_not_for_the_store() -> None:
    plan, _ = _plan_and_coordinator(_counts("m", LINES))
    node = _sink_node(plan, "map:m")
    ref = pickle.loads(pickle.dumps(StoreProvider.at("sqlite:///unused.db", "t")))
    assert sinks.encoding(node, ref, EngineOptions()) is encoding.sorted_map_rows
    exactly_once = EngineOptions(guarantee="exactly_once")
    assert sinks.encoding(node, ref, exactly_once) is None  # the commit encodes it
    assert sinks.encoding(node, InMemoryProvider(), EngineOptions()) is None  # no encoder
    total = _sink_node(plan, "list:m-total")
    assert sinks.encoding(total, ref, EngineOptions()) is encoding.list_rows


@pytest.mark.parametrize("encoded", [True, False])
def test_the_parts_received_are_written_in_one_upsert(store_url: str, encoded: bool) -> None:
    client = Client(store_url, run_workers=False)
    try:
        provider = StoreProvider(client.store, client.scope.tenant_id)
        plan, coordinator = _plan_and_coordinator(_counts("parts", LINES))
        node = _sink_node(plan, "map:parts")
        driver = sinks.DriverSinks(plan, provider, coordinator)
        parts = [[(f"k{i}", p) for i in range(100)] for p in range(3)]  # a later part wins
        for worker, part in enumerate(parts):
            items = encoding.map_rows(part) if encoded else part
            driver.add(m.SinkOutput(1, worker, node.id, items, encoded))
        upserts: list[str] = []

        def record(_c: Any, _cur: Any, sql: str, *_rest: Any) -> None:
            if sql.startswith("INSERT INTO data_map_entries"):
                upserts.append(sql)

        event.listen(client.store.engine, "before_cursor_execute", record)
        try:
            assert client.get_map("parts").to_dict() == {}  # nothing written before flush
            driver.close()
        finally:
            event.remove(client.store.engine, "before_cursor_execute", record)
        assert len(upserts) == 1
        assert client.get_map("parts").to_dict() == {f"k{i}": 2 for i in range(100)}
    finally:
        client.close()
