"""In-memory sources, sinks and the in-memory data-structure provider."""

from __future__ import annotations

import logging
import operator
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from headrace.connectors import base
from headrace.pipeline import sinks, sources

__all__ = [
    "InMemoryProvider",
    "MemorySnapshotStore",
    "MemoryStream",
    "apply_writes",
    "sink_connector",
    "source_connector",
]


class MemoryStream:
    """A journal of ``partitions`` lists; appended items go round-robin.

    Example:
        >>> s = MemoryStream(2)
        >>> s.append(["a", "b", "c"])
        >>> s.read(0, 0, 10), s.end_offset(1)
        (['a', 'c'], 1)
    """

    def __init__(self, partitions: int = 1, items: Iterable[Any] = (), closed: bool = False):
        self.partitions: list[list[Any]] = [[] for _ in range(max(1, partitions))]
        self._next = 0
        self.closed = False
        self.append(list(items))
        self.closed = closed

    def partition_count(self) -> int:
        """How many partitions the journal has."""
        return len(self.partitions)

    def end_offset(self, partition: int) -> int:
        """The offset the next item of ``partition`` will get."""
        return len(self.partitions[partition])

    def read(self, partition: int, offset: int, max_count: int) -> Sequence[Any]:
        """Up to ``max_count`` items of ``partition`` from ``offset``."""
        return self.partitions[partition][offset : offset + max_count]

    def append(self, items: Sequence[Any]) -> None:
        """Appends items round-robin over the partitions."""
        if self.closed:
            msg = "append to a closed stream"
            raise ValueError(msg)
        n = len(self.partitions)
        for item in items:
            self.partitions[self._next].append(item)
            self._next = (self._next + 1) % n

    def append_to(self, partition: int, items: Iterable[Any]) -> None:
        """Appends items to one partition (tests use it to lay out event time)."""
        self.partitions[partition].extend(items)

    def close(self) -> None:
        """Marks the journal complete: readers end at its end."""
        self.closed = True

    def is_closed(self) -> bool:
        """True once nothing more will be appended."""
        return self.closed

    def items(self) -> list[Any]:
        """Every item, partition after partition."""
        return [x for p in self.partitions for x in p]


class InMemoryProvider:
    """Lists, Maps and Streams held in dicts; pickles with its contents.

    Example:
        >>> prov = InMemoryProvider(lists={"numbers": [1, 2]})
        >>> prov.has_list("numbers"), prov.has_map("numbers")
        (True, False)
    """

    def __init__(
        self,
        lists: dict[str, list[Any]] | None = None,
        maps: dict[str, dict[Any, Any]] | None = None,
        streams: dict[str, MemoryStream] | None = None,
    ) -> None:
        self.lists: dict[str, list[Any]] = lists if lists is not None else {}
        self.maps: dict[str, dict[Any, Any]] = maps if maps is not None else {}
        self.streams: dict[str, MemoryStream] = streams if streams is not None else {}

    def has_list(self, name: str) -> bool:
        """True if a List of this name exists."""
        return name in self.lists

    def has_map(self, name: str) -> bool:
        """True if a Map of this name exists."""
        return name in self.maps

    def has_stream(self, name: str) -> bool:
        """True if a Stream of this name exists."""
        return name in self.streams

    def get_list(self, name: str) -> list[Any]:
        """The List ``name``, created empty if missing."""
        return self.lists.setdefault(name, [])

    def get_map(self, name: str) -> dict[Any, Any]:
        """The Map ``name``, created empty if missing."""
        return self.maps.setdefault(name, {})

    def get_stream(self, name: str) -> MemoryStream:
        """The Stream ``name``, created (one partition) if missing."""
        return self.streams.setdefault(name, MemoryStream())


# ---------------------------------------------------------------------- sources


