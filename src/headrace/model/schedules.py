"""Schedules of jobs (StreamSets' scheduled tasks): what fires when, and what each firing did."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    """What a schedule does to its job at each tick."""

    START = "start"
    STOP = "stop"
    UPGRADE = "upgrade"


class Misfire(StrEnum):
    """What becomes of ticks that passed while no scheduler ran (or ran late).

    ``ignore``: missed ticks do nothing (one ``missed`` firing records how many);
    ``run_once``: the missed ticks fire once, as the latest of them; ``run_all``: every
    missed tick fires, oldest first.
    """

    IGNORE = "ignore"
    RUN_ONCE = "run_once"
    RUN_ALL = "run_all"


class Outcome(StrEnum):
    """What one firing did."""

    #: Claimed: its action is under way (or its process died before recording the result).
    FIRING = "firing"
    #: The action ran (``run_count`` names the run a start opened).
    FIRED = "fired"
    #: The action was refused (``error`` says why: e.g. a run was already active).
    FAILED = "failed"
    #: The tick passed unfired under the ``ignore`` policy.
    MISSED = "missed"


@dataclass(frozen=True, slots=True)
class Schedule:
    """A cron schedule of one job: ``cron`` in ``timezone``, doing ``action`` at each tick.

    ``next_fire_ms`` is the first tick not yet handled (None while paused).
    """

    schedule_id: str
    job_id: str
    cron: str
    timezone: str
    action: Action
    misfire: Misfire
    paused: bool
    next_fire_ms: int | None
    description: str
    user_id: str
    created_at_ms: int
    updated_at_ms: int


@dataclass(frozen=True, slots=True)
class Firing:
    """One handled tick of a schedule; ``(schedule_id, fire_ms)`` is unique in the store.

    ``skipped`` counts the earlier missed ticks this firing stands for (``run_once``
    fires once for all of them; ``ignore`` records them in one ``missed`` firing); an
    outage of more than ``10 * SCHEDULE_CATCH_UP`` ticks is counted as that many.
    ``holder`` is the maintenance process that fired it.
    """

    schedule_id: str
    fire_ms: int
    fired_at_ms: int
    outcome: Outcome
    skipped: int
    run_count: int | None
    error: str | None
    holder: str
