"""``client.schedules`` over HTTP: the same methods and errors as the embedded service."""

from __future__ import annotations

from typing import Any

from headrace.client.transport import Http, seg
from headrace.model.job import Page
from headrace.model.schedules import Action, Firing, Misfire, Outcome, Schedule


def schedule_from(data: dict[str, Any]) -> Schedule:
    """A ``Schedule`` from its JSON."""
    return Schedule(
        **{**data, "action": Action(data["action"]), "misfire": Misfire(data["misfire"])}
    )


def firing_from(data: dict[str, Any]) -> Firing:
    """A ``Firing`` from its JSON."""
    return Firing(**{**data, "outcome": Outcome(data["outcome"])})


class RemoteSchedules:
    """A tenant's schedules over HTTP."""

    def __init__(self, http: Http) -> None:
        self._http = http

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

        Raises:
            InvalidInput: naming the field; nothing is stored. NotFound: no such job.
        """
        body = {
            "cron": cron,
            "timezone": timezone,
            "action": action,
            "misfire": misfire,
            "description": description,
            "paused": paused,
        }
        path = f"/jobs/{seg(job_id)}/schedules"
        return schedule_from(self._http.created(path, body)[0])

    def list(self, job_id: str | None = None, *, page: int = 1, limit: int = 50) -> Page[Schedule]:
        """The tenant's schedules (of one job, if given), oldest first, paged.

        Raises:
            InvalidInput: naming ``page``, ``limit`` or ``job_id``.
        """
        query: dict[str, Any] = {"page": page, "limit": limit}
        path = "/schedules" if job_id is None else f"/jobs/{seg(job_id)}/schedules"
        data = self._http.call("GET", path, params=query)
        items = [schedule_from(s) for s in data["items"]]
        return Page(items=items, total=data["total"], page=data["page"], limit=data["limit"])

    def get(self, schedule_id: str) -> Schedule:
        """One schedule. Raises: NotFound."""
        return schedule_from(self._http.call("GET", f"/schedules/{seg(schedule_id)}"))

    def pause(self, schedule_id: str) -> Schedule:
        """Stop firing until resumed. Raises: NotFound."""
        return schedule_from(self._http.call("POST", f"/schedules/{seg(schedule_id)}/pause"))

    def resume(self, schedule_id: str) -> Schedule:
        """Fire again from the next tick after now. Raises: NotFound."""
        return schedule_from(self._http.call("POST", f"/schedules/{seg(schedule_id)}/resume"))

    def delete(self, schedule_id: str) -> None:
        """Delete the schedule and its firings. Raises: NotFound."""
        self._http.send("DELETE", f"/schedules/{seg(schedule_id)}")

    def firings(self, schedule_id: str, *, page: int = 1, limit: int = 50) -> Page[Firing]:
        """The schedule's firings, newest tick first, paged. Raises: NotFound, InvalidInput."""
        data = self._http.call(
            "GET",
            f"/schedules/{seg(schedule_id)}/firings",
            params={"page": page, "limit": limit},
        )
        items = [firing_from(f) for f in data["items"]]
        return Page(items=items, total=data["total"], page=data["page"], limit=data["limit"])
