"""The Pipeline: a DAG of frozen nodes, the factories of sources and sinks, validation."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from headrace.errors import PipelineDefinitionError
from headrace.pipeline.node import Node
from headrace.pipeline.parameters import Parameter
from headrace.pipeline.sinks import (
    CallableSink,
    FileSink,
    ListSink,
    LoggerSink,
    MapSink,
    StreamSink,
)
from headrace.pipeline.sources import (
    FileSource,
    GeneratorSource,
    ItemsSource,
    ListSource,
    MapSource,
    SourceDescriptor,
    StreamSource,
)
from headrace.pipeline.stage import Stage, check_callable

__all__ = ["NameResolver", "Pipeline"]

#: Kinds whose result appears only when the input ends, so an unbounded input is an error.
_NEEDS_END = frozenset({"aggregate", "sort"})
#: Kinds whose output keeps the event time of their input.
_KEEPS_TIME = frozenset({"map", "filter", "flat_map", "peek", "rebalance", "distinct"})


class NameResolver(Protocol):
    """What validation asks of a data-structure provider: do these names exist."""

    def has_list(self, name: str) -> bool:
        """True if a List of this name exists."""
        ...

    def has_map(self, name: str) -> bool:
        """True if a Map of this name exists."""
        ...

    def has_stream(self, name: str) -> bool:
        """True if a Stream of this name exists."""
        ...


class Pipeline:
    r"""A dataflow definition: sources, stages and sinks. Defining runs nothing.

    Example:
        >>> p = Pipeline.create()
        >>> p.read_from(Pipeline.from_list("numbers", [1, 2, 3])) \
        ...     .map(lambda x: x * 2).filter(lambda x: x > 4) \
        ...     .write_to(Pipeline.to_list("results"))
        >>> [n.kind for n in p.nodes]
        ['source', 'map', 'filter', 'sink']
    """

    def __init__(self) -> None:
        self._nodes: list[Node] = []

    @classmethod
    def create(cls) -> Pipeline:
        """A new, empty pipeline."""
        return cls()

    @property
    def nodes(self) -> tuple[Node, ...]:
        """Every node, in the order they were added (inputs always come first)."""
        return tuple(self._nodes)

    def node(self, node_id: int) -> Node:
        """The node with this id."""
        return self._nodes[node_id]

    def next_name(self, kind: str) -> str:
        """The name the next node of ``kind`` will get (used to name errors early)."""
        return f"{kind}#{len(self._nodes)}"

    def add(self, kind: str, inputs: tuple[int, ...], **fields: Any) -> int:
        """Appends a node whose inputs are ``inputs``; returns its id."""
        parents = [self._nodes[i] for i in inputs]
        timestamped = kind == "timestamps" or (
            bool(parents)
            and all(p.timestamped for p in parents)
            and (kind in _KEEPS_TIME or kind == "merge")
        )
        source = fields.get("source")
        streaming = any(p.streaming for p in parents) or (
            isinstance(source, SourceDescriptor) and source.streaming
        )
        node = Node(
            id=len(self._nodes),
            kind=kind,
            name=self.next_name(kind),
            inputs=inputs,
            timestamped=timestamped,
            streaming=streaming,
            **fields,
        )
        self._nodes.append(node)
        return node.id

    def read_from(self, source: SourceDescriptor) -> Stage[Any]:
        """Starts a branch of the pipeline at ``source``.

        Raises:
            PipelineDefinitionError: ``source`` is not a source.
        """
        if not isinstance(source, SourceDescriptor):
            raise PipelineDefinitionError(
                self.next_name("source"), f"read_from needs a source, got {type(source).__name__}"
            )
        return Stage(self, self.add("source", (), source=source))

    # ------------------------------------------------------------------ validation

    def validate(self, provider: NameResolver | None = None) -> None:
        """Checks the pipeline can run; with ``provider``, that the names it reads exist.

        Raises:
            PipelineDefinitionError: naming the first stage found at fault.
        """
        if not any(n.kind == "sink" for n in self._nodes):
            msg = "has no sink: call write_to(...)"
            raise PipelineDefinitionError("pipeline", msg)
        consumed = {i for n in self._nodes for i in n.inputs}
        for node in self._nodes:
            if node.kind != "sink" and node.id not in consumed:
                raise PipelineDefinitionError(node.name, "is written nowhere: add write_to(...)")
            self._check_functions(node)
            self._check_time(node)
            if provider is not None and node.source is not None:
                self._check_source_exists(node, provider)

    def _check_functions(self, node: Node) -> None:
        for what in ("fn", "key_fn", "other_key_fn", "create_fn"):
            value = getattr(node, what)
            if value is not None:
                check_callable(node.name, value, what)
        if node.kind in ("map", "filter", "flat_map", "peek", "timestamps", "map_stateful"):
            check_callable(node.name, node.fn, "fn")

    def _check_time(self, node: Node) -> None:
        parents = [self._nodes[i] for i in node.inputs]
        if node.kind == "window" and not parents[0].timestamped:
            raise PipelineDefinitionError(node.name, "window needs a timestamped stage")
        if node.kind in _NEEDS_END and parents[0].streaming:
            raise PipelineDefinitionError(
                node.name, f"{node.kind} on an unbounded stream never ends: window it first"
            )
        if node.kind == "join" and parents[1].streaming:
            raise PipelineDefinitionError(node.name, "the joined (build) side must be bounded")
        if node.kind == "timestamps":
            self._check_timestamps_follow_source(node)

    def _check_timestamps_follow_source(self, node: Node) -> None:
        # Lateness is judged per source partition, so the path back to the source
        # must not cross a shuffle or a second timestamp assignment.
        current = self._nodes[node.inputs[0]]
        while current.kind != "source":
            if not current.stateless or current.kind == "timestamps":
                raise PipelineDefinitionError(
                    node.name,
                    "with_timestamps must follow a source through map/filter/flat_map/peek "
                    f"only, not {current.kind}",
                )
            current = self._nodes[current.inputs[0]]

    @staticmethod
    def _check_source_exists(node: Node, provider: NameResolver) -> None:
        source = node.source
        if isinstance(source, ListSource) and source.items is None:
            if not provider.has_list(source.name):
                raise PipelineDefinitionError(node.name, f"no List named {source.name!r}")
        elif isinstance(source, MapSource) and not provider.has_map(source.name):
            raise PipelineDefinitionError(node.name, f"no Map named {source.name!r}")
        # A Stream needs no check: like a Jet journal it is empty until written, and the
        # first read creates it (one partition; ``get_stream(name, partitions=n)`` first
        # to have more).

    # ------------------------------------------------------------------ sources

    @staticmethod
    def parameter(name: str, default: Any = None) -> Parameter:
        """A runtime parameter: ``.value`` is the run's value (job, parameter set, run).

        Example:
            >>> Pipeline.parameter("threshold", default=10).value
            10
        """
        return Parameter(name, default)

    @staticmethod
    def from_list(name: str, items: Iterable[Any] | None = None) -> ListSource:
        """Reads the List ``name``; with ``items``, fills it with them at run time first.

        Example:
            >>> Pipeline.from_list("numbers", [1, 2]).items
            (1, 2)
        """
        return ListSource(name, None if items is None else tuple(items))

    @staticmethod
    def from_map(name: str) -> MapSource:
        """Reads the Map ``name`` as ``(key, value)`` pairs.

        Example:
            >>> Pipeline.from_map("m").name
            'm'
        """
        return MapSource(name)

    @staticmethod
    def items(iterable: Iterable[Any]) -> ItemsSource:
        """Reads items held by the pipeline; a non-sequence iterable is read into a tuple.

        Example:
            >>> Pipeline.items(x for x in range(3)).items
            (0, 1, 2)
        """
        seq = iterable if isinstance(iterable, Sequence) else tuple(iterable)
        return ItemsSource(seq)

    @staticmethod
    def generator(
        rate: float, count: int | None = None, fn: Callable[[int], Any] | None = None
    ) -> GeneratorSource:
        """Emits ``fn(i)`` (default ``i``) at ``rate`` items/s; unbounded if ``count`` is None.

        Example:
            >>> Pipeline.generator(1000, count=10).count
            10
        """
        if rate <= 0:
            msg = "rate must be positive"
            raise PipelineDefinitionError("generator", msg)
        if fn is not None:
            check_callable("generator", fn, "fn")
        return GeneratorSource(float(rate), count, fn)

    @staticmethod
    def from_stream(name: str, start: str = "earliest") -> StreamSource:
        """Reads the Stream ``name`` (same as ``StreamSource(name, start)``).

        Example:
            >>> Pipeline.from_stream("events", "latest").start
            'latest'
        """
        return StreamSource(name, start)

    @staticmethod
    def from_text(path: str, encoding: str = "utf-8") -> FileSource:
        """Reads the lines of the files at ``path`` (a file, directory or glob).

        Example:
            >>> Pipeline.from_text("/data/*.log").fmt
            'text'
        """
        return FileSource(path, "text", encoding=encoding)

    @staticmethod
    def from_csv(path: str, header: bool = True, encoding: str = "utf-8") -> FileSource:
        """Reads CSV rows: a dict per row when ``header``, else a list.

        Example:
            >>> Pipeline.from_csv("/data/a.csv").header
            True
        """
        return FileSource(path, "csv", header=header, encoding=encoding)

    @staticmethod
    def from_json_lines(path: str, encoding: str = "utf-8") -> FileSource:
        """Reads one JSON value per line.

        Example:
            >>> Pipeline.from_json_lines("/data/a.jsonl").fmt
            'jsonl'
        """
        return FileSource(path, "jsonl", encoding=encoding)

    # ------------------------------------------------------------------ sinks

    @staticmethod
    def to_list(name: str) -> ListSink:
        """Appends to the List ``name``.

        Example:
            >>> Pipeline.to_list("results").name
            'results'
        """
        return ListSink(name)

    @staticmethod
    def to_map(
        name: str,
        key_fn: Callable[[Any], Any] | None = None,
        value_fn: Callable[[Any], Any] | None = None,
    ) -> MapSink:
        """Puts entries into the Map ``name``; items are ``(key, value)`` unless told.

        Example:
            >>> Pipeline.to_map("m", key_fn=str).key_fn(1)
            '1'
        """
        fields: dict[str, Any] = {}
        if key_fn is not None:
            check_callable(f"to_map({name})", key_fn, "key_fn")
            fields["key_fn"] = key_fn
        if value_fn is not None:
            check_callable(f"to_map({name})", value_fn, "value_fn")
            fields["value_fn"] = value_fn
        return MapSink(name, **fields)

    @staticmethod
    def to_stream(name: str) -> StreamSink:
        """Appends to the Stream ``name``.

        Example:
            >>> Pipeline.to_stream("out").name
            'out'
        """
        return StreamSink(name)

    @staticmethod
    def to_logger(logger: str = "headrace.pipeline") -> LoggerSink:
        """Logs each item at INFO.

        Example:
            >>> Pipeline.to_logger().logger
            'headrace.pipeline'
        """
        return LoggerSink(logger)

    @staticmethod
    def to_callable(fn: Callable[[Any], Any]) -> CallableSink:
        """Calls ``fn(item)`` for each item, in the process that runs the pipeline.

        Example:
            >>> Pipeline.to_callable(print).fn is print
            True
        """
        check_callable("to_callable", fn, "fn")
        return CallableSink(fn)

    @staticmethod
    def to_text(directory: str) -> FileSink:
        """Writes ``str(item)`` lines into part files under ``directory``.

        Example:
            >>> Pipeline.to_text("/tmp/out").fmt
            'text'
        """
        return FileSink(directory, "text")

    @staticmethod
    def to_csv(directory: str) -> FileSink:
        """Writes CSV part files under ``directory``.

        Example:
            >>> Pipeline.to_csv("/tmp/out").fmt
            'csv'
        """
        return FileSink(directory, "csv")

    @staticmethod
    def to_json_lines(directory: str) -> FileSink:
        """Writes JSON-lines part files under ``directory``.

        Example:
            >>> Pipeline.to_json_lines("/tmp/out").fmt
            'jsonl'
        """
        return FileSink(directory, "jsonl")
