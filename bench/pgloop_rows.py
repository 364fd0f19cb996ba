"""Baseline: Headrace's rows written by hand, the floor of Headrace's data model.

Where ``bench/pgloop.py`` is the floor of the work on a narrow table of its own, this loop
works on Headrace's own ``jobs`` and ``job_events`` tables (made by its migrations, filled
by ``client.jobs.schedule_many``) and writes exactly the rows a Headrace worker writes for
a no-op job, with no framework: raw psycopg 3, one thread, autocommit, prepared statements,
hand-written SQL of the same shape as Headrace's (``src/headrace/store/attempts.py``).
Its gap to ``pgloop`` is the cost of the data model (the wide row, its indexes, two
event rows per job); Headrace's gap to it is the framework's.

Each round:

- claim: one statement, the shape of Headrace's (``claim_statement`` with
  ``_logging_events``): a MATERIALIZED CTE picks up to ``--batch`` waiting jobs of the
  queue and types ``FOR UPDATE SKIP LOCKED`` in ``ix_jobs_claim``'s order, the UPDATE
  locks them (status, ``locked_by``, ``attempt + 1``, lease, ``updated_at_ms``) and the
  same statement inserts one ``waiting -> locked`` event per job, with Headrace's reason
  ``claimed by worker <id>``;
- run: ``json.loads`` of each job's params (and of its state, when it has one), then the
  no-op;
- finish: one fenced statement for the batch (job id + attempt + ``locked_by`` +
  ``status = 'locked'``), the rows as two arrays (``unnest(uuid[], int[])``), writing what
  Headrace's merged start+end write writes: ``locked -> completed`` with
  ``started_at_ms``, ``finished_at_ms``, ``updated_at_ms``, ``lease_expires_ms = NULL``,
  ``state = '{}'``, ``progress = 1.0``, ``result = 'null'``, ``error = NULL``, and, in
  the same statement, each job's one event row of that write, ``locked -> completed`` via
  ``running`` (reason ``completed``; one row a write since migration 0018).

Transactions: each statement commits on its own (autocommit), two commits per round where
Headrace commits a round's writes with its next claim (one); at batch 50 that is 0.04
commits per job instead of 0.02.  Not done (Headrace does): the ``workers`` row and its
heartbeats, lease renewal, the reaper, control polls, retries and results other than
``null``.  When a claim finds nothing the loop waits (up to 1 s) for a notification on
Headrace's channel (``headrace.defaults.NOTIFY_CHANNEL``; ``bench/queue.py`` checks they
agree), which the jobs table's insert trigger sends.

Worker: ``python -m bench.pgloop_rows worker --dsn DSN --batch K`` (from the repo root);
SIGTERM stops it.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
import uuid
from typing import Any

import psycopg
from psycopg.types.string import TextLoader

#: ``headrace.defaults.NOTIFY_CHANNEL`` (not imported: this loop runs without Headrace).
CHANNEL = "headrace_jobs"
#: ``headrace.defaults.LEASE_SEC``: the lease a claim takes.
LEASE_SEC = 30.0
#: ``bench.jobs_noop``'s queue and type.
QUEUE = "bench"
TYPE = "bench.noop"

# Status tests are literals, as in Headrace: a prepared statement's generic plan can use
# the partial index ``ix_jobs_claim`` (``WHERE status = 'waiting'``) only then.
CLAIM = """
WITH candidates AS MATERIALIZED (
    SELECT job_id FROM jobs
    WHERE queue = %(queue)s AND status = 'waiting' AND eta_ms <= %(at)s
      AND type = ANY(%(types)s)
    ORDER BY eta_ms, scheduled_at_ms
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
), changed AS (
    UPDATE jobs SET status = 'locked', locked_by = %(worker)s::uuid, attempt = attempt + 1,
        lease_expires_ms = %(lease_until)s, updated_at_ms = %(at)s
    WHERE job_id IN (SELECT job_id FROM candidates)
    RETURNING job_id, tenant_id, attempt, params, state
), logged AS (
    INSERT INTO job_events
        (job_id, tenant_id, from_status, to_status, user_id, at_ms, reason, attempt)
    SELECT job_id, tenant_id, 'waiting', 'locked', NULL, %(at)s, %(reason)s, attempt
    FROM changed ORDER BY job_id
)
SELECT job_id, tenant_id, attempt, params, state FROM changed
"""
FINISH = """
WITH changed AS (
    UPDATE jobs SET status = 'completed', started_at_ms = %(started)s,
        finished_at_ms = %(at)s, updated_at_ms = %(at)s, lease_expires_ms = NULL,
        state = '{}', progress = 1.0, result = 'null', error = NULL
    FROM unnest(%(ids)s::uuid[], %(attempts)s::int[]) AS v(job_id, attempt)
    WHERE jobs.job_id = v.job_id AND jobs.attempt = v.attempt
      AND jobs.locked_by = %(worker)s::uuid AND jobs.status = 'locked'
    RETURNING jobs.job_id, jobs.tenant_id, jobs.attempt
), logged AS (
    -- One row for the write's path, as Headrace stores it (migration 0018): ``via`` names
    -- the status between, ``locked -> running -> completed``.
    INSERT INTO job_events
        (job_id, tenant_id, from_status, to_status, user_id, at_ms, reason, attempt, via)
    SELECT c.job_id, c.tenant_id, 'locked', 'completed', NULL, %(at)s, 'completed',
        c.attempt, 'running'
    FROM changed c ORDER BY c.job_id
)
SELECT count(*) FROM changed
"""


#: ``--variant``: the data-model changes ``bench/pgloop_variants.py`` measures, each the
#: schema change it makes (before the jobs are scheduled) and the claim and finish SQL of
#: its loop. ``a`` is today's model; see ``bench/pgloop_variants.py`` for what each is.
VARIANT_DDL: dict[str, str] = {
    "a": "",
    # (b) the listings' and counts' indexes (the type and project ones are gone since
    # migration 0016, the full status one since 0021): the tenant's / the tenant's and the
    # rest-by-status / those and the newest-first listing's
    "b2": "DROP INDEX ix_jobs_tenant",
    "b3": "DROP INDEX ix_jobs_tenant, ix_jobs_tenant_rest",
    "b4": "DROP INDEX ix_jobs_tenant, ix_jobs_tenant_rest, ix_jobs_tenant_scheduled",
    # (c) events: one index (primary key job_id, event_id) / two rows per job, not three
    # (``c2`` is today's model since migration 0018: ``FINISH`` writes one row a write)
    "c1": "DROP INDEX ix_job_events_job_id; ALTER TABLE job_events DROP CONSTRAINT "
    "job_events_pkey, ADD PRIMARY KEY (job_id, event_id)",
    "c2": "",
    # (e) room on every page for HOT updates
    "e": "ALTER TABLE jobs SET (fillfactor = 70)",
    # (d) a narrow live-state table the claim updates; the wide row changes once, at the end
    "d": "CREATE TABLE job_live (job_id uuid PRIMARY KEY, queue varchar(64), type "
    "varchar(255), status varchar(16), eta_ms bigint, scheduled_at_ms bigint, locked_by uuid, "
    "lease_expires_ms bigint, attempt int); CREATE INDEX ix_live_claim ON job_live (queue, "
    "eta_ms, scheduled_at_ms) WHERE status = 'waiting'; CREATE INDEX ix_live_held ON "
    "job_live (locked_by) WHERE status IN ('locked', 'running')",
}
# today's model, the loop's statements planned once (as Headrace's round is, ``pg_session``)
VARIANT_DDL["g"] = ""
# Headrace's own worker (``headrace worker``, capacity = batch), today's model
VARIANT_DDL["hr"] = ""
# ``a`` and ``hr``, each commit not waiting for its WAL flush (``synchronous_commit = off`` on the
# database: the loop's and Headrace's sessions)
VARIANT_DDL["ga"] = ""
VARIANT_DDL["hra"] = ""
VARIANT_DDL["b2c"] = f"{VARIANT_DDL['b2']}; {VARIANT_DDL['c1']}"
VARIANT_DDL["bc"] = f"{VARIANT_DDL['b3']}; {VARIANT_DDL['c1']}"
VARIANT_DDL["bcd"] = f"{VARIANT_DDL['b3']}; {VARIANT_DDL['c1']}; {VARIANT_DDL['d']}"
#: (d): what fills the narrow table once the jobs are scheduled.
LIVE_FILL = (
    "INSERT INTO job_live SELECT job_id, queue, type, status, eta_ms, scheduled_at_ms, "
    "locked_by, lease_expires_ms, attempt FROM jobs"
)
CLAIM_LIVE = """
WITH candidates AS MATERIALIZED (
    SELECT job_id FROM job_live
    WHERE queue = %(queue)s AND status = 'waiting' AND eta_ms <= %(at)s
      AND type = ANY(%(types)s)
    ORDER BY eta_ms, scheduled_at_ms
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
), changed AS (
    UPDATE job_live SET status = 'locked', locked_by = %(worker)s::uuid, attempt = attempt + 1,
        lease_expires_ms = %(lease_until)s
    WHERE job_id IN (SELECT job_id FROM candidates)
    RETURNING job_id, attempt
), taken AS (
    SELECT j.job_id, j.tenant_id, c.attempt, j.params, j.state
    FROM changed c JOIN jobs j ON j.job_id = c.job_id
), logged AS (
    INSERT INTO job_events
        (job_id, tenant_id, from_status, to_status, user_id, at_ms, reason, attempt)
    SELECT job_id, tenant_id, 'waiting', 'locked', NULL, %(at)s, %(reason)s, attempt
    FROM taken ORDER BY job_id
)
SELECT job_id, tenant_id, attempt, params, state FROM taken
"""
FINISH_LIVE = """
WITH live AS (
    UPDATE job_live SET status = 'completed', lease_expires_ms = NULL
    FROM unnest(%(ids)s::uuid[], %(attempts)s::int[]) AS v(job_id, attempt)
    WHERE job_live.job_id = v.job_id AND job_live.attempt = v.attempt
      AND job_live.locked_by = %(worker)s::uuid AND job_live.status = 'locked'
    RETURNING job_live.job_id, job_live.attempt
), changed AS (
    UPDATE jobs SET status = 'completed', attempt = live.attempt, locked_by = %(worker)s::uuid,
        started_at_ms = %(started)s, finished_at_ms = %(at)s, updated_at_ms = %(at)s,
        state = '{}', progress = 1.0, result = 'null', error = NULL
    FROM live WHERE jobs.job_id = live.job_id
    RETURNING jobs.job_id, jobs.tenant_id, jobs.attempt
), logged AS (
    INSERT INTO job_events
        (job_id, tenant_id, from_status, to_status, user_id, at_ms, reason, attempt, via)
    SELECT c.job_id, c.tenant_id, 'locked', 'completed', NULL, %(at)s, 'completed',
        c.attempt, 'running'
    FROM changed c ORDER BY c.job_id
)
SELECT count(*) FROM changed
"""


def variant_sql(variant: str) -> tuple[str, str]:
    """The claim and finish statements of a ``--variant``."""
    if variant in ("d", "bcd"):
        return CLAIM_LIVE, FINISH_LIVE
    return CLAIM, FINISH


def now_ms() -> int:
    """Epoch milliseconds, as Headrace stores times (``headrace.model.clock.now_ms``)."""
    return time.time_ns() // 1_000_000


def noop(params: Any) -> None:
    return None


def _loop(
    dsn: str, batch: int, queue: str, types: list[str], stop: threading.Event, variant: str = "a"
) -> None:
    claim_sql, finish_sql = variant_sql(variant)
    worker_id = str(uuid.uuid4())
    reason = f"claimed by worker {worker_id}"
    lease_ms = int(LEASE_SEC * 1000)
    options = "-c plan_cache_mode=force_generic_plan" if variant == "g" else ""
    conn = psycopg.connect(dsn, autocommit=True, options=options)
    # Job ids come back as text, as Headrace reads them, and go back as text[]::uuid[].
    conn.adapters.register_loader("uuid", TextLoader)
    conn.execute(f"LISTEN {CHANNEL}")
    while not stop.is_set():
        at = now_ms()
        claim = {
            "queue": queue,
            "types": types,
            "at": at,
            "limit": batch,
            "worker": worker_id,
            "lease_until": at + lease_ms,
            "reason": reason,
        }
        rows = conn.execute(claim_sql, claim, prepare=True).fetchall()
        if not rows:
            for _ in conn.notifies(timeout=1.0, stop_after=1):
                pass
            continue
        started = now_ms()
        ids, attempts = [], []
        for job_id, _tenant_id, attempt, params, state in rows:
            _state = json.loads(state) if state is not None else {}
            noop(json.loads(params))
            ids.append(job_id)
            attempts.append(attempt)
        finish = {
            "started": started,
            "at": now_ms(),
            "ids": ids,
            "attempts": attempts,
            "worker": worker_id,
        }
        row = conn.execute(finish_sql, finish, prepare=True).fetchone()
        if not row or row[0] != len(ids):
            print(f"finish fenced out {len(ids) - (row[0] if row else 0)} job(s)", file=sys.stderr)
    conn.close()


def worker(
    dsn: str, batch: int, queue: str = QUEUE, types: list[str] | None = None, variant: str = "a"
) -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    args = (dsn, batch, queue, types or [TYPE], stop, variant)
    t = threading.Thread(target=_loop, args=args, daemon=True)
    t.start()
    while not stop.wait(0.5):
        pass
    t.join(5)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["worker"])
    p.add_argument("--dsn", required=True)
    p.add_argument("--batch", type=int, default=50)
    p.add_argument("--queue", default=QUEUE)
    p.add_argument("--type", action="append", dest="types", help=f"job type (default {TYPE})")
    p.add_argument("--variant", default="a", choices=sorted(VARIANT_DDL))
    a = p.parse_args()
    worker(a.dsn, a.batch, a.queue, a.types, a.variant)
