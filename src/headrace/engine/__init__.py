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

from collections.abc import Iterable
from typing import Any

from headrace.connectors.base import DataStructureProvider, SinkWrite, SnapshotStore
from headrace.engine import io
from headrace.engine.errors import UserFunctionError
from headrace.engine.executors.base import Control, Executor
from headrace.engine.metrics import PipelineMetrics, StageMetrics
from headrace.engine.plan import Plan, build_plan
from headrace.engine.runtime import GUARANTEES, EngineOptions, Guarantee
from headrace.engine.snapshot import Coordinator, SnapshotMismatch, decode
from headrace.pipeline import Pipeline

__all__ = [
    "GUARANTEES",
    "Control",
    "EngineOptions",
    "Executor",
    "Guarantee",
    "PipelineMetrics",
    "SinkWrite",
    "SnapshotMismatch",
    "SnapshotStore",
    "StageMetrics",
    "UserFunctionError",
    "prepare",
    "run",
    "warm",
]


def prepare(
    pipeline: Pipeline,
    provider: DataStructureProvider,
    options: EngineOptions,
    splits: dict[int, list[Any]] | None = None,
) -> tuple[Plan, dict[int, list[Any]]]:
    """Validates, plans, runs each source's ``prepare`` and lists its splits.

    ``splits`` (a restored run's) are kept instead of listing them again, so a
    restored run reads exactly the ranges and stream partitions its snapshot counted.

    Raises:
        PipelineDefinitionError: the pipeline cannot run as defined.
    """
    pipeline.validate(provider)
    plan = build_plan(pipeline)
    listed: dict[int, list[Any]] = {}
    for spec in plan.vertices:
        if spec.head is not None and spec.head.kind == "source":
            assert spec.head.source is not None
            connector = io.source_connector(spec.head.source)
            connector.prepare(provider)
            if splits is None:
                listed[spec.id] = connector.splits(provider, options.split_items)
    return plan, splits if splits is not None else listed


def run(
    pipeline: Pipeline,
    provider: DataStructureProvider,
    local_parallelism: int = 1,
    control: Control | None = None,
    *,
    executor: str | Executor | None = None,
    options: EngineOptions | None = None,
    snapshots: SnapshotStore | None = None,
    restore: bytes | None = None,
) -> PipelineMetrics:
    """Runs ``pipeline`` to its end against ``provider``'s Lists, Maps and Streams.

    With ``options.guarantee`` other than ``"none"``, a snapshot (source positions and
    operator state, taken with nothing in flight) is committed to ``snapshots`` every
    ``options.snapshot_interval_ms`` and once more at the end of a bounded run. With
    ``"exactly_once"``, List, Map and Stream sinks write only through those commits.
    Callables, the log and files write directly: at least once at best.

    Args:
        pipeline: What to run.
        provider: Where named data structures live.
        local_parallelism: Partitions of every vertex (worker processes by default
            when above 1).
        control: Its ``check()`` is called between batches; raising stops the run. See
            :class:`Control` for the optional ``snapshot_requests``,
            ``report_metrics`` and ``take_snapshot``.
        executor: ``"inprocess"``, ``"processes"``, ``"ray"`` (partitions as Ray
            actors, at ``RAY_ADDRESS``; needs ``headrace[ray]``) or an Executor; by default
            ``processes`` when ``local_parallelism > 1``.
        options: Batch and split sizes, guarantee, snapshot interval.
        snapshots: Where snapshots are committed; required unless the guarantee is
            ``"none"`` (then only explicit requests and stops use it, if given).
        restore: A state a previous run committed: sources resume at its positions and
            stages at its state. Same pipeline and same ``local_parallelism``.

    Returns:
        The run's metrics per stage, with the job-level totals (a restored run's
        include what its snapshot had counted).

    Raises:
        PipelineDefinitionError: the pipeline cannot run as defined.
        UserFunctionError: a stage's function raised.
        SnapshotMismatch: ``restore`` is not a snapshot of this pipeline at this
            parallelism.
        ValueError: a guarantee without a ``snapshots`` store, or a bad parallelism.
    """
    if local_parallelism < 1:
        msg = f"local_parallelism must be at least 1, got {local_parallelism}"
        raise ValueError(msg)
    opts = options or EngineOptions()
    if opts.guarantee != "none" and snapshots is None:
        msg = f"guarantee {opts.guarantee!r} needs a SnapshotStore (snapshots=...)"
        raise ValueError(msg)
    restored = None
    if restore is not None:
        restored = decode(restore, build_plan(pipeline), local_parallelism)
    plan, splits = prepare(
        pipeline, provider, opts, restored.splits if restored is not None else None
    )
    coordinator = Coordinator(plan, splits, local_parallelism, opts, snapshots, control, restored)
    chosen = _executor(executor, local_parallelism)
    return chosen.execute(plan, provider, splits, local_parallelism, control, opts, coordinator)


def warm(parallelism: int, modules: Iterable[str] = ()) -> None:
    """Starts ``parallelism`` worker processes in the background, for the next run above 1.

    The first run at a parallelism above 1 otherwise pays for starting its workers (the
    fork server's interpreter and imports, about a second). ``modules`` are imported by
    the fork server before it forks them, e.g. the module of the provider the runs will
    ship, so no worker imports it on its first run. Returns at once; a run started while
    the pool is still starting waits for it rather than starting another.
    """
    from headrace.engine.executors import pool

    pool.warm(parallelism, modules)


def _executor(executor: str | Executor | None, parallelism: int) -> Executor:
    if executor is None:
        executor = "processes" if parallelism > 1 else "inprocess"
    if executor == "inprocess":
        from headrace.engine.executors.inprocess import InProcessExecutor

        return InProcessExecutor()
    if executor == "processes":
        from headrace.engine.executors.processes import ProcessesExecutor

        return ProcessesExecutor()
    if executor == "ray":
        from headrace.engine.executors.ray import RayExecutor

        return RayExecutor()
    if isinstance(executor, str):
        msg = f"unknown executor {executor!r}: inprocess, processes or ray"
        raise ValueError(msg)
    return executor
