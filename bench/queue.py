"""Queue benchmark: Headrace's enqueue and drain rates beside a hand-written PG loop.

    python bench/queue.py [--n 20000] [--repeat 3] [--quick] [--capacities 50,1]
                          [--prefetch auto,0,8]

Phases, each on an empty store, every repeat running every system once (interleaved, so
they share the machine's noise):

- enqueue 1-by-1: N no-op jobs through ``client.jobs.schedule``, one call (one
  transaction) each, and N single-row autocommit INSERTs for the baseline;
- enqueue bulk: N no-op jobs through one ``client.jobs.schedule_many`` call (one
  transaction, multi-row INSERTs), and one pipelined ``executemany`` of the N INSERTs in
  one transaction for the baseline;
- drain: 2 worker processes (``python -m headrace worker --queues bench=C``) take the N
  jobs queued (in bulk) before they start.  Rate = N / (first claim -> last finish), from the
  ``started_at_ms``/``finished_at_ms`` Headrace stores per job, so start-up is excluded;
  completion is watched by polling ``client.jobs.list(status="completed").total``.
  With ``--prefetch auto,0,8`` each capacity is drained once per prefetch (``headrace
  worker --prefetch P``: up to C+P jobs held per worker, P of them waiting for a slot); the
  default (``auto``) row is ``drain C=8``, a fixed one ``drain C=8+P8`` (``+P0``: none
  held), whose ``/loop=b`` is to the minimal loop claiming C+P a round (C for ``auto``).

Stores: SQLite (a temp file) and PostgreSQL (a throwaway database ``hr_bench_<pid>``,
dropped at the end).  Baseline (``bench/pgloop.py``): 2 processes, claim <= 50 rows per
``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING``, one UPDATE to
finish a batch, LISTEN/NOTIFY; no heartbeats or results, in its own table of the same
database.  Ratios are to the baseline of the same phase (the batch-50 drain for every
drain row).

Second baseline, PostgreSQL only, "the same rows, written by hand" (``pg-loop-rows``,
``bench/pgloop_rows.py``): after Headrace's largest-capacity PostgreSQL drain, each
repeat enqueues a fresh batch of the same size through ``schedule_many`` on Headrace's
own tables and drains it with 2 processes of a hand-written loop (raw psycopg, 1 thread,
claim <= 50 rows) that writes exactly the rows a Headrace worker writes: the claim and
its ``waiting -> locked`` events in one statement of the shape of Headrace's, then one
fenced statement per batch for the merged start+end write (``locked -> completed``) and
its ``locked -> running`` and ``running -> completed`` events.  Its rate is timed like
Headrace's (``started_at_ms`` -> ``finished_at_ms``); its ratio stays to ``pg-loop``,
and every Headrace PostgreSQL drain row of capacity >= 8 also gets ``ratio_to_rows_loop``
(its rate over ``pg-loop-rows``' median): ``pg-loop`` -> ``pg-loop-rows`` is the cost
of Headrace's data model (wide row, indexes, events), ``pg-loop-rows`` -> Headrace that of
its framework.

Medians over repeats; the table goes to stdout and, as JSON, to
``bench/results/queue-<date>.json``.
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
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Run as a script, this folder is sys.path[0], and this file (queue.py) would shadow the
# standard library's ``queue`` for what is imported next: swap it for the repo root.
_HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = Path(_HERE).parent
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from bench import jobs_noop, pgloop, pgloop_rows, sqliteloop  # noqa: E402
from psycopg.types.json import Jsonb  # noqa: E402
from sqlalchemy import text  # noqa: E402

from headrace import Client, defaults  # noqa: E402

PG_SERVER = os.environ.get("HR_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
RESULTS = ROOT / "bench" / "results"
WORKERS = 2
POLL_SEC = 0.1
#: A drain that completes nothing for this long is given up (and reported).
STALL_SEC = 20.0
#: How a drain on Headrace's tables (its workers', the rows loop's) counts finished jobs.
#: Jobs no longer waiting or held: the drains' progress probe. Since migration 0021 no
#: index holds jobs by ``completed``: ``status = 'completed'`` scanned the table at every
#: poll, CPU the workers under test paid. This counts from indexes (the narrow
#: ``ix_jobs_tenant``, and the partial ``ix_jobs_claim`` and ``ix_jobs_held``, their
#: predicates as written); a no-op drain has no other status. The result's ``done`` is
#: still counted by ``status = 'completed'``, after the drain.
COUNT_COMPLETED = (
    "SELECT (SELECT count(*) FROM jobs)"
    " - (SELECT count(*) FROM jobs WHERE status = 'waiting')"
    " - (SELECT count(*) FROM jobs WHERE status = 'locked' OR status = 'running'"
    " OR status = 'canceling' OR status = 'suspending')"
)
#: Issue 16's goals, each printed beside its row: a PostgreSQL drain at capacity 8 (and
#: more) against the loop's batch-50 drain of the same run; at capacity 1 against the loop
#: that also claims one row; SQLite's drain at capacity 50 (and more) against the SQLite
#: loop's batch-50 drain; SQLite's one-by-one schedule-and-complete, end to end, in jobs/s.
GOAL_PG_RATIO = 0.3
GOAL_PG_ONE_RATIO = 0.8
GOAL_SQLITE_RATIO = 0.2
GOAL_SQLITE_RATE = 4000.0
#: The hand-written loop of Headrace's rows listens and leases as Headrace's workers do.
assert pgloop_rows.CHANNEL == defaults.NOTIFY_CHANNEL, "bench/pgloop_rows.py: channel"
assert pgloop_rows.LEASE_SEC == defaults.LEASE_SEC, "bench/pgloop_rows.py: lease"
#: The event rows the loop writes per job (the claim's, the start+end write's: one row a
#: write since migration 0018); scheduling wrote one more.
ROWS_LOOP_EVENTS = 2


# -- processes -------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads) so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(cmds: list[list[str]], logdir: Path, tag: str) -> list[subprocess.Popen]:
    procs = []
    for i, cmd in enumerate(cmds):
        log = open(logdir / f"{tag}-{i}.log", "w")  # noqa: SIM115  (the child keeps it)
        procs.append(
            subprocess.Popen(
                cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        )
        log.close()
    return procs


def stop(procs: list[subprocess.Popen]) -> None:
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


def run_drain(
    cmd: list[str],
    count: Callable[[], int],
    n: int,
    timeout: float,
    logdir: Path,
    tag: str,
    at_end: Callable[[], dict[str, int]],
) -> tuple[str, float, float, dict[str, int]]:
    """Start ``WORKERS`` copies of ``cmd``, wait until ``count`` reaches N, stop them.

    Returns:
        The outcome (see ``wait_for``), seconds from spawn, the workers' CPU seconds, and
        what ``at_end`` read while they still ran.
    """
    procs = start([cmd] * WORKERS, logdir, tag)
    t0 = time.perf_counter()
    try:
        outcome = wait_for(count, n, timeout, procs)
        wall = time.perf_counter() - t0
        cpu = sum(cpu_seconds(p.pid) for p in procs)
        seen = at_end()
    finally:
        stop(procs)
    return outcome, wall, cpu, seen


def wait_for(count: Callable[[], int], n: int, timeout: float, procs: list) -> str:
    """Poll until N are done: "ok", or why not ("timeout", "stalled", "workers exited")."""
    deadline = time.monotonic() + timeout
    last, changed = -1, time.monotonic()
    while (done := count()) < n:
        now = time.monotonic()
        if done != last:
            last, changed = done, now
        if now > deadline:
            return "timeout"
        if now - changed > STALL_SEC:
            print(f"  stalled at {done}/{n} for {STALL_SEC:.0f} s", file=sys.stderr)
            return "stalled"
        if all(p.poll() is not None for p in procs):
            print("  all workers exited", file=sys.stderr)
            return "workers exited"
        time.sleep(POLL_SEC)
    return "ok"


# -- PostgreSQL helpers ----------------------------------------------------------------


def pg_dsn(db: str) -> str:
    return f"{PG_SERVER}/{db}"


def pg_admin(sql: str) -> None:
    with psycopg.connect(pg_dsn("postgres"), autocommit=True) as conn:
        conn.execute(sql)


def pg_stats(dsn: str) -> dict[str, int]:
    """Commits and row writes of the benchmark database so far (pg_stat_database)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(
            "SELECT xact_commit, tup_inserted, tup_updated FROM pg_stat_database "
            "WHERE datname = current_database()"
        ).fetchone()
    assert row is not None
    return {"commits": row[0], "inserted": row[1], "updated": row[2]}


