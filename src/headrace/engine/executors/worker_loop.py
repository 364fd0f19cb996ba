"""A pool worker process: waits for runs, runs its partition, answers the parent.

Bounded sources are dealt at read time: the pool shares a ticket counter per source
(shared memory, reset by the parent before each run), and a worker that needs a split
takes the next ticket, so a worker slowed by the machine's other load reads fewer
splits instead of holding up the end of the run (see ``engine.feed``).

While paused for a snapshot a worker keeps delivering what reaches it and, whenever
its inbox runs dry, reports how many messages it sent to and received from each peer
(see ``processes`` for the parent's side of the barrier). Those reports and its state
go on the control queue, ahead of sink output still waiting in the results queue; a
``Mark`` in the results queue tells where the state was taken.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
import traceback
from typing import Any

from headrace.connectors.base import SinkPartition
from headrace.engine import io
from headrace.engine.edges import Message
from headrace.engine.executors import messages as m
from headrace.engine.executors import shared_items, sinks
from headrace.engine.plan import Plan
from headrace.engine.runtime import Worker
from headrace.engine.snapshot import dump_parts
from headrace.pipeline import Node

__all__ = ["WorkerLoop", "pool_main", "ticket_slots"]

#: How long a worker waits for its inbox before checking its sources again.
POLL_SEC = 0.02
#: How often a worker sends its live metrics to the parent.
METRICS_SEC = 1.0
#: How often an idle pool worker checks that the process that started it is alive.
IDLE_CHECK_SEC = 1.0


def ticket_slots(plan: Plan) -> dict[int, int]:
    """The ticket counter of each source vertex: its rank among the plan's sources."""
    sources = [v.id for v in plan.vertices if v.head is not None and v.head.kind == "source"]
    return {vertex: slot for slot, vertex in enumerate(sources)}


class _SharedClaims:
    """Split tickets from counters in shared memory, one per source vertex of the run."""

    def __init__(self, tickets: Any, slots: dict[int, int]) -> None:
        self._raw, self._lock, self._slots = tickets.get_obj(), tickets.get_lock(), slots

    def claim(self, vertex: int) -> int:
        """Takes the next ticket of ``vertex``'s source."""
        slot = self._slots[vertex]
        with self._lock:
            ticket: int = self._raw[slot]
            self._raw[slot] = ticket + 1
        return ticket

    def issued(self, vertex: int) -> int:
        """Tickets of ``vertex`` taken so far (a plain read: it only ever grows)."""
        issued: int = self._raw[self._slots[vertex]]
        return issued


