"""``auto`` prefetch, a worker's default: short jobs wait in the worker for a slot, long ones
do not, and jobs held behind long ones go back to the queue for an idle worker."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from headrace import Client, JobContext
from headrace.model import prefetch as prefetching
from headrace.model.status import Status
from headrace.scheduler.worker import Worker

QUEUE = "maintenance"
S = Status


def wait_for(check: Any, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def statuses(client: Client, ids: list[str]) -> list[Status]:
    return [client.jobs.get(i).status for i in ids]


def claims_per_round(worker: Worker) -> list[int]:
    """The number of jobs each of ``worker``'s store rounds claims, as they happen."""
    claimed: list[int] = []
    pump = worker.attempts.pump

    def counted(*args: Any) -> Any:
        refused, taken = pump(*args)
        claimed.append(len(taken))
        return refused, taken

    worker.attempts.pump = counted  # type: ignore[method-assign]
    return claimed


def test_a_worker_prefetches_automatically_by_default(store_url: str) -> None:
    client = Client(store_url, run_workers=False)
    client.job_type("auto.noop", queue=QUEUE)(lambda ctx, params: None)
    worker = Worker(client.store, client.registry, {QUEUE: 1}, lease_sec=5)
    assert worker.prefetch == "auto"
    claimed = claims_per_round(worker)
    ids = [j.job_id for j in client.jobs.schedule_many("auto.noop", [None] * 100)]
    worker.start()
    try:
        for job_id in ids:
            assert client.jobs.wait(job_id, 30).status is S.COMPLETED
    finally:
        worker.stop()
        client.close()
    # The first claim takes what the one slot runs; once jobs are known to be short, the
    # rounds take up to ``most_held`` more, held for the slot.
    assert claimed[0] == 1
    assert 1 < max(claimed) <= 1 + prefetching.most_held(1)


def test_jobs_known_to_run_long_are_not_held(store_url: str) -> None:
    client = Client(store_url, run_workers=False)

    @client.job_type("auto.slow", queue=QUEUE)
    def slow(ctx: JobContext, params: Any) -> None:
        time.sleep(0.3)  # three times the horizon: none is worth holding

    worker = Worker(client.store, client.registry, {QUEUE: 1}, lease_sec=5)
    claimed = claims_per_round(worker)
    worker.start()
    try:
        first = client.jobs.schedule("auto.slow").job_id
        assert client.jobs.wait(first, 20).status is S.COMPLETED
        ids = [j.job_id for j in client.jobs.schedule_many("auto.slow", [None] * 3)]
        held: list[int] = []
        while statuses(client, ids) != [S.COMPLETED] * 3:
            held.append(worker.running())
            time.sleep(0.02)
    finally:
        worker.stop()
        client.close()
    # The worker holds no job beyond the one its slot runs: each claim takes one.
    assert max(held) == 1
    assert claimed.count(1) == 4 and set(claimed) <= {0, 1}, claimed


def test_jobs_held_behind_a_long_one_go_back_for_an_idle_worker(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A wide horizon, still under the stall time, so that the jobs are held whatever the
    # machine's pace between the calls below.
    monkeypatch.setattr(prefetching, "HORIZON_SEC", 0.9)
    client = Client(store_url, run_workers=False)
    release = threading.Event()
    ran_by: dict[str, str] = {}

    @client.job_type("auto.work", queue=QUEUE, max_retries=0)
    def work(ctx: JobContext, params: Any) -> str:
        ran_by[ctx.job_id] = ctx.worker_id
        while params and not release.wait(0.05):
            ctx.check()
        return "done"

    busy = Worker(client.store, client.registry, {QUEUE: 1}, lease_sec=5).start()
    idle = Worker(client.store, client.registry, {QUEUE: 1}, lease_sec=5, prefetch=0)
    try:
        short = client.jobs.schedule("auto.work").job_id  # teaches it the jobs are short
        assert client.jobs.wait(short, 20).status is S.COMPLETED
        long = client.jobs.schedule("auto.work", {"block": True}).job_id
        time.sleep(0.01)  # the long one is older: it takes the slot
        ids = [j.job_id for j in client.jobs.schedule_many("auto.work", [None] * 3)]
        wait_for(
            lambda: statuses(client, [long]) == [S.RUNNING] and S.LOCKED in statuses(client, ids),
            "short jobs held behind the long one",
        )
        held = [i for i, s in zip(ids, statuses(client, ids), strict=True) if s is S.LOCKED]
        # No slot ended one for the stall time: the held jobs go back to the queue...
        wait_for(
            lambda: statuses(client, ids) == [S.WAITING] * 3,
            "the held jobs handed back",
            timeout=prefetching.STALL_SEC + 5,
        )
        # ...and the stalled worker holds none again while its slot stays busy.
        time.sleep(0.5)
        assert statuses(client, ids) == [S.WAITING] * 3
        idle.start()
        for job_id in ids:
            assert client.jobs.wait(job_id, 20).status is S.COMPLETED
            assert ran_by[job_id] == idle.worker_id
        assert statuses(client, [long]) == [S.RUNNING]
        for job_id in held:
            reasons = [
                e.reason
                for e in client.jobs.events(job_id)
                if (e.from_status, e.to_status) == (S.LOCKED, S.WAITING)
            ]
            assert reasons == ["handed back before it started: its worker's slots stayed busy"]
        release.set()
        assert client.jobs.wait(long, 20).status is S.COMPLETED
        assert ran_by[long] == busy.worker_id
    finally:
        release.set()
        idle.stop()
        busy.stop()
        client.close()


def test_a_claim_round_slower_than_the_stall_time_keeps_the_jobs_it_claimed(
    store_url: str,
) -> None:
    # A round that takes longer than STALL_SEC (as over a lossy link, where TCP resends a
    # lost segment after 200 ms or more) brings jobs long after the last end: they were
    # just claimed, not waited on, and must not go straight back to the queue (to be
    # claimed again, one attempt more: the network-fault test saw attempt 2).
    client = Client(store_url, run_workers=False)

    @client.job_type("auto.nap", queue=QUEUE, max_retries=0)
    def nap(ctx: JobContext, params: Any) -> int:
        time.sleep(params["sleep"])
        return ctx.attempt

    worker = Worker(client.store, client.registry, {QUEUE: 1}, lease_sec=30)
    pump = worker.attempts.pump
    slow = threading.Event()
    claimed: list[int] = []

    def slow_round(*args: Any) -> Any:
        if slow.is_set():
            slow.clear()
            time.sleep(prefetching.STALL_SEC + 0.3)
            refused, taken = pump(*args)
            claimed.append(len(taken))
            return refused, taken
        return pump(*args)

    worker.attempts.pump = slow_round  # type: ignore[method-assign]
    worker.start()
    try:
        quick = [j.job_id for j in client.jobs.schedule_many("auto.nap", [{"sleep": 0}] * 5)]
        for job_id in quick:  # teaches the worker the jobs are short: it holds some
            assert client.jobs.wait(job_id, 20).status is S.COMPLETED
        slow.set()
        ids = [j.job_id for j in client.jobs.schedule_many("auto.nap", [{"sleep": 0.6}] * 4)]
        for job_id in ids:
            assert client.jobs.wait(job_id, 30).status is S.COMPLETED
        attempts = [client.jobs.get(i).attempt for i in ids]
    finally:
        worker.stop()
        client.close()
    assert claimed and claimed[0] > 1, claimed  # the slow round held jobs for the slot
    assert attempts == [1] * 4
