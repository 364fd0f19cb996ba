"""A worker process's engine room: claim, run, report, heartbeat, reap.

Threads, each with one job:
- the pump is the worker's one writer on the job hot path: each round it writes what
  attempts reported (start, progress, logs, end) in batches, off the jobs' critical path,
  and claims up to the free capacity of every queue, in one transaction (one commit, and
  on SQLite one write lock for the process instead of one per thread); between rounds it
  polls for cancel/suspend requests and timeouts;
- ``capacity`` slot threads per queue (``slots``) run attempts; with ``prefetch``
  (``model.prefetch``: by default as many as its slots should start soon) the pump claims
  more per queue, which wait in the worker (``locked``) for a slot, so a round carries more
  jobs and the slots need not wait for it;
- the keeper (``keeper``) renews leases and takes its turn at the elected maintenance.

What the attempts report (start, progress, logs, end) waits in ``reports`` for the pump.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence

from headrace import defaults, errors
from headrace.model import labels as job_labels
from headrace.model import prefetch as prefetching
from headrace.model.job import Claimed
from headrace.scheduler import keeper
from headrace.scheduler.attempt import begin
from headrace.scheduler.registry import Registry
from headrace.scheduler.reports import Reports
from headrace.scheduler.slots import Slots
from headrace.scheduler.writebuffer import gather, resolve
from headrace.store.attempts import AttemptRepository
from headrace.store.catalog import CatalogRepository
from headrace.store.database import Store
from headrace.store.workers import WorkerRepository

log = logging.getLogger("headrace.worker")


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
        self._stop_listening: Callable[[], None] = lambda: None
        #: The job types this worker last stored as the ones it runs.
        self._known: list[str] = []
        #: The slot threads and the attempts this worker holds (they share ``_lock``).
        self.slots = Slots(
            self.queues,
            self.prefetch,
            self._lock,
            self.reports,
            self.attempts,
            self.wake,
            self._stopping,
        )

    # -- life cycle ---------------------------------------------------------------------

    def start(self) -> Worker:
        """Register, store the known job types, and start the threads."""
        self.registry.save_to(CatalogRepository(self.store))
        self._known = sorted(t for ts in self._types_by_queue().values() for t in ts)
        self.registration.register(self.worker_id, self.queues, self._known, self.labels)
        self._stop_listening = self.store.dialect.listen(
            self.store.engine, defaults.NOTIFY_CHANNEL, self.wake
        )
        self.slots.start()
        for target, tname in (
            (self._pump, "headrace-pump"),
            (self._keep, "headrace-keeper"),
        ):
            self._threads.append(threading.Thread(target=target, name=tname, daemon=True))
        for t in self._threads:
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
        self.slots.stop(grace_sec)
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
        return len(self.slots.running)

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
                if self.slots.running and time.monotonic() >= next_poll:
                    next_poll = time.monotonic() + defaults.CONTROL_POLL_SEC
                    self.slots.control()
                self.slots.repeat_interrupts()
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
        return self.slots.free(types)

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
        """Make the claimed jobs attempts and hand them to the slots (``Slots.take``)."""
        ready, writes = begin(
            claimed, self.registry, self.reports, self.store, self.worker_id, self.lease_sec
        )
        self.slots.take(ready, writes)

    def _ending(self) -> bool:
        """Whether an attempt's end (or other report) waits while other attempts run."""
        return bool(self.slots.running) and self.reports.ending()

    # -- flushing and heartbeat ---------------------------------------------------------

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

    def _keep(self) -> None:
        keeper.keep(
            self.attempts.leases,
            self.attempts.maintenance,
            self.lease_sec,
            self.slots.job_ids,
            self.wake,
            self._stopped,
        )
