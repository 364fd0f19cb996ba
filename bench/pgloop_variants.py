"""What each change of Headrace's data model buys: ``pgloop_rows`` on variants of the schema.

    python bench/pgloop_variants.py [--n 10000] [--batch 8] [--variants a,b3,...] [--repeat 1]

For each variant a fresh database is migrated by Headrace (a template, made once), the
variant's DDL applied (``pgloop_rows.VARIANT_DDL``), N no-op jobs scheduled with
``schedule_many``, and two ``pgloop_rows`` workers with ``--variant`` drain them at
``--batch``. Printed: jobs/s (spawn to the last completion), the CPU of every PostgreSQL
process per job (from ``/proc``: backends, WAL writer, checkpointer), the workers' CPU per
job, and WAL bytes per job. Variants:

- ``a``: today's model (seed 004's ``jobs`` with its indexes, three events per job);
- ``b2``/``b3``/``b4``: the counts' and listings' indexes on ``jobs`` dropped:
  ``ix_jobs_tenant`` / it and ``ix_jobs_tenant_rest`` / those and
  ``ix_jobs_tenant_scheduled`` too (before migration 0021 these variants dropped the
  full status index and the type and project ones, gone since 0016);
- ``c1``: ``job_events`` with one index, its primary key ``(job_id, event_id)``;
- ``c2``: two event rows per job instead of three (what an event row costs);
- ``e``: ``jobs`` with ``fillfactor = 70`` (room for HOT updates);
- ``d``: a narrow live-state table the claim updates; the wide row changes once, at the end;
- ``b2c``, ``bc``, ``bcd``: combinations;
- ``g``: today's model, the loop's statements planned once (generic plans, as Headrace's);
- ``hr``: Headrace's own worker (``headrace worker``, capacity = ``--batch``) on today's model;
- ``ga``, ``hra``: ``a`` and ``hr`` with ``synchronous_commit = off`` (commits do not wait
  for their WAL flush).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

_HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = Path(_HERE).parent
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from bench import jobs_noop, pgloop_rows  # noqa: E402

from headrace import Client  # noqa: E402

PG_SERVER = os.environ.get("HR_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
TEMPLATE = "hr_variants_tmpl"
DB = "hr_variants"
WORKERS = 2


def admin(sql: str) -> None:
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def postgres_cpu() -> float:
    """CPU seconds of every process the ``postgres`` user runs (the server's)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if d.stat().st_uid != pg_uid():
                continue
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def pg_uid() -> int:
    import pwd

    return pwd.getpwnam("postgres").pw_uid


def proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def make_template() -> None:
    admin(f"DROP DATABASE IF EXISTS {TEMPLATE}")
    admin(f"CREATE DATABASE {TEMPLATE}")
    with Client(store=f"{PG_SERVER}/{TEMPLATE}", run_workers=False) as client:
        client.jobs.schedule_many(jobs_noop.TYPE, [{}])  # the type's rows
        with client.store.write() as c:
            from sqlalchemy import text

            c.execute(text("TRUNCATE jobs, job_events"))


def run(variant: str, n: int, batch: int, workers: int, analyze: bool = True) -> dict[str, float]:
    admin(f"DROP DATABASE IF EXISTS {DB}")
    admin(f"CREATE DATABASE {DB} TEMPLATE {TEMPLATE}")
    dsn = f"{PG_SERVER}/{DB}"
    if variant in ("ga", "hra"):
        admin(f"ALTER DATABASE {DB} SET synchronous_commit = off")
    ddl = pgloop_rows.VARIANT_DDL[variant]
    with psycopg.connect(dsn, autocommit=True) as conn:
        for stmt in filter(None, (s.strip() for s in ddl.split(";"))):
            conn.execute(stmt)
    with Client(store=dsn, run_workers=False) as client:
        client.jobs.schedule_many(jobs_noop.TYPE, [{}] * n)
    with psycopg.connect(dsn, autocommit=True) as conn:
        if variant in ("d", "bcd"):
            conn.execute(pgloop_rows.LIVE_FILL)
        if analyze:
            conn.execute("VACUUM ANALYZE")
        # What is left, through the partial indexes (cheap, unlike a count of the done).
        table = "job_live" if variant in ("d", "bcd") else "jobs"
        left_sql = (
            f"SELECT count(*) FROM {table} WHERE status = 'waiting' "
            "UNION ALL SELECT count(*) FROM jobs WHERE status IN ('locked', 'running')"
        )
        wal0 = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]  # type: ignore[index]
        cmd = [
            sys.executable, "-m", "bench.pgloop_rows", "worker", "--dsn", dsn,
            "--batch", str(batch), "--variant", variant,
        ]  # fmt: skip
        if variant in ("hr", "hra"):
            cmd = [
                sys.executable, "-m", "headrace", "worker", "--store", dsn,
                "--queues", f"{jobs_noop.QUEUE}={batch}", "--import", "bench.jobs_noop",
            ]  # fmt: skip
        # This session's own CPU (the polls) is not the drain's: it is taken off.
        conn.execute("SET enable_seqscan = off")
        me = conn.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[index]
        pg0 = postgres_cpu() - proc_cpu(me)
        t0 = time.perf_counter()
        procs = [subprocess.Popen(cmd, cwd=ROOT) for _ in range(workers)]
        try:
            while sum(r[0] for r in conn.execute(left_sql)):
                time.sleep(0.05)
            wall = time.perf_counter() - t0
            pg1 = postgres_cpu() - proc_cpu(me)
            worker_cpu = sum(proc_cpu(p.pid) for p in procs)
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait()
        wal = conn.execute(  # type: ignore[index]
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", (wal0,)
        ).fetchone()[0]
        events = conn.execute("SELECT count(*) FROM job_events").fetchone()[0]  # type: ignore[index]
    return {
        "rate": n / wall,
        "pg_us": (pg1 - pg0) / n * 1e6,
        "workers_us": worker_cpu / n * 1e6,
        "wal_bytes": float(wal) / n,
        "events": events / n,
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=10000)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--workers", type=int, default=WORKERS, help="loop processes (2)")
    p.add_argument("--no-analyze", action="store_true", help="no VACUUM ANALYZE before the drain")
    p.add_argument("--variants", default="a,b3,b4,c1,c2,e,d,bc,bcd")
    a = p.parse_args()
    make_template()
    names = a.variants.split(",")
    results: dict[str, list[dict[str, float]]] = {v: [] for v in names}
    for rep in range(a.repeat):
        for v in names:
            r = run(v, a.n, a.batch, a.workers, not a.no_analyze)
            results[v].append(r)
            print(
                f"[{rep}] {v:<4} {r['rate']:>8,.0f} jobs/s  postgres {r['pg_us']:6.0f} us/job  "
                f"workers {r['workers_us']:5.0f} us/job  WAL {r['wal_bytes']:6.0f} B/job  "
                f"events {r['events']:.1f}/job",
                flush=True,
            )
    if a.repeat > 1:
        print("medians:")
        for v, rs in results.items():
            med = {k: statistics.median(r[k] for r in rs) for k in rs[0]}
            print(
                f"     {v:<4} {med['rate']:>8,.0f} jobs/s  postgres {med['pg_us']:6.0f} us/job  "
                f"workers {med['workers_us']:5.0f} us/job  WAL {med['wal_bytes']:6.0f} B/job"
            )
    admin(f"DROP DATABASE IF EXISTS {DB}")


if __name__ == "__main__":
    main()
