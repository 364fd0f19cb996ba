"""How each facade names the canonical statuses: one total table per facade."""

from __future__ import annotations

from enum import StrEnum

from headrace.model.status import Status

S = Status


class JetJobStatus(StrEnum):
    """Hazelcast Jet's ``JobStatus`` (seed 000)."""

    NOT_RUNNING = "NOT_RUNNING"
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    SUSPENDED = "SUSPENDED"
    SUSPENDED_EXPORTING_SNAPSHOT = "SUSPENDED_EXPORTING_SNAPSHOT"
    COMPLETING = "COMPLETING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


J = JetJobStatus

#: canonical -> Jet (ARCHITECTURE §2). ``suspending`` shows SUSPENDED_EXPORTING_SNAPSHOT:
#: a suspending pipeline job is taking the snapshot it will resume from.
JET: dict[Status, JetJobStatus] = {
    S.CREATED: J.NOT_RUNNING,
    S.INITIALIZING: J.NOT_RUNNING,
    S.WAITING: J.NOT_RUNNING,
    S.LOCKED: J.STARTING,
    S.RUNNING: J.RUNNING,
    S.RETRYING: J.RUNNING,
    S.CANCELING: J.COMPLETING,
    S.SUSPENDING: J.SUSPENDED_EXPORTING_SNAPSHOT,
    S.SUSPENDED: J.SUSPENDED,
    S.RESUMING: J.STARTING,
    S.COMPLETED: J.COMPLETED,
    S.SKIPPED: J.COMPLETED,
    S.CANCELED: J.FAILED,
    S.FAILED: J.FAILED,
    S.TIMEOUT: J.FAILED,
}


class ControlHubStatus(StrEnum):
    """StreamSets Control Hub's job status (seed 002)."""

    INACTIVE = "INACTIVE"
    ACTIVATING = "ACTIVATING"
    ACTIVATION_ERROR = "ACTIVATION_ERROR"
    ACTIVE = "ACTIVE"
    DEACTIVATING = "DEACTIVATING"
    INACTIVE_ERROR = "INACTIVE_ERROR"


class ControlHubColor(StrEnum):
    """The colour Control Hub shows beside a job status: healthy or in error."""

    GREEN = "GREEN"
    RED = "RED"


C = ControlHubStatus
GREEN, RED = ControlHubColor.GREEN, ControlHubColor.RED

#: canonical -> (Control Hub status, colour) (ARCHITECTURE §2). Only an error ending is RED.
#: ``created`` (defined, never started) is Control Hub's new job: INACTIVE.
CONTROLHUB: dict[Status, tuple[ControlHubStatus, ControlHubColor]] = {
    S.CREATED: (C.INACTIVE, GREEN),
    S.INITIALIZING: (C.ACTIVATING, GREEN),
    S.WAITING: (C.ACTIVATING, GREEN),
    S.LOCKED: (C.ACTIVATING, GREEN),
    S.RUNNING: (C.ACTIVE, GREEN),
    S.RETRYING: (C.ACTIVE, GREEN),
    S.CANCELING: (C.DEACTIVATING, GREEN),
    S.SUSPENDING: (C.DEACTIVATING, GREEN),
    S.SUSPENDED: (C.INACTIVE, GREEN),
    S.RESUMING: (C.ACTIVATING, GREEN),
    S.COMPLETED: (C.INACTIVE, GREEN),
    S.SKIPPED: (C.INACTIVE, GREEN),
    S.CANCELED: (C.INACTIVE, GREEN),
    S.FAILED: (C.INACTIVE, RED),
    S.TIMEOUT: (C.INACTIVE, RED),
}

