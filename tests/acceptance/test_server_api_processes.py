"""``headrace server --api-processes N`` as real processes: N serve, the workers run once.

The parent supervises N uvicorn API processes on one socket and runs the job workers
and maintenance itself; these tests check that from outside: which pids answer, which
pid runs jobs, what survives a kill, and how a stop ends.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

import httpx
import pytest
from test_server_process import free_port, headrace, start, stop, wait_until

#: How long the supervisor may take to notice a killed API process and start another:
#: its tick is 0.5 s (``api.supervisor``); the rest is slack for a loaded machine. Far
#: below ``processes.HEALTHCHECK_SEC``, which uvicorn's own supervisor could wait for first.
NOTICE_SEC = 5

pytestmark = pytest.mark.slow


def answering_pids(url: str, want: int, timeout: float = 60) -> set[int]:
    """The pids ``/healthz`` reports over fresh connections, until ``want`` distinct ones."""
    pids: set[int] = set()
    deadline = time.monotonic() + timeout
    while len(pids) < want:
        assert time.monotonic() < deadline, f"only {pids} answered"
        with contextlib.suppress(httpx.TransportError):
            pids.add(httpx.get(f"{url}/healthz", timeout=5).json()["pid"])
    return pids


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie an unreaping init keeps does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def test_two_api_processes_serve_one_store_and_the_workers_run_once_in_the_parent(
    store_url: str, tmp_path: Path
) -> None:
    token = headrace("tokens", "create", "--store", store_url, "--tenant", "acme",
                     "--user", "ann", "--role", "operator").stdout.split()[-1]  # fmt: skip
    port = free_port()
    log = tmp_path / "server.log"
    server = start(store_url, port, log, "--api-processes", "2", "--workers", "1")
    url = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {token}"}
    try:
        api = answering_pids(url, 2)
        assert server.pid not in api  # the parent serves no HTTP
        # One worker, the parent's: N API processes do not multiply the workers.
        workers = httpx.get(f"{url}/workers", headers=auth).json()["items"]
        assert [w["pid"] for w in workers] == [server.pid]
        ledger = tmp_path / "ledger.txt"
        ids = [
            httpx.post(f"{url}/jobs", headers=auth,
                       json={"type": "acc.work", "params": {"ledger": str(ledger)}}
                       ).json()["job_id"]
            for _ in range(6)
        ]  # fmt: skip
        for job_id in ids:
            done = httpx.get(f"{url}/jobs/{job_id}/wait", params={"timeout": 30}, headers=auth)
            assert done.json()["status"] == "completed", done.text
            assert done.json()["result"]["pid"] == server.pid
        runs = ledger.read_text().splitlines()
        assert sorted(line.split()[0] for line in runs) == sorted(ids)  # each ran once

        # A killed API process is replaced at once; the other serves meanwhile. Held first
        # (SIGSTOP), so it dies with a health ping out: uvicorn's own supervisor waited
        # for that ping's answer (HEALTHCHECK_SEC) before it saw the process was gone.
        victim, survivor = sorted(api)
        os.kill(victim, signal.SIGSTOP)
        time.sleep(1.5)  # the supervisor pings every 0.5 s
        os.kill(victim, signal.SIGKILL)
        replaced = f"API process {victim} exited (-9); started API process"
        wait_until(lambda: replaced in log.read_text(), NOTICE_SEC, "the victim's replacement")
        assert not alive(victim)  # reaped as it was noticed
        assert httpx.get(f"{url}/jobs/{ids[0]}", headers=auth).status_code == 200
        # The replacement serves once its interpreter has started (60 s: as the first two).
        again = answering_pids(url, 2, 60)
        assert survivor in again and victim not in again
        assert server.poll() is None

        # SIGTERM on the parent stops every API process and the worker, and exits 0.
        stop(server)
        assert server.returncode == 0, log.read_text()
        assert not any(alive(pid) for pid in again)
        text = log.read_text()
        assert "headrace server stopped" in text
        assert f"worker {workers[0]['worker_id']} stopped" in text
    finally:
        stop(server)


def test_a_stop_ends_event_streams_held_by_api_processes(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "server.log"
    server = start(f"sqlite:///{tmp_path}/sse.db", port, log,
                   "--insecure-local", "--workers", "0", "--api-processes", "2")  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/job-changes"
        with httpx.stream("GET", url, params={"timeout": 300}, timeout=30) as answer:
            lines = answer.iter_lines()
            assert "event: ready" in [next(lines) for _ in range(4)]
            server.send_signal(signal.SIGTERM)
            rest = list(lines)  # ends at the stream's next read, not after the grace period
        assert all(not line.startswith("event:") for line in rest)
        assert server.wait(20) == 0
    finally:
        stop(server)
    assert "graceful shutdown exceeded" not in log.read_text()


def test_api_processes_end_when_their_parent_is_killed(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "server.log"
    server = start(f"sqlite:///{tmp_path}/orphans.db", port, log,
                   "--insecure-local", "--api-processes", "2")  # fmt: skip
    try:
        api = answering_pids(f"http://127.0.0.1:{port}", 2)
        server.kill()
        server.wait(10)
        wait_until(lambda: not any(alive(pid) for pid in api), 20, "the orphans to stop")
    finally:
        stop(server)


def test_an_api_process_that_answers_late_is_not_replaced_as_hung(tmp_path: Path) -> None:
    # uvicorn's supervisor kills an API process that leaves its health check unanswered
    # for timeout_worker_healthcheck (5 s by default) and starts another. A start under
    # load took longer than that, and so did each replacement's: only one process served.
    # Held (SIGSTOP) for longer than uvicorn's 5 s and its 0.5 s round, the process must
    # still be the one serving once it runs again.
    port = free_port()
    log = tmp_path / "server.log"
    server = start(f"sqlite:///{tmp_path}/late.db", port, log,
                   "--insecure-local", "--workers", "0", "--api-processes", "2")  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    held = 0
    try:
        api = answering_pids(url, 2)
        held = min(api)
        os.kill(held, signal.SIGSTOP)
        time.sleep(7)
        with contextlib.suppress(ProcessLookupError):  # gone if it was killed as hung
            os.kill(held, signal.SIGCONT)
        assert alive(held), "the supervisor killed the held API process as hung"
        assert answering_pids(url, 2) == api
    finally:
        if held:
            with contextlib.suppress(ProcessLookupError):
                os.kill(held, signal.SIGCONT)
        assert stop(server) == 0, log.read_text()


def test_api_processes_below_one_are_refused(tmp_path: Path) -> None:
    refused = headrace("server", "--store", f"sqlite:///{tmp_path}/x.db", "--api-processes", "0")
    assert refused.returncode == 2
    assert "api_processes" in refused.stderr and "must be >= 1" in refused.stderr
    assert not (tmp_path / "x.db").exists()


def test_the_config_file_sets_api_processes(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("server:\n  api_processes: 2\n  workers: 0\n")
    port = free_port()
    log = tmp_path / "server.log"
    server = start(f"sqlite:///{tmp_path}/c.db", port, log, "--config", str(config),
                   "--insecure-local")  # fmt: skip
    try:
        assert len(answering_pids(f"http://127.0.0.1:{port}", 2)) == 2
    finally:
        assert stop(server) == 0
