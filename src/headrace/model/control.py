"""What a user's control call does in each status: act, wait for a change to land, or refuse.

Seeds 000 and 001 call ``job.suspend()`` and at once ``job.resume()`` (or ``cancel()``,
``restart()``). ``suspend()`` returns while the job is ``suspending``: its worker still
has to take the snapshot. A call that arrives while the job is on its way to a status
waits for it to get there (at most ``defaults.CONTROL_WAIT_SEC``) and is then decided
on the status it landed in, so the sequence the user asked for completes: ``resume()``
after ``suspend()`` resumes once the suspension lands, ``cancel()`` on a suspending job
cancels it once suspended, ``restart()`` on it resumes it from the snapshot just taken
(while ``restart()`` on a job already suspended is refused, as in Jet: ``resume()`` it).
``restart()`` on a job that has ended starts a new run of it (the control plane's
``start``): seed 000 prints ``cancel()`` and then ``restart()`` and ``export_snapshot()``
as one block, and a Headrace job is a definition with runs, so starting it again is what
the user asks for. Jet itself refuses this (a canceled Jet job is gone); Headrace keeps
the job, so it can honour the call. A call that is illegal where the job is
(``resume()`` on a completed job) is refused and changes nothing. The table is the
whole policy; the Jet facade (``jet/job.py``) carries it out through the client's
calls, so embedded and remote alike. Seed 004's REST calls
stay strict: each is decided on the status the job has when it arrives.
"""

from __future__ import annotations

from enum import StrEnum

from headrace.model.status import FINAL, Status

S = Status


class Request(StrEnum):
    """A user's control call on a job."""

    SUSPEND = "suspend"
    RESUME = "resume"
    CANCEL = "cancel"
    RESTART = "restart"


class Action(StrEnum):
    """What a control call does in a status."""

    #: Change the job now (the service picks the status path).
    APPLY = "apply"
    #: The job is on its way to another status: decide again once it lands there.
    WAIT = "wait"
    #: Nothing to do: the job is already (or about to be) what the call asks.
    DONE = "done"
    #: The job has ended: start a new run of it (``run_count + 1``, from its start).
    START = "start"
    #: Illegal in this status: raise ``IllegalTransition`` and change nothing.
    REFUSE = "refuse"


A = Action

#: request -> status -> action; a status not named refuses the request.
POLICY: dict[Request, dict[Status, Action]] = {
    Request.SUSPEND: {
        S.WAITING: A.APPLY,  # -> suspended
        S.RUNNING: A.APPLY,  # -> suspending (suspendable types only)
        S.LOCKED: A.APPLY,  # claimed, not started: -> waiting -> suspended
        S.RESUMING: A.WAIT,
        S.SUSPENDING: A.DONE,
    },
    Request.RESUME: {
        S.SUSPENDED: A.APPLY,  # -> resuming -> waiting
        S.SUSPENDING: A.WAIT,
    },
    Request.CANCEL: {
        S.INITIALIZING: A.APPLY,  # -> canceled
        S.WAITING: A.APPLY,
        S.LOCKED: A.APPLY,
        S.RETRYING: A.APPLY,
        S.SUSPENDED: A.APPLY,
        S.RUNNING: A.APPLY,  # -> canceling: its worker stops it
        S.SUSPENDING: A.WAIT,  # the machine has no suspending -> canceled
        S.RESUMING: A.WAIT,
        S.CANCELING: A.DONE,
    },
    Request.RESTART: {
        S.RUNNING: A.APPLY,  # its worker stops it and it starts from its last snapshot
        S.LOCKED: A.APPLY,
        # Once suspended it is resumed from the snapshot just taken (the sequence
        # suspend-restart completes); a job already suspended is resumed with ``resume``.
        S.SUSPENDING: A.WAIT,
        # Not started yet: it will start from its last snapshot anyway.
        S.WAITING: A.DONE,
        S.RESUMING: A.DONE,
        # ``cancel()`` returns while its worker stops the job: restart it once canceled.
        S.CANCELING: A.WAIT,
        # Ended: a new run (the control plane's ``start``).
        **dict.fromkeys(FINAL, A.START),
    },
}


def decide(request: Request, status: Status) -> Action:
    """What ``request`` does to a job in ``status``."""
    return POLICY[request].get(status, Action.REFUSE)
