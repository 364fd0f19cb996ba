"""Stages: the typed handles a pipeline is built with (each call adds one frozen node)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from headrace.errors import PipelineDefinitionError
from headrace.pipeline.aggregate import AggregateOperation, from_accumulator, to_list
from headrace.pipeline.sinks import SinkDescriptor
from headrace.pipeline.window import WindowDefinition

if TYPE_CHECKING:
    from headrace.pipeline.pipeline import Pipeline

__all__ = ["GroupedStage", "GroupedWindowStage", "Stage", "WindowedStage"]

T = TypeVar("T")
U = TypeVar("U")
K = TypeVar("K", bound=Hashable)
A = TypeVar("A")
R = TypeVar("R")
S = TypeVar("S")

_NO_INITIAL: Any = object()


def check_callable(stage: str, fn: object, what: str) -> None:
    """Raises PipelineDefinitionError naming ``stage`` unless ``fn`` is callable.

    Raises:
        PipelineDefinitionError: ``fn`` is not callable.
    """
    if not callable(fn):
        raise PipelineDefinitionError(stage, f"{what} must be callable, got {type(fn).__name__}")


def as_operation(
    stage: str, accumulator: object, initial: object
) -> AggregateOperation[Any, Any, Any]:
    """The operation behind either ``aggregate(op)`` or ``aggregate(fn, initial)``.

    Raises:
        PipelineDefinitionError: neither an AggregateOperation nor a callable + initial.
    """
    if isinstance(accumulator, AggregateOperation):
        if initial is not _NO_INITIAL:
            raise PipelineDefinitionError(stage, "initial is only for an accumulator function")
        return accumulator
    check_callable(stage, accumulator, "accumulator")
    if initial is _NO_INITIAL:
        raise PipelineDefinitionError(stage, "an accumulator function needs initial=")
    return from_accumulator(accumulator, initial)  # type: ignore[arg-type]


class Stage(Generic[T]):
    """A stream of items of type ``T`` inside a pipeline under construction.

    Example:
        >>> from headrace.pipeline import Pipeline
        >>> p = Pipeline.create()
        >>> p.read_from(Pipeline.items([1, 2])).map(lambda x: x + 1).write_to(
        ...     Pipeline.to_list("out"))
    """

    def __init__(self, pipeline: Pipeline, node_id: int) -> None:
        self._pipeline = pipeline
        self._id = node_id

    @property
    def node_id(self) -> int:
        """The id of the node this stage's items come out of."""
        return self._id

    @property
    def name(self) -> str:
        """The stage's name, as metrics and errors show it."""
        return self._pipeline.node(self.node_id).name

    @property
    def timestamped(self) -> bool:
        """True when items carry event time (after ``with_timestamps``)."""
        return self._pipeline.node(self.node_id).timestamped

    def _fn_stage(self, kind: str, fn: object, what: str = "fn", **fields: Any) -> int:
        name = self._pipeline.next_name(kind)
        check_callable(name, fn, what)
        return self._pipeline.add(kind, (self.node_id,), fn=fn, **fields)

    def map(self, fn: Callable[[T], U]) -> Stage[U]:
        """Transforms each item.

        Example:
            >>> from headrace.pipeline import Pipeline
            >>> Pipeline.create().read_from(Pipeline.items([1])).map(str).name
            'map#1'
        """
        return Stage(self._pipeline, self._fn_stage("map", fn))

    def filter(self, fn: Callable[[T], object]) -> Stage[T]:
        """Keeps the items for which ``fn`` is truthy.

        Example:
            >>> from headrace.pipeline import Pipeline
            >>> Pipeline.create().read_from(Pipeline.items([1])).filter(bool).name
            'filter#1'
        """
        return Stage(self._pipeline, self._fn_stage("filter", fn))

    def flat_map(self, fn: Callable[[T], Iterable[U]]) -> Stage[U]:
        """Replaces each item by the items of ``fn(item)``.

        Example:
            >>> from headrace.pipeline import Pipeline
            >>> Pipeline.create().read_from(Pipeline.items(["a b"])).flat_map(str.split).name
            'flat_map#1'
        """
        return Stage(self._pipeline, self._fn_stage("flat_map", fn))

    def peek(self, fn: Callable[[T], object] | None = None) -> Stage[T]:
        """Calls ``fn(item)`` (default: log it) and passes the item on unchanged.

        Example:
            >>> from headrace.pipeline import Pipeline
            >>> Pipeline.create().read_from(Pipeline.items([1])).peek().name
            'peek#1'
        """
        return Stage(self._pipeline, self._fn_stage("peek", fn if fn is not None else _log_item))

    def with_timestamps(self, fn: Callable[[T], int], allowed_lag_ms: int = 0) -> Stage[T]:
        """Gives each item the event time ``fn(item)`` (int milliseconds).

        An item older than the newest time seen in its source partition minus
        ``allowed_lag_ms`` is late: it is dropped and counted in the stage's metrics.

        Example:
            >>> from headrace.pipeline import Pipeline
            >>> s = Pipeline.create().read_from(Pipeline.items([1])).with_timestamps(int)
            >>> s.timestamped
            True
        """
        name = self._pipeline.next_name("timestamps")
        if allowed_lag_ms < 0:
            raise PipelineDefinitionError(name, "allowed_lag_ms must not be negative")
        return Stage(self._pipeline, self._fn_stage("timestamps", fn, lag_ms=int(allowed_lag_ms)))

    def group_by(self, key_fn: Callable[[T], K]) -> GroupedStage[K, T]:
        """Groups items by ``key_fn``; alone it emits ``(key, [items])`` per key.

        Example:
            >>> from headrace.pipeline import Pipeline, counting
            >>> p = Pipeline.create()
            >>> p.read_from(Pipeline.items("aab")).group_by(str).aggregate(counting()).name
            'aggregate#1'
        """
        check_callable(self._pipeline.next_name("aggregate"), key_fn, "key_fn")
        return GroupedStage(self._pipeline, self.node_id, key_fn)

    @overload
    def aggregate(self, accumulator: AggregateOperation[T, Any, R]) -> Stage[R]: ...

    @overload
    def aggregate(self, accumulator: Callable[[A, T], A], initial: A) -> Stage[A]: ...

    def aggregate(self, accumulator: Any, initial: Any = _NO_INITIAL) -> Stage[Any]:
        """Folds all items into one result, emitted when the input ends.

        Example:
            >>> from headrace.pipeline import Pipeline
            >>> s = Pipeline.create().read_from(Pipeline.items([1, 2]))
            >>> s.aggregate(accumulator=lambda acc, x: acc + x, initial=0).name
            'aggregate#1'
        """
        name = self._pipeline.next_name("aggregate")
        op = as_operation(name, accumulator, initial)
        return Stage(self._pipeline, self._pipeline.add("aggregate", (self.node_id,), op=op))

    def window(self, definition: WindowDefinition) -> WindowedStage[T]:
        """Splits timestamped items into event-time windows (then ``aggregate``).

        Raises:
            PipelineDefinitionError: the stage has no timestamps.

        Example:
            >>> from headrace.pipeline import Pipeline, tumbling
            >>> s = Pipeline.create().read_from(Pipeline.items([1])).with_timestamps(int)
            >>> type(s.window(tumbling(10))).__name__
            'WindowedStage'
        """
        name = self._pipeline.next_name("window")
        if not isinstance(definition, WindowDefinition):
            raise PipelineDefinitionError(name, "window needs tumbling(), sliding() or session()")
        if not self.timestamped:
            raise PipelineDefinitionError(
                self.name, "window needs event time: call with_timestamps(fn) first"
            )
        return WindowedStage(self._pipeline, self.node_id, definition)

    def distinct(self, key_fn: Callable[[T], Hashable] | None = None) -> Stage[T]:
        """Keeps the first item seen per key (the item itself when ``key_fn`` is omitted).

        Which of several items with one key survives is not defined when the
        pipeline runs in parallel.

        Example:
            >>> from headrace.pipeline import Pipeline
            >>> Pipeline.create().read_from(Pipeline.items([1, 1])).distinct().name
            'distinct#1'
        """
        name = self._pipeline.next_name("distinct")
        if key_fn is not None:
            check_callable(name, key_fn, "key_fn")
        return Stage(self._pipeline, self._pipeline.add("distinct", (self.node_id,), key_fn=key_fn))

    def sort(self, key_fn: Callable[[T], Any] | None = None, reverse: bool = False) -> Stage[T]:
        """Emits all items in order once the input ends (one partition does it).

        Example:
            >>> from headrace.pipeline import Pipeline
            >>> Pipeline.create().read_from(Pipeline.items([2, 1])).sort(reverse=True).name
            'sort#1'
        """
        name = self._pipeline.next_name("sort")
        if key_fn is not None:
            check_callable(name, key_fn, "key_fn")
        node = self._pipeline.add("sort", (self.node_id,), key_fn=key_fn, reverse=bool(reverse))
        return Stage(self._pipeline, node)

    def map_stateful(self, create_fn: Callable[[], S], fn: Callable[[S, T], U | None]) -> Stage[U]:
        """Maps with one state object (``create_fn()``), seen by every item in turn.

        ``fn(state, item)`` returns the output item, or ``None`` to emit nothing. All
        items pass through one partition, in arrival order.

        Example:
            >>> from headrace.pipeline import Pipeline
            >>> s = Pipeline.create().read_from(Pipeline.items([1]))
            >>> s.map_stateful(list, lambda st, x: x).name
            'map_stateful#1'
        """
        name = self._pipeline.next_name("map_stateful")
        check_callable(name, create_fn, "create_fn")
        return Stage(self._pipeline, self._fn_stage("map_stateful", fn, create_fn=create_fn))

    def merge(self, other: Stage[U]) -> Stage[T | U]:
        """The items of both stages.

        Example:
            >>> from headrace.pipeline import Pipeline
            >>> p = Pipeline.create()
            >>> p.read_from(Pipeline.items([1])).merge(p.read_from(Pipeline.items([2]))).name
            'merge#2'
        """
        name = self._pipeline.next_name("merge")
        self._check_same_pipeline(name, other)
        return Stage(self._pipeline, self._pipeline.add("merge", (self.node_id, other.node_id)))

    def hash_join(
        self,
        other: Stage[U],
        key_fn: Callable[[T], Hashable],
        other_key_fn: Callable[[U], Hashable],
    ) -> Stage[tuple[T, U]]:
        """Pairs each item with every item of ``other`` (bounded) that has an equal key.

        ``other`` is loaded in full first (the build side); this stage's items then
        probe it, so it may be a stream. Items without a match are dropped.

        Example:
            >>> from headrace.pipeline import Pipeline
            >>> p = Pipeline.create()
            >>> users = p.read_from(Pipeline.items([(1, "ann")]))
            >>> orders = p.read_from(Pipeline.items([(1, 9.5)]))
            >>> orders.hash_join(users, lambda o: o[0], lambda u: u[0]).name
            'join#2'
        """
        name = self._pipeline.next_name("join")
        self._check_same_pipeline(name, other)
        check_callable(name, key_fn, "key_fn")
        check_callable(name, other_key_fn, "other_key_fn")
        node = self._pipeline.add(
            "join", (self.node_id, other.node_id), key_fn=key_fn, other_key_fn=other_key_fn
        )
        return Stage(self._pipeline, node)

    def rebalance(self) -> Stage[T]:
        """Spreads items round-robin over the partitions (after a skewed source).

        Example:
            >>> from headrace.pipeline import Pipeline
            >>> Pipeline.create().read_from(Pipeline.items([1])).rebalance().name
            'rebalance#1'
        """
        return Stage(self._pipeline, self._pipeline.add("rebalance", (self.node_id,)))

    def write_to(self, sink: SinkDescriptor) -> None:
        """Writes the items to ``sink``.

        Raises:
            PipelineDefinitionError: ``sink`` is not a sink.
        """
        name = self._pipeline.next_name("sink")
        if not isinstance(sink, SinkDescriptor):
            raise PipelineDefinitionError(name, f"write_to needs a sink, got {type(sink).__name__}")
        self._pipeline.add("sink", (self.node_id,), sink=sink)

    def _check_same_pipeline(self, name: str, other: object) -> None:
        if not isinstance(other, Stage) or other._pipeline is not self._pipeline:
            raise PipelineDefinitionError(name, "needs a stage of the same pipeline")


