"""What sources and sinks are to the engine: partitions that read and write batches.

A source descriptor (``headrace.pipeline.sources``) becomes a :class:`SourceConnector`,
which lists *splits* (picklable positions: list slices, file byte ranges, stream
partitions) independently of the parallelism, and opens each split as a
:class:`SourcePartition`. Named data structures come from a
:class:`DataStructureProvider`: in memory for tests and embedded use, the store later.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

__all__ = [
    "DataStructureProvider",
    "ListLike",
    "MapLike",
    "SinkConnector",
    "SinkPartition",
    "SinkWrite",
    "SnapshotStore",
    "SourceConnector",
    "SourcePartition",
    "StreamLike",
]


@runtime_checkable
class ListLike(Protocol):
    """A named List: sized and sliceable to read, extendable to write."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: slice, /) -> Sequence[Any]: ...

    def extend(self, items: Iterable[Any], /) -> None:
        """Appends items."""
        ...

    def clear(self) -> None:
        """Removes every item."""
        ...


@runtime_checkable
class MapLike(Protocol):
    """A named Map: its entries to read, ``update`` to write."""

    def __len__(self) -> int: ...

    def items(self) -> Iterable[tuple[Any, Any]]:
        """The ``(key, value)`` entries."""
        ...

    def update(self, entries: Iterable[tuple[Any, Any]], /) -> None:
        """Puts entries (a later one wins)."""
        ...


class StreamLike(Protocol):
    """A named Stream: an append-only journal of partitions, each with offsets from 0."""

    def partition_count(self) -> int:
        """How many partitions the journal has (fixed for its life)."""
        ...

    def end_offset(self, partition: int) -> int:
        """The offset the next item appended to ``partition`` will get."""
        ...

    def read(self, partition: int, offset: int, max_count: int) -> Sequence[Any]:
        """Up to ``max_count`` items of ``partition`` starting at ``offset``."""
        ...

    def append(self, items: Sequence[Any]) -> None:
        """Appends items, spreading them over the partitions."""
        ...

    def is_closed(self) -> bool:
        """True once nothing more will be appended (a reader may then end)."""
        ...


class DataStructureProvider(Protocol):
    """Where named Lists, Maps and Streams live; the engine receives one per run.

    For the ``processes`` executor it must pickle (each worker gets a copy to read
    from; writes to Lists, Maps and Streams are sent back to the parent process).

    Optionally, ``encoder(kind)`` returns a function that turns a List's items
    (``"list"``) or a Map's ``(key, value)`` pairs (``"map"``) into the rows the
    provider stores, or None. A worker process then sends its output encoded, and the
    parent writes the rows with the List's ``extend_rows`` or the Map's ``put_rows``.
    """

    def has_list(self, name: str) -> bool:
        """True if a List of this name exists."""
        ...

    def has_map(self, name: str) -> bool:
        """True if a Map of this name exists."""
        ...

    def has_stream(self, name: str) -> bool:
        """True if a Stream of this name exists."""
        ...

    def get_list(self, name: str) -> ListLike:
        """The List ``name``, created empty if missing."""
        ...

    def get_map(self, name: str) -> MapLike:
        """The Map ``name``, created empty if missing."""
        ...

    def get_stream(self, name: str) -> StreamLike:
        """The Stream ``name``, created if missing."""
        ...


class SourcePartition(Protocol):
    """One split being read."""

    def next_batch(self, max_items: int) -> Sequence[Any] | None:
        """Up to ``max_items`` items; empty if none is ready yet; ``None`` once exhausted."""
        ...

    def snapshot(self) -> Any:
        """The position to resume from (an offset); picklable."""
        ...

    def close(self) -> None:
        """Releases what the partition holds."""
        ...


class SourceConnector(Protocol):
    """Reads one source descriptor."""

    def prepare(self, provider: DataStructureProvider) -> None:
        """Runs once in the coordinating process before any split is read."""
        ...

    def splits(self, provider: DataStructureProvider, split_items: int) -> list[Any]:
        """Picklable split positions; never depends on the parallelism."""
        ...

    def open(
        self, split: Any, provider: DataStructureProvider, resume: Any = None
    ) -> SourcePartition:
        """Opens one split (at ``resume``, a value from ``snapshot()``, if given)."""
        ...


class SinkPartition(Protocol):
    """Where one partition's output goes."""

    def write_batch(self, items: list[Any]) -> None:
        """Writes items."""
        ...

    def close(self) -> None:
        """Flushes and releases."""
        ...


class SinkConnector(Protocol):
    """Writes one sink descriptor."""

    def open(
        self, provider: DataStructureProvider, partition: int, resume: bool = False
    ) -> SinkPartition:
        """Opens partition ``partition``'s writer (``resume``: a restored run continues it)."""
        ...


@dataclass(frozen=True)
class SinkWrite:
    """Output for one store-backed sink, held back until the snapshot that covers it.

    Attributes:
        kind: ``"list"`` (items appended), ``"map"`` (items are ``(key, value)`` pairs,
            put in order so a later one wins) or ``"stream"`` (items appended).
        name: The List, Map or Stream name.
        items: The items, in the order the pipeline produced them.
    """

    kind: Literal["list", "map", "stream"]
    name: str
    items: list[Any] = field(default_factory=list)


class SnapshotStore(Protocol):
    """Where a run's snapshots go; the store side makes each commit one transaction.

    The engine calls ``commit`` every ``snapshot_interval_ms`` when the guarantee is not
    ``none``, when the control asks for a named snapshot, before a stop that wants one,
    and once at the end of a bounded run.
    """

    def commit(self, state: bytes, writes: Sequence[SinkWrite], names: Sequence[str]) -> None:
        """Atomically stores ``state`` and applies ``writes``.

        Args:
            state: An opaque blob; ``engine.run(..., restore=state)`` resumes from it.
            writes: For ``exactly_once``, every output to List, Map and Stream sinks
                since the previous commit (empty otherwise). Applying them in the same
                transaction as ``state`` is what makes the output exactly once.
            names: Extra names to keep this snapshot under (exports); usually empty.
        """
        ...
