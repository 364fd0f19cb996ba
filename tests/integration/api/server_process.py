"""Start and stop a real ``headrace server`` subprocess on a free port (for the API tests)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from child_path import child_pythonpath

HERE = Path(__file__).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningServer:
    url: str
    store_url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def start_server(store_url: str, log: Path, *extra: str, port: int | None = None) -> RunningServer:
    """A server on ``store_url`` importing ``api_jobs``; returns once /healthz answers."""
    port = port or free_port()
    env = {**os.environ, "PYTHONPATH": child_pythonpath(HERE)}
    env.pop("HEADRACE_STORE", None)
    command = [
        sys.executable, "-m", "headrace", "server", "--store", store_url,
        "--port", str(port), "--import", "api_jobs", *extra,
    ]  # fmt: skip
    with log.open("ab") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    running = RunningServer(url, store_url, proc, log)
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited {proc.returncode}:\n{running.output()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return running
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            running.stop(signal.SIGKILL)
            raise RuntimeError(f"server did not answer in time:\n{running.output()}")
        time.sleep(0.05)


def wait_status(
    http: httpx.Client, job_id: str, statuses: set[str], timeout: float = 20
) -> dict[str, object]:
    """The job once its status is one of ``statuses``."""
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, object] = http.get(f"/jobs/{job_id}").json()
        if job["status"] in statuses:
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job['status']}"
        time.sleep(0.02)


@dataclass
class Tenant:
    """Tokens of one fresh tenant, by role, and HTTP clients using them."""

    name: str
    tenant_id: str
    tokens: dict[str, str]
    url: str
    opened: list[httpx.Client]

    def http(self, role: str = "operator") -> httpx.Client:
        """An HTTP client with this tenant's ``role`` token (closed after the test)."""
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        client = httpx.Client(base_url=self.url, headers=headers, timeout=30)
        self.opened.append(client)
        return client
