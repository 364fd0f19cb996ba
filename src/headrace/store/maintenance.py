"""Elected maintenance: cluster-wide chores run by one process at a time, under a lease.

The chores: reaping attempts whose lease lapsed, putting jobs whose retry delay is over
back to waiting, forgetting workers long silent (the home of any further periodic chore,
such as schedule ticks). The role is a row of ``maintenance_leases`` naming its holder
and until when: the holder renews it each run; once it lapses (its holder died or is
frozen) any process takes it over, so the role changes hands within one lease period.
No transaction stays open for the role: each run is a few short transactions.

A process whose own runs were held up for longer than a lease (it was frozen, or the
store refused writes, as SQLite does to everyone while one process is frozen inside
its write transaction) reaps nothing for one more lease period: the other workers'
heartbeats, held up as long, get that long to land before their leases count as lost.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Executable, delete, insert, or_, select, update

from headrace import defaults
from headrace.model import outcomes
from headrace.model import status as machine
from headrace.model.clock import now_ms
from headrace.model.status import Status
from headrace.store import tables
from headrace.store.database import Store
from headrace.store.job_rows import event_row
from headrace.store.predicates import AT, IS_HELD, IS_RETRYING, WAITING

log = logging.getLogger("headrace.maintenance")
J = tables.jobs
ML = tables.maintenance_leases
#: The maintenance role's row.
ROLE = "maintenance"
#: Why the reaper ends an attempt.
LEASE_LOST = "lease expired: the worker holding the job stopped heartbeating"


def process_id() -> str:
    """This process, as a maintenance holder (every worker of a process shares it)."""
    return f"{socket.gethostname()}:{os.getpid()}"


class MaintenanceRepository:
    """Elects this process to the maintenance role and, while it holds it, does the chores."""

    def __init__(self, store: Store, holder: str | None = None) -> None:
        self.store = store
        self.holder = holder or process_id()
        #: When this process last began or ended a maintenance transaction (monotonic);
        #: from its creation, so a first transaction held up by a stall counts as one.
        self._last_seen = time.monotonic()
        #: No reaping before this (monotonic): see the module's docstring.
        self._calm_until = 0.0
        #: Whether this process held the role at its last election (to log a change).
        self.holding = False
        #: Further chores of the elected process (schedule ticks), run after the reaping,
        #: each in its own transactions; each returns how many jobs it changed.
        self.chores: list[Callable[[], int]] = []

    def elect(self, lease_sec: float) -> bool:
        """Take or renew the role for ``lease_sec``; False while another process holds it."""
        with self.store.write() as conn:
            at = now_ms()
            until = at + int(lease_sec * 1000)
            # RETURNING, not rowcount: psycopg reports -1 for an INSERT … ON CONFLICT here.
            won = conn.execute(
                update(ML)
                .where(ML.c.role == ROLE, or_(ML.c.holder == self.holder, ML.c.expires_ms < at))
                .values(holder=self.holder, expires_ms=until)
                .returning(ML.c.role)
            ).first()
            if won is None:
                won = conn.execute(
                    self.store.dialect.insert_ignoring_conflicts(ML)
                    .values(role=ROLE, holder=self.holder, expires_ms=until)
                    .returning(ML.c.role)
                ).first()
        self._note_progress(lease_sec)
        if (won is not None) != self.holding:
            self.holding = won is not None
            log.info("maintenance role %s by %s", "taken" if self.holding else "lost", self.holder)
        return won is not None

    def _note_progress(self, lease_sec: float) -> None:
        """Record that a transaction began or ended now; a gap over a lease means a stall."""
        now = time.monotonic()
        if now - self._last_seen > lease_sec:
            self._calm_until = now + lease_sec
        self._last_seen = now

    def run(self, lease_sec: float = defaults.LEASE_SEC) -> int:
        """Reap lapsed leases, release due retries, forget silent workers, if elected.

        Returns:
            How many jobs changed status.
        """
        if not self.elect(lease_sec):
            return 0
        reaped = released = 0
        with self.store.write() as conn:
            at = now_ms()
            self._note_progress(lease_sec)  # the wait for this transaction may be a stall
            if time.monotonic() >= self._calm_until:
                reaped = self._reap(conn, at)
            released = self._release_retries(conn, at)
            changed = reaped + released
            if changed:
                self.store.dialect.notify(conn, defaults.NOTIFY_CHANNEL)
            conn.execute(
                delete(tables.workers).where(
                    tables.workers.c.heartbeat_ms < at - int(3 * lease_sec * 1000)
                )
            )
        if changed:
            log.info(
                "maintenance by %s: %d lapsed lease(s) reaped, %d retry(ies) released",
                self.holder,
                reaped,
                released,
            )
        for chore in self.chores:
            changed += chore()
        return changed

    def _reap(self, conn: Connection, at: int) -> int:
        """Take back the jobs whose lease lapsed (``model.outcomes.after_lease_lost``).

        A job going back to waiting keeps its ``eta_ms``, so it keeps its place in the
        queue rather than going behind everything scheduled since; the lost lease is
        counted in ``lease_losses``, not in ``retries``.
        """
        stmt = (
            select(J.c.job_id, J.c.tenant_id, J.c.status, J.c.attempt, J.c.lease_losses)
            .where(IS_HELD, J.c.lease_expires_ms < at)
            .with_for_update(skip_locked=True)
        )
        events: list[dict[str, Any]] = []
        for r in conn.execute(stmt).mappings().all():
            current = Status(r["status"])
            target = outcomes.after_lease_lost(current, r["lease_losses"])
            values: dict[str, Any] = {
                "lease_expires_ms": None,
                "updated_at_ms": at,
                "lease_losses": r["lease_losses"] + 1,
            }
            if target is Status.WAITING:
                values.update(error=LEASE_LOST, locked_by=None)
            elif target is Status.FAILED:
                values["error"] = LEASE_LOST
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
                events.append(
                    event_row(
                        str(r["job_id"]),
                        str(r["tenant_id"]),
                        (current, target),
                        user_id=None,
                        at_ms=at,
                        reason=LEASE_LOST,
                        attempt=r["attempt"],
                    )
                )
        if events:
            conn.execute(insert(tables.job_events), events)
        return len(events)

    def release_statement(self) -> Executable:
        """What ``run`` runs to put jobs whose retry delay is over back to waiting."""
        return (
            update(J)
            .where(IS_RETRYING, J.c.eta_ms <= AT)
            .values(status=WAITING, updated_at_ms=AT)
            .returning(J.c.job_id, J.c.tenant_id, J.c.attempt)
        )

    def _release_retries(self, conn: Connection, at: int) -> int:
        rows = conn.execute(self.release_statement(), {"p_at": at}).all()
        events: list[dict[str, Any]] = []
        for job_id, tenant_id, attempt in rows:
            events.append(
                event_row(
                    str(job_id),
                    str(tenant_id),
                    (Status.RETRYING, Status.WAITING),
                    user_id=None,
                    at_ms=at,
                    reason="retry delay over",
                    attempt=attempt,
                )
            )
        if events:
            conn.execute(insert(tables.job_events), events)
        return len(events)
