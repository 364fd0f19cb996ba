"""Baseline: a minimal hand-written SQLite queue, the floor of the work on SQLite.

The SQLite counterpart of ``bench/pgloop.py``: one narrow table in a WAL file with the
PRAGMAs Headrace's SQLite store sets (``journal_mode=WAL``, ``synchronous=NORMAL``), a
partial index on waiting rows; claim = ``BEGIN IMMEDIATE`` + one ``UPDATE ... WHERE id IN
(SELECT ... LIMIT k) RETURNING`` + ``COMMIT``; finish = one UPDATE per claimed batch in
its own transaction. SQLite has no LISTEN: an idle worker sleeps 1 ms and polls again.
No leases, events, heartbeats, retries or results.

Worker: ``python -m bench.sqliteloop worker --path FILE --batch K`` (from the repo root).
"""

from __future__ import annotations

import argparse
import json
import signal
import sqlite3
import threading
import time

TABLE = "qb_jobs"
SCHEMA = f"""
DROP TABLE IF EXISTS {TABLE};
CREATE TABLE {TABLE} (
    id INTEGER PRIMARY KEY,
    queue TEXT NOT NULL DEFAULT 'default',
    task TEXT NOT NULL,
    args TEXT NOT NULL,
    status INTEGER NOT NULL DEFAULT 0,          -- 0 waiting, 1 running, 2 done
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at REAL,
    locked_at REAL,
    finished_at REAL
);
CREATE INDEX {TABLE}_waiting ON {TABLE} (queue, id) WHERE status = 0;
"""
INSERT = f"INSERT INTO {TABLE} (task, args) VALUES (?, ?)"
CLAIM = f"""
UPDATE {TABLE} SET status = 1, locked_at = ?, attempts = attempts + 1
WHERE id IN (SELECT id FROM {TABLE} WHERE status = 0 AND queue = 'default'
             ORDER BY id LIMIT ?)
RETURNING id, task, args
"""
FINISH = (
    f"UPDATE {TABLE} SET status = 2, finished_at = ? WHERE id IN (SELECT value FROM json_each(?))"
)
COUNT_DONE = f"SELECT count(*) FROM {TABLE} WHERE status = 2"
SPAN = f"SELECT min(locked_at), max(finished_at) FROM {TABLE} WHERE status = 2"
#: How long an idle worker sleeps before it polls again.
IDLE_SEC = 0.001


def connect(path: str) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, as Headrace's."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def create(path: str) -> None:
    with connect(path) as conn:
        conn.executescript(SCHEMA)


def enqueue(path: str, n: int) -> None:
    """N jobs, one INSERT (one commit) each."""
    conn = connect(path)
    for i in range(n):
        conn.execute(INSERT, ("noop", json.dumps({"i": i})))
    conn.close()


def enqueue_bulk(path: str, n: int) -> None:
    """N jobs in one transaction (one ``executemany``)."""
    conn = connect(path)
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(INSERT, [("noop", json.dumps({"i": i})) for i in range(n)])
    conn.execute("COMMIT")
    conn.close()


def noop(args: str) -> None:
    return None


def _loop(path: str, batch: int, stop: threading.Event) -> None:
    conn = connect(path)
    while not stop.is_set():
        conn.execute("BEGIN IMMEDIATE")
        rows = conn.execute(CLAIM, (time.time(), batch)).fetchall()
        conn.execute("COMMIT")
        if not rows:
            time.sleep(IDLE_SEC)
            continue
        done = []
        for job_id, _task, args in rows:
            noop(args)
            done.append(job_id)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(FINISH, (time.time(), "[" + ",".join(map(str, done)) + "]"))
        conn.execute("COMMIT")
    conn.close()


def worker(path: str, batch: int) -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    thread = threading.Thread(target=_loop, args=(path, batch, stop), daemon=True)
    thread.start()
    while not stop.wait(0.5):
        pass


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["worker"])
    p.add_argument("--path", required=True)
    p.add_argument("--batch", type=int, default=50)
    a = p.parse_args()
    worker(a.path, a.batch)
