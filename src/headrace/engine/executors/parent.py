"""The process pool's parent during a run: sink output, metrics, errors, the barrier.

Snapshots are a drained barrier (see ``processes``): the parent pauses every worker,
waits until their counts show nothing in flight, takes their states and lets them
resume. The barrier's answers come on the control queue, ahead of the sink output
waiting in the results queue, so the workers do not sit paused while the parent
catches up with their output. The commit follows once the parent has read every
worker's ``Mark``: the output before a worker's mark is the snapshot's, its output
after the mark waits for the commit (``_Commit``).
"""

from __future__ import annotations

import pickle
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from headrace.connectors.base import DataStructureProvider
from headrace.engine.executors import messages as m
from headrace.engine.executors import pool as pools
from headrace.engine.executors.sinks import DriverSinks
from headrace.engine.metrics import PipelineMetrics
from headrace.engine.plan import Plan
from headrace.engine.snapshot import Coordinator

__all__ = ["POLL_SEC", "Parent"]

#: How long the parent waits for a worker's message before checking control and health.
POLL_SEC = 0.02
#: How long the parent sleeps at most when nothing asks to be polled (no control; with
#: periodic snapshots, at most until the next is due). A report or a worker's end wakes
#: it at once, so this only bounds how late ``Parent.checks`` run. Polling every
#: ``POLL_SEC`` instead costs the parent about 1% of a core, taken from the workers
#: when they use every core.
IDLE_SEC = 0.5


@dataclass
class _Commit:
    """A snapshot whose states are in, waiting for the output its workers made before it.

    Attributes:
        epoch: The snapshot's barrier epoch.
        names: The names to store the snapshot under.
        parts: Every worker's pickled state, by worker index; None for a worker that had
            ended but whose ``Done`` (which holds it) has not been read yet.
        metrics: Every worker's metrics as its state was taken (or as it ended).
        unmarked: Workers whose ``Mark`` (or ``Done``) has not been read yet: their
            sink output is still the snapshot's.
        later: Sink output of marked workers, for after the commit.
    """

    epoch: int
    names: list[str]
    parts: list[bytes | None]
    metrics: dict[int, PipelineMetrics]
    unmarked: set[int]
    later: list[m.SinkOutput] = field(default_factory=list)


