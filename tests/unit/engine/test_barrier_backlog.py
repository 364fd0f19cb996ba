"""The process pool's snapshot barrier does not wait behind sink output the parent lags on.

Workers answer the barrier on a control queue and mark in the results queue where they
took their state; the parent resumes them once it has the states and commits once it has
read the marks. These tests slow the parent's handling of sink output so that it lags
behind the workers, and check both sides: the workers resumed before the parent had
applied what they made before the snapshot, and each commit still holds exactly the
output of the items its snapshot had read (no more, no less). Exactly-once output is
held once, in the coordinator's buffer, not gathered for a flush first.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Sequence
from typing import Any

import pytest
from snapshot_harness import stream_provider

from headrace.connectors.base import SinkWrite
from headrace.connectors.memory import InMemoryProvider, MemorySnapshotStore
from headrace.engine import EngineOptions, prepare, run
from headrace.engine.executors import messages as m
from headrace.engine.executors import parent, sinks
from headrace.engine.snapshot import Coordinator
from headrace.pipeline import Pipeline, StreamSource

PARTS = [list(range(p, 6000, 2)) for p in range(2)]


def _inc(x: int) -> int:
    time.sleep(0.0001)  # so that the run spans several 20 ms snapshot intervals
    return x + 1


def _inc_odd_slowly(x: int) -> int:
    if x % 2:
        time.sleep(0.0001)  # partition 1 (the odd items) reads for several intervals
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


@pytest.mark.parametrize("guarantee", ["exactly_once", "at_least_once"])
def test_workers_resume_before_the_parent_applies_their_output(
    guarantee: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    after_resume = {"open": False, "applied": 0}
    add, command = sinks.DriverSinks.add, parent.Parent._command

    def slow_add(self: sinks.DriverSinks, output: m.SinkOutput) -> None:
        time.sleep(0.002)  # the parent lags behind the workers' output
        if after_resume["open"]:
            after_resume["applied"] += 1
        add(self, output)

    def noting_command(self: parent.Parent, name: Any, workers: list[int]) -> None:
        command(self, name, workers)
        if name == "resume":
            after_resume["open"] = True

    def commit(state: bytes, writes: Sequence[SinkWrite], names: Sequence[str]) -> None:
        after_resume["open"] = False
        Recording.commit(store, state, writes, names)

    monkeypatch.setattr(sinks.DriverSinks, "add", slow_add)
    monkeypatch.setattr(parent.Parent, "_command", noting_command)
    provider = stream_provider(PARTS)
    store = Recording(provider)
    monkeypatch.setattr(store, "commit", commit)
    opts = EngineOptions(batch_size=16, guarantee=guarantee, snapshot_interval_ms=20)  # type: ignore[arg-type]
    run(copy_stream(), provider, 2, executor="processes", options=opts, snapshots=store)

    assert sorted(provider.lists["out"]) == list(range(1, 6001))
    assert len(store.read_and_written) > 2, store.read_and_written
    # Output made before a snapshot was applied between the workers' resume and the commit.
    assert after_resume["applied"] > 0
    if guarantee == "exactly_once":
        # Every commit holds the output of the items read before it, and nothing after.
        total = 0
        for read, written in store.read_and_written:
            total += written
            assert total == read, store.read_and_written


def test_a_worker_that_ended_does_not_hold_up_the_barrier_behind_its_output(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Partition 0 ends at once, its output queued ahead of its Done; partition 1 reads on.
    add, command = sinks.DriverSinks.add, parent.Parent._command
    ahead = {"resumed": 0}

    def slow_add(self: sinks.DriverSinks, output: m.SinkOutput) -> None:
        time.sleep(0.002)
        add(self, output)

    def noting_command(self: parent.Parent, name: Any, workers: list[int]) -> None:
        if name == "resume" and 0 in self.ended and 0 not in self.done:
            ahead["resumed"] += 1  # worker 0's Done is still behind its output
        command(self, name, workers)

    monkeypatch.setattr(sinks.DriverSinks, "add", slow_add)
    monkeypatch.setattr(parent.Parent, "_command", noting_command)
    provider = stream_provider(PARTS)
    store = Recording(provider)
    opts = EngineOptions(batch_size=16, guarantee="exactly_once", snapshot_interval_ms=20)
    run(
        copy_stream(_inc_odd_slowly),
        provider,
        2,
        executor="processes",
        options=opts,
        snapshots=store,
    )

    assert sorted(provider.lists["out"]) == list(range(1, 6001))
    assert ahead["resumed"] > 0
    total = 0
    for read, written in store.read_and_written:
        total += written
        assert total == read, store.read_and_written


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
