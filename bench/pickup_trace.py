"""Where pickup latency goes: ``bench/scale.py --latency``'s run, with traced workers.

    python bench/pickup_trace.py [--rate 200] [--jobs 2000] [--workers 4]

Each worker process runs with its ``Worker`` methods wrapped to log wall-clock times
(``time.time``) to a file of its own: every wake-up from the LISTEN thread, every pump
round (start, end, jobs claimed) and the jobs each round handed to slots. For every job,
from the database (``scheduled_at_ms``, ``started_at_ms``, ``locked_by``) and the claiming
worker's log, pickup splits into:

- notify: scheduled -> the claiming worker's last LISTEN wake-up before its round
  (the INSERT and its commit, PostgreSQL's delivery, the listener thread's turn), split
  into schedule (the stamp -> ``schedule`` returning in the producer, the commit's
  acknowledgement) and delivery (that return -> the wake-up; < 0 when the notification
  came first); before_insert is the stamp -> the INSERT's call (the producer's Python),
  insert that call -> the wake-up (the statement, its commit, the delivery);
- wake: that wake-up -> its pump's round starting (the pump finishing a round it was in,
  or its thread's turn);
- claim: the round's start -> the claimed jobs' start stamp (the claim statement);
- rounds before: whether the round that claimed it was the first after the wake-up.

Percentiles of each part, over all jobs and over the slowest 1 %. A profiling aid: the
wrapping adds a little to every part.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

_HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = Path(_HERE).parent
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def traced_worker(trace: str, argv: list[str]) -> None:
    """Run ``headrace worker argv`` with its Worker's wake-ups and rounds logged."""
    from headrace.cli import app
    from headrace.scheduler import worker as worker_module

    out = open(trace, "w", buffering=1)  # noqa: SIM115 - open for the process's life
    lock = threading.Lock()
    cls = worker_module.Worker
    wake, round_, begin = cls.wake, cls._round, cls._begin

    def log(*fields: Any) -> None:
        with lock:
            out.write(json.dumps(fields) + "\n")

    def traced_wake(self: Any) -> None:
        log("wake", time.time(), threading.current_thread().name)
        wake(self)

    def traced_round(self: Any, types: Any) -> Any:
        t0 = time.time()
        result = round_(self, types)
        log("round", t0, time.time(), result[1], bool(result[0]))
        return result

    def traced_begin(self: Any, claimed: Any) -> None:
        log("begin", time.time(), [c.job_id for c in claimed])
        begin(self, claimed)

    cls.wake, cls._round, cls._begin = traced_wake, traced_round, traced_begin  # type: ignore[method-assign]
    sys.argv = ["headrace", "worker", *argv]
    app.main()


PARTS = ("total", "before_insert", "insert", "schedule", "delivery", "notify", "wake", "claim",
         "first_round")  # fmt: skip


def read_trace(path: Path) -> dict[str, Any]:
    """One worker's log: its LISTEN wake-ups, its rounds, and when it began each job."""
    wakes: list[float] = []
    rounds: list[tuple[float, float, int]] = []
    begun: dict[str, float] = {}
    for line in path.read_text().splitlines():
        kind, *rest = json.loads(line)
        if kind == "wake" and rest[1] == "headrace-listen":
            wakes.append(rest[0])
        elif kind == "round":
            rounds.append((rest[0], rest[1], rest[2]))
        elif kind == "begin":
            for job_id in rest[1]:
                begun[job_id] = rest[0]
    return {"wakes": wakes, "rounds": rounds, "begun": begun}


