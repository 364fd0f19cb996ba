"""One worker's share of a run: its partitions of every vertex, fed batch by batch.

The in-process executor owns every partition in one worker; the processes executor
gives each worker process one partition and carries messages for the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from headrace.connectors.base import DataStructureProvider, SinkPartition
from headrace.engine import pacing
from headrace.engine.chain import ITEMS, CompiledChain, Tail
from headrace.engine.edges import Message, Sender
from headrace.engine.errors import AccumulationLimitExceeded
from headrace.engine.feed import INF, NEG_TIME, SourceFeed, SplitClaims, SplitState
from headrace.engine.metrics import PipelineMetrics, StageMetrics
from headrace.engine.operators import Head, make_head
from headrace.engine.plan import Plan, VertexSpec
from headrace.pipeline import Node

__all__ = ["EngineOptions", "SinkOpener", "Worker"]

#: Opens the writer of one sink node for one partition.
SinkOpener = Callable[[Node, int], SinkPartition]


#: Input items a chain with a flat_map runs at once, when what it emits is folded
#: right away (``_sliced``): a batch is run slice by slice.
#: A flat_map multiplies items; a whole batch's output (4,096 lines of text are some
#: 33,000 words, about 2 MB of string objects) outgrows the CPU's cache before the
#: next stage folds or sends it, so that stage reads it back from memory, and the
#: allocator keeps carving fresh memory for it. A slice's output is used while it is
#: still in cache, and the memory it frees serves the next slice.
FLAT_MAP_SLICE = 256

#: Processing guarantees, weakest first.
Guarantee = Literal["none", "at_least_once", "exactly_once"]
GUARANTEES: tuple[Guarantee, ...] = ("none", "at_least_once", "exactly_once")


@dataclass(frozen=True)
class EngineOptions:
    """Tunables of a run.

    Attributes:
        batch_size: Most items a source partition hands over at once; fewer when a batch
            would take long (``pacing``), so snapshots keep their interval.
        split_items: Items per source split (list slices; files use 64 bytes per item).
            Splits never depend on the parallelism, so neither does lateness. Worker
            processes claim splits as they read, so smaller splits let them finish
            closer together; each split costs an open and a claim.
        guarantee: ``"none"`` takes no snapshots; ``"at_least_once"`` snapshots every
            ``snapshot_interval_ms`` and writes sinks directly (a restore may repeat
            output, never lose it); ``"exactly_once"`` also holds back List, Map and
            Stream writes until the snapshot that covers them commits.
        snapshot_interval_ms: Wall-clock time between snapshots (it decides when, never
            what: results do not depend on it).
        output_interval_ms: ``"exactly_once"`` only: the longest held output waits; a
            snapshot (which commits it) is taken at least this often.
    """

    batch_size: int = 4096
    split_items: int = 16384
    guarantee: Guarantee = "none"
    snapshot_interval_ms: int = 10_000
    output_interval_ms: int = 1_000
    #: A stateful stage holding more records than this fails the run (None: no limit).
    max_accumulated_records: int | None = None

    def __post_init__(self) -> None:
        if self.guarantee not in GUARANTEES:
            msg = f"guarantee must be one of {', '.join(GUARANTEES)}, got {self.guarantee!r}"
            raise ValueError(msg)
        for name in ("batch_size", "split_items"):
            if getattr(self, name) < 1:
                msg = f"{name} must be at least 1, got {getattr(self, name)}"
                raise ValueError(msg)
        for name in ("snapshot_interval_ms", "output_interval_ms"):
            if getattr(self, name) < 0:
                msg = f"{name} must not be negative, got {getattr(self, name)}"
                raise ValueError(msg)


class VertexInstance:
    """Partition ``partition`` of one vertex: head, fused chain, sinks and senders."""

    def __init__(self, worker: Worker, spec: VertexSpec, partition: int) -> None:
        self.worker = worker
        self.spec = spec
        self.partition = partition
        self.head: Head = make_head(spec.head, partition)
        self.head.sole_sender = worker.partitions == 1 and len(spec.inputs) == 1
        timed_in = spec.head is not None and spec.head.timestamped and spec.head.kind != "source"
        self.chain = CompiledChain(spec.chain, timed_in, _tail(worker.plan, spec))
        self.sinks = [(n, worker.open_sink(n, partition)) for n in spec.sinks]
        n = worker.partitions
        self.senders = [
            Sender(
                e,
                worker.plan.vertices[e.dst].head or _head_stub(worker, e.dst),
                partition,
                n,
                worker.deliver,
                worker.owned,
            )
            for e in spec.outputs
        ]
        self.pending: dict[int, set[int]] = {}
        self.input_wm: dict[tuple[int, int], float] = {}
        for e in spec.inputs:
            senders = {partition} if e.routing == "forward" else set(range(n))
            self.pending.setdefault(e.port, set()).update(senders)
            if e.timestamped:
                for s in senders:
                    self.input_wm[(e.port, s)] = -INF
        self.watermark = -INF
        self.finished = False
        self.metrics = [worker.metrics.stage(x.name, x.kind) for x in spec.nodes]
        self.sink_metrics = [worker.metrics.stage(x.name, x.kind) for x in spec.sinks]
        self.tsnode = spec.timestamps
        #: Items run through the chain at once (0: a whole batch); see FLAT_MAP_SLICE.
        self.slice = FLAT_MAP_SLICE if _sliced(spec) else 0

    # ---------------------------------------------------------------- items

    def on_message(self, msg: Message) -> None:
        kind, _v, _p, port, payload, ts, sender = msg
        if kind == "d":
            self.process(port, payload, ts)
        elif kind == "p":
            t0 = time.perf_counter()
            count = self.head.partials_count(payload)  # before the head takes them over
            out = self.head.on_partials(port, payload)
            self._check_accumulated()
            self.metrics[0].processing_time_ms += (time.perf_counter() - t0) * 1000
            self.metrics[0].received += count
            self.emit_output(out)
        elif kind == "w":
            self.input_wm[(port, sender)] = payload
            self._input_time_moved()
        else:
            self._on_end(port, sender)

    def _check_accumulated(self) -> None:
        limit = self.worker.options.max_accumulated_records
        if limit is not None and (held := self.head.held()) > limit:
            raise AccumulationLimitExceeded(self.head.name, held, limit)

    def process(self, port: int, items: Any, ts: Any, tstate: list[int] | None = None) -> None:
        """Runs a batch through head and chain, then out to sinks and senders."""
        t0 = time.perf_counter()
        if self.spec.head is not None and self.spec.head.kind != "source":
            self.metrics[0].received += len(items)
            self.metrics[0].batches += 1
            out = self.head.on_data(port, items, ts)
            self._check_accumulated()
            if out is None:
                self.metrics[0].processing_time_ms += (time.perf_counter() - t0) * 1000
                return
            items, ts = out
            self.metrics[0].emitted += len(items)
        self._emit(items, ts, tstate, t0)

    def _emit(self, items: Any, ts: Any, tstate: list[int] | None, t0: float) -> None:
        step = self.slice
        if step and len(items) > step:  # a chain with a flat_map: slice by slice
            for i in range(0, len(items), step):
                part_ts = ts[i : i + step] if ts is not None else None
                self._emit_part(items[i : i + step], part_ts, tstate, t0)
                t0 = time.perf_counter()
            return
        self._emit_part(items, ts, tstate, t0)

    def _emit_part(self, items: Any, ts: Any, tstate: list[int] | None, t0: float) -> None:
        chain = self.chain
        if chain.nodes:
            if tstate is None:
                tstate = self.worker.time_state(self.spec.id)
            n = len(items)
            items, ts, counters = chain.run(items, ts, tstate)
            self._count_chain(n, counters)
        elif not isinstance(items, list):
            items = list(items)
        if self.metrics:
            self.metrics[0].processing_time_ms += (time.perf_counter() - t0) * 1000
        if not items:
            return
        if chain.tail is not ITEMS:  # keyed in the loop for the only output edge
            self.senders[0].send_tail(chain.tail.kind, items, ts)
            return
        for (_node, writer), m in zip(self.sinks, self.sink_metrics, strict=True):
            t1 = time.perf_counter()
            writer.write_batch(items)
            m.received += len(items)
            m.batches += 1
            m.processing_time_ms += (time.perf_counter() - t1) * 1000
        for s in self.senders:
            s.send(items, ts)

    def _count_chain(self, n: int, counters: list[int]) -> None:
        chain = self.chain
        emitted = chain.counts_to_emitted(n, counters)
        base = 1 if self.spec.head is not None else 0
        for i, node in enumerate(chain.nodes):
            m = self.metrics[base + i]
            m.received += n
            m.emitted += emitted[i]
            m.batches += 1
            if node.kind == "timestamps":
                m.late_dropped += counters[i]
            n = emitted[i]

    def emit_output(self, out: tuple[list[Any], Any] | None) -> None:
        """Sends a head's spontaneous output (at a watermark or at the end) onwards."""
        if out is not None and out[0]:
            if self.metrics:
                self.metrics[0].emitted += len(out[0])
            self._emit(out[0], out[1], None, time.perf_counter())

    # ---------------------------------------------------------------- time

    def _input_time_moved(self) -> None:
        if self.input_wm:
            self.advance(min(self.input_wm.values()))

    def advance(self, watermark: float) -> None:
        """Moves this partition's event time forward: close windows, tell the senders."""
        if watermark <= self.watermark:
            return
        self.watermark = watermark
        if self.metrics:  # for the watermark lag the dashboard shows
            self.metrics[0].watermarks[self.partition] = watermark
        self.emit_output(self.head.on_watermark(watermark))
        for s in self.senders:
            s.watermark(watermark)

    # ---------------------------------------------------------------- snapshots

    def export_state(self) -> dict[str, Any]:
        """Head, senders, event time and the inputs still open; pickled at once."""
        return {
            "head": self.head.export_state(),
            "senders": [s.export_state() for s in self.senders],
            "pending": {port: sorted(w) for port, w in self.pending.items()},
            "input_wm": dict(self.input_wm),
            "watermark": self.watermark,
            "finished": self.finished,
        }

    def import_state(self, state: dict[str, Any]) -> None:
        """Restores ``export_state()``'s value; a finished partition closes its sinks."""
        self.head.import_state(state["head"])
        for sender, st in zip(self.senders, state["senders"], strict=True):
            sender.import_state(st)
        self.pending = {port: set(w) for port, w in state["pending"].items()}
        self.input_wm = dict(state["input_wm"])
        self.watermark = state["watermark"]
        if state["finished"] and not self.finished:
            self.finished = True
            for _node, writer in self.sinks:
                writer.close()
            self.worker.unfinished -= 1

    # ---------------------------------------------------------------- end

    def _on_end(self, port: int, sender: int) -> None:
        waiting = self.pending[port]
        waiting.discard(sender)
        if (port, sender) in self.input_wm:
            self.input_wm[(port, sender)] = INF
        if not waiting:
            self.emit_output(self.head.on_port_end(port))
        if all(not w for w in self.pending.values()):
            self.finish()
        else:
            self._input_time_moved()

    def finish(self) -> None:
        """Every input has ended: flush the head, then end every output."""
        if self.finished:
            return
        self.finished = True
        self.emit_output(self.head.on_end())
        for s in self.senders:
            s.finish()
        for _node, writer in self.sinks:
            writer.close()
        self.worker.unfinished -= 1


