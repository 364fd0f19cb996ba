"""What every executor is: something that runs a planned pipeline to its end."""

from __future__ import annotations

from typing import Any, Protocol

from headrace.connectors.base import DataStructureProvider
from headrace.engine.metrics import PipelineMetrics
from headrace.engine.plan import Plan
from headrace.engine.runtime import EngineOptions
from headrace.engine.snapshot import Coordinator

__all__ = ["Control", "Executor"]


class Control(Protocol):
    """Asked between batches whether the run may go on; ``check`` raises to stop it.

    Optional, duck-typed extras (see :class:`~headrace.engine.snapshot.Coordinator`):
    ``snapshot_requests()`` and ``report_metrics(dict)``; an exception from ``check``
    with a truthy ``take_snapshot`` gets a last snapshot before it propagates.
    """

    def check(self) -> None:
        """Raises (cancel, suspend, timeout) when the run must stop."""
        ...


class Executor(Protocol):
    """Runs a plan over ``parallelism`` partitions and returns the merged metrics."""

    def execute(
        self,
        plan: Plan,
        provider: DataStructureProvider,
        splits: dict[int, list[Any]],
        parallelism: int,
        control: Control | None,
        options: EngineOptions,
        coordinator: Coordinator,
    ) -> PipelineMetrics:
        """Runs to completion, or raises what ``control.check()`` or a stage raised.

        ``coordinator`` polls the control, says when to snapshot, opens (or buffers)
        sinks, holds the restored state and commits snapshots.
        """
        ...