class _SlicePartition:
    """Reads ``seq[lo:hi]`` in batches; the snapshot is the next index."""

    def __init__(self, seq: Any, lo: int, hi: int) -> None:
        self._seq, self._pos, self._hi = seq, lo, hi

    def next_batch(self, max_items: int) -> Sequence[Any] | None:
        if self._pos >= self._hi:
            return None
        end = min(self._pos + max_items, self._hi)
        batch: Sequence[Any] = self._seq[self._pos : end]
        self._pos = end
        return batch

    def snapshot(self) -> Any:
        return self._pos

    def close(self) -> None:
        self._seq = ()


def _ranges(n: int, split_items: int) -> list[tuple[int, int]]:
    step = max(1, split_items)
    return [(lo, min(lo + step, n)) for lo in range(0, n, step)]


@dataclass(frozen=True)
class ItemsConnector:
    """Reads an ``ItemsSource`` in fixed-size slices."""

    desc: sources.ItemsSource

    def prepare(self, provider: base.DataStructureProvider) -> None:
        """Nothing to prepare: the items travel with the pipeline."""

    def splits(self, provider: base.DataStructureProvider, split_items: int) -> list[Any]:
        """Slices of ``split_items`` items."""
        return _ranges(len(self.desc.items), split_items)

    def open(
        self, split: Any, provider: base.DataStructureProvider, resume: Any = None
    ) -> base.SourcePartition:
        """Reads one slice."""
        lo, hi = split
        return _SlicePartition(self.desc.items, lo if resume is None else resume, hi)


@dataclass(frozen=True)
class ListConnector:
    """Reads a named List in fixed-size slices (filling it first for ``from_list``)."""

    desc: sources.ListSource

    def prepare(self, provider: base.DataStructureProvider) -> None:
        """Replaces the List's contents with the pipeline's items, if it has any."""
        if self.desc.items is not None:
            target = provider.get_list(self.desc.name)
            target.clear()
            target.extend(self.desc.items)

    def splits(self, provider: base.DataStructureProvider, split_items: int) -> list[Any]:
        """Slices of ``split_items`` items (of the pipeline's items, which ``prepare`` puts in).

        So the splits listed before ``prepare`` (a first run's uploaded offsets) are the
        ones the run reads.
        """
        items = self.desc.items
        n = len(items) if items is not None else len(provider.get_list(self.desc.name))
        return _ranges(n, split_items)

    def open(
        self, split: Any, provider: base.DataStructureProvider, resume: Any = None
    ) -> base.SourcePartition:
        """Reads one slice."""
        lo, hi = split
        return _SlicePartition(
            provider.get_list(self.desc.name), lo if resume is None else resume, hi
        )


@dataclass(frozen=True)
class MapConnector:
    """Reads a named Map's entries, split like a list of pairs."""

    desc: sources.MapSource

    def prepare(self, provider: base.DataStructureProvider) -> None:
        """Nothing to prepare."""

    def splits(self, provider: base.DataStructureProvider, split_items: int) -> list[Any]:
        """Slices of the entries, in the Map's iteration order."""
        return _ranges(len(provider.get_map(self.desc.name)), split_items)

    def open(
        self, split: Any, provider: base.DataStructureProvider, resume: Any = None
    ) -> base.SourcePartition:
        """Reads one slice of the entries."""
        lo, hi = split
        entries = list(provider.get_map(self.desc.name).items())
        return _SlicePartition(entries, lo if resume is None else resume, hi)


class _GeneratorPartition:
    """Emits ``fn(i)`` no faster than ``rate`` items per second since it was first read."""

    def __init__(self, desc: sources.GeneratorSource, start: int) -> None:
        self._fn: Callable[[int], Any] = desc.fn if desc.fn is not None else _identity
        self._rate, self._count, self._next = desc.rate, desc.count, start
        self._t0: float | None = None
        self._start = start

    def next_batch(self, max_items: int) -> Sequence[Any] | None:
        if self._count is not None and self._next >= self._count:
            return None
        now = time.monotonic()
        if self._t0 is None:
            self._t0 = now
        due = self._start + int((now - self._t0) * self._rate) + 1
        if self._count is not None:
            due = min(due, self._count)
        end = min(due, self._next + max_items)
        fn = self._fn
        batch = [fn(i) for i in range(self._next, end)]
        self._next = max(self._next, end)
        return batch

    def snapshot(self) -> Any:
        return self._next

    def close(self) -> None:
        """Nothing to release."""


