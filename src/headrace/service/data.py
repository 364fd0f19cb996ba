"""Named List, Map and Stream handles over the store; values are any picklable object.

``client.get_list(name)``, ``get_map(name)`` and ``get_stream(name, partitions=N)`` return
these. They are also what pipeline sources and sinks read and write (``StoreProvider``).
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from headrace import errors
from headrace.model import text
from headrace.service import encoding, provider_ref
from headrace.service.encoding import dump, dump_key, dump_keys, dump_many, load, map_rows
from headrace.store.data import DataRepository
from headrace.store.database import Store

__all__ = [
    "ListHandle",
    "MapHandle",
    "StoreProvider",
    "StreamEntry",
    "StreamHandle",
    "dump",
    "dump_key",
    "dump_keys",
    "dump_many",
    "load",
]


def _name(name: str) -> str:
    if not isinstance(name, str) or not name or len(name) > 255:
        raise errors.InvalidInput("name", f"must be a string of 1..255 characters, got {name!r}")
    return text.check_text("name", name)


class ListHandle:
    """A named List: append, extend, index, slice, len, clear, iterate."""

    def __init__(self, store: Store, tenant_id: str, name: str) -> None:
        self.name = _name(name)
        self._store = store
        self._repo = DataRepository(store, tenant_id)

    def append(self, item: Any) -> None:
        """Add one item at the end."""
        self.extend([item])

    add = append

    def extend(self, items: Iterable[Any]) -> None:
        """Add items at the end, in order, in one transaction."""
        self.extend_rows(dump_many(items))

    add_all = extend

    def extend_rows(self, rows: Sequence[bytes]) -> None:
        """Append items already encoded as ``encoding.list_rows`` does, in one transaction.

        What an engine worker process encoded (``StoreProviderRef.encoder``) is only
        written here: the process that owns the store does the database's work alone.
        """
        with self._store.write() as conn:
            self._repo.list_extend(conn, self.name, rows)

    def __len__(self) -> int:
        with self._store.read() as conn:
            return self._repo.list_length(conn, self.name)

    def size(self) -> int:
        """How many items the List holds."""
        return len(self)

    def get(self, index: int) -> Any:
        """The item at ``index`` (negative counts from the end).

        Raises:
            IndexError: out of range.
        """
        item: Any = self[index]
        return item

    def __getitem__(self, index: int | slice) -> Any:
        with self._store.read() as conn:
            length = self._repo.list_length(conn, self.name)
            if isinstance(index, slice):
                start, stop, step = index.indices(length)
                if step != 1:
                    values = self._repo.list_slice(conn, self.name, 0, length)
                    return [load(v) for v in values][index]
                return [load(v) for v in self._repo.list_slice(conn, self.name, start, stop)]
            position = index + length if index < 0 else index
            if not 0 <= position < length:
                msg = f"list {self.name!r} index {index} out of range (length {length})"
                raise IndexError(msg)
            return load(self._repo.list_slice(conn, self.name, position, position + 1)[0])

    def __iter__(self) -> Iterator[Any]:
        return iter(self[:])

    def to_list(self) -> list[Any]:
        """Every item, in order."""
        items: list[Any] = self[:]
        return items

    def clear(self) -> None:
        """Remove every item."""
        with self._store.write() as conn:
            self._repo.list_clear(conn, self.name)

    def __repr__(self) -> str:
        return f"ListHandle({self.name!r})"


class MapHandle:
    """A named Map: put, get, put_all, entries, keys, values, remove, len, clear."""

    def __init__(self, store: Store, tenant_id: str, name: str) -> None:
        self.name = _name(name)
        self._store = store
        self._repo = DataRepository(store, tenant_id)

    def put(self, key: Any, value: Any) -> None:
        """Set ``key`` to ``value``."""
        self.put_all([(key, value)])

    def put_all(self, entries: Mapping[Any, Any] | Iterable[tuple[Any, Any]]) -> None:
        """Set many keys in one transaction (a dict, or ``(key, value)`` pairs)."""
        if isinstance(entries, Mapping):
            keys, values = list(entries.keys()), list(entries.values())
            rows = list(zip(dump_keys(keys), dump_many(values), strict=True))
        else:
            rows = map_rows([(k, v) for k, v in entries])
        self.put_rows(rows)

    update = put_all

    def put_rows(self, rows: Sequence[tuple[bytes, bytes]]) -> None:
        """Set keys from entries already encoded as ``encoding.map_rows`` does (one transaction).

        A later row of the same key wins. What an engine worker process encoded
        (``StoreProviderRef.encoder``) is only written here, through the same upsert as
        ``put_all``.
        """
        with self._store.write() as conn:
            self._repo.map_put_all(conn, self.name, rows)

    def get(self, key: Any, default: Any = None) -> Any:
        """The value under ``key``, or ``default``."""
        with self._store.read() as conn:
            found = self._repo.map_get(conn, self.name, dump_key(key))
        return default if found is None else load(found)

    def __getitem__(self, key: Any) -> Any:
        with self._store.read() as conn:
            found = self._repo.map_get(conn, self.name, dump_key(key))
        if found is None:
            raise KeyError(key)
        return load(found)

    def __contains__(self, key: object) -> bool:
        with self._store.read() as conn:
            return self._repo.map_get(conn, self.name, dump_key(key)) is not None

    contains_key = __contains__

    def remove(self, key: Any) -> Any:
        """Remove ``key``; returns its value, or None if it had none."""
        with self._store.write() as conn:
            old = self._repo.map_remove(conn, self.name, dump_key(key))
        return None if old is None else load(old)

    def entries(self) -> list[tuple[Any, Any]]:
        """Every ``(key, value)`` pair."""
        with self._store.read() as conn:
            rows = self._repo.map_entries(conn, self.name)
        return [(load(k), load(v)) for k, v in rows]

    entry_set = entries
    items = entries

    def keys(self) -> list[Any]:
        """Every key."""
        return [k for k, _ in self.entries()]

    key_set = keys

    def values(self) -> list[Any]:
        """Every value."""
        return [v for _, v in self.entries()]

    def to_dict(self) -> dict[Any, Any]:
        """The whole Map as a dict."""
        return dict(self.entries())

    def __len__(self) -> int:
        with self._store.read() as conn:
            return self._repo.map_size(conn, self.name)

    def size(self) -> int:
        """How many entries the Map holds."""
        return len(self)

    def clear(self) -> None:
        """Remove every entry."""
        with self._store.write() as conn:
            self._repo.map_clear(conn, self.name)

    def __repr__(self) -> str:
        return f"MapHandle({self.name!r})"


@dataclass(frozen=True, slots=True)
class StreamEntry:
    """One entry read from a Stream."""

    partition: int
    offset: int
    key: Any
    value: Any


class StreamHandle:
    """A named Stream: an append-only journal of partitions with offsets from 0.

    An entry with a key goes to the partition its key hashes to (so one key's entries
    stay in order); without a key, entries go round-robin.
    """

    def __init__(
        self, store: Store, tenant_id: str, name: str, partitions: int | None = None
    ) -> None:
        self.name = _name(name)
        self._store = store
        self._repo = DataRepository(store, tenant_id)
        with store.write() as conn:
            self._partitions = self._repo.stream_create(conn, self.name, partitions)
        self._next = itertools.count()

    def partition_count(self) -> int:
        """How many partitions the Stream has."""
        return self._partitions

    def _partition_of(self, key: Any) -> int:
        if key is None:
            return next(self._next) % self._partitions
        return zlib.crc32(dump_key(key)) % self._partitions

    def publish(self, item: Any, key: Any = None) -> tuple[int, int]:
        """Append one item; returns its ``(partition, offset)``."""
        return self.publish_all([item], key_fn=None if key is None else (lambda _i: key))[0]

    def publish_all(self, items: Iterable[Any], key_fn: Any = None) -> list[tuple[int, int]]:
        """Append items in one transaction; ``key_fn(item)`` picks each one's key."""
        rows = []
        for item in items:
            key = None if key_fn is None else key_fn(item)
            rows.append(
                (self._partition_of(key), None if key is None else dump_key(key), dump(item))
            )
        with self._store.write() as conn:
            return self._repo.stream_append(conn, self.name, rows)

    def append(self, items: Sequence[Any]) -> None:
        """Append items round-robin (what a pipeline sink does)."""
        self.publish_all(items)

    def read_entries(
        self, partition: int, offset: int = 0, max_count: int = 1000
    ) -> list[StreamEntry]:
        """Up to ``max_count`` entries of ``partition`` from ``offset``, with their keys."""
        self._check_partition(partition)
        with self._store.read() as conn:
            rows = self._repo.stream_read(conn, self.name, partition, offset, max_count)
        return [
            StreamEntry(partition, o, None if k is None else load(k), load(v)) for o, k, v in rows
        ]

    def read(self, partition: int, offset: int = 0, max_count: int = 1000) -> list[Any]:
        """Up to ``max_count`` items of ``partition`` from ``offset``."""
        self._check_partition(partition)
        with self._store.read() as conn:
            rows = self._repo.stream_read(conn, self.name, partition, offset, max_count)
        return [load(v) for _o, _k, v in rows]

    def latest_offsets(self) -> dict[int, int]:
        """Each partition's next offset: where a reader "from latest" starts."""
        with self._store.read() as conn:
            return self._repo.stream_end_offsets(conn, self.name)

    def end_offset(self, partition: int) -> int:
        """The offset the next item appended to ``partition`` will get."""
        self._check_partition(partition)
        return self.latest_offsets()[partition]

    def close(self) -> None:
        """Declare that nothing more will be appended (readers may then end)."""
        with self._store.write() as conn:
            self._repo.stream_close(conn, self.name)

    def is_closed(self) -> bool:
        """Whether the Stream has been closed."""
        with self._store.read() as conn:
            return self._repo.stream_closed(conn, self.name)

    def _check_partition(self, partition: int) -> None:
        if not isinstance(partition, int) or not 0 <= partition < self._partitions:
            msg = (
                f"stream {self.name!r} has partitions 0..{self._partitions - 1}, not {partition!r}"
            )
            msg_0 = "partition"
            raise errors.InvalidInput(msg_0, msg)

    def __repr__(self) -> str:
        return f"StreamHandle({self.name!r}, partitions={self._partitions})"


