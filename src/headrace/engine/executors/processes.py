"""Runs each partition in its own worker process; batches travel between them by queue.

The plan is shipped with cloudpickle, so lambdas defined in ``__main__`` work, and worker
processes never import the user's ``__main__`` (``headrace.children``): a script needs no
main guard, and may come from stdin. Worker processes come from a fork server that has
already imported the engine, and stay: a warm pool serves the next run in the same
process, so a run pays a message per worker, not a fork (a run that fails or stops
early discards its pool). Every message carries its run's number, so nothing left from
an earlier run is taken for this one. Hash partitioning relies on every worker sharing
the fork server's string-hash seed.

Bounded sources are dealt at read time: the pool shares a ticket counter per source
(shared memory, reset by the parent before each run), and a worker that needs a split
takes the next ticket, so a worker slowed by the machine's other load reads fewer
splits instead of holding up the end of the run (see ``engine.feed``).

Snapshots (a drained barrier): the parent asks every worker to pause reading its
sources; paused workers keep delivering what reaches them and, whenever their inbox
runs dry, report how many messages they sent to and received from each worker. Once
the latest reports agree pairwise (everything sent was received) nothing is in flight
and nothing can be sent again, since a paused worker sends only in reply to a message:
the parent collects each worker's state, lets them resume and commits once.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import queue
import threading
import time
import traceback
from typing import Any

import cloudpickle

from headrace import children
from headrace.connectors.base import DataStructureProvider, SinkPartition
from headrace.engine import io
from headrace.engine.edges import Message
from headrace.engine.executors.base import Control
from headrace.engine.executors.sinks import DriverSinks
from headrace.engine.metrics import PipelineMetrics
from headrace.engine.plan import Plan
from headrace.engine.runtime import EngineOptions, Worker
from headrace.engine.snapshot import Coordinator, dump_parts
from headrace.pipeline import Node, pickling

__all__ = ["ProcessesExecutor", "WorkerCrashed"]

#: How long the parent waits for a worker's message before checking control and health.
POLL_SEC = 0.02
#: How long a finished worker may take to exit before it is terminated.
JOIN_SEC = 5.0
#: How often a worker sends its live metrics to the parent.
METRICS_SEC = 1.0
#: Kind of the parent's commands in a worker's inbox (data messages use d, p, w, e).
COMMAND = "C"
#: How often an idle pool worker checks that the process that started it is alive.
IDLE_CHECK_SEC = 1.0
#: The module name a pickle holds when it refers to something of the user's ``__main__``.
_MAIN = b"__main__"
#: Ticket counters a pool has at least (one per source vertex of a run).
TICKET_SLOTS = 16


def _send(q: Any, obj: Any) -> None:
    """Put ``obj`` on a pool queue as bytes pickled here, by the sender (see ``_dumps``).

    A multiprocessing queue pickles in a feeder thread, where a failure is printed and
    the item dropped: output would be lost without an error. Pickled here, a failure
    raises in the sender and fails the run.
    """
    q.put(_dumps(obj))


def _dumps(obj: Any) -> bytes:
    """``obj`` pickled so that any pool process can load it.

    Plain pickle first (fast, C). It stores classes and functions by reference, and
    pool processes do not import the user's ``__main__`` (see ``headrace.children``), so
    a pickle that names the module ``__main__`` anywhere is made again with cloudpickle,
    which carries what ``__main__`` defines by value, as it does the plan. So does
    anything plain pickle refuses (in a pool process, a class that came by value).
    The name test can be a false alarm (data that holds the text), never a miss: a
    reference to ``__main__`` writes the module's name.
    """
    try:
        data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        data = None
    if data is None or _MAIN in data:
        data = pickling.dumps(obj)
    return data


def _receive(q: Any, timeout: float | None) -> Any:
    """The next object ``_send`` put on ``q`` (``timeout`` 0: do not wait).

    Raises:
        queue.Empty: nothing came in time.
    """
    data = q.get_nowait() if timeout == 0 else q.get(timeout=timeout)
    return pickle.loads(data)


class WorkerCrashed(RuntimeError):
    """A worker process died without reporting (killed, out of memory)."""


def _context() -> Any:
    """Pool processes come from a fork server (or are spawned), never import ``__main__``."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = children.context_for("forkserver")
        ctx.set_forkserver_preload(["headrace.engine.runtime", "cloudpickle"])
        return ctx
    return children.context_for("spawn")