def per_job(before: dict[str, int] | None, after: dict[str, int] | None, n: int) -> dict:
    if before is None or after is None:
        return {}
    return {f"{k}_per_job": round((after[k] - before[k]) / n, 2) for k in before}


# -- Headrace --------------------------------------------------------------------------


class HeadraceStore:
    """One store under test: a fresh empty one per phase."""

    def __init__(self, kind: str, tmp: Path, pg_db: str) -> None:
        self.kind = kind
        self.tmp = tmp
        self.pg_db = pg_db
        self.serial = 0
        self.url = ""

    def fresh(self) -> str:
        self.serial += 1
        if self.kind == "sqlite":
            for old in self.tmp.glob("hr-*.db*"):
                old.unlink()
            self.url = f"sqlite:///{self.tmp / f'hr-{self.serial}.db'}"
        else:
            self.url = pg_dsn(self.pg_db)
            with Client(store=self.url, run_workers=False) as client, client.store.write() as c:
                c.execute(text("TRUNCATE jobs, job_events, job_logs, workers"))
        return self.url

    @property
    def dsn(self) -> str | None:
        return pg_dsn(self.pg_db) if self.kind == "postgresql" else None


def headrace_enqueue(url: str, n: int) -> float:
    """Seconds to schedule N no-op jobs one by one."""
    with Client(store=url, run_workers=False) as client:
        client.jobs.schedule(jobs_noop.TYPE, {})  # type stored, connections warm
        t0 = time.perf_counter()
        for _ in range(n - 1):
            client.jobs.schedule(jobs_noop.TYPE, {})
        return (time.perf_counter() - t0) * n / (n - 1)


