"""One attempt a worker runs, and how the worker stops a slot thread that ignores a stop."""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass

from headrace.model.job import Claimed
from headrace.scheduler.context import JobContext, JobWorker
from headrace.scheduler.registry import JobTypeSpec


@dataclass(eq=False)
class Attempt:
    """One attempt this worker runs."""

    claimed: Claimed
    spec: JobTypeSpec
    ctx: JobContext
    instance: JobWorker | None
    deadline: float
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
