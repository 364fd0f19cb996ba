"""``headrace server`` reads config.yaml's ``server`` section; flags win over it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from server_process import HERE, free_port

from child_path import child_pythonpath


def serve(config: Path, store: str, log: Path, *flags: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADRACE_")}
    env["PYTHONPATH"] = child_pythonpath(HERE)
    command = [sys.executable, "-m", "headrace", "server", "--config", str(config),
               "--store", store, "--insecure-local", *flags]  # fmt: skip
    with log.open("ab") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


def answering(proc: subprocess.Popen[bytes], port: int, log: Path) -> httpx.Client:
    """A client of the server once it answers (httpx opens it on first use: close it)."""
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, log.read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0


def test_the_server_section_sets_port_workers_and_imports(tmp_path: Path) -> None:
    port, other = free_port(), free_port()
    config = tmp_path / "config.yaml"
    config.write_text(f"server:\n  port: {port}\n  workers: 0\n  imports: [api_jobs]\n")
    store = f"sqlite:///{tmp_path}/s.db"
    log = tmp_path / "server.log"
    proc = serve(config, store, log)
    try:
        with answering(proc, port, log) as api:
            job = api.post("/jobs", json={"type": "api.echo"})  # imported from config.yaml
            assert job.status_code == 201, job.text
            assert api.get("/workers").json()["total"] == 0  # workers: 0, an API-only node
    finally:
        stop(proc)
    assert "0 worker(s)" in log.read_text()
    proc = serve(config, store, log, "--port", str(other), "--workers", "1")
    try:
        with answering(proc, other, log) as api:
            assert api.get("/workers").json()["total"] == 1
    finally:
        stop(proc)


def test_a_bad_server_section_is_refused_naming_the_setting(tmp_path: Path) -> None:
    for text, where in [("server:\n  port: 70000\n", "server.port"),
                        ("server:\n  colour: blue\n", "server.colour"),
                        ("server:\n  workers: -1\n", "server.workers")]:  # fmt: skip
        config = tmp_path / "config.yaml"
        config.write_text(text)
        done = subprocess.run(
            [sys.executable, "-m", "headrace", "server", "--config", str(config)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 2 and where in done.stderr, done.stderr


def _completed(api: httpx.Client, job_id: str) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while (job := api.get(f"/jobs/{job_id}").json())["status"] != "completed":
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    return dict(job)


def test_the_servers_workers_offer_the_labels_of_its_flag_else_config_yaml(
    tmp_path: Path,
) -> None:
    port, other = free_port(), free_port()
    config = tmp_path / "config.yaml"
    config.write_text(f"labels: [ssd]\nserver:\n  port: {port}\n  imports: [api_jobs]\n")
    store = f"sqlite:///{tmp_path}/s.db"
    log = tmp_path / "server.log"
    proc = serve(config, store, log)
    try:
        with answering(proc, port, log) as api:
            assert [w["labels"] for w in api.get("/workers").json()["items"]] == [["ssd"]]
    finally:
        stop(proc)
    proc = serve(config, store, log, "--port", str(other), "--workers", "2", "--labels", "gpu,eu")
    try:
        with answering(proc, other, log) as api:
            listed = api.get("/workers").json()["items"]
            assert [w["labels"] for w in listed] == [["eu", "gpu"], ["eu", "gpu"]]
            job = api.post("/jobs", json={"type": "api.echo", "params": 1, "labels": ["gpu"]})
            assert job.status_code == 201, job.text
            assert _completed(api, job.json()["job_id"])["result"] == 1
            lacking = api.post("/jobs", json={"type": "api.echo", "labels": ["tpu"]}).json()
            status = api.get(f"/jobs/{lacking['job_id']}/status").json()
            assert (status["status"], status["reason"]) == (
                "waiting",
                "no live worker serving queue 'maintenance' offers the labels it requires "
                "(tpu); they offer: eu, gpu; start one with `headrace worker --labels tpu`"
                " (a server's or an embedded "
                "client's own workers: `headrace server --labels tpu`, `Client(labels='tpu')`)",
            )
    finally:
        stop(proc)
    assert ", labels eu,gpu," in log.read_text()  # what the server says as it starts


def test_bad_server_labels_are_refused_naming_them(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    for text, flags in [("labels: [GPU]\n", ()), ("", ("--labels", "eu west"))]:
        config.write_text(text)
        done = subprocess.run(
            [sys.executable, "-m", "headrace", "server", "--config", str(config), *flags],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 2 and "error: labels: label" in done.stderr, done.stderr
