"""What the process pool's parent and workers say to each other, and how it travels.

Every message is a typed NamedTuple carrying the number of the run it belongs to, so
nothing left from an earlier run is taken for this one. The parent writes to each
worker's inbox (``Start``, ``Command``) and workers write data batches to each other's
inboxes (``Batch``); every worker reports to the parent on one results queue
(``SinkOutput``, ``Metrics``, ``Mark``, ``Done``, ``Failed``), and answers the snapshot
barrier on a control queue (``Idle``, ``State``, ``Ended``). The barrier's answers do
not wait behind sink output the parent has yet to apply: a worker paused for a snapshot
is idle until the parent has its state, so that wait would stall every worker for as
long as the parent lags behind their output. ``Mark`` tells the parent where in the
results queue a worker took its state: its output before the mark belongs to that
snapshot.

Messages travel as bytes pickled by the sender (``send``): a multiprocessing
queue pickles in a feeder thread, where a failure is printed and the item dropped, so
output would be lost without an error. Pickled in the sender, a failure raises there and
fails the run.
"""

from __future__ import annotations

import multiprocessing.connection
import os
import pickle
import select
import struct
from collections.abc import Callable, Sequence
from multiprocessing.reduction import ForkingPickler
from typing import Any, Literal, NamedTuple

from headrace.engine.edges import Message
from headrace.engine.metrics import PipelineMetrics
from headrace.pipeline import pickling

__all__ = [
    "Batch",
    "Command",
    "DirectWriter",
    "Done",
    "Ended",
    "Failed",
    "Inbound",
    "Mark",
    "Metrics",
    "ParentGone",
    "Report",
    "Sent",
    "SinkOutput",
    "Start",
    "State",
    "dumps",
    "receive",
    "send",
    "wait_any",
]

#: Message counts per peer worker: sent to (or received from) worker ``i`` at index ``i``.
Sent = tuple[int, ...]


# ---------------------------------------------------------------- to a worker's inbox


class Start(NamedTuple):
    """The parent starts run ``run`` on a pool worker; ``payload`` is its pickled part."""

    run: int
    payload: bytes


class Command(NamedTuple):
    """The parent's snapshot protocol: ``pause`` reading, send your ``state``, ``resume``."""

    run: int
    name: Literal["pause", "state", "resume"]
    epoch: int


class Batch(NamedTuple):
    """An engine message (a data batch, watermark or end) from one worker to another."""

    run: int
    message: Message


Inbound = Start | Command | Batch


# ---------------------------------------------------------------- to the parent


class SinkOutput(NamedTuple):
    """A batch of the sink ``node_id``'s output, for the parent to apply.

    ``encoded``: the items are rows the provider's ``encoder`` made. ``values``: a Map's
    entries as two columns, ``items`` their keys and ``values`` their values (``sinks``).
    """

    run: int
    worker: int
    node_id: int
    items: list[Any]
    encoded: bool = False
    values: list[Any] | None = None


class Metrics(NamedTuple):
    """A worker's live metrics, sent every ``METRICS_SEC``."""

    run: int
    worker: int
    metrics: PipelineMetrics


class Idle(NamedTuple):
    """A paused worker's inbox ran dry: what it sent to and received from each peer."""

    run: int
    worker: int
    epoch: int
    sent: Sent
    received: Sent


class State(NamedTuple):
    """A paused worker's state for snapshot ``epoch`` (on the control queue)."""

    run: int
    worker: int
    epoch: int
    state: bytes
    metrics: PipelineMetrics


class Mark(NamedTuple):
    """On the results queue: ``worker`` took its state for ``epoch`` here.

    Its sink output before the mark is covered by that snapshot, the output after it
    by the next one.
    """

    run: int
    worker: int
    epoch: int


class Ended(NamedTuple):
    """On the control queue: ``worker`` finished its part, with its final counts.

    Its ``Done`` (state, metrics) follows its sink output in the results queue; a barrier
    need not wait for that to know the worker will not answer a pause.
    """

    run: int
    worker: int
    sent: Sent
    received: Sent


