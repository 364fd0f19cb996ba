"""Pool workers write their reports to the results pipe themselves (``DirectWriter``).

A multiprocessing queue's ``put`` leaves the write to a feeder thread that needs the GIL
from the worker's busy main thread; the direct writer writes the bytes ``put`` would,
from the calling thread, under the queue's write lock. These tests check that the
queue's ``get`` (``messages.receive``) reads them whole and in order, a report larger
than the pipe included, and that a writer facing a full pipe that nobody will read
(its parent gone) gives up with ``ParentGone`` instead of waiting for good.
"""

from __future__ import annotations

import multiprocessing
import threading

import pytest

from headrace.engine.executors import messages as m

#: Larger than a pipe holds (64 KiB by default): written in parts as the reader reads.
BIG = list(range(200_000))


def _reports() -> list[m.SinkOutput]:
    return [m.SinkOutput(1, 0, 3, [i, i + 1]) for i in range(50)] + [m.SinkOutput(1, 0, 3, BIG)]


def test_reports_written_directly_are_read_whole_and_in_order() -> None:
    q = multiprocessing.get_context("spawn").Queue()
    q.cancel_join_thread()
    writer = m.DirectWriter(q, lambda: False, 0.05)
    sent = _reports() + _reports()
    thread = threading.Thread(target=lambda: [m.send(writer, r) for r in sent])
    thread.start()
    got = [m.receive(q, 30) for _ in sent]
    thread.join(30)
    assert got == sent
    assert q.empty()


def test_a_full_pipe_nobody_will_read_raises_parent_gone() -> None:
    q = multiprocessing.get_context("spawn").Queue()
    q.cancel_join_thread()
    checks: list[int] = []

    def gone() -> bool:
        checks.append(1)
        return len(checks) >= 3  # the parent is alive for two checks, then gone

    writer = m.DirectWriter(q, gone, 0.01)
    with pytest.raises(m.ParentGone):
        m.send(writer, m.SinkOutput(1, 0, 3, BIG))
    assert len(checks) == 3
