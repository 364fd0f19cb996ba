"""Large in-memory item sources, shared with pool workers through one temporary file.

A pipeline reading ``Pipeline.items(seq)`` carries ``seq`` in its plan. Pickled into
every worker's payload, each of ``p`` workers would receive and unpickle all of it,
though splits are dealt at read time and each reads about ``1/p``: at parallelism 2
that costs more than the work it shares out. Instead the parent pickles such a
sequence once, split by split, into one file (in ``/dev/shm`` where there is one),
and the payload carries a :class:`SharedItems` naming the file and each split's byte
range: a worker reads and unpickles only the splits it claims.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import tempfile
from collections.abc import Iterator, Sequence
from typing import Any

from headrace.engine.plan import Plan
from headrace.pipeline import pickling, sources

__all__ = ["SharedItems", "Sharing", "loads"]

#: Where the files go: memory-backed where the system has it.
_DIR = "/dev/shm" if os.path.isdir("/dev/shm") else None
#: The persistent id a payload holds in place of a shared sequence.
_TAG = "headrace.shared-items"


class SharedItems(Sequence[Any]):
    """A read-only sequence whose items are pickled chunk by chunk in a file.

    Indexing and slicing load the chunks they touch (the last one stays loaded: a
    split is read in consecutive batches).
    """

    def __init__(self, path: str, length: int, step: int, offsets: tuple[int, ...]) -> None:
        self._path, self._len, self._step, self._offsets = path, length, step, offsets
        self._chunk: tuple[int, list[Any]] = (-1, [])

    def __reduce__(self) -> tuple[Any, ...]:
        return SharedItems, (self._path, self._len, self._step, self._offsets)

    def __len__(self) -> int:
        return self._len

    def _load(self, k: int) -> list[Any]:
        if self._chunk[0] != k:
            lo, hi = self._offsets[k], self._offsets[k + 1]
            with open(self._path, "rb") as fh:
                fh.seek(lo)
                self._chunk = (k, pickle.loads(fh.read(hi - lo)))
        return self._chunk[1]

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            start, stop, stride = index.indices(self._len)
            if stride != 1:
                return [self[i] for i in range(start, stop, stride)]
            out: list[Any] = []
            while start < stop:
                k, at = divmod(start, self._step)
                take = min(stop - start, self._step - at)
                out.extend(self._load(k)[at : at + take])
                start += take
            return out
        i = index + self._len if index < 0 else index
        if not 0 <= i < self._len:
            msg = "SharedItems index out of range"
            raise IndexError(msg)
        return self._load(i // self._step)[i % self._step]

    def __iter__(self) -> Iterator[Any]:
        for k in range(len(self._offsets) - 1):
            yield from self._load(k)


class Sharing:
    """The shared files of one run: made before its payload is pickled, removed after."""

    def __init__(self, plan: Plan, step: int) -> None:
        self.step = max(1, step)
        self.shared: dict[int, tuple[Sequence[Any], SharedItems]] = {}
        self.paths: list[str] = []
        for vertex in plan.vertices:
            head = vertex.head
            if head is None or not isinstance(head.source, sources.ItemsSource):
                continue
            items = head.source.items
            # A range pickles as its bounds: nothing to gain.
            large = len(items) > self.step and not isinstance(items, range)
            if large and id(items) not in self.shared:
                self.shared[id(items)] = (items, self._write(items))

    def _write(self, items: Sequence[Any]) -> SharedItems:
        fd, path = tempfile.mkstemp(prefix="headrace-items-", dir=_DIR)
        self.paths.append(path)
        offsets = [0]
        with os.fdopen(fd, "wb") as fh:
            for lo in range(0, len(items), self.step):
                offsets.append(
                    offsets[-1] + fh.write(pickling.dumps_fast(items[lo : lo + self.step]))
                )
        return SharedItems(path, len(items), self.step, tuple(offsets))

    def dumps(self, obj: Any) -> bytes:
        """``obj`` (a payload) pickled as ``pickling.dumps`` does, shared sequences by name."""
        out = io.BytesIO()
        _Pickler(out, self.shared).dump(obj)
        return out.getvalue()

    def close(self) -> None:
        """Removes the files (workers read them only while the run lasts)."""
        for path in self.paths:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        self.paths = []


class _Pickler(pickling.Pickler):
    """The payload's pickler: a shared sequence travels as its file's name and ranges."""

    def __init__(self, out: io.BytesIO, shared: dict[int, tuple[Sequence[Any], SharedItems]]):
        super().__init__(out, protocol=pickle.HIGHEST_PROTOCOL)
        self._shared = shared

    def persistent_id(self, obj: Any) -> Any:
        found = self._shared.get(id(obj))
        if found is None or found[0] is not obj:
            return None
        handle = found[1]
        return (_TAG, handle.__reduce__()[1])


class _Unpickler(pickle.Unpickler):
    def persistent_load(self, pid: Any) -> Any:
        tag, args = pid
        if tag != _TAG:
            msg = f"unknown persistent id {tag!r}"
            raise pickle.UnpicklingError(msg)
        return SharedItems(*args)


def loads(payload: bytes) -> Any:
    """A payload ``Sharing.dumps`` made (or any pickle)."""
    return _Unpickler(io.BytesIO(payload)).load()
