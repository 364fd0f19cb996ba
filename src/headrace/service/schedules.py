"""Schedules of a tenant's jobs: create, list, get, pause, resume, delete, past firings.

A schedule belongs to a job and does one action (start, stop, upgrade) at each tick of a
cron expression in an IANA time zone. The ticks are fired by ``service.ticker`` in the
elected maintenance process; this service only defines and reads schedules.
"""

from __future__ import annotations

from collections.abc import Callable

from headrace import errors
from headrace.model import cron as crontab
from headrace.model import text
from headrace.model.clock import now_ms
from headrace.model.job import Page
from headrace.model.schedules import Action, Firing, Misfire, Schedule
from headrace.service import catalog
from headrace.service.jobs import JobService, Scope
from headrace.store.database import Store
from headrace.store.schedules import ScheduleRepository

#: Longest description of a schedule.
MAX_DESCRIPTION = 4096


def _choice(field: str, value: object, kind: type[Action] | type[Misfire]) -> str:
    names = [str(m) for m in kind]
    if not isinstance(value, str) or value not in names:
        raise errors.InvalidInput(field, f"must be one of {', '.join(names)}, got {value!r}")
    return value


def _id(schedule_id: str) -> str:
    """A schedule's id as the REST path states it. Raises: InvalidInput (``schedule_id``)."""
    return text.check_id("schedule_id", schedule_id)


class ScheduleService:
    """One tenant's schedules (``client.schedules``)."""

    def __init__(
        self,
        store: Store,
        jobs: JobService,
        scope: Scope,
        on_created: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.jobs = jobs
        self.scope = scope
        self.repo = ScheduleRepository(store, scope.tenant_id)
        #: Called once a schedule exists (the embedded client starts its worker, whose
        #: maintenance fires the ticks).
        self._on_created = on_created

    def create(
        self,
        job_id: str,
        cron: str,
        *,
        timezone: str = "UTC",
        action: str = "start",
        misfire: str = "ignore",
        description: str = "",
        paused: bool = False,
    ) -> Schedule:
        """Schedule ``action`` on the job at each tick of ``cron`` in ``timezone``.

        ``cron`` has the standard 5 fields (minute hour day-of-month month
        day-of-week), or 6 with a leading seconds field. ``misfire`` says what ticks missed
        while no scheduler ran do: ``ignore``, ``run_once`` or ``run_all``.

        Raises:
            InvalidInput: naming ``cron`` (and its bad field), ``timezone``, ``action``,
            ``misfire`` or ``description``; nothing is stored. NotFound: no such job.
        """
        job = self.jobs.get(job_id)  # the job first: a missing one is 404, whatever the body
        parsed = crontab.parse(cron, timezone)
        chosen = Action(_choice("action", action, Action))
        policy = Misfire(_choice("misfire", misfire, Misfire))
        text.check_text("description", description, MAX_DESCRIPTION)
        if chosen is Action.UPGRADE and job.pipeline_name is None:
            msg = f"job {job.job_id} runs no published pipeline, so it cannot be upgraded"
            raise errors.InvalidInput("action", msg)
        found = self.repo.create(
            {
                "job_id": job.job_id,
                "cron": parsed.expression,
                "timezone": parsed.timezone,
                "action": str(chosen),
                "misfire": str(policy),
                "paused": bool(paused),
                "next_fire_ms": None if paused else parsed.next_after(now_ms()),
                "description": description,
                "user_id": self.scope.user_id,
            }
        )
        self._on_created()
        return found

    def list(self, job_id: str | None = None, *, page: int = 1, limit: int = 50) -> Page[Schedule]:
        """The tenant's schedules (of one job, if given), oldest first, paged.

        Raises:
            InvalidInput: naming ``page`` or ``limit``. NotFound: no such job.
        """
        catalog.check_page(page, limit)
        if job_id is not None:
            job_id = self.jobs.get(job_id).job_id
        return self.repo.list(job_id, page, limit)

    def get(self, schedule_id: str) -> Schedule:
        """One schedule.

        Raises:
            NotFound: no such schedule (another tenant's too). InvalidInput: not a UUID.
        """
        return self.repo.get(_id(schedule_id))

    def pause(self, schedule_id: str) -> Schedule:
        """Stop firing; ticks while paused are not missed, they are not wanted. Raises: NotFound."""
        return self.repo.set_paused(_id(schedule_id), True, None)

    def resume(self, schedule_id: str) -> Schedule:
        """Fire again from the next tick after now. Raises: NotFound."""
        current = self.repo.get(_id(schedule_id))
        if not current.paused:
            return current
        following = crontab.parse(current.cron, current.timezone).next_after(now_ms())
        resumed = self.repo.set_paused(current.schedule_id, False, following)
        self._on_created()
        return resumed

    def delete(self, schedule_id: str) -> None:
        """Delete the schedule and its firings. Raises: NotFound."""
        self.repo.delete(_id(schedule_id))

    def firings(self, schedule_id: str, *, page: int = 1, limit: int = 50) -> Page[Firing]:
        """The schedule's firings, newest tick first, paged.

        Raises:
            NotFound: no such schedule. InvalidInput: naming ``page`` or ``limit``.
        """
        catalog.check_page(page, limit)
        return self.repo.firings(_id(schedule_id), page, limit)