def _ticket_slots(plan: Plan) -> dict[int, int]:
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


class _ProxySink:
    """Sends a partition's output to the parent, which owns the real sink."""

    def __init__(self, run: int, node_id: int, results: Any) -> None:
        self._run, self._node_id, self._results = run, node_id, results

    def write_batch(self, items: list[Any]) -> None:
        _send(self._results, (self._run, "sink", self._node_id, items))

    def close(self) -> None:
        """The parent closes the real sink."""


class _WorkerLoop:
    """A worker process's loop: read, deliver, and answer the parent's commands."""

    def __init__(
        self,
        run: int,
        index: int,
        payload: bytes,
        inboxes: list[Any],
        results: Any,
        tickets: Any,
    ) -> None:
        plan, provider, splits, options, partitions, parts, resumed = cloudpickle.loads(payload)
        claims = _SharedClaims(tickets, _ticket_slots(plan))
        self.run_id, self.index, self.results, self.inbox = run, index, results, inboxes[index]
        self.sent = [0] * partitions
        self.received = [0] * partitions
        self.epoch: int | None = None  # set while paused for snapshot ``epoch``
        self.reported: tuple[Any, ...] | None = None

        def open_sink(node: Node, partition: int) -> SinkPartition:
            assert node.sink is not None
            if node.sink.writes_locally:
                return io.sink_connector(node.sink).open(provider, partition, resume=resumed)
            return _ProxySink(run, node.id, results)

        def send_remote(msg: Message) -> None:
            self.sent[msg[2]] += 1
            _send(inboxes[msg[2]], (run, msg))

        self.worker = Worker(
            plan, provider, partitions, [index], splits, open_sink, send_remote, options, claims
        )
        if parts is not None:
            self.worker.import_state(parts)

    def run(self, early: list[Message]) -> None:
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
                self.put("metrics", worker.metrics)
                next_metrics = time.monotonic() + METRICS_SEC
        self.put("done", (worker.metrics, tuple(self.sent), tuple(self.received), self._state()))

    def put(self, kind: str, body: Any) -> None:
        """Sends a report of this run to the parent."""
        _send(self.results, (self.run_id, kind, self.index, body))

    def _state(self) -> bytes:
        return dump_parts(self.worker.export_state())

    def _drain(self, block: bool) -> None:
        """Delivers what is in the inbox; a paused worker then reports its counts."""
        got = False
        while not self.worker.done:
            try:
                run, msg = _receive(self.inbox, POLL_SEC if block and not got else 0)
            except queue.Empty:
                break
            got = True
            if run == self.run_id:  # else left from an earlier run
                self._handle(msg)
        if self.epoch is not None and not self.worker.done:
            counts = (tuple(self.sent), tuple(self.received))
            if counts != self.reported:  # a stale report only delays the parent
                self.put("idle", (self.epoch, *counts))
                self.reported = counts

    def _handle(self, msg: Message) -> None:
        if msg[0] == COMMAND:
            self._command(*msg[4])
        else:
            self.received[msg[6]] += 1
            self.worker.deliver(msg)

    def _command(self, command: str, epoch: int) -> None:
        if command == "pause":
            self.epoch, self.reported = epoch, None
        elif command == "state":
            self.put("state", (epoch, self._state(), self.worker.metrics))
        else:  # resume
            self.epoch = None


def _run_one(
    run: int,
    index: int,
    payload: bytes,
    inboxes: list[Any],
    results: Any,
    tickets: Any,
    early: list[Message],
) -> None:
    try:
        _WorkerLoop(run, index, payload, inboxes, results, tickets).run(early)
    except BaseException as exc:
        text = "".join(traceback.format_exception(exc))
        try:
            blob = _dumps(exc)
        except Exception:
            blob = _dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))
        _send(results, (run, "error", index, (blob, text)))


