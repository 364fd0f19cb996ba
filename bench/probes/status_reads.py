"""What the status reads cost at 1M jobs of one tenant, with and without ``ix_jobs_tenant_status``.

Every status change on the worker's hot path (``waiting -> locked`` at a claim, ``locked
-> completed`` at the end) moves the job's entry in ``ix_jobs_tenant_status``; the
dashboard's and listings' status reads are what it serves. This probe builds one store
of ``--n`` jobs (mostly completed; thousands failed, canceled, waiting; hundreds held),
then times each status read through the repositories (median of ``--repeat``) and
prints each read's plan (SQLite ``EXPLAIN QUERY PLAN``, PostgreSQL ``EXPLAIN``).

    # build once per store (SQLite file or PostgreSQL database, created if missing)
    python bench/probes/status_reads.py build --store sqlite:////tmp/sr/q.db
    # time the reads of the tree on PYTHONPATH, after optional DDL (';'-separated)
    python bench/probes/status_reads.py time --store ... --label today
    python bench/probes/status_reads.py time --store ... --label dropped \
        --ddl "DROP INDEX IF EXISTS ix_jobs_tenant_status"

Run timings under ``flock /work/wt/bench.lock``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import event, text

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from headrace import defaults
from headrace.model.status import Status
from headrace.store.database import Store
from headrace.store.jobs import JobRepository
from headrace.store.overview import JobFilter, OverviewRepository
from headrace.store.workers import WorkerRepository

#: Jobs per status besides ``completed`` (the rest), of 1M; scaled to ``--n``.
MIX = {
    "failed": 5000,
    "canceled": 3000,
    "timeout": 500,
    "waiting": 5000,
    "retrying": 100,
    "suspended": 50,
    "locked": 200,
    "running": 300,
}
BATCH = 50_000


def _admin_pg(url: str) -> tuple[sqlalchemy.Engine, str]:
    made = sqlalchemy.make_url(url)
    admin = made.set(database="postgres", drivername="postgresql+psycopg")
    engine = sqlalchemy.create_engine(
        admin, isolation_level="AUTOCOMMIT", poolclass=sqlalchemy.NullPool
    )
    return engine, str(made.database)


def build(url: str, n: int) -> None:
    """A fresh store of ``n`` jobs of the default tenant with ``MIX``'s statuses."""
    from bench import jobs_noop

    from headrace import Client

    if url.startswith("postgresql"):
        engine, name = _admin_pg(url)
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    else:
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        for p in path.parent.glob(path.name + "*"):
            p.unlink()
    t0 = time.perf_counter()
    with Client(store=url, run_workers=False) as client:
        left = n
        while left:
            k = min(BATCH, left)
            client.jobs.schedule_many(jobs_noop.TYPE, [{}] * k)
            left -= k
        print(f"scheduled {n} in {time.perf_counter() - t0:.1f}s", flush=True)
    store = Store(url)
    scale = n / 1_000_000
    now = int(time.time() * 1000)
    with store.engine.begin() as conn:
        pick = "SELECT job_id FROM jobs WHERE status = 'waiting' ORDER BY job_id LIMIT {k}"
        for status, count in MIX.items():
            if status == "waiting":
                continue
            k = max(1, int(count * scale))
            extra = ""
            if status in ("locked", "running"):
                extra = (
                    f", locked_by = job_id, lease_expires_ms = {now + 600_000},"
                    f" started_at_ms = scheduled_at_ms + 5"
                )
            elif status in ("failed", "canceled", "timeout"):
                extra = (
                    ", started_at_ms = scheduled_at_ms + 5, finished_at_ms = scheduled_at_ms + 9"
                )
            conn.execute(
                text(
                    f"UPDATE jobs SET status = '{status}'{extra}"
                    f" WHERE job_id IN ({pick.format(k=k)})"
                )
            )
        keep = max(1, int(MIX["waiting"] * scale))
        done = conn.execute(text("SELECT count(*) FROM jobs WHERE status = 'waiting'")).scalar_one()
        conn.execute(
            text(
                "UPDATE jobs SET status = 'completed', started_at_ms = scheduled_at_ms + 5,"
                " finished_at_ms = scheduled_at_ms + 9"
                f" WHERE job_id IN ({pick.format(k=done - keep)})"
            )
        )
        # Something for ``stuck`` to find: expired leases, and retry storms.
        conn.execute(
            text(
                f"UPDATE jobs SET lease_expires_ms = {now - 1000} WHERE job_id IN"
                " (SELECT job_id FROM jobs WHERE status = 'running' ORDER BY job_id LIMIT 20)"
            )
        )
        conn.execute(
            text(
                "UPDATE jobs SET retries = 7 WHERE job_id IN"
                " (SELECT job_id FROM jobs WHERE status = 'waiting' ORDER BY job_id LIMIT 30)"
            )
        )
    with store.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT status, count(*) FROM jobs GROUP BY status")).all()
    print("statuses", dict(sorted((str(s), int(c)) for s, c in rows)), flush=True)
    store.close()


