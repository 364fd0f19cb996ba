"""A worker on another "host" (a network namespace) cut off from PostgreSQL, with real processes.

The worker host reaches the database only over a veth pair (``netns_support``). Cut off
mid-job past its lease, its job is reaped and run again by a worker on this host; when
the link comes back, the cut-off worker's late completion is refused by the fence: the
job completed once, by the second attempt. And when every database connection drops at
once (as in a database restart) under load, the worker reconnects by itself and every job
completes exactly once; 200 ms away (the relay's delay), it completes every job once.
With 5 % of its packets lost each way (nftables drops on the link, ``Host.lose``), near
or 200 ms away, it completes every job once, and the link's counters show the loss.
Root only (namespaces, links); under CI it must be root and have ``nft``.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from netns_support import Host, Relay
from tests_acceptance_support import HERE, start_worker, stop, wait_until

from child_path import child_pythonpath
from headrace import Client
from headrace.model.status import Status

pytestmark = pytest.mark.slow
LEASE_SEC = 2.0
#: What a worker logs when the database's fence refuses the completion of an attempt it
#: no longer holds (the lease was lost to another attempt).
LATE = "late write running->completed refused (lease lost or job ended)"
#: The share of its link's packets the lossy host loses, each way.
LOSS_PERCENT = 5
#: The lossy worker's lease: TCP resends a lost segment after 200 ms and more (its
#: backoff doubles), so a 2 s lease could lapse on a run of losses; 10 s is still short.
LOSSY_LEASE_SEC = 10.0
PG_ADMIN = os.environ.get("HEADRACE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def database(pg_template: str) -> Iterator[str]:
    """A fresh migrated PostgreSQL database (a copy of the session's template): its name."""
    if os.geteuid() != 0:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("the network fault tests need root (ip netns) under CI=true")
        pytest.skip("the network fault tests need root (ip netns)")
    url = sqlalchemy.make_url(PG_ADMIN).set(drivername="postgresql+psycopg")
    admin = sqlalchemy.create_engine(
        url, isolation_level="AUTOCOMMIT", poolclass=sqlalchemy.NullPool
    )
    name = f"hr_net_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    yield name
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


_clients: list[Client] = []


def closing(client: Client) -> Client:
    """``client``, closed when the test ends (``_close_clients``), however it ends."""
    _clients.append(client)
    return client


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _clients:
        _clients.pop().close()


@pytest.fixture
def host() -> Iterator[Host]:
    made = Host()
    yield made
    made.close()


def _url(host: str, port: int, database: str) -> str:
    return f"postgresql://postgres@{host}:{port}/{database}"


@pytest.fixture
def lossy_host(host: Host) -> Host:
    """``host`` losing 5 % of its link's packets each way (nftables: needs ``nft``)."""
    if shutil.which("nft") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("the packet loss tests need nft (apt-get install nftables) under CI=true")
        pytest.skip("the packet loss tests need nft (apt-get install nftables)")
    host.lose(LOSS_PERCENT)
    return host


def _start_in(host: Host, url: str, queues: str, log: Path, lease_sec: float = LEASE_SEC) -> Any:
    import subprocess

    command = host.command(
        [sys.executable, "-m", "headrace", "worker", "--store", url, "--queues", queues,
         "--import", "worker_jobs", "--lease-sec", str(lease_sec)]
    )  # fmt: skip
    env = {**os.environ, "PYTHONPATH": child_pythonpath(HERE)}
    with log.open("ab") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


def _round_trip(host: str, port: int, database: str) -> float:
    """Seconds one ``SELECT 1`` takes over a connection through ``host:port``."""
    import psycopg

    with psycopg.connect(_url(host, port, database)) as conn:
        began = time.monotonic()
        conn.execute("SELECT 1").fetchone()
        return time.monotonic() - began


def _completions(client: Client, job_id: str) -> int:
    return sum(1 for e in client.jobs.events(job_id) if e.to_status is Status.COMPLETED)


def test_a_worker_cut_off_mid_job_is_fenced_and_its_job_runs_once_elsewhere(
    database: str, host: Host, tmp_path: Path
) -> None:
    import worker_jobs  # noqa: F401 - the job types, known here too

    relay = Relay(host.outer_ip)
    local = _url("127.0.0.1", 5432, database)
    client = closing(Client(local, run_workers=False))
    started, release, finished = tmp_path / "started", tmp_path / "release", tmp_path / "done"
    far_log, near_log = tmp_path / "far.log", tmp_path / "near.log"
    far = _start_in(host, _url(host.outer_ip, relay.port, database), "compute=1", far_log)
    near = None
    try:
        wait_until(lambda: len(client.workers()) == 1, 60, "the far worker to register")
        params = {"started": str(started), "release": str(release), "finished": str(finished)}
        job = client.jobs.schedule("acc.slow_first", {**params, "first_sleep": 600})
        wait_until(started.exists, 60, "the far worker to start the job")
        host.cut()
        cut_at = time.monotonic()
        near = start_worker(local, "compute=1", LEASE_SEC, near_log)
        wait_until(
            lambda: client.jobs.get(job.job_id).status is Status.COMPLETED,
            60,
            "the job reaped and run again on this host",
        )
        # Attempt 1 ends now, while its worker is still cut off and cannot know that its
        # lease is gone: it makes its completion, which must meet the fence.
        release.touch()
        wait_until(finished.exists, 60, "the far worker's first attempt to end")
        host.restore()
        # The far worker's hung connections resume at TCP's next resend, which backs off
        # exponentially through the cut: it may come as long after the restore as the cut
        # lasted, so the wait grows with the cut (a loaded machine makes cuts long).
        wait_until(
            lambda: LATE in far_log.read_text(),
            60 + (time.monotonic() - cut_at),
            "the far worker's late outcome",
        )
    finally:
        stop(far)
        if near is not None:
            stop(near)
        relay.stop()
    done = client.jobs.get(job.job_id)
    assert started.read_text() == str(far.pid)  # attempt 1 ran on the far host
    assert done.result == {"attempt": 2, "pid": near.pid}  # type: ignore[union-attr]
    assert _completions(client, job.job_id) == 1
    assert f"job {job.job_id} attempt 1: {LATE}" in far_log.read_text()
    reaped = [
        e for e in client.jobs.events(job.job_id) if (e.reason or "").startswith("lease expired")
    ]
    assert len(reaped) == 1


def test_every_connection_dropped_under_load_the_worker_reconnects_and_loses_nothing(
    database: str, host: Host, tmp_path: Path
) -> None:
    import worker_jobs  # noqa: F401 - the job types, known here too

    relay = Relay(host.outer_ip)
    client = closing(Client(_url("127.0.0.1", 5432, database), run_workers=False))
    ledger = tmp_path / "ledger"
    ledger.touch()
    log = tmp_path / "far.log"
    far = _start_in(host, _url(host.outer_ip, relay.port, database), "maintenance=4", log)
    try:
        wait_until(lambda: len(client.workers()) == 1, 60, "the far worker to register")
        params = [{"ledger": str(ledger), "sleep": 0.02} for _ in range(200)]
        jobs = client.jobs.schedule_many("acc.work", params)
        drops = 0
        for at in (20, 80, 140):
            wait_until(lambda at=at: len(ledger.read_text().splitlines()) >= at, 120, f"{at} run")
            drops += relay.drop_all()
        wait_until(
            lambda: client.jobs.list(status="completed", limit=1).total == len(jobs),
            180,
            "every job to complete after the drops",
        )
    finally:
        stop(far)
        relay.stop()
    assert drops >= 3  # connections were there to drop, each time
    for job in jobs:
        assert _completions(client, job.job_id) == 1
    ran = {line.split()[0] for line in ledger.read_text().splitlines()}
    assert ran == {j.job_id for j in jobs}


def test_a_far_worker_200_ms_away_completes_every_job_once(
    database: str, host: Host, tmp_path: Path
) -> None:
    import worker_jobs  # noqa: F401 - the job types, known here too

    relay = Relay(host.outer_ip, delay_sec=0.1)  # +200 ms on every round trip
    client = closing(Client(_url("127.0.0.1", 5432, database), run_workers=False))
    ledger = tmp_path / "ledger"
    ledger.touch()
    log = tmp_path / "far.log"
    far = _start_in(host, _url(host.outer_ip, relay.port, database), "maintenance=4", log)
    try:
        wait_until(lambda: len(client.workers()) == 1, 60, "the far worker to register")
        assert _round_trip(host.outer_ip, relay.port, database) >= 0.2, "200 ms per trip"
        params = [{"ledger": str(ledger), "sleep": 0.01} for _ in range(20)]
        jobs = client.jobs.schedule_many("acc.work", params)
        wait_until(
            lambda: client.jobs.list(status="completed", limit=1).total == len(jobs),
            180,
            "every job to complete over the slow link",
        )
    finally:
        stop(far)
        relay.stop()
    for job in jobs:
        assert _completions(client, job.job_id) == 1
    ran = {line.split()[0] for line in ledger.read_text().splitlines()}
    assert ran == {j.job_id for j in jobs}


def _drain_over_lossy_link(
    database: str, host: Host, tmp_path: Path, delay_sec: float, n_jobs: int
) -> None:
    """A worker on ``host`` (losing packets) drains ``n_jobs`` jobs: each runs and completes
    once, with one attempt; the link dropped packets each way and TCP resent segments."""
    import worker_jobs  # noqa: F401 - the job types, known here too

    relay = Relay(host.outer_ip, delay_sec=delay_sec)
    client = closing(Client(_url("127.0.0.1", 5432, database), run_workers=False))
    ledger = tmp_path / "ledger"
    ledger.touch()
    log = tmp_path / "far.log"
    began = time.monotonic()
    far = _start_in(
        host, _url(host.outer_ip, relay.port, database), "maintenance=4", log, LOSSY_LEASE_SEC
    )
    try:
        wait_until(lambda: len(client.workers()) == 1, 60, "the lossy worker to register")
        registered = time.monotonic()
        params = [{"ledger": str(ledger), "sleep": 0.01} for _ in range(n_jobs)]
        jobs = client.jobs.schedule_many("acc.work", params)
        wait_until(
            lambda: client.jobs.list(status="completed", limit=1).total == len(jobs),
            120,
            "every job to complete over the lossy link",
        )
        drained = time.monotonic()
    finally:
        stop(far)
        relay.stop()
    loss = host.loss()
    print(
        f"\n{n_jobs} jobs, +{2000 * delay_sec:.0f} ms a round trip, {LOSS_PERCENT} % loss: "
        f"registered in {registered - began:.1f} s, drained in {drained - registered:.1f} s; "
        f"dropped {loss.dropped_out} of {loss.dropped_out + loss.passed_out} packets out "
        f"({100 * loss.share(loss.dropped_out, loss.passed_out):.1f} %), "
        f"{loss.dropped_in} of {loss.dropped_in + loss.passed_in} in "
        f"({100 * loss.share(loss.dropped_in, loss.passed_in):.1f} %); "
        f"TCP resent {loss.retransmitted} segments"
    )
    for job in jobs:
        assert _completions(client, job.job_id) == 1
        done = client.jobs.get(job.job_id)
        assert done is not None
        assert (done.status, done.attempt, done.lease_losses) == (Status.COMPLETED, 1, 0)
    ran = [line.split()[0] for line in ledger.read_text().splitlines()]
    assert sorted(ran) == sorted(j.job_id for j in jobs)  # each ran once, none twice
    # The loss was real: packets vanished each way, and the worker's TCP noticed.
    assert loss.dropped_out > 0
    assert loss.dropped_in > 0
    assert loss.retransmitted > 0


def test_a_worker_losing_5_percent_of_its_packets_each_way_completes_every_job_once(
    database: str, lossy_host: Host, tmp_path: Path
) -> None:
    _drain_over_lossy_link(database, lossy_host, tmp_path, delay_sec=0.0, n_jobs=200)


def test_a_far_worker_200_ms_away_losing_5_percent_each_way_completes_every_job_once(
    database: str, lossy_host: Host, tmp_path: Path
) -> None:
    _drain_over_lossy_link(database, lossy_host, tmp_path, delay_sec=0.1, n_jobs=20)
