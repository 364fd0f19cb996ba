"""The ticker: fires due schedule ticks, exactly once across every process sharing a store.

It runs as a chore of the elected maintenance (``MaintenanceRepository.chores``), so one
process at a time fires ticks, and a lease, not one process's timer, says which. A tick
fires only after its ``(schedule_id, fire_ms)`` row was inserted by this process: should
two processes ever both believe they hold the role (one frozen past its lease and woken
up), one insert lands and the other process skips the tick.

A round, per due schedule (cursor ``next_fire_ms``, the first tick not yet handled): the
ticks from the cursor to now are due; a tick handled more than ``SCHEDULE_GRACE_SEC`` late
counts as missed, and the schedule's misfire policy says what the missed ones do:

- ``ignore``: a tick on time fires; the missed ones are recorded as one ``missed`` firing;
- ``run_once``: the due ticks fire once, as the latest of them;
- ``run_all``: every due tick fires, oldest first (at most ``SCHEDULE_CATCH_UP`` a round).

Then the cursor moves past the ticks handled. A firing whose action is refused (start of
a job with an active run, stop of a job without one) is recorded ``failed``, with why; a
schedule whose job was deleted is paused.

Exactly once, precisely: a tick is claimed before its action runs, so no tick fires twice;
a process that dies between the claim and the action's end leaves the tick fired at most
once, and its firing is marked failed (``ABANDONED``) by a later round.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice

from headrace import defaults, errors
from headrace.model import cron
from headrace.model.clock import now_ms
from headrace.model.schedules import Action, Misfire, Outcome, Schedule
from headrace.scheduler.registry import Registry
from headrace.scheduler.worker import Worker
from headrace.store.database import Store
from headrace.store.schedules import FiringClaims

log = logging.getLogger("headrace.schedules")


@dataclass(frozen=True, slots=True)
class Planned:
    """One tick a round handles: fire it, or record it as missed."""

    fire_ms: int
    fire: bool
    skipped: int


def plan(schedule: Schedule, at_ms: int, grace_ms: int) -> tuple[list[Planned], int]:
    """What a round at ``at_ms`` does with a due schedule, and its next cursor.

    A pure function of the schedule, the time and the grace: the policy in one place.
    """
    parsed = cron.Cron(schedule.cron, schedule.timezone)
    cursor = schedule.next_fire_ms
    assert cursor is not None
    if schedule.misfire is Misfire.RUN_ALL:
        due = [cursor]
        for tick in islice(parsed.ticks_after(cursor), defaults.SCHEDULE_CATCH_UP - 1):
            if tick > at_ms:
                break
            due.append(tick)
        return [Planned(t, True, 0) for t in due], parsed.next_after(due[-1])
    latest = max(cursor, parsed.latest_at(at_ms))
    count = 1
    for tick in islice(parsed.ticks_after(cursor), defaults.SCHEDULE_CATCH_UP * 10):
        if tick > latest:
            break
        count += 1
    following = parsed.next_after(latest)
    if schedule.misfire is Misfire.RUN_ONCE:
        return [Planned(latest, True, count - 1)], following
    if at_ms - latest > grace_ms:
        return [Planned(latest, False, count)], following
    missed = count - 1
    before = [Planned(parsed.latest_at(latest - 1), False, missed)] if missed else []
    return [*before, Planned(latest, True, 0)], following


class Ticker:
    """Fires the due ticks of every tenant's schedules (a maintenance chore)."""

    def __init__(
        self,
        store: Store,
        registry: Registry,
        holder: str,
        *,
        origin: str | None = None,
        wake: Callable[[], None] = lambda: None,
        grace_sec: float = defaults.SCHEDULE_GRACE_SEC,
    ) -> None:
        self.store = store
        self.registry = registry
        self.claims = FiringClaims(store, holder)
        #: The origin of the runs it starts: an embedded client's worker takes only its own.
        self.origin = origin
        self.wake = wake
        self.grace_ms = int(grace_sec * 1000)

    def __call__(self) -> int:
        """One round now (the maintenance chore's signature).

        It raises nothing but a ``StoreError``, which the keeper logs: a bug here must not
        stop the keeper thread, and with it the worker's heartbeats.
        """
        try:
            return self.tick()
        except errors.StoreError:
            raise
        except Exception:
            log.exception("schedule ticks: round failed")
            return 0

    def tick(self, at_ms: int | None = None) -> int:
        """Handle every due schedule as of ``at_ms`` (default now); how many actions ran."""
        at = now_ms() if at_ms is None else at_ms
        fired = 0
        for tenant_id, schedule in self.claims.due(at, defaults.SCHEDULE_BATCH):
            try:
                fired += self._handle(tenant_id, schedule, at)
            except errors.StoreError as exc:
                log.warning("schedule %s: %s", schedule.schedule_id, exc)
            except Exception:  # one bad schedule must not stop the maintenance thread
                log.exception("schedule %s: round failed", schedule.schedule_id)
        return fired

    def _handle(self, tenant_id: str, schedule: Schedule, at: int) -> int:
        planned, following = plan(schedule, at, self.grace_ms)
        fired = 0
        for p in planned:
            outcome = Outcome.FIRING if p.fire else Outcome.MISSED
            if not self.claims.claim(tenant_id, schedule, p.fire_ms, outcome, p.skipped):
                continue
            if p.fire:
                self._fire(tenant_id, schedule, p.fire_ms)
                fired += 1
        self.claims.advance(schedule, following, at - self.grace_ms)
        return fired

    def _fire(self, tenant_id: str, schedule: Schedule, fire_ms: int) -> None:
        # Imported at the first tick this process fires: the job service brings the
        # engine (pipeline jobs' offsets), which a worker process need not import to start.
        from headrace.service.jobs import JobService, Scope

        jobs = JobService(
            self.store,
            self.registry,
            Scope(tenant_id, schedule.user_id),
            self.wake,
            self.origin,
        )
        run_count: int | None = None
        try:
            if schedule.action is Action.START:
                run_count = jobs.start(schedule.job_id).run_count
            elif schedule.action is Action.STOP:
                run_count = jobs.stop(schedule.job_id).run_count
            else:
                run_count = jobs.upgrade([schedule.job_id])[0].run_count
        except errors.StoreError:
            raise
        except errors.NotFound as exc:
            error = str(exc)
            if exc.kind == "job":  # deleted: the schedule can never fire again
                self.claims.pause(schedule.schedule_id)
                error = f"{error}: the schedule is paused"
            self.claims.settle(schedule.schedule_id, fire_ms, Outcome.FAILED, None, error)
            return
        except errors.HeadraceError as exc:
            self.claims.settle(schedule.schedule_id, fire_ms, Outcome.FAILED, None, str(exc))
            log.info(
                "schedule %s: the tick at %d ms failed: %s", schedule.schedule_id, fire_ms, exc
            )
            return
        except Exception as exc:  # a bug must not stop the other schedules' ticks
            log.exception("schedule %s: firing %s failed", schedule.schedule_id, fire_ms)
            error = f"{type(exc).__name__}: {exc}"
            self.claims.settle(schedule.schedule_id, fire_ms, Outcome.FAILED, None, error)
            return
        self.claims.settle(schedule.schedule_id, fire_ms, Outcome.FIRED, run_count)
        log.info(
            "schedule %s: %s of job %s for the tick at %d ms (run %s)",
            schedule.schedule_id,
            schedule.action,
            schedule.job_id,
            fire_ms,
            run_count,
        )


def attach(worker: Worker, origin: str | None = None) -> Ticker:
    """Make a worker's elected maintenance fire schedule ticks too (runs of ``origin``)."""
    maintenance = worker.attempts.maintenance
    ticker = Ticker(
        worker.store, worker.registry, maintenance.holder, origin=origin, wake=worker.wake
    )
    maintenance.chores.append(ticker)
    return ticker
