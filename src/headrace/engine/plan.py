"""The execution plan: stateless chains fused into vertices, joined by routed edges."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from headrace.pipeline import Node, Pipeline

__all__ = ["EdgeSpec", "Plan", "VertexSpec", "build_plan"]


@dataclass(frozen=True)
class EdgeSpec:
    """How a vertex's output reaches another vertex's input port.

    ``routing`` is ``forward`` (same partition), ``hash`` (by ``key_fn``), ``single``
    (partition 0), ``round_robin`` or ``broadcast``. ``combine`` names the sender-side
    pre-aggregation (``keyed``, ``global``, ``window``) or is ``None`` for raw items.
    """

    src: int
    dst: int
    port: int
    routing: str
    key_fn: Callable[[Any], Any] | None = None
    combine: str | None = None
    timestamped: bool = False


@dataclass(frozen=True)
class VertexSpec:
    """A head (source, stateful stage, merge, rebalance, or nothing) and its fused chain."""

    id: int
    head: Node | None
    chain: tuple[Node, ...]
    sinks: tuple[Node, ...]
    inputs: tuple[EdgeSpec, ...]
    outputs: tuple[EdgeSpec, ...]

    @property
    def nodes(self) -> tuple[Node, ...]:
        """Every node the vertex runs, head first."""
        return ((self.head,) if self.head is not None else ()) + self.chain

    @property
    def name(self) -> str:
        """The first stage's name."""
        first = self.nodes[0] if self.nodes else self.sinks[0]
        return first.name

    @property
    def tail_timestamped(self) -> bool:
        """True when the items leaving the vertex carry event time."""
        nodes = self.nodes
        return bool(nodes) and nodes[-1].timestamped

    @property
    def timestamps(self) -> Node | None:
        """The ``with_timestamps`` node of the chain, if any."""
        return next((n for n in self.chain if n.kind == "timestamps"), None)


@dataclass(frozen=True)
class Plan:
    """The vertices in topological order, and the source vertex of each timestamps node."""

    vertices: tuple[VertexSpec, ...]
    time_source: tuple[tuple[int, int], ...]  # (vertex with timestamps, its source vertex)


def _routing(head: Node | None, port: int) -> tuple[str, Callable[[Any], Any] | None, str | None]:
    """Routing, key function and combiner of an edge into a vertex with this head."""
    if head is None or head.kind == "merge":
        return "forward", None, None
    kind, key = head.kind, head.key_fn
    if kind == "rebalance":
        return "round_robin", None, None
    if kind == "join":
        return ("forward", None, None) if port == 0 else ("broadcast", None, None)
    if kind in ("aggregate", "window"):
        mergeable = head.op is not None and head.op.combine is not None
        combine = None
        if mergeable:
            combine = "window" if kind == "window" else ("keyed" if key else "global")
        return ("hash" if key else "single"), key, combine
    if kind == "distinct":
        return "hash", key or _identity, None
    if kind == "map_stateful" and key is not None:
        return "hash", key, None
    return "single", None, None  # sort, global map_stateful


def _identity(item: Any) -> Any:
    return item


class _Builder:
    def __init__(self, pipeline: Pipeline) -> None:
        self.nodes = pipeline.nodes
        self.consumers: dict[int, list[int]] = {n.id: [] for n in self.nodes}
        for n in self.nodes:
            for i in n.inputs:
                self.consumers[i].append(n.id)
        self.vertex_of: dict[int, int] = {}  # node id -> vertex index
        self.heads: list[Node | None] = []
        self.chains: list[list[Node]] = []
        self.sinks: list[list[Node]] = []
        self.edges: list[EdgeSpec] = []

    def new_vertex(self, head: Node | None) -> int:
        self.heads.append(head)
        self.chains.append([])
        self.sinks.append([])
        return len(self.heads) - 1

    def tail_timestamped(self, v: int) -> bool:
        nodes = [*([self.heads[v]] if self.heads[v] else []), *self.chains[v]]
        return bool(nodes) and bool(nodes[-1] and nodes[-1].timestamped)

    def place(self, node: Node) -> None:
        if node.kind == "source":
            self.vertex_of[node.id] = self.new_vertex(node)
            return
        parent = node.inputs[0]
        pv = self.vertex_of[parent]
        if node.kind == "sink":
            self.sinks[pv].append(node)
            return
        if node.stateless and len(node.inputs) == 1 and len(self.consumers[parent]) == 1:
            self.chains[pv].append(node)
            self.vertex_of[node.id] = pv
            return
        head = None if node.stateless else node
        v = self.new_vertex(head)
        if head is None:
            self.chains[v].append(node)
        self.vertex_of[node.id] = v
        for port, i in enumerate(node.inputs):
            routing, key, combine = _routing(head, port)
            src = self.vertex_of[i]
            self.edges.append(
                EdgeSpec(src, v, port, routing, key, combine, self.tail_timestamped(src))
            )

    def time_source(self, v: int) -> int:
        """The source vertex whose splits pace the timestamps node in vertex ``v``."""
        while True:
            head = self.heads[v]
            if head is not None and head.kind == "source":
                return v
            v = next(e.src for e in self.edges if e.dst == v)

    def build(self) -> Plan:
        for node in self.nodes:
            self.place(node)
        vertices = tuple(
            VertexSpec(
                id=v,
                head=self.heads[v],
                chain=tuple(self.chains[v]),
                sinks=tuple(self.sinks[v]),
                inputs=tuple(e for e in self.edges if e.dst == v),
                outputs=tuple(e for e in self.edges if e.src == v),
            )
            for v in range(len(self.heads))
        )
        time_source = tuple(
            (v.id, self.time_source(v.id)) for v in vertices if v.timestamps is not None
        )
        return Plan(vertices, time_source)


def build_plan(pipeline: Pipeline) -> Plan:
    r"""Fuses the pipeline's stateless chains and routes the edges between vertices.

    Example:
        >>> from headrace.pipeline import Pipeline, counting
        >>> p = Pipeline.create()
        >>> p.read_from(Pipeline.items(["a b"])).flat_map(str.split) \
        ...     .group_by(lambda w: w).aggregate(counting()).write_to(Pipeline.to_list("o"))
        >>> [(v.name, [n.kind for n in v.chain]) for v in build_plan(p).vertices]
        [('source#0', ['flat_map']), ('aggregate#2', [])]
    """
    return _Builder(pipeline).build()
