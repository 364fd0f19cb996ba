"""Snapshots: when a run takes them, the sink writes they hold back, the blob they commit.

The design is a drained barrier. At a snapshot the executor stops reading sources and
lets everything in flight run through the DAG (in one process that is already true
between steps; the processes executor counts messages until every worker is idle), so
the snapshot is just source positions and operator state, with no in-flight data.
Exactly-once output is the List, Map and Stream writes made since the previous commit,
handed to :meth:`SnapshotStore.commit` with the state, so they land in the same
transaction as the positions that produced them.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import cloudpickle

from headrace.connectors.base import (
    DataStructureProvider,
    SinkPartition,
    SinkWrite,
    SnapshotStore,
)
from headrace.engine import io
from headrace.engine.metrics import PipelineMetrics
from headrace.engine.plan import Plan
from headrace.engine.runtime import EngineOptions
from headrace.pipeline import ListSink, MapSink, Node, StreamSink

__all__ = ["Coordinator", "Restored", "SnapshotMismatch", "decode", "encode"]

#: Bumped when the blob's layout changes; older blobs are refused with a clear error.
STATE_VERSION = 1
#: How often live metrics reach ``control.report_metrics`` between snapshots.
METRICS_SEC = 2.0

#: The merged state of every worker (see ``Worker.export_state``).
Parts = dict[tuple[Any, ...], Any]


class SnapshotMismatch(ValueError):
    """A snapshot cannot restore this run (another pipeline, parallelism or version)."""


@dataclass
class Restored:
    """A decoded snapshot: the splits it read, every partition's state, its metrics."""

    parallelism: int
    splits: dict[int, list[Any]]
    parts: Parts
    metrics: PipelineMetrics = field(default_factory=PipelineMetrics)

    def for_partitions(self, owned: Sequence[int]) -> Parts:
        """The state a worker owning ``owned`` needs (splits, feeds, its instances)."""
        mine = set(owned)
        return {
            k: v
            for k, v in self.parts.items()
            if k[0] == "split" or k[2] in mine  # split states are matched by index
        }


def signature(plan: Plan) -> list[tuple[str, str, int, int]]:
    """What must match between the run that took a snapshot and the one restoring it."""
    return [
        (v.name, v.head.kind if v.head is not None else "", len(v.chain), len(v.sinks))
        for v in plan.vertices
    ]


def encode(
    plan: Plan,
    parallelism: int,
    splits: dict[int, list[Any]],
    parts: Sequence[bytes],
    metrics: PipelineMetrics,
) -> bytes:
    """The committed blob; ``parts`` are workers' pickled ``export_state()`` values."""
    return bytes(
        cloudpickle.dumps(
            {
                "version": STATE_VERSION,
                "signature": signature(plan),
                "parallelism": parallelism,
                "splits": splits,
                "parts": list(parts),
                "metrics": metrics,
            }
        )
    )


def decode(blob: bytes, plan: Plan, parallelism: int) -> Restored:
    """Reads a committed blob for a run of ``plan`` at ``parallelism``.

    Raises:
        SnapshotMismatch: the blob is not a snapshot of this pipeline at this parallelism.
    """
    try:
        data = pickle.loads(blob)
    except Exception as exc:
        msg = f"not a pipeline snapshot: {type(exc).__name__}: {exc}"
        raise SnapshotMismatch(msg) from exc
    if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
        msg = f"snapshot version {data.get('version') if isinstance(data, dict) else None!r}"
        raise SnapshotMismatch(msg + f" cannot be restored (this engine reads {STATE_VERSION})")
    if data["signature"] != signature(plan):
        msg = "the snapshot was taken by another pipeline (its stages differ)"
        raise SnapshotMismatch(msg)
    if data["parallelism"] != parallelism:
        msg = (
            f"the snapshot was taken at local_parallelism {data['parallelism']}; restoring "
            f"at {parallelism} is not supported: restore at {data['parallelism']}"
        )
        raise SnapshotMismatch(msg)
    parts: Parts = {}
    for blob_part in data["parts"]:
        parts.update(pickle.loads(blob_part))
    return Restored(data["parallelism"], data["splits"], parts, data["metrics"])


