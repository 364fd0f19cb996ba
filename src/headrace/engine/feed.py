"""The splits of one source that one partition reads: fixed up front, or claimed as it reads.

A bounded source's splits are dealt at read time when the executor gives a
:class:`SplitClaims` (worker processes share a counter per source): a worker that runs
faster, or is scheduled more, simply reads more splits, so no worker idles while another
still has a backlog. Without one (a single process), partition ``p`` of ``n`` reads
splits ``p, p + n, …``. Streams always keep that fixed deal: their splits never end, so
every one needs a reader all the time.

Which partition reads a split changes neither results nor lateness: an item is late
against its own split's newest event time, and a feed holds its watermark back while
any split it might still read has not started.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from headrace.connectors.base import DataStructureProvider, SourcePartition
from headrace.engine import io
from headrace.pipeline import Node

__all__ = ["INF", "NEG_TIME", "SourceFeed", "SplitClaims", "SplitState"]

#: Event time before anything was seen (an int, so chains compare ints only).
NEG_TIME = -(1 << 62)
INF = float("inf")

#: A split state as :meth:`SplitState.export_state` returns it.
SplitExport = tuple[bool, bool, Any, dict[int, int]]


class SplitClaims(Protocol):
    """Tickets for the splits of bounded sources, shared by every partition of a run.

    Tickets of a source count 0, 1, 2, … over all partitions together; each is taken
    once. Every partition maps ticket ``k`` to the same split (see
    :meth:`SourceFeed.import_state` for a restored run's order).
    """

    def claim(self, vertex: int) -> int:
        """Takes the next ticket of source vertex ``vertex``."""
        ...

    def issued(self, vertex: int) -> int:
        """How many tickets of ``vertex`` have been taken so far (by anyone)."""
        ...


class SplitState:
    """One split's reader, progress and newest event time per timestamps vertex."""

    __slots__ = ("finished", "reader", "resume", "split", "started", "tstate")

    def __init__(self, split: Any) -> None:
        self.split = split
        self.reader: SourcePartition | None = None
        self.started = False
        self.finished = False
        self.resume: Any = None  # a restored position, until the split is reopened
        self.tstate: dict[int, list[int]] = {}

    def export_state(self) -> SplitExport:
        """``(finished, started, position, newest event time per vertex)``."""
        position = self.reader.snapshot() if self.reader is not None else self.resume
        return self.finished, self.started, position, {v: c[0] for v, c in self.tstate.items()}

    def import_state(self, state: SplitExport) -> None:
        """Restores ``export_state()``'s value; the reader reopens at the position."""
        self.finished, self.started, self.resume, tstate = state
        self.tstate = {v: [t] for v, t in tstate.items()}


def _begun(state: SplitExport | None) -> bool:
    """True when a restored split was opened (or finished) before its snapshot."""
    return state is not None and (state[0] or state[1])


class SourceFeed:
    """The splits of one source vertex that partition ``partition`` of ``partitions`` reads.

    Args:
        node: The source node.
        splits: Every split of the source, in the order the connector listed them.
        provider: Where the source's data structures live.
        partition: The partition this feed belongs to.
        partitions: How many partitions the vertex has.
        claims: Shared tickets; given, a bounded source claims its splits as it reads.
        vertex: The source's vertex id (its ticket counter).
    """

    def __init__(
        self,
        node: Node,
        splits: Sequence[Any],
        provider: DataStructureProvider,
        partition: int = 0,
        partitions: int = 1,
        claims: SplitClaims | None = None,
        vertex: int = 0,
    ) -> None:
        assert node.source is not None
        self.connector = io.source_connector(node.source)
        self.provider = provider
        self.streaming = node.source.streaming
        self.all_splits = list(splits)
        self.partition, self.partitions = partition, partitions
        self.vertex = vertex
        self.claims = None if self.streaming else claims
        self.splits: list[SplitState] = []
        self.indices: list[int] = []  # each split's index in the source's list
        # Split indices in ticket order (claimed feeds); a restore reorders them.
        self.order: list[int] = list(range(len(self.all_splits)))
        self.exhausted = self.claims is None  # no ticket left to take
        if self.claims is None:
            for i in range(partition, len(self.all_splits), partitions):
                self._add(i)
        self.cursor = 0
        self._at = 0  # bounded: the first split that may be unfinished
        self.live = list(self.splits)  # streaming: the unfinished splits, in order
        self.finished = self.exhausted and not self.splits

    def _add(self, index: int) -> SplitState:
        st = SplitState(self.all_splits[index])
        self.splits.append(st)
        self.indices.append(index)
        return st

    def _open(self, st: SplitState) -> None:
        st.reader = self.connector.open(st.split, self.provider, st.resume)
        st.started = True

    def _claim(self) -> SplitState | None:
        """Takes the next split from the shared tickets, or None when none is left."""
        if self.exhausted:
            return None
        assert self.claims is not None
        ticket = self.claims.claim(self.vertex)
        if ticket >= len(self.order):
            self.exhausted = True
            return None
        return self._add(self.order[ticket])

    def _current(self) -> SplitState | None:
        """The split a bounded source reads now: the first unfinished one, else a claim."""
        splits = self.splits
        while self._at < len(splits) and splits[self._at].finished:
            self._at += 1
        if self._at < len(splits):
            return splits[self._at]
        return self._claim()

    def next(self, batch_size: int) -> tuple[SplitState, Sequence[Any]] | None:
        """One batch from the current split (streams: round-robin over splits)."""
        if self.streaming:
            live = self.live
            if not live:
                self.finished = True
                return None
            st = live[self.cursor % len(live)]
            if st.reader is None:
                for s in live:
                    if s.reader is None:
                        self._open(s)
        else:
            found = self._current()
            if found is None:
                self.finished = True
                return None
            st = found
            if st.reader is None:
                self._open(st)
        self.cursor += 1
        assert st.reader is not None
        batch = st.reader.next_batch(batch_size)
        if batch is None:
            st.reader.close()
            st.finished, st.reader = True, None
            if self.streaming:
                self.live = [s for s in self.splits if not s.finished]
                self.finished = not self.live
            else:
                self.finished = self.exhausted and self._current() is None
            return st, ()
        return st, batch

    def export_state(self) -> tuple[int, dict[int, Any]]:
        """The round-robin cursor and each split's state by its index in the source."""
        return self.cursor, {
            i: st.export_state() for i, st in zip(self.indices, self.splits, strict=True)
        }

    def import_state(self, cursor: int, splits: dict[int, Any]) -> None:
        """Restores the splits found in ``splits`` (by index) and the cursor.

        A claimed feed takes back, by the fixed deal, the restored splits that had been
        opened (so exactly one partition saves each again); the others are claimed
        anew, in the source's order.
        """
        self.cursor = cursor
        if self.claims is not None:
            self.order = [i for i in range(len(self.all_splits)) if not _begun(splits.get(i))]
            for i in range(self.partition, len(self.all_splits), self.partitions):
                if _begun(splits.get(i)):
                    self._add(i)
        for i, st in zip(self.indices, self.splits, strict=True):
            if i in splits:
                st.import_state(splits[i])
        self._at = 0
        self.live = [s for s in self.splits if not s.finished]
        self.finished = self.exhausted and all(s.finished for s in self.splits)

    def close(self) -> None:
        """Closes the open readers."""
        for st in self.splits:
            if st.reader is not None:
                st.reader.close()
                st.reader = None

    def watermark(self, vertex: int, lag: int) -> float:
        """Event time every split of this feed has passed, for one timestamps vertex.

        While tickets are left, a split this feed has not claimed yet may still come
        to it, so the watermark stays back.
        """
        if not self.exhausted:
            assert self.claims is not None
            if self.claims.issued(self.vertex) < len(self.order):
                return -INF
            self.exhausted = True  # every split is someone's now; a claim would fail
        wm = INF
        for s in self.splits:
            if s.finished:
                continue
            if not s.started:
                return -INF
            mx = s.tstate.get(vertex, [NEG_TIME])[0]
            if mx == NEG_TIME:
                return -INF
            wm = min(wm, mx - lag)
        return wm
