"""Schedules and their firings as rows: a tenant's schedules, and the ticker's claims.

``ScheduleRepository`` is one tenant's view (every query filters by it). ``FiringClaims``
is the maintenance process's view across tenants: the due schedules, and the claim of a
tick, which is an insert of its ``(schedule_id, fire_ms)`` row: of any number of
processes racing for one tick, only the one whose insert lands may fire it.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import RowMapping, delete, func, insert, select, update

from headrace import defaults, errors
from headrace.model.clock import now_ms
from headrace.model.job import Page
from headrace.model.schedules import Action, Firing, Misfire, Outcome, Schedule
from headrace.store import tables
from headrace.store.database import Store

SC, SF = tables.schedules, tables.schedule_firings
#: What a firing whose process died before recording its outcome ends up saying.
ABANDONED = (
    "the process firing this tick stopped before recording the outcome; "
    "its action may or may not have run"
)


def schedule_from(r: RowMapping) -> Schedule:
    """A ``Schedule`` from its row."""
    return Schedule(
        schedule_id=str(r["schedule_id"]),
        job_id=str(r["job_id"]),
        cron=r["cron"],
        timezone=r["timezone"],
        action=Action(r["action"]),
        misfire=Misfire(r["misfire"]),
        paused=bool(r["paused"]),
        next_fire_ms=r["next_fire_ms"],
        description=r["description"],
        user_id=str(r["user_id"]),
        created_at_ms=r["created_at_ms"],
        updated_at_ms=r["updated_at_ms"],
    )


def firing_from(r: RowMapping) -> Firing:
    """A ``Firing`` from its row."""
    return Firing(
        schedule_id=str(r["schedule_id"]),
        fire_ms=r["fire_ms"],
        fired_at_ms=r["fired_at_ms"],
        outcome=Outcome(r["outcome"]),
        skipped=r["skipped"],
        run_count=r["run_count"],
        error=r["error"],
        holder=r["holder"],
    )


def _uuid(schedule_id: str) -> str | None:
    try:
        return str(uuid.UUID(str(schedule_id)))
    except ValueError:
        return None


class ScheduleRepository:
    """One tenant's schedules and their firings."""

    def __init__(self, store: Store, tenant_id: str) -> None:
        self.store = store
        self.tenant_id = tenant_id

    def create(self, values: Mapping[str, Any]) -> Schedule:
        """Store a new schedule from its column values (less id, tenant and times)."""
        at = now_ms()
        row = {
            **values,
            "schedule_id": str(uuid.uuid4()),
            "tenant_id": self.tenant_id,
            "created_at_ms": at,
            "updated_at_ms": at,
        }
        with self.store.write() as conn:
            conn.execute(insert(SC).values(row))
        return self.get(row["schedule_id"])

    def get(self, schedule_id: str) -> Schedule:
        """One schedule of the tenant. Raises: NotFound (another tenant's too)."""
        key = _uuid(schedule_id)
        row = None
        if key is not None:
            with self.store.read() as conn:
                row = (
                    conn.execute(
                        select(SC).where(SC.c.schedule_id == key, SC.c.tenant_id == self.tenant_id)
                    )
                    .mappings()
                    .first()
                )
        if row is None:
            raise errors.NotFound("schedule", schedule_id)
        return schedule_from(row)

    def list(self, job_id: str | None, page: int, limit: int) -> Page[Schedule]:
        """The tenant's schedules (of one job, if given), oldest first, paged."""
        where = [SC.c.tenant_id == self.tenant_id]
        if job_id is not None:
            where.append(SC.c.job_id == job_id)
        with self.store.read() as conn:
            total = conn.execute(select(func.count()).select_from(SC).where(*where)).scalar_one()
            rows = conn.execute(
                select(SC)
                .where(*where)
                .order_by(SC.c.created_at_ms, SC.c.schedule_id)
                .offset((page - 1) * limit)
                .limit(limit)
            ).mappings()
            items = [schedule_from(r) for r in rows]
        return Page(items, total, page, limit)

    def set_paused(self, schedule_id: str, paused: bool, next_fire_ms: int | None) -> Schedule:
        """Pause (no cursor) or resume (from ``next_fire_ms``). Raises: NotFound."""
        current = self.get(schedule_id)
        with self.store.write() as conn:
            conn.execute(
                update(SC)
                .where(SC.c.schedule_id == current.schedule_id, SC.c.tenant_id == self.tenant_id)
                .values(paused=paused, next_fire_ms=next_fire_ms, updated_at_ms=now_ms())
            )
        return self.get(schedule_id)

    def delete(self, schedule_id: str) -> None:
        """Delete a schedule and its firings in one transaction. Raises: NotFound."""
        current = self.get(schedule_id)
        with self.store.write() as conn:
            conn.execute(delete(SF).where(SF.c.schedule_id == current.schedule_id))
            conn.execute(
                delete(SC).where(
                    SC.c.schedule_id == current.schedule_id, SC.c.tenant_id == self.tenant_id
                )
            )

    def firings(self, schedule_id: str, page: int, limit: int) -> Page[Firing]:
        """A schedule's firings, newest tick first, paged. Raises: NotFound."""
        current = self.get(schedule_id)
        where = (SF.c.schedule_id == current.schedule_id, SF.c.tenant_id == self.tenant_id)
        with self.store.read() as conn:
            total = conn.execute(select(func.count()).select_from(SF).where(*where)).scalar_one()
            rows = conn.execute(
                select(SF)
                .where(*where)
                .order_by(SF.c.fire_ms.desc())
                .offset((page - 1) * limit)
                .limit(limit)
            ).mappings()
            items = [firing_from(r) for r in rows]
        return Page(items, total, page, limit)