def reads(store: Store) -> dict[str, Callable[[], Any]]:
    """Every status read the dashboard, listings and queue views make, by name."""
    tenant = defaults.TENANT_ID
    now = int(time.time() * 1000)
    over, jobs, workers = OverviewRepository(store), JobRepository(store), WorkerRepository(store)
    held = ["locked", "running", "canceling", "suspending"]

    def listing(statuses: list[Status]) -> Callable[[], Any]:
        return lambda: jobs.list(
            tenant, statuses=statuses, order="scheduled_at", descending=True, page=1, limit=50
        )

    return {
        "status_counts": lambda: over.status_counts(tenant),
        "oldest_waiting": lambda: over.oldest_waiting(tenant),
        "stuck": lambda: over.stuck(tenant, now, 5, 50),
        "finished_per_minute": lambda: over.finished_per_minute(tenant, now - 3_600_000),
        "list[failed]": listing([Status.FAILED]),
        "list[waiting]": listing([Status.WAITING]),
        "list[running]": listing([Status.RUNNING]),
        "list[completed]": listing([Status.COMPLETED]),
        "search[failed,canceled]": lambda: over.search(
            tenant,
            JobFilter(statuses=(Status.FAILED, Status.CANCELED)),
            order="scheduled_at",
            descending=True,
            page=1,
            limit=50,
        ),
        "count_jobs(tenant)": lambda: workers.count_jobs(tenant),
        "count_jobs(None,held)": lambda: workers.count_jobs(None, held),
        "oldest_due": lambda: workers.oldest_due(tenant, now),
        "running_on": lambda: workers.running_on(tenant, "bench"),
    }


def _explain(store: Store, statements: list[tuple[str, Any]]) -> list[str]:
    plans = []
    with store.engine.connect() as conn:
        for sql, params in statements:
            if store.is_postgresql:
                prefix = "EXPLAIN "
                rows = conn.exec_driver_sql(prefix + sql, params).all()
                plans.append("\n".join(str(r[0]) for r in rows))
            else:
                rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all()
                plans.append("\n".join(str(r[-1]) for r in rows))
    return plans


def time_reads(url: str, label: str, ddl: str, repeat: int, only: str | None) -> None:
    """Apply ``ddl``, then time and explain each read; one JSON line per read."""
    store = Store(url)
    if ddl:
        with store.engine.begin() as conn:
            for stmt in ddl.split(";"):
                if stmt.strip():
                    conn.execute(text(stmt))
            conn.execute(text("ANALYZE"))
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_a: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, params))

    for name, read in reads(store).items():
        if only and only not in name:
            continue
        captured.clear()
        event.listen(store.engine, "before_cursor_execute", capture)
        read()  # warm, and the statements to explain
        event.remove(store.engine, "before_cursor_execute", capture)
        statements = list(captured)
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            read()
            times.append((time.perf_counter() - t0) * 1000)
        plans = _explain(store, statements)
        each = []  # the median of each statement on its own, as the driver runs it
        with store.engine.connect() as conn:
            for sql, params in statements:
                spent = []
                for _ in range(repeat):
                    t0 = time.perf_counter()
                    conn.exec_driver_sql(sql, params).all()
                    spent.append((time.perf_counter() - t0) * 1000)
                each.append(round(statistics.median(spent), 3))
        print(
            json.dumps(
                {
                    "label": label,
                    "store": "pg" if store.is_postgresql else "sqlite",
                    "read": name,
                    "median_ms": round(statistics.median(times), 3),
                    "ms": [round(t, 3) for t in times],
                    "statement_ms": each,
                    "plans": plans,
                }
            ),
            flush=True,
        )
    store.close()


def main() -> None:
    """``build`` or ``time`` (see the module's docstring)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["build", "time", "drop"])
    parser.add_argument("--store", required=True)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--label", default="")
    parser.add_argument("--ddl", default="")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only")
    args = parser.parse_args()
    if args.what == "build":
        build(args.store, args.n)
    elif args.what == "drop":
        engine, name = _admin_pg(args.store)
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    else:
        time_reads(args.store, args.label, args.ddl, args.repeat, args.only)


if __name__ == "__main__":
    main()