class StoreProvider:
    """The store as the engine's data-structure provider; pickles as (URL, tenant).

    A copy unpickled in a worker process (a ``StoreProviderRef``) opens its own
    connection pool on first use.
    """

    def __init__(self, store: Store, tenant_id: str) -> None:
        self._store: Store | None = store
        self._url = store.url
        self.tenant_id = tenant_id

    @classmethod
    def at(cls, url: str, tenant_id: str) -> StoreProvider:
        """The provider of the store at ``url``, opened on first use."""
        provider = cls.__new__(cls)
        provider._store, provider._url, provider.tenant_id = None, url, tenant_id
        return provider

    def __reduce__(self) -> tuple[Any, ...]:
        # A light stand-in: the process that loads it imports the store only if it uses it.
        return provider_ref.StoreProviderRef, (self._url, self.tenant_id)

    @property
    def store(self) -> Store:
        """The store, opened on first use in this process."""
        if self._store is None:
            self._store = Store(self._url, migrate=False)
        return self._store

    def encoder(self, kind: str) -> Callable[[list[Any]], list[Any]] | None:
        """How a sink's output becomes rows of a ``kind`` (``encoding.encoder``)."""
        return encoding.encoder(kind)

    def has_list(self, name: str) -> bool:
        """Whether a List of this name exists."""
        with self.store.read() as conn:
            return DataRepository(self.store, self.tenant_id).list_exists(conn, name)

    def has_map(self, name: str) -> bool:
        """Whether a Map of this name exists."""
        with self.store.read() as conn:
            return DataRepository(self.store, self.tenant_id).map_exists(conn, name)

    def has_stream(self, name: str) -> bool:
        """Whether a Stream of this name exists."""
        with self.store.read() as conn:
            return DataRepository(self.store, self.tenant_id).stream_partitions(conn, name) > 0

    def get_list(self, name: str) -> ListHandle:
        """The List ``name``."""
        return ListHandle(self.store, self.tenant_id, name)

    def get_map(self, name: str) -> MapHandle:
        """The Map ``name``."""
        return MapHandle(self.store, self.tenant_id, name)

    def get_stream(self, name: str) -> StreamHandle:
        """The Stream ``name`` (one partition if it has to be created)."""
        return StreamHandle(self.store, self.tenant_id, name)