def _sliced(spec: VertexSpec) -> bool:
    """Whether the vertex runs its batches slice by slice (see ``FLAT_MAP_SLICE``).

    Only a chain with a flat_map whose every output folds where it is made (an
    aggregation's sender-side combine): a slice's output sent on as it is, to a sink or
    another worker, would cost a message per slice instead of one per batch.
    """
    return (
        any(x.kind == "flat_map" for x in spec.chain)
        and not spec.sinks
        and bool(spec.outputs)
        and all(e.combine is not None for e in spec.outputs)
    )


def _tail(plan: Plan, spec: VertexSpec) -> Tail:
    """The keying step of the vertex's only output edge, fused into its chain if it helps.

    Not with sinks or several outputs (they need the items), nor after a flat_map ending
    the chain (extending the output list beats a Python step per emitted item).
    """
    if not spec.chain or spec.sinks or len(spec.outputs) != 1:
        return ITEMS
    if spec.chain[-1].kind == "flat_map":
        return ITEMS
    edge = spec.outputs[0]
    head = plan.vertices[edge.dst].head
    if head is None:
        return ITEMS
    op = head.op
    if edge.combine == "window":
        window = head.window
        if window is None or window.kind != "tumbling" or op is None:
            return ITEMS
        return Tail("slots", edge.key_fn, head.name, size=window.size_ms, values=not op.count_keys)
    if edge.key_fn is None:
        return ITEMS
    if edge.combine == "keyed" and op is not None and op.count_keys:
        return Tail("keys", edge.key_fn, head.name)
    if edge.combine == "keyed" or (edge.combine is None and edge.routing == "hash"):
        return Tail("pairs", edge.key_fn, head.name)
    return ITEMS


