"""Large in-memory item sources, shared with pool workers through temporary files.

A pipeline reading ``Pipeline.items(seq)`` carries ``seq`` in its plan. Pickled into
every worker's payload, each of ``p`` workers would receive and unpickle all of it,
though splits are dealt at read time and each reads about ``1/p``: at parallelism 2
that costs more than the work it shares out. Instead the payload carries a
:class:`SharedItems` naming a directory (in ``/dev/shm`` where there is one) where the
parent writes the sequence pickled split by split, one file each, in a background
thread while the run goes on: a worker reads and unpickles only the splits it claims,
and waits for one only if it claims it before the parent has written it.
"""

from __future__ import annotations

import io
import os
import pickle
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from headrace.engine.plan import Plan
from headrace.pipeline import pickling, sources

__all__ = ["SharedItems", "Sharing", "loads"]

#: Where the files go: memory-backed where the system has it.
_DIR = "/dev/shm" if os.path.isdir("/dev/shm") else None
#: The persistent id a payload holds in place of a shared sequence.
_TAG = "headrace.shared-items"
#: The start of each run's folder name, followed by the pid of the process that made it.
_PREFIX = "headrace-items-"
#: Longest pause between two looks for a split file not written yet.
_WAIT_MAX_SEC = 0.005


class SharedItems(Sequence[Any]):
    """A read-only sequence whose items are pickled split by split, a file each.

    Indexing and slicing load the splits they touch (the last one stays loaded: a
    split is read in consecutive batches).
    """

    def __init__(self, folder: str, length: int, step: int) -> None:
        self._folder, self._len, self._step = folder, length, step
        self._chunk: tuple[int, list[Any]] = (-1, [])

    def __reduce__(self) -> tuple[Any, ...]:
        return SharedItems, (self._folder, self._len, self._step)

    @property
    def folder(self) -> str:
        """Where the splits are: a file per split, named by its index."""
        return self._folder

    def __len__(self) -> int:
        return self._len

    def _load(self, k: int) -> list[Any]:
        if self._chunk[0] != k:
            self._chunk = (k, pickle.loads(self._read(k)))
        return self._chunk[1]

    def _read(self, k: int) -> bytes:
        """Split ``k``'s file, once the parent has written it (renamed into place whole).

        The parent writes every split of a run that is going on; if it fails, it ends the
        run and stops the workers, so the wait ends either way.
        """
        path, pause = os.path.join(self._folder, str(k)), 0.0002
        while True:
            try:
                with open(path, "rb") as fh:
                    return fh.read()
            except FileNotFoundError:
                if not os.path.isdir(self._folder):
                    raise  # the run is over: nothing will come
                time.sleep(pause)
                pause = min(pause * 2, _WAIT_MAX_SEC)

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
        for k in range(-(-self._len // self._step)):
            yield from self._load(k)


class Sharing:
    """The shared files of one run: written in the background while it runs, then removed.

    ``start`` begins writing (after the payload is pickled); ``check`` raises what
    stopped the writing, if anything; ``close`` stops it and removes the files.
    """

    def __init__(self, plan: Plan, step: int) -> None:
        self.step = max(1, step)
        self.shared: dict[int, tuple[Sequence[Any], SharedItems]] = {}
        self.folders: list[str] = []
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        for vertex in plan.vertices:
            head = vertex.head
            if head is None or not isinstance(head.source, sources.ItemsSource):
                continue
            items = head.source.items
            # A range pickles as its bounds: nothing to gain.
            large = len(items) > self.step and not isinstance(items, range)
            if large and id(items) not in self.shared:
                if not self.folders:
                    _remove_orphans()
                folder = tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-", dir=_DIR)
                self.folders.append(folder)
                self.shared[id(items)] = (items, SharedItems(folder, len(items), self.step))

    def dumps(self, obj: Any) -> bytes:
        """``obj`` (a payload) pickled as ``pickling.dumps`` does, shared sequences by name."""
        out = io.BytesIO()
        _Pickler(out, self.shared).dump(obj)
        return out.getvalue()

    def start(self) -> None:
        """Writes the shared sequences' splits in a background thread, in order."""
        if self.shared:
            self._thread = threading.Thread(
                target=self._write_all, name="headrace-shared-items", daemon=True
            )
            self._thread.start()

    def _write_all(self) -> None:
        try:
            for items, handle in self.shared.values():
                for k, lo in enumerate(range(0, len(items), self.step)):
                    if self._stop.is_set():
                        return
                    path = os.path.join(handle.folder, str(k))
                    with open(path + ".part", "wb") as fh:
                        fh.write(pickling.dumps_fast(items[lo : lo + self.step]))
                    os.replace(path + ".part", path)  # a reader sees the whole split or none
        except BaseException as exc:
            self._error = exc

    def check(self) -> None:
        """Raises what stopped the writing of the splits, if anything did."""
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        """Stops the writing and removes the files (workers read them only during the run)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        for folder in self.folders:
            shutil.rmtree(folder, ignore_errors=True)
        self.folders = []


def _remove_orphans() -> None:
    """Removes the folders of processes that died mid-run (killed: no ``close`` ran)."""
    where = _DIR or tempfile.gettempdir()
    try:
        names = os.listdir(where)
    except OSError:
        return
    for name in names:
        pid = name[len(_PREFIX) :].split("-", 1)[0]
        if name.startswith(_PREFIX) and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(os.path.join(where, name), ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


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
