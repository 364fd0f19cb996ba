"""A worker's ``prefetch``: claimed jobs wait in the worker, ``locked``, until a slot takes them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from headrace import Client, JobContext, errors
from headrace.model.status import Status
from headrace.scheduler.worker import Worker

QUEUE = "maintenance"


def wait_for(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


class Gate:
    """A blocking job type: records who ran, holds each run until released."""

    def __init__(self, client: Client, name: str) -> None:
        self.release = threading.Event()
        self.ran: list[str] = []
        self.started = threading.Event()

        @client.job_type(name, queue=QUEUE, max_retries=0)
        def gate(ctx: JobContext, params: Any) -> str:
            self.ran.append(ctx.job_id)
            self.started.set()
            while not self.release.wait(0.05):
                ctx.check()
            return "done"


@pytest.fixture
def held(store_url: str) -> Iterator[tuple[Client, Gate, Worker]]:
    """A client without workers, a gate job type, and a worker of capacity 1, prefetch 2."""
    client = Client(store_url, run_workers=False)
    gate = Gate(client, "prefetch.gate")
    worker = Worker(client.store, client.registry, {QUEUE: 1}, lease_sec=3, prefetch=2)
    yield client, gate, worker
    gate.release.set()
    worker.stop(grace_sec=1)
    client.close()


def statuses(client: Client, ids: list[str]) -> list[Status]:
    return [client.jobs.get(i).status for i in ids]


def running_and_prefetched(client: Client, worker: Worker, n: int) -> list[str]:
    """``n`` gate jobs, once the worker runs the first and holds the others, waiting."""
    ids = [client.jobs.schedule("prefetch.gate").job_id for _ in range(n)]
    worker.start()
    held = [Status.RUNNING] + [Status.LOCKED] * (n - 1)
    wait_for(lambda: statuses(client, ids) == held, f"one job running, {n - 1} prefetched")
    return ids


def test_prefetched_jobs_wait_locked_and_start_one_slot_at_a_time(
    held: tuple[Client, Gate, Worker],
) -> None:
    client, gate, worker = held
    first = client.jobs.schedule("prefetch.gate").job_id
    ids = [first] + [client.jobs.schedule("prefetch.gate", timeout_sec=1).job_id for _ in range(3)]
    worker.start()
    wait_for(lambda: statuses(client, ids[:1]) == [Status.RUNNING], "the first job to run")
    # Capacity 1 plus prefetch 2: the next two are claimed and wait, the fourth is left.
    wait_for(
        lambda: (
            statuses(client, ids) == [Status.RUNNING, Status.LOCKED, Status.LOCKED, Status.WAITING]
        ),
        "two jobs claimed beyond capacity",
    )
    assert worker.running() == 3
    waiting = [client.jobs.get(i) for i in ids[1:3]]
    assert all(j.locked_by == worker.worker_id and j.started_at_ms is None for j in waiting)
    assert client.jobs.status_reason(ids[1]) == (
        f"claimed by worker {worker.worker_id}, waiting for one of its slots"
    )
    # Their 1 s timeout counts from their start, not from their claim.
    time.sleep(1.5)
    assert gate.ran == ids[:1]
    gate.release.set()
    for job_id in ids:
        assert client.jobs.wait(job_id, 20).status is Status.COMPLETED
    assert gate.ran == ids
    for job_id in ids:
        path = [(e.from_status, e.to_status) for e in client.jobs.events(job_id)]
        assert path[-3:] == [
            (Status.WAITING, Status.LOCKED),
            (Status.LOCKED, Status.RUNNING),
            (Status.RUNNING, Status.COMPLETED),
        ]


def test_listings_count_jobs_held_for_a_slot_apart_from_running_ones(
    held: tuple[Client, Gate, Worker],
) -> None:
    # With prefetch a worker holds more jobs than it has slots: its load stays the share
    # of its slots in use, and the jobs held for a slot are counted as locked.
    client, _gate, worker = held
    running_and_prefetched(client, worker, 3)  # capacity 1 + prefetch 2
    left = client.jobs.schedule("prefetch.gate").job_id
    time.sleep(0.3)  # rounds in which the worker could take it, if it were wrong
    assert client.jobs.get(left).status is Status.WAITING
    [me] = [w for w in client.workers.list() if w.worker_id == worker.worker_id]
    assert (me.capacity, me.running, me.locked, me.load) == (1, 1, 2, 1.0)
    [queue] = [q for q in client.queues() if q.name == QUEUE]
    assert (queue.running, queue.locked, queue.waiting) == (1, 2, 1)
    assert queue.jobs == {"running": 1, "locked": 2, "waiting": 1}


def test_stop_hands_prefetched_jobs_back_at_once_unrun(
    held: tuple[Client, Gate, Worker],
) -> None:
    client, gate, worker = held
    ids = running_and_prefetched(client, worker, 3)
    stopping = threading.Thread(target=worker.stop, kwargs={"grace_sec": 60})
    stopping.start()
    # While the running job has its grace period, the prefetched ones are already back
    # in the queue, for any other worker to take.
    wait_for(
        lambda: statuses(client, ids) == [Status.RUNNING, Status.WAITING, Status.WAITING],
        "the prefetched jobs handed back during the grace period",
    )
    gate.release.set()
    stopping.join(30)
    assert not stopping.is_alive()
    assert gate.ran == ids[:1]
    assert client.jobs.get(ids[0]).status is Status.COMPLETED
    for job_id in ids[1:]:
        job = client.jobs.get(job_id)
        assert job.status is Status.WAITING and job.locked_by is None and job.retries == 0
        last = client.jobs.events(job_id)[-1]
        assert (last.from_status, last.to_status) == (Status.LOCKED, Status.WAITING)
        assert last.reason == "handed back before it started: worker stopping"


def test_a_prefetched_job_canceled_while_it_waits_never_runs(
    held: tuple[Client, Gate, Worker],
) -> None:
    client, gate, worker = held
    ids = running_and_prefetched(client, worker, 2)
    assert client.jobs.cancel(ids[1]).status is Status.CANCELED
    _held_one_never_runs(client, gate, worker, ids)
    assert client.jobs.get(ids[1]).status is Status.CANCELED


def test_a_prefetched_job_suspended_while_it_waits_never_runs_until_resumed(
    held: tuple[Client, Gate, Worker],
) -> None:
    client, gate, worker = held
    ids = running_and_prefetched(client, worker, 2)
    # Held, not started: suspended at once (the gate's type is not suspendable while it
    # runs, which this job never did), as a cancel ends it at once.
    job = client.jobs.suspend(ids[1])
    assert job.status is Status.SUSPENDED and job.details == "suspended by user"
    path = [(e.from_status, e.to_status, e.reason) for e in client.jobs.events(ids[1])]
    assert path[-2:] == [
        (Status.LOCKED, Status.WAITING, "suspended by user"),
        (Status.WAITING, Status.SUSPENDED, "suspended by user"),
    ]
    _held_one_never_runs(client, gate, worker, ids)
    assert client.jobs.get(ids[1]).status is Status.SUSPENDED
    # Resumed, it runs as any waiting job does, on its next claim.
    client.jobs.resume(ids[1])
    assert client.jobs.wait(ids[1], 20).status is Status.COMPLETED
    assert gate.ran == ids


def _held_one_never_runs(client: Client, gate: Gate, worker: Worker, ids: list[str]) -> None:
    """Once the worker saw the held ``ids[1]`` taken from it, the running ``ids[0]`` ends
    and frees the slot: ``ids[1]`` never runs, and the worker holds nothing."""
    # The worker learns it lost the job at its next control poll; only then does the
    # running job free the slot the held one waits for.
    wait_for(lambda: _stop_seen(worker, ids[1]), "the worker to see the job taken from it")
    gate.release.set()
    assert client.jobs.wait(ids[0], 20).status is Status.COMPLETED
    wait_for(lambda: worker.running() == 0, "the worker to hold nothing")
    assert gate.ran == ids[:1]


def _stop_seen(worker: Worker, job_id: str) -> bool:
    """Whether the worker asked its held attempt of ``job_id`` to stop (white box)."""
    return any(
        a.ctx.cancelled
        for (held_id, _), a in list(worker.slots.running.items())
        if held_id == job_id
    )


@pytest.mark.parametrize("bad", [-1, 1.5, "2", True])
def test_a_bad_prefetch_is_refused_naming_it(store_url: str, bad: Any) -> None:
    client = Client(store_url, run_workers=False)
    try:
        with pytest.raises(errors.InvalidInput, match="prefetch"):
            Worker(client.store, client.registry, {QUEUE: 1}, prefetch=bad)
    finally:
        client.close()


def test_an_embedded_client_takes_its_workers_prefetch_from_config_yaml(
    store_url: str, tmp_path: Path
) -> None:
    settings = tmp_path / "config.yaml"
    settings.write_text(f"queues:\n  {QUEUE}: 1\nprefetch: 2\n")
    client = Client(store_url, config_file=str(settings))
    gate = Gate(client, "prefetch.configured")
    try:
        ids = [client.jobs.schedule("prefetch.configured").job_id for _ in range(4)]
        wait_for(
            lambda: (
                statuses(client, ids)
                == [Status.RUNNING, Status.LOCKED, Status.LOCKED, Status.WAITING]
            ),
            "the embedded worker to hold capacity 1 plus prefetch 2",
        )
        gate.release.set()
        for job_id in ids:
            assert client.jobs.wait(job_id, 20).status is Status.COMPLETED
    finally:
        gate.release.set()
        client.close()


def test_a_servers_workers_get_its_prefetch(store_url: str) -> None:
    from headrace.api.server import Server, ServerOptions

    server = Server(ServerOptions(store=store_url, workers=2, prefetch=3))
    try:
        assert [w.prefetch for w in server.workers] == [3, 3]
    finally:
        server.store.close()
