"""Named Lists, Maps and Streams over HTTP: the embedded handles' interface, values as JSON.

Values travel as JSON, so a tuple comes back as a list, a Map's keys are strings, and a
value JSON cannot carry is refused (``InvalidInput`` naming ``value``) before anything
is sent. A value that Python code stored and JSON cannot show reads as
``{"$repr": "..."}``.
"""

from __future__ import annotations

import builtins
import contextlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from headrace import errors
from headrace.client.transport import Http, seg
from headrace.service.data import StreamEntry

#: Items a List read asks for at once.
PAGE = 10_000


def check_name(name: str) -> str:
    """A data structure's name, checked as the embedded handles check it.

    Raises:
        InvalidInput: naming ``name``.
    """
    if not isinstance(name, str) or not name or len(name) > 255:
        raise errors.InvalidInput("name", f"must be a string of 1..255 characters, got {name!r}")
    return name


def jsonable(values: list[Any], field: str = "value") -> list[Any]:
    """``values`` if JSON can carry every one of them.

    Raises:
        InvalidInput: naming ``field`` for the first value JSON cannot carry.
    """
    for value in values:
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            msg = f"{type(value).__name__} cannot travel as JSON to a server: {exc}"
            raise errors.InvalidInput(field, msg) from None
    return values


class RemoteList:
    """A named List over HTTP (JSON values)."""

    def __init__(self, http: Http, name: str) -> None:
        self.name = check_name(name)
        self._http = http
        self._path = f"/lists/{seg(name)}"

    def append(self, item: Any) -> None:
        """Add one item at the end."""
        self.extend([item])

    add = append

    def extend(self, items: Iterable[Any]) -> None:
        """Add items at the end, in order, in one transaction.

        Raises:
            InvalidInput: naming ``value`` for an item JSON cannot carry (none is added).
        """
        self._http.call("POST", self._path, json={"items": jsonable(list(items))})

    add_all = extend

    def _slice(self, offset: int, limit: int) -> dict[str, Any]:
        try:
            data: dict[str, Any] = self._http.call(
                "GET", self._path, params={"offset": offset, "limit": limit}
            )
        except errors.NotFound:
            return {"items": [], "total": 0}
        return data

    def __len__(self) -> int:
        return int(self._slice(0, 1)["total"])

    def size(self) -> int:
        """How many items the List holds."""
        return len(self)

    def to_list(self) -> builtins.list[Any]:
        """Every item, in order."""
        items: builtins.list[Any] = []
        while True:
            data = self._slice(len(items), PAGE)
            items.extend(data["items"])
            if not data["items"] or len(items) >= data["total"]:
                return items

    def __iter__(self) -> Iterator[Any]:
        return iter(self.to_list())

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return self.to_list()[index]
        length = len(self)
        position = index + length if index < 0 else index
        if not 0 <= position < length:
            msg = f"list {self.name!r} index {index} out of range (length {length})"
            raise IndexError(msg)
        return self._slice(position, 1)["items"][0]

    def get(self, index: int) -> Any:
        """The item at ``index`` (negative counts from the end).

        Raises:
            IndexError: out of range.
        """
        return self[index]

    def clear(self) -> None:
        """Remove every item."""
        with contextlib.suppress(errors.NotFound):
            self._http.call("DELETE", self._path)

    def __repr__(self) -> str:
        return f"RemoteList({self.name!r})"


class RemoteMap:
    """A named Map over HTTP: string keys, JSON values."""

    def __init__(self, http: Http, name: str) -> None:
        self.name = check_name(name)
        self._http = http
        self._path = f"/maps/{seg(name)}"

    def _key(self, key: Any) -> str:
        if not isinstance(key, str):
            raise errors.InvalidInput("key", f"a remote Map's keys are strings, got {key!r}")
        return f"{self._path}/{seg(key)}"

    def put(self, key: Any, value: Any) -> None:
        """Set ``key`` to ``value``.

        Raises:
            InvalidInput: naming ``key`` (not a string) or ``value`` (not JSON).
        """
        path = self._key(key)
        self._http.call("PUT", path, json={"value": jsonable([value])[0]})

    def put_all(self, entries: Mapping[Any, Any] | Iterable[tuple[Any, Any]]) -> None:
        """Set many keys (a dict, or ``(key, value)`` pairs) in one request, one transaction.

        Raises:
            InvalidInput: as ``put``, checked for every entry before anything is sent.
        """
        pairs = list(entries.items() if isinstance(entries, Mapping) else entries)
        for k, _v in pairs:
            self._key(k)
        jsonable([v for _, v in pairs])
        if pairs:
            self._http.call("POST", self._path, json={"entries": dict(pairs)})

    update = put_all

    def get(self, key: Any, default: Any = None) -> Any:
        """The value under ``key``, or ``default``."""
        try:
            return self._http.call("GET", self._key(key))["value"]
        except errors.NotFound:
            return default

    def __getitem__(self, key: Any) -> Any:
        try:
            return self._http.call("GET", self._key(key))["value"]
        except errors.NotFound:
            raise KeyError(key) from None

    def __contains__(self, key: object) -> bool:
        try:
            self._http.call("GET", self._key(key))
        except errors.NotFound:
            return False
        return True

    contains_key = __contains__

    def remove(self, key: Any) -> Any:
        """Remove ``key``; returns its value, or None if it had none."""
        try:
            return self._http.call("DELETE", self._key(key))["value"]
        except errors.NotFound:
            return None

    def entries(self) -> builtins.list[tuple[Any, Any]]:
        """Every ``(key, value)`` pair."""
        try:
            data = self._http.call("GET", self._path)
        except errors.NotFound:
            return []
        return [(e["key"], e["value"]) for e in data["items"]]

    entry_set = entries
    items = entries

    def keys(self) -> builtins.list[Any]:
        """Every key."""
        return [k for k, _ in self.entries()]

    key_set = keys

    def values(self) -> builtins.list[Any]:
        """Every value."""
        return [v for _, v in self.entries()]

    def to_dict(self) -> dict[Any, Any]:
        """The whole Map as a dict."""
        return dict(self.entries())

    def __len__(self) -> int:
        return len(self.entries())

    def size(self) -> int:
        """How many entries the Map holds."""
        return len(self)

    def clear(self) -> None:
        """Remove every entry."""
        with contextlib.suppress(errors.NotFound):
            self._http.call("DELETE", self._path)

    def __repr__(self) -> str:
        return f"RemoteMap({self.name!r})"


