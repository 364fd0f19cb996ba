"""Scale-out benchmark: jobs/s with 1, 2, 4, 8 ``headrace worker`` processes on one database.

    python bench/scale.py [--workers 1,2,4,8] [--repeat 3] [--jobs 4000] [--capacity 8]
                          [--stores postgresql,sqlite]
    python bench/scale.py --latency [--latency-workers 4] [--rate 200] [--jobs 2000]

For each repeat, each worker count and each workload (a no-op job and a 1 ms sleep), on
an emptied store: start N worker processes (``--queues bench=C``), wait until every one
has registered and idles, then schedule the jobs in one ``schedule_many`` (the NOTIFY
wakes the workers) and wait until all have completed. Rate = jobs / (first
``started_at_ms`` -> last ``finished_at_ms``), as ``bench/queue.py`` times its drains.

CPU, from ``/proc/<pid>/stat`` over the window from scheduling to the last completion:

- the database: the PostgreSQL backends serving the benchmark database (their pids from
  ``pg_stat_activity``; a backend born in the window counts from zero). The server's
  shared background processes (WAL writer, checkpointer) are not counted. Reported as
  cores used (CPU seconds / wall seconds), as the share of all CPU the run used (database
  + workers), and per job (the enqueue's INSERT included: a job must be queued);
- the workers: their processes, per job;
- the machine: the busy share of all its cores (``/proc/stat``), to show when the run
  saturates it; the machine is shared with other work, which this number includes.

Where the database saturates: when its cores-used approaches what the machine has left
beside the workers; the per-job database CPU predicts a bigger machine's ceiling
(``cores available to PostgreSQL / database CPU per job``).

SQLite (``--stores postgresql,sqlite``): the same on a SQLite file, whose "database" runs inside the
worker processes (no separate CPU to report), 1, 2 and 4 processes (one host only).

``--latency``: pickup latency (p50, p99) of no-op jobs scheduled one by one at ``--rate``
per second to 4 idle workers on PostgreSQL (woken by LISTEN/NOTIFY).

Medians over repeats; the table goes to stdout and, as JSON, to
``bench/results/scale-<date>.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

# Run as a script, this folder is sys.path[0], where queue.py would shadow the standard
# library's ``queue``: swap it for the repo root.
_HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = Path(_HERE).parent
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from bench import jobs_noop, jobs_scale  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from headrace import Client  # noqa: E402
from headrace.store import tables  # noqa: E402

PG_SERVER = os.environ.get("HR_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
RESULTS = ROOT / "bench" / "results"
J = tables.jobs
WORKLOADS = {"noop": jobs_noop.TYPE, "1ms": jobs_scale.TYPE}
TICK = os.sysconf("SC_CLK_TCK")
#: Threads scheduling the latency run's jobs.
PRODUCERS = 4
#: A drain that completes nothing for this long is given up (and reported).
STALL_SEC = 30.0


# -- CPU -------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads) so far; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all cores so far, from ``/proc/stat``."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


# -- processes -------------------------------------------------------------------------


def start_workers(url: str, n: int, capacity: int, logdir: Path, tag: str) -> list[Any]:
    cmd = [
        sys.executable, "-m", "headrace", "worker", "--store", url,
        "--queues", f"{jobs_noop.QUEUE}={capacity}",
        "--import", "bench.jobs_noop", "--import", "bench.jobs_scale",
    ]  # fmt: skip
    procs = []
    for i in range(n):
        with open(logdir / f"{tag}-{i}.log", "w") as log:
            procs.append(
                subprocess.Popen(
                    cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
            )
    return procs


def stop_workers(procs: list[Any]) -> None:
    """SIGTERM each worker's own process group, then SIGKILL what is left."""
    for p in procs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for p in procs:
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait()


# -- stores ----------------------------------------------------------------------------


