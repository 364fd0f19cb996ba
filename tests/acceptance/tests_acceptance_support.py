"""Helpers of the acceptance tests: ``headrace worker`` subprocesses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from child_path import child_pythonpath

HERE = Path(__file__).parent


def start_worker(
    store_url: str, queues: str, lease_sec: float, log: Path, *extra: str
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": child_pythonpath(HERE)}
    command = [
        sys.executable, "-m", "headrace", "worker",
        "--store", store_url, "--queues", queues,
        "--import", "worker_jobs", "--lease-sec", str(lease_sec), *extra,
    ]  # fmt: skip
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


def wait_until(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGCONT)
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_sessions_gone(store_url: str, pid: int, timeout: float = 30.0) -> None:
    """Wait until a killed process's PostgreSQL sessions have ended (no-op on SQLite).

    A process killed right after sending a COMMIT may still have it applied: until its
    backend has seen the socket close, what the store shows is not final.
    """
    if not store_url.startswith("postgresql"):
        return
    import sqlalchemy

    from headrace.store.dialects.postgresql import app_name, driver_url

    engine = sqlalchemy.create_engine(driver_url(store_url), poolclass=sqlalchemy.NullPool)
    query = sqlalchemy.text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :n")

    def gone() -> bool:
        with engine.connect() as conn:
            return conn.execute(query, {"n": app_name(pid)}).scalar() == 0

    try:
        wait_until(gone, timeout, f"the sessions of killed process {pid} to end")
    finally:
        engine.dispose()
