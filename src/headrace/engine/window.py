"""Window state: accumulators per (window, key), closed when the watermark passes."""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from itertools import chain, repeat
from operator import itemgetter
from typing import Any

from headrace.pipeline import AggregateOperation, WindowDefinition

__all__ = ["FixedWindows", "SessionWindows", "make_windows"]

_MISSING: Any = object()
INF = float("inf")
#: The window start of a ``(start, key)`` slot (a C call: no generator step per slot).
_START = itemgetter(0)


class FixedWindows:
    """Tumbling and sliding windows: one accumulator per (window start, key)."""

    def __init__(self, definition: WindowDefinition, op: AggregateOperation[Any, Any, Any]):
        self.size = definition.size_ms
        self.definition = definition
        self.op = op
        self.tumbling = definition.kind == "tumbling"
        self.state: dict[tuple[int, Any], Any] = Counter() if op.count_keys else {}
        self.min_start: int | None = None

    def _note(self, start: int) -> None:
        if self.min_start is None or start < self.min_start:
            self.min_start = start

    def add(self, keys: Sequence[Any], items: Sequence[Any], ts: Sequence[int]) -> None:
        """Folds raw items (with their keys and event times) into their windows."""
        if not ts:
            return
        size, state = self.size, self.state
        if self.tumbling:
            slots = [(t - t % size, k) for t, k in zip(ts, keys, strict=True)]
            self._note(min(ts) - min(ts) % size)
            if self.op.count_keys:
                Counter.update(state, slots)  # type: ignore[call-overload]
                return
            pairs = zip(slots, items, strict=True)
        else:
            starts = self.definition.starts
            pairs = (  # type: ignore[assignment]
                ((s, k), v) for t, k, v in zip(ts, keys, items, strict=True) for s in starts(t)
            )
            self._note(starts(min(ts))[0])
        create, acc_fn, get = self.op.create, self.op.accumulate, state.get
        for slot, v in pairs:
            acc = get(slot, _MISSING)
            state[slot] = acc_fn(create() if acc is _MISSING else acc, v)

    def add_runs(
        self,
        keys: list[Any],
        items: list[Any] | None,
        starts: list[int],
        positions: list[int],
    ) -> None:
        """Tumbling only: folds items the fused loop keyed, in runs of one window each.

        ``keys[positions[i]:positions[i + 1]]`` (to the end for the last run) are in the
        window starting at ``starts[i]``. The ``(start, key)`` slots are paired at C
        speed (``zip`` hands the same tuple back while nothing keeps it, so a slot
        already open costs no tuple). ``items`` may be None for a counting operation.
        """
        if not keys:
            return
        state = self.state
        self._note(min(starts))
        ends = positions[1:]
        ends.append(len(keys))
        lengths = list(map(operator.sub, ends, positions))
        slots = zip(chain.from_iterable(map(repeat, starts, lengths)), keys, strict=True)
        if self.op.count_keys:
            Counter.update(state, slots)  # type: ignore[call-overload]
            return
        assert items is not None
        create, acc_fn, get = self.op.create, self.op.accumulate, state.get
        for slot, v in zip(slots, items, strict=True):
            acc = get(slot, _MISSING)
            state[slot] = acc_fn(create() if acc is _MISSING else acc, v)

    def add_partials(self, partials: Mapping[tuple[int, Any], Any]) -> None:
        """Merges accumulators that senders folded: ``{(start, key): acc}`` (see ``take``).

        Into an empty state they are copied at C speed; counts merge the smaller side
        into the larger (addition commutes, as merging partials from several senders
        in arrival order already assumes).
        """
        if not partials:
            return
        combine = self.op.combine
        assert combine is not None  # partials are only sent for mergeable operations
        least = min(map(_START, partials))
        if self.min_start is None or least < self.min_start:
            self.min_start = least
        state = self.state
        if not state:
            self.state = Counter(partials) if self.op.count_keys else dict(partials)
            return
        if self.op.count_keys:
            if len(partials) > len(state):
                state, partials = Counter(partials), state
                self.state = state
            get_count = state.get
            for slot, n in partials.items():
                state[slot] = get_count(slot, 0) + n
            return
        get = state.get
        for slot, acc in partials.items():
            old = get(slot, _MISSING)
            state[slot] = acc if old is _MISSING else combine(old, acc)

    def take(self, watermark: float) -> dict[tuple[int, Any], Any]:
        """Removes and returns the windows ending by ``watermark``: ``{(start, key): acc}``.

        When every open window ends by then (always at the end of the input) the state
        itself is handed over and a new one started: no copy, no second hash per window.
        """
        if self.min_start is None or self.min_start + self.size > watermark:
            return {}
        size, state = self.size, self.state
        if watermark != INF:
            last = watermark - size
            rest = {slot: acc for slot, acc in state.items() if slot[0] > last}
            if rest:
                # Slots leave a dict without Counter's Python-level __delitem__; the
                # larger side keeps the dict it is in, the smaller one is moved out.
                remove = dict.__delitem__
                if 2 * len(rest) < len(state):  # most close: hand the state over
                    for slot in rest:
                        remove(state, slot)
                    self.state = Counter(rest) if self.op.count_keys else rest
                    self.min_start = min(map(_START, rest))
                    return state
                taken = {slot: acc for slot, acc in state.items() if slot[0] <= last}
                for slot in taken:
                    remove(state, slot)
                self.min_start = min(map(_START, state))
                return taken
        self.state = Counter() if self.op.count_keys else {}
        self.min_start = None
        return state

    def rows(self, taken: Mapping[tuple[int, Any], Any]) -> list[tuple[int, int, Any, Any]]:
        """``take()``'s windows as ``(start, end, key, acc)`` rows."""
        size = self.size
        return [(s, s + size, k, acc) for (s, k), acc in taken.items()]

    def close(self, watermark: float) -> list[tuple[int, int, Any, Any]]:
        """Removes and returns ``(start, end, key, acc)`` of windows ending by ``watermark``."""
        return self.rows(self.take(watermark))

    def export_state(self) -> Any:
        """The open windows' accumulators, for a snapshot."""
        return dict(self.state)

    def import_state(self, state: Any) -> None:
        """Replaces the open windows with a snapshot's."""
        self.state = Counter(state) if self.op.count_keys else dict(state)
        self.min_start = min(map(_START, self.state), default=None)