class FiringClaims:
    """The schedules due across tenants, and the claims and outcomes of their ticks."""

    def __init__(self, store: Store, holder: str) -> None:
        self.store = store
        self.holder = holder

    def due(self, at_ms: int, limit: int) -> builtins.list[tuple[str, Schedule]]:
        """Up to ``limit`` unpaused schedules whose next tick is at or before ``at_ms``."""
        with self.store.read() as conn:
            rows = conn.execute(
                select(SC)
                .where(SC.c.next_fire_ms <= at_ms, SC.c.paused.is_(False))
                .order_by(SC.c.next_fire_ms)
                .limit(limit)
            ).mappings()
            return [(str(r["tenant_id"]), schedule_from(r)) for r in rows]

    def claim(
        self,
        tenant_id: str,
        schedule: Schedule,
        fire_ms: int,
        outcome: Outcome,
        skipped: int,
    ) -> bool:
        """Record the tick ``fire_ms`` as handled by this process; False if it is not ours.

        Not ours: another process has its row already, or the schedule was paused,
        deleted or moved on since ``schedule`` was read (its cursor is checked under a
        row lock, in the transaction of the insert).
        """
        with self.store.write() as conn:
            current = conn.execute(
                select(SC.c.next_fire_ms)
                .where(SC.c.schedule_id == schedule.schedule_id, SC.c.paused.is_(False))
                .with_for_update()
            ).first()
            if current is None or current[0] != schedule.next_fire_ms:
                return False
            landed = conn.execute(
                self.store.dialect.insert_ignoring_conflicts(SF)
                .values(
                    schedule_id=schedule.schedule_id,
                    fire_ms=fire_ms,
                    tenant_id=tenant_id,
                    fired_at_ms=now_ms(),
                    outcome=str(outcome),
                    skipped=skipped,
                    run_count=None,
                    error=None,
                    holder=self.holder,
                )
                .returning(SF.c.fire_ms)
            ).first()
        return landed is not None

    def settle(
        self,
        schedule_id: str,
        fire_ms: int,
        outcome: Outcome,
        run_count: int | None = None,
        error: str | None = None,
    ) -> None:
        """Record what the firing of a claimed tick did."""
        with self.store.write() as conn:
            conn.execute(
                update(SF)
                .where(SF.c.schedule_id == schedule_id, SF.c.fire_ms == fire_ms)
                .values(outcome=str(outcome), run_count=run_count, error=error)
            )

    def advance(self, schedule: Schedule, next_fire_ms: int, stale_before_ms: int) -> bool:
        """Move the schedule's cursor on, if no one moved it since it was read.

        In the same transaction: firings claimed before ``stale_before_ms`` and never
        settled (their process died mid-firing) are marked failed, saying so; and firings
        past the newest ``SCHEDULE_FIRINGS_KEPT`` are forgotten. Forgetting them cannot
        let a tick fire twice: ticks behind the cursor are never claimed again.
        """
        key = schedule.schedule_id
        with self.store.write() as conn:
            moved = conn.execute(
                update(SC)
                .where(
                    SC.c.schedule_id == key,
                    SC.c.next_fire_ms == schedule.next_fire_ms,
                    SC.c.paused.is_(False),
                )
                .values(next_fire_ms=next_fire_ms)
                .returning(SC.c.schedule_id)
            ).first()
            conn.execute(
                update(SF)
                .where(
                    SF.c.schedule_id == key,
                    SF.c.outcome == str(Outcome.FIRING),
                    SF.c.fired_at_ms < stale_before_ms,
                )
                .values(outcome=str(Outcome.FAILED), error=ABANDONED)
            )
            oldest_kept = (
                select(SF.c.fire_ms)
                .where(SF.c.schedule_id == key)
                .order_by(SF.c.fire_ms.desc())
                .offset(defaults.SCHEDULE_FIRINGS_KEPT - 1)
                .limit(1)
                .scalar_subquery()
            )
            conn.execute(delete(SF).where(SF.c.schedule_id == key, SF.c.fire_ms < oldest_kept))
        return moved is not None

    def pause(self, schedule_id: str) -> None:
        """Pause a schedule that cannot fire any more (its job is gone)."""
        with self.store.write() as conn:
            conn.execute(
                update(SC)
                .where(SC.c.schedule_id == schedule_id)
                .values(paused=True, next_fire_ms=None, updated_at_ms=now_ms())
            )
