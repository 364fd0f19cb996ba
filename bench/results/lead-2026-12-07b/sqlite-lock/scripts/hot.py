"""Prototype: a narrow hot table for claims and fenced writes, the wide row written at the end.

Replays a worker's rounds (claim B, complete the previous B, events) on a copy of a 50 k-job
store, timing the statements inside BEGIN IMMEDIATE..COMMIT per job, against the current
statements (sqlx.py 'base'). Variants: hot (narrow claim table + wide row by rowid at the end,
3 events), hot1 (the same with one event row per job instead of three).
"""
import json, sqlite3, sys, time, shutil
from pathlib import Path
sys.path.insert(0, "/tmp/lead/sq")
import sqlx  # noqa: E402  (builds tmpl.db; defines base statements)
B = 250
W = "091532e9b4db4d0cb22cc061d84d1121"
EV = sqlx.EV
HOT = """
CREATE TABLE job_hot (id INTEGER PRIMARY KEY, queue TEXT NOT NULL, status INTEGER NOT NULL,
  eta INTEGER NOT NULL, sched INTEGER NOT NULL, locked_by TEXT, lease INTEGER, attempt INTEGER NOT NULL);
INSERT INTO job_hot SELECT rowid, queue, 0, eta_ms, scheduled_at_ms, NULL, NULL, attempt FROM jobs;
CREATE INDEX job_hot_claim ON job_hot (queue, eta, sched) WHERE status = 0;
"""
CLAIM = """UPDATE job_hot SET status = 1, locked_by = ?, lease = ?, attempt = attempt + 1
WHERE id IN (SELECT id FROM job_hot WHERE status = 0 AND queue = ? AND eta <= ? ORDER BY eta, sched LIMIT ?)
RETURNING id, attempt"""
READ = """SELECT rowid, job_id, tenant_id, type, queue, params, state, progress, timeout_sec, retries, max_retries, retry_delay_sec, resumed
FROM jobs WHERE rowid IN (SELECT value FROM json_each(?))"""
DONE_HOT = """UPDATE job_hot SET status = 2, lease = NULL FROM (SELECT value ->> 0 AS id, value ->> 1 AS attempt FROM json_each(?)) AS v
WHERE job_hot.id = v.id AND job_hot.attempt = v.attempt AND job_hot.locked_by = ? AND job_hot.status = 1 RETURNING job_hot.id"""
DONE_WIDE = """UPDATE jobs SET status = 'completed', updated_at_ms = ?, started_at_ms = ?, finished_at_ms = ?, progress = 1.0,
 result = 'null', state = '{}', attempt = v.attempt, locked_by = ? FROM (SELECT value ->> 0 AS id, value ->> 1 AS attempt FROM json_each(?)) AS v
WHERE jobs.rowid = v.id"""

def run(variant):
    db = Path(f"/tmp/lead/sq/h-{variant}.db")
    for p in Path("/tmp/lead/sq").glob(f"h-{variant}.db*"): p.unlink()
    shutil.copy(sqlx.src, db)
    conn = sqlite3.connect(db, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=0", "temp_store=MEMORY"):
        conn.execute(f"PRAGMA {pragma}")
    conn.executescript(HOT)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    at = int(time.time() * 1000)
    pending, n, tx = [], 0, 0.0
    while True:
        t0 = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        done = []
        if pending:
            rows = json.dumps([[r[0], r[1]] for r in pending])
            done = [r[0] for r in conn.execute(DONE_HOT, (rows, W)).fetchall()]
            conn.execute(DONE_WIDE, (at, at, at, W, rows))
        taken = conn.execute(CLAIM, (W, at + 30000, "bench", at, B)).fetchall()
        info = conn.execute(READ, (json.dumps([r[0] for r in taken]),)).fetchall() if taken else []
        ev = []
        for r in info:
            ev.append((r[1], r[2], "waiting", "locked", None, at, "claimed", 1))
        # completing jobs' events (job ids from the previous round's read)
        for jid, ten in prev_ids if pending else []:
            if variant == "hot1":
                ev.append((jid, ten, "locked", "completed", None, at, "done", 1))
            else:
                ev.append((jid, ten, "locked", "running", None, at, "started", 1))
                ev.append((jid, ten, "running", "completed", None, at, "done", 1))
        if ev:
            conn.executemany(EV, ev)
        conn.execute("COMMIT")
        tx += time.perf_counter() - t0
        n += len(done)
        pending = taken
        prev_ids = [(r[1], r[2]) for r in info]
        if not taken and not done:
            break
    print(f"{variant:6s} jobs={n} in_tx={tx/n*1e6:.1f} us/job", flush=True)

for v in sys.argv[1:]:
    if v in ("hot", "hot1"):
        run(v)
    else:
        sqlx.run(v)
