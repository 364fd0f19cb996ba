"""Senders: route a vertex's output batches to the partitions of the next vertex.

Messages are plain tuples ``(kind, vertex, partition, port, payload, ts, sender)``
with kind ``d`` (raw items), ``p`` (partial accumulators: ``{key: acc}`` keyed,
``{start: {key: acc}}`` fixed windows, rows for sessions, a one-item list global),
``w`` (watermark in payload) or ``e`` (end of input). Keyed edges ship ``(key, item)``
pairs so the key function runs once; mergeable aggregations fold on the sending side
first.

A sender that fans out serves the partitions in other workers before its worker's own
(``local``): delivering to a partition here runs it at once (at the end of a run, its
merge and its output), and the other workers would wait for that before they get theirs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable
from typing import Any

from headrace.engine.operators import fail
from headrace.engine.owners import Owners
from headrace.engine.plan import EdgeSpec
from headrace.engine.window import FixedWindows, make_windows
from headrace.pipeline import Node

__all__ = ["Message", "Sender"]

Message = tuple[str, int, int, int, Any, Any, int]
Deliver = Callable[[Message], None]
_MISSING: Any = object()


class Sender:
    """One partition's end of one edge; ``local``: the partitions its worker runs."""

    def __init__(
        self,
        edge: EdgeSpec,
        head: Node,
        partition: int,
        partitions: int,
        deliver: Deliver,
        local: Collection[int] = (),
    ) -> None:
        self.edge = edge
        self.head = head
        self.partition = partition
        self.partitions = partitions
        self.deliver = deliver
        #: Every partition, those of other workers first (a stable sort keeps the order).
        self.fanout = sorted(range(partitions), key=local.__contains__)
        #: A partition of this worker (this one's if it can), which takes over what this
        #: sender folded for it as it is (``Owners.split_off``); None when it has none.
        self.local = partition if partition in local else next(iter(sorted(local)), None)
        self.stage = head.name
        self._rr = partition
        self.key_fn = edge.key_fn
        self.combine = edge.combine
        op = head.op
        self.keyed_state: dict[Any, Any] = Counter() if op is not None and op.count_keys else {}
        self.global_acc: Any = op.create() if op is not None and edge.combine == "global" else None
        self.windows = (
            make_windows(head.window, op)
            if edge.combine == "window" and head.window is not None and op is not None
            else None
        )

    def _send(self, kind: str, dest: int, payload: Any, ts: Any = None) -> None:
        self.deliver((kind, self.edge.dst, dest, self.edge.port, payload, ts, self.partition))

    def _targets(self) -> list[int]:
        if self.edge.routing == "forward":
            return [self.partition]
        return self.fanout

    # ---------------------------------------------------------------- data

    def send(self, items: list[Any], ts: list[int] | None) -> None:
        """Routes one output batch (and its event times, if any)."""
        if not items:
            return
        if self.combine is not None:
            self._fold(items, ts)
            return
        routing = self.edge.routing
        if routing == "forward":
            self._send("d", self.partition, items, ts)
        elif routing == "single":
            self._send("d", 0, items, ts)
        elif routing == "round_robin":
            self._rr = (self._rr + 1) % self.partitions
            self._send("d", self._rr, items, ts)
        elif routing == "broadcast":
            for p in self.fanout:
                self._send("d", p, items, ts)
        else:
            self._send_hashed(items, ts)

    def send_tail(self, kind: str, out: list[Any], extra: Any) -> None:
        """Routes a batch the fused loop already keyed (see ``chain.Tail``)."""
        if kind == "keys":  # a counting keyed combine
            Counter.update(self.keyed_state, out)  # type: ignore[call-overload]
        elif kind == "pairs":
            if self.combine == "keyed":
                self._fold_pairs(out)
            else:
                self._route_pairs(out, extra)
        else:
            assert self.windows is not None and isinstance(self.windows, FixedWindows)
            values, starts, positions = extra
            try:
                self.windows.add_runs(out, values, starts, positions)
            except Exception as exc:
                raise fail(self.stage, values[:1] if values else out[:1], exc) from exc

    def _keys(self, items: list[Any]) -> list[Any]:
        key_fn = self.key_fn
        assert key_fn is not None
        try:
            return list(map(key_fn, items))
        except Exception as exc:
            raise self._key_error(items, exc) from exc

    def _key_error(self, items: list[Any], exc: Exception) -> Exception:
        key_fn = self.key_fn
        assert key_fn is not None
        for v in items:  # find the failing item for the error message
            try:
                key_fn(v)
            except Exception:
                return fail(self.stage, v, exc)
        return fail(self.stage, items[:1], exc)

    def _send_hashed(self, items: list[Any], ts: list[int] | None) -> None:
        keys = self._keys(items)
        self._route_pairs(list(zip(keys, items, strict=True)), ts)

    def _route_pairs(self, pairs: list[Any], ts: list[int] | None) -> None:
        n = self.partitions
        if n == 1:
            self._send("d", 0, pairs, ts)
            return
        buckets: list[list[Any]] = [[] for _ in range(n)]
        tbuckets: list[list[int]] = [[] for _ in range(n)]
        if ts is None:
            for kv in pairs:
                buckets[hash(kv[0]) % n].append(kv)
        else:
            for kv, t in zip(pairs, ts, strict=True):
                b = hash(kv[0]) % n
                buckets[b].append(kv)
                tbuckets[b].append(t)
        for p in self.fanout:
            if buckets[p]:
                self._send("d", p, buckets[p], tbuckets[p] if ts is not None else None)

    def _fold(self, items: list[Any], ts: list[int] | None) -> None:
        op = self.head.op
        assert op is not None
        if self.windows is not None:
            assert ts is not None
            keys = self._keys(items) if self.key_fn is not None else [None] * len(items)
            try:
                self.windows.add(keys, items, ts)
            except Exception as exc:
                raise fail(self.stage, items[:1], exc) from exc
        elif self.combine == "global":
            try:
                if op.accumulate_batch is not None:
                    self.global_acc = op.accumulate_batch(self.global_acc, items)
                else:
                    for v in items:
                        self.global_acc = op.accumulate(self.global_acc, v)
            except Exception as exc:
                raise fail(self.stage, items[:1], exc) from exc
        else:
            self._fold_keyed(items)

    def _fold_keyed(self, items: list[Any]) -> None:
        op = self.head.op
        assert op is not None and self.key_fn is not None
        if op.count_keys:  # keys straight into the counts: no list of keys
            try:
                Counter.update(self.keyed_state, map(self.key_fn, items))  # type: ignore[call-overload]
            except Exception as exc:
                raise self._key_error(items, exc) from exc
            return
        self._fold_pairs(zip(self._keys(items), items, strict=True))

    def _fold_pairs(self, pairs: Iterable[tuple[Any, Any]]) -> None:
        op = self.head.op
        assert op is not None
        state = self.keyed_state
        get, create, acc_fn = state.get, op.create, op.accumulate
        v: Any = None
        try:
            for k, v in pairs:
                acc = get(k, _MISSING)
                state[k] = acc_fn(create() if acc is _MISSING else acc, v)
        except Exception as exc:
            raise fail(self.stage, v, exc) from exc

    # ---------------------------------------------------------------- time and end

    def _window_shares(self, watermark: float) -> dict[int, Any]:
        """The windows closed by ``watermark``, by the partition owning their keys.

        Fixed windows go as ``{start: {key: acc}}`` dicts, one per owner, split per
        window at C speed (``FixedWindows.split``): the owner merges them as they are
        (its own partition's share is taken over without a copy), closes them at its
        watermark and emits them itself, so each partition's windows end where they
        are owned.
        """
        assert self.windows is not None
        taken = self.windows.take(watermark)
        if not taken:
            return {}
        n = self.partitions
        if self.key_fn is None or n == 1:
            return {0: taken}
        shares: list[Any]
        if isinstance(self.windows, FixedWindows):
            assert isinstance(taken, dict)
            shares = self.windows.split(taken, n)
        else:
            assert isinstance(taken, list)
            shares = [[] for _ in range(n)]
            for row in taken:
                shares[hash(row[2]) % n].append(row)
        return {p: shares[p] for p in self.fanout if shares[p]}

    def watermark(self, watermark: float) -> None:
        """Passes event-time progress on, each target's closed windows first (see ``finish``)."""
        if not self.edge.timestamped:
            return
        shares = self._window_shares(watermark) if self.windows is not None else {}
        self._to_targets(shares, "w", watermark)

    def finish(self) -> None:
        """Flushes what was folded here and tells every target this input has ended.

        Each target gets its share and its end one after the other, those in other
        workers first: the end travels with the share, instead of waiting behind the
        delivery of this worker's own share (its merge, maybe its output), for a
        feeder thread that needs the lock this worker's long calls hold.
        """
        if self.windows is not None:
            shares = self._window_shares(float("inf"))
        elif self.combine == "global":
            shares = {0: [self.global_acc]}
        elif self.combine == "keyed":
            shares = self._keyed_shares()
        else:
            shares = {}
        self._to_targets(shares, "e", None)

    def _to_targets(self, shares: dict[int, Any], kind: str, payload: Any) -> None:
        """Sends every target its share of partials (if any), then ``kind``, in fanout order."""
        targets = self._targets()
        assert shares.keys() <= set(targets), "a share for a partition that gets no mark"
        for p in targets:
            share = shares.get(p)
            if share is not None:
                self._send("p", p, share)
            self._send(kind, p, payload)

    def _keyed_shares(self) -> dict[int, Any]:
        """What was folded here, by the partition owning the keys: a dict each."""
        state, self.keyed_state = self.keyed_state, {}
        if not state:
            return {}
        n = self.partitions
        if n == 1:
            return {0: state}
        owners = Owners(n, remember=False)
        shares = owners.split(state) if self.local is None else owners.split_off(state, self.local)
        return {p: shares[p] for p in self.fanout if shares[p]}

    def export_state(self) -> Any:
        """What was folded here and not sent yet, and the round-robin position."""
        windows = self.windows.export_state() if self.windows is not None else None
        return (self.keyed_state, self.global_acc, windows, self._rr)

    def import_state(self, state: Any) -> None:
        """Restores ``export_state()``'s value."""
        keyed, self.global_acc, windows, self._rr = state
        op = self.head.op
        self.keyed_state = Counter(keyed) if op is not None and op.count_keys else dict(keyed)
        if self.windows is not None and windows is not None:
            self.windows.import_state(windows)
