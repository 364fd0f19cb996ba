"""The worker's pools: capacity per queue, logs and progress flushed, clean hand-back."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from headrace import Client, JobContext, defaults, errors
from headrace.model import prefetch as prefetching
from headrace.model.status import Status
from headrace.scheduler import attempt
from headrace.scheduler.registry import Registry
from headrace.scheduler.worker import Worker


@pytest.mark.parametrize(("queue", "capacity"), [("compute", 1), ("maintenance", 5)])
def test_a_queue_never_runs_more_than_its_capacity(
    client: Client, queue: str, capacity: int
) -> None:
    cond = threading.Condition()
    running = [0]
    peak = [0]

    @client.job_type(f"cap.{queue}", queue=queue)
    def busy(ctx: JobContext, params: Any) -> None:
        with cond:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            cond.notify_all()
            # Hold the slot until every slot has been taken once (or 10 s pass), so the
            # peak shows the pool fills its capacity, however slow the machine is.
            cond.wait_for(lambda: peak[0] >= capacity, timeout=10)
        with cond:
            running[0] -= 1

    ids = [client.jobs.schedule(f"cap.{queue}").job_id for _ in range(3 * capacity)]
    for job_id in ids:
        assert client.jobs.wait(job_id, 30).status is Status.COMPLETED
    assert peak[0] == capacity


def test_a_worker_only_claims_types_it_knows(store_url: str) -> None:
    client = Client(store_url, run_workers=False)
    client.job_type("known.one", queue="maintenance")(lambda ctx, p: "ran")
    job = client.jobs.schedule("known.one")
    stranger = Worker(client.store, Registry(), {"maintenance": 5}, lease_sec=2).start()
    try:
        time.sleep(0.5)
        assert client.jobs.get(job.job_id).status is Status.WAITING
    finally:
        stranger.stop()
    client.start_workers()
    assert client.jobs.wait(job.job_id, 10).result == "ran"
    client.close()


def test_stop_hands_running_jobs_back_without_counting_an_attempt(store_url: str) -> None:
    client = Client(store_url, run_workers=False)
    started = threading.Event()

    @client.job_type("slow.one", queue="maintenance")
    def slow(ctx: JobContext, params: Any) -> str:
        started.set()
        ctx.sleep(30)
        return "never"

    job = client.jobs.schedule("slow.one")
    worker = Worker(client.store, client.registry, {"maintenance": 1}, lease_sec=5).start()
    assert started.wait(10)
    worker.stop(grace_sec=0.1)
    back = client.jobs.get(job.job_id)
    assert back.status is Status.WAITING and back.retries == 0 and back.locked_by is None
    client.close()


def test_bad_capacity_is_refused_naming_the_queue(client: Client) -> None:
    with pytest.raises(errors.InvalidInput) as info:
        Worker(client.store, client.registry, {"compute": 0})
    assert info.value.field == "queues.compute"


def test_progress_is_visible_while_the_job_runs(client: Client) -> None:
    release = threading.Event()

    @client.job_type("prog.one", queue="maintenance")
    def prog(ctx: JobContext, params: Any) -> None:
        ctx.state["seen"] = 1
        ctx.progress(0.25, "a quarter")
        release.wait(10)

    job = client.jobs.schedule("prog.one")
    deadline = time.monotonic() + 10
    while client.jobs.get(job.job_id).progress != 0.25:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    now = client.jobs.get(job.job_id)
    assert now.progress_details == "a quarter" and now.state == {"seen": 1}
    assert now.status is Status.RUNNING
    release.set()
    assert client.jobs.wait(job.job_id, 10).status is Status.COMPLETED


def test_progress_outside_zero_to_one_is_refused(client: Client) -> None:
    @client.job_type("prog.bad", queue="maintenance")
    def bad(ctx: JobContext, params: Any) -> None:
        ctx.progress(1.5)

    done = client.jobs.wait(client.jobs.schedule("prog.bad").job_id, 10)
    assert done.status is Status.FAILED and "progress" in (done.error or "")


def test_a_result_that_is_not_json_fails_the_job_clearly(client: Client) -> None:
    client.job_type("res.bad", queue="maintenance")(lambda ctx, p: object())
    done = client.jobs.wait(client.jobs.schedule("res.bad").job_id, 10)
    assert done.status is Status.FAILED and "result" in (done.error or "")


def test_a_process_isolated_job_reports_and_completes(client: Client) -> None:
    factor = 7  # a closure: the callable travels to the child by cloudpickle

    @client.job_type("iso.ok", queue="maintenance", isolation="process")
    def iso(ctx: JobContext, params: Any) -> int:
        ctx.state["child"] = os.getpid()
        ctx.progress(0.5, "half")
        ctx.log("from the child")
        return params * factor

    job = client.jobs.schedule("iso.ok", 6)
    done = client.jobs.wait(job.job_id, 60)
    assert done.status is Status.COMPLETED and done.result == 42
    assert done.state["child"] != os.getpid()
    assert [line.message for line in client.jobs.logs(job.job_id)] == ["from the child"]


def test_a_process_isolated_job_that_ignores_its_timeout_is_killed(
    client: Client, tmp_path: Path
) -> None:
    pid_file = tmp_path / "pid"

    # 3 s: under load the child process may take over 1 s to start the function, and a
    # timeout before it starts leaves nothing stuck to kill (and no pid file).
    @client.job_type("iso.stuck", queue="maintenance", timeout_sec=3, isolation="process")
    def stuck(ctx: JobContext, params: Any) -> None:
        pid_file.write_text(str(os.getpid()))
        while True:  # ignores ctx.cancelled on purpose
            time.sleep(0.1)

    job = client.jobs.schedule("iso.stuck")
    assert client.jobs.wait(job.job_id, 60).status is Status.TIMEOUT
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + defaults.KILL_GRACE_SEC + 10
    while pid_alive(pid):
        assert time.monotonic() < deadline, "the stuck child was not killed"
        time.sleep(0.1)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped) counts as gone.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split()[2] != "Z"


@pytest.mark.parametrize("stop", ["cancel", "timeout"])
def test_a_thread_job_that_ignores_a_stop_is_ended_killed_and_its_slot_freed(
    client: Client, stop: str
) -> None:
    """The compute queue has one slot: the next job runs only if the stuck one's is freed."""
    started = threading.Event()
    killed = threading.Event()

    @client.job_type("stuck.thread", queue="compute", timeout_sec=1 if stop == "timeout" else 0)
    def stuck(ctx: JobContext, params: Any) -> None:
        started.set()
        try:
            n = 0
            while True:  # ignores ctx.cancelled on purpose, in Python code
                n += 1
        except BaseException:
            killed.set()
            raise

    @client.job_type("stuck.next", queue="compute")
    def after(ctx: JobContext, params: Any) -> str:
        return "ran"

    job = client.jobs.schedule("stuck.thread")
    assert started.wait(30)
    if stop == "cancel":
        client.jobs.cancel(job.job_id)
    following = client.jobs.schedule("stuck.next")
    ended = client.jobs.wait(job.job_id, defaults.KILL_GRACE_SEC + 30)
    assert ended.status is (Status.CANCELED if stop == "cancel" else Status.TIMEOUT)
    assert client.jobs.wait(following.job_id, defaults.KILL_GRACE_SEC + 30).result == "ran"
    assert killed.wait(defaults.KILL_GRACE_SEC + 10), "the stuck execution was not interrupted"
    events = [(e.from_status, e.to_status) for e in client.jobs.events(job.job_id)]
    assert events[-1][1] is ended.status


