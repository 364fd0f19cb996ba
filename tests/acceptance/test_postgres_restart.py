"""PostgreSQL restarted under load: workers reconnect by themselves, nothing is lost.

The shared PostgreSQL of this machine serves every other test, so this one starts a
cluster of its own (``initdb`` into a temporary folder, its own port) and restarts that,
with ``pg_ctl restart -m fast``: every session is cut, as when the database fails over or
is upgraded. Root only (the cluster runs as the ``postgres`` user); under CI it must run.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests_acceptance_support import start_worker, stop, wait_until

from headrace import Client
from headrace.model.status import Status

pytestmark = pytest.mark.slow

JOBS = 300


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        pytest.fail(f"PostgreSQL's {name} is not installed under /usr/lib/postgresql")
    return found[-1]


def _as_postgres(*command: str) -> None:
    # Output to a file, not a pipe: a server that pg_ctl starts inherits the descriptors,
    # and a pipe would never reach its end while the server runs.
    with tempfile.TemporaryFile() as out:
        done = subprocess.run(
            ["runuser", "-u", "postgres", "--", *command], stdout=out, stderr=out, check=False
        )
        out.seek(0)
        said = out.read().decode(errors="replace")
    assert done.returncode == 0, f"{command[0]}: {said}"


@pytest.fixture
def cluster() -> Iterator[tuple[str, str]]:
    """A private PostgreSQL cluster: (its data folder, the URL of a database in it)."""
    if os.geteuid() != 0:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("the PostgreSQL restart test needs root (runuser postgres) under CI")
        pytest.skip("the PostgreSQL restart test needs root (runuser postgres)")
    # Not under pytest's tmp_path: the postgres user cannot enter root's 0700 folders.
    home = Path(tempfile.mkdtemp(prefix="headrace-pg-"))
    data = home / "data"
    shutil.chown(home, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _as_postgres(_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres")
    options = f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off"
    pg_ctl = [_bin("pg_ctl"), "-D", str(data), "-l", str(home / "log"), "-o", options]
    _as_postgres(*pg_ctl, "-w", "start")
    try:
        _as_postgres(_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "hr")
        yield str(data), f"postgresql://postgres@127.0.0.1:{port}/hr"
    finally:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *pg_ctl, "-m", "immediate", "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        shutil.rmtree(home, ignore_errors=True)


def test_a_restart_under_load_loses_no_job_and_completes_none_twice(
    cluster: tuple[str, str], tmp_path: Path
) -> None:
    import worker_jobs  # noqa: F401 - registers acc.work in this process too

    data, url = cluster
    ledger = tmp_path / "ledger.txt"
    ledger.touch()
    client = Client(url, run_workers=False)
    ids = [
        client.jobs.schedule("acc.work", {"ledger": str(ledger), "sleep": 0.02}).job_id
        for _ in range(JOBS)
    ]
    client.close()  # its pooled sessions would only be cut too
    log = tmp_path / "worker.log"
    worker = start_worker(url, "maintenance=5", 3.0, log)
    try:
        wait_until(lambda: len(ledger.read_text().splitlines()) >= 40, 60, "the worker to run")
        pg_log = str(Path(data).parent / "log")
        pg_ctl = [_bin("pg_ctl"), "-D", data, "-l", pg_log, "-m", "fast", "-w", "restart"]
        _as_postgres(*pg_ctl)  # every session cut, the server back on the same port
        assert worker.poll() is None, "the worker must outlive its database's restart"
        client = Client(url, run_workers=False)
        try:
            wait_until(
                lambda: client.jobs.list(status="completed", limit=1).total == JOBS,
                180,
                "every job to complete after the restart",
            )
            jobs = [client.jobs.get(job_id) for job_id in ids]
            completions = {
                job_id: sum(
                    1 for e in client.jobs.events(job_id) if e.to_status is Status.COMPLETED
                )
                for job_id in ids
            }
        finally:
            client.close()
    finally:
        stop(worker)
    assert "store unavailable" in log.read_text(), "the restart cut the worker's sessions"
    assert all(j.status is Status.COMPLETED for j in jobs), "nothing lost"
    assert set(completions.values()) == {1}, "no job completed twice"
    ran = Counter(line.split()[0] for line in ledger.read_text().splitlines())
    assert set(ran) == set(ids), "every job's code ran"
    # At least once: an attempt cut mid-flight by the restart may run its code again.
    assert sum(ran.values()) >= JOBS
