"""A worker process's engine room: claim, run, report, heartbeat, reap.

Threads, each with one job:
- the pump is the worker's one writer on the job hot path: each round it writes what
  attempts reported (start, progress, logs, end) in batches, off the jobs' critical path,
  and claims up to the free capacity of every queue, in one transaction (one commit, and
  on SQLite one write lock for the process instead of one per thread); between rounds it
  polls for cancel/suspend requests and timeouts;
- ``capacity`` slot threads per queue run attempts; with ``prefetch`` (``model.prefetch``:
  by default as many as its slots should start soon) the pump claims more per queue, which
  wait in the worker (``locked``) for a slot, so a round carries more jobs and the slots
  need not wait for it;
- the keeper (``keeper``) renews leases and takes its turn at the elected maintenance.

What the attempts report (start, progress, logs, end) waits in ``reports`` for the pump.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence

from headrace import defaults, errors
from headrace.model import labels as job_labels
from headrace.model import prefetch as prefetching
from headrace.model.clock import now_ms
from headrace.model.job import Claimed
from headrace.model.status import Status
from headrace.scheduler import control, ending, keeper, runner
from headrace.scheduler.attempt import (
    Attempt,
    ExecutionKilled,
    Interrupts,
    begin,
    ignored_stop,
    start,
)
from headrace.scheduler.registry import Registry
from headrace.scheduler.reports import Reports
from headrace.scheduler.writebuffer import gather, resolve
from headrace.store.attempts import AttemptRepository
from headrace.store.catalog import CatalogRepository
from headrace.store.database import Store
from headrace.store.workers import WorkerRepository

log = logging.getLogger("headrace.worker")

S = Status
#: Longest a slot waits for the pump's round to let go of SQLite's write lock (a round
#: holds it milliseconds; this only bounds the wait should one hang).
ROUND_WAIT_SEC = 5.0


class Worker:
    """Runs the jobs of the registered types from the given queues until stopped."""

    def __init__(
        self,
        store: Store,
        registry: Registry,
        queues: dict[str, int] | None = None,
        *,
        lease_sec: float = defaults.LEASE_SEC,
        worker_id: str | None = None,
        origin: str | None = None,
        labels: str | Sequence[str] | None = None,
        prefetch: prefetching.Setting = prefetching.AUTO,
    ) -> None:
        """``prefetch``: jobs a queue may hold claimed beyond its capacity, or ``auto``."""
        self.store = store
        #: What this worker offers: it claims only jobs requiring no label it lacks.
        self.labels = job_labels.parse("labels", labels)
        self.registry = registry
        self.queues = dict(queues if queues is not None else defaults.QUEUES)
        for name, capacity in self.queues.items():
            if not isinstance(capacity, int) or capacity < 1:
                msg = f"queues.{name}"
                raise errors.InvalidInput(msg, f"capacity must be an int >= 1, got {capacity!r}")
        #: Claimed jobs a queue may hold beyond its capacity, waiting for a slot
        #: (``model.prefetch``: a number, or ``auto`` from the queue's run times).
        self.prefetch = prefetching.parse(prefetch)
        self.lease_sec = lease_sec
        self.worker_id = worker_id or str(uuid.uuid4())
        #: With an origin, only that embedded process's jobs are claimed.
        self.attempts = AttemptRepository(store, self.worker_id, origin, self.labels)
        self.registration = WorkerRepository(store)
        self._lock = threading.Lock()
        self._busy = dict.fromkeys(self.queues, 0)
        #: The queues' run times, by which ``auto`` prefetch holds jobs (under ``_lock``).
        self._pacing = prefetching.Pacing(self.prefetch, self.queues)
        #: The attempts this worker holds, running or (``prefetch``) waiting for a slot, by
        #: (job id, attempt): a job's next attempt may start here while its previous one
        #: still winds down (a cancel, then a new run), and each keeps its own entry.
        self._running: dict[tuple[str, int], Attempt] = {}
        self._inbox: dict[str, queue.SimpleQueue[Attempt | None]] = {
            q: queue.SimpleQueue() for q in self.queues
        }
        #: Set when the pump has work: writes queued, capacity freed, jobs may be waiting.
        self._kick = threading.Event()
        #: What the attempts report (the ``AttemptSink``), queued for the pump's rounds.
        self.reports = Reports(self._lock, self._kick)
        self._stopping = threading.Event()
        #: Set by the pump once it has seen ``_stopping``: it claims nothing after that.
        self._claiming_over = threading.Event()
        self._stopped = threading.Event()
        #: Set once ``stop`` ended: a second caller waits for it before closing the store.
        self._stop_done = threading.Event()
        self._threads: list[threading.Thread] = []
        self._slots: list[threading.Thread] = []
        self._stop_listening: Callable[[], None] = lambda: None
        #: The job types this worker last stored as the ones it runs.
        self._known: list[str] = []
        #: Abandoned slot threads (``_abandon_stuck``), told again until they end (pump).
        self._interrupts = Interrupts()

    # -- life cycle ---------------------------------------------------------------------

    def start(self) -> Worker:
        """Register, store the known job types, and start the threads."""
        self.registry.save_to(CatalogRepository(self.store))
        self._known = sorted(t for ts in self._types_by_queue().values() for t in ts)
        self.registration.register(self.worker_id, self.queues, self._known, self.labels)
        self._stop_listening = self.store.dialect.listen(
            self.store.engine, defaults.NOTIFY_CHANNEL, self.wake
        )
        for name, capacity in self.queues.items():
            for i in range(capacity):
                t = threading.Thread(
                    target=self._slot, args=(name,), name=f"headrace-{name}-{i}", daemon=True
                )
                self._slots.append(t)
        for target, tname in (
            (self._pump, "headrace-pump"),
            (self._keep, "headrace-keeper"),
        ):
            self._threads.append(threading.Thread(target=target, name=tname, daemon=True))
        for t in (*self._slots, *self._threads):
            t.start()
        log.info(
            "worker %s started, queues %s, labels: %s, job types: %s",
            self.worker_id,
            self.queues,
            ", ".join(self.labels) or "none",
            ", ".join(self._known) or "none",
        )
        return self

    def wake(self) -> None:
        """Tell the pump that jobs may be waiting."""
        self._kick.set()

    def stop(self, grace_sec: float = 5.0) -> None:
        """Stop claiming, let running attempts finish for ``grace_sec``, hand back the rest.

        Attempts still running after the grace period are asked to stop and go back to
        ``waiting`` without counting an attempt, so another worker takes them. When it
        returns (to any caller) the threads that use the store have ended, but for a slot
        whose job ignores its stop: the store may close, and refuses that job then.
        """
        with self._lock:
            first = not self._stopping.is_set()
            self._stopping.set()
        if not first:
            self._stop_done.wait()
            return
        try:
            self._stop(grace_sec)
        finally:
            self._stop_done.set()

    def _stop(self, grace_sec: float) -> None:
        self.wake()
        while not self._claiming_over.wait(0.1) and self._threads[0].is_alive():
            pass
        self._hand_back_waiting(self.queues, "shutdown")
        deadline = time.monotonic() + grace_sec
        while self._running and time.monotonic() < deadline:
            time.sleep(0.01)
        with self._lock:
            leftover = list(self._running.values())
        for a in leftover:
            a.ctx.request_stop("shutdown")
        deadline = time.monotonic() + 2.0
        while self._running and time.monotonic() < deadline:
            time.sleep(0.01)
        for inbox in self._inbox.values():
            for _ in range(len(self._slots)):
                inbox.put(None)
        self._stopped.set()
        self._kick.set()
        for t in self._threads:
            t.join()
        self._stop_listening()  # before the flush, which may raise
        self._flush()
        try:
            self.registration.unregister(self.worker_id)
        except errors.StoreError:
            log.warning("worker %s could not unregister", self.worker_id)
        log.info("worker %s stopped", self.worker_id)

    def running(self) -> int:
        """How many attempts this worker holds now: running, or waiting for a slot."""
        return len(self._running)

    # -- claiming -----------------------------------------------------------------------

    def _types_by_queue(self) -> dict[str, list[str]]:
        return self.registry.types_by_queue(self.queues)

    def _pump(self) -> None:
        """Rounds of flush + claim in one transaction; idles when there is nothing to do."""
        idle = defaults.IDLE_POLL_MIN_SEC
        next_poll = 0.0
        while not self._stopped.is_set():
            self._kick.clear()
            if self._stopping.is_set():
                self._claiming_over.set()
            types = self._types_by_queue()  # a client may register types at any time
            try:
                self._publish_types(types)
                wrote, claimed = self._round(types)
                if self._running and time.monotonic() >= next_poll:
                    next_poll = time.monotonic() + defaults.CONTROL_POLL_SEC
                    self._control()
                if self._interrupts:
                    self._interrupts.repeat(time.monotonic())
            except errors.StoreError as exc:
                log.warning("flush/claim failed, will retry: %s", exc)
                wrote, claimed = False, 0
                self._stopped.wait(0.1)
            if claimed or wrote:
                idle = defaults.IDLE_POLL_MIN_SEC
                # Straight on if it may find work now; not into a round with nothing to do
                # (its claims' start writes are held back, its slots all busy).
                if self._kick.is_set() or any(self._free(types).values()):
                    continue
            if self._stopping.is_set() or not any(self._free(types).values()):
                wait = defaults.CONTROL_POLL_SEC  # only writes or a freed slot need a round
            else:
                wait = 1.0 if self.store.dialect.can_notify else idle
                idle = min(idle * 2, defaults.IDLE_POLL_MAX_SEC)
            if self.reports.held:
                wait = min(wait, defaults.FLUSH_INTERVAL_SEC)
            self._kick.wait(wait)
        self._claiming_over.set()

    def _publish_types(self, types: dict[str, list[str]]) -> None:
        """Store (and log) the job types this worker runs when they changed."""
        known = sorted(t for ts in types.values() for t in ts)
        if known != self._known:
            self.registration.set_types(self.worker_id, known)
            self._known = known
            log.info("worker %s now runs job types: %s", self.worker_id, ", ".join(known))

    def _free(self, types: dict[str, list[str]]) -> dict[str, int]:
        """Jobs per queue this worker may claim now: free slots and room to hold more."""
        if self._stopping.is_set():
            return {}
        now = time.monotonic()
        with self._lock:
            return {
                # Below zero when ``auto`` came to hold fewer than it holds: none to claim.
                q: max(0, c + self._pacing.held_at_most(q, self._busy[q], now) - self._busy[q])
                for q, c in self.queues.items()
                if types[q]
            }

    def _round(self, types: dict[str, list[str]]) -> tuple[bool, int]:
        """One transaction: queued writes, then claims up to the free capacity."""
        hold_after = float("inf")
        if not self._stopping.is_set():
            gather(self._kick, self._ending)
            hold_after = time.monotonic() - defaults.FLUSH_INTERVAL_SEC
        writes, logs = self.reports.take(hold_after)
        claims = [(q, types[q], free) for q, free in self._free(types).items() if free > 0]
        if not writes and not logs and not claims:
            return False, 0
        try:
            refused, claimed = self.attempts.pump(writes, logs, claims, self.lease_sec)
        except errors.StoreError:
            self.reports.requeue(writes, logs)
            raise
        if claimed:
            self._begin(claimed)
        if refused:
            resolve(self.attempts, refused)
        return bool(writes or logs), len(claimed)

    def _begin(self, claimed: list[Claimed]) -> None:
        """Start the attempts free slots take at once and hand all of them to the slots.

        Those a free slot takes at once start here, their start writes queued with one
        lock for the whole claim; the rest (``prefetch``) start when a slot takes them.
        The start writes need no kick: the pump, which calls this, comes back for them
        (see ``WriteBuffer.take``), and a slot starting one later finds it told.
        """
        ready, writes = begin(
            claimed, self.registry, self.reports, self.store, self.worker_id, self.lease_sec
        )
        at = now_ms()
        started = len(writes)
        with self._lock:
            # With a free slot a queue holds no attempt that waits for one.
            free = {q: self.queues[q] - self._busy[q] for q in self.queues}
            for a in ready:
                q = a.claimed.queue
                if free[q] > 0:
                    free[q] -= 1
                    writes.append(start(a, at))
                self._running[a.claimed.job_id, a.claimed.attempt] = a
                self._busy[q] += 1
        self.reports.queue_claimed(writes, len(writes) > started)
        for a in ready:
            self._inbox[a.claimed.queue].put(a)

    def _ending(self) -> bool:
        """Whether an attempt's end (or other report) waits while other attempts run."""
        return bool(self._running) and self.reports.ending()

    # -- running ------------------------------------------------------------------------

    def _slot(self, queue_name: str) -> None:
        inbox = self._inbox[queue_name]
        me = threading.current_thread()
        try:
            while (attempt := inbox.get()) is not None:
                if not attempt.started:
                    if attempt.ctx.cancelled:  # stopped while it waited for this slot
                        self._end_unstarted(attempt)
                        continue
                    self.reports.queue_start(start(attempt))
                attempt.thread = me
                # Not while this worker's round holds SQLite's write lock (see there).
                self.attempts.wait_out_round(ROUND_WAIT_SEC)
                began = time.monotonic()
                if attempt.spec.isolation == "process":
                    # Imported at the first such job: multiprocessing and cloudpickle are
                    # start-up a worker of thread-run jobs does not need.
                    from headrace.scheduler import isolation

                    outcome = isolation.run_in_child(attempt.spec, attempt.ctx)
                else:
                    outcome = runner.run_attempt(attempt.spec, attempt.ctx, attempt.instance)
                ended = time.monotonic()
                with self._lock:
                    if attempt.abandoned:
                        return  # the worker ended the attempt and replaced this slot
                    attempt.finished = True
                    self._pacing.ended(queue_name, ended - began, ended)
                self._end(attempt, outcome)
        except ExecutionKilled:
            return  # abandoned (see ``_abandon_stuck``); a new slot took this one's place

    def _end_unstarted(self, attempt: Attempt) -> None:
        """Release an attempt stopped before it started and queue its write (``ending``)."""
        c = attempt.claimed
        with self._lock:
            self._running.pop((c.job_id, c.attempt), None)
            self._busy[c.queue] -= 1
        write = ending.unstarted(c, attempt.ctx.stop_reason)
        if write is None:
            self.wake()
        else:
            self.reports.queue(write)

    def _hand_back_waiting(self, queues: Iterable[str], reason: str) -> None:
        """Hand back at once the claimed attempts no slot of ``queues`` has taken yet.

        On stop (``shutdown``), and when ``auto`` prefetch finds a queue's slots stalled
        (``busy``). One started at its claim (a slot was free; the stop came first) goes
        back as a running attempt does (``running -> waiting``), the others from
        ``locked``.
        """
        for name in queues:
            inbox = self._inbox[name]
            while True:
                try:
                    attempt = inbox.get_nowait()
                except queue.Empty:
                    break
                assert attempt is not None, "a slot's stop sentinel is put after this"
                if not attempt.ctx.cancelled:
                    attempt.ctx.request_stop(reason)
                if attempt.started:
                    self._end(attempt, runner.Outcome(stopped=attempt.ctx.stop_reason))
                else:
                    self._end_unstarted(attempt)

    def _add_slot(self, queue_name: str) -> None:
        t = threading.Thread(
            target=self._slot,
            args=(queue_name,),
            name=f"headrace-{queue_name}-{len(self._slots)}",
            daemon=True,
        )
        self._slots.append(t)
        t.start()

    def _abandon_stuck(self, running: list[Attempt]) -> None:
        """End attempts that ignored a stop for ``KILL_GRACE_SEC``; free their slots.

        A job in a child process is killed by ``isolation``. A job in a slot thread
        cannot be: the worker ends the attempt as its stop asked (canceled, suspended,
        restarted; nothing if the lease was lost or it timed out, already written), raises
        ``ExecutionKilled`` in the thread (again while it lives on: ``Interrupts``), and
        starts a new slot in its place, so a stuck execution neither holds the job nor the
        queue's capacity.
        """
        now = time.monotonic()
        for a in running:
            if not ignored_stop(a, now):
                continue
            with self._lock:
                if a.finished or a.abandoned or a.thread is None:
                    continue
                a.abandoned = True
                self._interrupts.add(a.thread, now)
            log.warning(
                "job %s attempt %s ignored a stop (%s) for %s s: execution abandoned",
                a.claimed.job_id,
                a.claimed.attempt,
                a.ctx.stop_reason,
                defaults.KILL_GRACE_SEC,
            )
            self._end(a, runner.Outcome(stopped=a.ctx.stop_reason or "stop"))
            self._add_slot(a.claimed.queue)

    def _end(self, attempt: Attempt, outcome: runner.Outcome) -> None:
        c = attempt.claimed
        with self._lock:
            self._running.pop((c.job_id, c.attempt), None)
            self._busy[c.queue] -= 1
            ended = attempt.ended
        if outcome.stopped == "lost":
            self.wake()
            log.warning(
                "job %s attempt %s: outcome refused, the lease was lost to another attempt",
                c.job_id,
                c.attempt,
            )
            return
        if ended or outcome.stopped == "timeout":
            self.wake()
            return
        ctx = attempt.ctx
        write, lines = ending.of(c, ctx, outcome)
        for line in lines:
            self.reports.log(ctx, line.level, line.message, line.stored)
        runner.notify_state(attempt.instance, ctx, str(write.path[-1]))
        self.reports.queue(write)  # also wakes the pump: its next round sees slot and write

    # -- flushing and control -----------------------------------------------------------

    def _flush(self) -> None:
        """Write what is queued now (the pump's writes without its claims)."""
        writes, logs = self.reports.take()
        if not writes and not logs:
            return
        try:
            refused = self.attempts.apply(writes, logs)
        except errors.StoreError:
            self.reports.requeue(writes, logs)
            raise
        if refused:
            resolve(self.attempts, refused)

    def _control(self) -> None:
        """The control poll (``control``): one read of what the store holds for this worker.

        Also gives back what a queue holds when its slots stalled (``prefetch.stalled``);
        not once stopping: the stop does that itself, and puts the slots' sentinels in the
        inboxes only after the pump has seen it.
        """
        # Snapshot what runs before reading the store: an attempt claimed after the read
        # would otherwise look lost.
        now = time.monotonic()
        with self._lock:
            running = list(self._running.values())
            stalled = [q for q in self.queues if self._pacing.stalled(q, self._busy[q], now)]
        holdings = self.attempts.holdings()
        control.apply(running, holdings, time.monotonic(), self._time_out)
        if running:
            self._abandon_stuck(running)
        if stalled and not self._stopping.is_set():
            log.info("queues %s stalled: the jobs they held are handed back", stalled)
            self._hand_back_waiting(stalled, "busy")

    def _time_out(self, a: Attempt) -> None:
        a.ended = True
        a.ctx.request_stop("timeout")
        runner.notify_state(a.instance, a.ctx, str(S.TIMEOUT))
        self.reports.queue(ending.timed_out(a.claimed, a.ctx))

    def _keep(self) -> None:
        def running() -> list[str]:
            with self._lock:
                return sorted({job_id for job_id, _ in self._running})

        keeper.keep(
            self.attempts.leases,
            self.attempts.maintenance,
            self.lease_sec,
            running,
            self.wake,
            self._stopped,
        )
