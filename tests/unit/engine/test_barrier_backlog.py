"""The process pool's snapshot barrier does not wait behind sink output the parent lags on.

Workers answer the barrier on a control queue and mark in the results queue where they
took their state; the parent resumes them once it has the states and commits once it has
read the marks. These tests make the parent lag behind the workers' output and check both
sides: the workers resumed before the parent had applied what they made before the
snapshot, and each commit still holds exactly the output of the items its snapshot had
read (no more, no less). Exactly-once output is held once, in the coordinator's buffer,
not gathered for a flush first.

The lag is made by gates, not by sleeps, so that it does not depend on the machine's
load: workers wait at a given item for a file that the parent's side of the test writes
when it sends a barrier's pause, and the parent waits (``Control.check``, the results it
hands over, ``DriverSinks.add``) for what the workers have done. Every gate gives up
after ``GATE_SEC`` and fails the test, naming what did not come.
"""

from __future__ import annotations

import functools
import pickle
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from snapshot_harness import GATE_SEC, stream_provider, wait_for_file

from headrace.connectors.base import SinkWrite
from headrace.connectors.memory import InMemoryProvider, MemorySnapshotStore
from headrace.engine import EngineOptions, prepare, run
from headrace.engine.executors import messages as m
from headrace.engine.executors import parent, sinks
from headrace.engine.snapshot import Coordinator
from headrace.pipeline import Pipeline, StreamSource

PARTS = [list(range(p, 6000, 2)) for p in range(2)]
#: The longest a gate waits; past it the test fails (a hang would say nothing).
#: The position in its partition of the item at which a worker waits at a gate. Batches
#: hold at most 16 items (``batch_size``), so by then a worker has sent six or more.
FIRST = 100
#: A snapshot interval no run here lasts: its snapshots are only those the test asks for.
NEVER_MS = 600_000


def _inc(x: int) -> int:
    return x + 1


def open_gate(owner: parent.Parent, workers: list[int], gate: Path) -> None:
    """Opens ``gate`` once the pause just sent waits in every inbox of ``workers``.

    Those workers wait at the gate, reading nothing, so what their inboxes hold is the
    pause: each reads it right after the batch it waits in, before it reads another.
    """
    for worker in workers:
        if not owner.inboxes[worker]._reader.poll(GATE_SEC):
            raise AssertionError(f"the pause did not reach worker {worker} in {GATE_SEC:.0f} s")
    gate.touch()


def _inc_at_the_first_pause(gates: str, x: int) -> int:
    """x + 1; at its ``FIRST`` item a worker says so and waits until a barrier pauses it."""
    position, worker = divmod(x, 2)
    if position == FIRST:
        Path(gates, f"ready-{worker}").touch()
        wait_for_file(Path(gates, "paused"), f"worker {worker}: the first pause")
    return x + 1


def _inc_worker_1_waits(gates: str, x: int) -> int:
    """x + 1; worker 1 (odd items) waits at its ``FIRST`` item until a barrier pauses it."""
    if x == 2 * FIRST + 1:
        wait_for_file(Path(gates, "paused"), "worker 1: a pause after worker 0's Done")
    return x + 1


def copy_stream(fn: Any = _inc) -> Pipeline:
    p = Pipeline.create()
    p.read_from(StreamSource("events")).map(fn).write_to(Pipeline.to_list("out"))
    return p


