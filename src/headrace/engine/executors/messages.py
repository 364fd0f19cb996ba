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
import pickle
from collections.abc import Sequence
from typing import Any, Literal, NamedTuple

from headrace.engine.edges import Message
from headrace.engine.metrics import PipelineMetrics
from headrace.pipeline import pickling

__all__ = [
    "Batch",
    "Command",
    "Done",
    "Ended",
    "Failed",
    "Inbound",
    "Mark",
    "Metrics",
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