def headrace_enqueue_bulk(url: str, n: int) -> float:
    """Seconds to schedule N no-op jobs in one ``schedule_many`` call."""
    with Client(store=url, run_workers=False) as client:
        client.jobs.schedule_many(jobs_noop.TYPE, [{}])  # type stored, connections warm
        t0 = time.perf_counter()
        client.jobs.schedule_many(jobs_noop.TYPE, [{}] * (n - 1))
        return (time.perf_counter() - t0) * n / (n - 1)


def drain_phase(capacity: int, prefetch: str) -> str:
    """A Headrace drain's phase name: ``drain C=8`` (the default, ``auto``), or
    ``drain C=8+P8`` with a fixed prefetch."""
    return f"drain C={capacity}" + ("" if prefetch == "auto" else f"+P{prefetch}")


def held(prefetch: str) -> int:
    """The jobs a worker holds beyond its capacity with a fixed prefetch; 0 for ``auto``."""
    return 0 if prefetch == "auto" else int(prefetch)


def drain_batch(phase: str) -> tuple[int, int] | None:
    """A drain phase's capacity and prefetch (``drain_phase``), or None for other phases."""
    if not phase.startswith("drain C="):
        return None
    capacity, _, prefetch = phase.removeprefix("drain C=").partition("+P")
    return int(capacity), int(prefetch or 0)


def headrace_drain(
    store: HeadraceStore,
    n: int,
    capacity: int,
    logdir: Path,
    tag: str,
    timeout: float,
    prefetch: str = "auto",
) -> dict[str, Any]:
    url = store.url
    cmd = [
        sys.executable, "-m", "headrace", "worker", "--store", url,
        "--queues", f"{jobs_noop.QUEUE}={capacity}", "--import", "bench.jobs_noop",
        "--prefetch", str(prefetch),
    ]  # fmt: skip
    before = pg_stats(store.dsn) if store.dsn else None
    with Client(store=url, run_workers=False) as client:

        def count() -> int:
            # The rows loop's probe (``rows_drain``), not a listing page: the page's
            # newest-first read costs the database ~6x more at 60 k rows, CPU the
            # workers under test would pay for.
            with client.store.read() as conn:
                return int(conn.execute(text(COUNT_COMPLETED)).scalar_one())

        def statuses() -> dict[str, int]:
            with client.store.read() as conn:
                rows = conn.execute(text("SELECT status, count(*) FROM jobs GROUP BY status"))
                return dict(rows.all())

        outcome, wall, cpu, by_status = run_drain(cmd, count, n, timeout, logdir, tag, statuses)
        with client.store.read() as conn:
            done, first, last = conn.execute(
                text(
                    "SELECT count(*), min(started_at_ms), max(finished_at_ms) FROM jobs "
                    "WHERE status = 'completed'"
                )
            ).one()
            events = conn.execute(text("SELECT count(*) FROM job_events")).scalar_one()
    after = pg_stats(store.dsn) if store.dsn else None
    return jobs_drain_result(
        outcome, n, done, (first, last), wall, cpu, events, by_status, (before, after)
    )


def jobs_drain_result(
    outcome: str,
    n: int,
    done: int,
    span_ms: tuple[int | None, int | None],
    wall: float,
    cpu: float,
    events: int,
    by_status: dict[str, int],
    stats: tuple[dict[str, int] | None, dict[str, int] | None],
) -> dict[str, Any]:
    """A drain's result on Headrace's tables (timed from ``started_at_ms`` to
    ``finished_at_ms``), for Headrace's workers and the rows loop alike."""
    first, last = span_ms
    span = (last - first) / 1000 if done and first is not None and last is not None else 0.0
    return {
        "ok": outcome == "ok" and done == n,
        "outcome": outcome,
        "statuses_at_end": by_status,
        "completed": done,
        "span_s": span,
        "rate": done / span if span > 0 else None,
        "wall_from_spawn_s": wall,
        "worker_cpu_s": cpu,
        "worker_cpu_us_per_job": 1e6 * cpu / max(done, 1),
        "events_per_job": events / max(done, 1),
        **per_job(*stats, max(done, 1)),
    }


