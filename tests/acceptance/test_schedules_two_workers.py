"""A one-second cron with real ``headrace worker`` processes: each tick fires once, and
ticks missed while no worker ran follow each misfire policy.

Both workers take turns at the elected maintenance; the one holding it is stopped mid-way,
so the other takes the role over and goes on firing (``run_all`` fires the ticks of the
handover late). Every tick from the first to the last is handled exactly once, by one of
the two processes, and every run of the job was started by exactly one firing.
"""

from __future__ import annotations

import socket
from collections import Counter
from pathlib import Path

import pytest
from tests_acceptance_support import start_worker, stop, wait_until

from headrace import Client
from headrace.model.clock import now_ms
from headrace.model.schedules import Firing, Outcome
from headrace.model.status import FINAL

pytestmark = pytest.mark.slow


def test_two_worker_processes_fire_each_tick_once(store_url: str, tmp_path: Path) -> None:
    import worker_jobs  # noqa: F401 - registers the job types in this process too

    ledger = tmp_path / "ledger.txt"
    ledger.touch()
    log = tmp_path / "workers.log"
    client = Client(store_url, run_workers=False)
    workers = [start_worker(store_url, "maintenance=2", 2.0, log) for _ in range(2)]
    holder = {f"{socket.gethostname()}:{w.pid}": w for w in workers}
    try:
        job = client.jobs.create(
            "every-second", type="acc.work", params={"ledger": str(ledger), "sleep": 0.01}
        )
        made = client.schedules.create(job.job_id, "* * * * * *", misfire="run_all")

        def firings() -> list[Firing]:
            return list(client.schedules.firings(made.schedule_id, limit=1000))

        def fired_by(name: str | None = None) -> int:
            return sum(
                f.outcome is Outcome.FIRED and (name is None or f.holder == name) for f in firings()
            )

        wait_until(lambda: fired_by() >= 3, 60, "three ticks fired")
        first_holder = firings()[0].holder
        assert first_holder in holder
        stop(holder[first_holder])  # the elected process goes away (SIGTERM, clean stop)
        (other,) = set(holder) - {first_holder}
        wait_until(lambda: fired_by(other) >= 3, 60, "the other process to fire three ticks")
        client.schedules.pause(made.schedule_id)  # nothing is claimed after this returns
        wait_until(
            lambda: all(f.outcome is not Outcome.FIRING for f in firings()),
            30,
            "the last firing to settle",
        )
        wait_until(lambda: client.jobs.get(job.job_id).status in FINAL, 30, "the last run")
    finally:
        for w in workers:
            stop(w)
    found = sorted(client.schedules.firings(made.schedule_id, limit=1000), key=lambda f: f.fire_ms)
    ticks = [f.fire_ms for f in found]
    # Every tick from the first to the last, once each: none lost in the handover, none twice.
    assert ticks == list(range(ticks[0], ticks[-1] + 1, 1000))
    assert {f.holder for f in found} == set(holder)
    assert {f.outcome for f in found} <= {Outcome.FIRED, Outcome.FAILED}
    # A start refused because the previous run was still active says so.
    assert all("active" in (f.error or "") for f in found if f.outcome is Outcome.FAILED)
    started = sorted(f.run_count or 0 for f in found if f.outcome is Outcome.FIRED)
    assert started == list(range(1, len(started) + 1))
    final = client.jobs.get(job.job_id)
    assert final.run_count == len(started)
    # Each run executed once: one ledger line per run.
    executions = Counter(line.split()[0] for line in ledger.read_text().splitlines())
    assert executions == {job.job_id: len(started)}
    client.close()


def test_ticks_missed_while_no_worker_ran_follow_each_policy(
    store_url: str, tmp_path: Path
) -> None:
    import worker_jobs  # noqa: F401 - registers the job types in this process too

    ledger = tmp_path / "ledger.txt"
    client = Client(store_url, run_workers=False)
    schedules = {}
    for policy in ("ignore", "run_once", "run_all"):
        job = client.jobs.create(policy, type="acc.work", params={"ledger": str(ledger)})
        schedules[policy] = client.schedules.create(job.job_id, "* * * * * *", misfire=policy)
    first = {policy: s.next_fire_ms or 0 for policy, s in schedules.items()}
    # No scheduler runs while four ticks pass (a stopped cluster, not a fake clock).
    wait_until(lambda: now_ms() >= max(first.values()) + 3500, 30, "four ticks to pass")
    back = now_ms()
    worker = start_worker(store_url, "maintenance=2", 2.0, tmp_path / "worker.log")
    try:
        for s in schedules.values():
            # Once its cursor is past the moment the worker came back, the backlog is handled.
            wait_until(
                lambda s=s: (client.schedules.get(s.schedule_id).next_fire_ms or 0) > back,
                60,
                "the missed ticks to be handled",
            )
            client.schedules.pause(s.schedule_id)
        wait_until(
            lambda: all(
                f.outcome is not Outcome.FIRING
                for s in schedules.values()
                for f in client.schedules.firings(s.schedule_id, limit=1000)
            ),
            30,
            "the firings to settle",
        )
    finally:
        stop(worker)

    def oldest(policy: str) -> list[Firing]:
        found = client.schedules.firings(schedules[policy].schedule_id, limit=1000)
        return sorted(found, key=lambda f: f.fire_ms)

    # ignore: the missed ticks are one ``missed`` firing; the tick due as it came back fires.
    missed, fired = oldest("ignore")[:2]
    assert (missed.outcome, fired.outcome) == (Outcome.MISSED, Outcome.FIRED)
    assert missed.skipped >= 3 and fired.fire_ms == missed.fire_ms + 1000
    assert missed.fire_ms - 1000 * (missed.skipped - 1) == first["ignore"]
    # run_once: one firing stands for all the missed ticks.
    once = oldest("run_once")[0]
    assert once.outcome is Outcome.FIRED and once.run_count == 1 and once.skipped >= 3
    assert once.fire_ms - 1000 * once.skipped == first["run_once"]
    # run_all: every tick from the first fires, oldest first; a start while the run it
    # opened is still queued is refused and says so.
    every = oldest("run_all")
    start = first["run_all"]
    assert [f.fire_ms for f in every] == [start + 1000 * i for i in range(len(every))]
    assert every[-1].fire_ms >= start + 3000
    assert (every[0].outcome, every[0].run_count) == (Outcome.FIRED, 1)
    assert all(f.outcome is Outcome.FIRED or "active" in (f.error or "") for f in every)
    client.close()