def _log_item(item: object) -> None:
    import logging

    logging.getLogger("headrace.pipeline").info("peek: %r", item)


class GroupedStage(Stage[tuple[K, list[T]]]):
    """Items grouped by key. Used as a stage it emits ``(key, [items])`` per key."""

    def __init__(self, pipeline: Pipeline, parent_id: int, key_fn: Callable[[T], K]) -> None:
        self._pipeline = pipeline
        self._parent = parent_id
        self._key_fn = key_fn
        self._materialized: int | None = None

    @property
    def node_id(self) -> int:
        """The ``(key, [items])`` node, added the first time the groups are used as such."""
        if self._materialized is None:
            self._materialized = self._pipeline.add(
                "aggregate", (self._parent,), key_fn=self._key_fn, op=to_list()
            )
        return self._materialized

    @overload  # type: ignore[override]
    def aggregate(self, accumulator: AggregateOperation[T, Any, R]) -> Stage[tuple[K, R]]: ...

    @overload
    def aggregate(self, accumulator: Callable[[A, T], A], initial: A) -> Stage[tuple[K, A]]: ...

    def aggregate(self, accumulator: Any, initial: Any = _NO_INITIAL) -> Stage[Any]:
        """Folds each key's items; emits ``(key, result)`` per key when the input ends."""
        name = self._pipeline.next_name("aggregate")
        op = as_operation(name, accumulator, initial)
        node = self._pipeline.add("aggregate", (self._parent,), key_fn=self._key_fn, op=op)
        return Stage(self._pipeline, node)

    def window(self, definition: WindowDefinition) -> GroupedWindowStage[K, T]:  # type: ignore[override]
        """Windows each key's items (then ``aggregate``).

        Raises:
            PipelineDefinitionError: the stage has no timestamps.
        """
        name = self._pipeline.next_name("window")
        if not isinstance(definition, WindowDefinition):
            raise PipelineDefinitionError(name, "window needs tumbling(), sliding() or session()")
        parent = self._pipeline.node(self._parent)
        if not parent.timestamped:
            raise PipelineDefinitionError(
                parent.name, "window needs event time: call with_timestamps(fn) first"
            )
        return GroupedWindowStage(self._pipeline, self._parent, definition, self._key_fn)

    def map_stateful(  # type: ignore[override]
        self, create_fn: Callable[[], S], fn: Callable[[S, T], U | None]
    ) -> Stage[U]:
        """Maps with one state object per key; ``fn(state, item)``, ``None`` emits nothing."""
        name = self._pipeline.next_name("map_stateful")
        check_callable(name, create_fn, "create_fn")
        check_callable(name, fn, "fn")
        node = self._pipeline.add(
            "map_stateful", (self._parent,), fn=fn, create_fn=create_fn, key_fn=self._key_fn
        )
        return Stage(self._pipeline, node)