class Done(NamedTuple):
    """A worker finished its part of the run."""

    run: int
    worker: int
    metrics: PipelineMetrics
    sent: Sent
    received: Sent
    state: bytes


class Failed(NamedTuple):
    """A worker's run raised: the pickled exception and its formatted traceback."""

    run: int
    worker: int
    error: bytes
    text: str


Report = SinkOutput | Metrics | Idle | State | Mark | Ended | Done | Failed


# ---------------------------------------------------------------- the wire


def send(q: Any, message: Inbound | Report) -> None:
    """Put ``message`` on a pool queue as bytes pickled here, by the sender."""
    q.put(dumps(message))


def dumps(obj: Any) -> bytes:
    """``obj`` pickled so that any pool process can load it (``pickling.dumps_fast``).

    Pool processes do not import the user's ``__main__`` (see ``headrace.children``).
    """
    return pickling.dumps_fast(obj)


def receive(q: Any, timeout: float | None) -> Any:
    """The next message ``send`` put on ``q`` (``timeout`` 0: do not wait).

    Raises:
        queue.Empty: nothing came in time.
    """
    data = q.get_nowait() if timeout == 0 else q.get(timeout=timeout)
    return pickle.loads(data)


def wait_any(queues: Sequence[Any], timeout: float, sentinels: Sequence[int] = ()) -> bool:
    """Waits until one of ``queues`` (multiprocessing queues) may have a message.

    At most ``timeout`` seconds, less if one of ``sentinels`` (processes') is ready:
    a process ended. Callers then ``receive`` from each with timeout 0. True if a
    queue may have a message.
    """
    readers = [q._reader for q in queues]
    ready = multiprocessing.connection.wait([*readers, *sentinels], timeout)
    return any(r in ready for r in readers)


class ParentGone(RuntimeError):
    """A worker's report could not be written: the pipe stayed full and its parent is gone."""


class DirectWriter:
    """Puts reports on a multiprocessing queue from the calling thread, not a feeder thread.

    A queue's ``put`` leaves the write to a feeder thread, which writes only while it
    holds the GIL; a worker's busy main thread hands the GIL over about once a switch
    interval, so a worker's reports piled up in it while the parent, with nothing to
    read, slept (at p=2 the parent read half of a run's output in its last tenth). This
    writes the same bytes a ``put`` would (``Queue.get`` reads them) at once, under the
    queue's write lock. The pipe is non-blocking: while it is full the writer waits for
    room, ``check_sec`` at a time, and raises ``ParentGone`` once ``gone()`` says nobody
    will read it (a parent killed mid-run), rather than waiting for good.
    """

    def __init__(self, q: Any, gone: Callable[[], bool], check_sec: float) -> None:
        self.queue = q
        self._lock = q._wlock  # None where pipe writes need no lock (Windows): ``put``
        self._slots = q._sem  # one per message in the queue: ``get`` releases one
        self._fd = q._writer.fileno()
        self._gone = gone
        self._check_ms = int(check_sec * 1000)
        if self._lock is not None:
            os.set_blocking(self._fd, False)  # every worker writes this way (none blocks)

    def put(self, data: bytes) -> None:
        """Writes ``data`` as ``Queue.put`` would have, waiting while the pipe is full."""
        if self._lock is None:
            self.queue.put(data)
            return
        payload = ForkingPickler.dumps(data)
        view = memoryview(struct.pack("!i", len(payload)) + bytes(payload))
        self._slots.acquire()  # as ``put`` does (an unbounded queue: never waits)
        with self._lock:
            while view:
                try:
                    view = view[os.write(self._fd, view) :]
                except BlockingIOError:
                    self._wait()

    def _wait(self) -> None:
        poller = select.poll()
        poller.register(self._fd, select.POLLOUT)
        while not poller.poll(self._check_ms):
            if self._gone():
                msg = "the pipe to the parent stayed full and the parent is gone"
                raise ParentGone(msg)