def _identity(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class GeneratorConnector:
    """One split: the generator is a single ordered sequence."""

    desc: sources.GeneratorSource

    def prepare(self, provider: base.DataStructureProvider) -> None:
        """Nothing to prepare."""

    def splits(self, provider: base.DataStructureProvider, split_items: int) -> list[Any]:
        """A single split."""
        return [0]

    def open(
        self, split: Any, provider: base.DataStructureProvider, resume: Any = None
    ) -> base.SourcePartition:
        """Starts emitting (from ``resume`` if given)."""
        return _GeneratorPartition(self.desc, 0 if resume is None else int(resume))


class _StreamPartition:
    """Follows one journal partition from an offset; ends only if the journal closes."""

    def __init__(self, stream: base.StreamLike, partition: int, offset: int) -> None:
        self._stream, self._partition, self._offset = stream, partition, offset

    def next_batch(self, max_items: int) -> Sequence[Any] | None:
        batch = self._stream.read(self._partition, self._offset, max_items)
        if (
            not batch
            and self._stream.is_closed()
            and self._offset >= self._stream.end_offset(self._partition)
        ):
            return None
        self._offset += len(batch)
        return batch

    def snapshot(self) -> Any:
        return self._offset

    def close(self) -> None:
        """Nothing to release."""


@dataclass(frozen=True)
class StreamConnector:
    """A split per journal partition, starting at its earliest or latest offset."""

    desc: sources.StreamSource

    def prepare(self, provider: base.DataStructureProvider) -> None:
        """Nothing to prepare."""

    def splits(self, provider: base.DataStructureProvider, split_items: int) -> list[Any]:
        """``(partition, start_offset)`` per journal partition."""
        stream = provider.get_stream(self.desc.name)
        latest = self.desc.start == "latest"
        return [(p, stream.end_offset(p) if latest else 0) for p in range(stream.partition_count())]

    def open(
        self, split: Any, provider: base.DataStructureProvider, resume: Any = None
    ) -> base.SourcePartition:
        """Follows one partition."""
        partition, offset = split
        stream = provider.get_stream(self.desc.name)
        return _StreamPartition(stream, partition, offset if resume is None else int(resume))


def source_connector(desc: sources.SourceDescriptor) -> base.SourceConnector | None:
    """The connector of an in-memory or provider-backed source; ``None`` if not one."""
    if isinstance(desc, sources.ItemsSource):
        return ItemsConnector(desc)
    if isinstance(desc, sources.ListSource):
        return ListConnector(desc)
    if isinstance(desc, sources.MapSource):
        return MapConnector(desc)
    if isinstance(desc, sources.GeneratorSource):
        return GeneratorConnector(desc)
    if isinstance(desc, sources.StreamSource):
        return StreamConnector(desc)
    return None


# ---------------------------------------------------------------------- sinks


class _FnSink:
    def __init__(self, write: Callable[[list[Any]], None]) -> None:
        self.write_batch = write

    def close(self) -> None:
        """Nothing to flush."""


@dataclass(frozen=True)
class ProviderSinkConnector:
    """Writes Lists, Maps, Streams, the log and Python callables."""

    desc: sinks.SinkDescriptor

    def open(
        self, provider: base.DataStructureProvider, partition: int, resume: bool = False
    ) -> base.SinkPartition:
        """A writer appending to the named structure (or calling the function).

        Lists, Maps and Streams are exactly once when the engine buffers their writes
        into snapshot commits; a callable or the log sees replayed items again after a
        restore (at least once at best).
        """
        desc = self.desc
        if isinstance(desc, sinks.ListSink):
            return _FnSink(provider.get_list(desc.name).extend)
        if isinstance(desc, sinks.MapSink):
            target = provider.get_map(desc.name)
            kf, vf = desc.key_fn, desc.value_fn
            if kf is sinks.MapSink.key_fn and vf is sinks.MapSink.value_fn:
                pair = operator.itemgetter(0, 1)  # the defaults, item[0] and item[1], in C
                return _FnSink(lambda items: target.update(list(map(pair, items))))
            return _FnSink(lambda items: target.update([(kf(x), vf(x)) for x in items]))
        if isinstance(desc, sinks.StreamSink):
            return _FnSink(provider.get_stream(desc.name).append)
        if isinstance(desc, sinks.CallableSink):
            fn = desc.fn

            def call_each(items: list[Any]) -> None:
                for x in items:
                    fn(x)

            return _FnSink(call_each)
        if isinstance(desc, sinks.LoggerSink):
            log = visible_logger(desc.logger)

            def log_each(items: list[Any]) -> None:
                for x in items:
                    log.info("%r", x)

            return _FnSink(log_each)
        msg = f"not an in-memory sink: {desc!r}"
        raise TypeError(msg)


def visible_logger(name: str) -> logging.Logger:
    """The logger ``to_logger()`` writes to, made visible if the user configured none.

    Jet's logger sink prints to the member's log. Python's shows only warnings until
    logging is configured, so with no handler anywhere on the way to the root, the
    logger prints its INFO lines to stderr itself; configured logging is left alone.
    """
    log = logging.getLogger(name)
    if not log.hasHandlers():
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
        log.addHandler(handler)
        if log.level == logging.NOTSET:
            log.setLevel(logging.INFO)
    return log


def sink_connector(desc: sinks.SinkDescriptor) -> base.SinkConnector | None:
    """The connector of a provider-backed or in-process sink; ``None`` if not one."""
    if isinstance(
        desc,
        sinks.ListSink | sinks.MapSink | sinks.StreamSink | sinks.CallableSink | sinks.LoggerSink,
    ):
        return ProviderSinkConnector(desc)
    return None


# ---------------------------------------------------------------------- snapshots


def apply_writes(provider: base.DataStructureProvider, writes: Sequence[base.SinkWrite]) -> None:
    """Applies a commit's buffered sink writes to ``provider``'s structures, in order."""
    for w in writes:
        if w.kind == "list":
            provider.get_list(w.name).extend(w.items)
        elif w.kind == "map":
            provider.get_map(w.name).update(w.items)
        else:
            provider.get_stream(w.name).append(w.items)


@dataclass(frozen=True)
class Commit:
    """One commit a :class:`MemorySnapshotStore` received."""

    state: bytes
    writes: list[base.SinkWrite]
    names: list[str]


class MemorySnapshotStore:
    """Keeps every commit in a list and applies its writes to an in-memory provider.

    Example:
        >>> prov = InMemoryProvider()
        >>> snaps = MemorySnapshotStore(prov)
        >>> snaps.commit(b"s", [base.SinkWrite("list", "out", [1, 2])], ["export"])
        >>> prov.lists["out"], snaps.latest, snaps.named["export"]
        ([1, 2], b's', b's')
    """

    def __init__(self, provider: base.DataStructureProvider | None = None) -> None:
        self.provider = provider
        self.commits: list[Commit] = []
        self.named: dict[str, bytes] = {}

    def commit(self, state: bytes, writes: Sequence[base.SinkWrite], names: Sequence[str]) -> None:
        """Applies ``writes`` (if a provider was given) and records the commit."""
        if self.provider is not None:
            apply_writes(self.provider, writes)
        self.commits.append(Commit(state, list(writes), list(names)))
        for name in names:
            self.named[name] = state

    @property
    def latest(self) -> bytes | None:
        """The newest committed state, or ``None`` before the first commit."""
        return self.commits[-1].state if self.commits else None
