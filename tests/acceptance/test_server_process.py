"""``headrace server`` and the CLI as real subprocesses: tokens, jobs commands, restarts."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from child_path import child_pythonpath
from headrace import defaults

HERE = Path(__file__).parent
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("HEADRACE_")}
    return {**base, "PYTHONPATH": child_pythonpath(HERE), **extra}


def headrace(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "headrace", *args],
        env=env(**extra), capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def start(store_url: str, port: int, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "headrace", "server", "--import", "worker_jobs",
               "--lease-sec", "1.5", *extra]  # fmt: skip
    with log.open("ab") as out:
        proc = subprocess.Popen(
            command, env=env(HEADRACE_STORE=store_url, HEADRACE_PORT=str(port)),
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, log.read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> int:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def wait_until(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_tokens_and_jobs_commands_against_a_server(tmp_path: Path) -> None:
    # The commands are the same whatever the store; the API suite runs on both databases.
    store_url = f"sqlite:///{tmp_path}/cli.db"
    made = headrace("tokens", "create", "--store", store_url, "--tenant", "acme",
                    "--user", "alice", "--role", "operator")  # fmt: skip
    assert made.returncode == 0, made.stderr
    token = made.stdout.split()[-1]
    assert token.startswith("hr_") and "acme" in made.stdout
    listed = headrace("tokens", "ls", "--store", store_url, "--json")
    assert token not in listed.stdout and json.loads(listed.stdout)[0]["role"] == "operator"
    port = free_port()
    server = start(store_url, port, tmp_path / "server.log")
    try:
        url = f"http://127.0.0.1:{port}"
        auth = {"HEADRACE_SERVER": url, "HEADRACE_TOKEN": token}
        ledger = tmp_path / "ledger.txt"
        job = httpx.post(
            f"{url}/jobs",
            json={"type": "acc.work", "params": {"ledger": str(ledger)}},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        waited = headrace("jobs", "wait", job["job_id"], "--timeout", "30", **auth)
        assert waited.returncode == 0 and waited.stdout.split() == [job["job_id"], "completed"]
        ls = headrace("jobs", "ls", "--json", **auth)
        assert [j["job_id"] for j in json.loads(ls.stdout)["items"]] == [job["job_id"]]
        table = headrace("jobs", "ls", **auth).stdout.splitlines()
        row = next(line for line in table if job["job_id"] in line)
        assert [c.strip() for c in row.split("│")[1:5]] == [job["job_id"], "", "acc.work",
                                                            "completed"]  # fmt: skip
        shown = json.loads(headrace("jobs", "show", job["job_id"], "--json", **auth).stdout)
        assert shown["result"]["attempt"] == 1
        events = headrace("jobs", "events", job["job_id"], "--json", **auth)
        assert [e["to_status"] for e in json.loads(events.stdout)][-1] == "completed"
        refused = headrace("jobs", "cancel", job["job_id"], **auth)
        assert refused.returncode == 1 and "cannot go from 'completed'" in refused.stderr
        assert headrace("jobs", "delete", job["job_id"], **auth).returncode == 0
        assert "not found" in headrace("jobs", "show", job["job_id"], **auth).stderr
        types = headrace("job-types", "ls", **auth).stdout
        assert "acc.work" in types and "acc.slow_first" in types
        group = json.loads(headrace("job-groups", "show", "acc", "--json", **auth).stdout)
        assert group["name"] == "acc"
        # The same commands read the store directly when no URL is given.
        direct = headrace("job-types", "show", "acc.work", "--json", HEADRACE_STORE=store_url)
        assert json.loads(direct.stdout)["queue"] == "maintenance"
        denied = headrace("jobs", "ls", HEADRACE_SERVER=url, HEADRACE_TOKEN="hr_bad")
        assert denied.returncode == 1 and "unknown token" in denied.stderr
    finally:
        assert stop(server) == 0


def test_a_restart_keeps_jobs_events_and_logs_and_running_jobs_come_back(
    store_url: str, tmp_path: Path
) -> None:
    token = headrace("tokens", "create", "--store", store_url, "--tenant", "default",
                     "--user", "ops", "--role", "admin").stdout.split()[-1]  # fmt: skip
    port = free_port()
    log = tmp_path / "server.log"
    url = f"http://127.0.0.1:{port}"
    http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    started = tmp_path / "started.txt"
    server = start(store_url, port, log)
    try:
        done = [
            http.post("/jobs", json={"type": "acc.work",
                                     "params": {"ledger": str(tmp_path / "l.txt")}}).json()
            for _ in range(3)
        ]  # fmt: skip
        wait_until(
            lambda: http.get("/jobs", params={"status": "completed"}).json()["total"] == 3,
            30, "jobs to complete",
        )  # fmt: skip
        slow = http.post("/jobs", json={"type": "acc.slow_first",
                                        "params": {"started": str(started),
                                                   "first_sleep": 30}}).json()  # fmt: skip
        wait_until(started.exists, 30, "the slow job to start")
        before = {j["job_id"]: http.get(f"/jobs/{j['job_id']}/events").json() for j in done}
        stop(server, signal.SIGKILL)
        server = start(store_url, port, log)
        for job in done:
            again = http.get(f"/jobs/{job['job_id']}").json()
            assert again["status"] == "completed" and again["result"]["attempt"] == 1
            assert http.get(f"/jobs/{job['job_id']}/events").json() == before[job["job_id"]]
        wait_until(
            lambda: http.get(f"/jobs/{slow['job_id']}").json()["status"] == "completed",
            60, "the killed server's running job to come back and complete",
        )  # fmt: skip
        back = http.get(f"/jobs/{slow['job_id']}").json()
        assert back["attempt"] == 2 and back["retries"] == 0 and back["lease_losses"] == 1
    finally:
        http.close()
        assert stop(server) == 0


def test_insecure_local_serves_the_default_tenant_but_only_on_loopback(
    store_url: str, tmp_path: Path
) -> None:
    refused = headrace("server", "--store", store_url, "--insecure-local", "--host", "0.0.0.0")
    assert refused.returncode == 2 and "only on loopback" in refused.stderr
    port = free_port()
    server = start(store_url, port, tmp_path / "server.log", "--insecure-local", "--workers", "0")
    try:
        url = f"http://127.0.0.1:{port}"
        me = httpx.get(f"{url}/whoami").json()
        assert me["tenant_id"] == "00000000-0000-0000-0000-000000000000"
        job = httpx.post(f"{url}/jobs", json={"type": "acc.work", "params": {"ledger": "x"}})
        assert job.status_code == 201
        time.sleep(0.5)  # no worker runs in an API-only node
        assert httpx.get(f"{url}/jobs/{job.json()['job_id']}").json()["status"] == "waiting"
        assert httpx.get(f"{url}/workers").json()["items"] == []
        # DNS rebinding: a page's own name resolved to 127.0.0.1 sends that name as Host.
        for path in ("/whoami", "/jobs", "/healthz", "/metrics", "/"):
            rebound = httpx.get(f"{url}{path}", headers={"Host": f"evil.example:{port}"})
            assert rebound.status_code == 403, path
            assert rebound.json()["field"] == "header.host"
        posted = httpx.post(
            f"{url}/jobs", json={"type": "acc.work"}, headers={"Host": "127.0.0.1.nip.io"}
        )
        assert posted.status_code == 403
        assert httpx.get(f"{url}/jobs").json()["total"] == 1  # the refused post made nothing
        for host in (f"localhost:{port}", f"127.0.0.1:{port}", "[::1]"):
            assert httpx.get(f"{url}/whoami", headers={"Host": host}).status_code == 200
    finally:
        assert stop(server) == 0


def test_a_stop_ends_open_event_streams_instead_of_waiting_for_them(
    tmp_path: Path,
) -> None:
    port = free_port()
    log = tmp_path / "server.log"
    server = start(f"sqlite:///{tmp_path}/sse.db", port, log, "--insecure-local", "--workers", "0")
    try:
        url = f"http://127.0.0.1:{port}/job-changes"
        with httpx.stream("GET", url, params={"timeout": 300}, timeout=30) as answer:
            lines = answer.iter_lines()
            assert "event: ready" in [next(lines) for _ in range(4)]
            server.send_signal(signal.SIGTERM)
            rest = list(lines)  # ends at the stream's next read, not after 300 s or the grace
        assert all(not line.startswith("event:") for line in rest)
        assert server.wait(20) == 0
    finally:
        stop(server)
    assert "graceful shutdown exceeded" not in log.read_text()


def test_a_server_that_runs_jobs_sets_its_collector_up_as_a_worker_does(tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path}/gc.db"
    port = free_port()
    server = start(store_url, port, tmp_path / "server.log", "--insecure-local")
    try:
        url = f"http://127.0.0.1:{port}"
        job = httpx.post(f"{url}/jobs", json={"type": "acc.collector", "params": {}}).json()
        wait_until(
            lambda: httpx.get(f"{url}/jobs/{job['job_id']}").json()["status"] == "completed",
            30, "the job to complete",
        )  # fmt: skip
        result = httpx.get(f"{url}/jobs/{job['job_id']}").json()["result"]
    finally:
        stop(server)
    assert result["thresholds"][0] == defaults.SERVING_GC_YOUNG_THRESHOLD
    assert result["frozen"] > 0
