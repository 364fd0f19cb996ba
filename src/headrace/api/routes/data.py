"""Named Lists, Maps and Streams over JSON: values written here are JSON values.

Values that Python code stored and JSON cannot express are shown as ``{"$repr": "..."}``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query

from headrace import errors
from headrace.api import problems
from headrace.api.auth import ApiState, Reader, State, Writer
from headrace.api.paths import Name
from headrace.api.schemas import (
    Appended,
    EntriesIn,
    ItemsIn,
    ListOut,
    MapEntriesIn,
    MapEntryOut,
    MapOut,
    StreamEntryOut,
    StreamOut,
    StreamStateOut,
    ValueIn,
)
from headrace.service.data import StoreProvider, StreamHandle

router = APIRouter(tags=["data"], responses=problems.responses(401, 403, 404, 409, 413, 422, 503))

Offset = Annotated[int, Query(ge=0, le=2**62)]
Limit = Annotated[int, Query(ge=1, le=10_000)]
LIST, MAP, STREAM, KEY = "list", "map", "stream", "map key"


def jsonable(value: Any) -> Any:
    """``value`` if JSON can carry it, else ``{"$repr": repr(value)}``."""
    try:
        # ensure_ascii=False and UTF-8, as the response is written: a lone surrogate fails.
        json.dumps(value, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError):
        return {"$repr": repr(value)}
    return value


def _missing(kind: str, name: str) -> errors.NotFound:
    return errors.NotFound(kind, name)


@router.get("/lists/{name}", response_model=ListOut)
def read_list(
    name: Name, who: Reader, state: State, offset: Offset = 0, limit: Limit = 100
) -> ListOut:
    """A slice of the named List."""
    data = StoreProvider(state.store, who.tenant_id)
    if not data.has_list(name):
        raise _missing(LIST, name)
    handle = data.get_list(name)
    items = handle[offset : offset + limit]
    return ListOut(name=name, items=[jsonable(i) for i in items], offset=offset, total=len(handle))


@router.post("/lists/{name}", response_model=ListOut)
def append_list(name: Name, body: ItemsIn, who: Writer, state: State) -> ListOut:
    """Append JSON values to the named List (created on first write)."""
    handle = StoreProvider(state.store, who.tenant_id).get_list(name)
    handle.extend(body.items)
    return ListOut(name=name, items=[], offset=0, total=len(handle))


@router.delete("/lists/{name}", response_model=ListOut)
def clear_list(name: Name, who: Writer, state: State) -> ListOut:
    """Remove every item of the named List."""
    data = StoreProvider(state.store, who.tenant_id)
    if not data.has_list(name):
        raise _missing(LIST, name)
    data.get_list(name).clear()
    return ListOut(name=name, items=[], offset=0, total=0)


@router.get("/maps/{name}", response_model=MapOut)
def read_map(name: Name, who: Reader, state: State) -> MapOut:
    """Every entry of the named Map."""
    data = StoreProvider(state.store, who.tenant_id)
    if not data.has_map(name):
        raise _missing(MAP, name)
    entries = data.get_map(name).entries()
    return MapOut(
        name=name,
        items=[MapEntryOut(key=jsonable(k), value=jsonable(v)) for k, v in entries],
        total=len(entries),
    )


@router.post("/maps/{name}", response_model=MapOut)
def put_entries(name: Name, body: MapEntriesIn, who: Writer, state: State) -> MapOut:
    """Set many string keys of the named Map (created on first write) in one transaction."""
    handle = StoreProvider(state.store, who.tenant_id).get_map(name)
    handle.put_all(body.entries)
    return MapOut(name=name, items=[], total=len(handle))


@router.delete("/maps/{name}", response_model=MapOut)
def clear_map(name: Name, who: Writer, state: State) -> MapOut:
    """Remove every entry of the named Map."""
    data = StoreProvider(state.store, who.tenant_id)
    if not data.has_map(name):
        raise _missing(MAP, name)
    data.get_map(name).clear()
    return MapOut(name=name, items=[], total=0)


@router.get("/maps/{name}/{key}", response_model=MapEntryOut)
def get_entry(name: Name, key: str, who: Reader, state: State) -> MapEntryOut:
    """The value under a string key of the named Map."""
    data = StoreProvider(state.store, who.tenant_id)
    if not data.has_map(name):
        raise _missing(MAP, name)
    handle = data.get_map(name)
    if key not in handle:
        raise _missing(KEY, key)
    return MapEntryOut(key=key, value=jsonable(handle[key]))


@router.put("/maps/{name}/{key}", response_model=MapEntryOut)
def put_entry(name: Name, key: str, body: ValueIn, who: Writer, state: State) -> MapEntryOut:
    """Set a string key of the named Map (created on first write) to a JSON value."""
    StoreProvider(state.store, who.tenant_id).get_map(name).put(key, body.value)
    return MapEntryOut(key=key, value=body.value)


@router.delete("/maps/{name}/{key}", response_model=MapEntryOut)
def remove_entry(name: Name, key: str, who: Writer, state: State) -> MapEntryOut:
    """Remove a string key of the named Map; returns what it held."""
    data = StoreProvider(state.store, who.tenant_id)
    if not data.has_map(name):
        raise _missing(MAP, name)
    handle = data.get_map(name)
    if key not in handle:
        raise _missing(KEY, key)
    return MapEntryOut(key=key, value=jsonable(handle.remove(key)))


@router.get("/streams/{name}", response_model=StreamOut)
def read_stream(
    name: Name,
    who: Reader,
    state: State,
    partition: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    offset: Offset = 0,
    limit: Limit = 100,
) -> StreamOut:
    """Up to ``limit`` entries of one partition of the named Stream, from ``offset``."""
    data = StoreProvider(state.store, who.tenant_id)
    if not data.has_stream(name):
        raise _missing(STREAM, name)
    handle = data.get_stream(name)
    entries = handle.read_entries(partition, offset, limit)
    return StreamOut(
        name=name,
        partitions=handle.partition_count(),
        partition=partition,
        items=[
            StreamEntryOut(
                partition=e.partition, offset=e.offset, key=jsonable(e.key), value=jsonable(e.value)
            )
            for e in entries
        ],
        next_offset=entries[-1].offset + 1 if entries else offset,
        end_offset=handle.end_offset(partition),
        end_offsets=_end_offsets(handle),
        closed=handle.is_closed(),
    )


def _end_offsets(handle: StreamHandle) -> list[int]:
    latest = handle.latest_offsets()
    return [latest.get(p, 0) for p in range(handle.partition_count())]


@router.post("/streams/{name}", response_model=Appended)
def publish(
    name: Name,
    body: ItemsIn,
    who: Writer,
    state: State,
    partitions: Annotated[int | None, Query(ge=1, le=1024)] = None,
) -> Appended:
    """Append JSON values to the named Stream; ``key`` routes them to one partition.

    A Stream created here gets ``partitions`` partitions (default 1); naming another count
    than an existing Stream's is a conflict (409).
    """
    handle = _stream_for_append(state, who.tenant_id, name, partitions)
    key = body.key
    offsets = handle.publish_all(body.items, key_fn=None if key is None else (lambda _i: key))
    return Appended(name=name, offsets=[[p, o] for p, o in offsets])


def _stream_for_append(
    state: ApiState, tenant_id: str, name: str, partitions: int | None
) -> StreamHandle:
    """The Stream to append to, created with ``partitions`` if missing.

    Raises:
        Conflict: ``partitions`` differs from the existing Stream's count.
    """
    data = StoreProvider(state.store, tenant_id)
    if partitions is not None and data.has_stream(name):
        have = data.get_stream(name).partition_count()
        if have != partitions:
            msg = f"stream {name!r} exists with {have} partitions, not {partitions}"
            raise errors.Conflict(msg)
    return StreamHandle(state.store, tenant_id, name, partitions)


@router.post("/streams/{name}/entries", response_model=Appended)
def publish_entries(
    name: Name,
    body: EntriesIn,
    who: Writer,
    state: State,
    partitions: Annotated[int | None, Query(ge=1, le=1024)] = None,
) -> Appended:
    """Append JSON values to the named Stream, each to the partition of its own key.

    One transaction, in order; an entry without a key goes round-robin. ``partitions`` as
    for ``POST /streams/{name}``.
    """
    handle = _stream_for_append(state, who.tenant_id, name, partitions)
    keys = iter([e.key for e in body.entries])
    # publish_all calls key_fn once per item, in order: hand out the keys in that order.
    offsets = handle.publish_all([e.value for e in body.entries], key_fn=lambda _i: next(keys))
    return Appended(name=name, offsets=[[p, o] for p, o in offsets])


def _state_of(name: str, handle: StreamHandle) -> StreamStateOut:
    return StreamStateOut(
        name=name,
        partitions=handle.partition_count(),
        end_offsets=_end_offsets(handle),
        closed=handle.is_closed(),
    )


@router.put("/streams/{name}", response_model=StreamStateOut)
def open_stream(
    name: Name,
    who: Writer,
    state: State,
    partitions: Annotated[int | None, Query(ge=1, le=1024)] = None,
) -> StreamStateOut:
    """Create the named Stream with ``partitions`` partitions (default 1) unless it exists.

    Naming another count than an existing Stream's is a conflict (409), as for ``POST``.
    """
    return _state_of(name, _stream_for_append(state, who.tenant_id, name, partitions))


@router.get("/streams/{name}/state", response_model=StreamStateOut)
def stream_state(name: Name, who: Reader, state: State) -> StreamStateOut:
    """The named Stream's partitions, end offsets and whether it is closed."""
    data = StoreProvider(state.store, who.tenant_id)
    if not data.has_stream(name):
        raise _missing(STREAM, name)
    return _state_of(name, data.get_stream(name))


@router.post("/streams/{name}/close", response_model=StreamStateOut)
def close_stream(name: Name, who: Writer, state: State) -> StreamStateOut:
    """Close the named Stream: pipelines reading it end once they have read it all."""
    data = StoreProvider(state.store, who.tenant_id)
    if not data.has_stream(name):
        raise _missing(STREAM, name)
    handle = data.get_stream(name)
    handle.close()
    return _state_of(name, handle)