def test_a_stuck_thread_that_loses_its_interrupt_is_interrupted_again(client: Client) -> None:
    """An interrupt that lands in a finalizer GC runs in the thread is lost ("Exception
    ignored"): the job here loses the first the same way, and must get another."""
    started, lost, killed = threading.Event(), threading.Event(), threading.Event()

    @client.job_type("stuck.deaf", queue="compute", timeout_sec=0)
    def deaf(ctx: JobContext, params: Any) -> None:
        started.set()
        try:
            try:
                while True:  # ignores ctx.cancelled on purpose
                    time.sleep(0.01)
            except BaseException:
                lost.set()  # swallowed, as Python does for an exception in a finalizer
            while True:
                time.sleep(0.01)
        except BaseException:
            killed.set()
            raise

    job = client.jobs.schedule("stuck.deaf")
    assert started.wait(30)
    client.jobs.cancel(job.job_id)
    assert client.jobs.wait(job.job_id, defaults.KILL_GRACE_SEC + 30).status is Status.CANCELED
    assert lost.wait(defaults.KILL_GRACE_SEC + 10), "the stuck execution was not interrupted"
    assert killed.wait(attempt.REPEAT_INTERRUPT_SEC + 10), "it was not interrupted again"


@pytest.mark.parametrize("prefetch", [0, "auto"])
def test_the_pump_takes_no_round_with_nothing_to_do(store_url: str, prefetch: int | str) -> None:
    """A claim that fills every slot (and, with prefetch, the room to hold more) leaves the
    pump nothing to do until a slot frees or a write comes: it waits for them, rather than
    take a round in which every write is held back and nothing may be claimed (one after
    each claim, before)."""
    client = Client(store_url, run_workers=False)
    client.job_type("idle.noop", queue="maintenance")(lambda ctx, p: None)
    ids = [j.job_id for j in client.jobs.schedule_many("idle.noop", [None] * 200)]
    counts = {"rounds": 0, "stored": 0}

    class Counting(Worker):
        def _round(self, types: dict[str, list[str]]) -> tuple[bool, int]:
            counts["rounds"] += 1
            return super()._round(types)

    worker = Counting(
        client.store, client.registry, {"maintenance": 8}, lease_sec=5, prefetch=prefetch
    )
    pump = worker.attempts.pump

    def counted(*args: Any) -> Any:
        counts["stored"] += 1
        return pump(*args)

    worker.attempts.pump = counted  # type: ignore[method-assign]
    worker.start()
    try:
        for job_id in ids:
            assert client.jobs.wait(job_id, 30).status is Status.COMPLETED
    finally:
        worker.stop()
    # Each claim takes at most the 8 free slots, plus what ``auto`` holds for them.
    per_claim = 8 if prefetch == 0 else 8 + prefetching.most_held(8)
    assert counts["stored"] >= 200 // per_claim
    # Every round but the last few (the queue empty, slots busy) went to the store.
    assert counts["rounds"] - counts["stored"] <= 2, counts
    client.close()