# -- baseline --------------------------------------------------------------------------


def baseline_enqueue(dsn: str, n: int) -> float:
    pgloop.create(dsn)
    t0 = time.perf_counter()
    pgloop.enqueue(dsn, n)
    return time.perf_counter() - t0


def baseline_enqueue_bulk(dsn: str, n: int) -> float:
    """Seconds to insert N jobs with one pipelined ``executemany`` in one transaction."""
    pgloop.create(dsn)
    with psycopg.connect(dsn) as conn:
        t0 = time.perf_counter()
        with conn.cursor() as cur:
            cur.executemany(pgloop.INSERT, [("noop", Jsonb({"i": i})) for i in range(n)])
        conn.commit()
        return time.perf_counter() - t0


def baseline_drain(
    dsn: str, n: int, batch: int, logdir: Path, tag: str, timeout: float
) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.pgloop", "worker", "--dsn", dsn]
    cmd += ["--batch", str(batch)]
    before = pg_stats(dsn)
    with psycopg.connect(dsn, autocommit=True) as conn:

        def count() -> int:
            row = conn.execute(pgloop.COUNT_DONE).fetchone()
            return row[0] if row else 0

        outcome, wall, cpu, _ = run_drain(cmd, count, n, timeout, logdir, tag, dict)
        done = count()
        first, last = conn.execute(pgloop.SPAN).fetchone() or (None, None)
    after = pg_stats(dsn)
    span = float(last - first) if done else 0.0
    return {
        "ok": outcome == "ok" and done == n,
        "outcome": outcome,
        "completed": done,
        "span_s": span,
        "rate": done / span if span > 0 else None,
        "wall_from_spawn_s": wall,
        "worker_cpu_s": cpu,
        "worker_cpu_us_per_job": 1e6 * cpu / max(done, 1),
        **per_job(before, after, max(done, 1)),
    }


def sqlite_baseline_enqueue(path: str, n: int, *, bulk: bool) -> float:
    """Seconds to insert N jobs into the SQLite loop's table, one by one or in bulk."""
    sqliteloop.create(path)
    t0 = time.perf_counter()
    (sqliteloop.enqueue_bulk if bulk else sqliteloop.enqueue)(path, n)
    return time.perf_counter() - t0


def sqlite_baseline_drain(
    path: str, n: int, batch: int, logdir: Path, tag: str, timeout: float
) -> dict[str, Any]:
    """``bench/sqliteloop.py``'s 2 processes drain the N jobs queued in its table."""
    cmd = [sys.executable, "-m", "bench.sqliteloop", "worker", "--path", path]
    cmd += ["--batch", str(batch)]
    conn = sqliteloop.connect(path)
    try:

        def count() -> int:
            row = conn.execute(sqliteloop.COUNT_DONE).fetchone()
            return row[0] if row else 0

        outcome, wall, cpu, _ = run_drain(cmd, count, n, timeout, logdir, tag, dict)
        done = count()
        first, last = conn.execute(sqliteloop.SPAN).fetchone() or (None, None)
    finally:
        conn.close()
    span = float(last - first) if done and first is not None and last is not None else 0.0
    return {
        "ok": outcome == "ok" and done == n,
        "outcome": outcome,
        "completed": done,
        "span_s": span,
        "rate": done / span if span > 0 else None,
        "wall_from_spawn_s": wall,
        "worker_cpu_s": cpu,
        "worker_cpu_us_per_job": 1e6 * cpu / max(done, 1),
    }


