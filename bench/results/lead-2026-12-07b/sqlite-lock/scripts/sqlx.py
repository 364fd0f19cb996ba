"""Time a worker round's SQL on SQLite in isolation: claim B, write B, events 3B, commit."""
import json, sqlite3, sys, time, shutil, statistics
sys.path.insert(0, "/work/main")
from pathlib import Path
N, B = 50000, 250
src = Path("/tmp/lead/sq/tmpl.db")
if not src.exists():
    from headrace import Client
    from bench import jobs_noop
    with Client(store=f"sqlite:///{src}", run_workers=False) as c:
        c.jobs.schedule_many(jobs_noop.TYPE, [{}] * N)
    cc = sqlite3.connect(src); cc.execute("PRAGMA wal_checkpoint(TRUNCATE)"); cc.close()

CLAIM = """WITH candidates AS (SELECT jobs.job_id AS job_id FROM jobs WHERE jobs.queue = ? AND jobs.status = 'waiting' AND jobs.eta_ms <= ? AND jobs.type IN ('bench.noop') AND jobs.labels IS NULL AND (jobs.placed_on IS NULL OR jobs.placed_on = ? OR jobs.placed_until_ms < ?) ORDER BY jobs.eta_ms, jobs.scheduled_at_ms LIMIT ? OFFSET ?)
 UPDATE jobs SET updated_at_ms=?, locked_by=?, lease_expires_ms=?, attempt=(jobs.attempt + ?), status=?, placed_on=?, placed_until_ms=? WHERE jobs.job_id IN (SELECT candidates.job_id FROM candidates) RETURNING job_id, tenant_id, type, queue, attempt, params, state, progress, timeout_sec, retries, max_retries, retry_delay_sec, resumed"""
WRITE = """UPDATE jobs SET updated_at_ms=?, started_at_ms=v.started_at_ms, finished_at_ms=?, lease_expires_ms=?, progress=v.progress, status=?, error=v.error, result=v.result, state=v.state FROM (SELECT json_extract(anon_1.value, ?) AS job_id, json_extract(anon_1.value, ?) AS attempt, json_extract(anon_1.value, ?) AS started_at_ms, json_extract(anon_1.value, ?) AS progress, json_extract(anon_1.value, ?) AS state, json_extract(anon_1.value, ?) AS result, json_extract(anon_1.value, ?) AS error FROM json_each(?) AS anon_1) AS v WHERE jobs.job_id = v.job_id AND jobs.attempt = v.attempt AND jobs.locked_by = ? AND jobs.status = ? RETURNING job_id, attempt, tenant_id"""
EV = "INSERT INTO job_events (job_id, tenant_id, from_status, to_status, user_id, at_ms, reason, attempt) VALUES (?,?,?,?,?,?,?,?)"
W = "091532e9b4db4d0cb22cc061d84d1121"

def run(variant):
    db = Path(f"/tmp/lead/sq/x-{variant}.db")
    for p in Path("/tmp/lead/sq").glob(f"x-{variant}.db*"): p.unlink()
    shutil.copy(src, db)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL"); conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=0"); conn.execute("PRAGMA temp_store=MEMORY")
    for ix in variant.split("+")[1:]:
        conn.execute(f"DROP INDEX {ix}")
    t = {"claim": 0.0, "write": 0.0, "events": 0.0, "commit": 0.0}
    pending = []  # claimed rows to complete next round
    at = int(time.time() * 1000)
    done_n = 0
    t_all = time.perf_counter()
    while True:
        conn.execute("BEGIN IMMEDIATE")
        t0 = time.perf_counter()
        done = []
        if pending:
            if variant == "execmany":
                cur = conn.executemany("UPDATE jobs SET updated_at_ms=?, started_at_ms=?, finished_at_ms=?, lease_expires_ms=?, progress=?, status=?, error=?, result=?, state=? WHERE job_id=? AND attempt=? AND locked_by=? AND status=?",
                    [(at, at, at, None, 1.0, 'completed', None, 'null', '{}', r[0], r[4], W, 'locked') for r in pending])
                done = [(r[0], r[4], r[1]) for r in pending]
            else:
                rows = json.dumps([[r[0], r[4], at, 1.0, "{}", "null", None] for r in pending])
                done = conn.execute(WRITE, (at, at, None, "completed", "$[0]", "$[1]", "$[2]", "$[3]", "$[4]", "$[5]", "$[6]", rows, W, "locked")).fetchall()
        t1 = time.perf_counter()
        taken = conn.execute(CLAIM, ("bench", at, W, at, B, 0, at, W, at + 30000, 1, "locked", None, None)).fetchall()
        t2 = time.perf_counter()
        ev = []
        for jid, att, ten in done:
            ev.append((jid, ten, "locked", "running", None, at, "started", att))
            ev.append((jid, ten, "running", "completed", None, at, "done", att))
        ev += [(r[0], r[1], "waiting", "locked", None, at, "claimed", r[4]) for r in taken]
        if variant == "evjson":
            conn.execute("INSERT INTO job_events (job_id, tenant_id, from_status, to_status, user_id, at_ms, reason, attempt) SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7 FROM json_each(?)", (json.dumps(ev),))
        elif ev:
            conn.executemany(EV, ev)
        t3 = time.perf_counter()
        conn.execute("COMMIT")
        t4 = time.perf_counter()
        t["write"] += t1 - t0; t["claim"] += t2 - t1; t["events"] += t3 - t2; t["commit"] += t4 - t3
        done_n += len(done)
        pending = taken
        if not taken and not done:
            break
    wall = time.perf_counter() - t_all
    tot = sum(t.values())
    print(f"{variant:10s} jobs={done_n} total_in_tx={tot:.3f}s ({tot/done_n*1e6:.1f} us/job) " + " ".join(f"{k}={v/done_n*1e6:.1f}" for k, v in t.items()), flush=True)

if __name__ == "__main__":
    for v in sys.argv[1:]:
        run(v)
