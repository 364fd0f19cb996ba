"""Workers and queues as the store sees them: the ``workers`` table and job counts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from headrace.store import tables
from headrace.store.database import Store

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


class WorkerRepository:
    """Reads the workers table and counts jobs by queue, status and type."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def workers(self) -> list[WorkerRecord]:
        """Every registered worker, newest heartbeat first."""
        with self.store.read() as conn:
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
                )
                for r in rows
            ]

    def count_jobs(
        self, tenant_id: str | None, statuses: Sequence[str] | None = None
    ) -> list[tuple[str, str, str, int]]:
        """``(queue, status, type, count)`` for the tenant's jobs (every tenant's if None)."""
        stmt = select(J.c.queue, J.c.status, J.c.type, func.count()).group_by(
            J.c.queue, J.c.status, J.c.type
        )
        if tenant_id is not None:
            stmt = stmt.where(J.c.tenant_id == tenant_id)
        if statuses:
            stmt = stmt.where(J.c.status.in_(list(statuses)))
        with self.store.read() as conn:
            return [(q, s, t, int(n)) for q, s, t, n in conn.execute(stmt)]

    def durations(self) -> list[tuple[str, str, int, float]]:
        """``(type, status, count, seconds)``: ended jobs' last attempts, every tenant's."""
        seconds = func.sum(J.c.finished_at_ms - J.c.started_at_ms) / 1000.0
        stmt = (
            select(J.c.type, J.c.status, func.count(), seconds)
            .where(J.c.finished_at_ms.is_not(None), J.c.started_at_ms.is_not(None))
            .group_by(J.c.type, J.c.status)
        )
        with self.store.read() as conn:
            return [(t, s, int(n), float(total or 0)) for t, s, n, total in conn.execute(stmt)]
