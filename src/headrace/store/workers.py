"""Workers and queues as the store sees them: the ``workers`` table and job counts."""

from __future__ import annotations

import json
import os
import socket
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select, union_all, update

from headrace.model import labels
from headrace.model.clock import now_ms
from headrace.model.status import Status
from headrace.store import tables
from headrace.store.database import Store
from headrace.store.predicates import IS_HELD, IS_WAITING, by_status

J = tables.jobs
W = tables.workers


@dataclass(frozen=True, slots=True)
class WorkerRecord:
    """A registered worker process and the queues (with capacities) it serves."""

    worker_id: str
    hostname: str
    pid: int
    queues: dict[str, int]
    started_at_ms: int
    heartbeat_ms: int
    #: The job types it runs; None for a worker that did not say (before migration 0009).
    types: tuple[str, ...] | None = None
    #: The labels it offers (``headrace worker --labels gpu,eu``), sorted.
    labels: tuple[str, ...] = ()
    #: How many jobs it runs now, each in a slot (running, canceling or suspending).
    running: int = 0
    #: How many more it holds that no slot started yet (``locked``): claimed ahead for a
    #: slot (``--prefetch``), or taken for a free slot in the round before their start.
    locked: int = 0

    @property
    def capacity(self) -> int:
        """How many jobs it runs at once: its queues' capacities summed."""
        return sum(self.queues.values())

    @property
    def load(self) -> float:
        """The share of its slots in use, 0.0 to 1.0 (jobs held for a slot take none)."""
        return min(self.running / self.capacity, 1.0) if self.capacity else 0.0


