"""Sinks for executors whose partitions run elsewhere: the workers' side and the driver's.

Partitions in other processes (the process pool, Ray actors) send their sink output to
the process that runs the pipeline, which holds exactly-once output for the next
snapshot and writes the rest through one writer per sink.

Unless held for snapshots, the output of a List or Map sink is encoded where it is made
when the provider says how (``encoder``, see ``connectors.base``): the workers pickle
their rows in parallel, and the driver, which alone may write the store, has only the
database's work left. The driver writes what has come in as one batch per sink when
nothing more is waiting (``flush``), so the parts that workers send at the end of a run
go in one transaction rather than one each. Exactly-once output skips that gathering:
it goes straight to the coordinator's buffer, which the commit writes as one batch.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from headrace.connectors.base import DataStructureProvider, SinkPartition
from headrace.engine.executors import messages as m
from headrace.engine.plan import Plan
from headrace.engine.runtime import EngineOptions
from headrace.engine.snapshot import Coordinator, store_target
from headrace.pipeline import MapSink, Node

__all__ = ["FLUSH_ITEMS", "SINK_PART_ITEMS", "DriverSinks", "ProxySink", "encoding"]

#: Most items of sink output one message carries. A large batch (an aggregate's result
#: at the end of a run) goes in parts, so the parent unpickles one part while this
#: worker still pickles the next, instead of starting only once all is pickled.
SINK_PART_ITEMS = 8192
#: Items of sink output the driver holds at most before it writes them, even while
#: more are waiting.
FLUSH_ITEMS = 65536

#: A sink's items as rows of its store (``DataStructureProvider.encoder``).
Encode = Callable[[list[Any]], list[Any]]


def encoding(node: Node, provider: DataStructureProvider, options: EngineOptions) -> Encode | None:
    """How a worker encodes ``node``'s output for the driver, or None to send it as is.

    Exactly-once output is held for the snapshot commit as items (``WriteBuffer``),
    so only output that the driver writes as it comes is encoded.
    """
    target = store_target(node)
    if target is None or options.guarantee == "exactly_once":
        return None
    encoder = getattr(provider, "encoder", None)
    if encoder is None:
        return None
    found: Encode | None = encoder(target[0])
    return found


def _pairs(sink: MapSink) -> Callable[[list[Any]], list[Any]]:
    """A Map sink's items as ``(key, value)`` pairs, as ``ProviderSinkConnector`` makes them."""
    kf, vf = sink.key_fn, sink.value_fn
    if kf is MapSink.key_fn and vf is MapSink.value_fn:
        pair = operator.itemgetter(0, 1)  # the defaults, item[0] and item[1], in C
        return lambda items: list(map(pair, items))
    return lambda items: [(kf(x), vf(x)) for x in items]


class ProxySink:
    """A worker's sink that sends its output to the parent, which writes it, in order."""

    def __init__(
        self,
        run: int,
        index: int,
        node: Node,
        results: Any,
        provider: DataStructureProvider,
        options: EngineOptions,
    ) -> None:
        self._run, self._index, self._node_id, self._results = run, index, node.id, results
        self._encode = encoding(node, provider, options)
        self._pairs = _pairs(node.sink) if isinstance(node.sink, MapSink) else None

    def write_batch(self, items: list[Any]) -> None:
        """Sends ``items`` in parts of ``SINK_PART_ITEMS``, encoded if the provider says how."""
        step = SINK_PART_ITEMS
        for i in range(0, len(items), step):
            part = items if len(items) <= step else items[i : i + step]
            encoded = self._encode is not None
            if self._encode is not None:
                part = self._encode(part if self._pairs is None else self._pairs(part))
            m.send(
                self._results, m.SinkOutput(self._run, self._index, self._node_id, part, encoded)
            )

    def close(self) -> None:
        """The parent closes the real sink."""


class DriverSinks:
    """Applies the sink output that partitions send to the driver."""

    def __init__(self, plan: Plan, provider: DataStructureProvider, coordinator: Coordinator):
        self.provider, self.coordinator = provider, coordinator
        self.nodes = {n.id: n for v in plan.vertices for n in v.sinks}
        self.writers: dict[int, SinkPartition] = {}
        self.row_writers: dict[int, Callable[[list[Any]], None]] = {}
        #: Output received and not yet written, per sink and form, in arrival order.
        self.waiting: dict[tuple[int, bool], list[Any]] = {}
        self.pending = 0  # items in ``waiting``

    def write(self, node_id: int, items: list[Any]) -> None:
        """Applies (or, exactly once, holds) one batch of a sink's output."""
        node = self.nodes[node_id]
        if self.coordinator.hold(node, items):
            return
        writer = self.writers.get(node_id)
        if writer is None:
            writer = self.writers[node_id] = self.coordinator.open_sink(node, self.provider, 0)
        writer.write_batch(items)

    def add(self, output: m.SinkOutput) -> None:
        """Takes one batch to write at the next ``flush`` (at once past ``FLUSH_ITEMS``).

        Exactly-once output goes straight to the coordinator's buffer: it is written as
        one batch at the commit anyway, and gathering it here first would copy it twice.
        """
        if not output.encoded and self.coordinator.hold(self.nodes[output.node_id], output.items):
            return
        self.waiting.setdefault((output.node_id, output.encoded), []).extend(output.items)
        self.pending += len(output.items)
        if self.pending >= FLUSH_ITEMS:
            self.flush()

    def flush(self) -> None:
        """Writes (or holds) what ``add`` took: one batch per sink."""
        waiting, self.waiting, self.pending = self.waiting, {}, 0
        for (node_id, encoded), items in waiting.items():
            if encoded:
                self._write_rows(node_id, items)
            else:
                self.write(node_id, items)

    def _write_rows(self, node_id: int, rows: list[Any]) -> None:
        """Writes rows a worker encoded with the provider's ``encoder``."""
        write = self.row_writers.get(node_id)
        if write is None:
            target = store_target(self.nodes[node_id])
            assert target is not None and not self.coordinator.buffering
            kind, name = target
            handle: Any = (self.provider.get_map if kind == "map" else self.provider.get_list)(name)
            write = self.row_writers[node_id] = (
                handle.put_rows if kind == "map" else handle.extend_rows
            )
        write(rows)

    def close(self) -> None:
        """Writes what is waiting, then closes every writer opened."""
        try:
            self.flush()
        finally:
            for w in self.writers.values():
                w.close()