def _head_stub(worker: Worker, vertex: int) -> Node:
    # A vertex without a head (a chain after a branch) still needs a node for names.
    spec = worker.plan.vertices[vertex]
    return spec.chain[0]


class Worker:
    """Runs the partitions ``owned`` of every vertex of a plan."""

    def __init__(
        self,
        plan: Plan,
        provider: DataStructureProvider,
        partitions: int,
        owned: Sequence[int],
        splits: dict[int, list[Any]],
        open_sink: SinkOpener,
        send_remote: Callable[[Message], None] | None = None,
        options: EngineOptions | None = None,
        claims: SplitClaims | None = None,
    ) -> None:
        self.plan = plan
        self.provider = provider
        self.partitions = partitions
        self.owned = frozenset(owned)
        self.options = options or EngineOptions()
        self.open_sink = open_sink
        self.send_remote = send_remote
        self.metrics = PipelineMetrics()
        self.current: SplitState | None = None
        self.instances: dict[tuple[int, int], VertexInstance] = {}
        self.unfinished = 0
        self.feeds: list[tuple[VertexInstance, SourceFeed]] = []
        self.timed_by: dict[int, list[tuple[int, int]]] = {}  # source vertex -> (vertex, lag)
        for tv, sv in plan.time_source:
            node = plan.vertices[tv].timestamps
            assert node is not None
            self.timed_by.setdefault(sv, []).append((tv, node.lag_ms))
        for spec in plan.vertices:
            for p in sorted(self.owned):
                self.instances[(spec.id, p)] = VertexInstance(self, spec, p)
                self.unfinished += 1
        for spec in plan.vertices:
            if spec.head is not None and spec.head.kind == "source":
                for p in sorted(self.owned):
                    feed = SourceFeed(
                        spec.head, splits[spec.id], provider, p, partitions, claims, spec.id
                    )
                    self.feeds.append((self.instances[(spec.id, p)], feed))
        timed = self.options.guarantee != "none"
        target = pacing.target_sec(self.options.snapshot_interval_ms if timed else None)
        self.pacers = [pacing.Pacer(self.options.batch_size, target) for _ in self.feeds]

    @property
    def done(self) -> bool:
        """True once every owned vertex partition has finished."""
        return self.unfinished == 0

    def time_state(self, vertex: int) -> list[int]:
        """The newest-event-time cell of the split being read, for a timestamps vertex."""
        if self.current is None:
            return [NEG_TIME]
        return self.current.tstate.setdefault(vertex, [NEG_TIME])

    def deliver(self, msg: Message) -> None:
        """Hands a message to the owning partition, here or in another worker."""
        if msg[2] in self.owned:
            self.instances[(msg[1], msg[2])].on_message(msg)
        else:
            assert self.send_remote is not None, "message for a partition nobody owns"
            self.send_remote(msg)

    def step(self) -> bool:
        """Reads one batch from every unfinished source feed; False if none had items."""
        progressed = False
        for (inst, feed), pacer in zip(self.feeds, self.pacers, strict=True):
            if feed.finished:
                if not inst.finished:
                    inst.finish()
                continue
            t0 = time.perf_counter()
            got = feed.next(pacer.size)
            if got is None:
                inst.finish()
                continue
            st, batch = got
            if batch:
                progressed = True
                self.current = st
                m = inst.metrics[0]
                m.emitted += len(batch)
                m.batches += 1
                inst.process(0, batch, None, st.tstate.setdefault(inst.spec.id, [NEG_TIME]))
                self.current = None
                pacer.took(len(batch), time.perf_counter() - t0)
            else:
                progressed = progressed or st.finished
                if not st.finished:
                    inst.metrics[0].idle_batches += 1
            self._source_time(inst, feed)
            if feed.finished:
                inst.finish()
        return progressed

    def _source_time(self, inst: VertexInstance, feed: SourceFeed) -> None:
        for tv, lag in self.timed_by.get(inst.spec.id, ()):
            target = self.instances[(tv, inst.partition)]
            target.advance(feed.watermark(tv, lag))

    def export_state(self) -> dict[tuple[Any, ...], Any]:
        """The state of every owned partition, keyed so workers' states merge by union.

        Keys: ``("split", vertex, index)`` (a source split), ``("feed", vertex,
        partition)`` (a feed's cursor), ``("inst", vertex, partition)`` (a vertex
        partition). Only valid between steps, when nothing is in flight in this worker.
        """
        parts: dict[tuple[Any, ...], Any] = {}
        for inst, feed in self.feeds:
            cursor, split_states = feed.export_state()
            parts[("feed", inst.spec.id, inst.partition)] = cursor
            for i, st in split_states.items():
                parts[("split", inst.spec.id, i)] = st
        for (v, p), inst in self.instances.items():
            parts[("inst", v, p)] = inst.export_state()
        return parts

    def import_state(self, parts: dict[tuple[Any, ...], Any]) -> None:
        """Restores the owned partitions from a (merged) ``export_state()`` value."""
        for inst, feed in self.feeds:
            v = inst.spec.id
            splits = {k[2]: st for k, st in parts.items() if k[0] == "split" and k[1] == v}
            feed.import_state(parts.get(("feed", v, inst.partition), 0), splits)
        for (v, p), inst in self.instances.items():
            state = parts.get(("inst", v, p))
            if state is not None:
                inst.import_state(state)

    def close(self) -> None:
        """Closes the readers of a run that stops before its end."""
        for _inst, feed in self.feeds:
            feed.close()

    def release(self) -> None:
        """Lets go of the partitions once the run is over (ended or stopped).

        Each partition refers to its worker (sinks, event time, deliveries) and the
        worker to each partition: a cycle, which only Python's cyclic collector frees,
        whenever it next runs, often several runs later and in the middle of another
        run's work, which then pays for freeing the earlier runs' output and state
        (half a second for six runs of 5 M ints). Without the cycle, all that goes as
        soon as the executor and the caller let go of it.
        """
        self.feeds = []
        self.pacers = []
        self.instances = {}

    @property
    def reading(self) -> bool:
        """True while some owned source feed has input left."""
        return any(not inst.finished for inst, _feed in self.feeds)

    def stage_metrics(self) -> dict[str, StageMetrics]:
        """This worker's counters per stage."""
        return self.metrics.stages