class WorkerRepository:
    """The workers table (registration, reads) and job counts by queue, status and type."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def register(
        self,
        worker_id: str,
        queues: dict[str, int],
        types: Sequence[str],
        offered: labels.Labels = (),
    ) -> None:
        """Record a worker, the queues (with capacities) it serves, its types and labels."""
        at = now_ms()
        row = {
            "worker_id": worker_id,
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "queues": json.dumps(queues),
            "types": json.dumps(sorted(types)),
            "labels": labels.encode(offered),
            "started_at_ms": at,
            "heartbeat_ms": at,
        }
        with self.store.write() as conn:
            conn.execute(self.store.dialect.upsert(W, ["worker_id"], row))

    def set_types(self, worker_id: str, types: Sequence[str]) -> None:
        """Record the job types a worker runs now (a client registers more at any time)."""
        with self.store.write() as conn:
            conn.execute(
                update(W).where(W.c.worker_id == worker_id).values(types=json.dumps(types))
            )

    def unregister(self, worker_id: str) -> None:
        """Forget a worker (a clean stop)."""
        with self.store.write() as conn:
            conn.execute(delete(W).where(W.c.worker_id == worker_id))

    def workers(self) -> list[WorkerRecord]:
        """Every registered worker with the jobs it holds, newest heartbeat first."""
        held = (
            select(J.c.locked_by, J.c.status, func.count())
            .where(IS_HELD, J.c.locked_by.is_not(None))
            .group_by(J.c.locked_by, J.c.status)
        )
        running: Counter[str] = Counter()
        locked: Counter[str] = Counter()
        with self.store.read() as conn:
            for worker, status, n in conn.execute(held):
                (locked if status == Status.LOCKED else running)[str(worker)] += int(n)
            rows = conn.execute(select(W).order_by(W.c.heartbeat_ms.desc(), W.c.worker_id))
            return [
                WorkerRecord(
                    worker_id=str(r.worker_id),
                    hostname=r.hostname,
                    pid=r.pid,
                    queues={str(k): int(v) for k, v in json.loads(r.queues or "{}").items()},
                    started_at_ms=r.started_at_ms,
                    heartbeat_ms=r.heartbeat_ms,
                    types=None if r.types is None else tuple(json.loads(r.types)),
                    labels=labels.decode(r.labels),
                    running=running[str(r.worker_id)],
                    locked=locked[str(r.worker_id)],
                )
                for r in rows
            ]

    def count_jobs(
        self, tenant_id: str | None, statuses: Sequence[str] | None = None
    ) -> list[tuple[str, str, str, int]]:
        """``(queue, status, type, count)`` for the tenant's jobs (every tenant's if None)."""
        mine = [] if tenant_id is None else [J.c.tenant_id == tenant_id]
        by = by_status(statuses, tenant_id, self.store.dialect) if statuses else None
        filters = [mine] if by is None else [[term] for term in by]
        parts = [
            select(J.c.queue, J.c.status, J.c.type, func.count())
            .where(*terms)
            .group_by(J.c.queue, J.c.status, J.c.type)
            for terms in filters
        ]
        # The terms' statuses are disjoint: their groups are too.
        stmt = parts[0] if len(parts) == 1 else union_all(*parts)
        with self.store.read() as conn:
            return [(q, s, t, int(n)) for q, s, t, n in conn.execute(stmt)]

    def oldest_due(self, tenant_id: str, at_ms: int) -> dict[str, int]:
        """Per queue, the earliest eta among the tenant's waiting jobs already due."""
        stmt = (
            select(J.c.queue, func.min(J.c.eta_ms))
            .where(J.c.tenant_id == tenant_id, IS_WAITING, J.c.eta_ms <= at_ms)
            .group_by(J.c.queue)
        )
        with self.store.read() as conn:
            return {str(q): int(m) for q, m in conn.execute(stmt)}

    def durations(self, tenant_id: str | None = None) -> list[tuple[str, str, int, float]]:
        """``(type, status, count, seconds)``: ended jobs' last attempts (all tenants' if None)."""
        seconds = func.sum(J.c.finished_at_ms - J.c.started_at_ms) / 1000.0
        stmt = (
            select(J.c.type, J.c.status, func.count(), seconds)
            .where(J.c.finished_at_ms.is_not(None), J.c.started_at_ms.is_not(None))
            .group_by(J.c.type, J.c.status)
        )
        if tenant_id is not None:
            stmt = stmt.where(J.c.tenant_id == tenant_id)
        with self.store.read() as conn:
            return [(t, s, int(n), float(total or 0)) for t, s, n, total in conn.execute(stmt)]

    def running_on(self, tenant_id: str, queue: str) -> list[tuple[str, str, tuple[str, ...]]]:
        """``(job_id, worker_id, labels)`` of the tenant's running jobs of ``queue``."""
        stmt = select(J.c.job_id, J.c.locked_by, J.c.labels).where(
            J.c.tenant_id == tenant_id,
            J.c.queue == queue,
            J.c.status == "running",
            J.c.locked_by.is_not(None),
        )
        with self.store.read() as conn:
            return [
                (str(j), str(w), labels.decode(ls))
                for j, w, ls in conn.execute(stmt.order_by(J.c.scheduled_at_ms))
            ]

    def place(self, tenant_id: str, job_id: str, worker_id: str, until_ms: int) -> bool:
        """Reserve a suspended job for ``worker_id`` until ``until_ms``; False if not suspended."""
        with self.store.write() as conn:
            done = conn.execute(
                update(J)
                .where(J.c.tenant_id == tenant_id, J.c.job_id == job_id, J.c.status == "suspended")
                .values(placed_on=worker_id, placed_until_ms=until_ms)
            ).rowcount
        return done == 1

    def queue_load(self, queue: str, at_ms: int) -> dict[str, int]:
        """Per worker, the jobs of ``queue`` it holds or that are placed on it (in transit)."""
        held = (
            select(J.c.locked_by, func.count())
            .where(IS_HELD, J.c.queue == queue, J.c.locked_by.is_not(None))
            .group_by(J.c.locked_by)
        )
        placed = (
            select(J.c.placed_on, func.count())
            .where(
                IS_WAITING,
                J.c.queue == queue,
                J.c.placed_on.is_not(None),
                J.c.placed_until_ms > at_ms,
            )
            .group_by(J.c.placed_on)
        )
        load: dict[str, int] = {}
        with self.store.read() as conn:
            for stmt in (held, placed):
                for worker_id, n in conn.execute(stmt):
                    load[str(worker_id)] = load.get(str(worker_id), 0) + int(n)
        return load

    def reserve(self, job_id: str, attempt: int, holder: str, target: str, until_ms: int) -> bool:
        """Place a job ``holder`` runs (this attempt) on ``target`` for its next claim."""
        with self.store.write() as conn:
            done = conn.execute(
                update(J)
                .where(J.c.job_id == job_id, J.c.attempt == attempt, J.c.locked_by == holder)
                .values(placed_on=target, placed_until_ms=until_ms)
            ).rowcount
        return done == 1
