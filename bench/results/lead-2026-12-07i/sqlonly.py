"""Headrace's round statements on Headrace's schema, no Headrace Python: the SQL ceiling."""
import sqlite3, sys, time, json, itertools, os, uuid
sys.path.insert(0, "/tmp/lead/sq")
from fence import JSON_SQL
DB = sys.argv[1]; BATCH = int(sys.argv[2])
W = uuid.uuid4().hex
CLAIM = """WITH candidates AS (SELECT jobs.rowid AS row_key FROM jobs WHERE jobs.queue = 'bench' AND jobs.status = 'waiting' AND jobs.eta_ms <= ? AND jobs.type IN ('bench.noop') AND jobs.labels IS NULL AND (jobs.placed_on IS NULL OR jobs.placed_on = ? OR jobs.placed_until_ms < ?) ORDER BY jobs.eta_ms, jobs.scheduled_at_ms LIMIT ? OFFSET 0) UPDATE jobs SET updated_at_ms=?, locked_by=?, lease_expires_ms=?, attempt=(jobs.attempt + 1), status='locked', placed_on=NULL, placed_until_ms=NULL WHERE jobs.rowid IN (SELECT candidates.row_key FROM candidates) RETURNING job_id, tenant_id, type, queue, attempt, params, state, progress, timeout_sec, retries, max_retries, retry_delay_sec, resumed"""
def ev_sql(n, via):
    vals = ", ".join(["(?, ?, ?, ?)"] * n)
    return f"INSERT INTO job_events (job_id, tenant_id, from_status, to_status, user_id, at_ms, reason, attempt, via) SELECT column1, column2, ?, ?, NULL, ?, column3, column4, ? FROM (VALUES {vals})"
def events(c, shared, rows):
    s = 0
    while s < len(rows):
        k = min(len(rows) - s, 64); k = 1 << (k.bit_length() - 1)
        c.execute(ev_sql(k, None), (*shared, *itertools.chain.from_iterable(rows[s:s+k])))
        s += k
c = sqlite3.connect(DB, isolation_level=None, timeout=30)
c.execute("PRAGMA journal_mode=WAL"); c.execute("PRAGMA synchronous=NORMAL")
held = []
done_n = 0
while True:
    now = int(time.time() * 1000)
    wparam = json.dumps([[j, a, now, 1.0, "{}", "null", None] for j, _t, a in held]) if held else None
    c.execute("BEGIN IMMEDIATE")
    done = c.execute(JSON_SQL, (now, now, wparam, W)).fetchall() if held else []
    taken = c.execute(CLAIM, (now, W, now, BATCH, now, W, now + 30000)).fetchall()
    if done and not os.environ.get("NOEV"):
        events(c, ("locked", "completed", now, "running"), [(j, t, "completed", a) for j, a, t in done])
    if taken and not os.environ.get("NOEV"):
        events(c, ("waiting", "locked", now, None), [(r[0], r[1], "claimed by worker " + W, r[4]) for r in taken])
    c.execute("COMMIT")
    done_n += len(done)
    held = [(r[0], r[1], r[4]) for r in taken]
    if not taken and not held:
        break
print(done_n)
