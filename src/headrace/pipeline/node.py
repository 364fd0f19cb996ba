"""The frozen record of one pipeline stage, as the planner reads it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from headrace.pipeline.aggregate import AggregateOperation
from headrace.pipeline.sinks import SinkDescriptor
from headrace.pipeline.sources import SourceDescriptor
from headrace.pipeline.window import WindowDefinition

__all__ = ["STATELESS", "Node"]

#: Kinds the planner fuses into one loop: they keep no state between items.
STATELESS = frozenset({"map", "filter", "flat_map", "peek", "timestamps"})


@dataclass(frozen=True)
class Node:
    """One stage of a pipeline: its kind, inputs (node ids, port order) and parameters.

    Kinds: ``source``, ``map``, ``filter``, ``flat_map``, ``peek``, ``timestamps``,
    ``aggregate`` (global, or keyed when ``key_fn`` is set), ``window`` (a windowed
    aggregate, keyed when ``key_fn`` is set), ``distinct``, ``sort``, ``map_stateful``
    (keyed when ``key_fn`` is set), ``merge``, ``join`` (input 0 probes, input 1 builds),
    ``rebalance`` and ``sink``.
    """

    id: int
    kind: str
    name: str
    inputs: tuple[int, ...] = ()
    fn: Callable[..., Any] | None = None
    key_fn: Callable[..., Any] | None = None
    other_key_fn: Callable[..., Any] | None = None
    create_fn: Callable[[], Any] | None = None
    op: AggregateOperation[Any, Any, Any] | None = None
    window: WindowDefinition | None = None
    source: SourceDescriptor | None = None
    sink: SinkDescriptor | None = None
    lag_ms: int = 0
    reverse: bool = False
    timestamped: bool = False
    streaming: bool = False

    @property
    def stateless(self) -> bool:
        """True for the kinds fused into one loop."""
        return self.kind in STATELESS
