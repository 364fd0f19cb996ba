"""Workers and queues: who serves which queue, how deep each queue is, the metrics."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from headrace import defaults
from headrace.model.clock import now_ms
from headrace.model.status import Status
from headrace.store.database import Store
from headrace.store.workers import WorkerRecord, WorkerRepository

#: A worker whose heartbeat is older than this is reported as not alive.
ALIVE_SEC = defaults.LEASE_SEC
#: Statuses counted as a queue's depth (jobs not yet held by a worker).
DEPTH = (Status.WAITING, Status.RESUMING, Status.RETRYING)
#: Statuses counted as running on a queue: in a worker's slot (a ``locked`` job is held
#: by a worker, not started: counted apart).
RUNNING = (Status.RUNNING, Status.CANCELING, Status.SUSPENDING)
#: Held by a worker: in a slot or waiting for one.
HELD = (Status.LOCKED, *RUNNING)


@dataclass(frozen=True, slots=True)
class QueueInfo:
    """One queue: the capacity live workers give it and its jobs by status."""

    name: str
    capacity: int
    workers: int
    waiting: int
    running: int
    jobs: dict[str, int]
    #: When the longest-waiting due job of the queue became due (None: none waits).
    oldest_waiting_ms: int | None = None
    #: Held by a worker, not started yet (claimed ahead for a slot: ``--prefetch``).
    locked: int = 0


@dataclass(frozen=True, slots=True)
class JobCount:
    """How many jobs of one queue, type and status there are (for the metrics)."""

    queue: str
    type: str
    status: str
    count: int


def alive(worker: WorkerRecord, at_ms: int | None = None) -> bool:
    """Whether the worker heartbeated within ``ALIVE_SEC``."""
    return (at_ms or now_ms()) - worker.heartbeat_ms <= ALIVE_SEC * 1000


class WorkerService:
    """Reads workers and queue depths; queue counts are per tenant, workers are shared."""

    def __init__(self, store: Store) -> None:
        self.repo = WorkerRepository(store)

    def workers(self) -> list[WorkerRecord]:
        """Every registered worker, newest heartbeat first."""
        return self.repo.workers()

    def queues(self, tenant_id: str, known: dict[str, int] | None = None) -> list[QueueInfo]:
        """Every queue that a live worker serves, ``known`` names or a job uses, by name."""
        at = now_ms()
        capacity: Counter[str] = Counter()
        serving: Counter[str] = Counter()
        for w in self.repo.workers():
            if alive(w, at):
                for name, cap in w.queues.items():
                    capacity[name] += cap
                    serving[name] += 1
        by_queue: dict[str, Counter[str]] = {name: Counter() for name in known or {}}
        for name in capacity:
            by_queue.setdefault(name, Counter())
        for queue, status, _type, n in self.repo.count_jobs(tenant_id):
            by_queue.setdefault(queue, Counter())[status] += n
        oldest = self.repo.oldest_due(tenant_id, at)
        return [
            QueueInfo(
                name=name,
                capacity=capacity[name],
                workers=serving[name],
                waiting=sum(counts[str(s)] for s in DEPTH),
                running=sum(counts[str(s)] for s in RUNNING),
                locked=counts[str(Status.LOCKED)],
                jobs=dict(sorted(counts.items())),
                oldest_waiting_ms=oldest.get(name),
            )
            for name, counts in sorted(by_queue.items())
        ]

    def job_counts(self, tenant_id: str | None = None) -> list[JobCount]:
        """Jobs by queue, type and status (what ``/metrics`` exports); every tenant's if None."""
        return [JobCount(q, t, s, n) for q, s, t, n in self.repo.count_jobs(tenant_id)]

    def durations(self, tenant_id: str | None = None) -> list[tuple[str, str, int, float]]:
        """Ended jobs' last-attempt durations: ``(type, status, count, total seconds)``."""
        return self.repo.durations(tenant_id)