def analyse(
    traces: list[Path],
    rows: list[tuple[str, int, int, str]],
    committed: dict[str, float],
    sent: dict[str, float],
) -> dict[str, Any]:
    """Split each job's pickup into notify, wake and claim (see the module's docstring)."""
    import bisect

    by_worker = [read_trace(path) for path in traces]
    parts: dict[str, list[float]] = {k: [] for k in PARTS}
    per_job = []
    for job_id, scheduled, started, _locked in rows:
        trace = next((t for t in by_worker if job_id in t["begun"]), None)
        if trace is None:
            continue
        begun_at = trace["begun"][job_id]
        starts = [r[0] for r in trace["rounds"]]
        i = bisect.bisect_right(starts, begun_at) - 1
        round_start = starts[i]
        w = bisect.bisect_right(trace["wakes"], round_start) - 1
        woke = trace["wakes"][w] if w >= 0 else float("nan")
        prev_round_start = starts[i - 1] if i > 0 else float("-inf")
        first = woke > prev_round_start
        sched = scheduled / 1000
        row = {
            "total": started - scheduled,
            "notify": 1000 * (woke - sched),
            "schedule": 1000 * (committed.get(job_id, float("nan")) - sched),
            "before_insert": 1000 * (sent.get(job_id, float("nan")) - sched),
            "insert": 1000 * (woke - sent.get(job_id, float("nan"))),
            "delivery": 1000 * (woke - committed.get(job_id, float("nan"))),
            "wake": 1000 * (round_start - woke),
            "claim": 1000 * (begun_at - round_start),
            "first_round": 1.0 if first else 0.0,
        }
        if job_id not in committed:
            continue  # not scheduled through the timed call
        per_job.append(row)
        for k, v in row.items():
            parts[k].append(v)
    per_job.sort(key=lambda r: r["total"])
    tail = per_job[int(0.99 * len(per_job)) :]

    def pct(values: list[float], q: float) -> float:
        values = sorted(values)
        return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")

    summary: dict[str, Any] = {"jobs": len(per_job)}
    for k in parts:
        summary[k] = {"p50": pct(parts[k], 0.5), "p90": pct(parts[k], 0.9),
                      "p99": pct(parts[k], 0.99)}  # fmt: skip
        summary[k]["tail_mean"] = sum(r[k] for r in tail) / max(1, len(tail))
    rounds = [r for t in by_worker for r in t["rounds"]]
    summary["rounds"] = len(rounds)
    summary["rounds_claiming"] = sum(1 for r in rounds if r[2])
    summary["round_ms_p50"] = pct([1000 * (r[1] - r[0]) for r in rounds], 0.5)
    summary["round_ms_p99"] = pct([1000 * (r[1] - r[0]) for r in rounds], 0.99)
    summary["tail"] = tail[-10:]
    return summary


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--traced-worker":
        traced_worker(sys.argv[2], sys.argv[3:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--capacity", type=int, default=8)
    args = parser.parse_args()
    from bench import scale
    from sqlalchemy import select

    from headrace import Client

    with tempfile.TemporaryDirectory() as tmp:
        logdir = Path(tmp)
        traces: list[Path] = []
        real_start = scale.start_workers

        def start_traced(url: str, n: int, capacity: int, logs: Path, tag: str) -> list[Any]:
            import subprocess

            procs = []
            for i in range(n):
                trace = logs / f"trace-{i}.jsonl"
                traces.append(trace)
                cmd = [sys.executable, __file__, "--traced-worker", str(trace),
                       "--store", url, "--queues", f"{scale.jobs_noop.QUEUE}={capacity}",
                       "--import", "bench.jobs_noop"]  # fmt: skip
                with open(logs / f"{tag}-{i}.log", "w") as log:
                    procs.append(subprocess.Popen(cmd, cwd=ROOT, stdout=log,
                                                  stderr=subprocess.STDOUT,
                                                  start_new_session=True))  # fmt: skip
            return procs

        scale.start_workers = start_traced
        from headrace.service.jobs import JobService

        committed: dict[str, float] = {}
        schedule = JobService.schedule

        def timed_schedule(self: Any, *a: Any, **k: Any) -> Any:
            job = schedule(self, *a, **k)
            committed[job.job_id] = time.time()
            return job

        JobService.schedule = timed_schedule  # type: ignore[method-assign]
        from headrace.store.jobs import JobRepository

        sent: dict[str, float] = {}
        insert = JobRepository.insert

        def timed_insert(self: Any, row: Any, user_id: str) -> Any:
            began = time.time()
            job, created = insert(self, row, user_id)
            sent[job.job_id] = began
            return job, created

        JobRepository.insert = timed_insert  # type: ignore[method-assign]
        store = scale.BenchStore("postgresql", logdir)
        try:
            result = scale.latency_once(
                store, args.workers, args.rate, args.jobs, args.capacity, logdir
            )
            J = scale.J
            with Client(store=store.url, run_workers=False) as client, client.store.read() as c:
                rows = c.execute(
                    select(J.c.job_id, J.c.scheduled_at_ms, J.c.started_at_ms, J.c.locked_by)
                ).all()
        finally:
            store.close()
            scale.start_workers = real_start
        print(json.dumps(result))
        print(json.dumps(analyse(traces, [tuple(r) for r in rows], committed, sent), indent=1))


if __name__ == "__main__":
    main()
