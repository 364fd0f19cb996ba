"""Wire models of schedules: what creating one takes; schedules and firings."""

from __future__ import annotations

from typing import Annotated, Literal

import pydantic

from headrace.model.schedules import Firing, Schedule

FORBID = pydantic.ConfigDict(extra="forbid")


class ScheduleIn(pydantic.BaseModel):
    """``POST /jobs/{job_id}/schedules``: a cron schedule of the job."""

    model_config = FORBID
    cron: Annotated[
        str,
        pydantic.Field(
            min_length=1,
            max_length=255,
            description="5 fields (minute hour day-of-month month day-of-week), "
            "or 6 with a leading seconds field",
        ),
    ]
    timezone: Annotated[str, pydantic.Field(min_length=1, max_length=64)] = "UTC"
    action: Literal["start", "stop", "upgrade"] = "start"
    misfire: Literal["ignore", "run_once", "run_all"] = "ignore"
    description: Annotated[str, pydantic.Field(max_length=4096)] = ""
    paused: bool = False


class ScheduleOut(pydantic.RootModel[Schedule]):
    """A schedule: its cron, zone, action, misfire policy, whether paused, its next tick."""


class FiringOut(pydantic.RootModel[Firing]):
    """One handled tick of a schedule: when, by whom, what it did."""
