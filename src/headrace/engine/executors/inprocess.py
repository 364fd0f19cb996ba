"""Runs every partition in the calling thread: for tests, small jobs and debugging."""

from __future__ import annotations

import time
from typing import Any

from headrace.connectors.base import DataStructureProvider, SinkPartition
from headrace.engine.executors.base import Control
from headrace.engine.metrics import PipelineMetrics
from headrace.engine.plan import Plan
from headrace.engine.runtime import EngineOptions, Worker
from headrace.engine.snapshot import Coordinator, dump_parts
from headrace.pipeline import Node

__all__ = ["InProcessExecutor"]

#: Pause when every source is waiting for data (an unbounded stream), so the loop
#: does not spin a core while idle.
IDLE_SLEEP_SEC = 0.001


class InProcessExecutor:
    """One worker owning all partitions; messages between them are direct calls.

    Deliveries are synchronous, so between two steps nothing is in flight: a snapshot
    is the worker's state as it stands.
    """

    def execute(
        self,
        plan: Plan,
        provider: DataStructureProvider,
        splits: dict[int, list[Any]],
        parallelism: int,
        control: Control | None,
        options: EngineOptions,
        coordinator: Coordinator,
    ) -> PipelineMetrics:
        """Runs to completion in this thread, snapshotting when the coordinator says."""

        def open_sink(node: Node, partition: int) -> SinkPartition:
            return coordinator.open_sink(node, provider, partition)

        worker = Worker(
            plan, provider, parallelism, range(parallelism), splits, open_sink, options=options
        )
        if coordinator.restored is not None:
            worker.import_state(coordinator.restored.parts)

        def live() -> PipelineMetrics:
            return worker.metrics

        def snapshot(names: list[str]) -> None:
            coordinator.commit([dump_parts(worker.export_state())], worker.metrics, names)

        try:
            while not worker.done:
                try:
                    names = coordinator.poll(live)
                except BaseException as exc:
                    wanted = coordinator.names_on_stop(exc)
                    if wanted is not None:
                        snapshot(wanted)
                    raise
                if names is not None:
                    snapshot(names)
                if not worker.step() and worker.reading:
                    time.sleep(IDLE_SLEEP_SEC)
        except BaseException:
            worker.close()
            raise
        else:
            return coordinator.finish([dump_parts(worker.export_state())], worker.metrics)
        finally:
            worker.release()
