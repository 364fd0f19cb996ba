"""``headrace queues|workers`` and ``headrace pipelines``: what operators reach for."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator

import pytest
from cli_support import run, wait_for

from headrace import Client, JobContext
from headrace.jet.job import JobConfig, JobStatus, ProcessingGuarantee
from headrace.jet.pipeline import Pipeline, StreamSource
from headrace.model.status import Status


@pytest.fixture
def client(store_url: str) -> Iterator[Client]:
    """An embedded client (no workers until a test starts them) knowing ``ops.nap``."""
    with Client(store_url, lease_sec=3.0, run_workers=False) as c:

        @c.job_type("ops.nap", queue="maintenance")
        def nap(ctx: JobContext, params: object) -> None:
            ctx.sleep(0.01)

        yield c


def test_queues_show_capacity_running_waiting_and_the_oldest_waiting(
    client: Client, store_url: str
) -> None:
    for _ in range(3):
        client.jobs.schedule("ops.nap")
    out = run("queues", "--store", store_url)
    assert out.exit_code == 0, out.stderr
    header = next(line for line in out.stdout.splitlines() if "QUEUE" in line)
    for column in ("CAPACITY", "RUNNING", "LOCKED", "WAITING", "OLDEST WAITING"):
        assert column in header
    columns = [c.strip() for c in header.split("┃")]  # the header's rule is heavy
    row = next(line for line in out.stdout.splitlines() if "maintenance" in line)
    cells = dict(zip(columns, (c.strip() for c in row.split("│")), strict=True))
    assert (cells["RUNNING"], cells["LOCKED"], cells["WAITING"]) == ("0", "0", "3")
    assert "ago" in row or "just now" in row
    data = {q["name"]: q for q in json.loads(run("queues", "--store", store_url, "--json").stdout)}
    assert data["maintenance"]["waiting"] == 3 and data["maintenance"]["oldest_waiting_ms"] > 0
    assert data["compute"]["oldest_waiting_ms"] is None


def test_purge_asks_first_and_cancels_only_waiting_jobs_with_events(
    client: Client, store_url: str
) -> None:
    jobs = [client.jobs.schedule("ops.nap") for _ in range(2)]
    kept = client.jobs.schedule("ops.nap")
    client.jobs.suspend(kept.job_id)
    declined = run("queues", "purge", "maintenance", "--store", store_url, input="n\n")
    assert declined.exit_code == 1 and "Cancel 2 waiting job(s)" in declined.stdout
    assert all(client.jobs.get(j.job_id).status is Status.WAITING for j in jobs)
    agreed = run("queues", "purge", "maintenance", "--store", store_url, input="y\n")
    assert agreed.exit_code == 0 and "canceled 2 waiting job(s)" in agreed.stdout
    for job in jobs:
        assert client.jobs.get(job.job_id).status is Status.CANCELED
        last = client.jobs.events(job.job_id)[-1]
        assert (last.from_status, last.to_status, last.reason) == (
            Status.WAITING,
            Status.CANCELED,
            "queue purged by user",
        )
    assert client.jobs.get(kept.job_id).status is Status.SUSPENDED
    client.jobs.schedule("ops.nap")
    quiet = run("queues", "purge", "maintenance", "--yes", "--store", store_url, "--json")
    assert json.loads(quiet.stdout)["total"] == 1


def test_workers_show_queues_and_heartbeat_age(client: Client, store_url: str) -> None:
    client.start_workers()
    worker = client.worker
    assert worker is not None
    wait_for(lambda: client.workers(), what="the worker registered")
    out = run("workers", "--store", store_url)
    assert out.exit_code == 0, out.stderr
    header = next(line for line in out.stdout.splitlines() if "WORKER" in line)
    for column in ("LABELS", "QUEUES", "CAPACITY", "RUNNING", "LOAD", "HEARTBEAT", "ALIVE"):
        assert column in header
    row = next(line for line in out.stdout.splitlines() if worker.worker_id in line)
    assert socket.gethostname()[:10] in row and str(os.getpid()) in row
    assert "maintenance=" in row and "yes" in row
    data = json.loads(run("workers", "ls", "--store", store_url, "--json").stdout)
    assert [w["worker_id"] for w in data] == [worker.worker_id]
    assert data[0]["labels"] == [] and data[0]["capacity"] == sum(data[0]["queues"].values())
    assert data[0]["running"] == 0 and data[0]["load"] == 0 and data[0]["heartbeat_age_ms"] >= 0


def _copy(stream: str, sink: str) -> Pipeline:
    p = Pipeline.create()
    p.read_from(StreamSource(stream)).map(lambda n: n).write_to(Pipeline.to_list(sink))
    return p


def test_pipelines_commands_list_jobs_and_manage_snapshots(client: Client, store_url: str) -> None:
    client.start_workers()
    stream = client.get_stream("ops-in", partitions=1)
    job = client.get_jet().submit(
        _copy("ops-in", "ops-out"),
        JobConfig(
            name="copier",
            processing_guarantee=ProcessingGuarantee.EXACTLY_ONCE,
            snapshot_interval_ms=100,
        ),
    )
    try:
        wait_for(lambda: job.get_status() is JobStatus.RUNNING, what="running")
        stream.publish_all(range(10))
        listed = run("pipelines", "list-jobs", "--store", store_url)
        row = next(line for line in listed.stdout.splitlines() if "copier" in line)
        assert job.id in row and "RUNNING" in row
        saved = run("pipelines", "save-snapshot", "copier", "snap-1", "--store", store_url)
        assert saved.exit_code == 0, saved.stderr
        snaps = run("pipelines", "list-snapshots", "--store", store_url)
        row = next(line for line in snaps.stdout.splitlines() if "snap-1" in line)
        assert job.id in row
        restarted = run("pipelines", "restart", job.id[:30], "--store", store_url)
        assert restarted.exit_code == 0 and job.id in restarted.stdout
        gone = run("pipelines", "delete-snapshot", "snap-1", "--store", store_url)
        assert gone.exit_code == 0
        assert json.loads(run("pipelines", "list-snapshots", "--store", store_url,
                              "--json").stdout) == []  # fmt: skip
        again = run("pipelines", "delete-snapshot", "snap-1", "--store", store_url)
        assert again.exit_code == 1 and "not found" in again.stderr
        unknown = run("pipelines", "restart", "no-such-job", "--store", store_url)
        assert unknown.exit_code == 1 and "not found" in unknown.stderr
    finally:
        job.cancel()
    wait_for(lambda: job.get_status() is JobStatus.FAILED, what="canceled")
    ended = run("pipelines", "list-jobs", "--store", store_url).stdout
    assert "copier" not in ended
    assert "copier" in run("pipelines", "list-jobs", "--all", "--store", store_url).stdout
