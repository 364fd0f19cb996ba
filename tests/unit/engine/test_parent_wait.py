"""How long the process pool's parent sleeps between reports, and what still wakes it.

Without a control, the parent has nothing to do by itself but the next periodic
snapshot, so it sleeps until that is due (at most ``IDLE_SEC``) instead of polling every
``POLL_SEC``; a report or a worker's end wakes it at once. These tests check that the
sleep is bounded by the snapshot schedule (a snapshot comes while the workers send
nothing), that a worker dying while the parent sleeps still fails the run, that with a
control the parent keeps polling, that a snapshot falling due does not wake a parent
waiting for the previous one's commit, and that reports queued behind a report are read
without a wait before each. No assertion depends on how fast the machine is: waits are
gates on files, and limits are compared with the coordinator's schedule.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import time
from pathlib import Path
from typing import Any

import pytest
from snapshot_harness import stream_provider, wait_for_file

from headrace.connectors.memory import MemorySnapshotStore
from headrace.engine import EngineOptions, prepare, run
from headrace.engine.executors import messages as m
from headrace.engine.executors import parent
from headrace.engine.executors.pool import WorkerCrashed
from headrace.engine.executors.sinks import DriverSinks
from headrace.engine.snapshot import Coordinator
from headrace.pipeline import Pipeline, StreamSource

PARTS = [list(range(p, 2000, 2)) for p in range(2)]
#: The longest a gate waits; past it the test fails (a hang would say nothing).
#: A snapshot interval no run here lasts.
NEVER_MS = 600_000


def copy_stream(fn: Any) -> Pipeline:
    p = Pipeline.create()
    p.read_from(StreamSource("events")).map(fn).write_to(Pipeline.to_list("out"))
    return p


def coordinator(
    guarantee: str = "exactly_once", interval_ms: int = NEVER_MS, control: Any = None
) -> Coordinator:
    provider = stream_provider(PARTS)
    opts = EngineOptions(guarantee=guarantee, snapshot_interval_ms=interval_ms)  # type: ignore[arg-type]
    plan, splits = prepare(copy_stream(_inc), provider, opts)
    store = MemorySnapshotStore(provider)
    return Coordinator(plan, splits, 2, opts, store, control)


class _Quiet:
    """A control that never stops the run nor asks for anything."""

    def check(self) -> None:
        """Nothing to stop."""


class _Waits:
    """A stand-in for a Parent: only what ``Parent.wait_sec`` reads."""

    def __init__(self, coord: Coordinator, committing: Any = None) -> None:
        self.coordinator = coord
        self.committing = committing


def wait_sec(coord: Coordinator, committing: Any = None) -> float:
    return parent.Parent.wait_sec(_Waits(coord, committing))  # type: ignore[arg-type]


def _inc(x: int) -> int:
    return x + 1


def test_next_due_is_an_interval_after_the_last_snapshot() -> None:
    before = time.monotonic()
    coord = coordinator(interval_ms=NEVER_MS)
    after = time.monotonic()
    # exactly once: held output is committed at least every output_interval_ms (1 s)
    due = coord.next_due()
    assert due is not None
    assert before + 1.0 <= due <= after + 1.0
    at_least = coordinator("at_least_once", interval_ms=NEVER_MS).next_due()
    assert at_least is not None
    assert at_least >= before + NEVER_MS / 1000
    taken = time.monotonic()
    coord.taken()
    moved = coord.next_due()
    assert moved is not None
    assert moved >= taken + 1.0
    assert coordinator("none").next_due() is None  # no periodic snapshots


def test_the_parent_sleeps_until_the_next_snapshot_at_most() -> None:
    # No control: until the next snapshot is due, never longer than IDLE_SEC.
    assert wait_sec(coordinator("at_least_once", NEVER_MS)) == parent.IDLE_SEC
    assert wait_sec(coordinator("none")) == parent.IDLE_SEC
    soon = coordinator("at_least_once", 200)
    assert 0.0 <= wait_sec(soon) <= 0.2
    overdue = coordinator("at_least_once", 0)
    assert wait_sec(overdue) == 0.0
    # A control is polled every POLL_SEC, snapshots or not.
    assert wait_sec(coordinator("exactly_once", NEVER_MS, _Quiet())) == parent.POLL_SEC
    assert wait_sec(coordinator("none", NEVER_MS, _Quiet())) == parent.POLL_SEC


def test_a_due_snapshot_does_not_wake_a_parent_that_waits_for_a_commit() -> None:
    # The next snapshot begins only once the last one committed, which waits for the
    # workers' marks (reports, which wake the parent): meanwhile it sleeps, overdue or
    # not, rather than read an empty queue over and over.
    pending = parent._Commit(1, [], [None, None], {}, {0, 1})
    overdue = coordinator("exactly_once", 0)
    assert wait_sec(overdue) == 0.0
    assert wait_sec(overdue, committing=pending) == parent.IDLE_SEC
    assert wait_sec(coordinator("at_least_once", 200), committing=pending) == parent.IDLE_SEC
    # A control is still polled every POLL_SEC.
    polled = coordinator("exactly_once", 0, _Quiet())
    assert wait_sec(polled, committing=pending) == parent.POLL_SEC


def _inc_after_a_snapshot_began(gates: str, x: int) -> int:
    """x + 1; at its 100th item a worker waits until the parent begins a snapshot."""
    if x // 2 == 100:
        wait_for_file(Path(gates, "snapshot"), f"worker {x % 2}: a periodic snapshot")
    return x + 1


def test_a_periodic_snapshot_comes_while_the_workers_send_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Both workers stop at a gate inside the map, sending nothing, until the parent
    # begins a snapshot: only the parent's own schedule can wake it for that. A parent
    # that slept until the next report would wait for good (the gates fail the run).
    snapshot = parent.Parent.snapshot
    begun: list[list[str]] = []

    def noting_snapshot(self: parent.Parent, names: list[str], resume: bool) -> None:
        begun.append(names)
        (tmp_path / "snapshot").touch()
        snapshot(self, names, resume)

    monkeypatch.setattr(parent.Parent, "snapshot", noting_snapshot)
    provider = stream_provider(PARTS)
    store = MemorySnapshotStore(provider)
    opts = EngineOptions(batch_size=16, guarantee="exactly_once", snapshot_interval_ms=50)
    run(
        copy_stream(functools.partial(_inc_after_a_snapshot_began, str(tmp_path))),
        provider,
        2,
        executor="processes",
        options=opts,
        snapshots=store,
    )
    assert begun and begun[0] == []  # periodic: no names
    assert len(store.commits) >= 2  # the periodic snapshot and the end's
    assert sorted(provider.lists["out"]) == list(range(1, 2001))  # exactly once


def _exit_at_500(x: int) -> int:
    if x == 500:
        os._exit(3)  # the worker process ends without a word, as if killed
    return x


def test_a_worker_that_dies_while_the_parent_sleeps_fails_the_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Periodic snapshots far off and no control: the parent sleeps on the results queue
    # and the live workers' sentinels together, so a worker's end wakes it.
    waits: list[tuple[float, int]] = []
    wait_any = m.wait_any

    def noting_wait_any(queues: Any, timeout: float, sentinels: Any = ()) -> bool:
        waits.append((timeout, len(sentinels)))
        return wait_any(queues, timeout, sentinels)

    monkeypatch.setattr(m, "wait_any", noting_wait_any)
    provider = stream_provider(PARTS)
    opts = EngineOptions(batch_size=16, guarantee="exactly_once", snapshot_interval_ms=NEVER_MS)
    with pytest.raises(WorkerCrashed, match=r"worker \d died \(exit code 3\)"):
        run(
            copy_stream(_exit_at_500),
            provider,
            2,
            executor="processes",
            options=opts,
            snapshots=MemorySnapshotStore(provider),
        )
    slept = [n for timeout, n in waits if timeout > parent.POLL_SEC]
    assert slept, waits
    assert all(n > 0 for n in slept)  # every long sleep watched the workers' ends


def _send_outputs(results: Any, n: int) -> None:
    """Sends ``n`` one-item sink outputs, then ends (its feeder writes them all first)."""
    for i in range(n):
        m.send(results, m.SinkOutput(1, 0, 0, [i]))


class _Reader:
    """A stand-in for a Parent: what ``Parent._next`` reads, on a real results queue."""

    wait_sec = parent.Parent.wait_sec
    next = parent.Parent._next

    def __init__(self, coord: Coordinator, results: Any) -> None:
        self.coordinator, self.results, self.control = coord, results, results
        self.sinks = DriverSinks(coord.plan, stream_provider(PARTS), coord)
        self.barrier, self.streak, self.committing = False, False, None
        self.procs: list[Any] = []
        self.done: dict[int, Any] = {}


def test_after_a_report_the_parent_reads_the_next_without_waiting_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Exactly once, no control: nothing is gathered for a flush, so only the streak
    # keeps the parent from a wait on the queue and the workers' ends before each read.
    waits: list[float] = []
    wait_any = m.wait_any

    def noting_wait_any(queues: Any, timeout: float, sentinels: Any = ()) -> bool:
        waits.append(timeout)
        return wait_any(queues, timeout, sentinels)

    monkeypatch.setattr(m, "wait_any", noting_wait_any)
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    sender = context.Process(target=_send_outputs, args=(results, 5))
    sender.start()
    sender.join()  # all five are in the pipe now
    reader = _Reader(coordinator("exactly_once", NEVER_MS), results)

    got = [reader.next() for _ in range(5)]

    assert [r.items for r in got if isinstance(r, m.SinkOutput)] == [[0], [1], [2], [3], [4]]
    assert len(waits) == 1  # the first read waited; the four behind it did not
    assert reader.streak
    assert reader.next() is None  # nothing more: found empty, the read then waits...
    assert len(waits) == 2 and not reader.streak
    assert reader.next() is None  # ...and so does the next, without trying first
    assert len(waits) == 3
    results.close()
