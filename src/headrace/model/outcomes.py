"""What becomes of an attempt that ends, stops or loses its lease: tables beside the machine.

The status machine (``status.py``) says which changes are legal; these tables say which
one each ending takes, so the worker and the reaper only look them up.
"""

from __future__ import annotations

from headrace import defaults
from headrace.model.status import Status

S = Status

#: An attempt stopped at a request, by the stop's reason: its status path and the reason
#: its event gives. ``restart`` and a worker's own stop (``HANDED_BACK``) also put the job
#: back to waiting, so the worker adds the values that do so.
STOPPED: dict[str, tuple[tuple[Status, ...], str]] = {
    "cancel": ((S.CANCELING, S.CANCELED), "canceled on request"),
    "suspend": ((S.SUSPENDING, S.SUSPENDED), "suspended on request"),
    "self-suspend": ((S.RUNNING, S.SUSPENDING, S.SUSPENDED), "suspended on failure"),
    "restart": ((S.RUNNING, S.WAITING), "restarted on request"),
    "busy": ((S.RUNNING, S.WAITING), "handed back: its worker's slots stayed busy"),
}
#: Any other stop: the worker is stopping and hands the job back, no attempt counted.
HANDED_BACK: tuple[tuple[Status, ...], str] = (
    (S.RUNNING, S.WAITING),
    "handed back: worker stopping",
)

#: An attempt asked to stop while it waited in its worker for a slot (claimed, ``locked``,
#: never run: a worker's ``prefetch``), by the stop's reason: back to waiting, in its place
#: in the queue. A lost lease writes nothing (the job is no longer the worker's); a
#: cancel or suspend cannot reach it (they wait for ``running``, ``model.control``).
UNSTARTED: dict[str, tuple[tuple[Status, ...], str]] = {
    "restart": ((S.LOCKED, S.WAITING), "restarted on request before it started"),
    "busy": (
        (S.LOCKED, S.WAITING),
        "handed back before it started: its worker's slots stayed busy",
    ),
}
#: Any other stop of an attempt not started: its worker is stopping and hands it back.
UNSTARTED_HANDED_BACK: tuple[tuple[Status, ...], str] = (
    (S.LOCKED, S.WAITING),
    "handed back before it started: worker stopping",
)

#: Where a job goes when its worker's lease lapsed, by the status it was left in: a stop
#: already asked for ends as asked; an execution in progress goes back to waiting, in its
#: place in the queue (see ``after_lease_lost``).
LEASE_LAPSED: dict[Status, Status] = {
    S.CANCELING: S.CANCELED,
    S.SUSPENDING: S.SUSPENDED,
    S.LOCKED: S.WAITING,
    S.RUNNING: S.WAITING,
}


def after_lease_lost(
    current: Status, lease_losses: int, allowed: int = defaults.LEASE_LOSSES_ALLOWED
) -> Status:
    """The status a job held in ``current`` takes when its lease lapses.

    ``lease_losses`` counts the leases the run lost before this one: a job that keeps
    killing its workers fails once ``allowed`` are used, whatever its ``max_retries``
    (a lost lease is the worker's failure, not the job's, so it is not a retry).
    """
    target = LEASE_LAPSED[current]
    if target is S.WAITING and lease_losses >= allowed:
        return S.FAILED
    return target


def after_failure(retries: int, max_retries: int) -> tuple[Status, ...]:
    """The status path of an attempt whose execution raised: retry while allowed, else fail."""
    return (S.RUNNING, S.RETRYING) if retries < max_retries else (S.RUNNING, S.FAILED)