class BenchStore:
    """The store under test, emptied before each run."""

    def __init__(self, kind: str, tmp: Path) -> None:
        self.kind = kind
        self.tmp = tmp
        self.db = f"hr_scale_{os.getpid()}"
        self.serial = 0
        self.url = ""
        if kind == "postgresql":
            self._admin(f'CREATE DATABASE "{self.db}"')

    def _admin(self, sql: str) -> None:
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(sql)

    @property
    def dsn(self) -> str:
        return f"{PG_SERVER}/{self.db}"

    def fresh(self) -> str:
        self.serial += 1
        if self.kind == "sqlite":
            for old in self.tmp.glob("scale-*.db*"):
                old.unlink()
            self.url = f"sqlite:///{self.tmp / f'scale-{self.serial}.db'}"
            Client(store=self.url, run_workers=False).close()  # migrated before workers start
        else:
            self.url = self.dsn
            with Client(store=self.url, run_workers=False) as client, client.store.write() as c:
                c.execute(text("TRUNCATE jobs, job_events, job_logs, workers, maintenance_leases"))
        return self.url

    def backends(self) -> list[int]:
        """The pids of the PostgreSQL backends serving the benchmark database."""
        if self.kind != "postgresql":
            return []
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.db,)
            ).fetchall()
        return [r[0] for r in rows]

    def close(self) -> None:
        if self.kind == "postgresql":
            self._admin(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')


def count(client: Client, sql: str) -> int:
    with client.store.read() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def wait_until(what: str, predicate: Any, procs: list[Any], timeout: float) -> str:
    """Poll ``predicate`` (a number that must stop growing... or a bool): "ok" or why not."""
    deadline = time.monotonic() + timeout
    last, changed = None, time.monotonic()
    while True:
        value = predicate()
        if value is True:
            return "ok"
        now = time.monotonic()
        if value != last:
            last, changed = value, now
        if now > deadline:
            return f"timeout waiting for {what}"
        if now - changed > STALL_SEC:
            return f"stalled waiting for {what} at {value}"
        if all(p.poll() is not None for p in procs):
            return f"all workers exited waiting for {what}"
        time.sleep(0.05)


# -- one run ---------------------------------------------------------------------------


def run_once(
    store: BenchStore, workload: str, n_workers: int, jobs: int, capacity: int, logdir: Path
) -> dict[str, Any]:
    url = store.fresh()
    procs = start_workers(url, n_workers, capacity, logdir, f"{store.kind}-{workload}-{n_workers}")
    try:
        with Client(store=url, run_workers=False) as client:
            up = wait_until(
                "the workers to register",
                lambda: count(client, "SELECT count(*) FROM workers") == n_workers or 0,
                procs,
                120,
            )
            if up != "ok":
                return {"ok": False, "outcome": up}
            warm = client.jobs.schedule(WORKLOADS[workload])  # the type stored, all warm
            wait_until("the warm-up job", lambda: _done(client) == 1 or 0, procs, 60)
            pids = store.backends()
            db0 = {p: cpu_seconds(p) for p in pids}
            w0 = sum(cpu_seconds(p.pid) for p in procs)
            m0 = machine_ticks()
            t0 = time.perf_counter()
            client.jobs.schedule_many(WORKLOADS[workload], [None] * jobs)
            outcome = wait_until(
                "the jobs to complete",
                lambda: (done := _done(client)) == jobs + 1 or done,
                procs,
                600,
            )
            wall = time.perf_counter() - t0
            pids = store.backends()
            db_cpu = sum(cpu_seconds(p) - db0.get(p, 0.0) for p in pids)
            w_cpu = sum(cpu_seconds(p.pid) for p in procs) - w0
            m1 = machine_ticks()
            with client.store.read() as conn:
                done, first, last = conn.execute(
                    select(
                        func.count(), func.min(J.c.started_at_ms), func.max(J.c.finished_at_ms)
                    ).where(J.c.status == "completed", J.c.job_id != warm.job_id)
                ).one()
    finally:
        stop_workers(procs)
    span = (last - first) / 1000 if first is not None and last is not None else 0.0
    busy = (m1[0] - m0[0]) / max(1, m1[1] - m0[1])
    result: dict[str, Any] = {
        "ok": outcome == "ok" and done == jobs,
        "outcome": outcome,
        "completed": done,
        "rate": done / span if span > 0 else None,
        "wall_s": wall,
        "worker_cpu_ms_per_job": 1000 * w_cpu / max(done, 1),
        "machine_busy_share": busy,
    }
    if store.kind == "postgresql":
        result.update(
            db_cores=db_cpu / wall,
            db_share_of_run_cpu=db_cpu / max(1e-9, db_cpu + w_cpu),
            db_cpu_ms_per_job=1000 * db_cpu / max(done, 1),
        )
    return result


def _done(client: Client) -> int:
    return count(client, "SELECT count(*) FROM jobs WHERE status = 'completed'")


# -- pickup latency -------------------------------------------------------------------


def latency_once(
    store: BenchStore, n_workers: int, rate: float, jobs: int, capacity: int, logdir: Path
) -> dict[str, Any]:
    """Schedule no-op jobs one by one at ``rate``/s to idle workers; their pickup latency.

    Pickup = ``started_at_ms`` (the worker began the attempt) - ``scheduled_at_ms`` (the
    job was scheduled, before its INSERT committed): the NOTIFY wake-up, the claim, the
    hand-over to a slot.
    """
    url = store.fresh()
    procs = start_workers(url, n_workers, capacity, logdir, f"{store.kind}-latency-{n_workers}")
    try:
        with Client(store=url, run_workers=False) as client:
            up = wait_until(
                "the workers to register",
                lambda: count(client, "SELECT count(*) FROM workers") == n_workers or 0,
                procs,
                120,
            )
            if up != "ok":
                return {"ok": False, "outcome": up}
            warm = client.jobs.schedule(jobs_noop.TYPE)
            wait_until("the warm-up job", lambda: _done(client) == 1 or 0, procs, 60)
            t0 = time.perf_counter()

            def produce(k: int) -> None:
                # PRODUCERS threads, each its share of the rate: one scheduling thread
                # cannot offer 200/s on a loaded 2-core machine (one INSERT each).
                for i in range(k, jobs, PRODUCERS):
                    pause = t0 + i / rate - time.perf_counter()
                    if pause > 0:
                        time.sleep(pause)
                    client.jobs.schedule(jobs_noop.TYPE)

            threads = [threading.Thread(target=produce, args=(k,)) for k in range(PRODUCERS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            offered = jobs / (time.perf_counter() - t0)
            outcome = wait_until(
                "the jobs to complete",
                lambda: (done := _done(client)) == jobs + 1 or done,
                procs,
                600,
            )
            with client.store.read() as conn:
                rows = conn.execute(
                    select(J.c.started_at_ms - J.c.scheduled_at_ms).where(
                        J.c.status == "completed", J.c.job_id != warm.job_id
                    )
                ).all()
    finally:
        stop_workers(procs)
    waits = sorted(int(r[0]) for r in rows)
    if not waits:
        return {"ok": False, "outcome": outcome}
    return {
        "ok": outcome == "ok" and len(waits) == jobs,
        "outcome": outcome,
        "offered_rate": offered,
        "p50_ms": waits[len(waits) // 2],
        "p99_ms": waits[min(len(waits) - 1, int(0.99 * len(waits)))],
        "max_ms": waits[-1],
    }


def run_latency(args: argparse.Namespace, tmp: Path) -> None:
    store = BenchStore("postgresql", tmp)
    runs = []
    try:
        for rep in range(args.repeat):
            r = latency_once(store, args.latency_workers, args.rate, args.jobs, args.capacity, tmp)
            runs.append(r)
            print(f"[{rep + 1}/{args.repeat}] latency: {r}", file=sys.stderr, flush=True)
    finally:
        store.close()
    ok = [r for r in runs if r["ok"]]
    print(
        f"\npickup latency {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
        f"shared machine: PostgreSQL, {args.latency_workers} workers, {args.jobs} no-op jobs "
        f"scheduled one by one at {args.rate:.0f}/s; medians of {len(ok)} of {len(runs)} runs"
    )
    for key in ("offered_rate", "p50_ms", "p99_ms", "max_ms"):
        values = [r[key] for r in ok]
        print(f"  {key}: {statistics.median(values):.1f}" if values else f"  {key}: -")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"scale-latency-{dt.date.today()}.json"
    out.write_text(json.dumps({"args": vars(args), "runs": runs}, indent=1))
    print(f"written to {out.relative_to(ROOT)}")


# -- the table -------------------------------------------------------------------------

COLUMNS = (
    ("rate", "jobs/s", "{:.0f}"),
    ("speedup", "x of 1", "{:.2f}"),
    ("db_cores", "db cores", "{:.2f}"),
    ("db_share_of_run_cpu", "db share", "{:.0%}"),
    ("db_cpu_ms_per_job", "db ms/job", "{:.3f}"),
    ("worker_cpu_ms_per_job", "worker ms/job", "{:.3f}"),
    ("machine_busy_share", "machine busy", "{:.0%}"),
)


def median_of(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in runs if r.get("ok") and r.get(key) is not None]
    return statistics.median(values) if values else None


def summarize(results: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    rows = []
    for key, runs in results.items():
        kind, workload, n = key.split("/")
        row: dict[str, Any] = {"store": kind, "workload": workload, "workers": int(n)}
        row["ok_runs"] = sum(1 for r in runs if r.get("ok"))
        row["runs"] = len(runs)
        for name, _title, _fmt in COLUMNS:
            if name != "speedup":
                row[name] = median_of(runs, name)
        rows.append(row)
    for row in rows:
        one = next(
            (r for r in rows if (r["store"], r["workload"], r["workers"]) ==
             (row["store"], row["workload"], 1)),
            None,
        )  # fmt: skip
        base = one["rate"] if one else None
        row["speedup"] = row["rate"] / base if row["rate"] and base else None
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    head = ["store", "job", "workers"] + [title for _n, title, _f in COLUMNS] + ["ok"]
    lines = [head]
    for row in rows:
        cells = [row["store"], row["workload"], str(row["workers"])]
        for name, _title, fmt in COLUMNS:
            value = row.get(name)
            cells.append("-" if value is None else fmt.format(value))
        cells.append(f"{row['ok_runs']}/{row['runs']}")
        lines.append(cells)
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    for i, line in enumerate(lines):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--workers", default="1,2,4,8")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=4000)
    parser.add_argument("--capacity", type=int, default=8)
    parser.add_argument("--stores", default="postgresql", help="postgresql,sqlite (1-4)")
    parser.add_argument("--workloads", default="noop,1ms")
    parser.add_argument("--latency", action="store_true", help="pickup latency instead")
    parser.add_argument("--latency-workers", type=int, default=4)
    parser.add_argument("--rate", type=float, default=200.0, help="jobs/s offered (latency)")
    args = parser.parse_args()
    if args.latency:
        with tempfile.TemporaryDirectory(prefix="hr-scale-") as tmp:
            run_latency(args, Path(tmp))
        return
    counts = [int(n) for n in args.workers.split(",")]
    workloads = args.workloads.split(",")
    results: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="hr-scale-") as tmp:
        stores = [BenchStore(kind, Path(tmp)) for kind in args.stores.split(",")]
        try:
            for rep in range(args.repeat):
                for store in stores:
                    for n in counts:
                        if store.kind == "sqlite" and n > 4:
                            continue
                        for workload in workloads:
                            r = run_once(store, workload, n, args.jobs, args.capacity, Path(tmp))
                            key = f"{store.kind}/{workload}/{n}"
                            results.setdefault(key, []).append(r)
                            rate = f"{r['rate']:.0f}" if r.get("rate") else "-"
                            print(f"[{rep + 1}/{args.repeat}] {key}: {rate} jobs/s, "
                                  f"{r['outcome']}", file=sys.stderr, flush=True)  # fmt: skip
        finally:
            for store in stores:
                store.close()
    rows = summarize(results)
    print(
        f"\nscale bench {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores "
        f"({platform.processor() or platform.machine()}), shared machine: medians of "
        f"{args.repeat}, {args.jobs} jobs per run, capacity {args.capacity} per worker\n"
    )
    print_table(rows)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"scale-{dt.date.today()}.json"
    out.write_text(json.dumps({"args": vars(args), "rows": rows, "runs": results}, indent=1))
    print(f"\nwritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
