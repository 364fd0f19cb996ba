"""Runs each partition in its own worker process; batches travel between them by queue.

The plan is shipped with cloudpickle, so lambdas defined in ``__main__`` work, and worker
processes never import the user's ``__main__`` (``headrace.children``): a script needs no
main guard, and may come from stdin. Workers come from the warm pool (``pool``): a run
pays a message per worker, not a fork. Every message carries its run's number
(``messages``), so nothing left from an earlier run is taken for this one. Hash
partitioning relies on every worker sharing the fork server's string-hash seed.

Snapshots (a drained barrier): the parent asks every worker to pause reading its
sources; paused workers keep delivering what reaches them and, whenever their inbox
runs dry, report how many messages they sent to and received from each worker. Once
the latest reports agree pairwise (everything sent was received) nothing is in flight
and nothing can be sent again, since a paused worker sends only in reply to a message:
the parent collects each worker's state and lets them resume, then commits once the
sink output made before the states is in (``parent``).
"""

from __future__ import annotations

from typing import Any

from headrace.connectors.base import DataStructureProvider
from headrace.engine.executors import messages as m
from headrace.engine.executors import pool as pools
from headrace.engine.executors.base import Control
from headrace.engine.executors.parent import Parent
from headrace.engine.executors.pool import WorkerCrashed
from headrace.engine.executors.shared_items import Sharing
from headrace.engine.executors.worker_loop import ticket_slots
from headrace.engine.metrics import PipelineMetrics
from headrace.engine.plan import Plan
from headrace.engine.runtime import EngineOptions
from headrace.engine.snapshot import Coordinator

__all__ = ["ProcessesExecutor", "WorkerCrashed", "shutdown_pool"]


def shutdown_pool() -> None:
    """Stops the idle worker processes, if any (they also leave with this process)."""
    pools.shutdown()


class ProcessesExecutor:
    """``parallelism`` worker processes, one partition each, from a warm pool."""

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
        """Runs the partitions in pool workers, applies their sink output here.

        Raises:
            UserFunctionError: a stage's function raised in a worker.
            WorkerCrashed: a worker died without a word.
        """
        restored = coordinator.restored
        # Without a restore every worker gets the same payload: pickle it once.
        resumed = restored is not None
        parts = (
            [None]
            if restored is None
            else [restored.for_partitions([i]) for i in range(parallelism)]
        )
        sharing = Sharing(plan, options.split_items)
        try:
            made = [
                sharing.dumps((plan, provider, splits, options, parallelism, p, resumed))
                for p in parts
            ]
            payloads = made if resumed else made * parallelism
            pool = pools.acquire(parallelism, len(ticket_slots(plan)))
            pool.reset_tickets()
            pool.runs += 1
            run = pool.runs
            for i in range(parallelism):
                m.send(pool.inboxes[i], m.Start(run, payloads[i]))
            sharing.start()
            try:
                parent = Parent(plan, provider, pool, parallelism, run, coordinator)
                parent.checks.append(sharing.check)
                metrics = parent.run()
            except BaseException:
                pool.close()
                raise
            pools.release(pool)
        finally:
            sharing.close()
        return metrics
