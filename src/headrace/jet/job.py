"""``hazelcast.jet.job`` under Headrace's name: Job, JobConfig, JobMetrics, JobStatus (seed 000).

A ``Job`` is a handle: every call reads and writes through the client (the store, or a
server over HTTP), so a handle from another process, or from ``get_job``, sees the same job.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

from headrace import defaults, errors
from headrace.jet.backend import JetClient
from headrace.model import control
from headrace.model import status as machine
from headrace.model.facades import JET
from headrace.model.facades import JetJobStatus as JobStatus
from headrace.model.job import Job as JobRecord
from headrace.model.jobconfig import JobConfig, ProcessingGuarantee
from headrace.model.status import Status

__all__ = ["Job", "JobConfig", "JobMetrics", "JobStatus", "ProcessingGuarantee"]


@dataclass(frozen=True)
class JobMetrics:
    """A job's metrics: totals, and each stage's counters."""

    received_count: int = 0
    emitted_count: int = 0
    total_processing_time_ms: float = 0.0
    late_dropped_count: int = 0
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobMetrics:
        """Metrics from their stored form."""
        return cls(
            received_count=int(data.get("received_count", 0)),
            emitted_count=int(data.get("emitted_count", 0)),
            total_processing_time_ms=float(data.get("total_processing_time_ms", 0.0)),
            late_dropped_count=int(data.get("late_dropped_count", 0)),
            stages=dict(data.get("stages", {})),
        )


def _illegal(exc: errors.IllegalTransition) -> errors.IllegalJobState:
    return errors.IllegalJobState(exc.job_id, exc.current, exc.requested, exc.reason)


class Job:
    """A pipeline job, as Jet shows it."""

    def __init__(self, client: JetClient, job_id: str) -> None:
        self._client = client
        self._id = job_id

    @property
    def id(self) -> str:
        """The job's id."""
        return self._id

    @property
    def name(self) -> str | None:
        """The job's name (from its JobConfig), or None."""
        return self._record().name

    def _record(self) -> JobRecord:
        return self._client.pipelines.get(self._id)

    @property
    def status(self) -> JobStatus:
        """The job's status now (``get_status()``)."""
        return self.get_status()

    def get_status(self) -> JobStatus:
        """The job's status now, as Jet names it."""
        return JET[self._record().status]

    def get_status_reason(self) -> str:
        """Why the job is in its status: above all why it is not starting."""
        return self._client.pipelines.status_reason(self._id)

    def is_terminal(self) -> bool:
        """Whether the job has ended (completed, failed or canceled)."""
        return self._record().status in machine.FINAL

    def is_user_cancelled(self) -> bool:
        """Whether a user canceled the job (its status is then FAILED, as in Jet)."""
        return self._record().status is Status.CANCELED

    def join(self, timeout: float | None = None) -> None:
        """Wait for the job to end.

        Raises:
            JobFailed: the job failed or was canceled (``cause`` says why).
            TimeoutException: still going after ``timeout`` s (also a ``TimeoutError``).
        """
        try:
            job = self._client.jobs.wait(self._id, timeout, suspended_ends=False)
        except errors.TimeoutException:
            msg = f"job {self._id} did not complete within {timeout} s (status {self.get_status()})"
            raise errors.TimeoutException(msg) from None
        if job.status not in (Status.COMPLETED, Status.SKIPPED):
            cause = "canceled by user" if job.status is Status.CANCELED else job.error
            raise errors.JobFailed(self._id, str(job.status), cause)

    def _landed(self, request: control.Request) -> tuple[Status, JobRecord]:
        """The job once it is where ``request`` can be decided, and its status before.

        Jet accepts a call on a job on its way to a status (it queues the call behind the
        snapshot): seeds 000 and 001 call ``suspend()`` and at once ``resume()``. A call
        that finds the job ``suspending`` (say) waits for its worker to suspend it, at
        most ``CONTROL_WAIT_SEC``, and is then decided where the job landed
        (``model/control.py``). Through the client's calls, so the same remote.
        """
        deadline = time.monotonic() + defaults.CONTROL_WAIT_SEC
        pause = 0.005
        job = before = self._record()
        while control.decide(request, job.status) is control.Action.WAIT:
            if time.monotonic() >= deadline:
                msg = f"still {job.status} after {defaults.CONTROL_WAIT_SEC} s"
                raise errors.IllegalJobState(self._id, job.status, str(request), msg)
            time.sleep(pause)
            pause = min(pause * 2, 0.1)
            job = self._record()
        return before.status, job

    def suspend(self) -> None:
        """Suspend: the job snapshots its state and stops; ``resume`` continues from it.

        Returns while the job may still be taking its snapshot: a ``resume()``,
        ``cancel()`` or ``restart()`` called at once completes after the suspension lands.

        Raises:
            IllegalJobState: the job's status does not allow it.
        """
        try:
            self._landed(control.Request.SUSPEND)
            self._client.jobs.suspend(self._id)
        except errors.IllegalTransition as exc:
            raise _illegal(exc) from None

    def resume(self) -> None:
        """Resume a suspended job from its snapshot (one being suspended, once it is).

        Raises:
            IllegalJobState: the job is not suspended.
        """
        try:
            self._landed(control.Request.RESUME)
            self._client.jobs.resume(self._id)
        except errors.IllegalTransition as exc:
            raise _illegal(exc) from None

    def cancel(self, force: bool = False) -> None:
        """Cancel; ``force`` ends it even if its execution does not stop by itself.

        A job being suspended is canceled once it is suspended.

        Raises:
            IllegalJobState: the job has already ended.
        """
        try:
            self._landed(control.Request.CANCEL)
            self._client.pipelines.cancel(self._id, force=force)
        except errors.IllegalTransition as exc:
            raise _illegal(exc) from None

    def restart(self) -> None:
        """Stop the running execution and start again from the last snapshot.

        A job being suspended (``suspend()`` then ``restart()``) is resumed from the
        snapshot once suspended; a job that has not started yet (waiting, just resumed)
        will start from its last snapshot anyway and is left as it is. A job that has
        ended (canceled, failed, completed) starts a new run, from its sources' start.

        Raises:
            IllegalJobState: the job is suspended (``resume()`` it) or being canceled.
        """
        try:
            was, job = self._landed(control.Request.RESTART)
            action = control.decide(control.Request.RESTART, job.status)
            if was is Status.SUSPENDING and job.status is Status.SUSPENDED:
                self._client.jobs.resume(self._id, reason="restarted on request")
            elif action is control.Action.START:
                self._client.jobs.start(self._id)
            elif action is not control.Action.DONE:
                self._client.pipelines.restart(self._id)
        except errors.IllegalTransition as exc:
            raise _illegal(exc) from None

    def export_snapshot(self, name: str) -> None:
        """Store a named snapshot that outlives the job (an existing name is replaced).

        Raises:
            IllegalJobState: the job has ended, or takes no snapshots (guarantee NONE).
        """
        try:
            self._client.pipelines.export_snapshot(self._id, name)
        except errors.IllegalTransition as exc:
            raise _illegal(exc) from None

    def cancel_and_export_snapshot(self, name: str) -> None:
        """Export a named snapshot, then cancel the job.

        Raises:
            IllegalJobState: as ``export_snapshot``.
        """
        self.export_snapshot(name)
        self.cancel()

    def get_metrics(self) -> JobMetrics:
        """The job's metrics: live while it runs, kept after it ends."""
        return JobMetrics.from_dict(self._client.pipelines.metrics(self._id))

    def get_submission_time(self) -> dt.datetime:
        """When the job was submitted (timezone-aware, UTC)."""
        return dt.datetime.fromtimestamp(self._record().scheduled_at_ms / 1000, tz=dt.UTC)

    def get_suspension_cause(self) -> str | None:
        """Why the job is suspended (or why it failed), else None."""
        job = self._record()
        if job.status in (Status.SUSPENDED, Status.SUSPENDING):
            return str(job.details or "suspended")
        if job.status in (Status.FAILED, Status.TIMEOUT):
            return str(job.error)
        return None

    def get_config(self) -> JobConfig:
        """The configuration the job was submitted with."""
        return self._client.pipelines.config_of(self._record())

    def __repr__(self) -> str:
        return f"Job(id={self._id!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Job) and other._id == self._id

    def __hash__(self) -> int:
        return hash(self._id)