def _orphaned() -> bool:
    """Whether the process that started this pool worker is gone (killed, crashed)."""
    parent = multiprocessing.parent_process()
    return parent is not None and not parent.is_alive()


def _pool_main(index: int, inboxes: list[Any], results: Any, tickets: Any) -> None:
    """A pool worker: waits for runs; leaves when the process that started it is gone."""
    for q in (*inboxes, results):
        # As in the parent: exiting must not wait to flush into a pipe nobody reads. A
        # parent killed mid-run leaves this worker's output unread; joining the feeder
        # thread at exit would hang this process, and with it the fork server, for good.
        q.cancel_join_thread()
    inbox = inboxes[index]
    last = 0  # the latest run this worker took part in
    early: list[tuple[int, Message]] = []  # sent by workers that started the next run first
    while True:
        try:
            run, msg = _receive(inbox, IDLE_CHECK_SEC)
        except queue.Empty:
            if _orphaned():
                return
            continue
        if run <= last:
            continue  # left from an earlier run
        if msg[0] == COMMAND and msg[4][0] == "run":
            mine = [m for r, m in early if r == run]
            early = [(r, m) for r, m in early if r > run]
            last = run
            _run_one(run, index, msg[4][1], inboxes, results, tickets, mine)
        else:
            early.append((run, msg))


class _Pool:
    """Worker processes with their inboxes and the shared results queue."""

    def __init__(self, size: int, slots: int = TICKET_SLOTS) -> None:
        ctx = _context()
        self.pid = os.getpid()
        self.runs = 0
        self.tickets = ctx.Array("q", max(slots, TICKET_SLOTS))
        self.inboxes = [ctx.Queue() for _ in range(size)]
        self.results = ctx.Queue()
        for q in (*self.inboxes, self.results):
            q.cancel_join_thread()  # never block the interpreter's exit on a dead reader
        self.procs = [
            ctx.Process(
                target=_pool_main,
                args=(i, self.inboxes, self.results, self.tickets),
                name=f"headrace-worker-{i}",
                daemon=True,
            )
            for i in range(size)
        ]
        for p in self.procs:
            p.start()

    def fits(self, size: int, slots: int) -> bool:
        """True if this process started the pool, it is big enough and all alive."""
        return (
            self.pid == os.getpid()
            and len(self.procs) >= size
            and len(self.tickets) >= slots
            and all(p.is_alive() for p in self.procs)
        )

    def reset_tickets(self) -> None:
        """Zeroes the split tickets for a new run (no worker is running one now)."""
        with self.tickets.get_lock():
            raw = self.tickets.get_obj()
            for i in range(len(raw)):
                raw[i] = 0

    def close(self) -> None:
        """Stops the workers (at once: a failed run may have left one busy).

        A worker that ignores SIGTERM is killed after ``JOIN_SEC``, or at once if the
        wait is interrupted (a scheduler worker raises ``ExecutionKilled`` in a thread
        that outlives its stop's grace): a stopped run leaves no process behind.
        """
        if self.pid != os.getpid():
            return
        try:
            for p in self.procs:
                if p.is_alive():
                    p.terminate()
            for p in self.procs:
                p.join(timeout=JOIN_SEC)
                if p.is_alive():
                    p.kill()
                    p.join()
        except BaseException:
            for p in self.procs:
                if p.is_alive():
                    p.kill()
            raise
        for q in (*self.inboxes, self.results):
            q.close()


_pool_lock = threading.Lock()
_idle_pool: _Pool | None = None


def _acquire(size: int, slots: int) -> _Pool:
    """The idle pool if it fits (a concurrent run gets a new one), else a new pool."""
    global _idle_pool
    with _pool_lock:
        pool, _idle_pool = _idle_pool, None
    if pool is not None:
        if pool.fits(size, slots):
            return pool
        pool.close()
    return _Pool(size, slots)


