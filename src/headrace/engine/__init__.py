r"""The dataflow engine: plans a pipeline (fused chains, partitions) and runs it.

Example:
    >>> from headrace.connectors.memory import InMemoryProvider
    >>> from headrace.pipeline import Pipeline
    >>> p = Pipeline.create()
    >>> p.read_from(Pipeline.from_list("numbers", [1, 2, 3, 4, 5])) \
    ...     .map(lambda x: x * 2).filter(lambda x: x > 4) \
    ...     .write_to(Pipeline.to_list("results"))
    >>> provider = InMemoryProvider()
    >>> run(p, provider).emitted_count, provider.lists["results"]
    (3, [6, 8, 10])
"""

from __future__ import annotations

from typing import Any

from headrace.connectors.base import DataStructureProvider
from headrace.engine import io
from headrace.engine.errors import UserFunctionError
from headrace.engine.executors.base import Control, Executor
from headrace.engine.metrics import PipelineMetrics, StageMetrics
from headrace.engine.plan import Plan, build_plan
from headrace.engine.runtime import EngineOptions
from headrace.pipeline import Pipeline

__all__ = [
    "Control",
    "EngineOptions",
    "Executor",
    "PipelineMetrics",
    "StageMetrics",
    "UserFunctionError",
    "prepare",
    "run",
]


def prepare(
    pipeline: Pipeline, provider: DataStructureProvider, options: EngineOptions
) -> tuple[Plan, dict[int, list[Any]]]:
    """Validates, plans, runs each source's ``prepare`` and lists its splits.

    Raises:
        PipelineDefinitionError: the pipeline cannot run as defined.
    """
    pipeline.validate(provider)
    plan = build_plan(pipeline)
    splits: dict[int, list[Any]] = {}
    for spec in plan.vertices:
        if spec.head is not None and spec.head.kind == "source":
            assert spec.head.source is not None
            connector = io.source_connector(spec.head.source)
            connector.prepare(provider)
            splits[spec.id] = connector.splits(provider, options.split_items)
    return plan, splits


def run(
    pipeline: Pipeline,
    provider: DataStructureProvider,
    local_parallelism: int = 1,
    control: Control | None = None,
    *,
    executor: str | Executor | None = None,
    options: EngineOptions | None = None,
) -> PipelineMetrics:
    """Runs ``pipeline`` to its end against ``provider``'s Lists, Maps and Streams.

    Args:
        pipeline: What to run.
        provider: Where named data structures live.
        local_parallelism: Partitions of every vertex (worker processes by default
            when above 1).
        control: Its ``check()`` is called between batches; raising stops the run.
        executor: ``"inprocess"``, ``"processes"`` or an Executor; by default
            ``processes`` when ``local_parallelism > 1``.
        options: Batch and split sizes.

    Returns:
        The run's metrics per stage, with the job-level totals.

    Raises:
        PipelineDefinitionError: the pipeline cannot run as defined.
        UserFunctionError: a stage's function raised.
    """
    if local_parallelism < 1:
        msg = f"local_parallelism must be at least 1, got {local_parallelism}"
        raise ValueError(msg)
    opts = options or EngineOptions()
    plan, splits = prepare(pipeline, provider, opts)
    chosen = _executor(executor, local_parallelism)
    return chosen.execute(plan, provider, splits, local_parallelism, control, opts)


def _executor(executor: str | Executor | None, parallelism: int) -> Executor:
    if executor is None:
        executor = "processes" if parallelism > 1 else "inprocess"
    if executor == "inprocess":
        from headrace.engine.executors.inprocess import InProcessExecutor

        return InProcessExecutor()
    if executor == "processes":
        from headrace.engine.executors.processes import ProcessesExecutor

        return ProcessesExecutor()
    if isinstance(executor, str):
        msg = f"unknown executor {executor!r}: inprocess or processes"
        raise ValueError(msg)
    return executor
