"""A worker's slots: the threads that run its attempts, and the attempts it holds.

``capacity`` slot threads per queue each take attempts from their queue's inbox and run
them; the pump hands them claims (``take``) and polls what the store holds for them
(``control``). The table of held attempts and the queues' busy counts share the worker's
lock with its ``Reports``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable

from headrace import defaults
from headrace.model import prefetch as prefetching
from headrace.model.clock import now_ms
from headrace.model.job import Claimed
from headrace.model.status import Status
from headrace.model.writes import AttemptWrite
from headrace.scheduler import control, ending, runner
from headrace.scheduler.attempt import Attempt, ExecutionKilled, Interrupts, ignored_stop, start
from headrace.scheduler.reports import Reports
from headrace.store.attempts import AttemptRepository

log = logging.getLogger("headrace.worker")

S = Status
#: Longest a slot waits for the pump's round to let go of SQLite's write lock (a round
#: holds it milliseconds; this only bounds the wait should one hang).
ROUND_WAIT_SEC = 5.0


class Slots:
    """The slot threads of a worker's queues, their inboxes, and the attempts it holds.

    ``lock`` is the worker's (shared with ``reports``); ``wake`` tells its pump that a
    slot freed up; ``stopping`` is set once the worker stops.
    """

    def __init__(
        self,
        queues: dict[str, int],
        prefetch: prefetching.Setting,
        lock: threading.Lock,
        reports: Reports,
        attempts: AttemptRepository,
        wake: Callable[[], None],
        stopping: threading.Event,
    ) -> None:
        self.queues = queues
        self._lock = lock
        self.reports = reports
        self.attempts = attempts
        self._wake = wake
        self._stopping = stopping
        self._busy = dict.fromkeys(queues, 0)
        #: The queues' run times, by which ``auto`` prefetch holds jobs (under ``_lock``).
        self._pacing = prefetching.Pacing(prefetch, queues)
        #: The attempts this worker holds, running or (``prefetch``) waiting for a slot, by
        #: (job id, attempt): a job's next attempt may start here while its previous one
        #: still winds down (a cancel, then a new run), and each keeps its own entry.
        #: Changed under ``_lock``; read without it only for its size.
        self.running: dict[tuple[str, int], Attempt] = {}
        self._inbox: dict[str, queue.SimpleQueue[Attempt | None]] = {
            q: queue.SimpleQueue() for q in queues
        }
        self._threads: list[threading.Thread] = []
        #: Abandoned slot threads (``_abandon_stuck``), told again until they end (pump).
        self._interrupts = Interrupts()

    def start(self) -> None:
        """Start ``capacity`` slot threads per queue."""
        for name, capacity in self.queues.items():
            for i in range(capacity):
                t = threading.Thread(
                    target=self._slot, args=(name,), name=f"headrace-{name}-{i}", daemon=True
                )
                self._threads.append(t)
        for t in self._threads:
            t.start()

    def stop(self, grace_sec: float) -> None:
        """Hand back the attempts no slot took; give the rest ``grace_sec``, then stop them.

        The worker calls this once its pump claims no more. Attempts still running after
        the grace period are asked to stop (``shutdown``) and have two more seconds; then
        each slot is told to end once its inbox is empty.
        """
        self._hand_back_waiting(self.queues, "shutdown")
        deadline = time.monotonic() + grace_sec
        while self.running and time.monotonic() < deadline:
            time.sleep(0.01)
        with self._lock:
            leftover = list(self.running.values())
        for a in leftover:
            a.ctx.request_stop("shutdown")
        deadline = time.monotonic() + 2.0
        while self.running and time.monotonic() < deadline:
            time.sleep(0.01)
        for inbox in self._inbox.values():
            for _ in range(len(self._threads)):
                inbox.put(None)

    def job_ids(self) -> list[str]:
        """The jobs this worker holds an attempt of (for its heartbeat)."""
        with self._lock:
            return sorted({job_id for job_id, _ in self.running})

    # -- claiming -----------------------------------------------------------------------

    def free(self, types: dict[str, list[str]]) -> dict[str, int]:
        """Jobs per queue with ``types`` the worker may claim: free slots and room to hold."""
        now = time.monotonic()
        with self._lock:
            return {
                # Below zero when ``auto`` came to hold fewer than it holds: none to claim.
                q: max(0, c + self._pacing.held_at_most(q, self._busy[q], now) - self._busy[q])
                for q, c in self.queues.items()
                if types[q]
            }

    def take(self, ready: list[Attempt], writes: list[AttemptWrite]) -> None:
        """Start the attempts free slots take at once and hand all of them to the slots.

        Those a free slot takes at once start here, their start writes queued (after
        ``writes``, a claim's others) with one lock for the whole claim; the rest
        (``prefetch``) start when a slot takes them. The start writes need no kick: the
        pump, which calls this, comes back for them (see ``WriteBuffer.take``), and a slot
        starting one later finds it told.
        """
        at = now_ms()
        started = len(writes)
        running = self.running
        took = time.monotonic()
        with self._lock:
            for q in {a.claimed.queue for a in ready}:
                self._pacing.claimed(q, took)
            # With a free slot a queue holds no attempt that waits for one.
            free = {q: self.queues[q] - self._busy[q] for q in self.queues}
            for a in ready:
                c = a.claimed
                q = c.queue
                if free[q] > 0:
                    free[q] -= 1
                    writes.append(start(a, at))
                running[c.job_id, c.attempt] = a
                self._busy[q] += 1
        self.reports.queue_claimed(writes, len(writes) > started)
        inbox = self._inbox
        for a in ready:
            inbox[a.claimed.queue].put(a)

    # -- running ------------------------------------------------------------------------

    def _slot(self, queue_name: str) -> None:
        inbox = self._inbox[queue_name]
        me = threading.current_thread()
        try:
            while (attempt := inbox.get()) is not None:
                ctx = attempt.ctx
                if not attempt.started:
                    if ctx.cancelled:  # stopped while it waited for this slot
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

                    outcome = isolation.run_in_child(attempt.spec, ctx)
                else:
                    outcome = runner.run_attempt(attempt.spec, ctx, attempt.instance)
                ended = time.monotonic()
                c = attempt.claimed
                # A function job that returned: its end write is made now, and queued in
                # the hold of the lock that releases it, unless the worker ended it first.
                # With lines to log, or a JobWorker to tell, ``_ended`` queues it after them.
                made, quick = None, None
                if outcome.stopped is None and outcome.error is None:
                    made = ending.of(c, ctx, outcome)
                    if not made[1] and attempt.instance is None:
                        quick = made[0]
                # One hold of the lock: the attempt's run time, and its release (``_release``).
                with self._lock:
                    if attempt.abandoned:
                        return  # the worker ended the attempt and replaced this slot
                    attempt.finished = True
                    self._pacing.ended(queue_name, ended - began, ended)
                    self._release(c)
                    told = attempt.ended
                    if quick is not None and not told:
                        self.reports.add_locked(quick)
                if quick is not None and not told:
                    self.reports.tell()  # the pump's next round sees slot and write
                else:
                    self._ended(attempt, outcome, told, made)
        except ExecutionKilled:
            return  # abandoned (see ``_abandon_stuck``); a new slot took this one's place

    def _end_unstarted(self, attempt: Attempt) -> None:
        """Release an attempt stopped before it started and queue its write (``ending``)."""
        c = attempt.claimed
        with self._lock:
            self._release(c)
        write = ending.unstarted(c, attempt.ctx.stop_reason)
        if write is None:
            self._wake()
        else:
            self.reports.queue(write)

    def _end(self, attempt: Attempt, outcome: runner.Outcome) -> None:
        with self._lock:
            self._release(attempt.claimed)
            ended = attempt.ended
        self._ended(attempt, outcome, ended)

    def _release(self, c: Claimed) -> None:
        """Forget the held attempt of ``c`` and free its slot; the caller holds ``_lock``."""
        self.running.pop((c.job_id, c.attempt), None)
        self._busy[c.queue] -= 1

    def _ended(
        self,
        attempt: Attempt,
        outcome: runner.Outcome,
        ended: bool,
        made: tuple[AttemptWrite, list[ending.LogLine]] | None = None,
    ) -> None:
        """Queue the write of an attempt ``_end`` released (none if ``ended`` or lost).

        ``made``: its write and lines, if already made from ``outcome`` (``ending.of``).
        """
        stopped = outcome.stopped
        if stopped is not None:
            if stopped == "lost":
                self._wake()
                c = attempt.claimed
                log.warning(
                    "job %s attempt %s: outcome refused, the lease was lost to another attempt",
                    c.job_id,
                    c.attempt,
                )
                return
            if stopped == "timeout":
                ended = True
        if ended:
            self._wake()
            return
        ctx = attempt.ctx
        write, lines = ending.of(attempt.claimed, ctx, outcome) if made is None else made
        for line in lines:
            self.reports.log(ctx, line.level, line.message, line.stored)
        if attempt.instance is not None:
            runner.notify_state(attempt.instance, ctx, str(write.path[-1]))
        self.reports.queue(write)  # also wakes the pump: its next round sees slot and write

    # -- control ------------------------------------------------------------------------

    def control(self) -> None:
        """The control poll (``control``): one read of what the store holds for this worker.

        Also gives back what a queue holds when its slots stalled (``prefetch.stalled``);
        not once stopping: the stop does that itself, and puts the slots' sentinels in the
        inboxes only after the pump has seen it.
        """
        # Snapshot what runs before reading the store: an attempt claimed after the read
        # would otherwise look lost.
        now = time.monotonic()
        with self._lock:
            running = list(self.running.values())
            stalled = [q for q in self.queues if self._pacing.stalled(q, self._busy[q], now)]
        holdings = self.attempts.holdings()
        control.apply(running, holdings, time.monotonic(), self._time_out)
        if running:
            self._abandon_stuck(running)
        if stalled and not self._stopping.is_set():
            log.info("queues %s stalled: the jobs they held are handed back", stalled)
            self._hand_back_waiting(stalled, "busy")

    def repeat_interrupts(self) -> None:
        """Interrupt again the abandoned slot threads still alive (``Interrupts``)."""
        if self._interrupts:
            self._interrupts.repeat(time.monotonic())

    def _time_out(self, a: Attempt) -> None:
        a.ended = True
        a.ctx.request_stop("timeout")
        runner.notify_state(a.instance, a.ctx, str(S.TIMEOUT))
        self.reports.queue(ending.timed_out(a.claimed, a.ctx))

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

    def _add_slot(self, queue_name: str) -> None:
        t = threading.Thread(
            target=self._slot,
            args=(queue_name,),
            name=f"headrace-{queue_name}-{len(self._threads)}",
            daemon=True,
        )
        self._threads.append(t)
        t.start()