def store_target(node: Node) -> tuple[str, str] | None:
    """``(kind, name)`` when ``node`` writes a List, Map or Stream, else ``None``."""
    desc = node.sink
    if isinstance(desc, ListSink):
        return "list", desc.name
    if isinstance(desc, MapSink):
        return "map", desc.name
    if isinstance(desc, StreamSink):
        return "stream", desc.name
    return None


class WriteBuffer:
    """Exactly-once output waiting for its snapshot, per target, in production order."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str], list[Any]] = {}

    def add(self, node: Node, items: list[Any]) -> bool:
        """Holds ``items`` of a List, Map or Stream sink; False for any other sink."""
        target = store_target(node)
        if target is None:
            return False
        if isinstance(node.sink, MapSink):
            kf, vf = node.sink.key_fn, node.sink.value_fn
            items = [(kf(x), vf(x)) for x in items]
        self._items.setdefault(target, []).extend(items)
        return True

    def drain(self) -> list[SinkWrite]:
        """Everything held, as one write per target; empties the buffer."""
        held, self._items = self._items, {}
        return [SinkWrite(kind, name, items) for (kind, name), items in held.items()]  # type: ignore[arg-type]


class _BufferedSink:
    """A List, Map or Stream sink whose writes wait in the coordinator's buffer."""

    def __init__(self, node: Node, buffer: WriteBuffer) -> None:
        self._node, self._buffer = node, buffer

    def write_batch(self, items: list[Any]) -> None:
        self._buffer.add(self._node, items)

    def close(self) -> None:
        """The commit applies the writes; nothing to flush here."""