class RemoteStream:
    """A named Stream over HTTP (JSON values); opening it creates it, as embedded.

    A viewer's token cannot create a Stream: it opens one that exists.

    Raises (on opening):
        InvalidInput: ``partitions`` contradicts an existing Stream's count.
        NotFound: a viewer opens a Stream that does not exist.
    """

    def __init__(self, http: Http, name: str, partitions: int | None = None) -> None:
        self.name = check_name(name)
        self._http = http
        self._path = f"/streams/{seg(name)}"
        query = {} if partitions is None else {"partitions": partitions}
        try:
            state = self._http.call("PUT", self._path, params=query)
        except errors.PermissionDenied:
            # A viewer cannot create it, but may read one that exists.
            state = self._state()
        except errors.Conflict as exc:
            # The embedded handle names the argument; the server calls it a conflict.
            raise errors.InvalidInput("partitions", str(exc)) from None
        self._partitions = int(state["partitions"])

    def _state(self) -> dict[str, Any]:
        data: dict[str, Any] = self._http.call("GET", f"{self._path}/state")
        return data

    def partition_count(self) -> int:
        """How many partitions the Stream has."""
        return self._partitions

    def publish(self, item: Any, key: Any = None) -> tuple[int, int]:
        """Append one item; returns its ``(partition, offset)``."""
        if key is None:
            return self._append([item], None)[0]
        body = {"items": jsonable([item]), "key": jsonable([key], "key")[0]}
        data = self._http.call("POST", self._path, json=body)
        return (int(data["offsets"][0][0]), int(data["offsets"][0][1]))

    def publish_all(
        self, items: Iterable[Any], key_fn: Callable[[Any], Any] | None = None
    ) -> builtins.list[tuple[int, int]]:
        """Append items in one transaction; ``key_fn(item)`` picks each one's key."""
        values = list(items)
        keys = None if key_fn is None else [key_fn(v) for v in values]
        return self._append(values, keys)

    def append(self, items: Iterable[Any]) -> None:
        """Append items round-robin (what a pipeline sink does)."""
        self.publish_all(items)

    def _append(
        self, items: builtins.list[Any], keys: builtins.list[Any] | None
    ) -> builtins.list[tuple[int, int]]:
        jsonable(items)
        if keys is None:
            data = self._http.call("POST", self._path, json={"items": items})
        else:
            entries = [
                {"value": v, "key": k} for v, k in zip(items, jsonable(keys, "key"), strict=True)
            ]
            data = self._http.call("POST", f"{self._path}/entries", json={"entries": entries})
        return [(int(p), int(o)) for p, o in data["offsets"]]

    def _read(self, partition: int, offset: int, max_count: int) -> dict[str, Any]:
        query = {"partition": partition, "offset": offset, "limit": max_count}
        data: dict[str, Any] = self._http.call("GET", self._path, params=query)
        return data

    def read_entries(
        self, partition: int, offset: int = 0, max_count: int = 1000
    ) -> builtins.list[StreamEntry]:
        """Up to ``max_count`` entries of ``partition`` from ``offset``, with their keys.

        Raises:
            InvalidInput: naming ``partition`` when the Stream has no such partition.
        """
        return [
            StreamEntry(int(e["partition"]), int(e["offset"]), e["key"], e["value"])
            for e in self._read(partition, offset, max_count)["items"]
        ]

    def read(self, partition: int, offset: int = 0, max_count: int = 1000) -> builtins.list[Any]:
        """Up to ``max_count`` items of ``partition`` from ``offset``."""
        return [e["value"] for e in self._read(partition, offset, max_count)["items"]]

    def latest_offsets(self) -> dict[int, int]:
        """Each partition's next offset: where a reader "from latest" starts."""
        return dict(enumerate(int(o) for o in self._state()["end_offsets"]))

    def end_offset(self, partition: int) -> int:
        """The offset the next item appended to ``partition`` will get."""
        return int(self._read(partition, 0, 1)["end_offset"])

    def close(self) -> None:
        """Declare that nothing more will be appended (readers may then end)."""
        self._http.call("POST", f"{self._path}/close")

    def is_closed(self) -> bool:
        """Whether the Stream has been closed."""
        return bool(self._state()["closed"])

    def __repr__(self) -> str:
        return f"RemoteStream({self.name!r}, partitions={self._partitions})"