class WindowedStage(Generic[T]):
    """Timestamped items split into windows, waiting for ``aggregate`` or ``group_by``."""

    def __init__(self, pipeline: Pipeline, parent_id: int, definition: WindowDefinition) -> None:
        self._pipeline = pipeline
        self._parent = parent_id
        self._definition = definition

    def group_by(self, key_fn: Callable[[T], K]) -> GroupedWindowStage[K, T]:
        """Windows per key; same as ``group_by(key_fn).window(definition)``."""
        check_callable(self._pipeline.next_name("window"), key_fn, "key_fn")
        return GroupedWindowStage(self._pipeline, self._parent, self._definition, key_fn)

    def aggregate(self, op: AggregateOperation[T, Any, R]) -> Stage[tuple[int, int, R]]:
        """Emits ``(window_start, window_end, result)`` once the watermark passes the end."""
        name = self._pipeline.next_name("window")
        operation = as_operation(name, op, _NO_INITIAL)
        node = self._pipeline.add("window", (self._parent,), window=self._definition, op=operation)
        return Stage(self._pipeline, node)


class GroupedWindowStage(Generic[K, T]):
    """Timestamped items windowed per key, waiting for ``aggregate``."""

    def __init__(
        self,
        pipeline: Pipeline,
        parent_id: int,
        definition: WindowDefinition,
        key_fn: Callable[[T], K],
    ) -> None:
        self._pipeline = pipeline
        self._parent = parent_id
        self._definition = definition
        self._key_fn = key_fn

    def aggregate(self, op: AggregateOperation[T, Any, R]) -> Stage[tuple[int, int, K, R]]:
        """Emits ``(window_start, window_end, key, result)`` once the watermark passes."""
        name = self._pipeline.next_name("window")
        operation = as_operation(name, op, _NO_INITIAL)
        node = self._pipeline.add(
            "window",
            (self._parent,),
            window=self._definition,
            op=operation,
            key_fn=self._key_fn,
        )
        return Stage(self._pipeline, node)
