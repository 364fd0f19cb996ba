"""REST API benchmark: ``GET /jobs/{id}`` and ``POST /jobs`` requests/s and p50/p99 latency.

    python bench/api.py [--store sqlite|postgresql|postgresql://SERVER/DB] [--seconds 5]
                        [--concurrency 8] [--only get|post] [--api-processes 1,2,4] [--quick]

The benchmark makes its own empty database and drops it at the end: a temporary SQLite
file, or, on PostgreSQL, a new database ``bench_api_<pid>_<hex>`` created through the
server the URL names (its database, ``postgres`` by default, is only where it connects to
run ``CREATE DATABASE``; it is neither migrated nor written).

Starts ``headrace server --workers 0`` (an API-only node, so no worker competes for the
store) on a free port; creates an operator token; then drives the server from this
process (a second process) with ``--concurrency`` threads, each with its own keep-alive
connection (``bench/loadgen.py``: requests prepared as bytes, a few tens of microseconds
of client CPU each, so the client takes little of the cores it shares with the server),
for ``--seconds`` per phase:

- ``GET /jobs/{id}``: reads of 100 pre-scheduled jobs, round-robin;
- ``POST /jobs``: schedules of the no-op type (each a new job: no idempotency key).

Every request carries the bearer token. Latency is per request, as the client sees it.

In the same run, the baseline (``bench/api_baseline.py``: a minimal FastAPI + SQLAlchemy
app reading and inserting the same rows of the same database, under the same uvicorn
settings) is driven the same way, each phase right after Headrace's; the ratio is
Headrace's rate over the baseline's (goal >= 0.6). Then Headrace again at half its peak
rate, open loop (a fixed rate; latency counted from when each request was due), for its
latency below saturation (goal: p99 under 20 ms); the baseline at that same rate
(``baseline @ same``): on a shared machine, the tail that load alone gives an app on the
same rows; and the baseline at half its own peak (``baseline @ its half``). Each open-loop
phase also reports ``lag p99``: how late the generator itself woke to send (a tail that
the generator, not the server, would have caused), and every phase the 1-minute load
average at its start or end, whichever is higher, and ``steal``: the share of the
machine's CPU time its hypervisor gave to other machines during the phase (on a shared
host, load that the load average does not show).

``--api-processes 1,2,4`` then measures ``GET /jobs/{id}`` at peak on
``headrace server --workers 0 --api-processes N`` for each N (a fresh server each),
for how reads scale with API processes.
The table goes to stdout and, as JSON, to ``bench/results/api-<date>-<store>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
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
from bench import loadgen  # noqa: E402

from headrace.service.tokens import TokenService  # noqa: E402
from headrace.store.database import Store  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fresh_database(store: str) -> tuple[str, Callable[[], None]]:
    """A new, empty database for this run, and what drops it.

    ``sqlite`` is handled by the caller (a temporary file). ``postgresql`` or a
    ``postgresql://`` URL: a new database on that server; the URL's own database is only
    connected to. Anything else is refused: the benchmark never migrates or writes a
    database it did not make.
    """
    if store == "postgresql":
        store = "postgresql://postgres@127.0.0.1:5432/postgres"
    if not store.startswith(("postgresql://", "postgres://")):
        msg = f"--store takes sqlite, postgresql or a postgresql:// URL, not {store!r}"
        raise SystemExit(msg)
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(store)
    admin = url.set(drivername="postgresql", database=url.database or "postgres")
    admin_dsn = admin.render_as_string(hide_password=False)
    name = f"bench_api_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return admin.set(database=name).render_as_string(hide_password=False), drop


def cpu_times() -> list[int]:
    """The machine's CPU time counters (``/proc/stat``'s ``cpu`` line; empty off Linux)."""
    try:
        with open("/proc/stat") as stat:
            return [int(x) for x in stat.readline().split()[1:]]
    except OSError:
        return []


def cpu_shares(before: list[int], after: list[int]) -> dict[str, float]:
    """Shares of the machine's CPU time between two readings: idle, and stolen.

    ``steal`` is time the hypervisor gave this virtual machine's cores to others: on a
    shared host it is load that the load average does not show.
    """
    spent = [b - a for a, b in zip(before, after, strict=False)]
    total = sum(spent)
    if total <= 0 or len(spent) < 8:
        return {}
    return {"cpu_idle": (spent[3] + spent[4]) / total, "cpu_steal": spent[7] / total}


def start_server(
    store_url: str, port: int, log: Path, baseline: bool = False, api_processes: int = 1
) -> subprocess.Popen[bytes]:
    # This checkout's own source first: a virtualenv's editable install may point elsewhere.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    command = [sys.executable, "-m", "headrace", "server", "--store", store_url,
               "--port", str(port), "--workers", "0", "--import", "bench.jobs_noop"]  # fmt: skip
    if api_processes > 1:
        command += ["--api-processes", str(api_processes)]
    if baseline:
        command = [sys.executable, str(HERE / "api_baseline.py"), "--store", store_url,
                   "--port", str(port)]  # fmt: skip
    with log.open("ab") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    pids: set[int] = set()
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited:\n{log.read_text()}")
        try:
            # A fresh connection each time: with N API processes, wait until all answer.
            answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            if answer.status_code == 200:
                pids.add(answer.json().get("pid", 0))
                if len(pids) >= api_processes:
                    return proc
        except httpx.TransportError:
            pass
        time.sleep(0.02)
    proc.kill()
    raise SystemExit(f"server did not start:\n{log.read_text()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--store",
        default="sqlite",
        help="sqlite, postgresql, or a postgresql:// URL of the server to make a fresh "
        "database on (default: sqlite, a temporary file).",
    )
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--only", choices=("get", "post"), help="One endpoint's phases.")
    parser.add_argument(
        "--api-processes", default="", help="e.g. 1,2,4: GET at peak with N API processes."
    )
    parser.add_argument("--out", type=Path, help="JSON results file (default: by date).")
    parser.add_argument("--quick", action="store_true", help="1 s per phase (a smoke run).")
    args = parser.parse_args()
    seconds = 1.0 if args.quick else args.seconds
    processes = [int(n) for n in args.api_processes.split(",") if n]
    with tempfile.TemporaryDirectory() as tmp:
        if args.store == "sqlite":
            store_url, drop = f"sqlite:///{tmp}/bench.db", (lambda: None)
        else:
            store_url, drop = fresh_database(args.store)
        try:
            results = run(store_url, Path(tmp), seconds, args.concurrency, args.only, processes)
        finally:
            drop()
    backend = "postgresql" if store_url.startswith("postgres") else "sqlite"
    print(f"store={backend} concurrency={args.concurrency} seconds={seconds}")
    print(f"{'endpoint':<32} {'req/s':>6} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} "
          f"{'errors':>6} {'lag p99':>7} {'load':>5} {'steal':>5}  x baseline")  # fmt: skip
    for name, r in results.items():
        base_r = results.get(f"{name} baseline")
        ratio = f"{r['req_per_s'] / base_r['req_per_s']:.2f} (goal >= 0.6)" if base_r else ""
        lag = ""
        if name.endswith(("@ half peak", "@ same", "@ its half")):
            ratio = f"p99 {'<' if r['p99_ms'] < 20 else '>='} 20 ms (goal < 20 ms)"
            lag = f"{r['client_lag_p99_ms']:.2f}"
        one = results.get("GET /jobs/{id} x1 API process")
        if " API process" in name and one:
            ratio = f"{r['req_per_s'] / one['req_per_s']:.2f} x one API process"
        print(f"{name:<32} {r['req_per_s']:>6.0f} {r['p50_ms']:>7.2f} {r['p99_ms']:>7.2f} "
              f"{r['max_ms']:>7.1f} {r['failures']:>6} {lag:>7} {r['load_1min']:>5.1f} "
              f"{100 * r.get('cpu_steal', 0):>4.0f}%  {ratio}")  # fmt: skip
    record = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus",
        "load": os.getloadavg(),
        "python": platform.python_version(),
        "store": backend,
        "concurrency": args.concurrency,
        "seconds": seconds,
        "results": results,
    }
    if not args.quick or args.out:
        out = args.out or HERE / "results" / f"api-{dt.date.today().isoformat()}-{backend}.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(record, indent=2) + "\n")
        print(f"wrote {out}")


def run(
    store_url: str,
    tmp: Path,
    seconds: float,
    concurrency: int,
    only: str | None,
    processes: list[int],
) -> dict[str, Any]:
    """Every phase on the fresh database at ``store_url``; results by phase name."""
    store = Store(store_url)
    token, _ = TokenService(store).create("bench", "bench", "operator")
    store.close()
    port, base_port = free_port(), free_port()
    log = tmp / "server.log"
    server: subprocess.Popen[bytes] | None = start_server(store_url, port, log)
    base: subprocess.Popen[bytes] | None = None
    url = f"http://127.0.0.1:{port}"
    results: dict[str, Any] = {}
    try:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as h:
            ids = [h.post("/jobs", json={"type": "bench.noop"}).json()["job_id"]
                   for _ in range(100)]  # fmt: skip
        base = start_server(store_url, base_port, log, baseline=True)
        host = "127.0.0.1"
        gets = [loadgen.request_bytes("GET", f"/jobs/{i}", host, token) for i in ids]
        post = loadgen.request_bytes("POST", "/jobs", host, token, b'{"type":"bench.noop"}')
        phases: list[tuple[str, loadgen.Request]] = [
            ("GET /jobs/{id}", lambda i: gets[i % len(gets)]),
            ("POST /jobs", lambda i: post),
        ]

        def drive(
            name: str, at: int, request: loadgen.Request, rate: float | None = None
        ) -> dict[str, float]:
            load, cpu = os.getloadavg()[0], cpu_times()
            results[name] = found = loadgen.run(host, at, request, seconds, concurrency, rate)
            found["load_1min"] = max(load, os.getloadavg()[0])
            found.update(cpu_shares(cpu, cpu_times()))
            return found

        for name, request in phases:
            if only and not name.lower().startswith(only):
                continue
            peak = drive(name, port, request)
            base_peak = drive(f"{name} baseline", base_port, request)
            half = peak["req_per_s"] / 2
            drive(f"{name} @ half peak", port, request, rate=half)
            # The baseline at the same rate: what the machine's load alone does to the tail.
            drive(f"{name} baseline @ same", base_port, request, rate=half)
            # And at half its own peak: whether the bare app meets the goal here at all.
            drive(f"{name} baseline @ its half", base_port, request, base_peak["req_per_s"] / 2)
        stop(server)
        server = None
        read = phases[0][1]
        for n in processes:
            server = start_server(store_url, port, log, api_processes=n)
            loadgen.run(host, port, read, min(2.0, seconds / 5), concurrency)  # pools fill
            drive(f"GET /jobs/{{id}} x{n} API process{'es' if n > 1 else ''}", port, read)
            stop(server)
            server = None
    finally:
        for proc in (server, base):
            if proc is not None:
                stop(proc)
    return results


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM a server and wait for it to end."""
    proc.send_signal(signal.SIGTERM)
    proc.wait(30)


if __name__ == "__main__":
    main()