#: The error endings a job with ``require_job_error_acknowledgement`` keeps showing until
#: ``acknowledge_job_error``: ACTIVATION_ERROR when the failed run never started running
#: (it could not be activated), INACTIVE_ERROR when it failed after it ran.
CONTROLHUB_UNACKNOWLEDGED: dict[Status, tuple[ControlHubStatus, ControlHubStatus]] = {
    S.FAILED: (C.ACTIVATION_ERROR, C.INACTIVE_ERROR),
    S.TIMEOUT: (C.ACTIVATION_ERROR, C.INACTIVE_ERROR),
}


def controlhub_status(
    status: Status, *, unacknowledged: bool = False, ran: bool = True
) -> tuple[ControlHubStatus, ControlHubColor]:
    """The Control Hub image of a canonical status.

    ``unacknowledged``: the job requires its errors to be acknowledged and this one is
    not yet; ``ran``: the run reached ``running`` before it ended. Both matter only for
    the error endings (``CONTROLHUB_UNACKNOWLEDGED``).
    """
    shown, colour = CONTROLHUB[status]
    if unacknowledged and status in CONTROLHUB_UNACKNOWLEDGED:
        never_ran, after_running = CONTROLHUB_UNACKNOWLEDGED[status]
        return (after_running if ran else never_ran), colour
    return shown, colour


class JobRunState(StrEnum):
    """watsonx.data integration's ``JobRunState`` (seed 003), with the SDK's helpers."""

    Queued = "Queued"
    Starting = "Starting"
    Running = "Running"
    Paused = "Paused"
    Resuming = "Resuming"
    Canceling = "Canceling"
    Canceled = "Canceled"
    Failed = "Failed"
    Completed = "Completed"
    CompletedWithErrors = "CompletedWithErrors"
    CompletedWithWarnings = "CompletedWithWarnings"

    @classmethod
    def terminal_states(cls) -> frozenset[JobRunState]:
        """The states a run never leaves."""
        return frozenset(
            {
                cls.Canceled,
                cls.Failed,
                cls.Completed,
                cls.CompletedWithErrors,
                cls.CompletedWithWarnings,
            }
        )

    @classmethod
    def active_states(cls) -> frozenset[JobRunState]:
        """The states of a run that has not ended."""
        return frozenset(cls) - cls.terminal_states()

    @classmethod
    def success_states(cls) -> frozenset[JobRunState]:
        """The endings that count as success."""
        return frozenset({cls.Completed, cls.CompletedWithErrors, cls.CompletedWithWarnings})

    @classmethod
    def failure_states(cls) -> frozenset[JobRunState]:
        """The endings that count as failure."""
        return frozenset({cls.Canceled, cls.Failed})

    def is_terminal(self) -> bool:
        """Whether a run in this state has ended."""
        return self in self.terminal_states()


W = JobRunState

#: canonical -> watsonx (ARCHITECTURE §2). No run is ever ``created`` (a start makes a run
#: ``waiting``); a job that was never started has no runs, and its image is Queued only so
#: that the table is total.
PLATFORM: dict[Status, JobRunState] = {
    S.CREATED: W.Queued,
    S.INITIALIZING: W.Queued,
    S.WAITING: W.Queued,
    S.LOCKED: W.Starting,
    S.RUNNING: W.Running,
    S.RETRYING: W.Running,
    S.CANCELING: W.Canceling,
    S.SUSPENDING: W.Paused,
    S.SUSPENDED: W.Paused,
    S.RESUMING: W.Resuming,
    S.COMPLETED: W.Completed,
    S.SKIPPED: W.Completed,
    S.CANCELED: W.Canceled,
    S.FAILED: W.Failed,
    S.TIMEOUT: W.Failed,
}


def platform_state(status: Status, *, error_count: int = 0) -> JobRunState:
    """The watsonx image of a canonical status.

    A completed run whose stages rejected records (``error_count``) is
    ``CompletedWithErrors``. Nothing in Headrace records warnings, so
    ``CompletedWithWarnings`` is never shown; it exists for scripts that name it.
    """
    state = PLATFORM[status]
    if state is W.Completed and error_count > 0:
        return W.CompletedWithErrors
    return state
