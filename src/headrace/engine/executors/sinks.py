"""The driver's side of sinks for executors whose partitions run elsewhere.

Partitions in other processes (the process pool, Ray actors) send their sink output to
the process that runs the pipeline, which holds exactly-once output for the next
snapshot and writes the rest through one writer per sink.
"""

from __future__ import annotations

from typing import Any

from headrace.connectors.base import DataStructureProvider, SinkPartition
from headrace.engine.plan import Plan
from headrace.engine.snapshot import Coordinator

__all__ = ["DriverSinks"]


class DriverSinks:
    """Applies the sink output that partitions send to the driver."""

    def __init__(self, plan: Plan, provider: DataStructureProvider, coordinator: Coordinator):
        self.provider, self.coordinator = provider, coordinator
        self.nodes = {n.id: n for v in plan.vertices for n in v.sinks}
        self.writers: dict[int, SinkPartition] = {}

    def write(self, node_id: int, items: list[Any]) -> None:
        """Applies (or, exactly once, holds) one batch of a sink's output."""
        node = self.nodes[node_id]
        if self.coordinator.hold(node, items):
            return
        writer = self.writers.get(node_id)
        if writer is None:
            writer = self.writers[node_id] = self.coordinator.open_sink(node, self.provider, 0)
        writer.write_batch(items)

    def close(self) -> None:
        """Closes every writer opened."""
        for w in self.writers.values():
            w.close()
