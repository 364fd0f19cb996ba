"""One attempt a worker runs: made from a claim, and stopped when its thread ignores a stop."""

from __future__ import annotations

import ctypes
import threading
import time
from dataclasses import dataclass

from headrace import defaults, errors
from headrace.model.clock import now_ms
from headrace.model.job import Claimed
from headrace.model.status import Status
from headrace.model.writes import AttemptWrite
from headrace.scheduler import runner
from headrace.scheduler.context import AttemptSink, JobContext, JobWorker
from headrace.scheduler.registry import JobTypeSpec, Registry
from headrace.scheduler.writebuffer import START
from headrace.store.database import Store


@dataclass(eq=False, slots=True)
class Attempt:
    """One attempt this worker runs (slotted: the pump builds one per job it claims)."""

    claimed: Claimed
    spec: JobTypeSpec
    ctx: JobContext
    instance: JobWorker | None
    #: When it times out (monotonic seconds): set as it starts (``start``), so a claimed
    #: attempt waiting for a slot (``prefetch``) does not spend its time waiting.
    deadline: float = float("inf")
    #: Its start write is made (``start``): at the claim when a slot is free for it, else
    #: when a slot takes it.
    started: bool = False
    #: Set once the worker itself ended the attempt (timeout): later outcomes are dropped.
    ended: bool = False
    #: The slot thread running it (thread isolation), once it started.
    thread: threading.Thread | None = None
    #: When the pump first saw it asked to stop (monotonic seconds).
    stop_seen: float | None = None
    #: Its slot thread returned from it (set under the worker's lock).
    finished: bool = False
    #: The worker gave up on its execution (set under the worker's lock).
    abandoned: bool = False


class ExecutionKilled(BaseException):
    """Raised inside a slot thread whose execution ignored a stop for too long.

    A ``BaseException``, so a job's ``except Exception`` does not swallow it.
    """


#: How long an interrupted slot thread may live on before it is interrupted again.
REPEAT_INTERRUPT_SEC = 1.0


class Interrupts:
    """The slot threads a worker interrupted (``interrupt``), interrupted again until they end.

    An asynchronous exception can be lost: when it lands while the thread runs a finalizer
    that GC called there (a multiprocessing ``Finalize``, a ``__del__``), Python reports
    "Exception ignored" and the thread goes on with the stuck job (seen in CI, stop 31).
    Such a thread never takes another attempt (it was abandoned), so telling it again is
    safe; one blocked in C gets it when the call returns, as the first time.
    """

    def __init__(self) -> None:
        #: Interrupted threads still to see end, with when each was last interrupted.
        self._threads: dict[threading.Thread, float] = {}

    def __len__(self) -> int:
        return len(self._threads)

    def add(self, thread: threading.Thread, now: float) -> None:
        """Interrupt ``thread`` now, and again while it lives on (``repeat``)."""
        interrupt(thread)
        self._threads[thread] = now

    def repeat(self, now: float) -> None:
        """Interrupt again the threads alive ``REPEAT_INTERRUPT_SEC`` after their last one."""
        for thread, at in list(self._threads.items()):
            if not thread.is_alive():
                del self._threads[thread]
            elif now - at >= REPEAT_INTERRUPT_SEC:
                interrupt(thread)
                self._threads[thread] = now


def interrupt(thread: threading.Thread) -> None:
    """Raise ``ExecutionKilled`` in ``thread`` at its next bytecode.

    CPython's only way to stop another thread; no library wraps it, hence ctypes on the
    documented ``PyThreadState_SetAsyncExc``. A thread blocked in C (a long sleep) gets it
    when the call returns.
    """
    if thread.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(thread.ident), ctypes.py_object(ExecutionKilled)
        )


def begin(
    claimed: list[Claimed],
    registry: Registry,
    sink: AttemptSink,
    store: Store,
    worker_id: str,
    lease_sec: float,
) -> tuple[list[Attempt], list[AttemptWrite]]:
    """The claimed jobs as attempts ready for a slot, and the writes of those that cannot run.

    A job whose parameters do not fit its type's schema does not run: its write fails
    the attempt ("bad params"). The others start when a slot takes them (``start``).
    """
    ready: list[Attempt] = []
    writes: list[AttemptWrite] = []
    specs: dict[str, JobTypeSpec | None] = {}
    for c in claimed:
        # One lookup per type a claim holds, not per job (most claims hold one type).
        try:
            spec = specs[c.type]
        except KeyError:
            spec = specs[c.type] = registry.get(c.type)
        if spec is None:  # pragma: no cover - the claim only takes registered types
            continue
        try:
            params = runner.parse_params(spec.params_model, spec.info.params_schema, c.params)
        except errors.InvalidInput as exc:
            path = (Status.LOCKED, Status.FAILED)
            writes.append(
                AttemptWrite(
                    c.job_id, c.tenant_id, c.attempt, path, {"error": str(exc)}, "bad params"
                )
            )
            continue
        ctx = JobContext(c, params, sink, store, worker_id, lease_sec)
        # A process-isolated attempt builds its JobWorker in the child.
        instance = None if spec.isolation == "process" else runner.instantiate(spec)
        ready.append(Attempt(c, spec, ctx, instance))
    return ready, writes


def ignored_stop(a: Attempt, now: float) -> bool:
    """Whether ``a`` ignored its stop for ``KILL_GRACE_SEC``: its execution is abandoned.

    Thread isolation only (a child process is killed by ``isolation``); the first call
    after the stop notes when it was seen.
    """
    if a.spec.isolation == "process" or not a.ctx.cancelled:
        return False
    if a.stop_seen is None:
        a.stop_seen = now
        return False
    return now - a.stop_seen >= defaults.KILL_GRACE_SEC


def start(a: Attempt, at_ms: int | None = None) -> AttemptWrite:
    """Start ``a`` now (its timeout counts from here) and return its start write.

    The worker starts an attempt at its claim when a free slot takes it at once, and
    otherwise as a slot takes it: with ``prefetch`` a claimed attempt may wait in the
    worker for a slot, ``locked``, not ``running`` (Celery's reserved tasks).
    """
    c = a.claimed
    a.started = True
    if c.timeout_sec:
        a.deadline = time.monotonic() + c.timeout_sec
    values = {"started_at_ms": now_ms() if at_ms is None else at_ms}
    return AttemptWrite(c.job_id, c.tenant_id, c.attempt, START, values, "started")
