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
the parent collects each worker's state, lets them resume and commits once.
"""

from __future__ import annotations

import pickle
import queue
from collections.abc import Callable
from typing import Any, Literal

from headrace.connectors.base import DataStructureProvider
from headrace.engine.executors import messages as m
from headrace.engine.executors import pool as pools
from headrace.engine.executors.base import Control
from headrace.engine.executors.pool import WorkerCrashed
from headrace.engine.executors.shared_items import Sharing
from headrace.engine.executors.sinks import DriverSinks
from headrace.engine.executors.worker_loop import ticket_slots
from headrace.engine.metrics import PipelineMetrics
from headrace.engine.plan import Plan
from headrace.engine.runtime import EngineOptions
from headrace.engine.snapshot import Coordinator

__all__ = ["ProcessesExecutor", "WorkerCrashed", "shutdown_pool"]

#: How long the parent waits for a worker's message before checking control and health.
POLL_SEC = 0.02


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
                parent = _Parent(plan, provider, pool, parallelism, run, coordinator)
                parent.checks.append(sharing.check)
                metrics = parent.run()
            except BaseException:
                pool.close()
                raise
            pools.release(pool)
        finally:
            sharing.close()
        return metrics


class _Parent:
    """The parent's side: sinks, metrics, errors, and the snapshot barrier."""

    def __init__(
        self,
        plan: Plan,
        provider: DataStructureProvider,
        pool: pools.Pool,
        parallelism: int,
        run: int,
        coordinator: Coordinator,
    ) -> None:
        self.procs = pool.procs[:parallelism]
        self.inboxes, self.results = pool.inboxes[:parallelism], pool.results
        self.run_id = run
        self.coordinator = coordinator
        self.sinks = DriverSinks(plan, provider, coordinator)
        self.live: dict[int, PipelineMetrics] = {}
        self.done: dict[int, m.Done] = {}
        self.epoch = 0
        self.idle: dict[int, tuple[m.Sent, m.Sent]] = {}
        self.states: dict[int, bytes] = {}
        #: Called every turn of the loop; raising ends the run (e.g. shared items unwritable).
        self.checks: list[Callable[[], None]] = []

    def run(self) -> PipelineMetrics:
        coordinator = self.coordinator
        try:
            while len(self.done) < len(self.procs):
                for check in self.checks:
                    check()
                try:
                    names = coordinator.poll(self.metrics)
                except BaseException as exc:
                    wanted = coordinator.names_on_stop(exc)
                    if wanted is not None:
                        self.snapshot(wanted, resume=False)
                    raise
                if names is not None:
                    self.snapshot(names, resume=True)
                self.receive()
        finally:
            self.sinks.close()
        states = [self.done[i].state for i in range(len(self.procs))]
        return coordinator.finish(states, self.metrics())

    def metrics(self) -> PipelineMetrics:
        """The workers' latest metrics, merged."""
        out = PipelineMetrics()
        for metrics in self.live.values():
            out.merge(metrics)
        return out

    def receive(self) -> None:
        """Handles one report from the workers, or checks their health after a pause."""
        try:  # sink output is written once nothing more waits (``DriverSinks.flush``)
            report: m.Report = m.receive(self.results, 0 if self.sinks.pending else POLL_SEC)
        except queue.Empty:
            if self.sinks.pending:
                return self.sinks.flush()
            return pools.check_alive(self.procs, set(range(len(self.procs))) - set(self.done))
        if report.run != self.run_id:
            return  # left from an earlier run
        if isinstance(report, m.SinkOutput):
            self.sinks.add(report)
        elif isinstance(report, m.Metrics):
            self.live[report.worker] = report.metrics
        elif isinstance(report, m.Idle):
            if report.epoch == self.epoch:
                self.idle[report.worker] = (report.sent, report.received)
        elif isinstance(report, m.State):
            if report.epoch == self.epoch:
                self.states[report.worker] = report.state
                self.live[report.worker] = report.metrics
        elif isinstance(report, m.Done):
            self.live[report.worker] = report.metrics
            self.done[report.worker] = report
        else:
            error = pickle.loads(report.error)
            raise error from RuntimeError(report.text)

    def _command(self, name: Literal["pause", "state", "resume"], workers: list[int]) -> None:
        for i in workers:
            m.send(self.inboxes[i], m.Command(self.run_id, name, self.epoch))

    def _quiet(self) -> bool:
        n = len(self.procs)
        counts: list[tuple[m.Sent, m.Sent]] = []
        for i in range(n):
            if i in self.done:
                counts.append((self.done[i].sent, self.done[i].received))
            elif i in self.idle:
                counts.append(self.idle[i])
            else:
                return False
        return all(counts[i][0][k] == counts[k][1][i] for i in range(n) for k in range(n))

    def snapshot(self, names: list[str], resume: bool) -> None:
        """Pauses every worker, waits until nothing is in flight, commits their state."""
        self.epoch += 1
        self.idle, self.states = {}, {}
        live = [i for i in range(len(self.procs)) if i not in self.done]
        self._command("pause", live)
        while not self._quiet():
            self.receive()
        live = [i for i in live if i not in self.done]
        self._command("state", live)
        while any(i not in self.states for i in live):
            self.receive()
        if resume:
            self._command("resume", live)
        parts = [
            self.done[i].state if i in self.done else self.states[i] for i in range(len(self.procs))
        ]
        self.sinks.flush()  # at least once: what the state covers is written first
        self.coordinator.commit(parts, self.metrics(), names)
