"""Heartbeats: a worker renews the leases of the jobs it runs, and its own liveness.

A heartbeat never waits on a job's own work. On PostgreSQL it skips a job row that is
locked (``SKIP LOCKED``): only a transaction of the same attempt locks a row it holds,
a snapshot commit, and that commit renews the lease itself (``SnapshotRepository``), so a
large commit cannot make its job look dead. On SQLite a heartbeat waits for the write
lock like every writer; its lease is reckoned from when it got the lock, not from
before, so the wait never shortens the lease it writes.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update

from headrace.model.clock import now_ms
from headrace.store import tables
from headrace.store.database import Store
from headrace.store.predicates import IS_HELD

J = tables.jobs


class LeaseRepository:
    """Lease upkeep for one worker."""

    def __init__(self, store: Store, worker_id: str) -> None:
        self.store = store
        self.worker_id = worker_id

    def heartbeat(self, lease_sec: float, job_ids: Sequence[str]) -> None:
        """Renew the leases of the jobs this worker runs, and its own liveness.

        Only the named jobs are renewed: a row this worker holds but no longer runs
        (an attempt it gave up) lets its lease lapse, and the reaper takes it back.
        """
        with self.store.write() as conn:
            at = now_ms()  # after BEGIN: on SQLite, after any wait for the write lock
            if job_ids:
                mine = select(J.c.job_id).where(
                    J.c.locked_by == self.worker_id, IS_HELD, J.c.job_id.in_(list(job_ids))
                )
                if self.store.is_postgresql:
                    mine = mine.with_for_update(skip_locked=True)
                conn.execute(
                    update(J)
                    .where(J.c.job_id.in_(mine.scalar_subquery()))
                    .values(lease_expires_ms=at + int(lease_sec * 1000))
                )
            conn.execute(
                update(tables.workers)
                .where(tables.workers.c.worker_id == self.worker_id)
                .values(heartbeat_ms=at)
            )
