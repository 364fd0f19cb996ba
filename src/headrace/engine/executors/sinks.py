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

A Map sink's output that is neither encoded nor held goes as two columns, its keys and
its values (``columns``), and the driver puts them with one ``update`` of the zipped
columns. Sent as ``(key, value)`` pairs, every entry is a tuple to pickle, to unpickle
and, on the driver, to read back from memory cold to insert it; the driver does that
for every worker's output alone, after the last worker is done (an aggregate's result
comes all at the end), so it is the end of the run's critical path.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, Literal

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
#: A Map sink's items as a list of keys and a list of their values.
Columns = Callable[[list[Any]], tuple[list[Any], list[Any]]]
#: What a worker sent: the sink's items, rows its provider encoded, or Map columns.
Form = Literal["items", "rows", "columns"]


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


def columns(node: Node, options: EngineOptions, encoded: bool) -> Columns | None:
    """How a worker sends a Map sink's output as key and value columns, or None.

    Not when the provider encodes it (``encoding``), nor for exactly-once output, which
    the driver holds as items (``WriteBuffer``).
    """
    sink = node.sink
    if not isinstance(sink, MapSink) or encoded or options.guarantee == "exactly_once":
        return None
    kf: Callable[[Any], Any] = sink.key_fn
    vf: Callable[[Any], Any] = sink.value_fn
    if kf is MapSink.key_fn and vf is MapSink.value_fn:  # the defaults, item[0] and item[1]
        kf, vf = operator.itemgetter(0), operator.itemgetter(1)  # in C
    return lambda items: (list(map(kf, items)), list(map(vf, items)))


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
        self._columns = columns(node, options, self._encode is not None)

    def write_batch(self, items: list[Any]) -> None:
        """Sends ``items`` in parts of ``SINK_PART_ITEMS`` (encoded, or Map columns)."""
        step = SINK_PART_ITEMS
        run, index, node_id = self._run, self._index, self._node_id
        for i in range(0, len(items), step):
            part = items if len(items) <= step else items[i : i + step]
            if self._columns is not None:
                keys, values = self._columns(part)
                output = m.SinkOutput(run, index, node_id, keys, values=values)
            elif self._encode is not None:
                rows = self._encode(part if self._pairs is None else self._pairs(part))
                output = m.SinkOutput(run, index, node_id, rows, encoded=True)
            else:
                output = m.SinkOutput(run, index, node_id, part)
            m.send(self._results, output)

    def close(self) -> None:
        """The parent closes the real sink."""


class DriverSinks:
    """Applies the sink output that partitions send to the driver."""

    def __init__(self, plan: Plan, provider: DataStructureProvider, coordinator: Coordinator):
        self.provider, self.coordinator = provider, coordinator
        self.nodes = {n.id: n for v in plan.vertices for n in v.sinks}
        self.writers: dict[int, SinkPartition] = {}
        self.store_writers: dict[tuple[int, Form], Callable[..., None]] = {}
        #: Output received and not yet written, per sink and form, in arrival order.
        self.waiting: dict[tuple[int, Form], list[Any]] = {}
        #: The values of Map output that came as columns, beside their keys in ``waiting``.
        self.values: dict[int, list[Any]] = {}
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
        node_id, items = output.node_id, output.items
        form: Form = "rows" if output.encoded else "items"
        if output.values is not None:
            form = "columns"
            self.values.setdefault(node_id, []).extend(output.values)
        elif form == "items" and self.coordinator.hold(self.nodes[node_id], items):
            return
        self.waiting.setdefault((node_id, form), []).extend(items)
        self.pending += len(items)
        if self.pending >= FLUSH_ITEMS:
            self.flush()

    def flush(self) -> None:
        """Writes (or holds) what ``add`` took: one batch per sink."""
        waiting, self.waiting, self.pending = self.waiting, {}, 0
        values, self.values = self.values, {}
        for (node_id, form), items in waiting.items():
            if form == "items":
                self.write(node_id, items)
            elif form == "rows":
                self._store_writer(node_id, form)(items)
            else:  # as the Map sink's connector puts its items' pairs (``memory``)
                self._store_writer(node_id, form)(zip(items, values[node_id], strict=True))

    def _store_writer(self, node_id: int, form: Form) -> Callable[..., None]:
        """Writes what a worker made for the store: encoded rows, or a Map's entries."""
        write = self.store_writers.get((node_id, form))
        if write is None:
            target = store_target(self.nodes[node_id])
            assert target is not None and not self.coordinator.buffering
            kind, name = target
            handle: Any = (self.provider.get_map if kind == "map" else self.provider.get_list)(name)
            if form == "columns":
                write = handle.update
            else:
                write = handle.put_rows if kind == "map" else handle.extend_rows
            self.store_writers[(node_id, form)] = write
        return write

    def close(self) -> None:
        """Writes what is waiting, then closes every writer opened."""
        try:
            self.flush()
        finally:
            for w in self.writers.values():
                w.close()
