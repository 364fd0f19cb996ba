"""Runs every partition in the calling thread: for tests, small jobs and debugging."""

from __future__ import annotations

import time
from typing import Any

from headrace.connectors.base import DataStructureProvider, SinkPartition
from headrace.engine import io
from headrace.engine.executors.base import Control
from headrace.engine.metrics import PipelineMetrics
from headrace.engine.plan import Plan
from headrace.engine.runtime import EngineOptions, Worker
from headrace.pipeline import Node

__all__ = ["InProcessExecutor"]

#: Pause when every source is waiting for data (an unbounded stream), so the loop
#: does not spin a core while idle.
IDLE_SLEEP_SEC = 0.001


class InProcessExecutor:
    """One worker owning all partitions; messages between them are direct calls."""

    def execute(
        self,
        plan: Plan,
        provider: DataStructureProvider,
        splits: dict[int, list[Any]],
        parallelism: int,
        control: Control | None,
        options: EngineOptions,
    ) -> PipelineMetrics:
        """Runs to completion in this thread."""

        def open_sink(node: Node, partition: int) -> SinkPartition:
            assert node.sink is not None
            return io.sink_connector(node.sink).open(provider, partition)

        worker = Worker(
            plan, provider, parallelism, range(parallelism), splits, open_sink, options=options
        )
        while not worker.done:
            if control is not None:
                control.check()
            if not worker.step() and worker.reading:
                time.sleep(IDLE_SLEEP_SEC)
        return worker.metrics