class SessionWindows:
    """Per key, sorted non-overlapping sessions ``[start, end, acc]``."""

    def __init__(self, definition: WindowDefinition, op: AggregateOperation[Any, Any, Any]):
        self.gap = definition.size_ms
        self.op = op
        self.state: dict[Any, list[list[Any]]] = {}

    def _merge(
        self, key: Any, start: int, end: int, acc: Any, fold: Callable[[Any, Any], Any]
    ) -> None:
        sessions = self.state.setdefault(key, [])
        keep: list[list[Any]] = []
        for s in sessions:
            if s[0] < end and start < s[1]:
                start, end, acc = min(start, s[0]), max(end, s[1]), fold(s[2], acc)
            else:
                keep.append(s)
        keep.append([start, end, acc])
        keep.sort(key=lambda s: s[0])
        self.state[key] = keep

    def add(self, keys: Sequence[Any], items: Sequence[Any], ts: Sequence[int]) -> None:
        """Folds raw items into their keys' sessions, merging the sessions they bridge."""
        op, gap = self.op, self.gap

        def fold_item(old: Any, new: Any) -> Any:
            # ``new`` is a single item wrapped as an accumulator from create()
            return op.combine(old, new) if op.combine else _refold(op, old, new)

        for k, v, t in zip(keys, items, ts, strict=True):
            acc = op.accumulate(op.create(), v)
            self._merge(k, t, t + gap, _Single(v, acc) if op.combine is None else acc, fold_item)

    def add_partials(self, partials: Sequence[tuple[int, int, Any, Any]]) -> None:
        """Merges sessions computed by senders: ``(start, end, key, acc)``."""
        combine = self.op.combine
        assert combine is not None  # partials are only sent for mergeable operations
        for start, end, key, acc in partials:
            self._merge(key, start, end, acc, combine)

    def close(self, watermark: float) -> list[tuple[int, int, Any, Any]]:
        """Removes and returns sessions ending by ``watermark``."""
        out: list[tuple[int, int, Any, Any]] = []
        for key in list(self.state):
            sessions = self.state[key]
            while sessions and sessions[0][1] <= watermark:
                s = sessions.pop(0)
                acc = s[2].acc if isinstance(s[2], _Single) else s[2]
                out.append((s[0], s[1], key, acc))
            if not sessions:
                del self.state[key]
        return out

    def take(self, watermark: float) -> list[tuple[int, int, Any, Any]]:
        """The sessions ending by ``watermark``, removed: partials as senders ship them."""
        return self.close(watermark)

    def rows(self, taken: list[tuple[int, int, Any, Any]]) -> list[tuple[int, int, Any, Any]]:
        """``take()``'s sessions as ``(start, end, key, acc)`` rows (they already are)."""
        return taken

    def export_state(self) -> Any:
        """The open sessions per key, for a snapshot."""
        return {k: [list(s) for s in sessions] for k, sessions in self.state.items()}

    def import_state(self, state: Any) -> None:
        """Replaces the open sessions with a snapshot's."""
        self.state = {k: [list(s) for s in sessions] for k, sessions in state.items()}


class _Single:
    """An accumulator that remembers its items, for operations that cannot combine."""

    __slots__ = ("acc", "items")

    def __init__(self, item: Any, acc: Any) -> None:
        self.items = [item]
        self.acc = acc


def _refold(op: AggregateOperation[Any, Any, Any], old: _Single, new: _Single) -> _Single:
    # Without combine, a merged session re-folds the later session's items one by one.
    for item in new.items:
        old.acc = op.accumulate(old.acc, item)
        old.items.append(item)
    return old


def make_windows(
    definition: WindowDefinition, op: AggregateOperation[Any, Any, Any]
) -> FixedWindows | SessionWindows:
    """The window state for a definition."""
    if definition.kind == "session":
        return SessionWindows(definition, op)
    return FixedWindows(definition, op)