def _ends_per_round(
    store_url: str, monkeypatch: pytest.MonkeyPatch, gather_max_sec: float
) -> list[int]:
    """Eight jobs start together and end 50 ms apart: the ends each store round carried."""
    monkeypatch.setattr(defaults, "GATHER_QUIET_SEC", 2.0)
    monkeypatch.setattr(defaults, "GATHER_MAX_SEC", gather_max_sec)
    client = Client(store_url, run_workers=False)
    started = threading.Semaphore(0)
    release = [threading.Event() for _ in range(8)]

    @client.job_type("gather.step", queue="maintenance")
    def step(ctx: JobContext, params: Any) -> None:
        started.release()
        release[params["i"]].wait(30)

    ids = [j.job_id for j in client.jobs.schedule_many("gather.step", [{"i": i} for i in range(8)])]
    ends: list[int] = []
    worker = Worker(client.store, client.registry, {"maintenance": 8}, lease_sec=30)
    pump = worker.attempts.pump

    def counted(writes: Any, *args: Any) -> Any:
        done = sum(1 for w in writes if w.path and w.path[-1] is Status.COMPLETED)
        if done:
            ends.append(done)
        return pump(writes, *args)

    worker.attempts.pump = counted  # type: ignore[method-assign]
    worker.start()
    try:
        for _ in range(8):
            assert started.acquire(timeout=30), "the eight jobs did not all start"
        for event in release:
            event.set()
            time.sleep(0.05)
        for job_id in ids:
            assert client.jobs.wait(job_id, 30).status is Status.COMPLETED
    finally:
        worker.stop()
        client.close()
    return ends


def test_attempts_that_end_together_share_one_round(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pump waits for the next end while others still run (``writebuffer.gather``):
    ends 50 ms apart, within the quiet gap, reach the store in one round."""
    assert _ends_per_round(store_url, monkeypatch, gather_max_sec=10.0) == [8]


def test_without_gathering_the_same_ends_take_several_rounds(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The test above can fail: with no time to gather, the first end starts a round."""
    ends = _ends_per_round(store_url, monkeypatch, gather_max_sec=0.0)
    assert sum(ends) == 8 and len(ends) >= 2, ends