class Coordinator:
    """Decides when to snapshot, holds exactly-once writes, and commits.

    Executors call :meth:`poll` between batches (it calls ``control.check()``), take
    a snapshot when it returns names, and call :meth:`commit` with the workers' state.
    The control object is duck-typed: ``check()`` raises to stop (an exception with a
    truthy ``take_snapshot`` asks for a last snapshot first; if ``take_snapshot`` is a
    sequence of names, or the exception has ``snapshot_names``, the snapshot is also
    stored under those); ``snapshot_requests()``, if present, returns names to take a
    snapshot under now (an empty list: no request); ``report_metrics(dict)``, if
    present, receives live metrics at each snapshot and every ``METRICS_SEC``. They
    are called between batches, so they should be cheap.
    """

    def __init__(
        self,
        plan: Plan,
        splits: dict[int, list[Any]],
        parallelism: int,
        options: EngineOptions,
        store: SnapshotStore | None,
        control: Any = None,
        restored: Restored | None = None,
    ) -> None:
        self.plan = plan
        self.splits = splits
        self.parallelism = parallelism
        self.options = options
        self.store = store
        self.control = control
        self.restored = restored
        self.base_metrics = restored.metrics if restored is not None else PipelineMetrics()
        self.periodic = store is not None and options.guarantee != "none"
        self.buffer = WriteBuffer()
        self.buffering = self.periodic and options.guarantee == "exactly_once"
        self.interval = options.snapshot_interval_ms / 1000
        if self.buffering:
            # Held output is seen only once a snapshot commits it: commit it this often.
            self.interval = min(self.interval, options.output_interval_ms / 1000)
        self._requests: Callable[[], Any] | None = getattr(control, "snapshot_requests", None)
        self._report: Callable[[dict[str, object]], Any] | None = getattr(
            control, "report_metrics", None
        )
        now = time.monotonic()
        self._last_snapshot = now
        self._last_report = now

    # ---------------------------------------------------------------- sinks

    def open_sink(
        self, node: Node, provider: DataStructureProvider, partition: int
    ) -> SinkPartition:
        """The writer of a sink: buffered for exactly-once Lists, Maps and Streams."""
        if self.buffering and store_target(node) is not None:
            return _BufferedSink(node, self.buffer)
        assert node.sink is not None
        return io.sink_connector(node.sink).open(
            provider, partition, resume=self.restored is not None
        )

    def hold(self, node: Node, items: list[Any]) -> bool:
        """Buffers a sink's items if it is exactly once; False when the caller writes."""
        return self.buffering and self.buffer.add(node, items)

    # ---------------------------------------------------------------- timing

    def next_due(self) -> float | None:
        """When (``time.monotonic()``) the next periodic snapshot is due; None without them.

        An interval after the last snapshot was taken. Without a control, that is the
        only thing :meth:`poll` does by itself, so an executor with nothing else to do
        may sleep until then instead of polling (a control's ``check`` and requests can
        ask for something at any moment: with one, executors keep polling).
        """
        if not self.periodic:
            return None
        return self._last_snapshot + self.interval

    def poll(self, live: Callable[[], PipelineMetrics] | None = None) -> list[str] | None:
        """Checks the control; returns snapshot names when a snapshot is due, else None.

        Raises:
            Exception: whatever ``control.check()`` raised to stop the run.
        """
        if self.control is not None:
            self.control.check()
        now = time.monotonic()
        if self._report is not None and live is not None and now - self._last_report >= METRICS_SEC:
            self.report(live())
        if self.store is None:
            return None
        if self._requests is not None:
            names = self._requests()
            if names:
                return [str(n) for n in names]
        if self.periodic and now - self._last_snapshot >= self.interval:
            return []
        return None

    def names_on_stop(self, exc: BaseException) -> list[str] | None:
        """Names of the last snapshot a stop asks for, or None when it asks for none."""
        wanted = getattr(exc, "take_snapshot", None)
        if not wanted or self.store is None:
            return None
        names: list[str] = []
        if isinstance(wanted, list | tuple):
            names.extend(str(n) for n in wanted)
        names.extend(str(n) for n in getattr(exc, "snapshot_names", None) or ())
        if self._requests is not None:
            names.extend(str(n) for n in self._requests() or ())
        if not self.periodic and not names:
            return None  # guarantee none: a plain suspend keeps no state
        return names

    def taken(self) -> None:
        """A snapshot's state is taken and its commit will follow.

        The next snapshot is due an interval from now: not an interval from the previous
        commit, as this one's commit may wait for the output made before it.
        """
        self._last_snapshot = time.monotonic()

    # ---------------------------------------------------------------- commits

    def total(self, live: PipelineMetrics) -> PipelineMetrics:
        """The run's metrics: what the restored snapshot counted plus this run's."""
        out = PipelineMetrics()
        out.merge(self.base_metrics)
        out.merge(live)
        return out

    def commit(self, parts: Sequence[bytes], live: PipelineMetrics, names: Sequence[str]) -> None:
        """Commits one snapshot with the writes held since the previous one."""
        assert self.store is not None
        metrics = self.total(live)
        blob = encode(self.plan, self.parallelism, self.splits, parts, metrics)
        self.store.commit(blob, self.buffer.drain(), list(names))
        self._last_snapshot = time.monotonic()
        self.report(live)

    def finish(self, parts: Sequence[bytes], live: PipelineMetrics) -> PipelineMetrics:
        """Ends a run that reached its end: the last commit (if snapshotting), metrics."""
        if self.periodic:
            self.commit(parts, live, [])
        else:
            self.report(live)
        return self.total(live)

    def report(self, live: PipelineMetrics) -> None:
        """Hands live metrics to ``control.report_metrics``, if it has one."""
        self._last_report = time.monotonic()
        if self._report is not None:
            self._report(self.total(live).as_dict())


def dump_parts(parts: Parts) -> bytes:
    """A worker's ``export_state()`` value, pickled now (state keeps changing after)."""
    return bytes(cloudpickle.dumps(parts))