def rows_drain(
    store: HeadraceStore, n: int, batch: int, logdir: Path, tag: str, timeout: float
) -> dict[str, Any]:
    """``bench/pgloop_rows.py`` drains the N jobs ``schedule_many`` put in Headrace's tables.

    Timed as ``headrace_drain`` (first ``started_at_ms`` -> last ``finished_at_ms``).
    ``events_per_job`` counts every event, the scheduling one included, as Headrace's
    rows do; ``loop_events_per_job`` those the loop wrote, which must be 2 per job (one a
    write, as Headrace stores them since migration 0018), each job's events ``waiting ->
    locked``, ``locked -> running -> completed`` in order (asserted).
    """
    dsn = store.dsn
    assert dsn is not None
    cmd = [
        sys.executable, "-m", "bench.pgloop_rows", "worker", "--dsn", dsn,
        "--batch", str(batch), "--queue", jobs_noop.QUEUE, "--type", jobs_noop.TYPE,
    ]  # fmt: skip
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM job_events").fetchone()
        events_before = row[0] if row else 0
        before = pg_stats(dsn)

        def count() -> int:
            row = conn.execute(COUNT_COMPLETED).fetchone()
            return row[0] if row else 0

        def statuses() -> dict[str, int]:
            return dict(
                conn.execute("SELECT status, count(*) FROM jobs GROUP BY status").fetchall()
            )

        outcome, wall, cpu, by_status = run_drain(cmd, count, n, timeout, logdir, tag, statuses)
        after = pg_stats(dsn)
        done, first, last = conn.execute(
            "SELECT count(*), min(started_at_ms), max(finished_at_ms) FROM jobs "
            "WHERE status = 'completed'"
        ).fetchone() or (0, None, None)
        row = conn.execute("SELECT count(*) FROM job_events").fetchone()
        events = row[0] if row else 0
        # Completed jobs whose events are not exactly Headrace's, in order.
        row = conn.execute(
            "SELECT count(*) FROM jobs j WHERE j.status = 'completed' AND "
            "(SELECT array_agg(e.from_status || '>' || coalesce(e.via || '>', '') || "
            " e.to_status ORDER BY e.event_id) "
            " FROM job_events e WHERE e.job_id = j.job_id AND e.from_status IS NOT NULL) "
            "IS DISTINCT FROM ARRAY['waiting>locked', 'locked>running>completed']"
        ).fetchone()
        misshapen = row[0] if row else 0
    loop_events = events - events_before
    assert misshapen == 0, f"pg-loop-rows: {misshapen} completed job(s) without the 2 events"
    assert loop_events == ROWS_LOOP_EVENTS * done, (
        f"pg-loop-rows: {loop_events} events for {done} completed jobs"
    )
    result = jobs_drain_result(
        outcome, n, done, (first, last), wall, cpu, events, by_status, (before, after)
    )
    result["loop_events_per_job"] = loop_events / max(done, 1)
    return result


# -- the run ---------------------------------------------------------------------------


def one_repeat(  # noqa: C901 - one repeat's phases, in the order they share the machine
    rep: int, n: int, n1: int, capacities: list[int], stores: dict[str, HeadraceStore],
    pg_url: str, logdir: Path, timeout: float, prefetches: tuple[str, ...] = ("auto",),
) -> list[dict[str, Any]]:  # fmt: skip
    rows: list[dict[str, Any]] = []

    def note(system: str, store: str, phase: str, rate: float | None, **extra: Any) -> None:
        row = {**extra, "repeat": rep, "system": system, "store": store, "phase": phase}
        row["rate"] = rate
        rows.append(row)
        shown = f"{rate:,.0f}" if rate else "-"
        print(f"  [{rep}] {system:<18} {store:<10} {phase:<16} {shown:>9} jobs/s", flush=True)

    sizes = {c: (n if c >= 8 else n1) for c in capacities}
    # baseline: enqueue 1-by-1 and in bulk (timed), drain the bulk-enqueued batch 50; and
    # batch 1 next to capacity 1
    secs = baseline_enqueue(pg_url, n)
    note("pg-loop", "postgresql", "enqueue 1-by-1", n / secs)
    # and, beside each capacity between 1 and 50, the minimal loop claiming that many a
    # round: what any worker holding at most C jobs at a time could reach on this machine
    mids = sorted(
        {(c + held(p), n) for c in capacities for p in prefetches if 1 < c + held(p) < 50}
    )
    for batch, size in ((50, n), *mids, *([(1, n1)] if 1 in capacities else [])):
        secs = baseline_enqueue_bulk(pg_url, size)
        if batch == 50:
            note("pg-loop", "postgresql", "enqueue bulk", size / secs)
        res = baseline_drain(pg_url, size, batch, logdir, f"pgloop-b{batch}-r{rep}", timeout)
        note("pg-loop", "postgresql", f"drain batch={batch}", res.pop("rate"), **res)
    if "sqlite" in stores:
        # the SQLite loop, in a file of its own beside Headrace's
        path = str(stores["sqlite"].tmp / "sqlite-loop.db")
        secs = sqlite_baseline_enqueue(path, n, bulk=False)
        note("sqlite-loop", "sqlite", "enqueue 1-by-1", n / secs)
        for batch, size in ((50, n), *([(1, n1)] if 1 in capacities else [])):
            secs = sqlite_baseline_enqueue(path, size, bulk=True)
            if batch == 50:
                note("sqlite-loop", "sqlite", "enqueue bulk", size / secs)
            res = sqlite_baseline_drain(
                path, size, batch, logdir, f"sqliteloop-b{batch}-r{rep}", timeout
            )
            note("sqlite-loop", "sqlite", f"drain batch={batch}", res.pop("rate"), **res)
    for cap in capacities:
        size = sizes[cap]
        for name, store in stores.items():
            if cap == max(capacities):
                secs = headrace_enqueue(store.fresh(), size)
                note("headrace", name, "enqueue 1-by-1", size / secs)
            for fetch in prefetches:
                # each drain takes a batch enqueued in bulk on an empty store; the first's
                # enqueue is the timed one
                secs = headrace_enqueue_bulk(store.fresh(), size)
                if cap == max(capacities) and fetch == prefetches[0]:
                    note("headrace", name, "enqueue bulk", size / secs)
                tag = f"hr-{name}-c{cap}-p{fetch}-r{rep}"
                res = headrace_drain(store, size, cap, logdir, tag, timeout, fetch)
                note("headrace", name, drain_phase(cap, fetch), res.pop("rate"), **res)
            if name == "postgresql" and cap == max(capacities):
                # the same rows written by hand, on the same tables, right after
                headrace_enqueue_bulk(store.fresh(), size)
                res = rows_drain(store, size, 50, logdir, f"pgrows-b50-r{rep}", timeout)
                note("pg-loop-rows", "postgresql", "drain batch=50", res.pop("rate"), **res)
            if name == "postgresql" and cap >= 8 and cap != 50:
                # the same rows by hand, claiming as many per round as Headrace's capacity
                headrace_enqueue_bulk(store.fresh(), size)
                tag = f"pgrows-b{cap}-r{rep}"
                res = rows_drain(store, size, cap, logdir, tag, timeout)
                note("pg-loop-rows", "postgresql", f"drain batch={cap}", res.pop("rate"), **res)
    return rows