class WorkerLoop:
    """A worker process's loop over one run: read, deliver, answer the parent."""

    def __init__(
        self,
        run: int,
        index: int,
        payload: bytes,
        inboxes: list[Any],
        results: Any,
        control: Any,
        tickets: Any,
    ) -> None:
        plan, provider, splits, options, partitions, parts, resumed = shared_items.loads(payload)
        claims = _SharedClaims(tickets, ticket_slots(plan))
        self.run_id, self.index, self.results, self.inbox = run, index, results, inboxes[index]
        self.control = control
        self.sent = [0] * partitions
        self.received = [0] * partitions
        self.epoch: int | None = None  # set while paused for snapshot ``epoch``
        self.reported: tuple[m.Sent, m.Sent] | None = None

        def open_sink(node: Node, partition: int) -> SinkPartition:
            assert node.sink is not None
            if node.sink.writes_locally:
                return io.sink_connector(node.sink).open(provider, partition, resume=resumed)
            return sinks.ProxySink(run, index, node, results, provider, options)

        def send_remote(msg: Message) -> None:
            self.sent[msg[2]] += 1
            m.send(inboxes[msg[2]], m.Batch(run, msg))

        self.worker = Worker(
            plan, provider, partitions, [index], splits, open_sink, send_remote, options, claims
        )
        if parts is not None:
            self.worker.import_state(parts)

    def run(self, early: list[m.Batch | m.Command]) -> None:
        """Runs to the end; ``early`` came before the run itself (from faster workers)."""
        worker = self.worker
        for msg in early:
            self._handle(msg)
        next_metrics = time.monotonic() + METRICS_SEC
        while not worker.done:
            reading = self.epoch is None and worker.reading
            progressed = worker.step() if reading else False
            self._drain(block=not (reading or progressed))
            if time.monotonic() >= next_metrics:
                if _orphaned():
                    return  # the run's parent was killed: nobody wants what comes next
                self._report(m.Metrics(self.run_id, self.index, worker.metrics))
                next_metrics = time.monotonic() + METRICS_SEC
        sent, received = tuple(self.sent), tuple(self.received)
        m.send(self.control, m.Ended(self.run_id, self.index, sent, received))
        self._report(m.Done(self.run_id, self.index, worker.metrics, sent, received, self._state()))

    def _report(self, report: m.Report) -> None:
        m.send(self.results, report)

    def _state(self) -> bytes:
        return dump_parts(self.worker.export_state())

    def _drain(self, block: bool) -> None:
        """Delivers what is in the inbox; a paused worker then reports its counts."""
        got = False
        while not self.worker.done:
            try:
                msg = m.receive(self.inbox, POLL_SEC if block and not got else 0)
            except queue.Empty:
                break
            got = True
            if msg.run == self.run_id:  # else left from an earlier run
                self._handle(msg)
        if self.epoch is not None and not self.worker.done:
            counts = (tuple(self.sent), tuple(self.received))
            if counts != self.reported:  # a stale report only delays the parent
                m.send(self.control, m.Idle(self.run_id, self.index, self.epoch, *counts))
                self.reported = counts

    def _handle(self, msg: m.Batch | m.Command) -> None:
        if isinstance(msg, m.Command):
            self._command(msg)
        else:
            self.received[msg.message[6]] += 1
            self.worker.deliver(msg.message)

    def _command(self, command: m.Command) -> None:
        if command.name == "pause":
            self.epoch, self.reported = command.epoch, None
        elif command.name == "state":
            state = m.State(
                self.run_id, self.index, command.epoch, self._state(), self.worker.metrics
            )
            m.send(self.control, state)
            self._report(m.Mark(self.run_id, self.index, command.epoch))
        else:  # resume
            self.epoch = None


def _run_one(
    start: m.Start,
    index: int,
    inboxes: list[Any],
    results: Any,
    control: Any,
    tickets: Any,
    early: list[m.Batch | m.Command],
) -> None:
    loop: WorkerLoop | None = None
    try:
        loop = WorkerLoop(start.run, index, start.payload, inboxes, results, control, tickets)
        loop.run(early)
    except m.ParentGone:
        raise  # nobody would read a Failed either
    except BaseException as exc:
        text = "".join(traceback.format_exception(exc))
        try:
            blob = m.dumps(exc)
        except Exception:
            blob = m.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))
        m.send(results, m.Failed(start.run, index, blob, text))
    finally:
        if loop is not None:
            loop.worker.release()  # the run's state goes now, not at some later run's GC


def _orphaned() -> bool:
    """Whether the process that started this pool worker is gone (killed, crashed)."""
    parent = multiprocessing.parent_process()
    return parent is not None and not parent.is_alive()


def pool_main(index: int, inboxes: list[Any], results: Any, control: Any, tickets: Any) -> None:
    """A pool worker: waits for runs; leaves when the process that started it is gone."""
    for q in (*inboxes, results, control):
        # As in the parent: exiting must not wait to flush into a pipe nobody reads. A
        # parent killed mid-run leaves this worker's output unread; joining the feeder
        # thread at exit would hang this process, and with it the fork server, for good.
        q.cancel_join_thread()
    # Reports go from this thread (``DirectWriter``): Done, Failed and sink output alike,
    # so they keep their order, and the queue's own feeder never writes to its pipe.
    results = m.DirectWriter(results, _orphaned, IDLE_CHECK_SEC)
    inbox = inboxes[index]
    last = 0  # the latest run this worker took part in
    early: list[m.Batch | m.Command] = []  # from workers that started the next run first
    while True:
        try:
            msg = m.receive(inbox, IDLE_CHECK_SEC)
        except queue.Empty:
            if _orphaned():
                return
            continue
        if msg.run <= last:
            continue  # left from an earlier run
        if isinstance(msg, m.Start):
            mine = [e for e in early if e.run == msg.run]
            early = [e for e in early if e.run > msg.run]
            last = msg.run
            try:
                _run_one(msg, index, inboxes, results, control, tickets, mine)
            except m.ParentGone:
                return  # nobody reads this worker's reports any more
        else:
            early.append(msg)