def _release(pool: _Pool) -> None:
    """Keeps ``pool`` for the next run (one idle pool at most)."""
    global _idle_pool
    with _pool_lock:
        kept = _idle_pool is None
        if kept:
            _idle_pool = pool
    if not kept:
        pool.close()


def shutdown_pool() -> None:
    """Stops the idle worker processes, if any (they also leave with this process)."""
    global _idle_pool
    with _pool_lock:
        pool, _idle_pool = _idle_pool, None
    if pool is not None:
        pool.close()


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
        made = [
            pickling.dumps((plan, provider, splits, options, parallelism, p, resumed))
            for p in parts
        ]
        payloads = made if resumed else made * parallelism
        pool = _acquire(parallelism, len(_ticket_slots(plan)))
        pool.reset_tickets()
        pool.runs += 1
        run = pool.runs
        for i in range(parallelism):
            _send(pool.inboxes[i], (run, (COMMAND, -1, -1, -1, ("run", payloads[i]), None, -1)))
        try:
            parent = _Parent(plan, provider, pool, parallelism, run, coordinator)
            metrics = parent.run()
        except BaseException:
            pool.close()
            raise
        _release(pool)
        return metrics


class _Parent:
    """The parent's side: sinks, metrics, errors, and the snapshot barrier."""

    def __init__(
        self,
        plan: Plan,
        provider: DataStructureProvider,
        pool: _Pool,
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
        # index -> (sent, received, final state) of workers that have finished
        self.done: dict[int, tuple[tuple[int, ...], tuple[int, ...], bytes]] = {}
        self.epoch = 0
        self.idle: dict[int, tuple[tuple[int, ...], tuple[int, ...]]] = {}
        self.states: dict[int, bytes] = {}

    def run(self) -> PipelineMetrics:
        coordinator = self.coordinator
        try:
            while len(self.done) < len(self.procs):
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
        return coordinator.finish([self.done[i][2] for i in range(len(self.procs))], self.metrics())

    def metrics(self) -> PipelineMetrics:
        """The workers' latest metrics, merged."""
        out = PipelineMetrics()
        for m in self.live.values():
            out.merge(m)
        return out

    def receive(self) -> None:
        """Handles one message from the workers, or checks their health after a pause."""
        try:
            run, kind, index, body = _receive(self.results, POLL_SEC)
        except queue.Empty:
            _check_alive(self.procs, set(range(len(self.procs))) - set(self.done))
            return
        if run != self.run_id:
            return  # left from an earlier run
        if kind == "sink":
            self.sinks.write(index, body)
        elif kind == "metrics":
            self.live[index] = body
        elif kind == "idle":
            if body[0] == self.epoch:
                self.idle[index] = (body[1], body[2])
        elif kind == "state":
            if body[0] == self.epoch:
                self.states[index] = body[1]
                self.live[index] = body[2]
        elif kind == "done":
            metrics, sent, received, state = body
            self.live[index] = metrics
            self.done[index] = (sent, received, state)
        else:
            blob, text = body
            error = pickle.loads(blob)
            raise error from RuntimeError(text)

    def _command(self, command: str, workers: list[int]) -> None:
        for i in workers:
            msg = (COMMAND, -1, -1, -1, (command, self.epoch), None, -1)
            _send(self.inboxes[i], (self.run_id, msg))

    def _quiet(self) -> bool:
        n = len(self.procs)
        counts: list[tuple[tuple[int, ...], tuple[int, ...]]] = []
        for i in range(n):
            if i in self.done:
                counts.append(self.done[i][:2])
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
            self.done[i][2] if i in self.done else self.states[i] for i in range(len(self.procs))
        ]
        self.coordinator.commit(parts, self.metrics(), names)


def _check_alive(procs: list[Any], waiting: set[int]) -> None:
    for i in waiting:
        if not procs[i].is_alive():
            time.sleep(POLL_SEC)  # its last message may still be in the pipe
            msg = f"worker {i} died (exit code {procs[i].exitcode})"
            raise WorkerCrashed(msg)
