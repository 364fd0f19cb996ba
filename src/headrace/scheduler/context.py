"""What a running job sees: ``JobContext``, and the ``JobWorker`` callback class."""

from __future__ import annotations

import json
import threading
from typing import Any, Protocol

from headrace import defaults, errors
from headrace.model import text
from headrace.model.job import Claimed
from headrace.store.database import Store

#: The levels of a job's log lines, as stored.
LEVELS = ("debug", "info", "warning", "error", "critical")
#: The lock of every context's stop request and export names (``JobContext._lock``).
_LOCK = threading.Lock()


class AttemptSink(Protocol):
    """Where a context sends what the job reports (the worker batches it to the store)."""

    def progress(self, ctx: JobContext, value: float, details: str | None) -> None:
        """Record progress of the attempt."""
        ...

    def log(self, ctx: JobContext, level: str, message: str) -> None:
        """Record one log line of the attempt."""
        ...


class JobContext:
    """The running attempt's handle: params, progress, logs, persisted state, stop requests.

    ``state`` is a dict the job may fill; it is saved with every progress report and at
    the end of the attempt, and handed back on resume and on retry.
    """

    def __init__(
        self,
        claimed: Claimed,
        params: Any,
        sink: AttemptSink,
        store: Store | None = None,
        worker_id: str = "",
        lease_sec: float | None = None,
    ) -> None:
        #: The worker's store, for built-in job types that read and write data (pipelines).
        self.store = store
        self.worker_id = worker_id
        #: The attempt's lease (its worker's), for writes that renew it (snapshot commits).
        self.lease_sec = lease_sec
        self.job_id = claimed.job_id
        self.tenant_id = claimed.tenant_id
        self.type = claimed.type
        self.queue = claimed.queue
        self.attempt = claimed.attempt
        self.resumed = claimed.resumed
        self.params = params
        self.state: dict[str, Any] = dict(claimed.state)
        self.current_progress = claimed.progress
        self._sink = sink
        # The stop reason, its event and the exports keep their class defaults until
        # set: the pump builds a context per job it claims, and most jobs are never
        # stopped, never sleep and are never asked for a snapshot.

    #: Guards the stop request and the export names: every context's, as it is held
    #: only to read or set them, never while waiting.
    _lock = _LOCK
    #: Set once, by the first stop request; the job is cancelled from then on.
    _stop_reason: str | None = None
    #: What ``sleep`` waits on, made by the first ``sleep`` only: an Event costs more
    #: to build than a no-op job costs to run, and most jobs never sleep.
    _stop_event: threading.Event | None = None
    #: Export names requested and not handed out yet (``snapshot_requests``).
    _exports: list[str] | None = None
    #: Export names requested and not committed since: each is handed out once.
    _exports_seen: set[str] | None = None

    def progress(self, value: float, details: str | dict[str, Any] | None = None) -> None:
        """Report progress between 0.0 and 1.0, with optional details.

        Raises:
            InvalidInput: when ``value`` is outside 0.0-1.0, ``details`` is too long or
            not storable text, or ``state`` holds what cannot be stored (names the path).
        """
        if not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
            raise errors.InvalidInput("progress", f"must be between 0.0 and 1.0, got {value!r}")
        shown = details if details is None or isinstance(details, str) else _json(details)
        if shown is not None:
            text.check_text("progress.details", shown, defaults.MAX_PROGRESS_DETAILS_CHARS)
        text.check_value("state", self.state)
        self.current_progress = float(value)
        self._sink.progress(self, float(value), shown)

    def log(self, message: str, level: str = "info") -> None:
        """Write a line to the job's log (stored, and sent to the ``headrace.job`` logger).

        A line is kept whatever it holds: what cannot be stored (NUL, an unpaired
        surrogate) is shown as an escape, and a line over ``MAX_LOG_LINE_CHARS`` is cut.

        Raises:
            InvalidInput: naming ``level`` when it is not one of ``LEVELS``.
        """
        name = level.lower() if isinstance(level, str) else level
        if name not in LEVELS:
            raise errors.InvalidInput("level", f"must be one of {', '.join(LEVELS)}, got {level!r}")
        self._sink.log(self, name, text.escaped(str(message), defaults.MAX_LOG_LINE_CHARS))

    @property
    def cancelled(self) -> bool:
        """Whether the job has been asked to stop (cancel, suspend, timeout or lost lease)."""
        return self._stop_reason is not None

    @property
    def stop_reason(self) -> str | None:
        """Why the job must stop: ``cancel``, ``suspend``, ``timeout``, ``lost``, or None."""
        return self._stop_reason

    def check(self) -> None:
        """Raise ``JobStopped`` if the job must stop; cooperative jobs call it often.

        Raises:
            JobStopped: carrying the reason.
        """
        reason = self._stop_reason
        if reason is not None:
            raise errors.JobStopped(reason or "stop")

    def sleep(self, seconds: float) -> None:
        """Sleep, waking at once (with ``JobStopped``) if the job must stop.

        Raises:
            JobStopped: when a stop is requested during the sleep.
        """
        with self._lock:
            if self._stop_event is None:
                self._stop_event = threading.Event()
                if self._stop_reason is not None:
                    self._stop_event.set()
            event = self._stop_event
        event.wait(seconds)
        self.check()

    def request_exports(self, names: list[str]) -> None:
        """The export names pending now (the worker's control poll passes every one)."""
        if not names and not self._exports_seen:
            return  # none asked for, none pending: the poll's usual answer, without the lock
        with self._lock:
            # A name no longer requested was committed; asking for it again is a new export.
            seen = self._exports_seen = (self._exports_seen or set()) & set(names)
            for name in names:
                if name not in seen:
                    seen.add(name)
                    if self._exports is None:
                        self._exports = []
                    self._exports.append(name)

    def exports_committed(self, names: list[str]) -> None:
        """Forget names a committed snapshot was exported under.

        The commit cleared their requests in its transaction, so the same name asked
        for again is a new export, even if no control poll saw it gone in between.
        """
        with self._lock:
            if self._exports_seen:
                self._exports_seen.difference_update(names)

    def snapshot_requests(self) -> list[str]:
        """Names a snapshot must be exported under now (each name is handed out once)."""
        with self._lock:
            names, self._exports = self._exports, None
        return names or []

    def request_stop(self, reason: str) -> None:
        """Ask the job to stop (the worker calls this; the first reason wins)."""
        with self._lock:
            if self._stop_reason is not None:
                return
            self._stop_reason = reason
            event = self._stop_event
        if event is not None:
            event.set()


class JobWorker:
    """Base of class-form job types; override the callbacks you need (seed 004)."""

    def init(self, ctx: JobContext, resumed: bool) -> None:
        """WorkerInitCallback: called when an attempt starts or resumes."""

    def execute(self, ctx: JobContext) -> Any:
        """WorkerExecutionCallback: the job's work; its return value is the result."""
        raise NotImplementedError

    def on_state_update(self, ctx: JobContext, status: str) -> None:
        """WorkerStateUpdateCallback: told of every status the worker sees the job take."""

    def on_suspend(self, ctx: JobContext) -> None:
        """WorkerSuspendCallback: called before the job is suspended."""

    def on_resume(self, ctx: JobContext) -> None:
        """WorkerResumeCallback: called after the job is resumed, before ``execute``."""


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, default=str)
