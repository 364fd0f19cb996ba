"""Stateful heads of vertices: what a partition does with the items routed to it.

Each head receives raw items (keyed ``(key, item)`` pairs on hash edges) or partial
accumulators from senders that combined before the shuffle, and returns the items it
emits. ``export_state``/``import_state`` carry a head's state through a snapshot: what
they return is pickled at once, so it may share objects with the live state.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from headrace.engine.errors import UserFunctionError, short_repr
from headrace.engine.window import make_windows
from headrace.pipeline import AggregateOperation, Node

__all__ = ["Head", "make_head"]

_MISSING: Any = object()
#: ``AggregateOperation.finish``'s default: results that need no finishing step.
_IDENTITY = AggregateOperation.__dataclass_fields__["finish"].default
#: What a head returns: output items and their event times (or None).
Output = tuple[list[Any], list[int] | None]


def fail(stage: str, item: object, exc: Exception) -> UserFunctionError:
    """The error for a user function that raised inside a stateful stage."""
    import traceback

    return UserFunctionError(
        stage,
        short_repr(item),
        "".join(traceback.format_exception(exc)),
        f"{type(exc).__name__}: {exc}",
    )


class Head:
    """A pass-through head (a vertex after a branch, a merge, a rebalance).

    ``sole_sender`` is True when one partition of one input edge is all that feeds it
    (parallelism 1): partial results it receives are then already complete.
    """

    def __init__(self, node: Node | None, partition: int) -> None:
        self.node = node
        self.partition = partition
        self.name = node.name if node is not None else ""
        self.sole_sender = False

    def on_data(self, port: int, items: list[Any], ts: list[int] | None) -> Output | None:
        """Raw items arrived on ``port``."""
        return items, ts

    def on_partials(self, port: int, partials: list[Any]) -> Output | None:
        """Partial accumulators arrived on ``port``."""
        msg = f"{self.name} does not take partial results"
        raise TypeError(msg)

    def partials_count(self, partials: Any) -> int:
        """How many accumulators ``partials`` holds (what the stage's metrics count)."""
        return len(partials)

    def on_watermark(self, watermark: float) -> Output | None:
        """Event time has reached ``watermark`` on every input."""
        return None

    def on_port_end(self, port: int) -> Output | None:
        """Every sender of ``port`` has finished."""
        return None

    def on_end(self) -> Output | None:
        """Every input has finished."""
        return None

    def export_state(self) -> Any:
        """The state a snapshot saves."""
        return None

    def held(self) -> int:
        """How many records (keys, items, windows) the stage holds now."""
        return 0

    def import_state(self, state: Any) -> None:
        """Restores a snapshot's state."""


class KeyedAggregate(Head):
    """``(key, result)`` per key; raw pairs are folded, partials are combined."""

    def __init__(self, node: Node, partition: int) -> None:
        super().__init__(node, partition)
        assert node.op is not None
        self.op = node.op
        self.state: dict[Any, Any] = {}

    def on_data(self, port: int, items: list[Any], ts: list[int] | None) -> Output | None:
        state, get, create, acc_fn = self.state, self.state.get, self.op.create, self.op.accumulate
        try:
            for k, v in items:
                acc = get(k, _MISSING)
                state[k] = acc_fn(create() if acc is _MISSING else acc, v)
        except Exception as exc:
            raise fail(self.name, v, exc) from exc
        return None

    def on_partials(self, port: int, partials: Any) -> Output | None:
        """Merges a sender's ``{key: acc}`` (the first is taken over: the sender let go)."""
        combine = self.op.combine
        assert combine is not None
        if not self.state:  # the first partials: nothing to combine with
            self.state = partials if isinstance(partials, dict) else dict(partials)
            return None
        state = self.state
        if self.op.count_keys and isinstance(partials, dict) and len(partials) > len(state):
            state, partials = partials, state  # counts add: fold the smaller in
            self.state = state
        get = state.get
        for k, acc in partials.items() if isinstance(partials, dict) else partials:
            old = get(k, _MISSING)
            state[k] = acc if old is _MISSING else combine(old, acc)
        return None

    def on_end(self) -> Output | None:
        finish = self.op.finish
        state, self.state = self.state, {}
        if finish is _IDENTITY:
            return list(state.items()), None
        return [(k, finish(a)) for k, a in state.items()], None

    def export_state(self) -> Any:
        return self.state

    def import_state(self, state: Any) -> None:
        self.state = dict(state)

    def held(self) -> int:
        return len(self.state)


class GlobalAggregate(Head):
    """One result over all items; only partition 0 receives any and emits it."""

    def __init__(self, node: Node, partition: int) -> None:
        super().__init__(node, partition)
        assert node.op is not None
        self.op = node.op
        self.acc = self.op.create()

    def on_data(self, port: int, items: list[Any], ts: list[int] | None) -> Output | None:
        op = self.op
        try:
            if op.accumulate_batch is not None:
                self.acc = op.accumulate_batch(self.acc, items)
            else:
                acc, fn = self.acc, op.accumulate
                for v in items:
                    acc = fn(acc, v)
                self.acc = acc
        except Exception as exc:
            raise fail(self.name, items[:1], exc) from exc
        return None

    def on_partials(self, port: int, partials: list[Any]) -> Output | None:
        combine = self.op.combine
        assert combine is not None
        for acc in partials:
            self.acc = combine(self.acc, acc)
        return None

    def on_end(self) -> Output | None:
        if self.partition != 0:
            return None
        return [self.op.finish(self.acc)], None

    def export_state(self) -> Any:
        return self.acc

    def import_state(self, state: Any) -> None:
        self.acc = state


class Distinct(Head):
    """The first item per key."""

    def __init__(self, node: Node, partition: int) -> None:
        super().__init__(node, partition)
        self.seen: set[Any] = set()

    def on_data(self, port: int, items: list[Any], ts: list[int] | None) -> Output | None:
        seen, out = self.seen, []
        add = seen.add
        out_ts: list[int] | None = [] if ts is not None else None
        for i, (k, v) in enumerate(items):
            if k not in seen:
                add(k)
                out.append(v)
                if out_ts is not None and ts is not None:
                    out_ts.append(ts[i])
        return out, out_ts

    def held(self) -> int:
        return len(self.seen)

    def export_state(self) -> Any:
        return self.seen

    def import_state(self, state: Any) -> None:
        self.seen = set(state)


class Sort(Head):
    """Collects everything (on partition 0) and emits it sorted at the end."""

    def __init__(self, node: Node, partition: int) -> None:
        super().__init__(node, partition)
        self.items: list[Any] = []

    def on_data(self, port: int, items: list[Any], ts: list[int] | None) -> Output | None:
        self.items.extend(items)
        return None

    def on_end(self) -> Output | None:
        assert self.node is not None
        try:
            self.items.sort(key=self.node.key_fn, reverse=self.node.reverse)
        except Exception as exc:
            raise fail(self.name, self.items[:1], exc) from exc
        return self.items, None

    def held(self) -> int:
        return len(self.items)

    def export_state(self) -> Any:
        return self.items

    def import_state(self, state: Any) -> None:
        self.items = list(state)


class MapStateful(Head):
    """``fn(state, item)`` with a state per key (keyed) or one state (on partition 0)."""

    def __init__(self, node: Node, partition: int) -> None:
        super().__init__(node, partition)
        assert node.fn is not None and node.create_fn is not None
        self.fn, self.create = node.fn, node.create_fn
        self.keyed = node.key_fn is not None
        self.states: dict[Any, Any] = {}

    def on_data(self, port: int, items: list[Any], ts: list[int] | None) -> Output | None:
        out: list[Any] = []
        fn, states = self.fn, self.states
        pairs: Sequence[tuple[Any, Any]] = items if self.keyed else [(None, v) for v in items]
        try:
            for k, v in pairs:
                st = states.get(k, _MISSING)
                if st is _MISSING:
                    st = states[k] = self.create()
                r = fn(st, v)
                if r is not None:
                    out.append(r)
        except Exception as exc:
            raise fail(self.name, v, exc) from exc
        return out, None

    def export_state(self) -> Any:
        return self.states

    def import_state(self, state: Any) -> None:
        self.states = dict(state)


class HashJoin(Head):
    """Port 1 builds a table (broadcast to all partitions); port 0 probes it."""

    def __init__(self, node: Node, partition: int) -> None:
        super().__init__(node, partition)
        assert node.key_fn is not None and node.other_key_fn is not None
        self.key_fn, self.other_key_fn = node.key_fn, node.other_key_fn
        self.table: dict[Any, list[Any]] = {}
        self.built = False
        self.waiting: list[Any] = []

    def on_data(self, port: int, items: list[Any], ts: list[int] | None) -> Output | None:
        if port == 1:
            try:
                for v in items:
                    self.table.setdefault(self.other_key_fn(v), []).append(v)
            except Exception as exc:
                raise fail(self.name, v, exc) from exc
            return None
        if not self.built:
            self.waiting.extend(items)
            return None
        return self._probe(items), None

    def _probe(self, items: list[Any]) -> list[Any]:
        table, key_fn, out = self.table, self.key_fn, []
        try:
            for v in items:
                for other in table.get(key_fn(v), ()):
                    out.append((v, other))
        except Exception as exc:
            raise fail(self.name, v, exc) from exc
        return out

    def on_port_end(self, port: int) -> Output | None:
        if port != 1:
            return None
        self.built = True
        waiting, self.waiting = self.waiting, []
        return self._probe(waiting), None

    def export_state(self) -> Any:
        return (self.table, self.built, self.waiting)

    def import_state(self, state: Any) -> None:
        table, self.built, waiting = state
        self.table, self.waiting = dict(table), list(waiting)


class WindowAggregate(Head):
    """Windowed results, emitted when the watermark passes each window's end."""

    def __init__(self, node: Node, partition: int) -> None:
        super().__init__(node, partition)
        assert node.window is not None and node.op is not None
        self.op = node.op
        self.windows = make_windows(node.window, node.op)
        self.keyed = node.key_fn is not None

    def on_data(self, port: int, items: list[Any], ts: list[int] | None) -> Output | None:
        assert ts is not None
        if self.keyed:
            keys = [k for k, _ in items]
            values = [v for _, v in items]
        else:
            keys, values = [None] * len(items), items
        try:
            self.windows.add(keys, values, ts)
        except Exception as exc:
            raise fail(self.name, values[:1], exc) from exc
        return None

    def on_partials(self, port: int, partials: Any) -> Output | None:
        if self.sole_sender:
            # The only sender closed these windows at its watermark, which is this
            # head's next one: nothing else can add to them, so emit them as they are.
            return self._finish(self.windows.rows(partials))
        self.windows.add_partials(partials)
        return None

    def partials_count(self, partials: Any) -> int:
        """Fixed windows arrive as ``{start: {key: acc}}``: one per (window, key)."""
        if isinstance(partials, dict):
            return sum(map(len, partials.values()))
        return len(partials)

    def on_watermark(self, watermark: float) -> Output | None:
        windows = self.windows
        return self._finish(windows.rows(windows.take(watermark)))  # type: ignore[arg-type]

    def _finish(self, closed: list[tuple[int, int, Any, Any]]) -> Output | None:
        """Closed windows (rows in start order) with their accumulators finished."""
        if not closed:
            return None
        finish = self.op.finish
        if self.keyed:
            if finish is _IDENTITY:
                return closed, None
            return [(s, e, k, finish(a)) for s, e, k, a in closed], None
        return [(s, e, finish(a)) for s, e, _k, a in closed], None

    def on_end(self) -> Output | None:
        return self.on_watermark(float("inf"))

    def held(self) -> int:
        return self.windows.held()

    def export_state(self) -> Any:
        return self.windows.export_state()

    def import_state(self, state: Any) -> None:
        self.windows.import_state(state)


def make_head(node: Node | None, partition: int) -> Head:
    """The head operator for a vertex's head node."""
    if node is None or node.kind in ("merge", "rebalance", "source"):
        return Head(node, partition)
    kind = node.kind
    if kind == "aggregate":
        return KeyedAggregate(node, partition) if node.key_fn else GlobalAggregate(node, partition)
    table: dict[str, type[Head]] = {
        "distinct": Distinct,
        "sort": Sort,
        "map_stateful": MapStateful,
        "join": HashJoin,
        "window": WindowAggregate,
    }
    return table[kind](node, partition)