def end_to_end(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Derived rows: N / (enqueue time + drain span), per repeat, for each largest drain.

    ``enqueue+drain`` with the 1-by-1 enqueue, ``bulk enqueue+drain`` with the bulk one.
    """
    out = []
    for r in rows:
        if not r["phase"].startswith("drain") or r["phase"] in ("drain batch=1", "drain C=1"):
            continue
        for enqueue, phase in (("enqueue 1-by-1", "enqueue+drain"),
                               ("enqueue bulk", "bulk enqueue+drain")):  # fmt: skip
            enq = next(
                (
                    e
                    for e in rows
                    if e["repeat"] == r["repeat"]
                    and e["system"] == r["system"]
                    and e["store"] == r["store"]
                    and e["phase"] == enqueue
                ),
                None,
            )
            if enq and enq["rate"] and r["rate"]:
                rate = 1 / (1 / enq["rate"] + 1 / r["rate"])
                out.append({**{k: r[k] for k in ("repeat", "system", "store")},
                            "phase": phase, "rate": rate})  # fmt: skip
    return out


def summarize(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = rows + end_to_end(rows)
    keys: list[tuple[str, str, str]] = []
    for r in rows:
        k = (r["system"], r["store"], r["phase"])
        if k not in keys:
            keys.append(k)
    med: dict[tuple[str, str, str], float | None] = {}
    samples: dict[tuple[str, str, str], list[float]] = {}
    for k in keys:
        xs = [r["rate"] for r in rows if (r["system"], r["store"], r["phase"]) == k and r["rate"]]
        samples[k] = xs
        med[k] = statistics.median(xs) if xs else None
    base = {
        phase: med.get(("pg-loop", "postgresql", phase))
        for phase in ("enqueue 1-by-1", "enqueue bulk", "enqueue+drain", "bulk enqueue+drain")
    }
    base_drain = med.get(("pg-loop", "postgresql", "drain batch=50"))
    rows_drain_rate = med.get(("pg-loop-rows", "postgresql", "drain batch=50"))
    sqlite_base = {
        phase: med.get(("sqlite-loop", "sqlite", phase))
        for phase in ("enqueue 1-by-1", "enqueue bulk", "enqueue+drain", "bulk enqueue+drain")
    }
    sqlite_drain = med.get(("sqlite-loop", "sqlite", "drain batch=50"))
    one_drain = med.get(("pg-loop", "postgresql", "drain batch=1"))
    table = []
    for k in keys:
        base_rate = base.get(k[2], base_drain)
        rate = med[k]
        extra: dict[str, Any] = {}
        one = k[2] in ("drain C=1", "drain C=1+P0")
        if k[0] == "headrace" and k[1] == "postgresql" and one and one_drain:
            # capacity 1 against the loop that also claims one row per round
            extra["ratio_to_pg_loop_batch_1"] = round(rate / one_drain, 3) if rate else None
        # Only beside drains that claim in batches too (capacity >= 8): a capacity-1 drain
        # claims one row per round, which the rows loop never does.
        batch = drain_batch(k[2])
        if k[0] == "headrace" and k[1] == "postgresql" and batch and batch[0] >= 8:
            extra["ratio_to_rows_loop"] = (
                round(rate / rows_drain_rate, 3) if rate and rows_drain_rate else None
            )
            same = med.get(("pg-loop-rows", "postgresql", k[2].replace("C=", "batch=")))
            if same:
                extra["ratio_to_rows_loop_same_batch"] = round(rate / same, 3) if rate else None
            # the minimal loop claiming as many a round as this worker may hold
            floor = med.get(("pg-loop", "postgresql", f"drain batch={sum(batch)}"))
            if floor and sum(batch) != 50:
                extra["ratio_to_pg_loop_same_batch"] = round(rate / floor, 3) if rate else None
        if k[0] == "headrace" and k[1] == "sqlite":
            # to the SQLite loop of the same run: same phase, every drain to its batch-50 drain
            to = sqlite_base.get(k[2], sqlite_drain)
            extra["ratio_to_sqlite_loop"] = round(rate / to, 3) if rate and to else None
        if k[0] == "sqlite-loop":
            to = sqlite_base.get(k[2], sqlite_drain)
            extra["ratio_to_sqlite_loop"] = round(rate / to, 3) if rate and to else None
        table.append(
            {
                "system": k[0],
                "store": k[1],
                "phase": k[2],
                "jobs_per_s": round(rate, 1) if rate else None,
                "ratio_to_pg_loop": round(rate / base_rate, 3) if rate and base_rate else None,
                **extra,
                "samples": [round(x, 1) for x in samples[k]],
                "drains_not_ok": sum(
                    1
                    for r in rows
                    if (r["system"], r["store"], r["phase"]) == k and r.get("ok") is False
                ),
            }
        )
    return table


def goals(table: list[dict[str, Any]]) -> list[str]:
    """Issue 16's verdicts: each goal's row, its measure and its goal (see ``GOAL_*``)."""
    out = []

    def verdict(what: str, value: float, goal: float, unit: str = "") -> None:
        fmt = f"{value:,.0f}{unit}" if unit else f"{value:.2f}"
        want = f"{goal:,.0f}{unit}" if unit else f"{goal}"
        out.append(f"{what} {fmt} (goal >= {want}): {'met' if value >= goal else 'NOT met'}")

    for row in table:
        if row["system"] != "headrace":
            continue
        phase, ratio = row["phase"], row["ratio_to_pg_loop"]
        batch = drain_batch(phase)
        capacity = batch[0] if batch else None
        if row["store"] == "postgresql" and capacity is not None and ratio is not None:
            if capacity == 1:
                one = row.get("ratio_to_pg_loop_batch_1")
                if one is not None:
                    verdict(f"PostgreSQL {phase} / pg-loop batch=1:", one, GOAL_PG_ONE_RATIO)
            elif capacity >= 8:
                verdict(f"PostgreSQL {phase} / pg-loop batch=50:", ratio, GOAL_PG_RATIO)
        to_sqlite = row.get("ratio_to_sqlite_loop")
        if row["store"] == "sqlite" and capacity is not None and capacity >= 50 and to_sqlite:
            verdict(f"SQLite {phase} / sqlite-loop batch=50:", to_sqlite, GOAL_SQLITE_RATIO)
        if row["store"] == "sqlite" and phase == "enqueue+drain" and row["jobs_per_s"]:
            verdict(
                "SQLite one-by-one enqueue+drain:", row["jobs_per_s"], GOAL_SQLITE_RATE, " jobs/s"
            )
    return out


def print_table(table: list[dict[str, Any]]) -> None:
    """One line per row: ``ratio`` is to pg-loop, ``/rows`` to pg-loop-rows' batch-50
    drain, ``/rows=b`` to its drain at the batch of the row's capacity, ``/loop=b`` to
    pg-loop's drain at that batch (the minimal loop claiming at most C a round),
    ``/sqlite`` to the SQLite loop (same phase; drains to its batch-50 drain)."""
    print(
        f"\n{'system':<12} {'store':<11} {'phase':<18} {'jobs/s':>9} {'ratio':>7} {'/rows':>7}"
        f" {'/rows=b':>7} {'/loop=b':>7} {'/sqlite':>7}  samples"
    )
    for r in table:
        rate = f"{r['jobs_per_s']:,.0f}" if r["jobs_per_s"] else "-"
        ratio = f"{r['ratio_to_pg_loop']:.3f}" if r["ratio_to_pg_loop"] is not None else "-"
        to_rows = r.get("ratio_to_rows_loop")
        rows_ratio = f"{to_rows:.3f}" if to_rows is not None else "-"
        same, to_sq = r.get("ratio_to_rows_loop_same_batch"), r.get("ratio_to_sqlite_loop")
        same_ratio = f"{same:.3f}" if same is not None else "-"
        to_floor = r.get("ratio_to_pg_loop_same_batch")
        floor_ratio = f"{to_floor:.3f}" if to_floor is not None else "-"
        sq_ratio = f"{to_sq:.3f}" if to_sq is not None else "-"
        spread = ", ".join(f"{x:,.0f}" for x in r["samples"])
        if r.get("drains_not_ok"):
            spread += f"  ({r['drains_not_ok']} drain(s) stalled/incomplete: see runs)"
        print(
            f"{r['system']:<12} {r['store']:<11} {r['phase']:<18} {rate:>9} {ratio:>7} "
            f"{rows_ratio:>7} {same_ratio:>7} {floor_ratio:>7} {sq_ratio:>7}  {spread}"
        )


def git_state() -> dict[str, Any]:
    def git(*args: str) -> str:
        run = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return run.stdout.strip()

    return {"head": git("rev-parse", "--short", "HEAD"), "dirty": git("status", "--short", "src")}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--n", type=int, help="jobs per enqueue and drain at capacity >= 8 (20000)")
    p.add_argument("--n1", type=int, help="jobs per capacity-1 drain (default min(n, 5000))")
    p.add_argument("--repeat", type=int, help="repeats, the table shows medians (default 3)")
    p.add_argument("--quick", action="store_true", help="defaults n=2000, one repeat")
    p.add_argument("--capacities", default="50,1", help="queue capacities per worker")
    p.add_argument("--stores", default="sqlite,postgresql")
    p.add_argument(
        "--prefetch",
        default="auto",
        help="worker prefetches (auto or a number), each capacity drained with each",
    )
    p.add_argument("--timeout", type=float, default=600, help="seconds allowed per drain")
    p.add_argument("--out", help="JSON file (default bench/results/queue-<date>.json)")
    p.add_argument("--report", help="re-make the table of an earlier JSON file and exit")
    a = p.parse_args()
    if a.report:
        saved = json.loads(Path(a.report).read_text())
        saved["table"] = summarize(saved["runs"])
        saved["goals"] = goals(saved["table"])
        print_table(saved["table"])
        print("\n".join(saved["goals"]))
        Path(a.report).write_text(json.dumps(saved, indent=1))
        return
    a.n = a.n or (2000 if a.quick else 20000)
    a.repeat = a.repeat or (1 if a.quick else 3)
    n1 = a.n1 or min(a.n, 5000)
    capacities = sorted({int(c) for c in a.capacities.split(",")}, reverse=True)
    names = [s.strip() for s in a.stores.split(",") if s.strip()]
    prefetches = tuple(dict.fromkeys(p.strip() for p in a.prefetch.split(",") if p.strip()))
    for p in prefetches:
        if p != "auto" and not p.isdigit():
            raise SystemExit(f"--prefetch: 'auto' or a number >= 0, got {p!r}")

    pg_db = f"hr_bench_{os.getpid()}"
    tmp = Path(tempfile.mkdtemp(prefix="hr-bench-"))
    logdir = tmp / "logs"
    logdir.mkdir()
    pg_admin(f"CREATE DATABASE {pg_db}")
    started = time.time()
    load0 = os.getloadavg()[0]
    rows: list[dict[str, Any]] = []
    try:
        stores = {s: HeadraceStore(s, tmp, pg_db) for s in names}
        print(f"n={a.n} n1={n1} repeat={a.repeat} capacities={capacities} logs in {logdir}")
        for rep in range(1, a.repeat + 1):
            rows += one_repeat(
                rep, a.n, n1, capacities, stores, pg_dsn(pg_db), logdir, a.timeout, prefetches
            )
    finally:
        pg_admin(f"DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)")
        for f in sorted(tmp.rglob("*"), reverse=True):
            if f.suffix != ".log" and f.is_file():
                f.unlink()
    table = summarize(rows)
    print_table(table)
    verdicts = goals(table)
    for line in verdicts:
        print(line)
    result = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "git": git_state(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "load1_start_end": [load0, os.getloadavg()[0]],
        "args": {
            "n": a.n,
            "n1": n1,
            "repeat": a.repeat,
            "capacities": capacities,
            "stores": names,
            "prefetch": list(prefetches),
            "workers": WORKERS,
        },
        "duration_s": round(time.time() - started, 1),
        "table": table,
        "goals": verdicts,
        "runs": rows,
        "notes": [
            "enqueue 1-by-1 = client.jobs.schedule, one call per job; enqueue bulk = one "
            "client.jobs.schedule_many call; drains take the bulk-enqueued jobs",
            "drain rate = N / (min(started_at_ms) -> max(finished_at_ms)); pg-loop uses "
            "min(locked_at) -> max(finished_at)",
            "every drain ratio is to pg-loop drain batch=50 of the same run (median)",
            "pg-loop-rows (bench/pgloop_rows.py) writes Headrace's rows (jobs, 2 event rows "
            "per job) by hand on Headrace's tables, timed like Headrace; ratio_to_rows_loop of "
            "the Headrace PostgreSQL drains is to its median",
        ],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = f"queue-{dt.date.today().isoformat()}{'-quick' if a.quick else ''}"
    out = Path(a.out) if a.out else RESULTS / f"{stem}.json"
    out.write_text(json.dumps(result, indent=1))
    print(f"\nwritten {out}")


if __name__ == "__main__":
    main()
