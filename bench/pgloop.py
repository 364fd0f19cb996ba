"""Baseline: a minimal hand-written PostgreSQL queue, the floor of the work.

One table, a partial index on waiting rows; claim = one ``UPDATE ... WHERE id IN (SELECT
... FOR UPDATE SKIP LOCKED LIMIT k) RETURNING``; finish = one UPDATE per claimed batch;
statement-level NOTIFY on insert wakes idle workers.  No heartbeats, retries or results.
The same shape as the peer harness's ``a_pgloop.py``.

Worker: ``python -m bench.pgloop worker --dsn DSN --batch K`` (from the repo root).
"""

from __future__ import annotations

import argparse
import signal
import threading

import psycopg
from psycopg.types.json import Jsonb

TABLE = "qb_jobs"
SCHEMA = f"""
DROP TABLE IF EXISTS {TABLE};
CREATE TABLE {TABLE} (
    id bigserial PRIMARY KEY,
    queue text NOT NULL DEFAULT 'default',
    task text NOT NULL,
    args jsonb NOT NULL,
    status smallint NOT NULL DEFAULT 0,          -- 0 waiting, 1 running, 2 done
    attempts int NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    locked_at timestamptz,
    finished_at timestamptz
);
CREATE INDEX {TABLE}_waiting ON {TABLE} (queue, id) WHERE status = 0;
CREATE OR REPLACE FUNCTION qb_notify() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN PERFORM pg_notify('qb_jobs', ''); RETURN NULL; END $$;
CREATE TRIGGER qb_jobs_notify AFTER INSERT ON {TABLE}
  FOR EACH STATEMENT EXECUTE FUNCTION qb_notify();
"""
INSERT = f"INSERT INTO {TABLE} (task, args) VALUES (%s, %s)"
CLAIM = f"""
UPDATE {TABLE} SET status = 1, locked_at = now(), attempts = attempts + 1
WHERE id IN (SELECT id FROM {TABLE} WHERE status = 0 AND queue = 'default'
             ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED)
RETURNING id, task, args
"""
FINISH = f"UPDATE {TABLE} SET status = 2, finished_at = now() WHERE id = ANY(%s)"
COUNT_DONE = f"SELECT count(*) FROM {TABLE} WHERE status = 2"
SPAN = (
    f"SELECT extract(epoch FROM min(locked_at)), extract(epoch FROM max(finished_at)) "
    f"FROM {TABLE} WHERE status = 2"
)


def noop(args: dict) -> None:
    return None


def create(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(SCHEMA)


def enqueue(dsn: str, n: int) -> None:
    """N jobs, one INSERT (one commit) each."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        for i in range(n):
            conn.execute(INSERT, ("noop", Jsonb({"i": i})), prepare=True)


def _loop(dsn: str, batch: int, stop: threading.Event) -> None:
    conn = psycopg.connect(dsn, autocommit=True)
    conn.execute("LISTEN qb_jobs")
    while not stop.is_set():
        rows = conn.execute(CLAIM, (batch,), prepare=True).fetchall()
        if not rows:
            for _ in conn.notifies(timeout=1.0, stop_after=1):
                pass
            continue
        done = []
        for job_id, _task, args in rows:
            noop(args)
            done.append(job_id)
        conn.execute(FINISH, (done,), prepare=True)
    conn.close()


def worker(dsn: str, batch: int, conc: int = 1) -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threads = [
        threading.Thread(target=_loop, args=(dsn, batch, stop), daemon=True) for _ in range(conc)
    ]
    for t in threads:
        t.start()
    while not stop.wait(0.5):
        pass


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["worker"])
    p.add_argument("--dsn", required=True)
    p.add_argument("--batch", type=int, default=50)
    p.add_argument("--conc", type=int, default=1)
    a = p.parse_args()
    worker(a.dsn, a.batch, a.conc)
