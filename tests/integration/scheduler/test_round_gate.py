"""A worker's slots start no job while its round holds SQLite's write lock."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from headrace import Client
from headrace.model.status import Status
from headrace.scheduler.worker import Worker


def test_a_slot_starts_no_job_while_its_worker_round_holds_the_write_lock(
    tmp_path: Path,
) -> None:
    client = Client(f"sqlite:///{tmp_path}/g.db", run_workers=False)
    started = threading.Event()

    @client.job_type("gate.mark", queue="maintenance")
    def mark(ctx: Any, params: Any) -> str:
        started.set()
        return "ran"

    job = client.jobs.schedule("gate.mark")
    worker = Worker(client.store, client.registry, {"maintenance": 1}, lease_sec=30)
    gate = worker.attempts.round_gate
    assert gate is not None
    gate.shut()  # as a round holding the lock does, for as long as this test holds it
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while client.jobs.get(job.job_id).status is Status.WAITING:
            assert time.monotonic() < deadline, "the worker never claimed the job"
            time.sleep(0.01)
        # Claimed (the worker's own rounds run: the gate holds back only the slot).
        assert not started.wait(0.5)
        gate.open()
        assert started.wait(30)
        assert client.jobs.wait(job.job_id, 30).result == "ran"
    finally:
        worker.stop()
        client.close()


def test_only_a_sqlite_worker_has_a_gate(store_url: str) -> None:
    client = Client(store_url, run_workers=False)
    worker = Worker(client.store, client.registry, {"maintenance": 1})
    gate = worker.attempts.round_gate
    assert (gate is None) is client.store.is_postgresql
    if gate is not None:
        gate.shut()
        gate.shut()
        gate.open()
        assert not gate.wait_open(0)
        gate.open()
    worker.attempts.wait_out_round(30)  # returns at once: no round holds the lock
    client.close()