class Recording(MemorySnapshotStore):
    """Keeps, per commit, the items its sources had read and the items it wrote."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.read_and_written: list[tuple[int, int]] = []

    def commit(self, state: bytes, writes: Sequence[SinkWrite], names: Sequence[str]) -> None:
        read = int(pickle.loads(state)["metrics"].received_count)
        written = sum(len(w.items) for w in writes)
        self.read_and_written.append((read, written))
        super().commit(state, writes, names)


def assert_each_commit_holds_what_it_read(store: Recording) -> None:
    total = 0
    for read, written in store.read_and_written:
        total += written
        assert total == read, store.read_and_written


class SnapshotAtTheBacklog:
    """A run's control: the parent's first turn waits until every worker waits at its
    ``FIRST`` item, then asks for a snapshot at once, and for another at its next turn.

    By the first snapshot the parent has read none of the output the workers sent, so
    its barrier starts behind all of it. The second makes three commits with the last,
    however soon the workers end (the run's end waits for both ``Done``, each read in a
    turn of its own).
    """

    def __init__(self, gates: Path) -> None:
        self.gates = gates
        self.turns = 0

    def check(self) -> None:
        if self.turns == 0:
            for worker in range(2):
                wait_for_file(self.gates / f"ready-{worker}", f"worker {worker} at its FIRST item")

    def snapshot_requests(self) -> list[str]:
        self.turns += 1
        return {1: ["backlog"], 2: ["next"]}.get(self.turns, [])


@pytest.mark.parametrize("guarantee", ["exactly_once", "at_least_once"])
def test_workers_resume_before_the_parent_applies_their_output(
    guarantee: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The first barrier starts with six or more batches of each worker's output unread
    # (SnapshotAtTheBacklog). During a barrier the parent applies a batch only once an
    # answer waits on the control queue (Idle, State: two per worker), so unless it reads
    # those answers first, it applies the whole backlog before it resumes the workers.
    after_resume = {"open": False, "applied": 0}
    pauses: list[parent.Parent] = []  # the parent, once per barrier
    add, command = sinks.DriverSinks.add, parent.Parent._command

    def add_at_the_workers_pace(self: sinks.DriverSinks, output: m.SinkOutput) -> None:
        # During a barrier, applying a batch of output lasts until a worker's answer
        # waits on the control queue: the parent lags behind the workers' output.
        lagging = pauses[-1] if pauses else None
        if lagging is not None and lagging.barrier and not lagging.control._reader.poll(GATE_SEC):
            raise AssertionError(f"no answer to the barrier came within {GATE_SEC:.0f} s")
        if after_resume["open"] and max(output.items) <= 2 * FIRST:
            after_resume["applied"] += 1  # a batch sent before the worker reached its gate
        add(self, output)

    def noting_command(self: parent.Parent, name: Any, workers: list[int]) -> None:
        command(self, name, workers)
        if name == "pause":
            pauses.append(self)
            if len(pauses) == 1:
                open_gate(self, workers, tmp_path / "paused")
        elif name == "resume":
            after_resume["open"] = True

    def commit(state: bytes, writes: Sequence[SinkWrite], names: Sequence[str]) -> None:
        after_resume["open"] = False
        Recording.commit(store, state, writes, names)

    monkeypatch.setattr(sinks.DriverSinks, "add", add_at_the_workers_pace)
    monkeypatch.setattr(parent.Parent, "_command", noting_command)
    provider = stream_provider(PARTS)
    store = Recording(provider)
    monkeypatch.setattr(store, "commit", commit)
    opts = EngineOptions(batch_size=16, guarantee=guarantee, snapshot_interval_ms=20)  # type: ignore[arg-type]
    run(
        copy_stream(functools.partial(_inc_at_the_first_pause, str(tmp_path))),
        provider,
        2,
        SnapshotAtTheBacklog(tmp_path),
        executor="processes",
        options=opts,
        snapshots=store,
    )

    assert sorted(provider.lists["out"]) == list(range(1, 6001))
    assert len(store.read_and_written) > 2, store.read_and_written
    # Output sent before the barrier began was applied between the workers' resume and
    # the commit.
    assert after_resume["applied"] > 0
    if guarantee == "exactly_once":
        # Every commit holds the output of the items read before it, and nothing after.
        assert_each_commit_holds_what_it_read(store)


class HoldingWorker0:
    """Hands the parent its reports as if worker 0's output and ``Done`` lagged far behind.

    Worker 0's reports on the results queue are kept from the parent, in order, until a
    barrier has resumed the workers after worker 0's ``Done`` came; the control queue's
    are not. Also the run's control: it asks for one snapshot, once that ``Done`` is held.
    """

    def __init__(self, next_report: Any) -> None:
        self.next_report = next_report
        self.held: list[m.Report] = []
        self.done_at: float | None = None  # when worker 0's Done came (and was held)
        self.released = False
        self.asked = False

    def next(self, owner: parent.Parent) -> m.Report | None:
        """``Parent._next``, holding back worker 0's results."""
        if self.released and self.held:
            return self.held.pop(0)
        if self.done_at is not None and time.monotonic() - self.done_at > GATE_SEC:
            raise AssertionError(
                f"no barrier resumed the workers within {GATE_SEC:.0f} s of worker 0's Done"
                " (held behind its output): the barrier waits for it"
            )
        report: m.Report | None = self.next_report(owner)
        passed = (m.Idle, m.State, m.Ended, m.Failed)  # the control queue's, and errors
        if self.released or report is None or report.worker != 0 or isinstance(report, passed):
            return report
        self.held.append(report)
        if isinstance(report, m.Done):
            self.done_at = time.monotonic()
        return None

    def check(self) -> None:
        """Nothing stops the run."""

    def snapshot_requests(self) -> list[str]:
        if self.done_at is None or self.asked:
            return []
        self.asked = True
        return ["ended"]


