"""The worker's side of the store: claims (leases), fenced writes, heartbeats, the reaper."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from headrace import defaults
from headrace.model import status as machine
from headrace.model.clock import now_ms
from headrace.model.job import Claimed
from headrace.model.status import Status
from headrace.model.writes import AttemptWrite
from headrace.store import codec, tables
from headrace.store.database import Store
from headrace.store.jobs import event_rows

J = tables.jobs
HELD = [str(s) for s in machine.HELD]
#: Advisory lock key that makes the reaper run in one process at a time.
REAPER_LOCK = 0x4845_4144_0002
#: Why the reaper ends an attempt.
LEASE_LOST = "lease expired: the worker holding the job stopped heartbeating"


class AttemptRepository:
    """Claims, fenced writes and lease upkeep for one worker process."""

    def __init__(self, store: Store, worker_id: str) -> None:
        self.store = store
        self.worker_id = worker_id

    # -- workers ------------------------------------------------------------------------

    def register(self, queues: dict[str, int]) -> None:
        """Record this worker and the queues (with capacities) it serves."""
        at = now_ms()
        row = {
            "worker_id": self.worker_id,
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "queues": json.dumps(queues),
            "started_at_ms": at,
            "heartbeat_ms": at,
        }
        with self.store.write() as conn:
            conn.execute(self.store.dialect.upsert(tables.workers, ["worker_id"], row))

    def unregister(self) -> None:
        """Forget this worker (a clean stop)."""
        with self.store.write() as conn:
            conn.execute(delete(tables.workers).where(tables.workers.c.worker_id == self.worker_id))

    # -- claiming -----------------------------------------------------------------------

    def claim(
        self, queue: str, types: Sequence[str], limit: int, lease_sec: float
    ) -> list[Claimed]:
        """Lease up to ``limit`` waiting jobs of ``queue`` whose type this worker runs."""
        if limit <= 0 or not types:
            return []
        at = now_ms()
        candidates = (
            select(J.c.job_id)
            .where(
                J.c.queue == queue,
                J.c.status == str(Status.WAITING),
                J.c.eta_ms <= at,
                J.c.type.in_(list(types)),
            )
            .order_by(J.c.eta_ms, J.c.scheduled_at_ms)
            .limit(limit)
            .with_for_update(skip_locked=True)
            # Materialized, so PostgreSQL evaluates it once: a plain IN (subquery) may be
            # rescanned, and with SKIP LOCKED a rescan can lock more than ``limit`` rows.
            .cte("candidates")
            .prefix_with("MATERIALIZED", dialect="postgresql")
        )
        stmt = (
            update(J)
            .where(J.c.job_id.in_(select(candidates.c.job_id)), J.c.status == str(Status.WAITING))
            .values(
                status=str(Status.LOCKED),
                locked_by=self.worker_id,
                attempt=J.c.attempt + 1,
                lease_expires_ms=at + int(lease_sec * 1000),
                updated_at_ms=at,
            )
            .returning(
                J.c.job_id,
                J.c.tenant_id,
                J.c.type,
                J.c.queue,
                J.c.attempt,
                J.c.params,
                J.c.state,
                J.c.progress,
                J.c.timeout_sec,
                J.c.retries,
                J.c.max_retries,
                J.c.retry_delay_sec,
                J.c.resumed,
            )
        )
        with self.store.write() as conn:
            rows = conn.execute(stmt).mappings().all()
            if not rows:
                return []
            events = []
            for r in rows:
                events += event_rows(
                    str(r["job_id"]),
                    str(r["tenant_id"]),
                    (Status.WAITING, Status.LOCKED),
                    user_id=None,
                    at_ms=at,
                    reason=f"claimed by worker {self.worker_id}",
                    attempt=r["attempt"],
                )
            conn.execute(insert(tables.job_events), events)
        return [
            Claimed(
                job_id=str(r["job_id"]),
                tenant_id=str(r["tenant_id"]),
                type=r["type"],
                queue=r["queue"],
                attempt=r["attempt"],
                params=codec.loads(r["params"]),
                state=codec.loads(r["state"]) or {},
                progress=r["progress"],
                timeout_sec=r["timeout_sec"],
                retries=r["retries"],
                max_retries=r["max_retries"],
                retry_delay_sec=r["retry_delay_sec"],
                resumed=bool(r["resumed"]),
            )
            for r in rows
        ]

    # -- fenced writes ------------------------------------------------------------------

    def apply(
        self, writes: Sequence[AttemptWrite], logs: Sequence[dict[str, Any]] = ()
    ) -> list[AttemptWrite]:
        """Apply writes (and append log lines) in one transaction; return the refused writes.

        A write applies only if the row still has the write's attempt, is locked by this
        worker, and is in the status the write expects: a worker that lost its lease can
        never overwrite the attempt that replaced it.
        """
        refused: list[AttemptWrite] = []
        events: list[dict[str, Any]] = []
        at = now_ms()
        with self.store.write() as conn:
            for w in writes:
                if self._apply_one(conn, w, at):
                    events += event_rows(
                        w.job_id,
                        w.tenant_id,
                        w.path,
                        user_id=None,
                        at_ms=at,
                        reason=w.reason,
                        attempt=w.attempt,
                    )
                else:
                    refused.append(w)
            if events:
                conn.execute(insert(tables.job_events), events)
            if logs:
                conn.execute(insert(tables.job_logs), list(logs))
        return refused

    def _apply_one(self, conn: Connection, w: AttemptWrite, at: int) -> bool:
        values = dict(w.values)
        values["updated_at_ms"] = at
        guard = [J.c.job_id == w.job_id, J.c.attempt == w.attempt, J.c.locked_by == self.worker_id]
        if w.path:
            guard.append(J.c.status == str(w.path[0]))
            values["status"] = str(w.path[-1])
            if w.path[-1] in machine.FINAL:
                values.setdefault("finished_at_ms", at)
            if w.path[-1] not in machine.HELD:
                values["lease_expires_ms"] = None
        else:
            guard.append(J.c.status.in_(HELD))
        return bool(conn.execute(update(J).where(*guard).values(values)).rowcount == 1)

    def held(self) -> dict[str, tuple[int, Status]]:
        """The jobs this worker holds now: job id -> (attempt, status)."""
        with self.store.read() as conn:
            rows = conn.execute(
                select(J.c.job_id, J.c.attempt, J.c.status).where(
                    J.c.locked_by == self.worker_id, J.c.status.in_(HELD)
                )
            ).all()
        return {str(r[0]): (r[1], Status(r[2])) for r in rows}

    def controls(self) -> dict[str, tuple[int, dict[str, Any]]]:
        """Pending control requests (restart, exports) on jobs this worker holds."""
        with self.store.read() as conn:
            rows = conn.execute(
                select(J.c.job_id, J.c.attempt, J.c.control).where(
                    J.c.locked_by == self.worker_id, J.c.status.in_(HELD), J.c.control.is_not(None)
                )
            ).all()
        return {str(r[0]): (r[1], json.loads(r[2])) for r in rows}

    def heartbeat(self, lease_sec: float, job_ids: Sequence[str]) -> None:
        """Renew the leases of the jobs this worker runs, and its own liveness.

        Only the named jobs are renewed: a row this worker holds but no longer runs
        (an attempt it gave up) lets its lease lapse, and the reaper takes it back.
        """
        at = now_ms()
        with self.store.write() as conn:
            if job_ids:
                conn.execute(
                    update(J)
                    .where(
                        J.c.locked_by == self.worker_id,
                        J.c.status.in_(HELD),
                        J.c.job_id.in_(list(job_ids)),
                    )
                    .values(lease_expires_ms=at + int(lease_sec * 1000))
                )
            conn.execute(
                update(tables.workers)
                .where(tables.workers.c.worker_id == self.worker_id)
                .values(heartbeat_ms=at)
            )

    # -- maintenance --------------------------------------------------------------------

    def maintain(self, lease_sec: float = defaults.LEASE_SEC) -> int:
        """Reap expired leases and release due retries; one process at a time does it.

        Returns:
            How many jobs changed status.
        """
        at = now_ms()
        with self.store.write() as conn:
            if not self.store.dialect.try_lock(conn, REAPER_LOCK):
                return 0
            changed = self._reap(conn, at) + self._release_retries(conn, at)
            if changed:
                self.store.dialect.notify(conn, defaults.NOTIFY_CHANNEL)
            conn.execute(
                delete(tables.workers).where(
                    tables.workers.c.heartbeat_ms < at - int(3 * lease_sec * 1000)
                )
            )
        return changed

    def _reap(self, conn: Connection, at: int) -> int:
        stmt = (
            select(J.c.job_id, J.c.tenant_id, J.c.status, J.c.attempt, J.c.retries, J.c.max_retries)
            .where(J.c.status.in_(HELD), J.c.lease_expires_ms < at)
            .with_for_update(skip_locked=True)
        )
        events: list[dict[str, Any]] = []
        for r in conn.execute(stmt).mappings().all():
            current = Status(r["status"])
            values: dict[str, Any] = {"lease_expires_ms": None, "updated_at_ms": at}
            if current is Status.CANCELING:
                target = Status.CANCELED
            elif current is Status.SUSPENDING:
                target = Status.SUSPENDED
            elif r["retries"] < r["max_retries"]:
                target = Status.WAITING
                values.update(retries=r["retries"] + 1, eta_ms=at, error=LEASE_LOST, locked_by=None)
            else:
                target = Status.FAILED
                values.update(retries=r["retries"] + 1, error=LEASE_LOST)
            if target in machine.FINAL:
                values["finished_at_ms"] = at
            machine.check(str(r["job_id"]), current, target, LEASE_LOST)
            done = conn.execute(
                update(J)
                .where(
                    J.c.job_id == r["job_id"],
                    J.c.status == r["status"],
                    J.c.attempt == r["attempt"],
                )
                .values(status=str(target), **values)
            ).rowcount
            if done == 1:
                events += event_rows(
                    str(r["job_id"]),
                    str(r["tenant_id"]),
                    (current, target),
                    user_id=None,
                    at_ms=at,
                    reason=LEASE_LOST,
                    attempt=r["attempt"],
                )
        if events:
            conn.execute(insert(tables.job_events), events)
        return len(events)

    def _release_retries(self, conn: Connection, at: int) -> int:
        rows = conn.execute(
            update(J)
            .where(J.c.status == str(Status.RETRYING), J.c.eta_ms <= at)
            .values(status=str(Status.WAITING), updated_at_ms=at)
            .returning(J.c.job_id, J.c.tenant_id, J.c.attempt)
        ).all()
        events: list[dict[str, Any]] = []
        for job_id, tenant_id, attempt in rows:
            events += event_rows(
                str(job_id),
                str(tenant_id),
                (Status.RETRYING, Status.WAITING),
                user_id=None,
                at_ms=at,
                reason="retry delay over",
                attempt=attempt,
            )
        if events:
            conn.execute(insert(tables.job_events), events)
        return len(events)