class Parent:
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
        self.control = pool.control
        self.run_id = run
        self.coordinator = coordinator
        self.sinks = DriverSinks(plan, provider, coordinator)
        self.live: dict[int, PipelineMetrics] = {}
        self.done: dict[int, m.Done] = {}
        #: Final counts of the workers that ended (``Ended``), maybe before their ``Done``.
        self.ended: dict[int, tuple[m.Sent, m.Sent]] = {}
        self.epoch = 0
        self.idle: dict[int, tuple[m.Sent, m.Sent]] = {}
        self.states: dict[int, bytes] = {}
        self.barrier = False  # between pausing the workers and having their states
        #: Workers whose ``Mark`` came during the barrier (before their ``State``, maybe).
        self.marks: set[int] = set()
        self.committing: _Commit | None = None
        #: Called every turn of the loop; raising ends the run (e.g. shared items unwritable).
        self.checks: list[Callable[[], None]] = []
        #: The results queue gave a report and has not been found empty since: a read
        #: tries it before waiting on it and the workers' sentinels (``_next``).
        self.streak = False

    def run(self) -> PipelineMetrics:
        """Receives until every worker is done, snapshotting when the coordinator says."""
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
            self.settle()
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
        report = self._next()
        if report is None or report.run != self.run_id:
            return  # nothing came, or left from an earlier run
        if isinstance(report, m.SinkOutput):
            pending = self.committing
            if pending is not None and report.worker not in pending.unmarked:
                pending.later.append(report)  # made after the snapshot's state
            else:
                self.sinks.add(report)
        elif isinstance(report, m.Mark):
            self._marked(report)
        elif isinstance(report, m.Metrics):
            self.live[report.worker] = report.metrics
        elif isinstance(report, m.Idle):
            if report.epoch == self.epoch:
                self.idle[report.worker] = (report.sent, report.received)
        elif isinstance(report, m.State):
            if report.epoch == self.epoch:
                self.states[report.worker] = report.state
                self.live[report.worker] = report.metrics
        elif isinstance(report, m.Ended):
            self.ended[report.worker] = (report.sent, report.received)
        elif isinstance(report, m.Done):
            self.live[report.worker] = report.metrics
            self.done[report.worker] = report
            self._ended(report)
        else:
            error = pickle.loads(report.error)
            raise error from RuntimeError(report.text)

    def _next(self) -> m.Report | None:
        """The next report, or None after flushing sinks or waiting ``wait_sec()`` in vain.

        During a barrier the control queue goes first (its answers end the barrier),
        and neither queue is waited on alone.

        After a report, a read that would sleep first tries the queue at once
        (``streak``): while workers send, reports come one behind another, and a wait on
        the results queue and the workers' sentinels costs the parent about twice the
        read it precedes (a selector over three objects against one). Without that,
        exactly-once runs paid one such wait per report: their output is not gathered
        for a flush, so ``sinks.pending`` never skips the wait as it does for output
        written as it comes. A try that finds nothing ends the streak.
        """
        if self.barrier:
            try:
                report: m.Report = m.receive(self.control, 0)
                return report
            except queue.Empty:
                pass
        wait = 0.0 if self.sinks.pending or self.barrier else self.wait_sec()
        if wait > POLL_SEC and self.streak:  # reports come in runs: read before sleeping
            try:
                report = m.receive(self.results, 0)
                return report
            except queue.Empty:
                self.streak = False
        if wait > POLL_SEC:  # sleep until a report comes or a worker ends
            ends = [p.sentinel for i, p in enumerate(self.procs) if i not in self.done]
            if not m.wait_any([self.results], wait, ends):
                pools.check_alive(self.procs, set(range(len(self.procs))) - set(self.done))
                return None
            wait = 0.0
        try:  # sink output is written once nothing more waits (``DriverSinks.flush``)
            report = m.receive(self.results, wait)
            self.streak = True
            return report
        except queue.Empty:
            self.streak = False  # found empty (then flushed, when output was gathered)
        if self.sinks.pending:
            self.sinks.flush()
        elif self.barrier:
            m.wait_any([self.control, self.results], POLL_SEC)
        else:
            pools.check_alive(self.procs, set(range(len(self.procs))) - set(self.done))
        return None

    def wait_sec(self) -> float:
        """How long to wait for a report when nothing else is to do.

        ``POLL_SEC`` with a control: its ``check`` and requests are polled. Without one,
        until the next periodic snapshot is due, at most ``IDLE_SEC``: the coordinator
        has nothing to do before then, and a report or a worker's end wakes the parent
        anyway (``_next``), so polling would only take CPU from the workers.

        While a snapshot waits for its commit (``committing``), ``IDLE_SEC`` even when
        the next is due: that one begins only after the commit, which waits for the
        workers' marks, which are reports. Counting the due time there made a parent
        whose marks were late (workers behind on the machine's other load, their output
        still in their queues' feeders) read the empty queue without a pause until they
        came, taking CPU from the very workers it waited for.
        """
        coordinator = self.coordinator
        if coordinator.control is not None:
            return POLL_SEC
        due = coordinator.next_due()
        if due is None or self.committing is not None:
            return IDLE_SEC
        return min(IDLE_SEC, max(0.0, due - time.monotonic()))

    def _marked(self, mark: m.Mark) -> None:
        """A worker's output of the snapshot being committed is all in: commit at the last."""
        pending = self.committing
        if pending is not None and mark.epoch == pending.epoch:
            pending.unmarked.discard(mark.worker)
            if not pending.unmarked:
                self._commit(pending)
        elif mark.epoch == self.epoch:  # the barrier still waits for other states
            self.marks.add(mark.worker)

    def _ended(self, done: m.Done) -> None:
        """A worker that had ended before the snapshot being committed: its state is in."""
        pending = self.committing
        if pending is not None and pending.parts[done.worker] is None:
            pending.parts[done.worker] = done.state
            pending.metrics[done.worker] = done.metrics
            pending.unmarked.discard(done.worker)
            if not pending.unmarked:
                self._commit(pending)

    def _command(self, name: Literal["pause", "state", "resume"], workers: list[int]) -> None:
        for i in workers:
            m.send(self.inboxes[i], m.Command(self.run_id, name, self.epoch))

    def _quiet(self) -> bool:
        n = len(self.procs)
        counts: list[tuple[m.Sent, m.Sent]] = []
        for i in range(n):
            if i in self.done:
                counts.append((self.done[i].sent, self.done[i].received))
            elif i in self.ended:
                counts.append(self.ended[i])
            elif i in self.idle:
                counts.append(self.idle[i])
            else:
                return False
        return all(counts[i][0][k] == counts[k][1][i] for i in range(n) for k in range(n))

    def snapshot(self, names: list[str], resume: bool) -> None:
        """Pauses every worker, waits until nothing is in flight, takes their state.

        The commit follows once the output made before the states is in (``_commit``);
        without ``resume`` (a last snapshot before a stop) it is waited for here.
        """
        self.settle()  # the previous snapshot commits first
        self.epoch += 1
        self.idle, self.states, self.marks = {}, {}, set()
        live = [i for i in range(len(self.procs)) if i not in self.done and i not in self.ended]
        self.barrier = True
        try:
            self._command("pause", live)
            while not self._quiet():
                self.receive()
            live = [i for i in live if i not in self.done and i not in self.ended]
            self._command("state", live)
            while any(i not in self.states for i in live):
                self.receive()
        finally:
            self.barrier = False
        if resume:
            self._command("resume", live)
        parts = [
            self.done[i].state if i in self.done else self.states.get(i)
            for i in range(len(self.procs))
        ]
        # Workers that ended with their Done still behind sink output: it brings their state.
        unread = {i for i, part in enumerate(parts) if part is None}
        self.coordinator.taken()
        self.committing = _Commit(
            self.epoch, names, parts, dict(self.live), (set(live) - self.marks) | unread
        )
        if not self.committing.unmarked:
            self._commit(self.committing)
        elif not resume:
            self.settle()

    def settle(self) -> None:
        """Reads the workers' reports until the snapshot taken last, if any, is committed."""
        while self.committing is not None:
            self.receive()

    def _commit(self, pending: _Commit) -> None:
        """Commits a snapshot whose output is all in, then takes the output made after it."""
        self.committing = None
        self.sinks.flush()  # at least once: what the state covers is written first
        parts = [part for part in pending.parts if part is not None]
        assert len(parts) == len(pending.parts), "a worker's state is missing"
        metrics = PipelineMetrics()
        for worker_metrics in pending.metrics.values():
            metrics.merge(worker_metrics)
        self.coordinator.commit(parts, metrics, pending.names)
        for output in pending.later:
            self.sinks.add(output)
