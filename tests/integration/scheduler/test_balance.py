"""Balancing streaming pipeline jobs between workers: planned evenly, moved exactly once.

Two workers in this process share a store: three exactly-once streaming jobs start on
the first, the second joins, and ``client.workers.balance()`` moves one over (suspend
with a snapshot, resume on the other). Items published before, during and after the move
each reach the output once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from headrace import Client, defaults, errors
from headrace.jet.job import JobConfig, JobStatus, ProcessingGuarantee
from headrace.jet.pipeline import Pipeline, StreamSource
from headrace.scheduler.worker import Worker
from headrace.service.balance import Move, plan
from headrace.store.workers import WorkerRecord

S = defaults.STREAM_QUEUE


def wait_for(predicate: Any, timeout: float = 30, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def _worker(wid: str, room: int = 4, labels: tuple[str, ...] = ()) -> WorkerRecord:
    return WorkerRecord(wid, "h", 1, {S: room}, 0, 0, labels=labels)


def test_the_plan_evens_the_counts_within_room_and_labels() -> None:
    a, b, c = _worker("a"), _worker("b", room=1), _worker("c", labels=("gpu",))
    running = [(f"j{i}", "a", ()) for i in range(5)] + [("g", "a", ("gpu",))]
    moves = plan([a, b, c], running)
    assert moves == [Move("j0", "a", "b"), Move("j1", "a", "c"), Move("j2", "a", "c")]
    assert plan([a, b], [("j", "a", ()), ("k", "b", ())]) == []  # already even
    assert (
        plan([a, _worker("d", labels=("eu",))], [("g1", "a", ("gpu",)), ("g2", "a", ("gpu",))])
        == []
    )


@pytest.fixture
def client(store_url: str) -> Iterator[Client]:
    with Client(store_url, lease_sec=3.0, run_workers=False) as c:
        yield c


def _copy(stream: str, sink: str) -> Pipeline:
    p = Pipeline.create()
    p.read_from(StreamSource(stream)).map(lambda n: n).write_to(Pipeline.to_list(sink))
    return p


def test_balance_moves_a_streaming_job_to_the_idle_worker_exactly_once(client: Client) -> None:
    first = Worker(client.store, client.registry, {S: 4}, lease_sec=3.0).start()
    second: Worker | None = None
    jet = client.get_jet()
    # auto_scaling off (its default is on): only the balance call moves jobs here.
    config = dict(
        processing_guarantee=ProcessingGuarantee.EXACTLY_ONCE,
        snapshot_interval_ms=100,
        auto_scaling=False,
    )
    streams = [client.get_stream(f"bal-in-{i}", partitions=1) for i in range(3)]
    jobs: list[Any] = []
    try:
        for i in range(3):
            jobs.append(jet.submit(_copy(f"bal-in-{i}", f"bal-out-{i}"), JobConfig(**config)))
        wait_for(lambda: all(j.get_status() is JobStatus.RUNNING for j in jobs), what="running")
        for s in streams:
            s.publish_all(range(0, 50))
        second = Worker(client.store, client.registry, {S: 4}, lease_sec=3.0).start()
        moves = client.workers.balance()
        assert [(m.from_worker, m.to_worker) for m in moves] == [
            (first.worker_id, second.worker_id)
        ]
        moved = moves[0].job_id
        for s in streams:
            s.publish_all(range(50, 100))
        wait_for(
            lambda: all(len(client.get_list(f"bal-out-{i}")) >= 100 for i in range(3)),
            timeout=60,
            what="every item through",
        )
        assert client.jobs.get(moved).locked_by == second.worker_id
        on = {w.worker_id: w.running for w in client.workers()}
        assert on == {first.worker_id: 2, second.worker_id: 1}
        assert client.workers.balance() == []  # even now
        events = [e.reason or "" for e in client.jobs.events(moved)]
        assert any(r.startswith("balancing: moving from worker") for r in events)
        assert any(r == f"balancing: resumed on worker {second.worker_id}" for r in events)
    finally:
        for j in jobs:
            j.cancel()
        first.stop()
        if second is not None:
            second.stop()
    for i in range(3):
        assert sorted(client.get_list(f"bal-out-{i}")) == list(range(100))  # once each


def test_balance_refuses_an_unknown_worker_embedded_and_remote(any_client: Any) -> None:
    with pytest.raises(errors.NotFound) as caught:
        any_client.workers.balance(["00000000-0000-4000-8000-000000000000"])
    assert "live worker '00000000-0000-4000-8000-000000000000' not found" in str(caught.value)
    assert any_client.workers.balance() == []  # nothing streams: nothing to move


def test_auto_scaling_jobs_move_to_a_worker_that_joins_exactly_once(client: Client) -> None:
    """With ``auto_scaling``, a joining worker gets streaming jobs without a balance call."""
    first = Worker(client.store, client.registry, {S: 4}, lease_sec=3.0).start()
    second: Worker | None = None
    jet = client.get_jet()
    config = dict(
        processing_guarantee=ProcessingGuarantee.EXACTLY_ONCE,
        snapshot_interval_ms=100,
        auto_scaling=True,
    )
    streams = [client.get_stream(f"auto-in-{i}", partitions=1) for i in range(3)]
    jobs: list[Any] = []
    try:
        for i in range(3):
            jobs.append(jet.submit(_copy(f"auto-in-{i}", f"auto-out-{i}"), JobConfig(**config)))
        wait_for(lambda: all(j.get_status() is JobStatus.RUNNING for j in jobs), what="running")
        for s in streams:
            s.publish_all(range(0, 50))
        second = Worker(client.store, client.registry, {S: 4}, lease_sec=3.0).start()
        joined = second.worker_id
        wait_for(
            lambda: any(client.jobs.get(j.id).locked_by == joined for j in jobs),
            timeout=60,
            what="a job on the joined worker",
        )
        moved = [
            j.id
            for j in jobs
            if any("the job moves to it" in (e.reason or "") for e in client.jobs.events(j.id))
        ]
        assert moved, "at least one job was placed on the joined worker"
        for s in streams:
            s.publish_all(range(50, 100))
        wait_for(
            lambda: all(len(client.get_list(f"auto-out-{i}")) >= 100 for i in range(3)),
            timeout=60,
            what="every item through",
        )
    finally:
        for j in jobs:
            j.cancel()
        first.stop()
        if second is not None:
            second.stop()
    for i in range(3):
        assert sorted(client.get_list(f"auto-out-{i}")) == list(range(100))  # once each
