"""REST API benchmark: ``GET /jobs/{id}`` and ``POST /jobs`` requests/s and p50/p99 latency.

    python bench/api.py [--store URL] [--seconds 5] [--concurrency 8] [--quick]

Starts ``headrace server --workers 0`` (an API-only node, so no worker competes for the
store) on a free port, on a temporary SQLite file or on ``--store``; creates an operator
token; then drives the server from this process (a second process) with ``--concurrency``
threads, each with its own keep-alive ``httpx.Client``, for ``--seconds`` per phase:

- ``GET /jobs/{id}``: reads of 100 pre-scheduled jobs, round-robin;
- ``POST /jobs``: schedules of the no-op type (each a new job: no idempotency key).

Every request carries the bearer token. Latency is per request, as the client sees it.

In the same run, the baseline (``bench/api_baseline.py``: a minimal FastAPI + SQLAlchemy
app reading and inserting the same rows of the same database, under the same uvicorn
settings) is driven the same way, each phase right after Headrace's; the ratio is
Headrace's rate over the baseline's (goal >= 0.6). Then Headrace again at half its peak
rate, paced, for its latency below saturation (goal: p99 under 20 ms).
The table goes to stdout and, as JSON, to ``bench/results/api-<date>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Run as a script, this folder is sys.path[0], where queue.py would shadow the standard
# library's ``queue``: swap it for the repo root (``bench.jobs_noop`` is then importable).
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or os.curdir).resolve() != HERE]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from headrace.service.tokens import TokenService  # noqa: E402
from headrace.store.database import Store  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    store_url: str, port: int, log: Path, baseline: bool = False
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "headrace", "server", "--store", store_url,
               "--port", str(port), "--workers", "0", "--import", "bench.jobs_noop"]  # fmt: skip
    if baseline:
        command = [sys.executable, str(HERE / "api_baseline.py"), "--store", store_url,
                   "--port", str(port)]  # fmt: skip
    with log.open("ab") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited:\n{log.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"server did not start:\n{log.read_text()}")


def drive(
    url: str,
    token: str,
    seconds: float,
    concurrency: int,
    request: Callable[[httpx.Client, int], httpx.Response],
    rate: float | None = None,
) -> dict[str, float]:
    """Run ``request`` from ``concurrency`` threads for ``seconds``; rates and latencies.

    ``rate`` (requests/s in all) paces the threads on a fixed schedule, each sending
    every ``concurrency / rate`` s; without it each sends as soon as its last answer came.
    """
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    failures = [0] * concurrency
    stop = threading.Event()

    def worker(slot: int) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
            i = slot
            period = concurrency / rate if rate else 0.0
            due = time.perf_counter() + period * slot / concurrency
            while not stop.is_set():
                if period:
                    pause = due - time.perf_counter()
                    if pause > 0:
                        time.sleep(pause)
                    due += period
                started = time.perf_counter()
                response = request(http, i)
                latencies[slot].append(time.perf_counter() - started)
                if response.status_code >= 400:
                    failures[slot] += 1
                i += concurrency

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(concurrency)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    every = sorted(x for slot in latencies for x in slot)
    return {
        "requests": len(every),
        "failures": sum(failures),
        "req_per_s": len(every) / elapsed,
        "p50_ms": 1000 * statistics.median(every),
        "p99_ms": 1000 * every[min(len(every) - 1, int(len(every) * 0.99))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", help="Database URL (default: a temporary SQLite file).")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="1 s per phase (a smoke run).")
    args = parser.parse_args()
    seconds = 1.0 if args.quick else args.seconds
    with tempfile.TemporaryDirectory() as tmp:
        store_url = args.store or f"sqlite:///{tmp}/bench.db"
        store = Store(store_url)
        token, _ = TokenService(store).create("bench", "bench", "operator")
        store.close()
        port, base_port = free_port(), free_port()
        log = Path(tmp) / "server.log"
        server = start_server(store_url, port, log)
        base: subprocess.Popen[bytes] | None = None
        url, base_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{base_port}"
        try:
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as h:
                ids = [h.post("/jobs", json={"type": "bench.noop"}).json()["job_id"]
                       for _ in range(100)]  # fmt: skip
            base = start_server(store_url, base_port, log, baseline=True)
            results: dict[str, Any] = {}
            for name, request in (
                ("GET /jobs/{id}", lambda http, i: http.get(f"/jobs/{ids[i % len(ids)]}")),
                ("POST /jobs", lambda http, i: http.post("/jobs", json={"type": "bench.noop"})),
            ):
                results[name] = peak = drive(url, token, seconds, args.concurrency, request)
                results[f"{name} baseline"] = drive(
                    base_url, token, seconds, args.concurrency, request
                )
                half = peak["req_per_s"] / 2
                results[f"{name} @ half peak"] = drive(
                    url, token, seconds, args.concurrency, request, rate=half
                )
        finally:
            for proc in (server, base):
                if proc is not None:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(30)
    backend = "postgresql" if store_url.startswith("postgres") else "sqlite"
    print(f"store={backend} concurrency={args.concurrency} seconds={seconds}")
    print(f"{'endpoint':<25} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}  x baseline")
    for name, r in results.items():
        base_r = results.get(f"{name} baseline")
        ratio = f"{r['req_per_s'] / base_r['req_per_s']:.2f} (goal >= 0.6)" if base_r else ""
        if name.endswith("@ half peak"):
            ratio = f"p99 {'<' if r['p99_ms'] < 20 else '>='} 20 ms (goal < 20 ms)"
        print(f"{name:<25} {r['req_per_s']:>8.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} "
              f"{r['failures']:>7}  {ratio}")  # fmt: skip
    record = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus",
        "python": platform.python_version(),
        "store": backend,
        "concurrency": args.concurrency,
        "seconds": seconds,
        "results": results,
    }
    if not args.quick:
        out = HERE / "results" / f"api-{dt.date.today().isoformat()}-{backend}.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(record, indent=2) + "\n")
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
