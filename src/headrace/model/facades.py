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
