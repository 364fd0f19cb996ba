"""What the process pool's parent and workers say to each other, and how it travels.

Every message is a typed NamedTuple carrying the number of the run it belongs to, so
nothing left from an earlier run is taken for this one. The parent writes to each
worker's inbox (``Start``, ``Command``) and workers write data batches to each other's
inboxes (``Batch``); every worker reports to the parent on one results queue
(``SinkOutput``, ``Metrics``, ``Idle``, ``State``, ``Done``, ``Failed``).

Messages travel as bytes pickled by the sender (``send``): a multiprocessing queue
pickles in a feeder thread, where a failure is printed and the item dropped, so output
would be lost without an error. Pickled in the sender, a failure raises there and
fails the run.
"""

from __future__ import annotations

import pickle
from typing import Any, Literal, NamedTuple

from headrace.engine.edges import Message
from headrace.engine.metrics import PipelineMetrics
from headrace.pipeline import pickling

__all__ = [
    "Batch",
    "Command",
    "Done",
    "Failed",
    "Inbound",
    "Metrics",
    "Report",
    "Sent",
    "SinkOutput",
    "Start",
    "State",
    "dumps",
    "receive",
    "send",
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

    ``encoded``: the items are rows the provider's ``encoder`` made (``sinks``).
    """

    run: int
    worker: int
    node_id: int
    items: list[Any]
    encoded: bool = False


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
    """A paused worker's state for snapshot ``epoch``."""

    run: int
    worker: int
    epoch: int
    state: bytes
    metrics: PipelineMetrics


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


Report = SinkOutput | Metrics | Idle | State | Done | Failed


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
