"""What a job's child process and its worker say to each other over their pipe.

Each message is a typed ``NamedTuple`` (pickled by the pipe): the child reports
``Progress``, ``LogLine`` and finally ``Done``; the worker sends ``Stop``.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Progress(NamedTuple):
    """The job reported progress; ``state`` is its state at that moment."""

    value: float
    details: str | None
    state: dict[str, Any]


class LogLine(NamedTuple):
    """The job logged a line (already checked by the child's context)."""

    level: str
    message: str


class Done(NamedTuple):
    """The attempt ended: its ``runner.Outcome`` (cloudpickled), last state and progress."""

    outcome: bytes
    state: dict[str, Any]
    progress: float


class Stop(NamedTuple):
    """The worker asks the job to stop (cancel, suspend, timeout, lost, shutdown)."""

    reason: str


#: What the child sends.
FromChild = Progress | LogLine | Done
