"""How many claimed jobs a worker's queue holds beyond its capacity: the prefetch policy.

A held job is ``locked`` in its worker, waiting for one of the queue's slots; it lets a
claim round carry more jobs than the slots free at once, so the slots need not wait for the
next round. A fixed number (``Worker(prefetch=8)``) is Celery's prefetch, with its cost: a
job held behind long ones waits in its worker while another worker idles.

``auto`` (the default) holds only what the queue's slots should start within
``HORIZON_SEC``, judged from how long its recent attempts ran, at most ``most_held``:
short jobs get large rounds, jobs that run a second or more get none. When no
slot of the queue has ended an attempt for ``STALL_SEC`` while jobs wait, the worker hands
those back to the queue (another worker may be idle) and holds none until slots end again.
"""

from __future__ import annotations

from typing import Final, Literal

from headrace import errors

AUTO: Final = "auto"
#: What a worker's ``prefetch`` may be: a fixed number of held jobs per queue, or ``auto``.
Setting = int | Literal["auto"]

#: ``auto``: a held job should start within about this long of its claim.
HORIZON_SEC: Final = 0.1
#: ``auto`` holds at most this many jobs per slot (Celery's default prefetch multiplier)...
MAX_PER_SLOT: Final = 4
#: ... or, at a small capacity, up to this many a queue (at most ``ROUND_PER_SLOT`` a
#: slot): what the slots need to stay busy through one claim round. A worker has one round
#: in flight, and its slots idle from when their held jobs run out until it returns: a
#: PostgreSQL round (one fenced statement and its commit) takes 3-5 ms at 40 jobs, where 8
#: slots run 40 no-op jobs in under 1 ms, so at 4 a slot (32 held) the slots idled most of
#: each round. Jobs are held ahead of a round at about the worker's rate times the round's
#: time, whatever the capacity: a count, not a multiple of the slots. The horizon still
#: bounds how long a held job waits.
ROUND_HELD: Final = 128
#: ``ROUND_HELD`` gives a slot at most this many held jobs (16 at capacity 1, not 128).
ROUND_PER_SLOT: Final = 16
#: ``auto``: held jobs go back to the queue when no slot ended an attempt for this long.
STALL_SEC: Final = 1.0
#: Weight of an attempt's run time in its queue's running mean.
MEAN_WEIGHT: Final = 0.2


def parse(value: object, name: str = "prefetch") -> Setting:
    """``value`` as a prefetch setting: an int >= 0 or ``"auto"``; else ``InvalidInput``."""
    if value == AUTO:
        return AUTO
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise errors.InvalidInput(name, f"must be 'auto' or an int >= 0, got {value!r}")


def most_held(capacity: int) -> int:
    """The most jobs ``auto`` lets a queue of ``capacity`` slots hold beyond them."""
    return max(MAX_PER_SLOT * capacity, min(ROUND_HELD, ROUND_PER_SLOT * capacity))


def budget(
    setting: Setting, capacity: int, mean_run_sec: float | None, since_end_sec: float | None
) -> int:
    """Jobs the queue may hold claimed beyond its ``capacity`` now.

    ``mean_run_sec`` is the running mean of its attempts' run times (None before any
    ended); ``since_end_sec`` how long ago one last ended, given only while every slot is
    taken: no end for that long means a held job waits at least that long per job ahead.
    """
    if setting != AUTO:
        return setting
    if mean_run_sec is None:
        return 0
    wait_per_job = mean_run_sec / capacity
    if since_end_sec is not None:
        wait_per_job = max(wait_per_job, since_end_sec)
    most = most_held(capacity)
    if most * wait_per_job <= HORIZON_SEC:  # not a division: the wait may be 0 or tiny
        return most
    return int(HORIZON_SEC / wait_per_job)


def stalled(setting: Setting, held: int, since_end_sec: float | None) -> bool:
    """Whether ``auto`` hands back the ``held`` jobs: no slot ended one for ``STALL_SEC``."""
    return setting == AUTO and held > 0 and since_end_sec is not None and since_end_sec >= STALL_SEC


def mean(previous: float | None, run_sec: float) -> float:
    """The running mean of a queue's run times after an attempt that ran ``run_sec``."""
    return run_sec if previous is None else previous + MEAN_WEIGHT * (run_sec - previous)


class Pacing:
    """What ``auto`` judges a worker's queues by: their run times and their last ends.

    Not locked: the worker calls it under its own lock, with each queue's ``busy`` count
    (attempts held, running or waiting for a slot).
    """

    def __init__(self, setting: Setting, capacities: dict[str, int]) -> None:
        self.setting = setting
        self.capacities = capacities
        self._mean_run: dict[str, float | None] = dict.fromkeys(capacities)
        #: When (monotonic seconds) an attempt of the queue last ended.
        self._last_end = dict.fromkeys(capacities, 0.0)
        #: When (monotonic seconds) the queue's worker last took claimed attempts in.
        self._last_claim = dict.fromkeys(capacities, 0.0)

    def ended(self, queue: str, run_sec: float, at: float) -> None:
        """An attempt of ``queue`` ended at ``at`` after running ``run_sec``."""
        self._mean_run[queue] = mean(self._mean_run[queue], run_sec)
        self._last_end[queue] = at

    def claimed(self, queue: str, at: float) -> None:
        """The worker took attempts of ``queue`` in at ``at`` (a claim round's)."""
        self._last_claim[queue] = at

    def held_at_most(self, queue: str, busy: int, now: float) -> int:
        """How many claimed jobs ``queue`` may hold beyond its slots now (``budget``)."""
        capacity = self.capacities[queue]
        since_end = now - self._last_end[queue] if busy >= capacity else None
        return budget(self.setting, capacity, self._mean_run[queue], since_end)

    def stalled(self, queue: str, busy: int, now: float) -> bool:
        """Whether ``queue`` hands back the jobs it holds (``stalled``).

        No end for ``STALL_SEC`` counts from the queue's last claim too: held jobs that
        just came have not been waited on. Counted from the last end alone, a claim round
        that took over ``STALL_SEC`` (a slow or lossy network, the slots idle meanwhile
        for want of jobs) found the queue "stalled" as its jobs arrived, and handed back
        the very jobs it had just claimed, to be claimed again with one more attempt.
        """
        held = busy - self.capacities[queue]
        since = now - max(self._last_end[queue], self._last_claim[queue])
        return stalled(self.setting, held, since)
