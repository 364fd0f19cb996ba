"""Window state: accumulators per (window, key), closed when the watermark passes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from itertools import repeat
from operator import itemgetter
from typing import Any

from headrace.engine import owners
from headrace.pipeline import AggregateOperation, WindowDefinition

__all__ = ["FixedWindows", "SessionWindows", "make_windows"]

_MISSING: Any = object()
INF = float("inf")
#: The start of a ``(start, end, key, acc)`` row.
_START = itemgetter(0)
#: Counts the items of an iterable into a mapping at C speed (``Counter.update``'s core).
_count_elements: Callable[[Any, Any], None] = Counter.update


class FixedWindows:
    """Tumbling and sliding windows: per window start, one accumulator per key.

    The state is ``{start: {key: acc}}``: a batch whose items share a window folds its
    keys into that window's dict at C speed (a ``Counter`` update when counting), with
    no ``(start, key)`` tuple per item; closing windows pops whole starts, without a
    pass over every open slot; and handing a closed window to the partitions owning
    its keys, or turning it into rows, goes per window at C speed (``owners``).
    """

    def __init__(self, definition: WindowDefinition, op: AggregateOperation[Any, Any, Any]):
        self.size = definition.size_ms
        self.definition = definition
        self.op = op
        self.tumbling = definition.kind == "tumbling"
        self.wins: dict[int, dict[Any, Any]] = {}
        #: Each key's owning partition, remembered across windows (see ``split``).
        self._owners: owners.Owners | None = None

    def held(self) -> int:
        """How many (window, key) accumulators are open."""
        return sum(map(len, self.wins.values()))

    def slots(self) -> dict[tuple[int, Any], Any]:
        """The open accumulators as ``{(start, key): acc}``."""
        return {(s, k): acc for s, win in self.wins.items() for k, acc in win.items()}

    def _window(self, start: int) -> dict[Any, Any]:
        win = self.wins.get(start)
        if win is None:
            win = self.wins[start] = {}
        return win

    def add(self, keys: Sequence[Any], items: Sequence[Any], ts: Sequence[int]) -> None:
        """Folds raw items (with their keys and event times) into their windows."""
        if not ts:
            return
        if self.tumbling:
            size = self.size
            starts: list[int] = []
            positions: list[int] = []
            cur = None
            for i, t in enumerate(ts):
                s = t - t % size
                if s != cur:
                    cur = s
                    starts.append(s)
                    positions.append(i)
            self.add_runs(list(keys), list(items), starts, positions)
            return
        starts_of, window = self.definition.starts, self._window
        create, acc_fn = self.op.create, self.op.accumulate
        for t, k, v in zip(ts, keys, items, strict=True):
            for s in starts_of(t):
                win = window(s)
                acc = win.get(k, _MISSING)
                win[k] = acc_fn(create() if acc is _MISSING else acc, v)

    def add_runs(
        self,
        keys: list[Any],
        items: list[Any] | None,
        starts: list[int],
        positions: list[int],
    ) -> None:
        """Tumbling only: folds items the fused loop keyed, in runs of one window each.

        ``keys[positions[i]:positions[i + 1]]`` (to the end for the last run) are in the
        window starting at ``starts[i]``. A counting operation folds each run's keys
        at C speed; ``items`` may then be None.
        """
        if not keys:
            return
        ends = positions[1:]
        ends.append(len(keys))
        count, window = self.op.count_keys, self._window
        create, acc_fn = self.op.create, self.op.accumulate
        for s, lo, hi in zip(starts, positions, ends, strict=True):
            win = window(s)
            run = keys if lo == 0 and hi == len(keys) else keys[lo:hi]
            if count:
                _count_elements(win, run)
                continue
            assert items is not None
            get = win.get
            for k, v in zip(run, items[lo:hi], strict=True):
                acc = get(k, _MISSING)
                win[k] = acc_fn(create() if acc is _MISSING else acc, v)

    def add_partials(self, partials: Mapping[int, dict[Any, Any]]) -> None:
        """Merges windows that senders folded: ``{start: {key: acc}}`` (see ``take``).

        A window not open here is taken over as it is (no copy: the sender let go of
        it); counts merge the smaller side into the larger (addition commutes, as
        merging partials from several senders in arrival order already assumes).
        """
        combine = self.op.combine
        assert combine is not None  # partials are only sent for mergeable operations
        wins, count = self.wins, self.op.count_keys
        for start, share in partials.items():
            mine = wins.get(start)
            if not mine:
                wins[start] = share
                continue
            if count:
                if len(share) > len(mine):
                    mine, share = share, mine
                    wins[start] = mine
                get_count = mine.get
                for k, n in share.items():
                    mine[k] = get_count(k, 0) + n
                continue
            get = mine.get
            for k, acc in share.items():
                old = get(k, _MISSING)
                mine[k] = acc if old is _MISSING else combine(old, acc)

    def take(self, watermark: float) -> dict[int, dict[Any, Any]]:
        """Removes and returns the windows ending by ``watermark``: ``{start: {key: acc}}``."""
        wins = self.wins
        if not wins:
            return {}
        if watermark == INF:
            self.wins = {}
            return wins
        last = watermark - self.size
        return {s: wins.pop(s) for s in [s for s in wins if s <= last]}

    def split(self, taken: Mapping[int, dict[Any, Any]], n: int) -> list[dict[int, Any]]:
        """``take()``'s windows as one share per partition owning their keys (``hash % n``)."""
        if self._owners is None or self._owners.n != n:
            self._owners = owners.Owners(n)
        shares: list[dict[int, Any]] = [{} for _ in range(n)]
        for start, win in taken.items():
            for p, part in enumerate(self._owners.split(win)):
                if part:
                    shares[p][start] = part
        return shares

    def rows(self, taken: Mapping[int, dict[Any, Any]]) -> list[tuple[int, int, Any, Any]]:
        """``take()``'s windows as ``(start, end, key, acc)`` rows, in start order."""
        size = self.size
        out: list[tuple[int, int, Any, Any]] = []
        extend = out.extend
        for s in sorted(taken):
            win = taken[s]
            n = len(win)
            extend(zip(repeat(s, n), repeat(s + size, n), win, win.values(), strict=True))
        return out

    def close(self, watermark: float) -> list[tuple[int, int, Any, Any]]:
        """Removes and returns ``(start, end, key, acc)`` of windows ending by ``watermark``."""
        return self.rows(self.take(watermark))

    def export_state(self) -> Any:
        """The open windows' accumulators, for a snapshot: ``{(start, key): acc}``."""
        return self.slots()

    def import_state(self, state: Any) -> None:
        """Replaces the open windows with a snapshot's."""
        self.wins = {}
        window = self._window
        for (s, k), acc in state.items():
            window(s)[k] = acc


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

    def held(self) -> int:
        """How many sessions are open."""
        return sum(map(len, self.state.values()))

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
        """``take()``'s sessions as ``(start, end, key, acc)`` rows, in start order."""
        taken.sort(key=_START)
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
