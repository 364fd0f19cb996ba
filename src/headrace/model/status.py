"""The canonical status machine (ARCHITECTURE §2): one table, every change checked."""

from __future__ import annotations

from enum import StrEnum

from headrace import errors


class Status(StrEnum):
    """A job's canonical status, as HyperSpot (seed 004) names it."""

    #: A control-plane job defined but never started (run_count 0): ``start`` makes run 1.
    CREATED = "created"
    INITIALIZING = "initializing"
    WAITING = "waiting"
    LOCKED = "locked"
    RUNNING = "running"
    RETRYING = "retrying"
    CANCELING = "canceling"
    SUSPENDING = "suspending"
    SUSPENDED = "suspended"
    RESUMING = "resuming"
    SKIPPED = "skipped"
    CANCELED = "canceled"
    FAILED = "failed"
    TIMEOUT = "timeout"
    COMPLETED = "completed"


class StatusKind(StrEnum):
    """The four kinds seed 004 sorts statuses into."""

    INITIAL = "initial"
    RUNNING = "running"
    INTERMEDIATE = "intermediate"
    FINAL = "final"


S = Status
K = StatusKind

#: Where a final status may go: only a new run, queued (``start``).
NEW_RUN: frozenset[Status] = frozenset({S.WAITING})

#: status -> (kind, the statuses it may change to). The only definition of the machine.
#: One edge beyond ARCHITECTURE §2: ``locked -> failed``, so the reaper can end a job whose
#: lease expired once its attempts are used up without pretending it started.
#: ``created`` (a control-plane job never started) and every final status go to
#: ``waiting`` only: that edge is ``start``, which opens a new run (run_count + 1).
TRANSITIONS: dict[Status, tuple[StatusKind, frozenset[Status]]] = {
    S.CREATED: (K.INTERMEDIATE, frozenset({S.WAITING})),
    S.INITIALIZING: (K.INITIAL, frozenset({S.WAITING, S.SKIPPED, S.CANCELED, S.FAILED})),
    S.WAITING: (K.INITIAL, frozenset({S.LOCKED, S.CANCELED, S.SUSPENDED, S.SKIPPED})),
    S.LOCKED: (K.RUNNING, frozenset({S.RUNNING, S.WAITING, S.CANCELED, S.FAILED})),
    S.RUNNING: (
        K.RUNNING,
        frozenset(
            {
                S.COMPLETED,
                S.FAILED,
                S.TIMEOUT,
                S.CANCELING,
                S.SUSPENDING,
                S.RETRYING,
                S.WAITING,
            }
        ),
    ),
    S.RETRYING: (K.RUNNING, frozenset({S.WAITING, S.CANCELED})),
    S.CANCELING: (K.RUNNING, frozenset({S.CANCELED})),
    S.SUSPENDING: (K.RUNNING, frozenset({S.SUSPENDED})),
    S.SUSPENDED: (K.INTERMEDIATE, frozenset({S.RESUMING, S.CANCELED})),
    S.RESUMING: (K.INITIAL, frozenset({S.WAITING})),
    S.SKIPPED: (K.FINAL, NEW_RUN),
    S.CANCELED: (K.FINAL, NEW_RUN),
    S.FAILED: (K.FINAL, NEW_RUN),
    S.TIMEOUT: (K.FINAL, NEW_RUN),
    S.COMPLETED: (K.FINAL, NEW_RUN),
}

FINAL: frozenset[Status] = frozenset(s for s, (k, _) in TRANSITIONS.items() if k is K.FINAL)
#: Statuses a job may be started from (a new run): never started, or ended.
STARTABLE: frozenset[Status] = FINAL | {S.CREATED}
#: Statuses in which a job does not hold its name (``ux_jobs_active_name``): never
#: started, or ended.
NAME_FREE: frozenset[Status] = STARTABLE
#: Statuses in which a worker holds the job (its lease must be live).
HELD: frozenset[Status] = frozenset({S.LOCKED, S.RUNNING, S.CANCELING, S.SUSPENDING})


#: Ended statuses from which a user may start a new run of the job (``headrace jobs
#: retry``, RQ's and Celery's requeue): the run failed or timed out. The new run goes
#: ``failed|timeout -> waiting`` as one recorded event, with ``run_count`` one higher and
#: a fresh retry budget; ``attempt`` keeps counting (it fences workers' writes). A
#: completed, canceled or skipped job stays ended: the user meant it to.
RERUNNABLE: frozenset[Status] = frozenset({S.FAILED, S.TIMEOUT})


def check_rerun(job_id: str, current: Status) -> None:
    """Raise ``IllegalTransition`` unless a new run may start from ``current``.

    Raises:
        IllegalTransition: naming the job and its status; only failed or timed-out
        jobs get a new run.
    """
    if current not in RERUNNABLE:
        names = " or ".join(sorted(s.value for s in RERUNNABLE))
        raise errors.IllegalTransition(
            job_id, current, S.WAITING, f"only a {names} job gets a new run"
        )


def kind(status: Status) -> StatusKind:
    """The kind of a status."""
    return TRANSITIONS[status][0]


def allowed(current: Status, requested: Status) -> bool:
    """Whether the machine allows ``current -> requested``."""
    return requested in TRANSITIONS[current][1]


def sources(requested: Status) -> frozenset[Status]:
    """Every status from which ``requested`` may be reached (for guarded UPDATEs)."""
    return frozenset(s for s, (_, nxt) in TRANSITIONS.items() if requested in nxt)


def check(job_id: str, current: Status, requested: Status, reason: str = "") -> None:
    """Raise ``IllegalTransition`` unless ``current -> requested`` is allowed.

    Raises:
        IllegalTransition: naming the job, the current and the requested status.
    """
    if not allowed(current, requested):
        raise errors.IllegalTransition(job_id, current, requested, reason)


def parse(value: str, field: str = "status") -> Status:
    """A status from its name.

    Raises:
        InvalidInput: naming ``field`` and the statuses that exist.
    """
    try:
        return Status(value.strip().lower())
    except ValueError:
        names = ", ".join(s.value for s in Status)
        msg = f"unknown status {value!r}; expected one of {names}"
        raise errors.InvalidInput(field, msg) from None