def test_a_worker_that_ended_does_not_hold_up_the_barrier_behind_its_output(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Worker 0 reads all of partition 0 and ends; its output and Done are held, as if the
    # parent lagged far behind them. Worker 1 waits at its FIRST item until the snapshot
    # asked for then has paused it: it reads on through that barrier.
    command = parent.Parent._command
    ahead: dict[str, Any] = {"resumed": 0, "workers": []}
    hold = HoldingWorker0(parent.Parent._next)

    def noting_command(self: parent.Parent, name: Any, workers: list[int]) -> None:
        if name == "resume" and 0 in self.ended and 0 not in self.done:
            ahead["resumed"] += 1  # worker 0's Done is still behind its output
            ahead["workers"] = workers
        command(self, name, workers)
        if name == "pause" and hold.done_at is not None and not (tmp_path / "paused").exists():
            open_gate(self, [1], tmp_path / "paused")
        elif name == "resume" and hold.done_at is not None:
            hold.released = True

    def next_report(self: parent.Parent) -> m.Report | None:
        return hold.next(self)

    monkeypatch.setattr(parent.Parent, "_next", next_report)
    monkeypatch.setattr(parent.Parent, "_command", noting_command)
    provider = stream_provider(PARTS)
    store = Recording(provider)
    opts = EngineOptions(
        batch_size=16,
        guarantee="exactly_once",
        snapshot_interval_ms=NEVER_MS,
        output_interval_ms=NEVER_MS,
    )
    run(
        copy_stream(functools.partial(_inc_worker_1_waits, str(tmp_path))),
        provider,
        2,
        hold,
        executor="processes",
        options=opts,
        snapshots=store,
    )

    assert sorted(provider.lists["out"]) == list(range(1, 6001))
    assert ahead["resumed"] > 0
    assert ahead["workers"] == [1]  # worker 1 read on through that barrier
    assert_each_commit_holds_what_it_read(store)


@pytest.mark.parametrize("guarantee", ["exactly_once", "none"])
def test_exactly_once_output_goes_straight_to_the_commit_buffer(guarantee: str) -> None:
    provider = InMemoryProvider()
    options = EngineOptions(guarantee=guarantee)  # type: ignore[arg-type]
    plan, splits = prepare(copy_stream(), stream_provider(PARTS), options)
    coordinator = Coordinator(plan, splits, 2, options, MemorySnapshotStore(provider))
    driver = sinks.DriverSinks(plan, provider, coordinator)
    node = next(n for v in plan.vertices for n in v.sinks)
    for worker, part in enumerate([[1, 2], [3], [4, 5]]):
        driver.add(m.SinkOutput(1, worker % 2, node.id, part))
    if guarantee == "exactly_once":
        # Not gathered for a flush first: held once, in arrival order, for the commit.
        assert driver.pending == 0
        assert [(w.kind, w.name, w.items) for w in coordinator.buffer.drain()] == [
            ("list", "out", [1, 2, 3, 4, 5])
        ]
    else:
        assert driver.pending == 5 and coordinator.buffer.drain() == []
        driver.close()
        assert provider.lists["out"] == [1, 2, 3, 4, 5]


def test_the_next_snapshot_is_due_an_interval_after_the_states_were_taken() -> None:
    # The pool's parent commits once the output made before a snapshot is in, which can
    # be well after the barrier: until then, a snapshot must not fall due again at once.
    options = EngineOptions(guarantee="exactly_once", snapshot_interval_ms=1000)
    plan, splits = prepare(copy_stream(), stream_provider(PARTS), options)
    coordinator = Coordinator(plan, splits, 2, options, MemorySnapshotStore(InMemoryProvider()))
    coordinator._last_snapshot -= 2  # the last commit was two intervals ago
    assert coordinator.poll() == []
    coordinator.taken()
    assert coordinator.poll() is None
